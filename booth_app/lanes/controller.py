"""One lane: a plate read comes in, the core rules decide, the store records it, then the gate and the board act.

The order is the durability rule: a stay (and its Bolink report, in the outbox) is committed before any gate command,
so a crash at any instant never leaves a car through a gate with no record. Reads at one lane are handled one at a
time. At an exit with a fee the lane holds a `PendingExit` until the money arrives by whichever path: cash confirmed
by the cashier, an electronic payment reported by Bolink, the wallet, ETC, or a free release with a reason.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from booth_app.bolink.client import BolinkError
from booth_app.bolink.messages import EtcPay, PayStatus, PayStatusReply, seconds
from booth_app.bolink.service import BolinkService
from booth_app.core.decisions import (
    AlertCashier,
    AwaitMatch,
    AwaitPayment,
    CloseStay,
    CreateStay,
    Decision,
    LaneFacts,
    OpenBarrier,
    Outcome,
    RuleSettings,
    ShowText,
    Speak,
    decide,
    settle_exit,
)
from booth_app.core.tariff import Tariff, minutes
from booth_app.core.types import ZERO, Direction, ManualRelease, Payment, PaymentChannel, PlateRead, Stay, StayKind
from booth_app.lanes import reports
from booth_app.lanes.ports import LaneDisplay, LaneGate, OfflinePolicyName
from booth_app.store.outbox import Report
from booth_app.store.store import Store, StoreError

log = logging.getLogger(__name__)


def new_order_id(lane_id: str, at: datetime) -> str:
    """Unique per stay, across restarts too: lane, time to the millisecond and 24 random bits (Bolink's idempotency
    key everywhere, so it must never repeat)."""
    return f"{lane_id}_{at.astimezone(UTC):%Y%m%d%H%M%S}{at.microsecond // 1000:03d}_{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class LaneEvent:
    """Something the cashier should see: what happened at which lane, and how loud."""

    lane_id: str
    kind: str  # decision | alert | pending | paid | released | match | error
    text: str
    level: Literal["info", "warning", "alarm"] = "info"
    decision: Decision | None = None


@dataclass
class PendingExit:
    """A car at the exit that still owes `due` for `stay`."""

    stay: Stay
    decision: Decision
    due: Decimal
    total: Decimal
    since: datetime
    read_id: str = ""  # the camera read that brought it to the gate
    sweep: tuple[datetime, Report] | None = None  # a payment code Bolink is charging: exit time and the out_park sent
    settled: asyncio.Event = field(default_factory=asyncio.Event)


EventListener = Callable[[LaneEvent], None]


@dataclass
class LaneContext:
    """What every lane shares: the store, the rules, and Bolink (None when reporting is off or has no ukey)."""

    store: Store
    tariff: Tariff
    rules: RuleSettings
    bolink: BolinkService | None = None
    offline_policy: OfflinePolicyName = "cash"
    etc_vendor: str = "jyyh"
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    listeners: list[EventListener] = field(default_factory=list)

    def online(self) -> bool:
        return self.bolink is not None and self.bolink.link.online

    def reported(self) -> None:
        """New reports are in the outbox: upload them now rather than at the relay's next look."""
        if self.bolink is not None:
            self.bolink.relay.wake()


