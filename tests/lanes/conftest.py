"""A whole car park on this machine: the lanes service with real HTTP pushes from simulated cameras, real bytes to a
simulated display board (through a pty for lane A1, a socket for the others) and relay board, the real Bolink client
and relay against the Bolink simulator, and a real SQLite store. Four lanes: A1 and A2 in, B1 and B2 out; every kind
of barrier is in use."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from booth_app.bolink.client import Account
from booth_app.bolink.link import Backoff
from booth_app.bolink.service import BolinkOptions, BolinkService
from booth_app.core.decisions import RuleSettings
from booth_app.core.tariff import Rate, Tariff
from booth_app.core.types import Direction, Stay, StayKind, Vehicle, VehicleKind
from booth_app.lanes.bolink_handler import LanesDownlinkHandler
from booth_app.lanes.controller import LaneContext, LaneController, LaneEvent
from booth_app.lanes.devices import LaneDeviceSpec
from booth_app.lanes.service import LaneService, LaneSpec, ListenerSpec
from booth_app.sim.bolink import BolinkSim
from booth_app.sim.camera import SimCamera
from booth_app.sim.display_board import BoardView, DisplayBoardSim
from booth_app.sim.relay import RelayBoardSim
from booth_app.store.engine import sqlite_url
from booth_app.store.store import Store
from tests.helpers import until

UKEY = "SITEUKEY12345678"
ADDRESSES = {"A1": 1, "A2": 2, "B1": 3, "B2": 4}
TARIFF = Tariff(Rate(free_minutes=15, first_minutes=60, first_price=Decimal(5), unit_minutes=30,
                     unit_price=Decimal(2), daily_cap=Decimal(40)))  # fmt: skip


@dataclass
class Site:
    bolink_sim: BolinkSim
    boards: DisplayBoardSim
    relay_board: RelayBoardSim
    store: Store
    bolink: BolinkService
    lanes: LaneService
    cameras: dict[str, SimCamera]
    events: list[LaneEvent] = field(default_factory=list)

    def lane(self, lane_id: str) -> LaneController:
        return self.lanes.controllers[lane_id]

    def board(self, lane_id: str) -> BoardView:
        return self.boards.state(ADDRESSES[lane_id])

    async def car_inside(self, plate: str, *, minutes_ago: int, lane: str = "A1", kind: StayKind = StayKind.TEMPORARY
                         ) -> Stay:  # fmt: skip
        """A car that came in earlier (its entry was recorded then)."""
        stay = Stay(f"{lane}_{plate}_{minutes_ago}", plate, datetime.now(UTC) - timedelta(minutes=minutes_ago), lane,
                    kind)  # fmt: skip
        await self.store.enter(stay)
        return stay

    async def uploaded(self, service: str, order_id: str, *, within: float = 10.0) -> dict:
        await until(lambda: (service, order_id) in self.bolink_sim.processed, within=within)
        return self.bolink_sim.processed[(service, order_id)].data


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with site_running(tmp_path) as running:
        yield running


@contextlib.asynccontextmanager
async def site_running(tmp_path: Path) -> AsyncIterator[Site]:
    """The whole park, for tests that build it inside their own coroutine (the window tests: see their conftest)."""
    async with contextlib.AsyncExitStack() as stack:
        bolink_sim = await stack.enter_async_context(BolinkSim(parks={"1001": UKEY}, poll_timeout=0.5))
        boards = DisplayBoardSim()
        await boards.start()
        board_pty = boards.start_pty()  # lane A1's board is on a pty, the others on a socket: both are serial ports
        stack.push_async_callback(boards.stop)
        relay_board = RelayBoardSim()
        await relay_board.start()
        stack.push_async_callback(relay_board.stop)
        store = await Store.open(sqlite_url(tmp_path / "booth.db"), booth="booth01")
        stack.push_async_callback(store.close)
        await store.put_vehicles([
            Vehicle("京A88888", VehicleKind.MONTH, datetime.now(UTC).date() - timedelta(days=30),
                    datetime.now(UTC).date() + timedelta(days=60)),
            Vehicle("京C44444", VehicleKind.BLACKLIST, datetime.now(UTC).date() - timedelta(days=1)),
        ])  # fmt: skip

        options = BolinkOptions(bolink_sim.sdk_url, bolink_sim.union_api_url,
                                Account(200188, "1001", "booth01", UKEY), timeout_s=2.0, poll_timeout_s=0.5,
                                uploads_per_s=9.0)  # fmt: skip
        bolink = BolinkService(options, store, exit_lanes=["B1", "B2"])
        bolink.relay.idle_s = 0.1
        bolink.relay.backoff = Backoff(first=0.1, cap=0.5)
        rules = RuleSettings(capacity=100)
        context = LaneContext(store, TARIFF, rules, bolink=bolink, offline_policy="cash")

        def spec(lane_id: str, direction: Direction, kind: str, **extra: object) -> LaneSpec:
            port = board_pty if lane_id == "A1" else boards.url
            devices = LaneDeviceSpec(lane_id, port, 9600, ADDRESSES[lane_id], kind, **extra)  # type: ignore[arg-type]
            return LaneSpec(lane_id, direction, f"cam-{lane_id.lower()}", "", devices)

        specs = [
            spec("A1", Direction.IN, "display_relay"),
            spec("A2", Direction.IN, "camera_io", camera_serialno="cam-a2"),
            spec("B1", Direction.OUT, "modbus", modbus_port=relay_board.url, modbus_coil=0),
            spec("B2", Direction.OUT, "display_relay"),
        ]
        lanes = LaneService(specs, context, ListenerSpec("127.0.0.1", 0, "/lpr/zhenshi"))
        await lanes.start()
        stack.push_async_callback(lanes.stop)
        handler = LanesDownlinkHandler(lanes.controllers, client=bolink.client, notices=bolink.notices)
        bolink.attach(handler)
        await bolink.start()
        stack.push_async_callback(bolink.stop)
        await until(lambda: bolink.link.online, within=10)

        assert lanes.listener is not None
        cameras = {}
        for lane_id in ADDRESSES:
            camera = SimCamera(lanes.listener.url, serialno=f"cam-{lane_id.lower()}")
            cameras[lane_id] = await stack.enter_async_context(camera)
        site = Site(bolink_sim, boards, relay_board, store, bolink, lanes, cameras)
        context.listeners.append(site.events.append)
        yield site
