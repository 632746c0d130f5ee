"""Two booths of one car park on one PostgreSQL server, each a real `booth-app --headless` process.

Booth 1 (`booth01_channels_A1_B1`) runs entry A1 and exit B1; booth 2 (`booth02_channels_B2`) runs exit B2. Bolink,
the display boards (whose relays are the gates) and the cameras are simulators in this process; the database is a real
PostgreSQL server. Cars enter at booth 1 and leave at booth 2, free or paying with a payment code shown at the exit
screen; the same plate is read at both exits at once; booth 2 is killed while a car waits to pay and started again; the
server is stopped under the booths, whose lanes let cars in and out on their journals meanwhile, and started again,
when each booth merges its journal. Afterwards no stay is lost or closed twice, each order reached
Bolink as one in_park and one out_park, and the outbox both booths drained is empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from booth_app.sim.bolink import BolinkSim
from booth_app.sim.camera import SimCamera
from booth_app.sim.display_board import DisplayBoardSim
from drivers.display_0x64 import Cmd
from tests.conftest import ROOT
from tests.postgres import PostgresServer
from tests.sites import display_relay_lane

pytestmark = pytest.mark.slow

PARK_ID, UNION_ID, UKEY, UKEY_ENV = "1001", 200188, "TWOBOOTHSUKEY0123", "BOOTH_TWO_BOOTHS_UKEY"
LANES = {"A1": ("in", 1), "B1": ("out", 2), "B2": ("out", 3)}  # lane: direction, display board address
BOOTHS = {"booth01": ("A1", "B1"), "booth02": ("B2",)}
GATE_RELAY = 1


async def until(condition: Callable[[], object], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:g} s")
        await asyncio.sleep(0.05)


@dataclass
class Booth:
    name: str
    folder: Path
    listener: str
    process: asyncio.subprocess.Process | None = None

    @property
    def local_id(self) -> str:
        return f"{self.name}_channels_{'_'.join(BOOTHS[self.name])}"

    def log(self) -> str:
        path = self.folder / "logs" / "booth.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


class Park:
    def __init__(self, postgres: PostgresServer, tmp_path: Path, bolink: BolinkSim) -> None:
        self.postgres, self.bolink = postgres, bolink
        self.url = postgres.database()
        self.boards = {lane: DisplayBoardSim() for lane in LANES}
        self.booths = {
            name: Booth(name, tmp_path / name, f"http://127.0.0.1:{_free_port()}/lpr/zhenshi") for name in BOOTHS
        }

    def config(self, booth: Booth) -> str:
        port = booth.listener.split(":")[2].split("/")[0]
        text = f"""
[park]
park_id = "{PARK_ID}"
union_id = {UNION_ID}
name = "双岗亭停车场"
capacity = 1000
ukey_env = "{UKEY_ENV}"

[bolink]
sdk_url = "{self.bolink.sdk_url}"
union_api_url = "{self.bolink.union_api_url}"
local_id = "{booth.local_id}"
timeout_s = 2.0
poll_timeout_s = 1.0

[store]
url = "{self.url}"

[camera_listener]
host = "127.0.0.1"
port = {port}

