"""One lane at a glance: live video, device health, the last plate read (crop, text in its plate colour), what the
lane decided, and the gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from booth_app.config import LaneConfig
from booth_app.lanes.controller import LaneEvent
from booth_app.ui.payment_panel import channel_name
from booth_app.ui.video_view import VideoView

CAMERA_QUIET_AFTER = timedelta(minutes=5)  # a camera that neither pushed nor polled for this long may be down

PLATE_COLOURS = {  # background, text: how the plate itself looks
    "blue": ("#1546b8", "#ffffff"),
    "yellow": ("#f2c200", "#000000"),
    "green": ("#2fb86a", "#000000"),
    "yellow_green": ("#9ccc3a", "#000000"),
    "white": ("#ffffff", "#000000"),
    "black": ("#000000", "#ffffff"),
}


def direction_name(direction: str) -> str:
    return (
        QCoreApplication.translate("LaneTile", "入口")
        if direction == "in"
        else QCoreApplication.translate("LaneTile", "出口")
    )


def outcome_name(outcome: str) -> str:
    names = {
        "entry_open": QCoreApplication.translate("LaneTile", "已入场"),
        "entry_refused_blacklist": QCoreApplication.translate("LaneTile", "黑名单，禁止入场"),
        "entry_refused_full": QCoreApplication.translate("LaneTile", "车位已满"),
        "entry_refused_expired": QCoreApplication.translate("LaneTile", "月卡过期，禁止入场"),
        "exit_open": QCoreApplication.translate("LaneTile", "已放行"),
        "exit_fee_due": QCoreApplication.translate("LaneTile", "待缴费"),
        "exit_confirm_match": QCoreApplication.translate("LaneTile", "请确认车牌"),
        "exit_no_stay": QCoreApplication.translate("LaneTile", "无入场记录"),
        "no_plate": QCoreApplication.translate("LaneTile", "无牌车"),
    }
    return names.get(outcome, outcome)


def gate_name(state: str) -> str:
    names = {
        "open": QCoreApplication.translate("LaneTile", "已抬杆"),
        "closed": QCoreApplication.translate("LaneTile", "已落杆"),
        "error": QCoreApplication.translate("LaneTile", "故障"),
        "unknown": QCoreApplication.translate("LaneTile", "未知"),
    }
    return names.get(state, state)


class HealthLight(QLabel):
    """A device's name with a coloured dot: green answering, red not, grey not known yet."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.ok: bool | None = None
        self.set_ok(None, "")

    def set_ok(self, ok: bool | None, detail: str) -> None:
        self.ok = ok
        colour = {True: "#1e9e4a", False: "#d0021b", None: "#8a8f96"}[ok]
        self.setText(f'<span style="color:{colour}">●</span> {self.name}')
        self.setToolTip(detail)
        self.setProperty("level", "alarm" if ok is False else "")  # a device that stopped answering shouts


