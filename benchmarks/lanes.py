"""A whole car park under traffic: 1,000 cars through 4 lanes, plate push received → gate bytes written.

The site is built in this process the way the lanes tests build it (`tests/lanes/conftest.py`): the lanes service and
its camera listener, a real SQLite store (WAL, synchronous=FULL) in a temporary folder under --dir, the Bolink service
(outbox relay, downlink long poll, lane QR codes; the app's default timings) against the Bolink simulator, a display
board simulator (all four boards on one line, or --display-lines per-lane), a Modbus relay-board simulator, and a
simulated camera per lane pushing over HTTP. Lanes: A1 in (display-board relay), A2 in (camera IO), B1 out (Modbus
relay board), B2 out (display-board relay). Everything, simulators and cameras included, runs on one event loop.

Traffic: a car arrives every 2/--rate s, enters at A1 or A2 and leaves at B1 or B2 5–60 s later; reads are planned at
least 1/--rate s apart and a limiter keeps any 1 s to at most --rate pushes. A car takes whichever lane of its
direction is free (--lanes random: the lane drawn, whatever waits there). Each camera pushes one read at a time and
waits for the answer, as the firmware does. Month-card and temporary cars leave free (the tariff's free minutes cover
the run), so the exit gate opens on the push. --cash-share of the cars owe money (their entry is pushed as a camera's
stored offline read from 8 h ago); the cashier takes cash (`LaneController.pay_cash`) --cash-delay s after the exit
read. Those are reported apart.

Measured in this process with time.perf_counter, without changing the app:
* push received: the lanes service's `on_read`, which the camera listener calls right after parsing the push, is
  wrapped before `start()` (the listener is given the instance attribute as it is then);
* gate bytes written: display-board relay lanes, when the serial link's writer thread has written the 0x0F relay-on
  frame to the port (`SerialLink._write_now` returned: the OS took the bytes); the Modbus lane, when pymodbus handed
  the write-coil-on frame to the socket (`ctx.low_level_send` returned); the camera-IO lane, when the listener took
  the queued ivs_ioctrl pulse into the HTTP answer (the answer's bytes follow after JSON encoding and aiohttp's write).
Also: what the camera sees (push sent → answer received), event-loop lag (a 5 ms ticker), durable writes
(`Store.enter` / `Store.leave`), garbage-collector pauses, the Bolink uploads, and for every read the time spent in
each step before its gate bytes (store calls split into waiting for the store's worker thread and work on it, display
commands, the gate command) with the ten slowest reads in detail, to show where the time goes.

The simulators answer at once; --display-baud B emulates the display line's RS485 time (a reply arrives only once the
command's and the reply's bytes would have crossed the line at B baud, 10 bits a byte). --gc-freeze calls gc.freeze()
once the site is up, so the garbage collector never again scans what start-up made.

Run: `uv run python benchmarks/lanes.py [--cars 1000] [--rate 10] [--dir DIR] [--gc-freeze] [--display-baud 9600]`
(about 4½ minutes; --dir should be on the disk the booth will use; see --help for the rest).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import inspect
import itertools
import math
import os
import platform
import random
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from booth_app.bolink.client import Account
from booth_app.bolink.service import BolinkOptions, BolinkService
from booth_app.core.decisions import RuleSettings
from booth_app.core.plates import normalise
from booth_app.core.tariff import Rate, Tariff
from booth_app.core.types import Direction, Vehicle, VehicleKind
from booth_app.lanes.bolink_handler import LanesDownlinkHandler
from booth_app.lanes.controller import LaneContext, LaneEvent
from booth_app.lanes.devices import LaneDeviceSpec
from booth_app.lanes.service import LaneService, LaneSpec, ListenerSpec
from booth_app.sim.bolink import BolinkSim
from booth_app.sim.camera import SimCamera
from booth_app.sim.display_board import DisplayBoardSim
from booth_app.sim.relay import RelayBoardSim
from booth_app.store.engine import sqlite_url
from booth_app.store.store import Store
from drivers.barrier import ModbusBarrier
from drivers.display_0x64 import RELAY_OFF, Cmd, FrameDecoder
from drivers.serial_link import SerialLink
from drivers.zhenshi import PlatePush

UKEY = "SITEUKEY12345678"
ADDRESSES = {"A1": 1, "A2": 2, "B1": 3, "B2": 4}
KINDS = {"A1": "display_relay", "A2": "camera_io", "B1": "modbus", "B2": "display_relay"}
ENTRY_LANES = ("A1", "A2")
EXIT_LANES = ("B1", "B2")
# Free minutes cover any run; a cash car's entry is 8 h old, so it owes the first hour and 14 half hours.
TARIFF = Tariff(Rate(free_minutes=360, first_minutes=60, first_price=Decimal(5), unit_minutes=30,
                     unit_price=Decimal(2), daily_cap=Decimal(40)))  # fmt: skip
CASH_ENTRY_AGE_S = 8 * 3600
PLATE_LETTERS = {"cash": "X", "month": "M", "temporary": "T"}
BUDGET_MS = 20.0
TICK_S = 0.005


# ---------------------------------------------------------------------------------------------------- records
# While the traffic runs, steps and store calls are kept as plain tuples of strings and floats, which the garbage
# collector stops tracking: the benchmark's own records must not push it into full collections the app would not make.
# The report turns them into these named tuples.


class Step(NamedTuple):
    """One awaited call made while handling a read: a store method, a display command, the gate command."""

    name: str
    start: float
    end: float


class StoreCall(NamedTuple):
    """One Store call seen from the loop and from the store's worker thread."""

    name: str
    called: float  # handed to the worker's queue (loop)
    started: float  # the worker began it
    finished: float  # the worker finished it (committed and fsynced, for a write)
    resumed: float  # the awaiting coroutine ran again (loop)


