"""Helpers and fixtures more than one test folder uses. Import a fixture by name into the module that needs it."""

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest

from booth_app.sim.display_board import DisplayBoardSim
from drivers.display_bus import DisplayBus
from drivers.serial_link import Backoff

FAST = Backoff(initial=0.02, maximum=0.1)  # reconnect quickly: the tests pull ports away on purpose


class Clock:
    """A clock the test sets: `clock.now = …`; calling it tells the time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def until(condition: Callable[[], object], *, within: float = 10.0, every: float = 0.02) -> None:
    """Wait until `condition()` (sync or async) is true; fail the test after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            value = condition()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return
            await asyncio.sleep(every)


@pytest.fixture(name="sim")
async def display_board_sim() -> AsyncIterator[DisplayBoardSim]:
    """A display-board simulator on a TCP port (every address answers)."""
    sim = DisplayBoardSim()
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture(name="bus")
async def display_bus(sim: DisplayBoardSim) -> AsyncIterator[DisplayBus]:
    """The board driver connected to `sim`: a short ACK timeout, 2 retries (3 tries in all)."""
    bus = DisplayBus(sim.url, ack_timeout=0.2, retries=2, backoff=FAST)
    await bus.start()
    async with asyncio.timeout(5):
        await bus.link.wait_connected()
    yield bus
    await bus.close()
