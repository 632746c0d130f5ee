"""The entry and exit queues: recent stays in two tables (model/view), searchable by plate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import QLineEdit, QTableView, QTabWidget, QVBoxLayout, QWidget

from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.core.types import Stay
from booth_app.ui.rows import RowsModel, rows_view

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


class StaysModel(RowsModel):
    """Stays as rows. `exits` shows the exit side (lane, time left, fee); otherwise the entry side."""

    def __init__(self, *, exits: bool, parent: QWidget | None = None) -> None:
        translate = QCoreApplication.translate
        plate, kind = translate("Queues", "车牌"), translate("Queues", "类型")
        if exits:
            headers = [plate, kind, translate("Queues", "出口"), translate("Queues", "出场时间"),
                       translate("Queues", "入场时间")]  # fmt: skip
        else:
            headers = [plate, kind, translate("Queues", "入口"), translate("Queues", "入场时间"),
                       translate("Queues", "状态")]  # fmt: skip
        super().__init__(headers, parent)
        self.exits = exits
        self.stays: list[Stay] = []
        self.states = {
            "inside": translate("Queues", "在场"),
            "left": translate("Queues", "已出场"),
            "superseded": translate("Queues", "已重入"),
        }

    def set_stays(self, stays: Sequence[Stay]) -> None:
        """Show `stays` (each cell's text made once: see `RowsModel`)."""
        self.stays = list(stays)
        self.set_rows([self._row(stay) for stay in stays])

    def _row(self, stay: Stay) -> tuple[str, ...]:
        if self.exits:
            exit_lane = stay.exit_lane or ""
            return (stay.plate, kind_name(stay.kind), exit_lane, _clock(stay.left_at), _clock(stay.entered_at))
        return (
            stay.plate,
            kind_name(stay.kind),
            stay.entry_lane,
            _clock(stay.entered_at),
            self.states.get(stay.state, stay.state),
        )


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
        view = rows_view(model, name)
        # Widths from the longest text each column can hold, set once: fitting them to the contents would read every
        # cell of every row at each change, on the thread that paints the video.
        header = view.horizontalHeader()
        metrics = view.fontMetrics()
        padding = metrics.horizontalAdvance("MM")  # the cell margins and a little air
        samples = {"plate": "京AD12345", "kind": kind_name("whitelist"), "lane": "B2", "clock": "12-31 23:59:59"}
        columns = ("plate", "kind", "lane", "clock", "clock") if model.exits else ("plate", "kind", "lane", "clock")
        for column, sample in enumerate(columns):
            title = str(model.headers[column])
            header.resizeSection(
                column, max(metrics.horizontalAdvance(samples[sample]), metrics.horizontalAdvance(title)) + padding
            )
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
