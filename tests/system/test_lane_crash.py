"""The lanes survive SIGKILL at any instant (ARCHITECTURE.md, durability rules).

The issue's words: "A crash test SIGKILLs the headless app at random moments during a stream of cars (at least 50 kills
across the run): after each restart no committed stay or payment is lost, no order reaches the Bolink simulator twice
as two orders, no lane is stuck."

`booth-app --headless` runs as a child process on a configuration that points it at simulators in this process: Bolink,
a display board per lane, one Modbus relay board, and a camera per lane pushing plate reads over HTTP. Lanes A1 and A2
are entries, B1 and B2 exits; each direction has a display-board relay gate and a Modbus gate. Each round starts the
app, streams cars for a random 0.2-2 s (new cars in at A1/A2; cars known to be inside out at B1/B2: month cards leave
on the read alone, temporary cars owe 5 yuan and pay by scanning the exit code through Bolink) and SIGKILLs it: at any
moment, or (every other round) a few milliseconds after a camera's push went out, so that the kill lands inside a
lane's decision often. The cameras behave as ZhenShi firmware does: a read that got no answer is resent once the booth
is back (`lpr-camera.md`: "the same plateid+timeStamp must not create a second order").

After every kill the SQLite file is opened read-only and must show:
* PRAGMA integrity_check ok;
* every entry a camera got an answer for has its stay, every month-card exit answered has left, every payment whose
  `outpark` the booth answered is in `payments` (the booth answers only after it committed);
* nothing seen before is gone or went back: a stay that left stays left, a payment row stays;
* one read, one order: no plate has two stays (every plate in this test is read once at an entry);
* every stay has exactly its in_park outbox row and, once it left, exactly its out_park row; what a stay was paid is
  what its payment rows add up to.

At the end the app runs once more: unanswered reads are resent, every payment whose `outpark` went unanswered is sent
again as Bolink repeats a downlink it did not hear answered, one car goes through each lane (its gate command seen on
the board or the relay board), the outbox drains, and the app stops on SIGTERM. Then Bolink must hold each stay's
in_park and each exit's out_park, each as one message equal to the outbox row (re-sends are answered `数据已处理过`,
never taken as a second order), no order the booth does not know, and every payment it took recorded at the booth
exactly once; and the app's log holds no ERROR line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx
import pytest

from booth_app.bolink import messages as m
from booth_app.sim.bolink import BolinkSim
from booth_app.sim.camera import SimCamera
from booth_app.sim.display_board import DisplayBoardSim
from booth_app.sim.relay import RelayBoardSim
from drivers.display_0x64 import Cmd
from tests.conftest import ROOT

ROUNDS = 55
STREAM_S = (0.2, 2.0)  # how long cars stream before the kill
CAR_GAP_S = (0.05, 0.4)  # between two cars at one lane
MID_PUSH_KILL_S = 0.02  # a "mid-push" kill comes at most this long after a camera's push went out
PAY_TIMEOUT_S = 5.0
START_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 120.0

PARK_ID, UNION_ID = "1001", 200188
UKEY = "CRASHTESTUKEY0123"
UKEY_ENV = "BOOTH_LANE_CRASH_UKEY"
LISTENER_PATH = "/lpr/zhenshi"
MONTH_PLATES = 300  # month cards in the configuration's seed list; each enters (and leaves) once
FEE = Decimal(5)  # what a temporary car owes: no free minutes, 5 yuan for the first hour
GATE_RELAY = 1  # the display board's relay channel that opens the gate (the configuration's default)
MODBUS_PULSE_MS = 100


@dataclass(frozen=True)
class LaneSpec:
    id: str
    direction: str  # in | out
    barrier: str  # display_relay | modbus
    address: int  # of the lane's display board
    coil: int = 0  # of the Modbus relay board

    @property
    def serialno(self) -> str:
        return f"cam-{self.id.lower()}"


LANES = (
    LaneSpec("A1", "in", "display_relay", 1),
    LaneSpec("A2", "in", "modbus", 2, coil=1),
    LaneSpec("B1", "out", "modbus", 3, coil=0),
    LaneSpec("B2", "out", "display_relay", 4),
)


def month_plate(n: int) -> str:
    return f"京M{n:05d}"


def is_month(plate: str) -> bool:
    return plate.startswith("京M")


def temporary_plate(n: int) -> str:
    return f"沪T{n:05d}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: Callable[[], bool], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:g} s")
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------- the store, read from the outside


@dataclass(frozen=True)
class StayRecord:
    order_id: str
    plate: str
    kind: str
    state: str
    fee: Decimal
    paid: Decimal
    flags: str


@dataclass(frozen=True)
class PaymentRecord:
    id: int
    order_id: str
    channel: str
    amount: Decimal
    trade_no: str


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    service: str
    order_id: str
    payload: str
    state: str
    last_error: str


@dataclass(frozen=True)
class Snapshot:
    integrity: str
    stays: dict[str, StayRecord]
    payments: list[PaymentRecord]
    outbox: list[OutboxRecord]

    def by_plate(self) -> dict[str, list[StayRecord]]:
        plates: dict[str, list[StayRecord]] = defaultdict(list)
        for stay in self.stays.values():
            plates[stay.plate].append(stay)
        return plates

    @property
    def pending(self) -> int:
        return sum(row.state == "pending" for row in self.outbox)


def money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def read_store(path: Path, *, integrity: bool = True) -> Snapshot:
    """The booth's SQLite file as a second process sees it, read-only (the app may be dead or running)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        check = str(db.execute("PRAGMA integrity_check").fetchone()[0]) if integrity else "not checked"
        stays = {
            row[0]: StayRecord(row[0], row[1], row[2], row[3], money(row[4]), money(row[5]), row[6])
            for row in db.execute("SELECT order_id, plate, kind, state, fee, paid, flags FROM stays")
        }
        payments = [
            PaymentRecord(row[0], row[1], row[2], money(row[3]), row[4])
            for row in db.execute("SELECT id, order_id, channel, amount, trade_no FROM payments")
        ]
        outbox = [
            OutboxRecord(*row)
            for row in db.execute("SELECT id, service, order_id, payload, state, last_error FROM outbox ORDER BY id")
        ]
    return Snapshot(check, stays, payments, outbox)


