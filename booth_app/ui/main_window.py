"""The main window: one tile per lane and a status bar. The lane services fill the tiles in as they arrive."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from booth_app import __version__
from booth_app.config import LaneConfig, Settings
from booth_app.lanes.controller import LaneEvent
from booth_app.store import Store
from booth_app.ui.bridge import Bridge
from booth_app.ui.video_view import VideoView

DIRECTION_NAMES = {"in": "入口", "out": "出口"}
OUTCOME_NAMES = {
    "entry_open": "已入场",
    "entry_refused_blacklist": "黑名单，禁止入场",
    "entry_refused_full": "车位已满",
    "entry_refused_expired": "月卡过期，禁止入场",
    "exit_open": "已放行",
    "exit_fee_due": "待缴费",
    "exit_confirm_match": "请确认车牌",
    "exit_no_stay": "无入场记录",
    "no_plate": "无牌车",
}


class LaneTile(QFrame):
    """One lane at a glance: its name and direction, then (as the lane services land) video, plate and gate."""

    def __init__(self, lane: LaneConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.setObjectName(f"lane-{lane.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(320, 200)
        title = QLabel(f"{lane.name}  ·  {lane.id}  ·  {DIRECTION_NAMES[lane.direction]}")
        font = QFont()
        font.setPointSize(16)
        font.setBold(True)
        title.setFont(font)
        self.video = VideoView()
        self.video.setObjectName("lane-video")
        if not lane.camera.rtsp:
            self.video.show_message("未配置视频（lanes.camera.rtsp）")
        self.status = QLabel("等待车辆")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.setObjectName("lane-status")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.video, stretch=1)
        layout.addWidget(self.status)

    def show_event(self, event: LaneEvent) -> None:
        """The lane's latest word: what it decided, what it waits for, or what went wrong."""
        if event.kind == "decision" and event.decision is not None and event.decision.outcome == "ignored_repeat":
            return
        text = event.text
        if event.kind == "decision" and event.decision is not None:
            decision = event.decision
            text = f"{decision.plate or '无牌车'}  {OUTCOME_NAMES.get(decision.outcome, decision.outcome)}"
            if decision.due:
                text += f"  应缴 {decision.due:.2f} 元"
        colour = {"alarm": "#b00020", "warning": "#9a6700"}.get(event.level, "")
        self.status.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "")
        self.status.setText(text)


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, store: Store, *, demo: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        mode = "（演示）" if demo else ""
        self.setWindowTitle(f"Booth {__version__} — {settings.park.name}{mode}")
        self.resize(1366, 768)
        grid = QGridLayout()
        self.tiles = [LaneTile(lane) for lane in settings.lanes]
        columns = 2
        for index, tile in enumerate(self.tiles):
            grid.addWidget(tile, index // columns, index % columns)
        central = QWidget()
        central.setLayout(grid)
        self.setCentralWidget(central)
        self.occupancy = QLabel()
        self.bolink_state = QLabel("泊链：未连接")
        self.bolink_state.setObjectName("bolink-state")
        self.statusBar().addPermanentWidget(self.bolink_state)
        self.statusBar().addPermanentWidget(self.occupancy)

    def attach(self, bridge: Bridge) -> None:
        """Observe the services through the bridge."""
        tiles = {tile.lane.id: tile for tile in self.tiles}
        bridge.lane_event.connect(
            lambda event: tiles[event.lane_id].show_event(event) if event.lane_id in tiles else None
        )
        bridge.bolink_changed.connect(self.show_bolink)

    def show_bolink(self, online: bool, reason: str) -> None:
        self.bolink_state.setText("泊链在线" if online else f"泊链离线：{reason}")
        self.bolink_state.setStyleSheet("" if online else "color: #b00020; font-weight: bold;")

    async def refresh(self) -> None:
        inside = await self.store.count_inside()
        backlog = await self.store.outbox_backlog()
        free = max(0, self.settings.park.capacity - inside)
        waiting = f" · 待上传 {backlog}" if backlog else ""
        self.occupancy.setText(f"在场 {inside} 辆 · 余位 {free} / {self.settings.park.capacity}{waiting}")