[tariff]
free_minutes = 15
first_minutes = 60
first_price = 5.00
unit_minutes = 30
unit_price = 2.00
"""
        for lane in BOOTHS[booth.name]:
            text += display_relay_lane(lane, *LANES[lane], self.boards[lane].url)
        return text

    async def start(self, booth: Booth) -> None:
        booth.folder.mkdir(parents=True, exist_ok=True)
        config = booth.folder / "booth.toml"
        config.write_text(self.config(booth), encoding="utf-8")
        started = booth.log().count("lanes running; cameras push to")
        env = {**os.environ, UKEY_ENV: UKEY}
        console = (booth.folder / "console.log").open("ab")
        booth.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "booth_app.cli", "--headless", "--config", str(config), "--data-dir",
            str(booth.folder), cwd=ROOT, env=env, stdout=console, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        console.close()
        await until(lambda: booth.log().count("lanes running; cameras push to") > started, f"{booth.name} starts", 60)

    async def kill(self, booth: Booth) -> None:
        assert booth.process is not None
        booth.process.send_signal(signal.SIGKILL)
        await booth.process.wait()

    async def stop(self, booth: Booth) -> int:
        assert booth.process is not None
        booth.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(booth.process.wait(), 30)

    def camera(self, lane: str) -> SimCamera:
        booth = next(b for name, b in self.booths.items() if lane in BOOTHS[name])
        return SimCamera(booth.listener, serialno=f"cam-{lane.lower()}")

    def gate_opens(self, lane: str) -> int:
        frames = self.boards[lane].state(LANES[lane][1]).history
        return sum(f.cmd == Cmd.RELAY and f.data[0] == GATE_RELAY and f.data[5] != 0 for f in frames)

    def rows(self, sql: str) -> list[tuple]:
        with psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql")) as db:
            return db.execute(sql).fetchall()

    def stay(self, plate: str) -> tuple:
        (row,) = self.rows(f"SELECT state, exit_lane, booth, exit_booth, paid FROM stays WHERE plate = '{plate}'")
        return row

    def journal_has(self, booth: Booth, plate: str) -> bool:
        """Whether the booth's journal holds a copy of the stay of `plate` (read as the booth keeps writing it)."""
        path = booth.folder / "journal.db"
        if not path.exists():
            return False
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as journal:
            return journal.execute("SELECT count(*) FROM stays WHERE plate = ?", (plate,)).fetchone()[0] > 0

    def uploads(self, service: str, plate: str) -> list[str]:
        return [u.data_json for u in self.bolink.uploads if u.service == service and u.data.get("car_number") == plate]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def park_running(postgres: PostgresServer, tmp_path: Path) -> AsyncIterator[Park]:
    async with BolinkSim(parks={PARK_ID: UKEY}, union_id=UNION_ID, poll_timeout=1.0) as bolink:
        park = Park(postgres, tmp_path, bolink)
        for board in park.boards.values():
            await board.start()
        try:
            for booth in park.booths.values():
                await park.start(booth)
            yield park
        finally:
            for booth in park.booths.values():
                if booth.process is not None and booth.process.returncode is None:
                    booth.process.kill()
                    await booth.process.wait()
            for board in park.boards.values():
                await board.stop()


