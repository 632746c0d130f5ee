"""A booth's journal for while the shared database server is away: what it costs, and how long the lanes wait.

On a real PostgreSQL server (Debian's, started here in a temporary folder with its default durability) holding
`--inside` stays inside and `--vehicles` month cards, one booth (`JournaledStore`) reaches the server through a cable
this script pulls and plugs in again (a TCP relay), as in `tests/store/test_journal.py`. It measures:
* the copy: one refresh of the journal from the server (every 15 s, on a thread of its own), and what a lane's call
  (a stay looked up by plate) takes while copies run back to back, against while none runs;
* finding the server gone: the first lane call after the cable is pulled (the server refuses at once here; a server
  that does not answer at all takes up to the 3 s connect timeout instead);
* offline: `--cars` cars entered and closed with a cash payment and their two reports, on the journal (stays/s);
* the merge: the whole journal into the server in one transaction, which the lanes' calls wait behind;
* back: from plugging the cable in to the booth working on the server again (the probe runs every 5 s).

Run: `uv run python benchmarks/journal.py [--inside 2000] [--vehicles 500] [--cars 500]` (about half a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from booth_app.core.types import Payment, PaymentChannel, Stay, Vehicle, VehicleKind  # noqa: E402
from booth_app.store import Report, Store  # noqa: E402
from booth_app.store.journal import JournaledStore  # noqa: E402
from tests.cable import Cable  # noqa: E402
from tests.postgres import postgres_running  # noqa: E402


def stay(prefix: str, number: int, at: datetime) -> Stay:
    return Stay(order_id=f"{prefix}_{number:06d}", plate=f"京{prefix}{number:05d}", entered_at=at, entry_lane="A1")


async def run(inside: int, vehicles: int, cars: int) -> None:
    now = datetime.now(UTC)
    with postgres_running(durable=True) as server, tempfile.TemporaryDirectory() as scratch:
        url = server.database()
        other = await Store.open(url, booth="booth02")
        await other.put_vehicles(
            Vehicle(f"京M{n:05d}", VehicleKind.MONTH, date(2026, 1, 1), date(2027, 1, 1)) for n in range(vehicles)
        )
        for number in range(inside):
            await other.enter(stay("C", number, now - timedelta(hours=2)))
        cable = Cable(server.port)
        cable.plug()
        booth = await JournaledStore.open_journaled(cable.via(url), Path(scratch) / "journal.db", booth="booth01")
        booth.probe_every_s = 5.0

        copies = []
        for _ in range(5):
            started = time.perf_counter()
            await booth._call(booth._snapshot)
            copies.append(time.perf_counter() - started)

        async def lookups() -> list[float]:
            took = []
            for number in range(300):
                began = time.perf_counter()
                await booth.inside(f"京C{number:05d}")
                took.append(time.perf_counter() - began)
                await asyncio.sleep(0.005)
            return sorted(took)

        quiet = await lookups()
        copying = True

        def copy_again_and_again() -> None:
            while copying:
                booth._snapshot()

        copier = asyncio.create_task(asyncio.to_thread(copy_again_and_again))
        busy = await lookups()
        copying = False
        await copier

        cable.pull()
        started = time.perf_counter()
        await booth.count_inside()
        lost = time.perf_counter() - started
        assert booth.offline

        started = time.perf_counter()
        for number in range(cars):
            car = await booth.enter(stay("D", number, now), [Report("in_park", {"n": number}, f"D_{number:06d}")])
            cash = Payment(car.order_id, PaymentChannel.CASH, Decimal(5), now, operator="cashier", lane_id="B1")
            await booth.leave(car.order_id, left_at=now, exit_lane="B1", fee=Decimal(5), payments=[cash],
                              reports=[Report("out_park", {"n": number}, car.order_id)])  # fmt: skip
        offline = time.perf_counter() - started

        merge_times: list[float] = []
        original = booth._merge

        def timed_merge() -> None:
            began = time.perf_counter()
            original()
            merge_times.append(time.perf_counter() - began)

        booth._merge = timed_merge  # type: ignore[method-assign]
        cable.plug()
        started = time.perf_counter()
        while True:  # the merge sets it online from the worker thread: nothing to wait on but the flag
            if not booth.offline:
                break
            await asyncio.sleep(0.01)
        back = time.perf_counter() - started
        assert booth.last_merge["entered"] == cars, booth.last_merge
        counts = await other.outbox_counts()
        await booth.close()
        await other.close()
        cable.pull()

    print(
        f"machine: {platform.node()} · {platform.processor() or platform.machine()}"
        f" · Python {platform.python_version()}"
    )
    print(f"server: {inside} stays inside, {vehicles} month cards; {cars} cars through the booth while it was away")
    print(f"copy into the journal: median {statistics.median(copies) * 1000:.0f} ms, max {max(copies) * 1000:.0f} ms")
    for name, took in (("no copy", quiet), ("copies back to back", busy)):
        p50, p99 = took[len(took) // 2] * 1000, took[int(len(took) * 0.99)] * 1000
        print(f"a lane's look-up by plate, {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {took[-1] * 1000:.1f} ms")
    print(f"first call after the cable was pulled: {lost * 1000:.0f} ms")
    print(f"offline: {cars} cars in and out in {offline:.2f} s = {cars / offline:.0f} stays/s")
    print(f"merge: {merge_times[0] * 1000:.0f} ms ({2 * cars} reports, {cars} payments); back online {back:.2f} s")
    print(f"outbox on the server after the merge: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inside", type=int, default=2000)
    parser.add_argument("--vehicles", type=int, default=500)
    parser.add_argument("--cars", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(run(args.inside, args.vehicles, args.cars))


if __name__ == "__main__":
    main()
