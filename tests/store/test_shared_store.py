"""Several booths on one database: a stay closed once, the outbox drained once, one pace for the park.

Each booth is its own `Store` (its own engine, connections and worker thread), as separate booth processes are; the
database is a real PostgreSQL server, and where the rule holds for one booth too, a SQLite file as well.
"""

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from booth_app.core.types import Payment, PaymentChannel, Stay, StayState
from booth_app.store import Report, Store, StoreError
from booth_app.store.engine import sqlite_url

NOW = datetime.now(UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "booth.db")  # two booths on one SQLite file: one PC, two processes
    return str(request.getfixturevalue("postgres").database())


@pytest.fixture
async def booths(shared_url: str):
    one = await Store.open(shared_url, booth="booth01")
    two = await Store.open(shared_url, booth="booth02")
    yield one, two
    await one.close()
    await two.close()


def due() -> datetime:
    """A moment by which every report written so far is due."""
    return datetime.now(UTC) + timedelta(seconds=1)


def a_stay(number: int) -> Stay:
    return Stay(order_id=f"A1_{number:04d}", plate=f"京A{number:05d}", entered_at=NOW - timedelta(hours=1),
                entry_lane="A1")  # fmt: skip


async def reports(store: Store, count: int) -> list[str]:
    orders = []
    for number in range(count):
        stay = a_stay(number)
        await store.enter(stay, [Report("in_park", {"order_id": stay.order_id}, stay.order_id)])
        orders.append(stay.order_id)
    return orders


async def test_a_stay_entered_at_one_booth_is_found_and_closed_at_the_other(booths: tuple[Store, Store]) -> None:
    one, two = booths
    stay = await one.enter(a_stay(1))
    assert stay.entry_booth == "booth01"
    assert await two.inside(stay.plate) == stay
    cash = Payment(stay.order_id, PaymentChannel.CASH, Decimal(7), NOW, operator="wang", lane_id="B1")
    left = await two.leave(stay.order_id, left_at=NOW, exit_lane="B1", fee=Decimal(7), payments=[cash])
    assert left.state is StayState.LEFT
    assert await one.inside(stay.plate) is None


async def test_two_booths_closing_the_same_stay_at_once_close_it_once(booths: tuple[Store, Store]) -> None:
    one, two = booths
    stay = a_stay(2)
    await one.enter(stay)

    async def close(store: Store, lane: str) -> str:
        cash = Payment(stay.order_id, PaymentChannel.CASH, Decimal(7), NOW, operator="wang", lane_id=lane)
        try:
            await store.leave(stay.order_id, left_at=NOW, exit_lane=lane, fee=Decimal(7), payments=[cash])
        except StoreError as exc:
            return str(exc)
        return "closed"

    results = await asyncio.gather(close(one, "B1"), close(two, "B2"))  # both transactions start together
    assert results.count("closed") == 1
    (refused,) = [result for result in results if result != "closed"]
    assert "already closed" in refused
    assert len(await one.payments(stay.order_id)) == 1


async def test_each_report_is_claimed_by_one_booth(booths: tuple[Store, Store]) -> None:
    one, two = booths
    orders = await reports(one, 40)
    at = due()
    claimed = await asyncio.gather(one.outbox_claim(at, limit=25), two.outbox_claim(at, limit=25))  # at once
    ids = [item.id for batch in claimed for item in batch]
    assert len(ids) == len(set(ids)) == 40  # every report once, none twice
    assert all(claimed)  # and each booth got some: the second did not wait for the first to finish
    assert sorted(item.order_id for batch in claimed for item in batch) == orders
    assert await one.outbox_claim(at) == claimed[0]  # a booth's relay renews its own claims, takes none of the other's
    assert len(await one.outbox_claim(at + timedelta(seconds=61))) == 40  # until the claims lapse


async def test_a_stopped_booths_claims_lapse_and_the_other_booth_sends_them(booths: tuple[Store, Store]) -> None:
    one, two = booths
    await reports(one, 3)
    at = due()
    taken = await one.outbox_claim(at, lease=timedelta(seconds=30))
    assert len(taken) == 3
    assert await two.outbox_claim(at + timedelta(seconds=29)) == []
    again = await two.outbox_claim(at + timedelta(seconds=30))
    assert [item.id for item in again] == [item.id for item in taken]
    for item in again:
        await two.outbox_sent(item.id, NOW)
    assert await one.outbox_counts() == {"pending": 0, "sent": 3, "rejected": 0}


async def test_released_claims_go_to_the_other_booth_at_once(booths: tuple[Store, Store]) -> None:
    one, two = booths
    await reports(one, 2)
    taken = await one.outbox_claim(due())
    await one.outbox_release([item.id for item in taken])
    assert [item.id for item in await two.outbox_claim(due())] == [item.id for item in taken]


async def test_the_reports_of_one_order_stay_in_order_across_booths(booths: tuple[Store, Store]) -> None:
    one, two = booths
    stay = a_stay(3)
    await one.enter(stay, [Report("in_park", {"order_id": stay.order_id}, stay.order_id)])
    await two.leave(stay.order_id, left_at=NOW, exit_lane="B1", fee=Decimal(0),
                    reports=[Report("out_park", {"order_id": stay.order_id}, stay.order_id)])  # fmt: skip
    (first,) = await one.outbox_claim(due())
    assert first.service == "in_park"
    assert await two.outbox_claim(due()) == []  # out_park waits while in_park is pending at booth01
    await one.outbox_sent(first.id, NOW)
    (second,) = await two.outbox_claim(due())
    assert second.service == "out_park"


async def test_the_park_takes_upload_turns_from_one_pace(booths: tuple[Store, Store]) -> None:
    one, two = booths
    gap = timedelta(milliseconds=113)
    turns = await asyncio.gather(*(store.upload_slot(NOW, gap) for store in (one, two) * 6))
    ordered = sorted(turns)
    assert len(set(turns)) == 12
    assert all(later - earlier == gap for earlier, later in itertools.pairwise(ordered))
    assert ordered[0] == NOW


async def test_a_clock_set_back_does_not_stall_the_pace(booths: tuple[Store, Store]) -> None:
    one, _ = booths
    await one.upload_slot(NOW + timedelta(hours=1), timedelta(milliseconds=113))  # a clock an hour fast, since fixed
    assert await one.upload_slot(NOW, timedelta(milliseconds=113)) == NOW