# ---------------------------------------------------------------- the car park around the app


@dataclass
class Lane:
    spec: LaneSpec
    camera: SimCamera
    last_plate: str = ""
    unanswered: bool = False  # the camera's last push got no answer: it resends it once the booth is back
    push_began: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Tally:
    """What the test saw and was promised, across every run of the app."""

    rounds: int = 0
    kills: int = 0
    mid_push_kills: int = 0
    pushes: int = 0
    unanswered: int = 0
    resends: int = 0
    repeats: int = 0  # outparks Bolink sent again because the booth had not answered them
    entered: dict[str, str] = field(default_factory=dict)  # plate -> lane: entries the camera got an answer for
    left: set[str] = field(default_factory=set)  # month cards whose exit the camera got an answer for
    paid: dict[str, str] = field(default_factory=dict)  # order id -> trade_no: outparks the booth answered
    resent: dict[str, str] = field(default_factory=dict)  # plate -> lane: reads resent after a restart
    states: dict[str, str] = field(default_factory=dict)  # order id -> state last seen in the store
    payments: set[PaymentRecord] = field(default_factory=set)  # payment rows seen in the store
    errors: list[str] = field(default_factory=list)  # ERROR lines of the app's log

    def line(self) -> str:
        return (
            f"{self.rounds} rounds, {self.kills} SIGKILLs ({self.mid_push_kills} just after a push went out), "
            f"{self.pushes} plate pushes ({self.unanswered} unanswered, {self.resends} resent), "
            f"{len(self.entered)} cars in, {len(self.left)} month cards out, {len(self.paid)} exits paid through "
            f"Bolink, {self.repeats} outparks repeated, {len(self.errors)} ERROR lines in the app's log"
        )


ALLOWED_STATES = {
    ("inside", "inside"),
    ("inside", "left"),
    ("inside", "superseded"),
    ("left", "left"),
    ("superseded", "superseded"),
}


