"""Child process for the crash test: commits stays as fast as it can and says so after each commit returns.

`python -m tests.store.crash_writer DB_URL PREFIX`. Every third stay also leaves with a cash payment. A line is printed
only after the store call returned, so every printed order id is a promise that the stay is committed.
"""

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from booth_app.core.types import Payment, PaymentChannel, Stay
from booth_app.store import Report, Store

BASE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def expected_stay(prefix: str, i: int) -> Stay:
    return Stay(
        order_id=f"{prefix}-{i:05d}",
        plate=f"京A{i % 100000:05d}",
        entered_at=BASE + timedelta(seconds=i),
        entry_lane="A1",
        car_type="small" if i % 2 else "large",
    )


def fee(i: int) -> Decimal:
    return Decimal(i % 40) + Decimal("0.50")


def promise(line: str) -> None:
    sys.stdout.write(line + "\n")  # one write, so a kill cannot leave half a promise that looks whole
    sys.stdout.flush()


async def main(url: str, prefix: str) -> None:
    store = await Store.open(url)
    i = 0
    while True:
        stay = expected_stay(prefix, i)
        await store.enter(
            stay, [Report("in_park", {"order_id": stay.order_id, "car_number": stay.plate}, stay.order_id)]
        )
        promise(f"entered {i}")
        if i % 3 == 0:
            left_at = stay.entered_at + timedelta(hours=1)
            await store.leave(
                stay.order_id,
                left_at=left_at,
                exit_lane="B1",
                fee=fee(i),
                payments=[Payment(stay.order_id, PaymentChannel.CASH, fee(i), left_at)],
                reports=[Report("out_park", {"order_id": stay.order_id}, stay.order_id)],
            )
            promise(f"left {i}")
        i += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
