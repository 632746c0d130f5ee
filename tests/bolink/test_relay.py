"""The outbox relay drains a real SQLite outbox into the simulator: in order, once, at pace, through outages."""

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from booth_app.bolink.client import SdkClient
from booth_app.bolink.link import Backoff, SlidingWindow
from booth_app.bolink.messages import InPark, OutPark
from booth_app.bolink.relay import OutboxRelay
from booth_app.sim.bolink import BolinkSim
from booth_app.store.outbox import Report
from booth_app.store.store import Store

from .conftest import ACCOUNT, until


def reports_for(order: int) -> list[Report]:
    entry = {"car_number": f"京A{order:05d}", "in_time": 1763800000 + order, "order_id": f"A1-{order:05d}",
             "empty_plot": 100, "in_channel_id": "A1"}  # fmt: skip
    return [
        InPark(**entry).report(),
        OutPark(**entry, out_time=1763803600 + order, out_channel_id="B1", duration=60).report(),
    ]


async def queue_orders(store: Store, orders: range) -> int:
    reports = [report for order in orders for report in reports_for(order)]
    await store.queue(reports)
    return len(reports)


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def drained(store: Store, *, within: float = 20.0) -> None:
    async def empty() -> bool:
        return await store.outbox_backlog() == 0

    await until(empty, within=within)


async def counted(store: Store, state: str, at_least: int) -> bool:
    return (await store.outbox_counts())[state] >= at_least


def relay_for(store: Store, client: SdkClient, **options: object) -> OutboxRelay:
    defaults: dict[str, object] = {"uploads_per_s": 50.0, "idle_s": 0.05, "backoff": Backoff(first=0.05, cap=0.2)}
    return OutboxRelay(store, client, **(defaults | options))  # type: ignore[arg-type]


def assert_each_once_and_in_order(sim: BolinkSim, expected: int) -> None:
    fresh = [r for r in sim.uploads if (r.service, r.data["order_id"]) in sim.processed
             and sim.processed[(r.service, r.data["order_id"])] is r]  # fmt: skip
    assert len(fresh) == expected, "every report arrives, and once as a new one"
    assert len(sim.processed) == expected
    seen: dict[str, list[str]] = {}
    for received in sim.uploads:
        seen.setdefault(received.data["order_id"], []).append(received.service)
    assert all(services[0] == "in_park" and "out_park" in services for services in seen.values())
    for services in seen.values():  # an order's out_park never overtakes its in_park
        assert services.index("out_park") > services.index("in_park")


async def test_a_backlog_drains_in_order_once_each(sim: BolinkSim, client: SdkClient, store: Store) -> None:
    count = await queue_orders(store, range(40))
    relay = relay_for(store, client)
    async with running(relay):
        await drained(store)
    assert_each_once_and_in_order(sim, count)
    assert await store.outbox_counts() == {"pending": 0, "sent": count, "rejected": 0}
    assert relay.counts.sent == count
    assert sim.duplicates == 0


async def test_the_pace_stays_under_ten_a_second(sim: BolinkSim, client: SdkClient, store: Store) -> None:
    count = await queue_orders(store, range(12))
    async with running(relay_for(store, client, uploads_per_s=9.0)):
        await drained(store, within=10)
    assert_each_once_and_in_order(sim, count)
    assert sim.too_fast == 0
    spread = sim.uploads[-1].at - sim.uploads[0].at
    assert spread >= (count - 1) / 9 - 0.05  # 24 uploads at 9/s take at least 2.5 s


async def test_an_outage_in_the_middle_of_a_drain_loses_and_duplicates_nothing(
    sim: BolinkSim, client: SdkClient, store: Store
) -> None:
    count = await queue_orders(store, range(40))  # 80 uploads: inside the client's 98-in-10-s window
    relay = relay_for(store, client, uploads_per_s=40.0)
    states: list[bool] = []
    client.link.subscribe(lambda online, _reason: states.append(online))
    async with running(relay):
        await until(lambda: len(sim.uploads) >= 20, within=10)
        await sim.fault("down")
        await asyncio.sleep(0.5)
        assert await store.outbox_backlog() > 0
        await sim.fault("5xx")
        await asyncio.sleep(0.3)
        await sim.fault(None)
        await drained(store)
    assert_each_once_and_in_order(sim, count)
    assert states[:3] == [True, False, True]
    assert relay.counts.outages >= 1