class LaneController:
    def __init__(self, lane_id: str, direction: Direction, context: LaneContext, display: LaneDisplay, gate: LaneGate):
        self.lane_id = lane_id
        self.direction = direction
        self.context = context
        self.display = display
        self.gate = gate
        self.pending: PendingExit | None = None
        self.match: Decision | None = None  # an exit waiting for the cashier to pick the stay
        self._lock = asyncio.Lock()
        self._last_read: dict[str, datetime] = {}
        self._spaces_after_gate: int | None = None

    # ------------------------------------------------------------ plate reads

    async def handle_read(self, read: PlateRead) -> Decision:
        async with self._lock:
            now = read.read_at
            if (done := await self.context.store.stay_by_read(read.read_id)) is not None:
                return await self._resent(read, done)
            facts = await self._facts(read.plate)
            decision = decide(read, self.direction, facts, self.context.tariff, self.context.rules, now)
            if decision.outcome is not Outcome.IGNORED_REPEAT and read.plate:
                self._last_read[read.plate] = now
            await self._carry_out(decision, now, read.plate, facts, read.read_id)
            return decision

    async def _resent(self, read: PlateRead, stay: Stay) -> Decision:
        """A read the store already acted on, sent again by a camera that got no answer (e.g. the booth restarted
        between the commit and the answer): no second order; the gate opens again, since the car may still wait."""
        entering = stay.entry_read_id == read.read_id
        log.info("lane %s: %s was resent; order %s already has it", self.lane_id, read.plate, stay.order_id)
        outcome = Outcome.ENTRY_OPEN if entering else Outcome.EXIT_OPEN
        greeting = "欢迎光临" if entering else "一路顺风"
        commands = (OpenBarrier(f"{'entry' if entering else 'exit'}:resent"), ShowText((stay.plate, greeting)))
        decision = Decision(outcome, stay.plate, commands, stay=stay, flags=("resent",))
        await self._carry_out(decision, read.read_at, stay.plate, LaneFacts(), read.read_id)
        return decision

    async def _facts(self, plate: str) -> LaneFacts:
        store = self.context.store
        if not plate:
            return LaneFacts(occupied=await store.count_inside())
        vehicle = await store.vehicle(plate)
        stay = await store.inside(plate)
        inside = await store.stays_inside() if self.direction is Direction.OUT and stay is None else ()
        return LaneFacts(vehicle, stay, inside, await store.count_inside(), self._last_read.get(plate))

    async def _carry_out(
        self, decision: Decision, now: datetime, plate: str, facts: LaneFacts, read_id: str = ""
    ) -> None:
        if decision.outcome is not Outcome.IGNORED_REPEAT:
            due = f", due {decision.due}" if decision.due else ""
            log.info("lane %s: %s %s%s", self.lane_id, plate or "(no plate)", decision.outcome, due)
        self._emit("decision", f"{plate or '无牌'}: {decision.outcome}", decision=decision)
        for command in decision.commands:
            match command:
                case CreateStay(kind=kind, supersedes=supersedes):
                    await self._enter(plate, kind, now, facts.occupied, supersedes, read_id)
                case CloseStay(pay_type=pay_type):
                    assert decision.stay is not None
                    total = decision.fee.total if decision.fee is not None else ZERO
                    await self._leave(decision.stay, now, total, [], month=pay_type == "monthuser", read_id=read_id)
                case OpenBarrier(reason=reason):
                    await self._open(reason)
                case ShowText(lines=lines):
                    await self.display.show(lines)
                case Speak(text=text):
                    await self.display.speak(text)
                case AlertCashier(message=message, level=level):
                    self._emit("alert", message, level)
                case AwaitPayment(amount=amount):
                    await self._await_payment(decision, amount, now, read_id)
                case AwaitMatch():
                    self.match = decision
                    self._emit("match", f"{plate} 待人工匹配", "warning", decision)
        if self._spaces_after_gate is not None:  # after the gate: on a 9600-baud line this frame costs ~27 ms
            free, self._spaces_after_gate = self._spaces_after_gate, None
            await self.display.show_spaces(free)

    async def _enter(
        self, plate: str, kind: StayKind, now: datetime, occupied: int, supersedes: str | None, read_id: str = ""
    ) -> Stay:
        stay = Stay(new_order_id(self.lane_id, now), plate, now, self.lane_id, kind, entry_read_id=read_id)
        free = max(0, self.context.rules.capacity - occupied - 1)
        await self.context.store.enter(stay, [reports.in_park(stay, empty_plot=free)], supersedes=supersedes)
        self.context.reported()
        self._spaces_after_gate = free if self.direction is Direction.IN else None
        return stay

    async def _leave(
        self,
        stay: Stay,
        now: datetime,
        total: Decimal,
        payments: list[Payment],
        *,
        month: bool = False,
        free_reason: str | None = None,
        sent: Report | None = None,
        read_id: str = "",
    ) -> Stay:
        """Close the stay; `sent` is the out_park already sent for it (a payment code), written again unchanged."""
        report = sent or await self._out_park(stay, now, total, payments, month=month, free_reason=free_reason)
        left = await self.context.store.leave(
            stay.order_id, left_at=now, exit_lane=self.lane_id, fee=total, payments=payments, reports=[report],
            exit_read_id=read_id,
        )  # fmt: skip
        self.context.reported()
        return left

    async def _out_park(
        self,
        stay: Stay,
        now: datetime,
        total: Decimal,
        payments: list[Payment],
        *,
        month: bool = False,
        auth_code: str | None = None,
        free_reason: str | None = None,
    ) -> Report:
        free = max(0, self.context.rules.capacity - await self.context.store.count_inside() + 1)
        return reports.out_park(
            stay, left_at=now, exit_lane=self.lane_id, total=total, payments=payments, empty_plot=free,
            month=month, uid=payments[0].operator if payments else "", auth_code=auth_code, free_reason=free_reason,
        )  # fmt: skip

    async def _open(self, reason: str) -> None:
        try:
            await self.gate.open(reason)
        except Exception as exc:  # the record stands; a person must lift the gate
            log.error("lane %s: the gate did not open (%s): %s", self.lane_id, reason, exc)
            self._emit("error", f"道闸未能抬起：{exc}", "alarm")

    def _emit(self, kind: str, text: str, level: Literal["info", "warning", "alarm"] = "info",
              decision: Decision | None = None) -> None:  # fmt: skip
        event = LaneEvent(self.lane_id, kind, text, level, decision)
        for listener in list(self.context.listeners):
            try:
                listener(event)
            except Exception:
                log.exception("a lane event listener failed")

    # ------------------------------------------------------------ exits that owe money

    async def _await_payment(self, decision: Decision, due: Decimal, now: datetime, read_id: str = "") -> None:
        assert decision.stay is not None
        total = decision.fee.total if decision.fee is not None else due
        self.pending = PendingExit(decision.stay, decision, due, total, now, read_id)
        self.match = None
        self._emit("pending", f"{decision.plate} 应缴 {due:.2f} 元", "info", decision)
        if self.context.online():
            if await self._wallet_pays(decision.stay, due):
                await self._settle(PaymentChannel.WALLET, due)
                return
            assert self.context.bolink is not None
            if url := await self.context.bolink.qrcodes.url(self.lane_id):
                await self.display.show_pay_qr(url, f"{decision.plate} 请扫码缴费", due)
            return
        match self.context.offline_policy:
            case "free":
                await self._settle(
                    PaymentChannel.FREE, ZERO, operator="offline-policy", reason="泊链离线，按策略免费放行"
                )
            case "manual":
                self._emit("alert", f"泊链离线：{decision.plate} 请人工处理", "warning", decision)
            case "forbid":
                await self.display.show((decision.plate, "暂停通行", "请联系管理员"))
                self._emit("alert", f"泊链离线：{decision.plate} 暂停通行", "alarm", decision)
            case _:  # cash
                self._emit("alert", f"泊链离线：{decision.plate} 请收现金 {due:.2f} 元", "warning", decision)

    async def settle(
        self,
        channel: PaymentChannel,
        amount: Decimal | None = None,
        *,
        trade_no: str = "",
        operator: str = "",
        reason: str = "",
        order_id: str | None = None,
    ) -> Stay | None:
        """The pending exit is paid (or released free): close the stay, queue out_park, open, say goodbye.

        `order_id` guards against a payment for another car; returns None when nothing (matching) is pending.
        """
        async with self._lock:
            return await self._settle(
                channel, amount, trade_no=trade_no, operator=operator, reason=reason, order_id=order_id
            )

    async def _settle(
        self,
        channel: PaymentChannel,
        amount: Decimal | None,
        *,
        trade_no: str = "",
        operator: str = "",
        reason: str = "",
        order_id: str | None = None,
    ) -> Stay | None:
        # The caller holds the lock.
        pending = self.pending
        if pending is None or (order_id is not None and order_id != pending.stay.order_id):
            return None
        now = self.context.clock()
        paid = pending.due if amount is None else amount
        payments = [
            Payment(pending.stay.order_id, channel, paid if channel is not PaymentChannel.FREE else ZERO,
                    now, trade_no, operator, self.lane_id, reason)
        ]  # fmt: skip
        left_at, sent = pending.sweep if pending.sweep is not None else (now, None)
        try:
            stay = await self._leave(
                pending.stay, left_at, pending.total, payments, sent=sent,
                free_reason=reason if channel is PaymentChannel.FREE else None, read_id=pending.read_id,
            )  # fmt: skip
        except StoreError as exc:  # it left meanwhile (e.g. released by hand on another path)
            log.warning("lane %s: %s", self.lane_id, exc)
            self.pending = None
            return None
        self.pending = None
        pending.settled.set()
        await self._open(f"exit:{channel}")  # before any text: a gate command must not queue behind the board
        await self.display.hide_pay_qr()
        await self.display.show((stay.plate, "一路顺风"))
        await self.display.speak(f"{stay.plate}一路顺风")
        log.info("lane %s: %s left, %s %s", self.lane_id, stay.plate, channel, paid)
        word = "免费放行" if channel is PaymentChannel.FREE else f"已缴 {paid:.2f} 元（{channel}）"
        self._emit("paid", f"{stay.plate} {word}")
        return stay

    async def _wallet_pays(self, stay: Stay, due: Decimal) -> bool:
        """Bolink's no-password wallet: a member whose wallet can be charged now pays by the exit report itself."""
        assert self.context.bolink is not None
        try:
            status = await self.context.bolink.client.send(PayStatus(car_number=stay.plate, order_id=stay.order_id),
                                                           PayStatusReply)  # fmt: skip
        except BolinkError as exc:
            log.info("lane %s: no wallet answer for %s (%s)", self.lane_id, stay.plate, exc)
            return False
        return status.is_exist == 1 and status.net_status == 1 and status.balance >= due

    async def pay_by_etc(self, lane_no: str, *, wait_s: float = 60.0) -> bool:
        """The ETC antenna read the car's tag: charge its ETC account (state 2: wait for the result)."""
        pending, bolink = self.pending, self.context.bolink
        if pending is None or bolink is None:
            return False
        now = self.context.clock()
        stay = pending.stay
        request = EtcPay(
            park_id=bolink.options.account.park_id, car_number=stay.plate, in_time=seconds(stay.entered_at),
            out_time=seconds(now), pay_type=self.context.etc_vendor, total=f"{pending.due:.2f}",
            order_id=stay.order_id, out_channel_id=self.lane_id, in_channel_id=stay.entry_lane,
            parking_time=str(minutes(now - stay.entered_at)), lane_no=lane_no,
        )  # fmt: skip
        if self.context.etc_vendor == "my":  # Ant's ETC wants these too (seed 000)
            free = max(0, self.context.rules.capacity - await self.context.store.count_inside() + 1)
            request = request.model_copy(update={"empty_plot": free, "total_original": f"{pending.total:.2f}"})
        await self.display.show((stay.plate, "ETC扣费中", "请稍候"))
        try:
            result = await bolink.api.etc_pay(request, bolink.notices, wait_s=wait_s)
        except BolinkError as exc:
            self._emit("alert", f"{stay.plate} ETC 扣费失败：{exc}", "warning")
            return False
        if not result.paid:
            self._emit("alert", f"{stay.plate} ETC 未扣费：{result.errmsg or '超时'}", "warning")
            await self.display.show((stay.plate, "ETC扣费失败", f"请缴费 {pending.due:.2f}元"))
            return False
        settled = await self.settle(
            PaymentChannel.ETC, result.total or pending.due, trade_no=result.trade_no, order_id=stay.order_id
        )
        return settled is not None or pending.settled.is_set()  # Bolink's outpark may have closed it already

    async def pay_cash(self, *, operator: str, amount: Decimal | None = None) -> Stay | None:
        return await self.settle(PaymentChannel.CASH, amount, operator=operator)

    async def release_free(self, reason: str, *, operator: str) -> Stay | None:
        if not reason.strip():
            raise ValueError("a free release needs a reason")
        return await self.settle(PaymentChannel.FREE, ZERO, operator=operator, reason=reason)

    async def charge_payment_code(self, auth_code: str) -> bool:
        """The exit screen read the driver's payment code: Bolink charges it when it receives out_park with it.

        The gate opens when Bolink reports the payment (`outpark`); the exit report is written now, and again
        identically when the stay closes, so Bolink sees the second as the same message.
        """
        if self.pending is None:
            return False
        pending = self.pending
        left_at = self.context.clock()
        payment = Payment(pending.stay.order_id, PaymentChannel.SWEEPCODE, pending.due, left_at, lane_id=self.lane_id)
        report = await self._out_park(pending.stay, left_at, pending.total, [payment], auth_code=auth_code)
        pending.sweep = (left_at, report)
        await self.context.store.queue([report])
        self.context.reported()
        await self.display.show((pending.stay.plate, "正在支付", "请稍候"))
        return True

    # ------------------------------------------------------------ the cashier

    async def confirm_match(self, order_id: str) -> Decision | None:
        """The cashier picked the stay of the car at this exit (a fuzzy or manual match)."""
        store = self.context.store
        stay = await store.stay(order_id)
        if stay is None:
            return None
        now = self.context.clock()
        vehicle = await store.vehicle(stay.plate)
        decision = settle_exit(stay, vehicle, self.context.tariff, self.context.rules, now)
        async with self._lock:
            self.match = None
            await self._carry_out(decision, now, stay.plate, LaneFacts(occupied=await store.count_inside()))
        return decision

    async def manual_open(
        self, reason: str, *, operator_id: int | None, note: str = "", uid: str = "", frame_path: str = ""
    ) -> ManualRelease:
        """Open the gate by hand (or on Bolink's remote command): recorded, and reported as upload_liftrod."""
        if not reason.strip():
            raise ValueError("a manual release needs a reason")
        pending = self.pending
        release = ManualRelease(
            self.lane_id, reason, self.context.clock(), operator_id, note,
            pending.stay.plate if pending else "", pending.stay.order_id if pending else None, frame_path,
        )  # fmt: skip
        await self.context.store.record_manual_release(release, [reports.liftrod(release, uid=uid)])
        self.context.reported()
        await self._open(f"manual:{reason}")
        self._emit("released", f"人工抬杆：{reason}", "warning")
        return release

    def forget_pending(self) -> None:
        """The car at the exit went away (reversed out): the next read starts afresh."""
        self.pending = None
        self.match = None

    def snapshot(self) -> PendingExit | None:
        return None if self.pending is None else replace(self.pending)
