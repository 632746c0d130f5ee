"""Whether Bolink answers, and the pacing that keeps the booth inside Bolink's rate limits."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Listener = Callable[[bool, str], None]


class Link:
    """Online/offline state of the Bolink connection that the relay, the lanes and the window watch.

    Listeners are called with (online, reason) on every change, on the loop's thread.
    """

    def __init__(self) -> None:
        self._online: bool | None = None
        self.reason = "not connected yet"
        self.changed_at = time.monotonic()
        self._listeners: list[Listener] = []
        self._up = asyncio.Event()

    @property
    def online(self) -> bool:
        return bool(self._online)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(online, reason)` on each change; returns the function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def up(self) -> None:
        self._set(True, "")

    def down(self, reason: str) -> None:
        self._set(False, reason)

    async def wait_up(self) -> None:
        await self._up.wait()

    def _set(self, online: bool, reason: str) -> None:
        self.reason = reason
        if self._online is online:
            return
        was_known = self._online is not None
        self._online = online
        self.changed_at = time.monotonic()
        if online:
            self._up.set()
            log.info("Bolink is reachable%s", " again" if was_known else "")
        else:
            self._up.clear()
            log.warning("Bolink is unreachable: %s; reports wait in the local database", reason)
        for listener in list(self._listeners):
            try:
                listener(online, reason)
            except Exception:
                log.exception("a Bolink link listener failed")


class SlidingWindow:
    """At most `limit` events in any `period` seconds, spaced at least `min_gap` apart.

    `acquire(reserve=n)` also leaves n slots free for callers that must not wait (answers to a driver at the exit).
    """

    def __init__(self, limit: int, period: float, *, min_gap: float = 0.0, clock: Callable[[], float] = time.monotonic):
        if limit < 1:
            raise ValueError("a sliding window needs a limit of at least 1")
        self.limit = limit
        self.period = period
        self.min_gap = min_gap
        self._clock = clock
        self._times: deque[float] = deque()

    @classmethod
    def per_second(cls, rate: float, *, jitter_s: float = 0.02) -> SlidingWindow:
        """A pace of about `rate` events a second: never more than floor(rate) in any one second, evenly spaced.

        The window is `jitter_s` longer than a second so that requests arriving a little unevenly at the far end
        still never put floor(rate) + 1 into one of its seconds.
        """
        return cls(max(1, math.floor(rate)), 1.0 + jitter_s, min_gap=1.0 / rate)

    def _wait_needed(self, reserve: int) -> float:
        now = self._clock()
        while self._times and self._times[0] <= now - self.period:
            self._times.popleft()
        wait = 0.0
        reserve = min(reserve, self.limit - 1)
        if (need := len(self._times) + reserve - self.limit + 1) > 0:
            wait = self._times[need - 1] + self.period - now  # the moment enough old events have left the window
        if self._times and self.min_gap:
            wait = max(wait, self._times[-1] + self.min_gap - now)
        return max(0.0, wait)

    async def acquire(self, reserve: int = 0) -> None:
        while (wait := self._wait_needed(reserve)) > 0:  # noqa: ASYNC110 - the wait is computed; nothing signals it
            await asyncio.sleep(wait)
        self._times.append(self._clock())

    def used(self) -> int:
        now = self._clock()
        return sum(1 for t in self._times if t > now - self.period)


@dataclass
class Backoff:
    """Exponential backoff with full jitter, for a peer that is down or failing."""

    first: float = 1.0
    cap: float = 60.0
    attempts: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.first * 2**self.attempts)
        self.attempts += 1
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security

    def reset(self) -> None:
        self.attempts = 0