@dataclass
class Read:
    """One plate read (or one cash payment) and its times, all time.perf_counter()."""

    car: int
    lane: str
    what: str  # entry | exit | cash entry | cash exit | cash
    plate: str
    scheduled: float = 0.0  # seconds after the start
    pushed: float = math.nan  # the camera sent it
    received: float = math.nan  # the listener handed it to the lane (for "cash": pay_cash called)
    gate_call: float = math.nan  # the gate command reached the driver's port (loop side)
    gate: float = math.nan  # the gate bytes were written
    decided: float = math.nan  # the lane finished handling it
    answered: float = math.nan  # the camera had the answer
    steps: list[Step] = field(default_factory=list)  # plain tuples until the report
    store_calls: list[StoreCall] = field(default_factory=list)  # plain tuples until the report

    @property
    def kind(self) -> str:
        return KINDS[self.lane]

    @property
    def latency_ms(self) -> float:
        return (self.gate - self.received) * 1000


CURRENT: contextvars.ContextVar[Read | None] = contextvars.ContextVar("current_read", default=None)
STORE_METHOD: contextvars.ContextVar[str] = contextvars.ContextVar("store_method", default="?")


@dataclass
class Car:
    number: int
    plate: str
    kind: str  # month | temporary | cash
    entry: Read
    exit: Read
    payment: Read | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Probe:
    """Everything the instrumentation collects."""

    expected: dict[tuple[str, str], Read] = field(default_factory=dict)  # (lane, plate) → the read being pushed
    unexpected_reads: int = 0
    store_calls: list[StoreCall] = field(default_factory=list)  # every call, the relay's included (tuples till then)
    durable: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # enter/leave, ms
    ticks: list[tuple[float, float]] = field(default_factory=list)  # (woke at, lag ms)
    gc_pauses: list[tuple[float, float, int]] = field(default_factory=list)  # (start, end, generation)
    events: Counter[str] = field(default_factory=Counter)
    push_errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------- statistics


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else math.nan


def summary(samples: Sequence[float]) -> str:
    if not samples:
        return "| 0 | – | – | – | – | – |"
    over = sum(1 for s in samples if s > BUDGET_MS)
    return (
        f"| {len(samples)} | {percentile(samples, 0.5):.2f} ms | {percentile(samples, 0.95):.2f} ms "
        f"| {percentile(samples, 0.99):.2f} ms | {max(samples):.2f} ms | {over} |"
    )


def stat_row(label: str, samples: Sequence[float]) -> str:
    if not samples:
        return f"| {label} | 0 | – | – | – |"
    return (
        f"| {label} | {len(samples)} | {percentile(samples, 0.5):.2f} ms | {percentile(samples, 0.99):.2f} ms "
        f"| {max(samples):.2f} ms |"
    )


def busiest(times: Sequence[float], period: float) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - period:
            start += 1
        best = max(best, end - start + 1)
    return best


# ---------------------------------------------------------------------------------------------------- instrumentation


def _timed(original: Callable[..., Awaitable[Any]], label: str) -> Callable[..., Awaitable[Any]]:
    """`original` recording itself as a Step of the read being handled (if any)."""

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        record = CURRENT.get()
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            if record is not None:
                record.steps.append((label, start, time.perf_counter()))  # type: ignore[arg-type]

    return wrapper


def instrument_store(store: Store, probe: Probe) -> None:
    """Name every Store call, time the durable writes, and split each call into queueing and work on the worker."""
    for name, _ in inspect.getmembers(type(store), inspect.iscoroutinefunction):
        if name.startswith("_") or name in ("open", "close"):
            continue

        def named(original: Callable[..., Awaitable[Any]], name: str) -> Callable[..., Awaitable[Any]]:
            timed = _timed(original, f"store.{name}")

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                token = STORE_METHOD.set(name)
                start = time.perf_counter()
                try:
                    return await timed(*args, **kwargs)
                finally:
                    STORE_METHOD.reset(token)
                    if name in ("enter", "leave"):
                        probe.durable[name].append((time.perf_counter() - start) * 1000)

            return wrapper

        setattr(store, name, named(getattr(store, name), name))

    original_call = store._call

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        marks = [math.nan, math.nan]

        def on_worker() -> Any:
            marks[0] = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                marks[1] = time.perf_counter()

        record = CURRENT.get()
        called = time.perf_counter()
        try:
            return await original_call(on_worker)
        finally:
            seen = (STORE_METHOD.get(), called, marks[0], marks[1], time.perf_counter())
            probe.store_calls.append(seen)  # type: ignore[arg-type]
            if record is not None:
                record.store_calls.append(seen)  # type: ignore[arg-type]

    store._call = call  # type: ignore[method-assign]


