"""How long a durable stay write takes: `Store.enter` on SQLite (WAL, synchronous=FULL), commit and fsync included.

This write sits on the lane's critical path (plate push → gate bytes, p99 budget 20 ms), so it is measured on its own.
Run: `uv run python benchmarks/store_write.py [--count N] [--dir DIR]`. DIR should be on the disk the booth will use.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from booth_app.core.types import Stay
from booth_app.store import Report, Store
from booth_app.store.engine import sqlite_url


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(folder: Path, count: int) -> None:
    store = await Store.open(sqlite_url(folder / "bench.db"))
    start = datetime.now(UTC)
    enter_ms: list[float] = []
    leave_ms: list[float] = []
    loop_lag_ms: list[float] = []

    async def watch_the_loop() -> None:
        # A 5 ms ticker: how late it wakes says whether the database work ever blocks the event loop.
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.005)
            loop_lag_ms.append((time.perf_counter() - t0 - 0.005) * 1000)

    ticker = asyncio.create_task(watch_the_loop())
    for i in range(count):
        stay = Stay(f"BENCH-{i:06d}", f"京A{i % 100000:05d}", start + timedelta(seconds=i), "A1")
        report = Report("in_park", {"order_id": stay.order_id, "car_number": stay.plate, "in_time": i}, stay.order_id)
        t0 = time.perf_counter()
        await store.enter(stay, [report])
        enter_ms.append((time.perf_counter() - t0) * 1000)
        if i % 2:
            t0 = time.perf_counter()
            await store.leave(
                stay.order_id,
                left_at=stay.entered_at + timedelta(hours=1),
                exit_lane="B1",
                fee=stay.prepaid,
                reports=[Report("out_park", {"order_id": stay.order_id})],
            )
            leave_ms.append((time.perf_counter() - t0) * 1000)
    ticker.cancel()
    await store.close()
    for name, samples in (("enter (stay + in_park report)", enter_ms), ("leave (close + out_park report)", leave_ms)):
        print(
            f"{name:34s} n={len(samples):5d}  p50={statistics.median(samples):6.2f} ms  "
            f"p99={percentile(samples, 0.99):6.2f} ms  max={max(samples):6.2f} ms"
        )
    print(
        f"{'event-loop lag while writing':34s} n={len(loop_lag_ms):5d}  p50={statistics.median(loop_lag_ms):6.2f} ms  "
        f"p99={percentile(loop_lag_ms, 0.99):6.2f} ms  max={max(loop_lag_ms):6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        asyncio.run(measure(Path(folder), args.count))


if __name__ == "__main__":
    main()
