"""The entry and exit queues: recent stays in two tables (model/view), searchable by plate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QLineEdit, QTableView, QTabWidget, QVBoxLayout, QWidget

from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.core.types import Stay
from booth_app.ui.rows import RowsModel, rows_view, show_booth_columns

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


ENTRY_COLUMNS = ("plate", "kind", "entry_lane", "entry_booth", "entered_at", "state")
EXIT_COLUMNS = ("plate", "kind", "exit_lane", "exit_booth", "left_at", "entered_at")
BOOTH_COLUMNS = ("entry_booth", "exit_booth")


class StaysModel(RowsModel):
    """Stays as rows. `exits` shows the exit side (lane, booth, time left) and the time the car came in; otherwise
    the entry side and the state. Each tab names one side, so its booth column is just 岗亭."""

    def __init__(self, *, exits: bool, parent: QWidget | None = None) -> None:
        translate = QCoreApplication.translate
        headers = {
            "plate": translate("Queues", "车牌"),
            "kind": translate("Queues", "类型"),
            "entry_lane": translate("Queues", "入口"),
            "entry_booth": translate("Queues", "岗亭"),
            "entered_at": translate("Queues", "入场时间"),
            "exit_lane": translate("Queues", "出口"),
            "exit_booth": translate("Queues", "岗亭"),
            "left_at": translate("Queues", "出场时间"),
            "state": translate("Queues", "状态"),
        }
        self.columns = EXIT_COLUMNS if exits else ENTRY_COLUMNS
        super().__init__([headers[column] for column in self.columns], parent)
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
        cells = {
            "plate": stay.plate,
            "kind": kind_name(stay.kind),
            "entry_lane": stay.entry_lane,
            "entry_booth": stay.entry_booth,
            "entered_at": _clock(stay.entered_at),
            "exit_lane": stay.exit_lane or "",
            "exit_booth": stay.exit_booth,
            "left_at": _clock(stay.left_at),
            "state": self.states.get(stay.state, stay.state),
        }
        return tuple(cells[column] for column in self.columns)


class QueuePanel(QWidget):
    """A search field over two tabs, 入场 and 出场. The caller fills them (`show_stays`) and re-reads on `search`.

    `booth`: this booth's name, the width the booth columns make room for; `shared`: whether they show (see
    `show_booth_columns`).
    """

    def __init__(
        self, search_key: str, *, booth: str = "", shared: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.booth = booth
        self.search = QLineEdit()
        self.search.setObjectName("queue-search")
        self.search.setPlaceholderText(self.tr("按车牌查找（{0}）").format(search_key))
        self.search.setClearButtonEnabled(True)
        self.entries = StaysModel(exits=False, parent=self)
        self.exits = StaysModel(exits=True, parent=self)
        self.tabs = QTabWidget()
        self.entry_view = self._table(self.entries, "entry-queue", shared)
        self.exit_view = self._table(self.exits, "exit-queue", shared)
        self.tabs.addTab(self.entry_view, self.tr("入场"))
        self.tabs.addTab(self.exit_view, self.tr("出场"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tabs, stretch=1)

    def _table(self, model: StaysModel, name: str, shared: bool) -> QTableView:
        view = rows_view(model, name)
        show_booth_columns(view, [i for i, key in enumerate(model.columns) if key in BOOTH_COLUMNS], shared=shared)
        if model.exits:
            # The pane holds five columns at the cashier's font: the exit booth takes the entry time's place (the
            # history shows both).
            view.setColumnHidden(model.columns.index("entered_at"), shared)
        if shared:
            view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # Widths from the longest text each column can hold, set once: fitting them to the contents would read every
        # cell of every row at each change, on the thread that paints the video.
        header = view.horizontalHeader()
        width = view.fontMetrics().horizontalAdvance
        padding = width("M" if shared else "MM")  # the cell margins and a little air, or less where booths show
        clock, lane = width("12-31 23:59:59"), width("B2")
        # Booths' names are taken to be about as long as this one's, and at most a short one's: a longer one loses
        # its middle ("DESK…2QP"), and the history shows it whole.
        booth = min(width(self.booth or "booth01"), width("booth001"))
        samples = {
            "plate": width("京AD12345"),
            "kind": width(kind_name("whitelist")),
            "entry_lane": lane,
            "exit_lane": lane,
            "entry_booth": booth,
            "exit_booth": booth,
            "entered_at": clock,
            "left_at": clock,
        }
        last = max(column for column in range(len(model.columns)) if not view.isColumnHidden(column))
        for column, key in enumerate(model.columns):
            # The last column shown asks only for its title: it stretches over the room left, and never past it.
            text = samples[key] if key in samples and column != last else 0
            header.resizeSection(column, max(text, width(str(model.headers[column]))) + padding)
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
