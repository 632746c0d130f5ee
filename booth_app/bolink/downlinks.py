"""Messages Bolink sends down: the long-poll loop, the handler the lanes implement, and payment notices.

Every downlink's sign is checked before anything acts on it; a bad one, an unknown service, a malformed `data` and a
handler that fails are each logged and answered `state:0`, and the loop goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from booth_app.bolink.client import BolinkError, Refused, SdkClient, Unreachable
from booth_app.bolink.link import Backoff
from booth_app.bolink.messages import (
    DOWNLINKS,
    OUTPARK_FAILED,
    OUTPARK_PAID,
    Answer,
    Message,
    MonthcardPay,
    MonthcardPayAnswer,
    NolicenceInPark,
    NolicenceInParkAnswer,
    OperateLiftrod,
    OperateLiftrodAnswer,
    Outpark,
    OutparkAnswer,
    PrepayOrder,
    PrepayOrderAnswer,
    QueryOrder,
    QueryOrderResult,
    QueryPrice,
    QueryPriceAnswer,
    Service,
    Sweepcode,
    SweepcodeAnswer,
    millis,
)
from booth_app.bolink.signing import BadMessage, Envelope

log = logging.getLogger(__name__)


class DownlinkHandler(Protocol):
    """What the lanes layer does with each downlink; each method returns the answer Bolink wants."""

    async def query_price(self, message: QueryPrice) -> QueryPriceAnswer: ...
    async def prepay_order(self, message: PrepayOrder) -> PrepayOrderAnswer: ...
    async def outpark(self, message: Outpark) -> OutparkAnswer: ...
    async def nolicence_in_park(self, message: NolicenceInPark) -> NolicenceInParkAnswer: ...
    async def operate_liftrod(self, message: OperateLiftrod) -> OperateLiftrodAnswer: ...
    async def sweepcode(self, message: Sweepcode) -> SweepcodeAnswer: ...
    async def monthcard_pay(self, message: MonthcardPay) -> MonthcardPayAnswer: ...
    async def query_order_result(self, message: QueryOrderResult) -> None: ...


@dataclass(frozen=True, slots=True)
class PaymentNotice:
    """Bolink's word on an order's electronic payment, from an `outpark` downlink or a `query_order` answer."""

    order_id: str
    paid: bool
    trade_no: str = ""
    total: Decimal = Decimal(0)
    pay_type: str = ""
    source: str = ""


class PaymentNotices:
    """Lets an exit wait for the payment result of its order, whichever downlink brings it.

    A notice that arrives before anyone waits is kept for a while, so a result racing its own request is not lost.
    """

    def __init__(self, *, keep: int = 256) -> None:
        self._waiters: dict[str, list[asyncio.Future[PaymentNotice]]] = {}
        self._recent: OrderedDict[str, PaymentNotice] = OrderedDict()
        self._keep = keep

    def expect(self, order_id: str) -> asyncio.Future[PaymentNotice]:
        future: asyncio.Future[PaymentNotice] = asyncio.get_running_loop().create_future()
        if (notice := self._recent.get(order_id)) is not None:
            future.set_result(notice)
        else:
            self._waiters.setdefault(order_id, []).append(future)
        return future

    def forget(self, order_id: str) -> None:
        self._recent.pop(order_id, None)
        for future in self._waiters.pop(order_id, []):
            future.cancel()

    def settle(self, notice: PaymentNotice) -> None:
        self._recent[notice.order_id] = notice
        self._recent.move_to_end(notice.order_id)
        while len(self._recent) > self._keep:
            self._recent.popitem(last=False)
        for future in self._waiters.pop(notice.order_id, []):
            if not future.done():
                future.set_result(notice)


Dispatch = Callable[[Any], Awaitable[Message | None]]


@dataclass
class DownlinkPump:
    """Long-polls download.do for as long as it runs, and answers every downlink."""

    client: SdkClient
    handler: DownlinkHandler
    notices: PaymentNotices = field(default_factory=PaymentNotices)
    backoff: Backoff = field(default_factory=Backoff)
    rejected: int = 0  # downlinks refused for a bad sign or bad content
    handled: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self) -> None:
        try:
            while True:
                await self._poll_once()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _poll_once(self) -> None:
        try:
            received = await self.client.download()
        except BadMessage as exc:
            self.rejected += 1
            log.warning("rejected a Bolink downlink%s: %s", f" {exc.service}" if exc.service else "", exc)
            if exc.service:
                await self._answer(exc.service, Answer(state=0, errmsg=f"rejected: {exc}"[:200]))
            return
        except (Unreachable, Refused) as exc:
            delay = self.backoff.next_delay()
            log.debug("download.do failed (%s); polling again in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            return
        self.backoff.reset()
        if received is not None:
            task = asyncio.create_task(self.dispatch(received))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def dispatch(self, received: Envelope) -> None:
        """Act on one checked downlink and send its answer."""
        service = received.service
        model = DOWNLINKS.get(service)
        order_id = received.data.get("order_id", "") if isinstance(received.data, dict) else ""
        if model is None:
            log.warning("Bolink sent an unknown downlink %r; answered state 0", service)
            await self._answer(service or "unknown", Answer(state=0, errmsg=f"unknown service {service!r}"))
            return
        try:
            message = model.parse(received.data)
        except ValueError as exc:
            self.rejected += 1
            log.warning("rejected a Bolink %s downlink: %s", service, exc)
            await self._answer(service, Answer(state=0, errmsg=str(exc)[:200]))
            return
        try:
            answer = await self._handle(service, message)
        except Exception as exc:
            log.exception("the booth could not handle Bolink's %s for order %s", service, order_id or "-")
            await self._answer(service, Answer(state=0, errmsg=f"booth error: {type(exc).__name__}"))
            return
        self.handled += 1
        if answer is not None:
            await self._answer(service, answer)

    async def _handle(self, service: str, message: Any) -> Message | None:
        handler = self.handler
        match service:
            case Service.QUERY_ORDER:
                for record in message.records:
                    if record.state == 1:
                        self.notices.settle(
                            PaymentNotice(
                                record.order_id, True, record.trade_no, record.money, record.pay_type, "query_order"
                            )
                        )
                await handler.query_order_result(message)
                return None
            case Service.OUTPARK:
                answer = await handler.outpark(message)
                if message.state in (OUTPARK_PAID, OUTPARK_FAILED):
                    self.notices.settle(
                        PaymentNotice(
                            message.order_id,
                            message.state == OUTPARK_PAID,
                            message.trade_no,
                            message.total,
                            message.pay_type,
                            "outpark",
                        )
                    )
                return answer
            case _:
                method: Dispatch = getattr(handler, service)
                return await method(message)

    async def _answer(self, service: str, answer: Message) -> None:
        try:
            await self.client.answer(service, answer)
        except BolinkError as exc:
            log.warning("could not answer Bolink's %s: %s", service, exc)


@dataclass(frozen=True)
class QuerySchedule:
    """When to ask about a payment whose result has not come (seed 004): 10 s after the price, every 2 s, for 2 min."""

    start_after: float = 10.0
    every: float = 2.0
    give_up_after: float = 120.0

    def offsets(self) -> list[float]:
        """Seconds after the price was returned at which a query_order goes out."""
        count = int((self.give_up_after - self.start_after) // self.every) + 1
        return [self.start_after + i * self.every for i in range(count)]


async def follow_payment(
    client: SdkClient,
    notices: PaymentNotices,
    order_id: str,
    car_number: str,
    *,
    priced_at: float,
    schedule: QuerySchedule | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> PaymentNotice | None:
    """Wait for the payment of an order whose price was returned at `priced_at` (monotonic seconds), asking Bolink
    with query_order on the schedule. Returns the notice, or None when the schedule ran out without one.
    """
    plan = schedule or QuerySchedule()
    result = notices.expect(order_id)
    try:
        for offset in plan.offsets():
            delay = priced_at + offset - clock()
            if delay > 0:
                done, _ = await asyncio.wait({result}, timeout=delay)
                if done:
                    return result.result()
            elif result.done():
                return result.result()
            query = QueryOrder(order_id=order_id, car_number=car_number or None, time_temp=millis(datetime.now(UTC)))
            try:
                await client.send(query)
            except BolinkError as exc:
                log.debug("query_order for %s not sent: %s", order_id, exc)
        remaining = priced_at + plan.give_up_after - clock()
        done, _ = await asyncio.wait({result}, timeout=max(0.0, remaining))
        return result.result() if done else None
    finally:
        if not result.done():
            result.cancel()