def _relay_on(frame_bytes: bytes, decoder: FrameDecoder) -> bool:
    return any(f.cmd == Cmd.RELAY and f.data[-1:] != bytes([RELAY_OFF]) for f in decoder.feed(frame_bytes))


def instrument_serial_link(link: SerialLink, baud: int) -> None:
    """Gate bytes of display-board relay lanes: the relay-on frame written by the link's writer thread.

    With `baud`, the line's time is emulated: a reply reaches the app only once the command's bytes and its own would
    have crossed an RS485 line at that rate (10 bits a byte); the simulator itself answers at once.
    """
    original_write = link.write
    original_write_now = link._write_now
    original_deliver = link._deliver
    decoder = FrameDecoder()
    waiting: deque[tuple[bytes, Read]] = deque()  # relay frames queued to the writer thread, in order
    line_free_at = [0.0]  # when the last command's bytes have left (emulated line)

    async def write(data: bytes) -> None:
        record = CURRENT.get()
        entry: tuple[bytes, Read] | None = None
        if record is not None and math.isnan(record.gate_call) and _relay_on(data, decoder):
            record.gate_call = time.perf_counter()
            entry = (bytes(data), record)
            waiting.append(entry)
        try:
            await original_write(data)
        except BaseException:
            if entry is not None and entry in waiting:
                waiting.remove(entry)
            raise
        if baud:
            line_free_at[0] = max(time.perf_counter(), line_free_at[0]) + len(data) * 10 / baud

    def write_now(data: bytes) -> Any:  # on the writer thread
        result = original_write_now(data)
        written = time.perf_counter()
        if waiting and waiting[0][0] == data:
            _, record = waiting.popleft()
            if result is None:
                record.gate = written
        return result

    def deliver(data: bytes) -> None:  # on the loop
        delay = max(0.0, line_free_at[0] - time.perf_counter()) + len(data) * 10 / baud
        asyncio.get_running_loop().call_later(delay, original_deliver, data)

    link.write = write  # type: ignore[method-assign]
    link._write_now = write_now  # type: ignore[method-assign]
    if baud:
        link._deliver = deliver  # type: ignore[method-assign]


def instrument_modbus(gate: ModbusBarrier) -> None:
    """Gate bytes of the Modbus lane: pymodbus handed the write-single-coil ON frame (FF 00) to the socket."""

    def hook(client: Any) -> Any:
        ctx = client.ctx
        original_send = ctx.low_level_send

        def send(data: bytes, addr: Any = None) -> None:
            original_send(data, addr=addr)
            sent = time.perf_counter()
            record = CURRENT.get()
            if record is not None and math.isnan(record.gate) and data[1:2] == b"\x05" and data[4:6] == b"\xff\x00":
                record.gate_call = record.gate = sent

        ctx.low_level_send = send
        return client

    if gate._client is not None:  # opened by the service's start
        hook(gate._client)
    original_new = gate._new_client
    gate._new_client = lambda on_link: hook(original_new(on_link))  # type: ignore[method-assign]


def instrument_listener(lanes: LaneService, probe: Probe) -> None:
    """Push received: wrap `on_read` before `start()` (the listener is given the attribute as it is then)."""
    original = lanes.on_read

    async def on_read(lane_id: str, push: PlatePush) -> Any:
        received = time.perf_counter()
        record = probe.expected.pop((lane_id, normalise(push.plate or "")), None)
        if record is None:
            probe.unexpected_reads += 1
        else:
            record.received = received
        CURRENT.set(record)  # stays set in the request's task: the camera-IO pulse is taken into the answer after this
        try:
            return await original(lane_id, push)
        finally:
            if record is not None:
                record.decided = time.perf_counter()

    lanes.on_read = on_read  # type: ignore[method-assign]


def instrument_camera_io(lanes: LaneService) -> None:
    """Gate "bytes" of a camera-IO lane: the queued ivs_ioctrl pulse taken into the push's HTTP answer."""
    assert lanes.listener is not None
    listener = lanes.listener
    original = listener._pending
    assert original is not None

    def pending(serialno: str) -> Any:
        commands = original(serialno)
        if commands:
            record = CURRENT.get()
            if record is not None and math.isnan(record.gate):
                record.gate_call = record.gate = time.perf_counter()
        return commands

    listener._pending = pending


def instrument_lanes(lanes: LaneService) -> None:
    for controller in lanes.controllers.values():
        for name in ("show", "speak", "show_spaces", "show_pay_qr", "hide_pay_qr"):
            setattr(controller.display, name, _timed(getattr(controller.display, name), f"display.{name}"))
        setattr(controller.gate, "open", _timed(controller.gate.open, "gate.open"))  # noqa: B010 - an instance patch


async def watch_the_loop(probe: Probe) -> None:
    # A 5 ms ticker: how late it wakes says whether anything holds the event loop.
    while True:
        t0 = time.perf_counter()
        await asyncio.sleep(TICK_S)
        woke = time.perf_counter()
        probe.ticks.append((woke, (woke - t0 - TICK_S) * 1000))


def watch_gc(probe: Probe) -> Callable[[str, dict[str, Any]], None]:
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            probe.gc_pauses.append((started[0], time.perf_counter(), int(info.get("generation", -1))))

    gc.callbacks.append(callback)
    return callback


# ---------------------------------------------------------------------------------------------------- the site


