"""The pacing that keeps the booth inside Bolink's limits, on a fake clock."""

import asyncio

import pytest

from booth_app.bolink.downlinks import QuerySchedule
from booth_app.bolink.link import Backoff, Link, SlidingWindow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()

    async def fake_sleep(seconds: float) -> None:
        fake.now += seconds

    monkeypatch.setattr("booth_app.bolink.link.asyncio.sleep", fake_sleep)
    return fake


def max_in_any_window(times: list[float], period: float) -> int:
    return max(sum(1 for t in times if start <= t < start + period) for start in times)


async def test_nine_a_second_never_puts_ten_in_one_second(clock: FakeClock) -> None:
    window = SlidingWindow.per_second(9.0)
    window._clock = clock
    times = []
    for _ in range(200):
        await window.acquire()
        times.append(clock.now)
    assert max_in_any_window(times, 1.0) == 9
    assert max_in_any_window(times, 1.02) == 9  # with room for uneven arrival at Bolink
    assert 199 / (times[-1] - times[0]) == pytest.approx(9 / 1.02, rel=0.01)  # and it keeps up the pace


async def test_a_reserve_leaves_room_for_urgent_requests(clock: FakeClock) -> None:
    window = SlidingWindow(10, 10.0, clock=clock)
    for _ in range(7):
        await window.acquire(reserve=3)
    start = clock.now
    await window.acquire(reserve=3)  # the relay waits for the oldest to leave the window
    assert clock.now == pytest.approx(start + 10.0)
    await window.acquire()  # an answer to a driver does not wait
    await window.acquire()
    assert clock.now == pytest.approx(start + 10.0)
    assert window.used() == 3  # the first seven have left the window


async def test_the_window_never_exceeds_its_limit_under_mixed_callers(clock: FakeClock) -> None:
    window = SlidingWindow(98, 10.0, clock=clock)
    times = []
    for i in range(1000):
        await window.acquire(reserve=6 if i % 5 else 0)
        times.append(clock.now)
    assert max_in_any_window(times, 10.0) <= 98


def test_per_second_handles_fractional_rates() -> None:
    window = SlidingWindow.per_second(2.5)
    assert (window.limit, window.min_gap, window.period) == (2, 0.4, 1.02)


def test_query_order_schedule_is_seed_004s() -> None:
    offsets = QuerySchedule().offsets()
    assert offsets[0] == 10.0
    assert offsets[1] - offsets[0] == 2.0
    assert offsets[-1] == 120.0
    assert len(offsets) == 56


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    backoff = Backoff(first=1.0, cap=8.0)
    delays = [backoff.next_delay() for _ in range(8)]
    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0
    assert all(4.0 <= d <= 8.0 for d in delays[4:])
    backoff.reset()
    assert backoff.next_delay() <= 1.0


async def test_link_tells_listeners_of_each_change_once() -> None:
    link = Link()
    seen: list[tuple[bool, str]] = []
    unsubscribe = link.subscribe(lambda online, reason: seen.append((online, reason)))
    link.up()
    link.up()
    link.down("timeout")
    link.down("still down")
    waiter = asyncio.ensure_future(link.wait_up())
    await asyncio.sleep(0)
    assert not waiter.done()
    link.up()
    await waiter
    unsubscribe()
    link.down("gone")
    assert seen == [(True, ""), (False, "timeout"), (True, "")]
