"""The window on the demo configuration: a tile per lane, the payment panels, the queues and the status bar, fed by the
bridge as the services would feed it, over a real store."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from booth_app.app import demo_settings
from booth_app.bolink.link import Link
from booth_app.core.decisions import AwaitPayment, Decision, Outcome
from booth_app.core.tariff import Rate, Tariff
from booth_app.core.types import PlateRead, Stay
from booth_app.lanes.controller import LaneEvent
from booth_app.lanes.staff import Staff
from booth_app.store import Store
from booth_app.store.engine import sqlite_url
from booth_app.ui.bridge import Bridge, Services
from booth_app.ui.lane_tile import LaneTile
from booth_app.ui.main_window import MainWindow
from booth_app.ui.qr import qr_image
from tests.helpers import until
from tests.ui.test_theme_and_i18n import USABLE, themed  # noqa: F401 - fixture themed

TARIFF = Tariff(Rate(free_minutes=15, first_minutes=60, first_price=Decimal(5), unit_minutes=30,
                     unit_price=Decimal(2), daily_cap=Decimal(40)))  # fmt: skip


async def open_window(qtbot: QtBot, tmp_path: Path) -> tuple[MainWindow, Bridge, Store]:
    store = await Store.open(sqlite_url(tmp_path / "booth.db"))
    settings = demo_settings()
    window = MainWindow(settings, store, demo=True)
    qtbot.addWidget(window)
    bridge = Bridge(Services(settings, store, Staff(store), tmp_path))
    window.attach(bridge)
    window.show()
    return window, bridge, store


async def test_the_window_has_a_tile_per_lane_and_shows_the_lot(qtbot: QtBot, tmp_path: Path) -> None:
    window, _bridge, store = await open_window(qtbot, tmp_path)
    try:
        await store.enter(Stay("A1_1", "京A12345", datetime.now(UTC), "A1"))
        await window.refresh()
        tiles = window.findChildren(LaneTile)
        assert [tile.lane.id for tile in tiles] == ["A1", "A2", "B1", "B2"]
        assert tiles[0].title.text() == "东门入口 · A1 · 入口"
        assert tiles[2].title.text() == "东门出口 · B1 · 出口"
        assert sorted(window.payments) == ["B1", "B2"]  # a payment panel per exit
        assert window.occupancy.text() == "在场 1 辆 · 余位 119 / 120"
        assert window.backlog.text() == "待上传 0"
        assert window.booth.text() == "岗亭 demo_booth01"  # this booth, on a database of its own
        window.statusBar().showMessage("京A12345 收现金 5.00 元，已放行")
        assert not window.booth.isVisible()  # a message that comes and goes takes its place meanwhile
        window.statusBar().clearMessage()
        assert window.booth.isVisible()
        assert "演示" in window.windowTitle()
        window.reload_queues()
        await until(lambda: window.queues.entries.rowCount() == 1)
        assert window.queues.entries.data(window.queues.entries.index(0, 0)) == "京A12345"
        assert window.queues.exits.rowCount() == 0
        assert window.queues.entry_view.isColumnHidden(3)  # every car here came in at this booth: no booth column
        assert not window.grab().isNull()
    finally:
        await store.close()


async def test_the_tiles_and_panels_follow_the_bridge(qtbot: QtBot, tmp_path: Path) -> None:
    window, bridge, store = await open_window(qtbot, tmp_path)
    try:
        link = Link()
        link.up()
        bridge.watch_link(link)  # already online before the window watched: it still says so
        assert window.bolink_state.text() == "泊链在线"
        now = datetime.now(UTC)
        stay = Stay("B2_1", "京A12345", now - timedelta(minutes=130), "A1")
        fee = TARIFF.fee(stay, now)
        read = PlateRead("B2", "京A12345", now, color="blue")
        bridge.on_lane_event(LaneEvent("B2", "read", "", read=read, plate_jpeg=None))
        due = Decision(Outcome.EXIT_FEE_DUE, "京A12345", (AwaitPayment(fee.total),), stay=stay, fee=fee, due=fee.total)
        bridge.on_lane_event(LaneEvent("B2", "decision", "", decision=due))
        bridge.on_lane_event(LaneEvent("B2", "pending", "", decision=due, qr_url="https://pay.example/B2"))
        tile = window.tile_by_lane["B2"]
        assert tile.plate.text() == "京A12345"
        assert "#1546b8" in tile.plate.styleSheet()  # a blue plate looks blue
        assert tile.status.text() == "京A12345  待缴费  应缴 11.00 元"
        panel = window.payments["B2"]
        assert (panel.state, panel.due.text()) == ("waiting", "应缴 11.00 元")
        assert "首60分钟 5.00" in panel.breakdown.text()
        assert "F5" in panel.state_label.text()  # the key to press, from the key table
        assert panel.qr.pixmap().toImage() == qr_image("https://pay.example/B2", 132)
        bridge.on_lane_event(LaneEvent("B2", "paying", "", channel="sweepcode"))
        assert panel.state_label.text() == "支付中（付款码）…"
        bridge.on_lane_event(
            LaneEvent("B2", "paid", "京A12345 已缴 11.00 元（sweepcode）", decision=due, channel="sweepcode",
                      amount=Decimal(11))
        )  # fmt: skip
        assert panel.state == "paid"
        assert panel.state_label.text() == "已支付 11.00 元（付款码），已放行"
        assert tile.status.text() == "京A12345  已缴 11.00 元（付款码）"  # the channel in words, not its code
        bridge.on_lane_event(LaneEvent("A1", "alert", "黑名单车辆 京C44444 在入口", "alarm"))
        assert window.tile_by_lane["A1"].status.text() == "黑名单车辆 京C44444 在入口"
        assert window.tile_by_lane["A1"].status.property("level") == "alarm"
        link.down("timeout")
        assert window.bolink_state.text() == "泊链离线，报告暂存本机"
        assert window.bolink_state.toolTip() == "timeout"  # the why, for whoever looks closer
        assert window.bolink_state.property("level") == "alarm"
    finally:
        await store.close()


@pytest.mark.usefixtures("themed")  # the window's large print, for the widths
async def test_on_a_shared_store_the_queues_name_the_booth_of_each_entry_and_exit(
    qtbot: QtBot, tmp_path: Path, postgres
) -> None:
    settings = demo_settings()
    url = postgres.database()
    store, other = await Store.open(url, booth=settings.bolink.local_id), await Store.open(url, booth="west")
    try:
        window = MainWindow(settings, store, demo=True)
        qtbot.addWidget(window)
        window.resize(USABLE)
        window.show()
        assert window.booth.text() == "岗亭 demo_booth01 · 共享库"
        now = datetime.now(UTC)
        await other.enter(Stay("A1_1", "京A12345", now - timedelta(hours=1), "A1"))
        await store.leave("A1_1", left_at=now, exit_lane="B1", fee=Decimal(0))  # came in at west, left here
        await store.enter(Stay("A2_2", "沪B54321", now, "A2"))
        window.reload_queues()
        queues = window.queues
        await until(lambda: queues.entries.rowCount() == 2)
        entry_booths = [queues.entries.data(queues.entries.index(row, 3)) for row in range(2)]
        assert (queues.entries.headers[3], entry_booths) == ("岗亭", ["demo_booth01", "west"])
        exit_row = [queues.exits.data(queues.exits.index(0, column)) for column in range(4)]
        assert exit_row == ["京A12345", "临时车", "B1", "demo_booth01"]
        for tab, view in enumerate((queues.entry_view, queues.exit_view)):
            assert not view.isColumnHidden(3)
            queues.tabs.setCurrentIndex(tab)
            await until(lambda view=view: view.isVisible())
            assert view.horizontalScrollBar().maximum() == 0  # every column shown fits the pane, in large print
    finally:
        await store.close()
        await other.close()


@pytest.mark.usefixtures("themed")
async def test_this_booths_name_gives_way_when_the_status_bar_is_full(qtbot: QtBot, tmp_path: Path) -> None:
    demo = demo_settings()
    long_name = demo.bolink.model_copy(update={"local_id": "DESKTOP-7F3K2QP-WESTGATE-BOOTH"})  # a PC's name
    settings = demo.model_copy(update={"bolink": long_name})
    store = await Store.open(sqlite_url(tmp_path / "booth.db"), booth=settings.bolink.local_id)
    try:
        window = MainWindow(settings, store, demo=True)
        qtbot.addWidget(window)
        window.resize(USABLE)
        window.show()
        window.show_bolink(False, "timeout")
        window.operator.setText("值班：收费员小王（收费员）08:00 起")
        await window.refresh()
        labels = (window.bolink_state, window.backlog, window.occupancy, window.operator, window.clock)
        # once laid out, what changes shows whole
        await until(lambda: all(label.width() >= label.sizeHint().width() for label in labels), within=5)
        assert 0 <= window.booth.width() < window.booth.sizeHint().width()
        assert window.booth.shown_text().endswith("…")
    finally:
        await store.close()