@dataclass
class Site:
    bolink_sim: BolinkSim
    boards: list[DisplayBoardSim]
    relay_board: RelayBoardSim
    store: Store
    bolink: BolinkService
    lanes: LaneService
    cameras: dict[str, SimCamera]


@contextlib.asynccontextmanager
async def car_park(
    folder: Path,
    probe: Probe,
    month_plates: Iterable[str],
    capacity: int,
    *,
    display_baud: int = 0,
    line_per_lane: bool = False,
) -> AsyncIterator[Site]:
    """The conftest's site, with the instrumentation in place before the first read.

    `line_per_lane`: each lane's board on its own port (as in booth.example.toml) instead of all four on one line.
    """
    async with contextlib.AsyncExitStack() as stack:
        bolink_sim = await stack.enter_async_context(BolinkSim(parks={"1001": UKEY}))
        display_urls: dict[str, str] = {}
        board_sims: list[DisplayBoardSim] = []
        for lane_id in ADDRESSES:
            if line_per_lane or not board_sims:
                board_sims.append(DisplayBoardSim())
                await board_sims[-1].start()
                stack.push_async_callback(board_sims[-1].stop)
            display_urls[lane_id] = board_sims[-1].url
        relay_board = RelayBoardSim()
        await relay_board.start()
        stack.push_async_callback(relay_board.stop)
        store = await Store.open(sqlite_url(folder / "booth.db"), booth="booth01")
        stack.push_async_callback(store.close)
        today = datetime.now(UTC).date()
        await store.put_vehicles(
            Vehicle(plate, VehicleKind.MONTH, today - timedelta(days=30), today + timedelta(days=60))
            for plate in month_plates
        )
        instrument_store(store, probe)

        # The app's defaults (30 s long poll, relay idle 1 s); the conftest shortens them only to keep tests quick.
        options = BolinkOptions(bolink_sim.sdk_url, bolink_sim.union_api_url, Account(200188, "1001", "booth01", UKEY))
        bolink = BolinkService(options, store, exit_lanes=list(EXIT_LANES))
        context = LaneContext(store, TARIFF, RuleSettings(capacity=capacity), bolink=bolink, offline_policy="cash")

        def spec(lane_id: str, direction: Direction, kind: str, **extra: object) -> LaneSpec:
            devices = LaneDeviceSpec(lane_id, display_urls[lane_id], 9600, ADDRESSES[lane_id], kind, **extra)  # type: ignore[arg-type]
            return LaneSpec(lane_id, direction, f"cam-{lane_id.lower()}", "", devices)

        specs = [
            spec("A1", Direction.IN, "display_relay"),
            spec("A2", Direction.IN, "camera_io", camera_serialno="cam-a2"),
            spec("B1", Direction.OUT, "modbus", modbus_port=relay_board.url, modbus_coil=0),
            spec("B2", Direction.OUT, "display_relay"),
        ]
        lanes = LaneService(specs, context, ListenerSpec("127.0.0.1", 0, "/lpr/zhenshi"))
        instrument_listener(lanes, probe)
        await lanes.start()
        stack.push_async_callback(lanes.stop)
        assert lanes.devices is not None
        assert lanes.listener is not None
        for bus in lanes.devices.buses.values():
            instrument_serial_link(bus.link, display_baud)
        gate = lanes.devices.lane("B1").gate
        assert isinstance(gate, ModbusBarrier)
        instrument_modbus(gate)
        instrument_camera_io(lanes)
        instrument_lanes(lanes)
        context.listeners.append(lambda event: count_event(probe, event))

        bolink.attach(LanesDownlinkHandler(lanes.controllers, client=bolink.client, notices=bolink.notices))
        await bolink.start()
        stack.push_async_callback(bolink.stop)
        await until(lambda: bolink.link.online, within=10.0)

        cameras = {}
        for lane_id in ADDRESSES:
            camera = SimCamera(lanes.listener.url, serialno=f"cam-{lane_id.lower()}")
            cameras[lane_id] = await stack.enter_async_context(camera)
        yield Site(bolink_sim, board_sims, relay_board, store, bolink, lanes, cameras)


async def until(condition: Callable[[], object], *, within: float, every: float = 0.02) -> bool:
    """Wait until `condition()` is true (True) or `within` seconds have passed (False)."""
    deadline = time.perf_counter() + within
    while True:
        if condition():
            return True
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(every)


def count_event(probe: Probe, event: LaneEvent) -> None:
    probe.events[event.kind if event.kind != "decision" else f"decision {event.text.split(': ')[-1]}"] += 1


# ---------------------------------------------------------------------------------------------------- the traffic


def plan(count: int, rate: float, cash_share: float, month_share: float, seed: int) -> list[Car]:
    """Cars arriving every 2/rate s, each leaving 5–60 s later; reads then spaced at least 1/rate s apart."""
    rng = random.Random(seed)
    cars: list[Car] = []
    wanted: list[tuple[float, Read]] = []
    for i in range(count):
        roll = rng.random()
        kind = "cash" if roll < cash_share else "month" if roll < cash_share + month_share else "temporary"
        plate = f"京{PLATE_LETTERS[kind]}{i:05d}"
        entry = Read(i, rng.choice(ENTRY_LANES), "cash entry" if kind == "cash" else "entry", plate)
        leave = Read(i, rng.choice(EXIT_LANES), "cash exit" if kind == "cash" else "exit", plate)
        car = Car(i, plate, kind, entry, leave)
        if kind == "cash":
            car.payment = Read(i, leave.lane, "cash", plate)
        cars.append(car)
        arrive = i * 2 / rate
        wanted += [(arrive, entry), (arrive + rng.uniform(5.0, 60.0), leave)]
    wanted.sort(key=lambda pair: pair[0])
    slot = -math.inf
    for at, read in wanted:
        slot = max(at, slot + 1 / rate)
        read.scheduled = slot
    return cars


