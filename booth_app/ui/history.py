"""History: recent stays (searchable by plate) with the payments of the one selected, and the audit list of gates
opened by hand. Where several booths share the store, every row names its booths."""

from __future__ import annotations

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
from booth_app.core.types import Stay
from booth_app.store import Store
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

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
                    ),
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
        self.summary.setText(self.tr("停车记录 {0} 条 · 人工抬杆 {1} 次").format(len(stays), len(releases)))

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
