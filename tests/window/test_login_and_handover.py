"""The login and handover dialogs driven by the keyboard alone, against a real SQLite store."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QWidget

from booth_app.core.types import Payment, PaymentChannel, Stay, StayKind
from booth_app.lanes.staff import OnDuty, Staff
from booth_app.store import Store
from booth_app.store.engine import sqlite_url
from booth_app.store.shift_report import ELECTRONIC_CHANNELS, ChannelTotal, FreeRelease, ShiftReport
from booth_app.ui.handover import HandoverDialog, default_pdf_name, report_html
from booth_app.ui.login import FirstAdminDialog, LoginDialog
from tests.helpers import Clock, until

T0 = datetime(2026, 11, 22, 0, 30, tzinfo=UTC)  # 08:30 in the park


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(sqlite_url(tmp_path / "booth.db"), booth="booth01")
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def staff(store: Store, clock: Clock) -> Staff:
    return Staff(store, clock=clock)


@pytest.fixture
def window(qtbot) -> QMainWindow:
    """The booth's window the dialogs open over, as in the app."""
    main = QMainWindow()
    qtbot.addWidget(main)
    main.show()
    return main


def first(signal: SignalInstance) -> asyncio.Future:
    """A future resolved by the signal's first emission (qtbot.waitSignal would block this very loop)."""
    future = asyncio.get_running_loop().create_future()
    signal.connect(lambda value: future.done() or future.set_result(value))
    return future


async def focused(dialog: QDialog, name: str) -> QWidget:
    """Wait until the keyboard focus is on the dialog's widget called `name`."""
    await until(lambda: (widget := QApplication.focusWidget()) is not None and widget.objectName() == name, within=5)
    widget = QApplication.focusWidget()
    assert widget.window() is dialog
    return widget


async def type_into(qtbot, dialog: QDialog, name: str, text: str) -> None:
    qtbot.keyClicks(await focused(dialog, name), text)


