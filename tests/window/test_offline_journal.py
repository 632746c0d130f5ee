"""The window of a booth on a shared database server: it says when the server is away and the booth records on its
own, and after the merge it shows what is left for a person to check, who records what they did (F9, "待核实")."""

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from booth_app.app import demo_settings
from booth_app.core.types import Payment, PaymentChannel, Stay
from booth_app.store import Store
from booth_app.store.journal import JournaledStore
from booth_app.ui.history import HistoryDialog
from booth_app.ui.main_window import MainWindow
from tests.cable import Cable
from tests.helpers import until
from tests.window.test_history import rows

NOW = datetime.now(UTC)


async def test_the_window_says_the_server_is_away_then_shows_the_conflict_to_check(
    qtbot: QtBot, tmp_path: Path, postgres
) -> None:
    settings = demo_settings()
    url = postgres.database()
    cable = Cable(postgres.port)
    cable.plug()
    store = await JournaledStore.open_journaled(cable.via(url), tmp_path / "journal.db", booth="demo_booth01")
    store.probe_every_s = 0.05
    other = await Store.open(url, booth="west")
    try:
        window = MainWindow(settings, store, demo=True)
        qtbot.addWidget(window)
        window.show()
        await other.enter(Stay("A1_1", "京A12345", NOW - timedelta(hours=1), "A1"))
        await store._call(store._snapshot)
        await window.refresh()
        assert window.booth.text() == "岗亭 demo_booth01 · 共享库"
        assert not window.conflicts.isVisible()

        cable.pull()
        await store.count_inside()
        await window.refresh()
        assert window.booth.text().startswith("岗亭 demo_booth01 · 数据库服务器断开（")
        assert window.booth.text().endswith("起），本机记账")
        assert window.booth.property("level") == "alarm"
        cash = Payment("A1_1", PaymentChannel.CASH, Decimal(5), NOW, operator="cashier", lane_id="B1")
        await store.leave("A1_1", left_at=NOW, exit_lane="B1", fee=Decimal(5), payments=[cash])
        await other.leave("A1_1", left_at=NOW + timedelta(minutes=2), exit_lane="B3", fee=Decimal(5))

        cable.plug()
        await until(lambda: not store.offline, within=15)
        await window.refresh()
        assert window.booth.text() == "岗亭 demo_booth01 · 共享库"
        assert window.conflicts.isVisible()
        assert window.conflicts.text() == "待核实 1（F9）"
        if directory := os.environ.get("BOOTH_SCREENSHOTS"):
            window.grab().save(str(Path(directory) / "conflict-status.png"))

        dialog = HistoryDialog(store, window, operator="admin")
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.reload()
        await until(lambda: dialog.conflicts.rowCount() == 1)
        assert dialog.tabs.tabText(dialog.conflicts_tab) == "待核实（1）"
        (row,) = rows(dialog.conflicts)
        assert row[1:4] == ["京A12345", "两处出场", "demo_booth01"]
        assert row[5] == "未核实"
        assert rows(dialog.stays)[0][8] == "已出场（待核实）"
        dialog.tabs.setCurrentIndex(dialog.conflicts_tab)
        dialog.conflicts_view.setCurrentIndex(dialog.conflicts.index(0, 0))
        dialog.resolution.setFocus()
        dialog.resolution.insert("司机确认只出场一次，已退现金 5 元")  # as the input method types it
        if directory := os.environ.get("BOOTH_SCREENSHOTS"):
            dialog.grab().save(str(Path(directory) / "conflicts-tab.png"))
        qtbot.keyClick(dialog.resolution, Qt.Key.Key_Return)
        await until(lambda: dialog.tabs.tabText(dialog.conflicts_tab) == "待核实（0）")
        (row,) = rows(dialog.conflicts)
        assert row[5].startswith("admin ")
        assert row[5].endswith("：司机确认只出场一次，已退现金 5 元")
        (checked,) = await other.conflicts(open_only=False)
        assert (checked.resolved_by, checked.resolution) == ("admin", "司机确认只出场一次，已退现金 5 元")
        await window.refresh()
        assert not window.conflicts.isVisible()
    finally:
        await store.close()
        await other.close()
        cable.pull()