class CarPark:
    """The simulators (in this process), the app's configuration and data directory, and the test's tally."""

    def __init__(self, directory: Path, rng: random.Random) -> None:
        self.dir = directory
        self.rng = rng
        self.db_path = directory / "booth.db"
        self.log_path = directory / "logs" / "booth.log"
        self.config_path = directory / "booth.toml"
        self.bolink = BolinkSim(parks={PARK_ID: UKEY}, union_id=UNION_ID, poll_timeout=1.0)
        self.boards = {spec.id: DisplayBoardSim() for spec in LANES}
        self.relay = RelayBoardSim()
        self.listener_url = f"http://127.0.0.1:{free_port()}{LISTENER_PATH}"
        self.lanes = {spec.id: Lane(spec, SimCamera(self.listener_url, serialno=spec.serialno)) for spec in LANES}
        self.month_unused = [month_plate(n) for n in range(MONTH_PLATES)]
        self.temporary_count = 0
        self.tally = Tally()
        self.app: asyncio.subprocess.Process | None = None
        self._console: IO[bytes] | None = None
        self._log_offset = 0

    async def __aenter__(self) -> Self:
        await self.bolink.start()
        for board in self.boards.values():
            await board.start()
        await self.relay.start()
        self.config_path.write_text(self.config(), encoding="utf-8")
        self._console = (self.dir / "console.log").open("ab")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.app is not None and self.app.returncode is None:
            self.app.kill()
            await self.app.wait()
        await self.relay.stop()
        for board in self.boards.values():
            await board.stop()
        await self.bolink.stop()
        if self._console is not None:
            self._console.close()

    # ------------------------------------------------------------ configuration

    def config(self) -> str:
        port = self.listener_url.split(":")[2].split("/")[0]
        text = f"""
[park]
park_id = "{PARK_ID}"
union_id = {UNION_ID}
name = "崩溃测试停车场"
capacity = 100000
ukey_env = "{UKEY_ENV}"

[bolink]
enabled = true
sdk_url = "{self.bolink.sdk_url}"
union_api_url = "{self.bolink.union_api_url}"
local_id = "crash_booth"
timeout_s = 2.0
uploads_per_s = 9
poll_timeout_s = 1.0

[camera_listener]
host = "127.0.0.1"
port = {port}
path = "{LISTENER_PATH}"

[offline]
temp_car_policy = "cash"

[tariff]
free_minutes = 0
first_minutes = 60
first_price = {FEE}
unit_minutes = 30
unit_price = 2.00
"""
        for spec in LANES:
            if spec.barrier == "modbus":
                barrier = f'kind = "modbus"\nport = "{self.relay.url}"\ndevice_id = 1\ncoil = {spec.coil}\n'
                barrier += f"pulse_ms = {MODBUS_PULSE_MS}"
            else:
                barrier = f'kind = "display_relay"\nrelay = {GATE_RELAY}'
            text += f"""
[[lanes]]
id = "{spec.id}"
name = "车道{spec.id}"
direction = "{spec.direction}"
[lanes.camera]
serialno = "{spec.serialno}"
[lanes.display]
port = "{self.boards[spec.id].url}"
address = {spec.address}
[lanes.barrier]
{barrier}
"""
        for n in range(MONTH_PLATES):
            text += f'\n[[vehicles]]\nplate = "{month_plate(n)}"\nkind = "month"\nvalid_from = 2020-01-01\n'
        return text

    # ------------------------------------------------------------ the app

    async def start_app(self, when: str) -> asyncio.subprocess.Process:
        """Start `booth-app --headless`; return once its lanes run and the camera listener answers a heartbeat."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = {**os.environ, UKEY_ENV: UKEY}
        # Compiled modules cached in this test's directory: a restart then takes one second instead of three.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.dir / "pycache")
        command = [sys.executable, "-m", "booth_app.cli", "--headless", "--config", str(self.config_path)]
        self.app = await asyncio.create_subprocess_exec(
            *command,
            "--data-dir",
            str(self.dir),
            cwd=ROOT,
            env=env,
            stdout=self._console,
            stderr=asyncio.subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while "lanes running; cameras push to" not in self.new_log():
            if self.app.returncode is not None:
                raise AssertionError(
                    f"{when}: the app exited ({self.app.returncode}) before its lanes ran:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{when}: the app's lanes did not start within {START_TIMEOUT_S:g} s:\n{self.tail()}"
                )
            await asyncio.sleep(0.02)
        heartbeat = SimCamera(self.listener_url, serialno=LANES[0].serialno)
        try:
            await heartbeat.poll()
        except httpx.HTTPError as exc:
            raise AssertionError(f"{when}: the camera listener does not answer ({exc!r}):\n{self.tail()}") from None
        assert heartbeat.statuses == [200], f"{when}: the camera listener answered {heartbeat.answers}"
        return self.app

    async def kill(self, app: asyncio.subprocess.Process) -> None:
        os.kill(app.pid, signal.SIGKILL)
        code = await asyncio.wait_for(app.wait(), 30)
        assert code == -signal.SIGKILL, f"the app ended with {code} before the SIGKILL"
        self.tally.kills += 1

    def new_log(self) -> str:
        """The app's log since the last start."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset if log.seek(0, os.SEEK_END) >= self._log_offset else 0)
            return log.read().decode("utf-8", errors="replace")

    def collect_errors(self) -> None:
        self.tally.errors += [line for line in self.new_log().splitlines() if " ERROR " in line]

    def tail(self, lines: int = 40) -> str:
        console = (self.dir / "console.log").read_bytes().decode("utf-8", errors="replace")
        return "\n".join(console.splitlines()[-lines:])

    @contextlib.asynccontextmanager
    async def cameras_connected(self) -> AsyncIterator[None]:
        """Each camera keeps one connection to the listener while the app runs, as the firmware does."""
        async with contextlib.AsyncExitStack() as stack:
            for lane in self.lanes.values():
                await stack.enter_async_context(lane.camera)
            yield

    # ------------------------------------------------------------ cars

    def next_entry_plate(self) -> str:
        if len(self.month_unused) > 1 and self.rng.random() < 0.5:  # one is kept for the last run
            return self.month_unused.pop()
        self.temporary_count += 1
        return temporary_plate(self.temporary_count)

    async def push(self, lane: Lane, plate: str) -> bool:
        """One read at the lane's camera: True once the booth answered, False when no answer came (the app is dead)."""
        lane.last_plate = plate
        lane.unanswered = True
        lane.push_began.set()
        self.tally.pushes += 1
        try:
            await lane.camera.push(plate)
        except httpx.HTTPError:
            self.tally.unanswered += 1
            return False
        assert lane.camera.statuses[-1] == 200, f"lane {lane.spec.id} answered {plate}: {lane.camera.answers[-1]}"
        lane.unanswered = False
        return True

    def answered(self, lane: Lane, plate: str) -> None:
        if lane.spec.direction == "in":
            self.tally.entered[plate] = lane.spec.id
        elif is_month(plate):
            self.tally.left.add(plate)

    async def pay_at_exit(self, lane: Lane, plate: str) -> None:
        """The driver of a temporary car scans the exit code and pays; a payment the booth answered is a promise."""
        paid = await self.bolink.driver_scans_exit_qr(plate, channel_id=lane.spec.id, timeout=PAY_TIMEOUT_S)
        if paid.outpark_answer is None:
            return  # nothing due (paid earlier) or the booth does not know the car inside
        assert paid.outpark_answer.get("state") == 1, f"the booth refused the payment of {plate}: {paid}"
        self.tally.paid[str(paid.price_answer["order_id"])] = paid.trade_no

    async def resend_unanswered(self) -> set[str]:
        """Each camera whose last push got no answer resends it, byte for byte; returns the plates resent at exits."""
        at_exits = set()
        for lane in self.lanes.values():
            if not lane.unanswered:
                continue
            if lane.camera.last_sent != lane.last_plate:  # the crash came while the camera still painted the read:
                lane.unanswered = False  # it never left the camera, so there is nothing to resend
                continue
            await lane.camera.resend_last()
            assert lane.camera.statuses[-1] == 200, f"lane {lane.spec.id}: resend answered {lane.camera.answers[-1]}"
            lane.unanswered = False
            self.tally.resends += 1
            self.tally.resent[lane.last_plate] = lane.spec.id
            self.answered(lane, lane.last_plate)
            if lane.spec.direction == "out":
                at_exits.add(lane.last_plate)
        return at_exits

    async def entry_lane(self, lane: Lane, leaving: asyncio.Queue[str]) -> None:
        while True:
            plate = self.next_entry_plate()
            if not await self.push(lane, plate):
                return
            self.answered(lane, plate)
            leaving.put_nowait(plate)
            await asyncio.sleep(self.rng.uniform(*CAR_GAP_S))

    async def exit_lane(self, lane: Lane, leaving: asyncio.Queue[str]) -> None:
        while True:
            plate = await leaving.get()
            if not await self.push(lane, plate):
                return
            self.answered(lane, plate)
            if not is_month(plate):
                await self.pay_at_exit(lane, plate)
            await asyncio.sleep(self.rng.uniform(*CAR_GAP_S))

    def cars_to_leave(self, snapshot: Snapshot, skip: set[str]) -> list[str]:
        """Cars inside by the store, but not one whose payment Bolink took and the booth has not heard of yet (the
        driver paid: he would not pay again) nor one whose exit read was just resent (it is at that exit now)."""
        recorded = {payment.trade_no for payment in snapshot.payments}
        unheard = {
            order for order, taken in self.bolink.payments.items() if any(p.trade_no not in recorded for p in taken)
        }
        plates = [s.plate for s in snapshot.stays.values() if s.state == "inside" and s.order_id not in unheard]
        plates = sorted(set(plates) - skip)
        self.rng.shuffle(plates)
        return plates

    async def run_round(self, number: int, snapshot: Snapshot) -> None:
        """Start the app, let the cameras resend, stream cars for a while, SIGKILL the app."""
        when = f"round {number}"
        self.tally.rounds += 1
        async with self.cameras_connected():
            app = await self.start_app(when)
            at_exits = await self.resend_unanswered()
            leaving: asyncio.Queue[str] = asyncio.Queue()
            for plate in self.cars_to_leave(snapshot, at_exits):
                leaving.put_nowait(plate)
            lanes = list(self.lanes.values())
            workers = [
                asyncio.create_task(
                    (self.entry_lane if lane.spec.direction == "in" else self.exit_lane)(lane, leaving),
                    name=f"lane {lane.spec.id}",
                )
                for lane in lanes
            ]
            try:
                await asyncio.sleep(self.rng.uniform(*STREAM_S))  # the random moment
                if number % 2:  # kill inside a lane's work: just after one of the cameras pushed
                    lane = self.rng.choice(lanes)
                    lane.push_began.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lane.push_began.wait(), 1.0)  # an exit lane may have no car
                    await asyncio.sleep(self.rng.uniform(0, MID_PUSH_KILL_S))
                    self.tally.mid_push_kills += 1
                await self.kill(app)
            finally:
                for worker in workers:
                    worker.cancel()
                outcomes = await asyncio.gather(*workers, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome
        self.collect_errors()

    # ------------------------------------------------------------ what must hold

    def check_store(self, snapshot: Snapshot, when: str) -> None:
        """Everything committed before is still there, and everything the cameras and Bolink were answered for."""
        tally = self.tally
        assert snapshot.integrity == "ok", f"{when}: PRAGMA integrity_check: {snapshot.integrity}"
        by_plate = snapshot.by_plate()

        twice = {plate: stays for plate, stays in by_plate.items() if len(stays) > 1}
        if twice:
            cars = "; ".join(
                f"{plate} (read once at {tally.entered.get(plate, '?')}"
                f"{', the camera resent it after a restart' if plate in tally.resent else ''}) has stays "
                + ", ".join(f"{s.order_id} ({s.state}{', ' + s.flags if s.flags else ''})" for s in stays)
                for plate, stays in sorted(twice.items())
            )
            why = ""
            if any(plate in tally.resent for plate in twice):
                why = (
                    " — the restarted booth took the camera's resend of a read it had committed for a new car "
                    "(lpr-camera.md: the same plateid+timeStamp must not create a second order)"
                )
            raise AssertionError(f"{when}: one read became two orders: {cars}{why}")
        lost_entries = sorted(plate for plate in tally.entered if plate not in by_plate)
        assert not lost_entries, f"{when}: entries answered to the camera have no stay: {lost_entries}"
        not_left = sorted(plate for plate in tally.left if [s.state for s in by_plate.get(plate, [])] != ["left"])
        assert not not_left, f"{when}: month-card exits answered to the camera did not stay left: " + ", ".join(
            f"{plate}: {[(s.order_id, s.state) for s in by_plate.get(plate, [])]}" for plate in not_left
        )

        gone = sorted(order for order in tally.states if order not in snapshot.stays)
        assert not gone, f"{when}: committed stays are gone: {gone}"
        back = sorted(
            f"{order}: {before} -> {snapshot.stays[order].state}"
            for order, before in tally.states.items()
            if (before, snapshot.stays[order].state) not in ALLOWED_STATES
        )
        assert not back, f"{when}: stays went back: {back}"
        tally.states = {order: stay.state for order, stay in snapshot.stays.items()}

        rows = set(snapshot.payments)
        lost_rows = sorted(tally.payments - rows, key=lambda p: p.id)
        assert not lost_rows, f"{when}: committed payments are gone: {lost_rows}"
        tally.payments = rows
        recorded = {(p.order_id, p.trade_no) for p in snapshot.payments}
        unrecorded = sorted(
            f"{order} ({trade})" for order, trade in tally.paid.items() if (order, trade) not in recorded
        )
        assert not unrecorded, f"{when}: payments the booth answered Bolink for are not in the store: {unrecorded}"

        paid_by_rows: defaultdict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for payment in snapshot.payments:
            paid_by_rows[payment.order_id] += payment.amount
        mismatched = sorted(
            f"{s.order_id}: paid {s.paid}, payments {paid_by_rows[s.order_id]}"
            for s in snapshot.stays.values()
            if s.paid != paid_by_rows[s.order_id]
        )
        assert not mismatched, f"{when}: a stay's paid is not what its payments add up to: {mismatched}"
        unpaid = sorted(
            f"{s.order_id} ({s.plate}, fee {s.fee}, paid {s.paid})"
            for s in snapshot.stays.values()
            if s.state == "left" and (s.paid < s.fee or (s.kind == "temp" and s.fee != FEE))
        )
        assert not unpaid, f"{when}: temporary cars left without their {FEE} yuan: {unpaid}"

        reports = Counter(
            (row.service, row.order_id) for row in snapshot.outbox if row.service in ("in_park", "out_park")
        )
        wrong = sorted(
            f"{s.order_id} ({s.state}): in_park x{reports['in_park', s.order_id]}, "
            f"out_park x{reports['out_park', s.order_id]}"
            for s in snapshot.stays.values()
            if reports["in_park", s.order_id] != 1 or reports["out_park", s.order_id] != (s.state == "left")
        )
        assert not wrong, f"{when}: stays without exactly their reports in the outbox: {wrong}"
        strays = sorted({order for _, order in reports if order not in snapshot.stays})
        assert not strays, f"{when}: outbox reports for orders the store does not have: {strays}"

    def check_bolink(self, snapshot: Snapshot) -> None:
        """What Bolink got: every report once as news and exactly as committed, nothing else, every payment kept."""
        texts: dict[tuple[str, str], set[str]] = defaultdict(set)
        for upload in self.bolink.uploads:
            if upload.service in (m.Service.IN_PARK, m.Service.OUT_PARK):
                texts[str(upload.service), str(upload.data.get("order_id"))].add(upload.data_json)
        twice = sorted(
            f"{service} {order}: {sorted(seen)}" for (service, order), seen in texts.items() if len(seen) > 1
        )
        assert not twice, f"orders that reached Bolink as two different messages: {twice}"
        unknown = sorted({order for _, order in texts if order not in snapshot.stays})
        assert not unknown, f"orders at Bolink that the booth's store does not have: {unknown}"
        for row in snapshot.outbox:
            if row.service in ("in_park", "out_park"):
                assert texts.get((row.service, row.order_id)) == {row.payload}, (
                    f"{row.service} of {row.order_id}: Bolink got {texts.get((row.service, row.order_id))}, "
                    f"the outbox holds {row.payload}"
                )
        orders_per_car: dict[str, set[str]] = defaultdict(set)
        for service, order in texts:
            if service == m.Service.IN_PARK:
                orders_per_car[snapshot.stays[order].plate].add(order)
        cars_twice = {plate: orders for plate, orders in orders_per_car.items() if len(orders) > 1}
        assert not cars_twice, f"cars that reached Bolink as two orders: {cars_twice}"

        recorded = Counter(payment.trade_no for payment in snapshot.payments)
        taken = [payment for payments in self.bolink.payments.values() for payment in payments]
        lost = sorted(
            f"{p.order_id} ({p.trade_no}): x{recorded[p.trade_no]}" for p in taken if recorded[p.trade_no] != 1
        )
        assert not lost, f"payments Bolink took that the booth did not record exactly once: {lost}"

    # ------------------------------------------------------------ the last run

    async def repeat_unanswered_outparks(self, snapshot: Snapshot) -> None:
        """Bolink sends a payment result again until the booth answers it: here, once for each it has not heard of."""
        recorded = {payment.trade_no for payment in snapshot.payments}
        for order_id, taken in list(self.bolink.payments.items()):
            for payment in taken:
                if payment.trade_no in recorded:
                    continue
                outpark = m.Outpark(
                    order_id=order_id,
                    car_number=payment.car_number,
                    state=m.OUTPARK_PAID,
                    trade_no=payment.trade_no,
                    pay_type=payment.pay_type,
                    total=payment.money,
                    pay_channel=payment.pay_channel,
                )
                answer = await self.bolink.ask(m.Service.OUTPARK, outpark, timeout=PAY_TIMEOUT_S)
                assert answer.get("state") == 1, f"the booth refused the repeated outpark of {order_id}: {answer}"
                self.tally.repeats += 1

    def gate_mark(self, spec: LaneSpec) -> int:
        if spec.barrier == "display_relay":
            return len(self.boards[spec.id].state(spec.address).history)
        return len(self.relay.requests)

    def gate_opened(self, spec: LaneSpec, mark: int) -> bool:
        """The lane's gate command reached its board since `mark`: relay on, or the Modbus coil written on."""
        if spec.barrier == "display_relay":
            frames = self.boards[spec.id].state(spec.address).history[mark:]
            return any(f.cmd == Cmd.RELAY and f.data[0] == GATE_RELAY and f.data[5] != 0 for f in frames)
        on = bytes([1, 5, 0, spec.coil, 0xFF, 0x00])
        return any(request.startswith(on) for request in self.relay.requests[mark:])

    async def car_through(self, lane: Lane, plate: str) -> None:
        """One car at a lane after the last restart: answered, recorded, and its gate opened."""
        spec = lane.spec
        mark = self.gate_mark(spec)
        assert await self.push(lane, plate), f"lane {spec.id} did not answer {plate}"
        self.answered(lane, plate)
        if spec.direction == "out" and not is_month(plate):
            await self.pay_at_exit(lane, plate)
        await until(lambda: self.gate_opened(spec, mark), within=5, what=f"lane {spec.id}'s gate for {plate}")
        stays = read_store(self.db_path, integrity=False).by_plate()[plate]
        state = "inside" if spec.direction == "in" else "left"
        assert [s.state for s in stays] == [state], f"lane {spec.id}: {plate} is {stays}, not {state}"

    async def last_run(self, snapshot: Snapshot) -> None:
        when = "the last run"
        async with self.cameras_connected():
            app = await self.start_app(when)
            await self.resend_unanswered()
            await self.repeat_unanswered_outparks(snapshot)
            a1, a2, b1, b2 = (self.lanes[lane_id] for lane_id in ("A1", "A2", "B1", "B2"))
            month = self.month_unused.pop()
            self.temporary_count += 1
            temporary = temporary_plate(self.temporary_count)
            await self.car_through(a1, month)
            await self.car_through(a2, temporary)
            await self.car_through(b1, month)
            await self.car_through(b2, temporary)
            (stay,) = read_store(self.db_path, integrity=False).by_plate()[temporary]
            assert stay.order_id in self.tally.paid, f"{when}: the exit payment of {temporary} was not answered"
            await self.drain_and_stop(app, when)

    async def drain_and_stop(self, app: asyncio.subprocess.Process, when: str) -> None:
        """Let the app upload every report it holds, then stop it with SIGTERM as a service manager would."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while (pending := read_store(self.db_path, integrity=False).pending) > 0:
            assert app.returncode is None, f"{when}: the app died while draining:\n{self.tail()}"
            assert time.monotonic() < deadline, f"{when}: {pending} reports still pending after {DRAIN_TIMEOUT_S} s"
            await asyncio.sleep(0.2)
        app.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(app.wait(), 30)
        self.collect_errors()
        assert code == 0, f"{when}: the app ended with {code} on SIGTERM:\n{self.tail()}"


@pytest.mark.slow
@pytest.mark.timeout(900)  # 55 restarts take about three minutes here; a loaded CI machine may need more
async def test_sigkill_at_random_moments_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    """The issue's crash test: ROUNDS kills during a stream of cars, the store checked after each (module docstring)."""
    started = time.monotonic()
    seed = random.randrange(1 << 30)
    async with CarPark(tmp_path, random.Random(seed)) as park:
        snapshot = Snapshot("ok", {}, [], [])
        try:
            for number in range(1, ROUNDS + 1):
                await park.run_round(number, snapshot)
                snapshot = read_store(park.db_path)
                park.check_store(snapshot, f"after the SIGKILL of round {number}")
            await park.last_run(snapshot)
            snapshot = read_store(park.db_path)
            park.check_store(snapshot, "after the last run")
            assert snapshot.pending == 0
            assert not [row for row in snapshot.outbox if row.state == "rejected"], "Bolink refused reports"
            park.check_bolink(snapshot)
            assert not park.tally.errors, "the app logged errors:\n" + "\n".join(park.tally.errors[:20])
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n(seed {seed}; {park.tally.line()})") from None
        tally = park.tally
        assert tally.kills >= 50
        assert len(tally.entered) >= ROUNDS, "too few cars went in for the kills to mean anything"
        uploads = Counter(str(u.service) for u in park.bolink.uploads)
        print(
            f"\nlane crash test (seed {seed}): {tally.line()}; store: {len(snapshot.stays)} stays, "
            f"{len(snapshot.payments)} payments; Bolink: {uploads['in_park']} in_park and {uploads['out_park']} "
            f"out_park uploads, {park.bolink.duplicates} duplicates (数据已处理过), {park.bolink.logins} logins, "
            f"refusals {dict(park.bolink.refusals)}; {time.monotonic() - started:.0f} s"
        )


@pytest.mark.slow
async def test_a_read_resent_after_a_restart_is_not_a_second_car(tmp_path: Path) -> None:
    """The crash test above runs into this at random; here it is on purpose.

    The kill falls after the booth committed an entry and before its answer reached the camera, so the camera resends
    the read (same plateid and timeStamp) once the booth is back. To the booth that is exactly what happens here: two
    cars in at A1 (the read in question is not the first of the app's run), SIGKILL, restart, and A1's camera resends
    its last read byte for byte. The car is inside already: no second stay, no second in_park order at Bolink.
    """
    async with CarPark(tmp_path, random.Random(0)) as park:
        lane = park.lanes["A1"]
        async with park.cameras_connected():
            app = await park.start_app("the first run")
            for plate in (temporary_plate(1), temporary_plate(2)):
                assert await park.push(lane, plate)
                park.answered(lane, plate)
            await park.kill(app)
        lane.unanswered = True  # its answer was lost in the crash: a camera cannot tell that from no answer at all
        async with park.cameras_connected():
            app = await park.start_app("the second run")
            await park.resend_unanswered()
            await park.drain_and_stop(app, "the second run")
        snapshot = read_store(park.db_path)
        park.check_store(snapshot, "after the resent read")
        park.check_bolink(snapshot)
        assert len(snapshot.stays) == 2
