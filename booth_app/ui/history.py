"""History: recent stays (searchable by plate) and the audit list of gates opened by hand."""

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
from booth_app.store import Store
from booth_app.ui.queues import kind_name
from booth_app.ui.rows import RowsModel, rows_view
from booth_app.ui.tasks import async_slot

Index = QModelIndex | QPersistentModelIndex


def _table(model: RowsModel, name: str) -> QTableView:
    view = rows_view(model, name)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # read once, on opening
    return view


def _clock(moment: object) -> str:
    return "" if moment is None else f"{moment.astimezone(CHINA_STANDARD_TIME):%Y-%m-%d %H:%M:%S}"  # type: ignore[attr-defined]


class HistoryDialog(QDialog):
    """Ctrl+Tab switches between the two lists; typing in the search field filters the stays by plate."""

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
                self.tr("入场时间"),
                self.tr("出口"),
                self.tr("出场时间"),
                self.tr("状态"),
            ]
        )
        self.releases = RowsModel(
            [
                self.tr("时间"),
                self.tr("车道"),
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
        self.stays_view = _table(self.stays, "history-stays")
        stays_layout.addWidget(self.stays_view)
        self.tabs.addTab(stays_page, self.tr("停车记录"))
        self.releases_view = _table(self.releases, "history-releases")
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
        self.resize(1100, 560)
        self.search.setFocus()

    @async_slot
    async def reload(self) -> None:
        stays = await self.store.recent_stays(limit=500, plate_contains=self.search.text().strip().upper())
        self.stays.set_rows(
            [
                [
                    stay.plate,
                    kind_name(stay.kind),
                    stay.entry_lane,
                    _clock(stay.entered_at),
                    stay.exit_lane or "",
                    _clock(stay.left_at),
                    {"inside": self.tr("在场"), "left": self.tr("已出场"), "superseded": self.tr("已重入")}.get(
                        stay.state, stay.state
                    ),
                ]
                for stay in stays
            ]
        )
        operators = {person.id: person.display_name or person.username for person in await self.store.operators()}
        releases = await self.store.manual_releases(limit=500)
        self.releases.set_rows(
            [
                [
                    _clock(release.released_at),
                    release.lane_id,
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
