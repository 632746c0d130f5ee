"""A table model of rows of text under fixed headers, for the queues and the history.

Each cell's text is made once, when the rows are set: the view asks for it far more often than the rows change, on
the thread that also paints the video. Rows set again unchanged redraw nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QTableView

Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.rows: list[tuple[str, ...]] = []

    def set_rows(self, rows: Sequence[Sequence[str]]) -> bool:
        """Show `rows`; False (and nothing redrawn) when they are the rows shown already."""
        new = [tuple(row) for row in rows]
        if new == self.rows:
            return False
        self.beginResetModel()
        self.rows = new
        self.endResetModel()
        return True

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        return self.rows[index.row()][index.column()]


def rows_view(model: RowsModel, name: str) -> QTableView:
    """A read-only table of `model` that selects whole rows, with no row numbers; the last column takes the rest."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    return view


def show_booth_columns(view: QTableView, columns: Iterable[int], *, shared: bool) -> None:
    """Show the columns that name a booth only when several booths share the store.

    A booth with a database of its own records everything at itself: every row would name the booth the status bar
    names already, in a column taken from the plate and the times. The store decides, not the rows shown, so the
    columns do not come and go while the cashier searches.
    """
    for column in columns:
        view.setColumnHidden(column, not shared)