async def test_an_upload_accepted_before_a_crash_is_not_counted_twice(
    sim: BolinkSim, client: SdkClient, store: Store
) -> None:
    (entry, exit_) = reports_for(1)
    await client.send(InPark.model_validate(entry.data))  # uploaded, then the booth died before marking it sent
    await store.queue([entry, exit_])
    relay = relay_for(store, client)
    async with running(relay):
        await drained(store)
    assert sim.duplicates == 1
    assert relay.counts.duplicates == 1
    assert_each_once_and_in_order(sim, 2)


async def test_it_resumes_after_a_restart(sim: BolinkSim, client: SdkClient, store: Store) -> None:
    count = await queue_orders(store, range(30))
    async with running(relay_for(store, client, uploads_per_s=20.0)):
        await until(lambda: len(sim.uploads) >= 10, within=10)
    assert await store.outbox_backlog() > 0
    fresh_client = SdkClient(sim.sdk_url, ACCOUNT, timeout=2.0)  # a new process logs in again
    async with running(relay_for(store, fresh_client)):
        await drained(store)
    await fresh_client.aclose()
    assert_each_once_and_in_order(sim, count)


async def test_a_rate_limit_refusal_pauses_and_nothing_is_lost(sim: BolinkSim, store: Store) -> None:
    sim.rate_limit, sim.rate_window = 15, 1.0
    greedy = SdkClient(sim.sdk_url, ACCOUNT, timeout=2.0, window=SlidingWindow(1000, 1.0))
    count = await queue_orders(store, range(15))
    relay = relay_for(store, greedy, uploads_per_s=200.0, rate_limit_pause_s=1.0)
    async with running(relay):
        await drained(store)
    await greedy.aclose()
    assert relay.counts.rate_limited >= 1
    assert sim.refusals["request_over_times"] == relay.counts.rate_limited
    assert_each_once_and_in_order(sim, count)


async def test_a_window_matching_bolinks_never_trips_it(sim: BolinkSim, store: Store) -> None:
    sim.rate_limit, sim.rate_window = 15, 1.0
    polite = SdkClient(sim.sdk_url, ACCOUNT, timeout=2.0, window=SlidingWindow(14, 1.0))
    count = await queue_orders(store, range(15))
    async with running(relay_for(store, polite, uploads_per_s=200.0)):
        await drained(store)
    await polite.aclose()
    assert sim.refusals["request_over_times"] == 0
    assert_each_once_and_in_order(sim, count)


async def test_a_report_refused_on_its_merits_is_retried_then_kept_as_rejected(
    sim: BolinkSim, client: SdkClient, store: Store
) -> None:
    await store.queue([Report("no_such_service", {"order_id": "X-1"}, order_id="X-1"), *reports_for(2)])
    relay = relay_for(store, client, max_attempts=2)
    clock = [datetime.now(UTC)]
    relay._clock = lambda: clock[0]
    async with running(relay):
        await until(lambda: counted(store, "sent", 2), within=10)
        clock[0] += timedelta(hours=2)  # the retry falls due
        relay.wake()
        await until(lambda: counted(store, "rejected", 1), within=10)
    assert relay.counts.refused == 2
    assert await store.outbox_counts() == {"pending": 0, "sent": 2, "rejected": 1}
    assert Counter(r.service for r in sim.uploads)["in_park"] == 1


@pytest.mark.parametrize("fault", ["slow"])
async def test_a_slow_bolink_still_drains(sim: BolinkSim, store: Store, fault: str) -> None:
    await sim.fault(fault, delay=0.2)
    client = SdkClient(sim.sdk_url, ACCOUNT, timeout=2.0)
    count = await queue_orders(store, range(3))
    async with running(relay_for(store, client)):
        await drained(store)
    await client.aclose()
    assert_each_once_and_in_order(sim, count)