class Limiter:
    """At most `per_second` pushes in any 1 s, whatever the lanes' delays did to the schedule."""

    def __init__(self, per_second: float) -> None:
        self.most = max(1, math.floor(per_second))
        self.times: deque[float] = deque()

    async def acquire(self) -> None:
        while True:
            now = time.perf_counter()
            while self.times and now - self.times[0] >= 1.0:
                self.times.popleft()
            if len(self.times) < self.most:
                self.times.append(now)
                return
            await asyncio.sleep(self.times[0] + 1.0 - now)


class Traffic:
    """Releases each read at its time into a queue; each lane's camera takes the next read when it is free.

    `choice="free"`: a driver takes whichever lane of the right direction has no car at it (one queue per direction);
    `choice="random"`: the lane drawn in the plan, whatever waits there (one queue per lane).
    """

    def __init__(self, site: Site, probe: Probe, cars: list[Car], rate: float, choice: str, cash_delay: float) -> None:
        self.site = site
        self.probe = probe
        self.cars = cars
        self.limiter = Limiter(rate)
        self.choice = choice
        self.cash_delay = cash_delay
        self.queues: dict[str, asyncio.Queue[Read]] = {}
        self.started = 0.0

    def queue_of(self, read: Read) -> asyncio.Queue[Read]:
        key = read.lane if self.choice == "random" else "in" if read.lane in ENTRY_LANES else "out"
        return self.queues.setdefault(key, asyncio.Queue())

    async def run(self) -> None:
        self.started = time.perf_counter()
        reads = [read for car in self.cars for read in (car.entry, car.exit)]
        queues = {lane: self.queue_of(Read(0, lane, "", "")) for lane in ADDRESSES}
        cameras = [asyncio.create_task(self.camera(lane, queue)) for lane, queue in queues.items()]
        try:
            await asyncio.gather(*(self.release(read) for read in reads))
            for queue in set(queues.values()):
                await queue.join()
        finally:
            for task in cameras:
                task.cancel()
            await asyncio.gather(*cameras, return_exceptions=True)

    async def release(self, read: Read) -> None:
        await asyncio.sleep(max(0.0, self.started + read.scheduled - time.perf_counter()))
        car = self.cars[read.car]
        if read is car.exit:
            await car.entered.wait()
        await self.queue_of(read).put(read)

    async def camera(self, lane: str, queue: asyncio.Queue[Read]) -> None:
        """One camera: one read at a time, the next only once the last is answered (and paid, at an exit)."""
        while True:
            read = await queue.get()
            try:
                await self.push(lane, read)
            finally:
                queue.task_done()

    async def push(self, lane: str, read: Read) -> None:
        car = self.cars[read.car]
        read.lane = lane
        await self.limiter.acquire()
        offline = read.what == "cash entry"
        self.probe.expected[lane, read.plate] = read
        read.pushed = time.perf_counter()
        try:
            await self.site.cameras[lane].push(read.plate, offline=offline,
                                               at=time.time() - CASH_ENTRY_AGE_S if offline else None)  # fmt: skip
        except Exception as exc:
            self.probe.push_errors.append(f"{lane} {read.plate}: {exc!r}")
        read.answered = time.perf_counter()
        self.probe.expected.pop((lane, read.plate), None)
        if read is car.entry:
            car.entered.set()
        elif car.payment is not None:
            await asyncio.sleep(self.cash_delay)  # the cashier takes the money; the car waits at the gate
            payment = car.payment
            payment.lane = lane
            token = CURRENT.set(payment)
            payment.received = time.perf_counter()
            try:
                await self.site.lanes.controllers[lane].pay_cash(operator="bench")
            finally:
                payment.decided = time.perf_counter()
                CURRENT.reset(token)


# ---------------------------------------------------------------------------------------------------- the report


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {cores} cores ({model}), Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}"
    )


def source_state() -> str:
    """The commit measured, and whether the working tree had changes (other people edit while benchmarks run)."""
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                                   cwd=Path(__file__).parent, timeout=10, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "source: unknown (no git)"
    return f"source: {described}"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


TOP_STEPS = ("store.", "display.", "gate.open")


def breakdown(reads: Sequence[Read]) -> dict[str, float]:
    """Milliseconds of one read before its gate bytes, by step; "other" is what no step covers."""
    parts: dict[str, float] = defaultdict(float)
    for read in reads:
        covered = 0.0
        for step in read.steps:
            if not step.name.startswith(TOP_STEPS) or step.start >= read.gate:
                continue
            span = (min(step.end, read.gate) - step.start) * 1000
            parts[step.name] += span
            covered += span
        for call in read.store_calls:
            if call.called >= read.gate:
                continue
            parts["  store: waiting for the worker thread"] += (call.started - call.called) * 1000
            parts["  store: on the worker (SQL, commit, fsync)"] += (call.finished - call.started) * 1000
            parts["  store: back on the loop"] += (min(call.resumed, read.gate) - call.finished) * 1000
        parts["other (listener → lane, decide, loop scheduling)"] += read.latency_ms - covered
    return {name: total / len(reads) for name, total in parts.items()}


