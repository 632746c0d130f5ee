"""The entry and exit queues: recent stays in two tables (model/view), searchable by plate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTableView, QTabWidget, QVBoxLayout, QWidget

from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.core.types import Stay

Index = QModelIndex | QPersistentModelIndex


def kind_name(kind: str) -> str:
    names = {
        "temp": QCoreApplication.translate("Queues", "临时车"),
        "month": QCoreApplication.translate("Queues", "月卡"),
        "whitelist": QCoreApplication.translate("Queues", "白名单"),
        "unplated": QCoreApplication.translate("Queues", "无牌车"),
    }
    return names.get(kind, kind)


def _clock(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(CHINA_STANDARD_TIME):%m-%d %H:%M:%S}"


class StaysModel(QAbstractTableModel):
    """Stays as rows. `exits` shows the exit side (lane, time left, fee); otherwise the entry side."""

    def __init__(self, *, exits: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.exits = exits
        self.stays: list[Stay] = []
        self.fees: dict[str, str] = {}
        self.headers = (
            [
                QCoreApplication.translate("Queues", "车牌"),
                QCoreApplication.translate("Queues", "类型"),
                QCoreApplication.translate("Queues", "出口"),
                QCoreApplication.translate("Queues", "出场时间"),
                QCoreApplication.translate("Queues", "入场时间"),
            ]
            if exits
            else [
                QCoreApplication.translate("Queues", "车牌"),
                QCoreApplication.translate("Queues", "类型"),
                QCoreApplication.translate("Queues", "入口"),
                QCoreApplication.translate("Queues", "入场时间"),
                QCoreApplication.translate("Queues", "状态"),
            ]
        )

    def set_stays(self, stays: Sequence[Stay]) -> None:
        self.beginResetModel()
        self.stays = list(stays)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.stays)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        stay = self.stays[index.row()]
        if self.exits:
            exit_lane = stay.exit_lane or ""
            row = [stay.plate, kind_name(stay.kind), exit_lane, _clock(stay.left_at), _clock(stay.entered_at)]
        else:
            state = {
                "inside": QCoreApplication.translate("Queues", "在场"),
                "left": QCoreApplication.translate("Queues", "已出场"),
                "superseded": QCoreApplication.translate("Queues", "已重入"),
            }.get(stay.state, stay.state)
            row = [stay.plate, kind_name(stay.kind), stay.entry_lane, _clock(stay.entered_at), state]
        return row[index.column()]


class QueuePanel(QWidget):
    """A search field over two tabs, 入场 and 出场. The caller fills them (`show_stays`) and re-reads on `search`."""

    def __init__(self, search_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setObjectName("queue-search")
        self.search.setPlaceholderText(self.tr("按车牌查找（{0}）").format(search_key))
        self.search.setClearButtonEnabled(True)
        self.entries = StaysModel(exits=False, parent=self)
        self.exits = StaysModel(exits=True, parent=self)
        self.tabs = QTabWidget()
        self.entry_view = self._table(self.entries, "entry-queue")
        self.exit_view = self._table(self.exits, "exit-queue")
        self.tabs.addTab(self.entry_view, self.tr("入场"))
        self.tabs.addTab(self.exit_view, self.tr("出场"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tabs, stretch=1)

    @staticmethod
    def _table(model: StaysModel, name: str) -> QTableView:
        view = QTableView()
        view.setObjectName(name)
        view.setModel(model)
        view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        view.verticalHeader().hide()
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setStretchLastSection(True)
        return view

    def show_stays(self, stays: Sequence[Stay]) -> None:
        """Recent stays, newest change first: entries by entry time, exits by exit time."""
        entries = sorted(stays, key=lambda stay: stay.entered_at, reverse=True)
        exits = sorted((stay for stay in stays if stay.left_at is not None), key=_left_at, reverse=True)
        self.entries.set_stays(entries)
        self.exits.set_stays(exits)


def _left_at(stay: Stay) -> datetime:
    assert stay.left_at is not None
    return stay.left_at
