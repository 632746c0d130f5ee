"""The main window: lane tiles at the left; exit payments and the entry/exit queues at the right; a status bar with
this booth, Bolink, the outbox backlog, the lot, the operator on duty and the clock. What the cashier can do lives in
`cashier.py`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from booth_app import __version__
from booth_app.config import Settings
from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.lanes.controller import LaneEvent
from booth_app.lanes.staff import OnDuty
from booth_app.store import Store
from booth_app.ui.bridge import Bridge
from booth_app.ui.keys import KeyMap
from booth_app.ui.lane_tile import LaneTile
from booth_app.ui.payment_panel import PaymentPanel
from booth_app.ui.queues import QueuePanel
from booth_app.ui.tasks import async_slot
from booth_app.ui.theme import set_level

log = logging.getLogger(__name__)

QUEUE_ROWS = 100  # recent stays in the queues (a search reaches back further, the history further still)
QUEUE_DEBOUNCE_MS = 300  # a burst of lane events re-reads the queues once


class ElidedLabel(QLabel):
    """A label that, short of room, gives it up before the others of its layout: its text ends in … or is gone."""

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        alignment = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            alignment,
            self.palette(),
            True,
            self.shown_text(),
            QPalette.ColorRole.WindowText,
        )


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, store: Store, *, demo: bool = False, keymap: KeyMap | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.keymap = keymap or KeyMap.from_settings(settings.ui)
        self.store = store
        self.bridge: Bridge | None = None
        mode = self.tr("（演示）") if demo else ""
        self.setWindowTitle(f"Booth {__version__} — {settings.park.name}{mode}")
        self.resize(1366, 768)
        self.tiles = [LaneTile(lane) for lane in settings.lanes]
        self.tile_by_lane = {tile.lane.id: tile for tile in self.tiles}
        exits = [lane for lane in settings.lanes if lane.direction == "out"]
        self.payments = {lane.id: PaymentPanel(lane, self.keymap.text) for lane in exits}
        self.queues = QueuePanel(self.keymap.text("search"), booth=settings.bolink.local_id, shared=store.shared)
        self.selected_lane = self.tiles[0].lane.id
        self._build_layout()
        self._build_status_bar()
        self.select_lane(self.selected_lane)
        self._queue_timer = QTimer(self)
        self._queue_timer.setSingleShot(True)
        self._queue_timer.setInterval(QUEUE_DEBOUNCE_MS)
        self._queue_timer.timeout.connect(self.reload_queues)
        self.queues.search.textChanged.connect(lambda _text: self._queue_timer.start())
        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start(1000)
        self._tick()

    def _build_layout(self) -> None:
        grid = QGridLayout()
        grid.setSpacing(4)
        columns = 2 if len(self.tiles) > 1 else 1
        for index, tile in enumerate(self.tiles):
            grid.addWidget(tile, index // columns, index % columns)
        for column in range(columns):
            grid.setColumnStretch(column, 1)
        for row in range((len(self.tiles) + columns - 1) // columns):
            grid.setRowStretch(row, 1)
        right = QVBoxLayout()
        right.setSpacing(4)
        for panel in self.payments.values():
            right.addWidget(panel)
        right.addWidget(self.queues, stretch=1)
        body = QHBoxLayout()
        body.setContentsMargins(4, 4, 4, 4)
        body.addLayout(grid, stretch=3)
        body.addLayout(right, stretch=2)
        central = QWidget()
        central.setLayout(body)
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("status-bar")
        booth = self.settings.bolink.local_id
        if self.store.shared:
            self.booth = ElidedLabel(self.tr("岗亭 {0} · 共享库").format(booth))
            self.booth.setToolTip(self.tr("本停车场的岗亭共用一个数据库：车辆可从一个岗亭入场、从另一个岗亭出场"))
        else:
            self.booth = ElidedLabel(self.tr("岗亭 {0}").format(booth))
            self.booth.setToolTip(self.tr("本岗亭的数据库在本机"))
        self.booth.setObjectName("this-booth")
        self.conflicts = QLabel("")
        self.conflicts.setObjectName("open-conflicts")
        self.history_key = self.settings.ui.key_bindings()["history"]
        self.conflicts.setToolTip(
            self.tr("岗亭断开数据库期间的操作与其他岗亭不一致，需要人工核实：按 {0}，在“待核实”中查看并记录").format(
                self.history_key
            )
        )
        self.conflicts.hide()
        self.bolink_state = QLabel(self.tr("泊链：未连接"))
        self.bolink_state.setObjectName("bolink-state")
        self.backlog = QLabel("")
        self.backlog.setObjectName("outbox-backlog")
        self.occupancy = QLabel("")
        self.occupancy.setObjectName("occupancy")
        self.operator = QLabel(self.tr("未登录"))
        self.operator.setObjectName("operator-on-duty")
        self.clock = QLabel("")
        self.clock.setObjectName("clock")
        # At the left, the booth's name gives way to what changes: a message that comes and goes takes its place
        # meanwhile, and where the bar is full (English is longer) Bolink's state and the operator on duty show whole.
        bar.addWidget(self.booth)
        for label in (self.conflicts, self.bolink_state, self.backlog, self.occupancy, self.operator, self.clock):
            bar.addPermanentWidget(label)

    # ------------------------------------------------------------ observing the services

    def attach(self, bridge: Bridge) -> None:
        """Observe the services through the bridge."""
        self.bridge = bridge
        bridge.lane_event.connect(self.show_lane_event)
        bridge.bolink_changed.connect(self.show_bolink)
        bridge.operator_changed.connect(self.show_operator)
        bridge.services_changed.connect(self._queue_timer.start)

    def show_lane_event(self, event: LaneEvent) -> None:
        tile = self.tile_by_lane.get(event.lane_id)
        if tile is not None:
            tile.show_event(event)
        panel = self.payments.get(event.lane_id)
        if panel is not None:
            panel.show_event(event)
        if event.kind in ("decision", "paid", "released"):
            self._queue_timer.start()

    def show_bolink(self, online: bool, reason: str) -> None:
        self.bolink_state.setText(self.tr("泊链在线") if online else self.tr("泊链离线，报告暂存本机"))
        self.bolink_state.setToolTip(reason)
        self._level(self.bolink_state, "ok" if online else "alarm")

    def show_operator(self, on_duty: OnDuty | None) -> None:
        if on_duty is None:
            self.operator.setText(self.tr("未登录"))
            self._level(self.operator, "warning")
            return
        role = self.tr("管理员") if on_duty.is_admin else self.tr("收费员")
        since = on_duty.started_at.astimezone(CHINA_STANDARD_TIME)
        self.operator.setText(self.tr("值班：{0}（{1}）{2:%H:%M} 起").format(on_duty.name, role, since))
        self._level(self.operator, "")

    def select_lane(self, lane_id: str) -> None:
        """The lane the cashier's lane keys act on first."""
        self.selected_lane = lane_id
        for tile in self.tiles:
            tile.set_selected(tile.lane.id == lane_id)

    async def refresh(self) -> None:
        """Re-read the counts and the devices' health (every couple of seconds)."""
        inside = await self.store.count_inside()
        backlog = await self.store.outbox_backlog()
        capacity = self.settings.park.capacity
        free = max(0, capacity - inside)
        self.occupancy.setText(self.tr("在场 {0} 辆 · 余位 {1} / {2}").format(inside, free, capacity))
        self.backlog.setText(self.tr("待上传 {0}").format(backlog))
        self._level(self.backlog, "warning" if backlog > 50 else "")
        if self.store.shared:
            await self._show_shared_store()
        lanes = self.bridge.services.lanes if self.bridge is not None else None
        if lanes is not None and hasattr(lanes, "health"):
            now = datetime.now(UTC)
            for lane_id, health in lanes.health().items():
                if lane_id in self.tile_by_lane:
                    self.tile_by_lane[lane_id].show_health(health, now)

    async def _show_shared_store(self) -> None:
        """Whether the car park's database server answers, and what merging an offline journal left to check."""
        booth = self.settings.bolink.local_id
        since = self.store.offline_since if self.store.offline else None
        if since is not None:
            self.booth.setText(
                self.tr("岗亭 {0} · 数据库服务器断开（{1:%H:%M} 起），本机记账").format(
                    booth, since.astimezone(CHINA_STANDARD_TIME)
                )
            )
            self.booth.setToolTip(
                self.tr("车道照常工作，记录暂存本机，服务器恢复后自动合并。名单、操作员和交班报表需等服务器恢复。")
            )
            self._level(self.booth, "alarm")
        else:
            self.booth.setText(self.tr("岗亭 {0} · 共享库").format(booth))
            self.booth.setToolTip(self.tr("本停车场的岗亭共用一个数据库：车辆可从一个岗亭入场、从另一个岗亭出场"))
            self._level(self.booth, "")
        open_conflicts = await self.store.count_open_conflicts()
        self.conflicts.setText(self.tr("待核实 {0}（{1}）").format(open_conflicts, self.history_key))
        self.conflicts.setVisible(open_conflicts > 0)
        self._level(self.conflicts, "alarm" if open_conflicts else "")

    @async_slot
    async def reload_queues(self) -> None:
        try:
            search = self.queues.search.text().strip().upper()
            stays = await self.store.recent_stays(limit=QUEUE_ROWS, plate_contains=search)
        except Exception:
            log.exception("the queues could not be read")
            return
        self.queues.show_stays(stays)

    def _tick(self) -> None:
        self.clock.setText(f"{datetime.now(CHINA_STANDARD_TIME):%Y-%m-%d %H:%M:%S}")

    @staticmethod
    def _level(widget: QWidget, level: str) -> None:
        set_level(widget, level or None)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._clock_timer.stop()
        self._queue_timer.stop()
        super().closeEvent(event)
