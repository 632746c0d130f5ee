"""The window on the demo configuration: a tile per lane and the lot's occupancy, read from a real store."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from booth_app.app import demo_settings
from booth_app.core.types import Stay
from booth_app.store import Store
from booth_app.store.engine import sqlite_url
from booth_app.ui.main_window import LaneTile, MainWindow


async def test_the_window_has_a_tile_per_lane_and_shows_the_occupancy(qtbot: QtBot, tmp_path: Path) -> None:
    settings = demo_settings()
    store = await Store.open(sqlite_url(tmp_path / "booth.db"))
    try:
        await store.enter(Stay("A1_1", "京A12345", datetime.now(UTC), "A1"))
        window = MainWindow(settings, store, demo=True)
        qtbot.addWidget(window)
        window.show()
        await window.refresh()
        tiles = window.findChildren(LaneTile)
        assert [tile.lane.id for tile in tiles] == ["A1", "A2", "B1", "B2"]
        titles = [tile.findChildren(QLabel)[0].text() for tile in tiles]
        assert titles[0] == "东门入口  ·  A1  ·  入口"
        assert titles[2] == "东门出口  ·  B1  ·  出口"
        assert window.occupancy.text() == "在场 1 辆 · 余位 119 / 120"
        assert "演示" in window.windowTitle()
        image = window.grab()
        assert not image.isNull()
        assert image.save(str(tmp_path / "window.png"))
    finally:
        await store.close()


async def test_the_tiles_and_status_bar_follow_the_services_through_the_bridge(qtbot: QtBot, tmp_path: Path) -> None:
    from booth_app.bolink.link import Link
    from booth_app.core.decisions import Decision, Outcome
    from booth_app.lanes.controller import LaneEvent
    from booth_app.ui.bridge import Bridge

    store = await Store.open(sqlite_url(tmp_path / "booth.db"))
    try:
        window = MainWindow(demo_settings(), store, demo=True)
        qtbot.addWidget(window)
        bridge = Bridge()
        window.attach(bridge)
        link = Link()
        link.up()
        bridge.watch_link(link)  # already online before the window watched: it still says so
        assert window.bolink_state.text() == "泊链在线"
        due = Decision(Outcome.EXIT_FEE_DUE, "京A12345", (), due=Decimal("11.00"))
        bridge.on_lane_event(LaneEvent("B2", "decision", "", decision=due))
        bridge.on_lane_event(LaneEvent("A1", "alert", "黑名单车辆 京C44444 在入口", "alarm"))
        tiles = {tile.lane.id: tile for tile in window.tiles}
        assert tiles["B2"].status.text() == "京A12345  待缴费  应缴 11.00 元"
        assert tiles["A1"].status.text() == "黑名单车辆 京C44444 在入口"
        assert "#b00020" in tiles["A1"].status.styleSheet()
        link.down("timeout")
        assert window.bolink_state.text() == "泊链离线：timeout"
    finally:
        await store.close()