class LaneTile(QFrame):
    """Everything the cashier needs to know about one lane, readable from across the booth."""

    def __init__(self, lane: LaneConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.setObjectName(f"lane-{lane.id}")
        self.setProperty("selected", False)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(300, 220)
        self.title = QLabel(f"{lane.name} · {lane.id} · {direction_name(lane.direction)}")
        self.title.setObjectName("lane-title")
        self.camera_light = HealthLight(self.tr("相机"))
        self.board_light = HealthLight(self.tr("显示屏"))
        self.gate_light = HealthLight(self.tr("道闸"))
        self.gate = QLabel(gate_name("unknown"))
        self.gate.setObjectName("gate-state")
        health = QHBoxLayout()
        health.setSpacing(10)
        for widget in (self.camera_light, self.board_light, self.gate_light, self.gate):
            widget.setProperty("small", True)
            health.addWidget(widget)
        health.addStretch(1)
        self.video = VideoView()
        self.video.setObjectName("lane-video")
        if not lane.camera.rtsp:
            self.video.show_message(self.tr("未配置视频（lanes.camera.rtsp）"))
        self.crop = QLabel()
        self.crop.setObjectName("plate-crop")
        self.crop.setFixedSize(120, 40)
        self.crop.setScaledContents(True)
        self.plate = QLabel("—")
        self.plate.setObjectName("tile-plate")
        self.status = QLabel(self.tr("等待车辆"))
        self.status.setObjectName("lane-status")
        self.status.setWordWrap(True)
        read_row = QHBoxLayout()
        read_row.addWidget(self.crop)
        read_row.addWidget(self.plate)
        read_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addLayout(health)
        layout.addWidget(self.video, stretch=1)
        layout.addLayout(read_row)
        layout.addWidget(self.status)
        self.last_read_at: datetime | None = None

    def set_selected(self, selected: bool) -> None:
        """The lane the cashier's lane keys act on."""
        self.setProperty("selected", selected)
        self._restyle(self)

    # ------------------------------------------------------------ what the lane says

    def show_event(self, event: LaneEvent) -> None:
        match event.kind:
            case "read":
                self._show_read(event)
            case "decision" | "pending":  # the same words for both, in the window's language
                self._show_decision(event)
            case "gate":
                self._show_gate(event.text, event.level)
            case "paid":
                self._show_paid(event)
            case _ if event.text:
                self._say(event.text, event.level)

    def _show_read(self, event: LaneEvent) -> None:
        read = getattr(event, "read", None)
        if read is None:
            return
        self.last_read_at = read.read_at
        self.plate.setText(read.plate or self.tr("无牌车"))
        background, foreground = PLATE_COLOURS.get(read.color, ("#3a3f44", "#ffffff"))
        self.plate.setStyleSheet(f"background: {background}; color: {foreground};")
        crop = getattr(event, "plate_jpeg", None)
        image = QImage.fromData(crop) if crop else QImage()
        if image.isNull():
            self.crop.clear()
            self.crop.setText(self.tr("无图"))
        else:
            self.crop.setPixmap(QPixmap.fromImage(image))

    def _show_decision(self, event: LaneEvent) -> None:
        decision = event.decision
        if decision is None:
            self._say(event.text, event.level)
            return
        if decision.outcome == "ignored_repeat":
            return
        plate = decision.plate or self.tr("无牌车")
        text = f"{plate}  {outcome_name(decision.outcome)}"
        if decision.due:
            text += self.tr("  应缴 {0} 元").format(f"{decision.due:.2f}")
        level = "alarm" if decision.outcome.startswith("entry_refused") else event.level
        self._say(text, level)

    def _show_paid(self, event: LaneEvent) -> None:
        decision = event.decision
        plate = (decision.plate if decision is not None else "") or self.tr("无牌车")
        if event.channel == "free":
            self._say(self.tr("{0}  免费放行").format(plate), "ok")
            return
        amount = f"{event.amount or 0:.2f}"
        self._say(self.tr("{0}  已缴 {1} 元（{2}）").format(plate, amount, channel_name(event.channel)), "ok")

    def _show_gate(self, state: str, level: str) -> None:
        self.gate.setText(gate_name(state))
        self.gate.setProperty("level", level if level != "info" else "")
        self._restyle(self.gate)

    def _say(self, text: str, level: str) -> None:
        self.status.setText(text)
        self.status.setProperty("level", level if level != "info" else "")
        self._restyle(self.status)

    def show_health(self, health: Any, now: datetime | None = None) -> None:
        """Device health from the lane service's snapshot (camera contact, board answering, gate state)."""
        now = now or datetime.now(UTC)
        seen = health.camera_last_seen
        if seen is None:
            self.camera_light.set_ok(None, self.tr("相机尚未联系"))
        else:
            quiet = now - seen > CAMERA_QUIET_AFTER
            self.camera_light.set_ok(not quiet, self.tr("最后联系 {0:%H:%M:%S}").format(seen.astimezone()))
        self.board_light.set_ok(health.board_answering, health.board_message)
        gate_ok = None if health.gate_state == "unknown" else health.gate_state != "error"
        self.gate_light.set_ok(gate_ok, health.gate_error or gate_name(health.gate_state))
        self._show_gate(health.gate_state, "alarm" if health.gate_state == "error" else "info")
        for light in (self.camera_light, self.board_light, self.gate_light):
            self._restyle(light)

    @staticmethod
    def _restyle(widget: QWidget) -> None:
        # A dynamic property only changes the look after the style is re-applied.
        style = widget.style()
        style.unpolish(widget)
        style.polish(widget)
