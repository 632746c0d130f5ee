"""What the lanes do with each Bolink downlink (the `DownlinkHandler` of `booth_app.bolink.downlinks`).

Prices come from the local tariff for the stay; a payment Bolink reports closes the pending exit it belongs to and
opens that gate. Every handler is idempotent by order id and trade number, because Bolink repeats a message it did
not hear answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from booth_app.bolink.client import SdkClient
from booth_app.bolink.downlinks import PaymentNotices, QuerySchedule, follow_payment
from booth_app.bolink.messages import (
    LIFTROD_OPEN,
    OUTPARK_FAILED,
    OUTPARK_PAID,
    PRICE_SCENE_EXIT,
    SWEEP_PAY_CODE,
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
    seconds,
)
from booth_app.core.decisions import settle_exit
from booth_app.core.tariff import minutes
from booth_app.core.types import ZERO, Direction, Payment, PaymentChannel, Stay, StayKind, Vehicle, VehicleKind
from booth_app.lanes import reports
from booth_app.lanes.controller import LaneController, new_order_id

log = logging.getLogger(__name__)

PAY_CHANNELS = {"wallet": PaymentChannel.WALLET, "sweepcode": PaymentChannel.SWEEPCODE, "etc_pay": PaymentChannel.ETC}


class LanesDownlinkHandler:
    """Answers Bolink for all the lanes of this booth."""

    def __init__(
        self,
        lanes: Mapping[str, LaneController],
        *,
        client: SdkClient | None = None,
        notices: PaymentNotices | None = None,
        schedule: QuerySchedule | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.lanes = dict(lanes)
        self.client = client
        self.notices = notices
        self.schedule = schedule or QuerySchedule()
        self._clock = clock
        self._follows: dict[str, asyncio.Task[None]] = {}

    @property
    def _any(self) -> LaneController:
        return next(iter(self.lanes.values()))

    async def _stay_for(self, order_id: str, car_number: str) -> Stay | None:
        store = self._any.context.store
        if order_id and (stay := await store.stay(order_id)) is not None:
            return stay
        return await store.inside(car_number) if car_number else None

    def _exit_with(self, order_id: str) -> LaneController | None:
        for lane in self.lanes.values():
            if lane.pending is not None and lane.pending.stay.order_id == order_id:
                return lane
        return None

    # ------------------------------------------------------------ prices and payments

    async def query_price(self, message: QueryPrice) -> QueryPriceAnswer:
        lane = self.lanes.get(message.channel_id)
        stay = await self._stay_for(message.order_id, message.car_number)
        if stay is None and lane is not None and lane.pending is not None:
            stay = lane.pending.stay
        if stay is None or stay.left_at is not None:
            return QueryPriceAnswer(state=0, errmsg="未找到在场记录", order_id=message.order_id,
                                    query_order_no=message.query_order_no)  # fmt: skip
        context = self._any.context
        now = self._clock()
        vehicle = await context.store.vehicle(stay.plate)
        decision = settle_exit(stay, vehicle, context.tariff, context.rules, now)
        total = decision.fee.total if decision.fee is not None else ZERO
        if message.pay_scene == PRICE_SCENE_EXIT:
            self._follow(stay)
        return QueryPriceAnswer(
            order_id=stay.order_id, car_number=stay.plate, price=decision.due, total=total,
            duration=minutes(now - stay.entered_at), free_out_time=context.rules.free_out_minutes,
            derate_money=stay.prepaid, query_time=message.query_time or seconds(now),
            query_order_no=message.query_order_no,
        )  # fmt: skip

    def _follow(self, stay: Stay) -> None:
        """Ask Bolink about this order on seed 004's schedule in case its payment result gets lost."""
        if self.client is None or self.notices is None or stay.order_id in self._follows:
            return
        loop = asyncio.get_running_loop()

        async def follow() -> None:
            notice = await follow_payment(self.client, self.notices, stay.order_id, stay.plate,  # type: ignore[arg-type]
                                          priced_at=loop.time(), schedule=self.schedule)  # fmt: skip
            if notice is not None and notice.paid:
                await self._paid(stay.order_id, notice.total, notice.trade_no, notice.pay_type)

        task = asyncio.create_task(follow())
        self._follows[stay.order_id] = task
        task.add_done_callback(lambda _: self._follows.pop(stay.order_id, None))

    async def _paid(self, order_id: str, total: Decimal, trade_no: str, pay_type: str) -> bool:
        """An electronic payment for `order_id`: close the exit waiting for it, or credit the stay inside."""
        channel = PAY_CHANNELS.get(pay_type, PaymentChannel.SCANCODE)
        lane = self._exit_with(order_id)
        if lane is not None:
            return await lane.settle(channel, total, trade_no=trade_no, order_id=order_id) is not None
        store = self._any.context.store
        stay = await store.stay(order_id)
        if stay is None or stay.left_at is not None:
            return False
        if any(p.trade_no == trade_no for p in await store.payments(order_id)):
            return True
        # Paid at the exit code before the car reached the camera, or paid ahead: it counts as a prepayment.
        await store.prepay(Payment(order_id, channel, total, self._clock(), trade_no, reason="paid before the exit"))
        return True

    async def outpark(self, message: Outpark) -> OutparkAnswer:
        if message.state == OUTPARK_PAID:
            await self._paid(message.order_id, message.total, message.trade_no, message.pay_type)
        elif message.state == OUTPARK_FAILED and (lane := self._exit_with(message.order_id)) is not None:
            await lane.display.show((lane.pending.stay.plate if lane.pending else "", "支付失败", "请重新支付"))
        return OutparkAnswer(trade_no=message.trade_no, order_id=message.order_id)

    async def query_order_result(self, message: QueryOrderResult) -> None:
        for record in message.records:
            if record.state == 1:
                await self._paid(record.order_id, record.money, record.trade_no, record.pay_type)

    async def prepay_order(self, message: PrepayOrder) -> PrepayOrderAnswer:
        store = self._any.context.store
        stay = await self._stay_for(message.order_id, message.car_number)
        if stay is None or stay.left_at is not None:
            return PrepayOrderAnswer(state=0, errmsg="未找到在场记录", order_id=message.order_id)
        known = any(p.trade_no == message.trade_no for p in await store.payments(stay.order_id))
        if not known:
            payment = Payment(stay.order_id, PaymentChannel.PREPAY, message.prepay, self._clock(), message.trade_no)
            await store.prepay(payment)
        return PrepayOrderAnswer(order_id=stay.order_id, prepay=message.prepay, trade_no=message.trade_no,
                                 query_time=message.query_time)  # fmt: skip

    async def sweepcode(self, message: Sweepcode) -> SweepcodeAnswer:
        lane = self.lanes.get(message.channel_id)
        if lane is None or lane.pending is None:
            return SweepcodeAnswer(state=0, errmsg="该通道没有待缴费车辆", channel_id=message.channel_id)
        order_id = lane.pending.stay.order_id
        if message.type == SWEEP_PAY_CODE:
            await lane.charge_payment_code(message.authcode)
        else:  # a receipt of a payment made elsewhere: good enough to open, even while Bolink is away
            await lane.settle(PaymentChannel.SCANCODE, trade_no=message.pay_info[:64], order_id=order_id)
        return SweepcodeAnswer(order_id=order_id, channel_id=message.channel_id)

    # ------------------------------------------------------------ gates and cars

    async def nolicence_in_park(self, message: NolicenceInPark) -> NolicenceInParkAnswer:
        lane = self.lanes.get(message.channel_id)
        if lane is None or lane.direction is not Direction.IN:
            return NolicenceInParkAnswer(state=0, errmsg="不是本岗亭的入口", channel_id=message.channel_id)
        store = lane.context.store
        existing = await store.inside(message.car_number)
        if existing is not None:  # Bolink asked again: the car is already in
            return NolicenceInParkAnswer(order_id=existing.order_id, car_number=message.car_number,
                                         channel_id=message.channel_id)  # fmt: skip
        now = self._clock()
        stay = Stay(new_order_id(lane.lane_id, now), message.car_number, now, lane.lane_id, StayKind.UNPLATED)
        occupied = await store.count_inside()
        await store.enter(stay, [reports.in_park(stay, empty_plot=max(0, lane.context.rules.capacity - occupied - 1))])
        lane.context.reported()
        await lane.display.show(("无牌车", "欢迎光临"))
        await lane.display.speak("欢迎光临")
        await lane.gate.open("entry:unplated")
        return NolicenceInParkAnswer(order_id=stay.order_id, car_number=stay.plate, channel_id=lane.lane_id)

    async def operate_liftrod(self, message: OperateLiftrod) -> OperateLiftrodAnswer:
        lane = self.lanes.get(message.channel_id)
        if lane is None:
            return OperateLiftrodAnswer(state=0, errmsg="未知通道", channel_id=message.channel_id,
                                        operate=message.operate)  # fmt: skip
        if message.operate == LIFTROD_OPEN:
            await lane.manual_open("泊链远程抬杆", operator_id=None, uid=message.uid or "bolink")
        else:
            await lane.gate.close()
        return OperateLiftrodAnswer(channel_id=lane.lane_id, operate=message.operate)

    async def monthcard_pay(self, message: MonthcardPay) -> MonthcardPayAnswer:
        store = self._any.context.store
        today = self._clock().astimezone(self._any.context.rules.tz).date()
        current = await store.vehicle(message.car_number)
        start = current.valid_from if current is not None and current.kind is VehicleKind.MONTH else today
        if message.e_time:
            end = datetime.fromtimestamp(message.e_time, self._any.context.rules.tz).date()
        else:
            base = max(today, current.valid_to) if current is not None and current.valid_to else today
            end = _add_months(base, message.months or 1)
        note = f"续费 {message.pay_money} 元 {message.trade_no}"
        owner = current.owner if current else ""
        renewed = Vehicle(message.car_number, VehicleKind.MONTH, min(start, today), end, owner, note)
        await store.put_vehicles([renewed])
        return MonthcardPayAnswer(trade_no=message.trade_no, pay_money=message.pay_money)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    return day + timedelta(days=30 * months)
