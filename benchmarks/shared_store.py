"""Stays per second through the real app: one booth on SQLite against two booths sharing one PostgreSQL server.

Each booth is a `booth-app --headless` process; Bolink, the display boards (their relays are the gates) and the
cameras are simulators in this process, as in `tests/system/test_two_booths.py`. Four lanes either way:
* sqlite: one booth with entries A1, A2 and exits B1, B2 on its own SQLite file (WAL, synchronous=FULL);
* postgresql: booth01 with A1 and B1, booth02 with A2 and B2, on one PostgreSQL server (Debian's, started here in a
  temporary folder with its default durability: fsync on, synchronous_commit on); cars that enter at A1 leave at B2
  and cars that enter at A2 leave at B1, so every stay crosses from one booth to the other.
Every car is a temporary car inside the free minutes, so each exit closes its stay on the read alone. The four
cameras push as fast as the booths answer (each camera one read at a time, waiting for the answer, as the firmware
does); a car's exit is pushed once its entry was answered. A stay counts when its exit read was answered: the booth
answers only after the stay's close is committed. Stays/s = cars / (first entry push → last exit answer).

Run: `uv run python benchmarks/shared_store.py [--cars 400] [--dir DIR]` (about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from booth_app.sim.bolink import BolinkSim  # noqa: E402
from booth_app.sim.camera import SimCamera  # noqa: E402
from booth_app.sim.display_board import DisplayBoardSim  # noqa: E402
from booth_app.store.engine import sqlite_url  # noqa: E402
from tests.postgres import postgres_running  # noqa: E402
from tests.sites import display_relay_lane  # noqa: E402

PARK_ID, UNION_ID, UKEY, UKEY_ENV = "1001", 200188, "BENCHSHAREDUKEY01", "BOOTH_BENCH_UKEY"
LANES = {"A1": ("in", 1), "A2": ("in", 2), "B1": ("out", 3), "B2": ("out", 4)}
ROUTES = {"A1": "B2", "A2": "B1"}  # entry -> exit: across the two booths in the PostgreSQL set-up


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(name: str, lanes: tuple[str, ...], store_url: str, listener_port: int, bolink: BolinkSim,
           boards: dict[str, DisplayBoardSim]) -> str:  # fmt: skip
    text = f"""
[park]
park_id = "{PARK_ID}"
union_id = {UNION_ID}
name = "基准停车场"
capacity = 100000
ukey_env = "{UKEY_ENV}"

[bolink]
sdk_url = "{bolink.sdk_url}"
union_api_url = "{bolink.union_api_url}"
local_id = "{name}_channels_{"_".join(lanes)}"

[store]
url = "{store_url}"

[camera_listener]
host = "127.0.0.1"
port = {listener_port}

[tariff]
free_minutes = 120
"""
    for lane in lanes:
        text += display_relay_lane(lane, *LANES[lane], boards[lane].url)
    return text


@contextlib.asynccontextmanager
async def booths_running(folder: Path, layout: dict[str, tuple[str, ...]], store_url: str) -> AsyncIterator[dict]:
    """The booth processes of `layout` (name -> lanes), and where each lane's camera pushes."""
    async with BolinkSim(parks={PARK_ID: UKEY}, union_id=UNION_ID) as bolink, contextlib.AsyncExitStack() as stack:
        boards = {lane: DisplayBoardSim() for lane in LANES}
        for board in boards.values():
            await board.start()
            stack.push_async_callback(board.stop)
        listeners: dict[str, str] = {}
        processes = []
        for name, lanes in layout.items():
            port = free_port()
            data = folder / name
            data.mkdir(parents=True)
            (data / "booth.toml").write_text(config(name, lanes, store_url, port, bolink, boards), encoding="utf-8")
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "booth_app.cli", "--headless", "--config", str(data / "booth.toml"),
                "--data-dir", str(data), cwd=ROOT, env={**os.environ, UKEY_ENV: UKEY},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            processes.append(process)
            log = data / "logs" / "booth.log"
            while not (log.exists() and "lanes running" in log.read_text(encoding="utf-8")):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            for lane in lanes:
                listeners[lane] = f"http://127.0.0.1:{port}/lpr/zhenshi"
        try:
            yield listeners
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
                await process.wait()


async def drive(listeners: dict[str, str], cars: int) -> tuple[float, list[float]]:
    """Push `cars` cars in and out; returns the wall time and each stay's entry-push-to-exit-answer time."""
    exits: dict[str, asyncio.Queue[tuple[str, float] | None]] = {lane: asyncio.Queue() for lane in ROUTES.values()}
    spans: list[float] = []

    async def entry(lane: str, plates: list[str]) -> None:
        async with SimCamera(listeners[lane], serialno=f"cam-{lane.lower()}", pictures=False) as camera:
            for plate in plates:
                began = time.perf_counter()
                await camera.push(plate)
                await exits[ROUTES[lane]].put((plate, began))
        await exits[ROUTES[lane]].put(None)

    async def exit_(lane: str) -> None:
        async with SimCamera(listeners[lane], serialno=f"cam-{lane.lower()}", pictures=False) as camera:
            while (car := await exits[lane].get()) is not None:
                plate, began = car
                await camera.push(plate)
                spans.append(time.perf_counter() - began)

    plates = [f"京B{n:05d}" for n in range(cars)]
    started = time.perf_counter()
    await asyncio.gather(entry("A1", plates[0::2]), entry("A2", plates[1::2]), exit_("B1"), exit_("B2"))
    return time.perf_counter() - started, spans


async def run(kind: str, folder: Path, cars: int) -> str:
    if kind == "sqlite":
        async with booths_running(folder, {"booth01": tuple(LANES)}, sqlite_url(folder / "booth.db")) as listeners:
            wall, spans = await drive(listeners, cars)
        booths = "1 booth, SQLite"
    else:
        with postgres_running(durable=True) as server:
            url = server.database()
            layout = {"booth01": ("A1", "B1"), "booth02": ("A2", "B2")}
            async with booths_running(folder, layout, url) as listeners:
                wall, spans = await drive(listeners, cars)
        booths = "2 booths, PostgreSQL"
    assert len(spans) == cars, f"{cars - len(spans)} cars did not leave"
    spans.sort()
    return (
        f"{booths}: {cars} stays in {wall:.1f} s = {cars / wall:.1f} stays/s; entry push → exit answer "
        f"median {statistics.median(spans) * 1000:.0f} ms, p99 {spans[int(0.99 * len(spans))] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, default=400)
    parser.add_argument("--dir", type=Path, default=None, help="where the booths' data go (default: a temporary one)")
    args = parser.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    for kind in ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory(dir=args.dir) as folder:
            print(asyncio.run(run(kind, Path(folder), args.cars)), flush=True)


if __name__ == "__main__":
    main()
