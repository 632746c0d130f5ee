"""History: recent stays (searchable by plate) with the payments of the one selected, and the audit list of gates
opened by hand. Where several booths share the store, every row names its booths, and a third list shows what merging
a booth's offline journal found for a person to check (the same car let out at two booths), where they record what
they did about it."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.core.types import Conflict, Stay
from booth_app.store import Store, StoreError
from booth_app.ui.payment_panel import channel_name
from booth_app.ui.queues import kind_name
from booth_app.ui.rows import RowsModel, rows_view, show_booth_columns
from booth_app.ui.tasks import async_slot

Index = QModelIndex | QPersistentModelIndex


def _table(model: RowsModel, name: str, *, booth_columns: list[int], shared: bool) -> QTableView:
    view = rows_view(model, name)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # read once, on opening
    show_booth_columns(view, booth_columns, shared=shared)
    return view


def _clock(moment: object) -> str:
    return "" if moment is None else f"{moment.astimezone(CHINA_STANDARD_TIME):%Y-%m-%d %H:%M:%S}"  # type: ignore[attr-defined]


class HistoryDialog(QDialog):
    """Ctrl+Tab switches between the two lists; typing in the search field filters the stays by plate; the payments
    of the stay selected (the newest at first) show under the stays."""

    def __init__(self, store: Store, parent: QWidget | None = None, *, operator: str = "") -> None:
        super().__init__(parent)
        self.operator = operator  # who records a conflict as checked ("" = nobody logged in)
        self.setObjectName("history-dialog")
        self.setWindowTitle(self.tr("历史记录"))
        self.store = store
        self.search = QLineEdit()
        self.search.setObjectName("history-search")
        self.search.setPlaceholderText(self.tr("车牌包含…（回车查找）"))
        self.stays = RowsModel(
            [
                self.tr("车牌"),
                self.tr("类型"),
                self.tr("入口"),
                self.tr("入口岗亭"),
                self.tr("入场时间"),
                self.tr("出口"),
                self.tr("出口岗亭"),
                self.tr("出场时间"),
                self.tr("状态"),
            ]
        )
        self.shown_stays: list[Stay] = []
        self.payments = RowsModel(
            [
                self.tr("收费时间"),
                self.tr("方式"),
                self.tr("金额"),
                self.tr("车道"),
                self.tr("岗亭"),
                self.tr("操作员"),
                self.tr("交易号/原因"),
            ]
        )
        self.payments_of: str | None = None  # the order whose payments show
        self.releases = RowsModel(
            [
                self.tr("时间"),
                self.tr("车道"),
                self.tr("岗亭"),
                self.tr("操作员"),
                self.tr("原因"),
                self.tr("说明"),
                self.tr("车牌"),
                self.tr("抓拍"),
            ]
        )
        self.tabs = QTabWidget()
        stays_page = QWidget()
        stays_layout = QVBoxLayout(stays_page)
        stays_layout.addWidget(self.search)
        self.stays_view = _table(self.stays, "history-stays", booth_columns=[3, 6], shared=store.shared)
        stays_layout.addWidget(self.stays_view, stretch=3)
        self.payments_title = QLabel(self.tr("选中一条停车记录，查看它的收费记录"))
        self.payments_title.setObjectName("history-payments-title")
        stays_layout.addWidget(self.payments_title)
        self.payments_view = _table(self.payments, "history-payments", booth_columns=[4], shared=store.shared)
        stays_layout.addWidget(self.payments_view, stretch=1)
        self.stays_view.selectionModel().currentRowChanged.connect(self._stay_selected)
        self.tabs.addTab(stays_page, self.tr("停车记录"))
        self.releases_view = _table(self.releases, "history-releases", booth_columns=[2], shared=store.shared)
        self.tabs.addTab(self.releases_view, self.tr("人工抬杆记录"))
        self.conflicts = RowsModel(
            [self.tr("发现时间"), self.tr("车牌"), self.tr("问题"), self.tr("岗亭"), self.tr("详情"), self.tr("核实")]
        )
        self.shown_conflicts: list[Conflict] = []
        if store.shared:
            conflicts_page = QWidget()
            conflicts_layout = QVBoxLayout(conflicts_page)
            self.conflicts_view = _table(self.conflicts, "history-conflicts", booth_columns=[], shared=True)
            conflicts_layout.addWidget(self.conflicts_view, stretch=1)
            self.resolution = QLineEdit()
            self.resolution.setObjectName("conflict-resolution")
            self.resolution.setPlaceholderText(self.tr("选中一条，写下核实结果和处理办法（回车记录）"))
            self.resolution.returnPressed.connect(self.resolve_selected)
            conflicts_layout.addWidget(self.resolution)
            self.conflicts_tab = self.tabs.addTab(conflicts_page, self.tr("待核实"))
        self.summary = QLabel("")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭（Esc）"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self.search.returnPressed.connect(self.reload)
        self.resize(1100, 680)
        self.search.setFocus()

    @async_slot
    async def reload(self) -> None:
        stays = await self.store.recent_stays(limit=500, plate_contains=self.search.text().strip().upper())
        self.shown_stays = stays
        changed = self.stays.set_rows(
            [
                [
                    stay.plate,
                    kind_name(stay.kind),
                    stay.entry_lane,
                    stay.entry_booth,
                    _clock(stay.entered_at),
                    stay.exit_lane or "",
                    stay.exit_booth,
                    _clock(stay.left_at),
                    {"inside": self.tr("在场"), "left": self.tr("已出场"), "superseded": self.tr("已重入")}.get(
                        stay.state, stay.state
                    )
                    + (self.tr("（待核实）") if "conflict" in stay.flags else ""),
                ]
                for stay in stays
            ]
        )
        if changed:  # the selection went with the old rows: show the newest stay's payments
            self.stays_view.setCurrentIndex(self.stays.index(0, 0))
            if not stays:
                self.show_payments(None)
        operators = {person.id: person.display_name or person.username for person in await self.store.operators()}
        releases = await self.store.manual_releases(limit=500)
        self.releases.set_rows(
            [
                [
                    _clock(release.released_at),
                    release.lane_id,
                    release.booth,
                    operators.get(release.operator_id, "") if release.operator_id is not None else self.tr("远程"),
                    release.reason,
                    release.note,
                    release.plate,
                    release.frame_path,
                ]
                for release in releases
            ]
        )
        summary = self.tr("停车记录 {0} 条 · 人工抬杆 {1} 次").format(len(stays), len(releases))
        if self.store.shared:
            open_count = await self._reload_conflicts()
            summary += self.tr(" · 待核实 {0} 条").format(open_count)
        self.summary.setText(summary)

    async def _reload_conflicts(self) -> int:
        """The conflicts, open ones first; returns how many are open."""
        conflicts = await self.store.conflicts(open_only=False, limit=500)
        conflicts.sort(key=lambda conflict: conflict.resolved_at is not None)
        self.shown_conflicts = conflicts
        kinds = {
            "closed_twice": self.tr("两处出场"),
            "paid_after_close": self.tr("出场后收费"),
            "still_inside": self.tr("仍有在场记录"),
        }
        self.conflicts.set_rows(
            [
                [
                    _clock(conflict.found_at),
                    conflict.plate,
                    kinds.get(conflict.kind, conflict.kind),
                    conflict.booth,
                    conflict.detail,
                    self.tr("未核实")
                    if conflict.resolved_at is None
                    else self.tr("{0} {1}：{2}").format(
                        conflict.resolved_by, _clock(conflict.resolved_at), conflict.resolution
                    ),
                ]
                for conflict in conflicts
            ]
        )
        open_count = sum(conflict.resolved_at is None for conflict in conflicts)
        self.tabs.setTabText(self.conflicts_tab, self.tr("待核实（{0}）").format(open_count))
        return open_count

    @async_slot
    async def resolve_selected(self) -> None:
        """Record what the person on duty did about the conflict selected."""
        current = self.conflicts_view.currentIndex()
        text = self.resolution.text().strip()
        if not current.isValid() or current.row() >= len(self.shown_conflicts):
            self.summary.setText(self.tr("请先选中一条待核实记录"))
            return
        conflict = self.shown_conflicts[current.row()]
        if not self.operator:
            self.summary.setText(self.tr("请先登录，再记录核实结果"))
            return
        if not text:
            self.summary.setText(self.tr("请写下核实结果和处理办法"))
            return
        try:
            await self.store.resolve_conflict(conflict.id, by=self.operator, resolution=text, at=datetime.now(UTC))
        except StoreError as exc:
            self.summary.setText(self.tr("未能记录：{0}").format(exc))
            return
        self.resolution.clear()
        open_count = await self._reload_conflicts()
        self.summary.setText(self.tr("已记录 {0} 的核实结果 · 待核实 {1} 条").format(conflict.plate, open_count))

    def _stay_selected(self, current: Index, _previous: Index) -> None:
        self.show_payments(self.shown_stays[current.row()] if current.isValid() else None)

    @async_slot
    async def show_payments(self, stay: Stay | None) -> None:
        """The payments of `stay`, oldest first: when, how, how much, where (lane and booth), by whom."""
        self.payments_of = None if stay is None else stay.order_id
        if stay is None:
            self.payments.set_rows([])
            self.payments_title.setText(self.tr("选中一条停车记录，查看它的收费记录"))
            return
        payments = await self.store.payments(stay.order_id)
        operators = {person.username: person.display_name or person.username for person in await self.store.operators()}
        if self.payments_of != stay.order_id:  # the cashier moved on while they were read
            return
        self.payments.set_rows(
            [
                [
                    _clock(payment.paid_at),
                    channel_name(payment.channel),
                    f"{payment.amount:.2f}",
                    payment.lane_id,
                    payment.booth,
                    operators.get(payment.operator, payment.operator),
                    payment.reason or payment.trade_no,
                ]
                for payment in payments
            ]
        )
        if payments:
            self.payments_title.setText(self.tr("{0} 的收费记录（{1} 笔）").format(stay.plate, len(payments)))
        else:
            self.payments_title.setText(self.tr("{0} 没有收费记录").format(stay.plate))
