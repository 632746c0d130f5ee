"""The cashier at work, by keyboard alone, in the real window over a whole simulated car park.

Each test presses keys where the focus is (as a person at the keyboard would), then checks what the display boards and
the relay board received, what Bolink was sent, and what the store holds.
"""

import time
from decimal import Decimal
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from booth_app.core.types import PaymentChannel, StayState
from drivers.video import Frame
from tests.helpers import until

from .conftest import booth_running
from .keyboard import Key, dialog_closed, dialog_open, press, type_text


def a_frame(index: int) -> Frame:
    """A red 64x36 picture, as the lane's video reader hands one over."""
    image = np.zeros((36, 64, 3), dtype=np.uint8)
    image[:, :, 0] = 230
    now = time.monotonic()
    return Frame(image, index, now, now, time.time(), None)


async def test_a_cash_exit_takes_two_keys(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path) as booth:
        site = booth.site
        stay = await site.car_inside("京D11111", minutes_ago=130)  # 5 + 3 × 2 = 11 yuan
        await site.cameras["B2"].push("京D11111")
        panel = booth.window.payments["B2"]
        await until(lambda: panel.state == "waiting")
        assert panel.due.text() == "应缴 11.00 元"
        assert "首60分钟" in panel.breakdown.text()
        assert panel.qr_url  # the driver could scan instead
        press(qtbot, Key.Key_F5)
        await dialog_open(booth, "cash-dialog")
        press(qtbot, Key.Key_Return)
        await dialog_closed(booth)
        await site.boards.wait_for(lambda: site.board("B2").relay_on(1))
        await site.boards.wait_for(lambda: "一路顺风" in " ".join(site.board("B2").text()))
        left = await site.store.stay(stay.order_id)
        assert left is not None
        assert left.state is StayState.LEFT
        (payment,) = await site.store.payments(stay.order_id)
        assert (payment.channel, payment.amount, payment.operator) == (PaymentChannel.CASH, Decimal(11), "wang")
        report = await site.uploaded("out_park", stay.order_id)
        assert (report["pay_type"], report["cash_pay"]) == ("cash", 11)
        await until(lambda: panel.state == "paid")
        assert "现金" in panel.state_label.text()


async def test_a_qr_exit_shows_the_code_and_the_payment(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path) as booth:
        site = booth.site
        stay = await site.car_inside("京E22222", minutes_ago=70)  # 7 yuan
        await site.cameras["B1"].push("京E22222")
        panel = booth.window.payments["B1"]
        await until(lambda: panel.state == "waiting")
        assert panel.qr.isVisible()
        assert panel.qr_url == await site.bolink.qrcodes.url("B1")
        paid = await site.bolink_sim.driver_scans_exit_qr("京E22222", channel_id="B1")
        await until(lambda: site.relay_board.pulses(0), within=5)
        await until(lambda: panel.state == "paid")
        assert "扫码支付" in panel.state_label.text()
        (payment,) = await site.store.payments(stay.order_id)
        assert (payment.channel, payment.trade_no) == (PaymentChannel.SCANCODE, paid.trade_no)
        press(qtbot, Key.Key_F5)  # nothing waits any more: the key says so and opens nothing
        assert booth.shell.cashier.dialog is None
        assert "没有等待缴费" in booth.window.statusBar().currentMessage()


async def test_a_free_release_needs_a_reason(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path) as booth:
        site = booth.site
        stay = await site.car_inside("京K88888", minutes_ago=70)
        await site.cameras["B2"].push("京K88888")
        await until(lambda: booth.window.payments["B2"].state == "waiting")
        press(qtbot, Key.Key_F6)
        dialog = await dialog_open(booth, "free-release-dialog")
        reasons = dialog.reasons.list
        last = reasons.count() - 1
        assert reasons.item(last).text() == "其他"
        for _ in range(last):
            press(qtbot, Key.Key_Down)
        press(qtbot, Key.Key_Return)  # 其他 with no words: refused in place
        await until(dialog.error.isVisible)
        assert booth.shell.cashier.dialog is dialog
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "救护车执行任务")
        press(qtbot, Key.Key_Return)
        await dialog_closed(booth)
        await site.boards.wait_for(lambda: site.board("B2").relay_on(1))
        (payment,) = await site.store.payments(stay.order_id)
        assert (payment.channel, payment.amount, payment.reason) == (PaymentChannel.FREE, 0, "其他：救护车执行任务")
        report = await site.uploaded("out_park", stay.order_id)
        assert (report["pay_type"], report["freereasons"]) == ("free", "其他：救护车执行任务")


