"""The outbox relay: uploads every queued report to Bolink, at least once, in order per order, at Bolink's pace.

It claims what is due from the store, sends one report at a time (so an order's reports arrive in the order written),
and marks each sent only after Bolink accepted it; a crash in between re-sends it, and Bolink answers the repeat with
`数据已处理过`, which counts as accepted. Booths sharing one database each run a relay: a claim keeps a report to one
relay (another booth's lapses if that booth stops), and every upload waits for its turn in the park's one pace, so the
park as a whole stays within Bolink's rate. While Bolink is away the relay waits with backoff and touches nothing; a
report Bolink refuses on its merits is retried later and, after many refusals, kept as rejected for a person to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from booth_app.bolink.client import Refused, SdkClient, Unreachable
from booth_app.bolink.link import Backoff, SlidingWindow
from booth_app.bolink.messages import ALREADY_PROCESSED, Reply
from booth_app.store.outbox import OutboxItem
from booth_app.store.store import Store

log = logging.getLogger(__name__)

RESERVE = 6  # request slots in Bolink's 10-second window left for answers to drivers while draining
RATE_LIMIT_PAUSE_S = 10.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RelayCounts:
    sent: int = 0
    duplicates: int = 0  # accepted as `数据已处理过`
    refused: int = 0  # state 0 on the report's merits (retried later)
    rate_limited: int = 0
    outages: int = 0  # uploads that found Bolink unreachable


class OutboxRelay:
    """Drains the store's outbox through the SDK client while it runs."""

    def __init__(
        self,
        store: Store,
        client: SdkClient,
        *,
        uploads_per_s: float = 9.0,
        batch: int = 50,
        idle_s: float = 1.0,
        max_attempts: int = 30,
        rate_limit_pause_s: float = RATE_LIMIT_PAUSE_S,
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.client = client
        self.pace = SlidingWindow.per_second(uploads_per_s)
        # The park's pace, shared through the store: floor(rate) turns in a little over a second, as `pace` keeps.
        self.turn_gap = timedelta(seconds=self.pace.period / self.pace.limit)
        self.batch = batch
        self.idle_s = idle_s
        self.max_attempts = max_attempts
        self.rate_limit_pause_s = rate_limit_pause_s
        self.backoff = backoff or Backoff()
        self.counts = RelayCounts()
        self._clock = clock
        self._wake = asyncio.Event()
        client.link.subscribe(lambda online, _reason: self.wake() if online else None)

    def wake(self) -> None:
        """Something new was queued (or Bolink came back): look at the outbox now rather than at the next tick."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the outbox relay hit an unexpected error; it carries on in 5 s")
                await self._pause(5.0)

    async def drain_once(self) -> None:
        """Send what is due now; wait (idle, backoff or rate-limit pause) when there is nothing to do."""
        self._wake.clear()
        items = await self.store.outbox_claim(self._clock(), self.batch)
        if not items:
            await self._pause(self.idle_s)
            return
        for done, item in enumerate(items):
            pause = await self._upload(item)
            if pause:
                await self.store.outbox_release([later.id for later in items[done:]])  # another booth may send them
                await self._pause(pause)
                return

    async def _upload(self, item: OutboxItem) -> float:
        """Upload one report; returns how long to pause the whole relay (0 to go on with the next)."""
        turn = await self.store.upload_slot(self._clock(), self.turn_gap)  # the park's turn (all booths) …
        if (wait := (turn - self._clock()).total_seconds()) > 0:
            await asyncio.sleep(wait)
        await self.pace.acquire()  # … and this booth's own window, taken last so that it holds the real send times
        try:
            raw = await self.client.upload(item.service, item.payload, reserve=RESERVE)
        except Unreachable as exc:
            self.counts.outages += 1
            return self._offline_delay(str(exc))
        except Refused as exc:  # the login itself was refused: wrong account or ukey
            log.error("Bolink refused the booth's login (%s); check park_id, union_id and the ukey", exc.errmsg)
            return self._offline_delay(str(exc))
        reply = Reply.parse(raw) if isinstance(raw.get("state", 0), int) else Reply(errmsg=str(raw))
        errmsg = reply.errmsg
        if reply.ok:
            self.backoff.reset()
            if ALREADY_PROCESSED in errmsg:
                self.counts.duplicates += 1
            self.counts.sent += 1
            await self.store.outbox_sent(item.id, self._clock())
            return 0.0
        refusal = Refused(item.service, errmsg)
        if refusal.rate_limited:
            self.counts.rate_limited += 1
            log.warning("Bolink says the booth sends too fast; pausing uploads for %g s", self.rate_limit_pause_s)
            return self.rate_limit_pause_s
        if refusal.bad_sign or refusal.token_invalid:
            log.error("Bolink refused the booth's %s (%s): check the ukey", item.service, errmsg)
            return self._offline_delay(errmsg)
        return await self._refused(item, errmsg)

    async def _refused(self, item: OutboxItem, errmsg: str) -> float:
        self.counts.refused += 1
        attempts = item.attempts + 1
        give_up = attempts >= self.max_attempts
        retry_in = timedelta(seconds=min(3600.0, 5.0 * 2 ** min(attempts, 10)))
        if give_up:
            log.error(
                "Bolink refused %s for order %s %d times (%s); kept as rejected",
                item.service,
                item.order_id,
                attempts,
                errmsg,
            )
        else:
            log.warning("Bolink refused %s for order %s (%s); retrying later", item.service, item.order_id, errmsg)
        await self.store.outbox_retry(item.id, errmsg or "refused", self._clock() + retry_in, give_up=give_up)
        return 0.0

    def _offline_delay(self, reason: str) -> float:
        delay = self.backoff.next_delay()
        log.debug("outbox upload failed (%s); next try in %.1f s", reason, delay)
        return delay

    async def _pause(self, seconds: float) -> None:
        # asyncio.timeout, not wait_for: 3.11's wait_for runs the wait as a second task, and a cancellation that
        # lands as that task finishes left the relay waiting for a wake-up that never came (shutdown hung)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
