"""The lanes service on its own, with a display-board simulator and no Bolink: cameras that go quiet and come back,
and the picture store's housekeeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from booth_app.core.decisions import RuleSettings
from booth_app.core.tariff import Rate, Tariff
from booth_app.core.types import Direction
from booth_app.lanes.controller import LaneContext, LaneEvent
from booth_app.lanes.devices import LaneDeviceSpec
from booth_app.lanes.pictures import PictureStore
from booth_app.lanes.service import LaneService, LaneSpec, ListenerSpec
from booth_app.sim.camera import SimCamera
from booth_app.sim.display_board import DisplayBoardSim
from booth_app.store.engine import sqlite_url
from booth_app.store.store import Store
from tests.helpers import display_board_sim, until  # noqa: F401 - fixture sim

TARIFF = Tariff(Rate(free_minutes=15, first_minutes=60, first_price=Decimal(5), unit_minutes=30,
                     unit_price=Decimal(2), daily_cap=Decimal(40)))  # fmt: skip


class Booth:
    def __init__(self, service: LaneService, events: list[LaneEvent]) -> None:
        self.service = service
        self.events = events

    def camera(self, lane: str) -> SimCamera:
        assert self.service.listener is not None
        return SimCamera(self.service.listener.url, serialno=f"cam-{lane.lower()}", pictures=False)

    def cameras(self, lane: str) -> list[str]:
        return [e.text for e in self.events if e.lane_id == lane and e.device == "camera"]


@pytest.fixture
async def booth(tmp_path: Path, sim: DisplayBoardSim) -> AsyncIterator[Booth]:
    store = await Store.open(sqlite_url(tmp_path / "booth.db"))
    events: list[LaneEvent] = []
    context = LaneContext(store, TARIFF, RuleSettings(capacity=10), listeners=[events.append])

    def spec(lane: str, direction: Direction, address: int) -> LaneSpec:
        devices = LaneDeviceSpec(lane, sim.url, 9600, address, "display_relay")
        return LaneSpec(lane, direction, f"cam-{lane.lower()}", "", devices)

    service = LaneService([spec("C1", Direction.IN, 1), spec("C2", Direction.OUT, 2)], context,
                          ListenerSpec("127.0.0.1", 0, "/lpr/zhenshi"), pictures=PictureStore(tmp_path / "pictures"),
                          camera_quiet_s=0.2)  # fmt: skip
    await service.start()
    yield Booth(service, events)
    await service.stop()
    await store.close()


async def test_a_polling_camera_that_goes_quiet_is_reported_and_so_is_its_return(booth: Booth) -> None:
    await booth.camera("C1").poll()
    assert booth.service.health()["C1"].camera_last_seen is not None
    await until(lambda: booth.service.health()["C1"].camera_quiet, within=3)
    assert booth.cameras("C1") == ["摄像机无响应"]
    assert [e.level for e in booth.events if e.device == "camera"] == ["warning"]
    await booth.camera("C1").poll()
    assert booth.cameras("C1") == ["摄像机无响应", "摄像机恢复通讯"]
    assert not booth.service.health()["C1"].camera_quiet


async def test_a_camera_that_only_pushes_is_never_called_quiet(booth: Booth) -> None:
    await booth.camera("C2").push(None)
    await asyncio.sleep(0.6)  # three times the quiet limit
    health = booth.service.health()["C2"]
    assert health.camera_last_seen is not None
    assert not health.camera_quiet
    assert booth.cameras("C2") == []


async def test_old_pictures_go_at_start(tmp_path: Path, sim: DisplayBoardSim) -> None:
    pictures = PictureStore(tmp_path / "pictures")
    old = pictures.save("old-read", b"\xff\xd8\xff\xd9", None, day=pictures.today() - timedelta(days=91))
    recent = pictures.save("recent-read", b"\xff\xd8\xff\xd9", None, day=pictures.today() - timedelta(days=89))
    assert old.full is not None
    assert recent.full is not None
    store = await Store.open(sqlite_url(tmp_path / "booth.db"))
    context = LaneContext(store, TARIFF, RuleSettings(capacity=10))
    devices = LaneDeviceSpec("C1", sim.url, 9600, 1, "display_relay")
    service = LaneService([LaneSpec("C1", Direction.IN, "cam-c1", "", devices)], context,
                          ListenerSpec("127.0.0.1", 0, "/lpr/zhenshi"), pictures=pictures)  # fmt: skip
    assert service.pictures is pictures
    await service.start()
    try:
        await until(lambda: not old.full.exists())  # type: ignore[union-attr]
        assert recent.full.exists()
    finally:
        await service.stop()
        await store.close()


async def test_pictures_being_written_when_the_lanes_stop_reach_the_disk(booth: Booth) -> None:
    assert booth.service.listener is not None
    async with SimCamera(booth.service.listener.url, serialno="cam-c1") as camera:
        await camera.push("京A12345")
    read = booth.service.controllers["C1"].last_read
    assert read is not None
    await booth.service.stop()  # at once: the write may still be on its thread
    assert booth.service.pictures is not None
    assert booth.service.pictures.find(read.read_id).any