def worker_busy_with(calls: Iterable[StoreCall], waits: Iterable[StoreCall]) -> dict[str, float]:
    """Milliseconds the store's worker spent on each method while the given calls were waiting for it."""
    busy: dict[str, float] = defaultdict(float)
    ordered = sorted(calls, key=lambda c: c.started)
    for wait in waits:
        for other in ordered:
            if other.started >= wait.started:
                break
            overlap = min(other.finished, wait.started) - max(other.started, wait.called)
            if overlap > 0 and other != wait:
                busy[other.name] += overlap * 1000
    return busy


def report(site: Site, probe: Probe, cars: list[Car], started: float, ended: float, extra: dict[str, Any]) -> None:
    probe.store_calls = [StoreCall._make(call) for call in probe.store_calls]
    for car in cars:
        for read in (car.entry, car.exit, car.payment):
            if read is not None:
                read.steps = [Step._make(step) for step in read.steps]
                read.store_calls = [StoreCall._make(call) for call in read.store_calls]
    reads = [read for car in cars for read in (car.entry, car.exit)]
    free = [r for r in reads if r.what in ("entry", "exit")]
    measured = [r for r in free if not math.isnan(r.gate) and not math.isnan(r.received)]
    pushes = [r.pushed for r in reads if not math.isnan(r.pushed)]
    duration = ended - started

    print("\n## Traffic\n")
    print("| figure | value |\n| --- | --- |")
    print(f"| cars (month card / temporary / cash) | {len(cars)} ({sum(c.kind == 'month' for c in cars)} / "
          f"{sum(c.kind == 'temporary' for c in cars)} / {sum(c.kind == 'cash' for c in cars)}) |")  # fmt: skip
    print(f"| plate reads pushed | {len(pushes)} in {duration:.1f} s ({len(pushes) / duration:.2f}/s) |")
    print(f"| busiest 1 s / 10 s of pushes | {busiest(pushes, 1.0)} / {busiest(pushes, 10.0)} |")
    completed = sum(1 for c in cars if not math.isnan((c.payment or c.exit).gate))
    print(f"| cars completed (exit gate opened) | {completed} |")
    print(f"| free reads that opened no gate | {sum(1 for r in free if math.isnan(r.gate))} |")
    print(f"| push errors / reads not recognised | {len(probe.push_errors)} / {probe.unexpected_reads} |")
    for lane in ADDRESSES:
        late = [(r.pushed - started - r.scheduled) * 1000 for r in reads if r.lane == lane and not math.isnan(r.pushed)]
        print(f"| {lane}: reads; pushed later than planned (lanes busy, rate limit) p50 / max | {len(late)}; "
              f"{percentile(late, 0.5):.0f} ms / {max(late, default=math.nan):.0f} ms |")  # fmt: skip
    print(f"| lane events | {', '.join(f'{k} {v}' for k, v in sorted(probe.events.items()))} |")
    print(f"| this process's CPU during the traffic | {extra['cpu_cores']:.2f} cores |")
    print(f"| objects the garbage collector tracks, before / after the traffic | {extra['objects_before']:,} / "
          f"{extra['objects_after']:,} |")  # fmt: skip
    growth = ", ".join(f"{name} {count:+,}" for name, count in extra["object_growth"])
    print(f"| ... most of those made during the traffic, by type | {growth} |")

    print("\n## Plate push received → gate bytes written\n")
    print("| lanes | reads | p50 | p95 | p99 | max | over 20 ms |\n| --- | --- | --- | --- | --- | --- | --- |")
    for lane in ADDRESSES:
        samples = [r.latency_ms for r in measured if r.lane == lane]
        direction = "entry" if lane in ENTRY_LANES else "exit"
        print(f"| {lane} {KINDS[lane]} ({direction}) {summary(samples)}")
    for kind in ("display_relay", "modbus", "camera_io"):
        print(f"| all {kind} {summary([r.latency_ms for r in measured if r.kind == kind])}")
    print(f"| **all lanes** {summary([r.latency_ms for r in measured])}")
    cash_entries = [c.entry for c in cars if c.kind == "cash" and not math.isnan(c.entry.gate)]
    payments = [c.payment for c in cars if c.payment is not None and not math.isnan(c.payment.gate)]
    print(f"| cash cars' entries (offline reads) {summary([r.latency_ms for r in cash_entries])}")
    print(f"| cash: `pay_cash` called → gate bytes {summary([r.latency_ms for r in payments])}")

    print("\n## Seen from the camera: push sent → answer received\n")
    print("| lanes | reads | p50 | p95 | p99 | max | over 20 ms |\n| --- | --- | --- | --- | --- | --- | --- |")
    for lane in ADDRESSES:
        samples = [(r.answered - r.pushed) * 1000 for r in reads if r.lane == lane and not math.isnan(r.received)]
        print(f"| {lane} {KINDS[lane]} {summary(samples)}")

    print("\n## Event loop, store, garbage collector\n")
    print("| figure | n | p50 | p99 | max |\n| --- | --- | --- | --- | --- |")
    lags = [lag for at, lag in probe.ticks if started <= at <= ended]
    print(stat_row("event-loop lag (5 ms ticker)", lags))
    for name in ("enter", "leave"):
        print(stat_row(f"durable write `Store.{name}` (awaited, loop side)", probe.durable[name]))
    for name in ("enter", "leave"):
        work = [(c.finished - c.started) * 1000 for c in probe.store_calls if c.name == name]
        print(stat_row(f"`Store.{name}` on the worker (SQL, commit, fsync)", work))
    in_run = [c for c in probe.store_calls if started <= c.called <= ended]
    worker = sum(c.finished - c.started for c in in_run)
    print(f"| store worker busy (all callers, relay included) | {len(in_run)} calls | – | – | "
          f"{worker / duration * 100:.0f} % of the run |")  # fmt: skip
    for generation in (0, 1, 2):
        pauses = [(e - s) * 1000 for s, e, g in probe.gc_pauses if started <= s <= ended and g == generation]
        print(stat_row(f"garbage-collector pauses, generation {generation}", pauses))

    print("\n## Bolink\n")
    sim = site.bolink_sim
    print("| figure | value |\n| --- | --- |")
    reports = sum(1 for service, _ in sim.processed if service in ("in_park", "out_park"))
    print(f"| in_park / out_park accepted as new by the simulator | {reports} of {2 * len(cars)} |")
    print(f"| outbox backlog 1 s after the last car was done | {extra['backlog_at_end']} |")
    print(f"| backlog after waiting up to {extra['waited_for']:.0f} s | {extra['backlog_after']} "
          f"(drained {extra['drained_after']}) |")  # fmt: skip
    print(f"| duplicates (数据已处理过) / refusals | {sim.duplicates} / {dict(sim.refusals) or 0} |")
    arrivals = sorted((u.at, u.service) for u in sim.uploads)
    crowded: Counter[str] = Counter()
    with_lane_request = 0  # the second also held a request the lanes sent themselves (not paced by the relay)
    for i, (at, _) in enumerate(arrivals):
        window = [service for t, service in arrivals[max(0, i - 30) : i + 1] if t > at - 1.0]
        if len(window) >= 10:
            crowded.update(window[-1:])
            with_lane_request += any(service not in ("in_park", "out_park") for service in window)
    print(f"| upload.do requests (all services) / busiest 1 s / busiest 10 s | {len(arrivals)} / "
          f"{busiest([t for t, _ in arrivals], 1.0)} / {busiest([t for t, _ in arrivals], 10.0)} |")  # fmt: skip
    print(f"| uploads arriving as the 10th or later within 1 s (simulator's too_fast {sim.too_fast}) | "
          f"{sum(crowded.values())}: {', '.join(f'{k} {v}' for k, v in crowded.most_common()) or '–'} |")  # fmt: skip
    print(f"| ... of which in a second that also held a request from a lane (pay_status…) | {with_lane_request} |")

    print("\n## Where the time goes (mean ms before the gate bytes, free reads)\n")
    slowest = sorted(measured, key=lambda r: r.latency_ms)[-max(1, len(measured) // 100) :]
    groups = {
        "all": measured,
        "display_relay": [r for r in measured if r.kind == "display_relay"],
        "modbus": [r for r in measured if r.kind == "modbus"],
        "camera_io": [r for r in measured if r.kind == "camera_io"],
        f"slowest 1 % ({len(slowest)})": slowest,
    }
    tables = {name: breakdown(group) for name, group in groups.items() if group}
    names = sorted({n for table in tables.values() for n in table}, key=_step_order)
    print("| step | " + " | ".join(tables) + " |\n| --- |" + " --- |" * len(tables))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{table.get(name, 0.0):.2f}" for table in tables.values()) + " |")
    print("| **total** | " + " | ".join(f"{_mean([r.latency_ms for r in g]):.2f}" for g in groups.values() if g) + " |")

    waits = [c for r in slowest for c in r.store_calls if c.started - c.called > 0.001]
    busy = worker_busy_with(probe.store_calls, waits)
    if busy:
        total = sum(busy.values())
        top = sorted(busy.items(), key=lambda item: -item[1])[:6]
        print(f"\nWhile the slowest reads waited for the store's worker ({total:.0f} ms in all), it was running: "
              + ", ".join(f"{name} {ms:.0f} ms" for name, ms in top))  # fmt: skip
    print("\nThe slowest reads:\n")
    print("| lane | what | push → gate | store waits | worst loop lag | gc in it | steps (ms after push received) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for read in slowest[::-1][:10]:
        lag = max((lag for at, lag in probe.ticks if read.received <= at <= read.gate + TICK_S), default=0.0)
        gcs = sum((min(e, read.gate) - max(s, read.received)) * 1000 for s, e, _ in probe.gc_pauses
                  if e > read.received and s < read.gate)  # fmt: skip
        waited = sum((c.started - c.called) * 1000 for c in read.store_calls if c.called < read.gate)
        steps = ", ".join(
            f"{s.name.split('.', 1)[-1]} {(s.start - read.received) * 1000:.1f}–{(s.end - read.received) * 1000:.1f}"
            for s in read.steps
            if s.start < read.gate
        )
        print(f"| {read.lane} | {read.what} | {read.latency_ms:.1f} ms | {waited:.1f} ms | {lag:.1f} ms | "
              f"{gcs:.1f} ms | {steps} |")  # fmt: skip


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _step_order(name: str) -> tuple[int, str]:
    order = ["store.vehicle", "store.inside", "store.stays_inside", "store.count_inside", "store.enter", "store.leave"]
    if name in order:
        return (order.index(name), name)
    if name.startswith("  store"):
        return (10, name)
    if name.startswith("display"):
        return (20, name)
    if name.startswith("gate"):
        return (30, name)
    if name.startswith("store"):
        return (9, name)
    return (40, name)


# ---------------------------------------------------------------------------------------------------- main


async def measure(folder: Path, args: argparse.Namespace) -> None:
    print(f"# Lanes under traffic ({Path(__file__).name})\n")
    print(f"{machine()}; {source_state()}; load average before: {load()}")
    freeze = "after start-up" if args.gc_freeze else "not used"
    line = f"{args.display_lines}, " + (
        f"emulated at {args.display_baud} baud" if args.display_baud else "no line time"
    )
    print(f"{args.cars} cars, {args.rate:g} reads/s at most, lanes chosen: {args.lanes},"
          f" cash share {args.cash_share:g}, month-card share {args.month_share:g}, gc.freeze() {freeze},"
          f" display lines {line}, seed {args.seed}, database in {folder}")  # fmt: skip
    cars = plan(args.cars, args.rate, args.cash_share, args.month_share, args.seed)
    probe = Probe()
    month_plates = [car.plate for car in cars if car.kind == "month"]
    gc_callback = watch_gc(probe)
    try:
        async with car_park(folder, probe, month_plates, args.cars + 100, display_baud=args.display_baud,
                            line_per_lane=args.display_lines == "per-lane") as site:  # fmt: skip
            types_before = Counter(type(o).__name__ for o in gc.get_objects())
            extra: dict[str, Any] = {"objects_before": types_before.total()}
            if args.gc_freeze:
                gc.freeze()  # what start-up made is never scanned again; only what the traffic makes is
            ticker = asyncio.create_task(watch_the_loop(probe))
            traffic = Traffic(site, probe, cars, args.rate, args.lanes, args.cash_delay)
            progress = asyncio.create_task(show_progress(site, cars, time.perf_counter()))
            cpu = time.process_time()
            await traffic.run()
            started, ended = traffic.started, time.perf_counter()
            extra["cpu_cores"] = (time.process_time() - cpu) / (ended - started)
            types_after = Counter(type(o).__name__ for o in gc.get_objects())
            extra["objects_after"] = types_after.total()
            if not args.gc_freeze:
                types_after.subtract(types_before)
            extra["object_growth"] = types_after.most_common(8)
            progress.cancel()
            await asyncio.sleep(1.0)  # the last Modbus pulse ends and its coil-off write goes out
            extra["backlog_at_end"] = backlog = await site.store.outbox_backlog()
            extra["waited_for"] = args.drain_wait
            waited = time.perf_counter()
            while backlog and time.perf_counter() - waited < args.drain_wait:
                await asyncio.sleep(0.5)
                backlog = await site.store.outbox_backlog()
            extra["backlog_after"] = backlog
            extra["drained_after"] = "not yet" if backlog else f"{time.perf_counter() - waited:.0f} s after"
            ticker.cancel()
            report(site, probe, cars, started, ended, extra)
    finally:
        gc.callbacks.remove(gc_callback)
    print(f"\nload average after: {load()}")


async def show_progress(site: Site, cars: list[Car], started: float) -> None:
    for n in itertools.count(1):
        await asyncio.sleep(10)
        for boards in site.boards:  # the simulators' frame logs: nobody reads them here, and they feed the collector
            for address in ADDRESSES.values():
                boards.state(address).history.clear()
        if n % 3 == 0:
            done = sum(1 for car in cars if not math.isnan(car.exit.answered))
            print(f"  {done} of {len(cars)} cars out after {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cars", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="plate reads per second in total, at most")
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite file goes (default: a temporary one)")
    parser.add_argument("--cash-share", type=float, default=0.05, help="share of cars that pay cash at the exit")
    parser.add_argument("--month-share", type=float, default=0.5, help="share of month-card cars (the rest temporary)")
    parser.add_argument("--cash-delay", type=float, default=1.0, help="seconds from exit read to pay_cash")
    parser.add_argument("--drain-wait", type=float, default=120.0, help="seconds to wait for the outbox to drain")
    parser.add_argument("--lanes", choices=["free", "random"], default="free",
                        help="free: a car takes a free lane of its direction; random: the lane drawn")  # fmt: skip
    parser.add_argument("--display-baud", type=int, default=0,
                        help="emulate the display line's RS485 time at this rate (default 0: none)")  # fmt: skip
    parser.add_argument("--display-lines", choices=["shared", "per-lane"], default="shared",
                        help="the four boards on one RS485 line (as the tests) or one line per lane")  # fmt: skip
    parser.add_argument("--gc-freeze", action="store_true", help="call gc.freeze() once the site is up")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        asyncio.run(measure(Path(folder), args))


if __name__ == "__main__":
    main()