async def test_every_gate_opens_by_hand_with_a_reason_and_the_frame(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path) as booth:
        site = booth.site
        opened = {
            "A1": lambda: site.board("A1").relay_on(1),
            "A2": lambda: bool(
                site.lanes.devices.lane("A2").gate.pending
            ),  # the pulse waits for the camera's next call
            "B1": lambda: site.relay_board.pulses(0),
            "B2": lambda: site.board("B2").relay_on(1),
        }
        for number, lane_id in enumerate(["A1", "A2", "B1", "B2"], 1):
            if lane_id != "A2":  # A2's camera shows nothing: its release is recorded without a frame
                video = booth.window.tile_by_lane[lane_id].video
                video.offer(a_frame(number))
                await until(lambda video=video: video.showing is not None)
            press(qtbot, getattr(Key, f"Key_{number}"), Qt.KeyboardModifier.AltModifier)  # select the lane
            press(qtbot, Key.Key_F2 if lane_id.startswith("A") else Key.Key_F3)
            dialog = await dialog_open(booth, "manual-release-dialog")
            assert dialog.lane_id == lane_id
            press(qtbot, Key.Key_Down)  # the second reason
            reason = dialog.reasons.reason
            press(qtbot, Key.Key_Tab)
            type_text(qtbot, f"测试{lane_id}")
            press(qtbot, Key.Key_Return)
            await dialog_closed(booth)
            await until(opened[lane_id], within=5)
        releases = await site.store.manual_releases()
        assert sorted(release.lane_id for release in releases) == ["A1", "A2", "B1", "B2"]
        on_duty = booth.shell.bridge.on_duty
        assert on_duty is not None
        for release in releases:
            assert (release.reason, release.note, release.operator_id) == (
                reason,
                f"测试{release.lane_id}",
                on_duty.operator.id,
            )
            if release.lane_id == "A2":
                assert release.frame_path == ""
                continue
            picture = QImage(release.frame_path)  # the frame the cashier saw when opening the gate
            assert (picture.width(), picture.height()) == (64, 36)
            assert picture.pixelColor(10, 10).red() > 200  # the frame painted red, not a blank image
        await until(lambda: sum(r.service == "upload_liftrod" for r in site.bolink_sim.uploads) == 4)


async def test_a_misread_plate_is_matched_from_the_candidates(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path) as booth:
        site = booth.site
        stay = await site.car_inside("京L12345", minutes_ago=70)
        await site.cameras["B2"].push("京L1234S")  # S read for 5
        await until(lambda: site.lane("B2").match is not None)
        await until(lambda: booth.window.payments["B2"].state == "matching")
        press(qtbot, Key.Key_F7)
        dialog = await dialog_open(booth, "plate-match-dialog")
        assert [choice.stay.order_id for choice in dialog.choices] == [stay.order_id]
        press(qtbot, Key.Key_Return)  # the first candidate
        await dialog_closed(booth)
        panel = booth.window.payments["B2"]
        await until(lambda: panel.state == "waiting")
        assert panel.due.text() == "应缴 7.00 元"
        press(qtbot, Key.Key_F5)
        await dialog_open(booth, "cash-dialog")
        press(qtbot, Key.Key_Return)
        await dialog_closed(booth)
        await site.boards.wait_for(lambda: site.board("B2").relay_on(1))
        left = await site.store.stay(stay.order_id)
        assert left is not None
        assert (left.state, left.exit_lane) == (StayState.LEFT, "B2")


async def test_a_plate_typed_by_the_cashier_corrects_the_read(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path) as booth:
        site = booth.site
        stay = await site.car_inside("京N54321", minutes_ago=70)
        await site.cameras["B1"].push("京X99999")  # nothing like any car inside
        await until(lambda: site.lane("B1").match is not None)
        press(qtbot, Key.Key_F7)
        dialog = await dialog_open(booth, "plate-match-dialog")
        assert dialog.choices == []
        type_text(qtbot, "京N54321")
        press(qtbot, Key.Key_Return)
        await dialog_closed(booth)
        await until(lambda: site.lane("B1").pending is not None)
        assert site.lane("B1").pending.stay.order_id == stay.order_id
