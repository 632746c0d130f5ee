"""A Bolink simulator on a real port, and a booth client talking to it over HTTP."""

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from booth_app.bolink.client import Account, SdkClient
from booth_app.bolink.downlinks import DownlinkPump, PaymentNotices
from booth_app.bolink.messages import (
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
    QueryOrderResult,
    QueryPrice,
    QueryPriceAnswer,
    Sweepcode,
    SweepcodeAnswer,
)
from booth_app.sim.bolink import BolinkSim
from booth_app.store.engine import sqlite_url
from booth_app.store.store import Store
from tests.helpers import until  # noqa: F401 - the tests import it from here

UKEY = "TESTUKEY12345678"
PARK = "1001"
ACCOUNT = Account(union_id=200188, park_id=PARK, local_id="booth01_channels_A1_B1", ukey=UKEY)


class RecordingHandler:
    """The lanes' side of the downlinks, reduced to: remember each message and answer as a booth would."""

    def __init__(self) -> None:
        self.seen: list[object] = []
        self.price = Decimal("12.00")
        self.fail_next = False

    def _note(self, message: object) -> None:
        self.seen.append(message)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the lane is busy")

    async def query_price(self, message: QueryPrice) -> QueryPriceAnswer:
        self._note(message)
        order_id = message.order_id or f"order-of-{message.car_number}"
        return QueryPriceAnswer(
            order_id=order_id, car_number=message.car_number, price=self.price, total=self.price, duration=95,
            free_out_time=15, query_time=message.query_time, query_order_no=message.query_order_no,
        )  # fmt: skip

    async def prepay_order(self, message: PrepayOrder) -> PrepayOrderAnswer:
        self._note(message)
        return PrepayOrderAnswer(order_id=message.order_id, prepay=message.prepay, trade_no=message.trade_no)

    async def outpark(self, message: Outpark) -> OutparkAnswer:
        self._note(message)
        return OutparkAnswer(order_id=message.order_id, trade_no=message.trade_no)

    async def nolicence_in_park(self, message: NolicenceInPark) -> NolicenceInParkAnswer:
        self._note(message)
        return NolicenceInParkAnswer(order_id="U1", car_number=message.car_number, channel_id=message.channel_id)

    async def operate_liftrod(self, message: OperateLiftrod) -> OperateLiftrodAnswer:
        self._note(message)
        return OperateLiftrodAnswer(channel_id=message.channel_id, operate=message.operate)

    async def sweepcode(self, message: Sweepcode) -> SweepcodeAnswer:
        self._note(message)
        return SweepcodeAnswer(channel_id=message.channel_id, order_id="B1-order")

    async def monthcard_pay(self, message: MonthcardPay) -> MonthcardPayAnswer:
        self._note(message)
        return MonthcardPayAnswer(trade_no=message.trade_no, pay_money=message.pay_money)

    async def query_order_result(self, message: QueryOrderResult) -> None:
        self._note(message)

    def of(self, kind: type) -> list:
        return [message for message in self.seen if isinstance(message, kind)]


@pytest.fixture
async def sim() -> AsyncIterator[BolinkSim]:
    async with BolinkSim(parks={PARK: UKEY}, poll_timeout=0.3) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: BolinkSim) -> AsyncIterator[SdkClient]:
    booth = SdkClient(sim.sdk_url, ACCOUNT, timeout=2.0, poll_timeout=0.3)
    yield booth
    await booth.aclose()


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
async def pump(client: SdkClient, handler: RecordingHandler) -> AsyncIterator[DownlinkPump]:
    import asyncio
    import contextlib

    from booth_app.bolink.link import Backoff

    running = DownlinkPump(client, handler, PaymentNotices(), backoff=Backoff(first=0.05, cap=0.3))
    task = asyncio.create_task(running.run())
    yield running
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(sqlite_url(tmp_path / "booth.db"), booth="test")
    yield opened
    await opened.close()
