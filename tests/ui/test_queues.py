"""The entry and exit queues' model: each cell's text made once, and no redraw when nothing changed."""

from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from booth_app.core.types import Stay, StayState
from booth_app.ui.queues import QueuePanel, StaysModel

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # 18:00 in the park


def stays() -> list[Stay]:
    inside = Stay("A1_1", "京A12345", NOW - timedelta(hours=2), "A1", entry_booth="east")
    left = Stay("A2_2", "沪B54321", NOW - timedelta(hours=3), "A2", state=StayState.LEFT, exit_lane="B1", left_at=NOW,
                entry_booth="east", exit_booth="west")  # fmt: skip
    return [inside, left]


def cells(model: StaysModel, row: int) -> list[str]:
    return [model.data(model.index(row, column)) for column in range(model.columnCount())]


def test_the_rows_read_as_the_cashier_sees_them(qtbot: QtBot) -> None:
    panel = QueuePanel("Ctrl+F")
    qtbot.addWidget(panel)
    panel.show_stays(stays())
    assert panel.entries.headers == ["车牌", "类型", "入口", "岗亭", "入场时间", "状态"]
    assert [cells(panel.entries, row) for row in range(2)] == [
        ["京A12345", "临时车", "A1", "east", "11-22 16:00:00", "在场"],
        ["沪B54321", "临时车", "A2", "east", "11-22 15:00:00", "已出场"],
    ]
    assert panel.exits.headers == ["车牌", "类型", "出口", "岗亭", "出场时间", "入场时间"]
    assert panel.exits.rowCount() == 1
    assert cells(panel.exits, 0) == ["沪B54321", "临时车", "B1", "west", "11-22 18:00:00", "11-22 15:00:00"]


def hidden(view: QTableView) -> list[int]:
    return [column for column in range(view.model().columnCount()) if view.isColumnHidden(column)]


def test_the_booth_columns_show_only_when_booths_share_the_store(qtbot: QtBot) -> None:
    alone, shared = QueuePanel("Ctrl+F", booth="booth01"), QueuePanel("Ctrl+F", booth="booth01", shared=True)
    for panel in (alone, shared):
        qtbot.addWidget(panel)
    assert (hidden(alone.entry_view), hidden(alone.exit_view)) == ([3], [3])
    assert (hidden(shared.entry_view), hidden(shared.exit_view)) == ([], [5])  # the exit booth for the entry time
    for view in (shared.entry_view, shared.exit_view):
        assert view.columnWidth(3) > view.fontMetrics().horizontalAdvance("booth01")  # room for a booth's name


def test_the_same_stays_again_redraw_nothing_and_a_change_does(qtbot: QtBot) -> None:
    panel = QueuePanel("Ctrl+F")
    qtbot.addWidget(panel)
    panel.show_stays(stays())
    with qtbot.assert_not_emitted(panel.entries.modelReset), qtbot.assert_not_emitted(panel.exits.modelReset):
        panel.show_stays(stays())
    changed = stays()
    changed[0] = Stay("A1_1", "京A12345", NOW - timedelta(hours=2), "A1", state=StayState.LEFT, exit_lane="B2",
                      left_at=NOW)  # fmt: skip
    with qtbot.wait_signals([panel.entries.modelReset, panel.exits.modelReset], timeout=1000):
        panel.show_stays(changed)
    assert panel.exits.rowCount() == 2
