"""How fast the outbox drains into Bolink after an outage: 5,000 queued uploads against the Bolink simulator.

Everything is real except Bolink itself: a SQLite outbox, the relay and SDK client over HTTP, and the simulator
enforcing Bolink's rules (tokens, signs, duplicates, 100 requests in 10 s). A downlink long-poll runs beside the
drain, as in the app, so its requests count against the same window. Reports: uploads/s achieved against the limit,
rate-limit refusals, duplicates, uploads that came faster than 10 in a second, and the busiest 10-second window.
Run: `uv run python benchmarks/bolink_drain.py [--count 5000] [--rate 9]` (about 9 minutes at the default pace).
"""

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

from booth_app.bolink.client import Account, SdkClient
from booth_app.bolink.downlinks import DownlinkPump
from booth_app.bolink.messages import InPark, OutPark
from booth_app.bolink.relay import OutboxRelay
from booth_app.sim.bolink import BolinkSim
from booth_app.store import Store
from booth_app.store.engine import sqlite_url

UKEY = "BENCHUKEY0000001"


def busiest(times: list[float], period: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - period:
            start += 1
        best = max(best, end - start + 1)
    return best


async def measure(folder: Path, count: int, rate: float) -> None:
    store = await Store.open(sqlite_url(folder / "drain.db"))
    reports = []
    for i in range(count // 2 + count % 2):
        entry = {"car_number": f"京A{i:05d}", "in_time": 1763800000 + i, "order_id": f"A1-{i:06d}",
                 "empty_plot": 100, "in_channel_id": "A1"}  # fmt: skip
        reports.append(InPark(**entry).report())
        reports.append(OutPark(**entry, out_time=1763803600 + i, out_channel_id="B1", duration=60).report())
    await store.queue(reports[:count])

    async with BolinkSim(parks={"1001": UKEY}, poll_timeout=30.0) as sim:
        account = Account(200188, "1001", "bench", UKEY)
        client = SdkClient(sim.sdk_url, account, timeout=5.0, poll_timeout=30.0)
        relay = OutboxRelay(store, client, uploads_per_s=rate)
        pump = DownlinkPump(client, handler=None)  # type: ignore[arg-type] # no downlinks are sent in this run
        started = time.perf_counter()
        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(pump.run())]
        last_report = started
        while (backlog := await store.outbox_backlog()) > 0:
            await asyncio.sleep(0.5)
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                print(f"  {count - backlog} of {count} sent after {last_report - started:.0f} s")
        elapsed = time.perf_counter() - started
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await client.aclose()
        upload_times = sorted(r.at for r in sim.uploads)
        print(f"reports queued           {count}")
        print(f"drained in               {elapsed:.1f} s")
        print(f"uploads/s achieved       {count / elapsed:.2f} (pace {rate:g}/s; Bolink asks for fewer than 10)")
        print(f"accepted as new          {len(sim.processed)}")
        print(f"duplicates (数据已处理过)  {sim.duplicates}")
        print(f"rate-limit refusals      {sim.refusals['request_over_times']} (relay saw {relay.counts.rate_limited})")
        print(f"other refusals           {sum(sim.refusals.values()) - sim.refusals['request_over_times']}")
        print(f"uploads over 9 in 1 s    {sim.too_fast}")
        print(f"busiest 1 s / 10 s       {busiest(upload_times, 1.0)} / {busiest(upload_times, 10.0)} uploads")
        print(f"logins                   {sim.logins}")
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=9.0, help="uploads per second the relay aims for")
    parser.add_argument("--dir", type=Path, help="where the SQLite file goes (default: a temporary folder)")
    args = parser.parse_args()
    if args.dir:
        asyncio.run(measure(args.dir, args.count, args.rate))
    else:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(measure(Path(folder), args.count, args.rate))


if __name__ == "__main__":
    main()
