"""The entry and exit queues' model: each cell's text made once, and no redraw when nothing changed."""

from datetime import UTC, datetime, timedelta

from pytestqt.qtbot import QtBot

from booth_app.core.types import Stay, StayState
from booth_app.ui.queues import QueuePanel

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # 18:00 in the park


def stays() -> list[Stay]:
    inside = Stay("A1_1", "京A12345", NOW - timedelta(hours=2), "A1")
    left = Stay("A2_2", "沪B54321", NOW - timedelta(hours=3), "A2", state=StayState.LEFT, exit_lane="B1", left_at=NOW)
    return [inside, left]


def test_the_rows_read_as_the_cashier_sees_them(qtbot: QtBot) -> None:
    panel = QueuePanel("Ctrl+F")
    qtbot.addWidget(panel)
    panel.show_stays(stays())
    entries = [[panel.entries.data(panel.entries.index(row, column)) for column in range(5)] for row in range(2)]
    assert entries == [
        ["京A12345", "临时车", "A1", "11-22 16:00:00", "在场"],
        ["沪B54321", "临时车", "A2", "11-22 15:00:00", "已出场"],
    ]
    assert panel.exits.rowCount() == 1
    assert [panel.exits.data(panel.exits.index(0, column)) for column in range(5)] == [
        "沪B54321", "临时车", "B1", "11-22 18:00:00", "11-22 15:00:00",
    ]  # fmt: skip


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