async def type_with_ime(dialog: QDialog, name: str, text: str) -> None:
    """Chinese reaches a field as the input method's commit, not as key presses."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(await focused(dialog, name), event)


def press(qtbot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


async def work_records(store: Store) -> list[tuple[str, int]]:
    due = await store.outbox_due(datetime.now(UTC) + timedelta(minutes=1))
    return [
        (data["uid"], data["state"])
        for item in due
        if item.service == "work_record"
        for data in [json.loads(item.payload)]
    ]


def shift_row(store: Store, shift_id: int) -> sa.Row:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT ended_at, cash_counted, note FROM shifts WHERE id = :id"), {"id": shift_id}
        ).one()


async def test_the_first_start_creates_the_admin_and_puts_them_on_duty(
    qtbot, window: QMainWindow, staff: Staff, store: Store
) -> None:
    assert await staff.needs_first_admin()
    dialog = FirstAdminDialog(staff, window)
    qtbot.addWidget(dialog)
    logged_in = first(dialog.logged_in)
    dialog.open()
    await type_into(qtbot, dialog, "first-admin-username", "admin")
    press(qtbot, Qt.Key.Key_Tab)
    await type_with_ime(dialog, "first-admin-display-name", "王站长")
    press(qtbot, Qt.Key.Key_Return)  # Enter moves on to the next empty field
    await type_into(qtbot, dialog, "first-admin-password", "admin-secret")
    press(qtbot, Qt.Key.Key_Tab)
    await type_into(qtbot, dialog, "first-admin-password-again", "admin-secreT")
    press(qtbot, Qt.Key.Key_Return)
    await until(lambda: dialog.error.isVisible())
    assert dialog.error.text() == "两次输入的密码不一致，请重新输入。"
    assert dialog.password.text() == dialog.again.text() == ""
    assert await staff.needs_first_admin()

    await type_into(qtbot, dialog, "first-admin-password", "admin-secret")
    press(qtbot, Qt.Key.Key_Tab)
    await type_into(qtbot, dialog, "first-admin-password-again", "admin-secret")
    press(qtbot, Qt.Key.Key_Return)
    on_duty: OnDuty = await asyncio.wait_for(logged_in, 10)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert (on_duty.operator.username, on_duty.name, on_duty.is_admin) == ("admin", "王站长", True)
    [admin] = await store.operators()
    assert admin.password_hash.startswith("$argon2id$")
    assert [shift.shift_id for shift in await store.open_shifts()] == [on_duty.shift_id]
    assert await work_records(store) == [("admin", 1)]


async def test_a_wrong_password_then_the_right_one(qtbot, window: QMainWindow, staff: Staff, store: Store) -> None:
    await staff.create_first_admin("admin", "admin-secret", "王站长")
    dialog = LoginDialog(staff, window)
    qtbot.addWidget(dialog)
    logged_in = first(dialog.logged_in)
    dialog.open()
    await type_into(qtbot, dialog, "login-username", "admin")
    press(qtbot, Qt.Key.Key_Return)  # the password is still empty: Enter goes there
    await type_into(qtbot, dialog, "login-password", "admin-secreT")
    press(qtbot, Qt.Key.Key_Return)
    await until(lambda: dialog.error.isVisible())
    assert dialog.error.text() == "用户名或密码错误。"
    assert dialog.password.text() == ""
    assert dialog.isVisible()
    assert await store.open_shifts() == []

    await type_into(qtbot, dialog, "login-password", "admin-secret")
    press(qtbot, Qt.Key.Key_Return)
    on_duty: OnDuty = await asyncio.wait_for(logged_in, 10)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert on_duty.operator.username == "admin"
    assert [shift.shift_id for shift in await store.open_shifts()] == [on_duty.shift_id]
    assert await work_records(store) == [("admin", 1)]


async def test_esc_leaves_the_login_without_anyone_on_duty(
    qtbot, window: QMainWindow, staff: Staff, store: Store
) -> None:
    await staff.create_first_admin("admin", "admin-secret")
    dialog = LoginDialog(staff, window)
    qtbot.addWidget(dialog)
    finished = first(dialog.finished)
    dialog.logged_in.connect(lambda on_duty: pytest.fail(f"logged in: {on_duty}"))
    dialog.open()
    await type_into(qtbot, dialog, "login-username", "admin")
    press(qtbot, Qt.Key.Key_Escape)
    assert await asyncio.wait_for(finished, 5) == QDialog.DialogCode.Rejected
    assert await store.open_shifts() == []


async def on_duty_with_a_shift_behind_them(staff: Staff, store: Store, clock: Clock) -> OnDuty:
    """The admin on duty since T0; two cars paid cash during the shift, one went out free."""
    await staff.create_first_admin("admin", "admin-secret", "王站长")
    on_duty = await staff.login("admin", "admin-secret")
    for number, (channel, amount) in enumerate([(PaymentChannel.CASH, "15"), (PaymentChannel.CASH, "5")]):
        order_id = f"A1_{number}"
        await store.enter(Stay(order_id, f"京A1234{number}", T0 + timedelta(minutes=10 + number), "A1"))
        paid = Payment(order_id, channel, Decimal(amount), T0 + timedelta(hours=1), lane_id="B1")
        await store.leave(order_id, left_at=paid.paid_at, exit_lane="B1", fee=paid.amount, payments=[paid])
    await store.enter(Stay("A1_free", "京B88888", T0 + timedelta(minutes=20), "A1"))
    free = Payment("A1_free", PaymentChannel.FREE, Decimal(0), T0 + timedelta(hours=1), lane_id="B1", reason="救护车")
    await store.leave("A1_free", left_at=free.paid_at, exit_lane="B1", fee=Decimal(10), payments=[free])
    clock.now = T0 + timedelta(hours=8)
    return on_duty


async def test_a_handover_saves_a_pdf_and_ends_the_shift(
    qtbot, window: QMainWindow, staff: Staff, store: Store, clock: Clock, tmp_path: Path
) -> None:
    on_duty = await on_duty_with_a_shift_behind_them(staff, store, clock)
    dialog = HandoverDialog(staff, on_duty, window, pdf_dir=tmp_path / "reports", park_name="测试停车场")
    qtbot.addWidget(dialog)
    handed_over = first(dialog.handed_over)
    dialog.open()
    await until(lambda: dialog.report is not None)
    shown = dialog.view.toPlainText()
    assert "测试停车场 交接班报表" in shown
    assert "2026-11-22 08:30:00" in shown  # the shift's start in China Standard Time
    assert "20.00 元" in shown
    assert "救护车" in shown

    await type_into(qtbot, dialog, "handover-cash", "18.5x")  # the letter is refused as it is typed
    assert dialog.cash.text() == "18.5"
    assert "-1.50 元" in dialog.view.toPlainText()
    await until(lambda: dialog.isActiveWindow(), within=5)  # a window shortcut needs the window active
    press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    await until(lambda: dialog.saved is not None)
    assert dialog.saved == tmp_path / "reports" / "交接班_admin_20261122_1630.pdf"
    assert dialog.saved.read_bytes().startswith(b"%PDF")
    assert str(dialog.saved) in dialog.status.text()
    assert shift_row(store, on_duty.shift_id).ended_at is None  # saving is not handing over

    await focused(dialog, "handover-cash")
    press(qtbot, Qt.Key.Key_Return)
    report: ShiftReport = await asyncio.wait_for(handed_over, 10)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert report.closed
    assert (report.cash_collected, report.cash_counted, report.cash_difference) == (
        Decimal("20.00"),
        Decimal("18.50"),
        Decimal("-1.50"),
    )
    assert [f.reason for f in report.free_releases] == ["救护车"]
    ended_at, cash_counted, _ = shift_row(store, on_duty.shift_id)
    assert ended_at is not None
    assert Decimal(str(cash_counted)) == Decimal("18.50")
    assert await store.open_shifts() == []
    assert await work_records(store) == [("admin", 1), ("admin", 0)]


async def test_ctrl_p_asks_for_a_printer_and_esc_goes_back_to_the_handover(
    qtbot, window: QMainWindow, staff: Staff, store: Store, clock: Clock, tmp_path: Path
) -> None:
    on_duty = await on_duty_with_a_shift_behind_them(staff, store, clock)
    dialog = HandoverDialog(staff, on_duty, window, pdf_dir=tmp_path / "reports")
    qtbot.addWidget(dialog)
    dialog.open()
    await until(lambda: dialog.report is not None)
    await until(lambda: dialog.isActiveWindow(), within=5)
    press(qtbot, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    await until(lambda: dialog.print_dialog is not None and dialog.print_dialog.isVisible())
    assert dialog.print_dialog.parent() is dialog
    await until(
        lambda: QApplication.focusWidget() is not None and QApplication.focusWidget().window() is dialog.print_dialog
    )
    press(qtbot, Qt.Key.Key_Escape)
    await until(lambda: not dialog.print_dialog.isVisible())
    assert dialog.isVisible()
    await focused(dialog, "handover-cash")
    assert shift_row(store, on_duty.shift_id).ended_at is None


def test_the_report_shows_what_people_typed_as_text_and_names_files_safely() -> None:
    report = ShiftReport(
        shift_id=1,
        username='a/b:c*"',
        display_name="<b>王</b>",
        booth="booth01",
        started_at=T0,
        ended_at=T0 + timedelta(hours=8),
        closed=True,
        cars_in=dict.fromkeys(StayKind, 0),
        cars_out=dict.fromkeys(StayKind, 0),
        cash_collected=Decimal("0.00"),
        electronic={channel: ChannelTotal() for channel in ELECTRONIC_CHANNELS},
        free_releases=(FreeRelease("京A12345", "B1", "<script>", T0 + timedelta(hours=1)),),
    )
    shown = report_html(report, "测试停车场")
    assert "&lt;b&gt;王&lt;/b&gt;" in shown
    assert "&lt;script&gt;" in shown
    assert "<script>" not in shown
    assert "交班时间：2026-11-22 16:30:00" in shown
    assert "岗亭：booth01" in shown  # the booth the shift was at
    assert default_pdf_name(report) == "交接班_a_b_c_20261122_1630.pdf"
