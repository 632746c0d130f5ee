"""What the cashier can do, each bound to a key from the key table: open a gate by hand, take cash, release free,
correct a plate, search, look at the history, hand over the shift, manage the vehicle lists.

Every command that changes something needs an operator on duty; without one, the login comes up instead. Dialogs are
opened with `open()`; their service calls run as tasks on the loop, never blocking the window.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialog

from booth_app.core.types import ZERO, PaymentChannel
from booth_app.lanes.staff import OnDuty
from booth_app.ui.bridge import Bridge
from booth_app.ui.dialogs import CashDialog, FreeReleaseDialog, ManualReleaseDialog
from booth_app.ui.history import HistoryDialog
from booth_app.ui.main_window import MainWindow
from booth_app.ui.plate_match import MatchChoice, PlateMatchDialog
from booth_app.ui.tasks import async_slot

log = logging.getLogger(__name__)

STATUS_MESSAGE_MS = 6000


class Cashier(QObject):
    def __init__(self, window: MainWindow, bridge: Bridge) -> None:
        super().__init__(window)
        self.window = window
        self.bridge = bridge
        self.services = bridge.services
        self.dialog: QDialog | None = None  # the one dialog open now (shortcuts do not reach the window meanwhile)
        self.last_read: dict[str, Any] = {}  # lane id -> its latest PlateRead
        bridge.lane_event.connect(self._remember_read)

    def handlers(self) -> dict[str, Callable[[], object]]:
        handlers: dict[str, Callable[[], object]] = {
            "open_entry_gate": lambda: self.open_gate("in"),
            "open_exit_gate": lambda: self.open_gate("out"),
            "collect_cash": self.collect_cash,
            "free_release": self.free_release,
            "correct_plate": self.correct_plate,
            "search": self.search,
            "history": self.history,
            "shift_handover": self.shift_handover,
            "vehicle_lists": self.vehicle_lists,
            "next_exit": self.next_exit,
            "lock_screen": self.lock_screen,
            "operators": self.operators,
        }
        for number, tile in enumerate(self.window.tiles, 1):
            handlers[f"select_lane_{number}"] = functools.partial(self.window.select_lane, tile.lane.id)
        return handlers

    # ------------------------------------------------------------ helpers

    @property
    def on_duty(self) -> OnDuty | None:
        return self.bridge.on_duty

    def say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, STATUS_MESSAGE_MS)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
        self.window.activateWindow()

    def _lanes(self) -> Any:
        lanes = self.services.lanes
        if lanes is None:
            self.say(self.tr("车道服务尚未启动"))
        return lanes

    def _need_operator(self) -> OnDuty | None:
        if self.on_duty is None:
            self.say(self.tr("请先登录"))
            self.login()
        return self.on_duty

    def _remember_read(self, event: Any) -> None:
        read = getattr(event, "read", None)
        if event.kind == "read" and read is not None:
            self.last_read[event.lane_id] = read

    def _pending_exit(self) -> str | None:
        """The exit lane a money key acts on: the selected lane if a car waits there, else the longest waiting."""
        lanes = self.services.lanes
        if lanes is None:
            return None
        waiting = {
            lane_id: pending
            for lane_id, controller in lanes.controllers.items()
            if (pending := controller.snapshot()) is not None
        }
        if self.window.selected_lane in waiting:
            return self.window.selected_lane
        return min(waiting, key=lambda lane_id: waiting[lane_id].since) if waiting else None

    def _lane_name(self, lane_id: str) -> str:
        return f"{self.services.settings.lane(lane_id).name} · {lane_id}"

    # ------------------------------------------------------------ operators

    @async_slot
    async def login(self) -> None:
        """The login (or, on the very first start, creating the admin account)."""
        from booth_app.ui.login import FirstAdminDialog, LoginDialog

        if self.dialog is not None:
            return
        staff = self.services.staff
        first = await staff.needs_first_admin()
        dialog: QDialog = FirstAdminDialog(staff, self.window) if first else LoginDialog(staff, self.window)
        dialog.logged_in.connect(self.bridge.set_on_duty)  # type: ignore[attr-defined]
        self._open(dialog)

    def lock_screen(self) -> None:
        """Step away: nobody is on duty until someone logs in (the same cashier carries on with the same shift)."""
        if self.dialog is not None:
            return
        self.bridge.set_on_duty(None)
        self.login()

    def shift_handover(self) -> None:
        from booth_app.ui.handover import HandoverDialog

        if (on_duty := self._need_operator()) is None:
            return
        dialog = HandoverDialog(
            self.services.staff, on_duty, self.window, pdf_dir=self.services.data_dir / "reports",
            park_name=self.services.settings.park.name,
        )  # fmt: skip
        dialog.handed_over.connect(self._handed_over)
        self._open(dialog)

    def operators(self) -> None:
        """Who may log in: an admin adds operators and sets passwords; a cashier changes their own password."""
        from booth_app.ui.operators import OperatorsDialog

        if self.dialog is not None or (on_duty := self._need_operator()) is None:
            return
        self._open(OperatorsDialog(self.services.staff, on_duty, self.window))

    def _handed_over(self, _report: object) -> None:
        self.bridge.set_on_duty(None)
        QTimer.singleShot(0, self.login)  # once the handover dialog has closed

    # ------------------------------------------------------------ gates

    def open_gate(self, direction: str) -> None:
        if (on_duty := self._need_operator()) is None or (lanes := self._lanes()) is None:
            return
        choices = [(lane.id, lane.name) for lane in self.services.settings.lanes if lane.direction == direction]
        if not choices:
            self.say(self.tr("没有这个方向的车道"))
            return
        selected = self.window.selected_lane
        lane_id = selected if selected in dict(choices) else choices[0][0]
        reasons = self.services.settings.ui.release_reasons

        async def submit(lane_id: str, reason: str, note: str) -> None:
            frame = await self._save_frame(lane_id)
            controller = lanes.controllers[lane_id]
            await controller.manual_open(
                reason, operator_id=on_duty.operator.id, note=note, uid=on_duty.operator.username,
                frame_path=str(frame) if frame else "",
            )  # fmt: skip
            self.say(self.tr("{0} 已人工抬杆：{1}").format(self._lane_name(lane_id), reason))

        self._open(ManualReleaseDialog(choices, lane_id, reasons, submit, self.window))

    async def _save_frame(self, lane_id: str) -> Path | None:
        """The picture the lane's camera shows now, kept with the manual release (None without video)."""
        tile = self.window.tile_by_lane.get(lane_id)
        frame = tile.video.showing if tile is not None else None
        if frame is None:
            return None
        now = datetime.now(UTC)
        folder = self.services.data_dir / "pictures" / "manual" / f"{now:%Y-%m-%d}"
        path = folder / f"{now:%H%M%S_%f}_{lane_id}.jpg"
        height, width = frame.image.shape[:2]
        image = QImage(frame.image.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()

        def write() -> bool:
            folder.mkdir(parents=True, exist_ok=True)
            return bool(image.save(str(path), None, 85))  # the format from the name (.jpg)

        try:
            written = await asyncio.to_thread(write)
        except Exception as exc:  # the gate matters more than its picture: it opens all the same
            log.warning("the frame of lane %s could not be saved to %s: %s", lane_id, path, exc)
            return None
        if not written:
            log.warning("the frame of lane %s could not be saved to %s", lane_id, path)
            return None
        return path

    # ------------------------------------------------------------ money

    def _waiting_car(self) -> tuple[OnDuty, str, Any, Any] | None:
        """Who is on duty, and the exit lane, controller and pending exit the money keys act on (None: said why)."""
        if (on_duty := self._need_operator()) is None or (lanes := self._lanes()) is None:
            return None
        lane_id = self._pending_exit()
        if lane_id is None:
            self.say(self.tr("没有等待缴费的车辆"))
            return None
        controller = lanes.controllers[lane_id]
        return on_duty, lane_id, controller, controller.snapshot()

    async def _settle(
        self, controller: Any, pending: Any, channel: PaymentChannel, amount: Decimal, **more: str
    ) -> Any:
        stay = await controller.settle(channel, amount, order_id=pending.stay.order_id, **more)
        if stay is None:
            raise RuntimeError(self.tr("这辆车已不在等待缴费（可能已用其他方式支付）。"))
        return stay

    def collect_cash(self) -> None:
        if (waiting := self._waiting_car()) is None:
            return
        on_duty, lane_id, controller, pending = waiting

        async def submit() -> None:
            stay = await self._settle(controller, pending, PaymentChannel.CASH, pending.due,
                                      operator=on_duty.operator.username)  # fmt: skip
            self.say(self.tr("{0} 收现金 {1} 元，已放行").format(stay.plate, f"{pending.due:.2f}"))

        self._open(CashDialog(pending.stay.plate, pending.due, self._lane_name(lane_id), submit, self.window))

    def free_release(self) -> None:
        if (waiting := self._waiting_car()) is None:
            return
        on_duty, _lane_id, controller, pending = waiting

        async def submit(reason: str) -> None:
            stay = await self._settle(controller, pending, PaymentChannel.FREE, ZERO,
                                      operator=on_duty.operator.username, reason=reason)  # fmt: skip
            self.say(self.tr("{0} 免费放行：{1}").format(stay.plate, reason))

        reasons = self.services.settings.ui.release_reasons
        self._open(FreeReleaseDialog(pending.stay.plate, pending.due, reasons, submit, self.window))

    def next_exit(self) -> None:
        lanes = self.services.lanes
        if lanes is None:
            return
        waiting = [lane_id for lane_id, c in lanes.controllers.items() if c.snapshot() is not None or c.match]
        if not waiting:
            self.say(self.tr("没有等待处理的出口"))
            return
        current = self.window.selected_lane
        following = waiting[(waiting.index(current) + 1) % len(waiting)] if current in waiting else waiting[0]
        self.window.select_lane(following)

    # ------------------------------------------------------------ plates

    @async_slot
    async def correct_plate(self) -> None:
        if self._need_operator() is None or (lanes := self._lanes()) is None or self.dialog is not None:
            return
        lane_id = self._plate_lane(lanes)
        controller = lanes.controllers[lane_id]
        match = controller.match
        read = self.last_read.get(lane_id)
        read_plate = match.plate if match is not None else (read.plate if read is not None else "")
        choices = await self._choices(match)
        read_picture = await self._picture(read.read_id if read is not None else "", lanes)

        async def confirm(order_id: str) -> None:
            decision = await controller.confirm_match(order_id)
            if decision is None:
                raise LookupError(self.tr("这条入场记录已不存在。"))

        async def correct(plate: str) -> None:
            decision = await controller.correct_plate(plate)
            self.say(self.tr("{0} 按 {1} 处理").format(self._lane_name(lane_id), decision.plate))

        self._open(
            PlateMatchDialog(
                self._lane_name(lane_id), read_plate, read_picture, choices,
                confirm_stay=confirm, correct_plate=correct, parent=self.window,
            )
        )  # fmt: skip

    def _plate_lane(self, lanes: Any) -> str:
        """The selected lane, unless another exit waits for a match and the selected one does not."""
        selected = self.window.selected_lane
        if lanes.controllers[selected].match is not None:
            return selected
        matching = [lane_id for lane_id, controller in lanes.controllers.items() if controller.match is not None]
        return matching[0] if matching else selected

    async def _choices(self, match: Any) -> list[MatchChoice]:
        if match is None:
            return []
        lanes = self.services.lanes
        choices = []
        for candidate in match.candidates:
            stay = await self.services.store.inside(candidate.plate)
            if stay is None:
                continue
            picture = await self._picture(stay.entry_read_id, lanes)
            choices.append(MatchChoice(stay, candidate, picture))
        return choices

    @staticmethod
    async def _picture(read_id: str, lanes: Any) -> bytes | None:
        pictures = getattr(lanes, "pictures", None)
        if not read_id or pictures is None:
            return None
        found = pictures.find(read_id)
        path = found.full or found.plate
        if path is None:
            return None
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            log.warning("the picture %s could not be read: %s", path, exc)
            return None

    # ------------------------------------------------------------ records

    def search(self) -> None:
        self.window.queues.search.setFocus()
        self.window.queues.search.selectAll()

    def history(self) -> None:
        operator = "" if self.on_duty is None else self.on_duty.operator.username
        dialog = HistoryDialog(self.services.store, self.window, operator=operator)
        self._open(dialog)
        dialog.reload()

    def vehicle_lists(self) -> None:
        from booth_app.ui.vehicles import VehicleListsDialog

        if (on_duty := self._need_operator()) is None:
            return
        dialog = VehicleListsDialog(self.services.store, can_edit=on_duty.is_admin, parent=self.window)
        self._open(dialog)