async def test_two_booths_share_one_car_park(postgres: PostgresServer, tmp_path: Path) -> None:
    async with park_running(postgres, tmp_path) as park:
        one, two = park.booths["booth01"], park.booths["booth02"]

        # In at booth 1, out at booth 2, within the free minutes.
        free = [f"京F{n:05d}" for n in range(8)]
        async with park.camera("A1") as entry, park.camera("B2") as exit_:
            for plate in free:
                await entry.push(plate)
            for plate in free:
                await exit_.push(plate)
        await until(lambda: park.gate_opens("B2") == len(free), "the free cars leave at B2")
        for plate in free:
            assert park.stay(plate) == ("left", "B2", one.local_id, two.local_id, 0)

        # A paying car: in an hour ago at booth 1 (the camera's offline record), pays by payment code at booth 2.
        async with park.camera("A1") as entry:
            await entry.push("京P00001", offline=True, at=time.time() - 70 * 60)
        async with park.camera("B2") as exit_:
            await exit_.push("京P00001")
        await until(lambda: "京P00001" in two.log() and "exit_fee_due" in two.log(), "B2 asks 京P00001 to pay")
        answer = await park.bolink.driver_shows_pay_code("B2", authcode="280000000000000101")
        assert answer.get("state") == 1, answer
        await until(lambda: park.stay("京P00001")[0] == "left", "京P00001 leaves after paying by code")
        assert park.stay("京P00001") == ("left", "B2", one.local_id, two.local_id, 7)

        # The same plate read at both exits at once: one leaves, the other exit holds it for a person.
        async with park.camera("A1") as entry:
            await entry.push("京S00001")
        opened = park.gate_opens("B1") + park.gate_opens("B2")
        async with park.camera("B1") as at_one, park.camera("B2") as at_two:
            await asyncio.gather(at_one.push("京S00001"), at_two.push("京S00001"))
        await until(lambda: park.stay("京S00001")[0] == "left", "京S00001 leaves once")
        await asyncio.sleep(1.0)
        assert park.gate_opens("B1") + park.gate_opens("B2") == opened + 1

        # Booth 2 killed while a car waits to pay there, and started again: the driver is still at the exit.
        async with park.camera("A1") as entry:
            await entry.push("京K00001", offline=True, at=time.time() - 70 * 60)
        async with park.camera("B2") as exit_:
            await exit_.push("京K00001")
            await until(lambda: two.log().count("京K00001 exit_fee_due") == 1, "B2 asks 京K00001 to pay")
            await park.kill(two)
            await park.start(two)
            await exit_.push("京K00001", plate_id=999)  # the camera reads the waiting car again
        await until(lambda: two.log().count("京K00001 exit_fee_due") == 2, "B2 asks again after the restart")
        await park.bolink.driver_shows_pay_code("B2", authcode="280000000000000102")
        await until(lambda: park.stay("京K00001")[0] == "left", "京K00001 leaves after the restart")

        # The database server stopped under both booths: their lanes go on with their journals. 京H00002 entered
        # before, and booth 2's journal has a copy of it; 京H00001 comes and goes at booth 1 meanwhile.
        async with park.camera("A1") as entry:
            await entry.push("京H00002")
        await until(lambda: park.journal_has(two, "京H00002"), "booth 2's journal copies 京H00002", 30)
        park.postgres.stop()
        async with park.camera("A1") as entry, park.camera("B1") as exit_one, park.camera("B2") as exit_two:
            for lane, camera, plate in (("A1", entry, "京H00001"), ("B1", exit_one, "京H00001"),
                                        ("B2", exit_two, "京H00002")):  # fmt: skip
                opened = park.gate_opens(lane)
                await camera.push(plate)
                await until(lambda lane=lane, opened=opened: park.gate_opens(lane) > opened, f"{plate} at {lane}", 30)
        for booth in (one, two):
            assert "cannot be reached" in booth.log()
            assert "merged this booth's journal" not in booth.log()
        # Started again: each booth merges its journal, and carries on with the server.
        park.postgres.start()
        for booth in (one, two):
            await until(lambda booth=booth: "merged this booth's journal" in booth.log(), f"{booth.name} merges", 30)
        assert park.stay("京H00001") == ("left", "B1", one.local_id, one.local_id, 0)
        assert park.stay("京H00002") == ("left", "B2", one.local_id, two.local_id, 0)
        assert park.rows("SELECT count(*) FROM conflicts") == [(0,)]
        opened = park.gate_opens("A1")
        async with park.camera("A1") as entry, park.camera("B2") as exit_:
            await entry.push("京R00001")
            deadline = time.monotonic() + 30
            while park.gate_opens("A1") == opened:  # unanswered while a booth reconnects: the camera sends it again
                assert time.monotonic() < deadline, "booth 1 takes no car after the database came back"
                await asyncio.sleep(0.5)
                await entry.resend_last()
            await exit_.push("京R00001")
        await until(lambda: park.stay("京R00001")[0] == "left", "京R00001 in and out after the restart", 30)

        # Everything reported: the outbox drained by both booths, every order once at Bolink.
        await until(lambda: park.rows("SELECT count(*) FROM outbox WHERE state <> 'sent'") == [(0,)], "drained", 30)
        plates = [row[0] for row in park.rows("SELECT plate FROM stays")]
        assert sorted(plates) == sorted([*free, "京P00001", "京S00001", "京K00001", "京H00001", "京H00002", "京R00001"])
        for plate in plates:
            orders = {
                u.data["order_id"]
                for u in park.bolink.uploads
                if u.data.get("car_number") == plate and "order_id" in u.data
            }
            assert len(orders) == 1, (plate, orders)  # one order per car at Bolink
            assert len(set(park.uploads("in_park", plate))) == 1, plate
            assert len(set(park.uploads("out_park", plate))) == 1, plate
        payments = Counter(row[0] for row in park.rows("SELECT order_id FROM payments"))
        assert all(count == 1 for count in payments.values())  # no stay paid (or closed) twice
        senders = {u.token for u in park.bolink.uploads}
        assert len(senders) >= 2  # both booths' relays sent reports
        for booth in (one, two):
            assert await park.stop(booth) == 0
