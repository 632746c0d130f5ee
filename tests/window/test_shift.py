"""Operators at the real window, by keyboard alone: the first start creates the admin, a cashier's shift is handed over
with its report, and the next cashier logs in. Checked in the store and at the Bolink simulator (work_record)."""

from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from booth_app.core.types import Role
from tests.helpers import until

from .conftest import CASHIER, Booth, booth_running
from .keyboard import Key, dialog_closed, dialog_open, press, type_text


def work_records(booth: Booth) -> list[dict]:
    return [upload.data for upload in booth.site.bolink_sim.uploads if upload.service == "work_record"]


async def test_the_first_start_creates_the_admin_who_is_then_on_duty(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path, operators=False) as booth:
        booth.shell.cashier.login()  # what the app does once the window shows
        await dialog_open(booth, "first-admin-dialog")
        type_text(qtbot, "boss")
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "张经理")
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "secret-1")
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "secret-1")
        press(qtbot, Key.Key_Return)
        await dialog_closed(booth)
        on_duty = booth.shell.bridge.on_duty
        assert on_duty is not None
        assert (on_duty.operator.username, on_duty.operator.role, on_duty.name) == ("boss", Role.ADMIN, "张经理")
        assert "张经理（管理员）" in booth.window.operator.text()
        (stored,) = await booth.site.store.operators()
        assert stored.password_hash.startswith("$argon2id$")
        await until(lambda: any(record["uid"] == "boss" and record["state"] == 1 for record in work_records(booth)))


async def test_a_wrong_password_then_the_right_one(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path, logged_in=False) as booth:
        booth.shell.cashier.login()
        dialog = await dialog_open(booth, "login-dialog")
        type_text(qtbot, CASHIER[0])
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "not-the-password")
        press(qtbot, Key.Key_Return)
        await until(dialog.error.isVisible)
        assert booth.shell.bridge.on_duty is None
        assert dialog.password.text() == ""  # cleared, with the focus in it for another try
        type_text(qtbot, CASHIER[1])
        press(qtbot, Key.Key_Return)
        await dialog_closed(booth)
        on_duty = booth.shell.bridge.on_duty
        assert on_duty is not None
        assert on_duty.operator.username == CASHIER[0]
        press(qtbot, Key.Key_F5)  # the money keys work now: nothing waits, and it says so
        assert "没有等待缴费" in booth.window.statusBar().currentMessage()


async def test_a_shift_is_handed_over_with_its_cash_and_the_next_cashier_logs_in(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path) as booth:
        site = booth.site
        on_duty = booth.shell.bridge.on_duty
        assert on_duty is not None
        await site.car_inside("京D11111", minutes_ago=130)  # 11 yuan in cash
        await site.cameras["B2"].push("京D11111")
        await until(lambda: booth.window.payments["B2"].state == "waiting")
        press(qtbot, Key.Key_F5)
        await dialog_open(booth, "cash-dialog")
        press(qtbot, Key.Key_Return)
        await dialog_closed(booth)
        await site.boards.wait_for(lambda: site.board("B2").relay_on(1))

        press(qtbot, Key.Key_F10)
        dialog = await dialog_open(booth, "handover-dialog")
        await until(lambda: "11.00" in dialog.view.toPlainText())  # the report: the cash this shift took
        type_text(qtbot, "11")
        press(qtbot, Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # save the report as PDF
        await until(lambda: list((booth.data_dir / "reports").glob("*.pdf")))
        (pdf,) = (booth.data_dir / "reports").glob("*.pdf")
        assert pdf.read_bytes().startswith(b"%PDF")
        press(qtbot, Key.Key_Return)
        await until(lambda: booth.shell.bridge.on_duty is None)
        login = await dialog_open(booth, "login-dialog")  # the next cashier's turn
        report = await site.store.shift_report(on_duty.shift_id)
        assert report.closed
        assert (report.cash_collected, report.cash_counted) == (Decimal(11), Decimal(11))
        await until(lambda: any(r["uid"] == CASHIER[0] and r["state"] == 0 for r in work_records(booth)))

        type_text(qtbot, "admin")
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "admin-pass-1")
        press(qtbot, Key.Key_Return)
        await dialog_closed(booth)
        assert login is not None
        assert booth.shell.bridge.on_duty is not None
        assert booth.shell.bridge.on_duty.operator.username == "admin"
