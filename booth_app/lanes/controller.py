"""One lane: a plate read comes in, the core rules decide, the store records it, then the gate and the board act.

The order is the durability rule: a stay (and its Bolink report, in the outbox) is committed before any gate command,
so a crash at any instant never leaves a car through a gate with no record. Reads at one lane are handled one at a
time. At an exit with a fee the lane holds a `PendingExit` until the money arrives by whichever path: cash confirmed
by the cashier, an electronic payment reported by Bolink, the wallet, ETC, or a free release with a reason.

The cashier can correct a misread plate (`correct_plate`). At an exit, and at an entry whose last read let nobody in
(refused, or no plate), the typed plate is decided like a read. At an entry whose last read let a car in, that car is
inside already: its stay is replaced by one with the typed plate (same entry time, lane and camera read, so its
pictures stay with it), and Bolink gets the corrected entry and the misread order closed free with the reason, so
neither side counts the car twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

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
from booth_app.core.plates import normalise
from booth_app.core.tariff import Tariff, minutes
from booth_app.core.types import (
    ZERO,
    Direction,
    ManualRelease,
    Payment,
    PaymentChannel,
    PlateRead,
    Stay,
    StayKind,
    StayState,
)
from booth_app.lanes import reports
from booth_app.lanes.ports import LaneDisplay, LaneGate, OfflinePolicyName
from booth_app.store.outbox import Report
from booth_app.store.store import Store, StoreError

log = logging.getLogger(__name__)

# A correction is about the car at the lane: the last read, if the lane acted on it this recently (else nobody's).
CORRECTS_WITHIN_S = 300.0


def new_order_id(lane_id: str, at: datetime) -> str:
    """Unique per stay, across restarts too: lane, time to the millisecond and 24 random bits (Bolink's idempotency
    key everywhere, so it must never repeat)."""
    return f"{lane_id}_{at.astimezone(UTC):%Y%m%d%H%M%S}{at.microsecond // 1000:03d}_{secrets.token_hex(3)}"


Level = Literal["info", "warning", "alarm"]


@dataclass(frozen=True, slots=True)
class LaneEvent:
    """Something the cashier should see: what happened at which lane, and how loud. By kind:

    * read: a camera read, before the lane acts on it: `read`, and `plate_jpeg` (the camera's plate crop, if sent);
    * decision: what the lane decided (`decision`); match: an exit waits for the cashier to pick the stay;
    * pending: an exit waits for money: `decision` (fee breakdown in `decision.fee`), `amount` due, `qr_url`;
    * paying: a payment is under way (`channel`: the payment code sent to Bolink, or an ETC charge), `amount`;
    * paid: the exit is settled and the gate opened: `channel`, `amount` (0 for a free release);
    * payment_failed: a payment under way did not go through (`channel`; why in `text`); the car still waits;
    * alert, released (opened by hand), error (the gate did not open);
    * gate: the barrier's state changed: `text` is its state ("open", "closed", "error", "unknown"), `detail` why;
    * device: the display board (`device` "board") or the camera (`device` "camera") stopped or started answering.
    """

    lane_id: str
    kind: str
    text: str
    level: Level = "info"
    decision: Decision | None = None
    read: PlateRead | None = None
    plate_jpeg: bytes | None = field(default=None, repr=False)
    channel: str = ""  # a PaymentChannel value
    amount: Decimal | None = None
    qr_url: str = ""
    device: str = ""
    detail: str = ""  # a sentence for whoever fixes the device


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
    qr_url: str = ""  # the lane's payment QR code, when Bolink is there to take the payment
    paying: str = ""  # the PaymentChannel of a payment under way (payment code, ETC); "" when none
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
        self.last_read: PlateRead | None = None  # the last camera read the lane acted on (repeats aside)
        self._last_read_mono = 0.0  # when it was acted on (time.monotonic: camera clocks and stored reads vary)
        self._admitted: Stay | None = None  # the stay the car of `last_read` was let in with, at an entry
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
            if decision.outcome is not Outcome.IGNORED_REPEAT:
                self._seen(read)
                if read.plate:
                    self._last_read[read.plate] = now
            await self._carry_out(decision, now, read.plate, facts, read.read_id)
            return decision

    def _seen(self, read: PlateRead) -> None:
        self.last_read, self._last_read_mono, self._admitted = read, time.monotonic(), None

    def _car_here(self) -> PlateRead | None:
        """The last read, if it is recent enough to be about the car at the lane now."""
        recent = time.monotonic() - self._last_read_mono <= CORRECTS_WITHIN_S
        return self.last_read if recent else None

    async def _resent(self, read: PlateRead, stay: Stay) -> Decision:
        """A read the store already acted on, sent again by a camera that got no answer (e.g. the booth restarted
        between the commit and the answer): no second order; the gate opens again, since the car may still wait."""
        entering = stay.entry_read_id == read.read_id
        self._seen(read)
        self._admitted = stay if entering else None
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
        self.emit("decision", f"{plate or '无牌'}: {decision.outcome}", decision=decision)
        for command in decision.commands:
            match command:
                case CreateStay(kind=kind, supersedes=supersedes):
                    await self._enter(plate, kind, now, facts.occupied, supersedes, read_id)
                case CloseStay(pay_type=pay_type):
                    assert decision.stay is not None
                    total = decision.fee.total if decision.fee is not None else ZERO
                    try:
                        await self._leave(decision.stay, now, total, [], month=pay_type == "monthuser",
                                          read_id=read_id)  # fmt: skip
                    except StoreError as exc:
                        await self._left_elsewhere(plate, decision, exc)
                        return  # no gate: one stay, one exit
                case OpenBarrier(reason=reason):
                    await self._open(reason)
                case ShowText(lines=lines):
                    await self.display.show(lines)
                case Speak(text=text):
                    await self.display.speak(text)
                case AlertCashier(message=message, level=level):
                    self.emit("alert", message, level)
                case AwaitPayment(amount=amount):
                    await self._await_payment(decision, amount, now, read_id)
                case AwaitMatch():
                    self.match = decision
                    self.emit("match", f"{plate} 待人工匹配", "warning", decision)
        if self._spaces_after_gate is not None:  # after the gate: on a 9600-baud line this frame costs ~27 ms
            free, self._spaces_after_gate = self._spaces_after_gate, None
            await self.display.show_spaces(free)

    async def _left_elsewhere(self, plate: str, decision: Decision, exc: StoreError) -> None:
        """The stay was closed at the same moment by another exit (of this booth, or of another booth on a shared
        store): the same plate at two exits at once is a misread or a copied plate, for a person to look at."""
        log.warning("lane %s: %s not let out: %s", self.lane_id, plate, exc)
        self.emit("alert", f"{plate} 已在其他出口出场，请人工核实", "alarm", decision)
        await self.display.show((plate, "请稍候", "人工核实"))

    async def _enter(
        self, plate: str, kind: StayKind, now: datetime, occupied: int, supersedes: str | None, read_id: str = ""
    ) -> Stay:
        stay = Stay(new_order_id(self.lane_id, now), plate, now, self.lane_id, kind, entry_read_id=read_id)
        free = max(0, self.context.rules.capacity - occupied - 1)
        await self.context.store.enter(stay, [reports.in_park(stay, empty_plot=free)], supersedes=supersedes)
        self.context.reported()
        self._admitted = stay
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
            self.emit("error", f"道闸未能抬起：{exc}", "alarm")

    def emit(self, kind: str, text: str, level: Level = "info", decision: Decision | None = None, **fields: Any
             ) -> None:  # fmt: skip
        """Tell every listener (the window, the log view…); a listener that fails is logged, never the lane's problem.

        Listeners run on the event loop before the lane goes on (a read's and a decision's before the gate opens),
        so they must only take note: anything slow belongs in a task or the next turn of the loop.
        """
        event = LaneEvent(self.lane_id, kind, text, level, decision, **fields)
        for listener in list(self.context.listeners):
            try:
                listener(event)
            except Exception:
                log.exception("a lane event listener failed")

    # ------------------------------------------------------------ exits that owe money

    async def _await_payment(self, decision: Decision, due: Decimal, now: datetime, read_id: str = "") -> None:
        assert decision.stay is not None
        total = decision.fee.total if decision.fee is not None else due
        pending = self.pending = PendingExit(decision.stay, decision, due, total, now, read_id)
        self.match = None
        online = self.context.online()
        if online:
            assert self.context.bolink is not None
            pending.qr_url = await self.context.bolink.qrcodes.url(self.lane_id)  # the store's copy: no network
        self.emit("pending", f"{decision.plate} 应缴 {due:.2f} 元", "info", decision, amount=due, qr_url=pending.qr_url)
        if online:
            if await self._wallet_pays(decision.stay, due):
                await self._settle(PaymentChannel.WALLET, due)
                return
            if pending.qr_url and self.pending is pending:
                await self.display.show_pay_qr(pending.qr_url, f"{decision.plate} 请扫码缴费", due)
            return
        match self.context.offline_policy:
            case "free":
                await self._settle(
                    PaymentChannel.FREE, ZERO, operator="offline-policy", reason="泊链离线，按策略免费放行"
                )
            case "manual":
                self.emit("alert", f"泊链离线：{decision.plate} 请人工处理", "warning", decision)
            case "forbid":
                await self.display.show((decision.plate, "暂停通行", "请联系管理员"))
                self.emit("alert", f"泊链离线：{decision.plate} 暂停通行", "alarm", decision)
            case _:  # cash
                self.emit("alert", f"泊链离线：{decision.plate} 请收现金 {due:.2f} 元", "warning", decision)

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
        free = channel is PaymentChannel.FREE
        word = "免费放行" if free else f"已缴 {paid:.2f} 元（{channel}）"
        self.emit("paid", f"{stay.plate} {word}", decision=pending.decision, channel=channel.value,
                  amount=ZERO if free else paid)  # fmt: skip
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
        self._paying(pending, PaymentChannel.ETC, f"{stay.plate} ETC 扣费中")
        await self.display.show((stay.plate, "ETC扣费中", "请稍候"))
        try:
            result = await bolink.api.etc_pay(request, bolink.notices, wait_s=wait_s)
        except BolinkError as exc:
            self.payment_failed(PaymentChannel.ETC, f"{stay.plate} ETC 扣费失败：{exc}", order_id=stay.order_id)
            return False
        if not result.paid:
            reason = f"{stay.plate} ETC 未扣费：{result.errmsg or '超时'}"
            self.payment_failed(PaymentChannel.ETC, reason, order_id=stay.order_id)
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
        self._paying(pending, PaymentChannel.SWEEPCODE, f"{pending.stay.plate} 付款码支付中")
        await self.display.show((pending.stay.plate, "正在支付", "请稍候"))
        return True

    def _paying(self, pending: PendingExit, channel: PaymentChannel, text: str) -> None:
        pending.paying = channel.value
        self.emit("paying", text, decision=pending.decision, channel=channel.value, amount=pending.due)

    def payment_failed(self, channel: PaymentChannel, reason: str, *, order_id: str | None = None) -> None:
        """A payment under way did not go through (Bolink said so, or ETC gave up): the car still waits to pay.

        Wallet refusals are not failures (the driver simply pays another way) and do not come here.
        """
        pending = self.pending
        if pending is None or (order_id is not None and order_id != pending.stay.order_id):
            return
        pending.paying = ""
        if channel is PaymentChannel.SWEEPCODE:
            pending.sweep = None  # the exit report with the code is void: the next payment writes its own
        self.emit("payment_failed", reason, "warning", pending.decision, channel=channel.value, amount=pending.due)

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

    async def correct_plate(self, plate: str, *, operator: str = "") -> Decision:
        """The cashier typed the plate of the car at this lane: decide it again with that plate (see the module doc).

        Never ignored as a repeat. Raises ValueError (one sentence) for an empty plate, or at an exit while a payment
        is under way for the car there.
        """
        plate = normalise(plate)
        if not plate:
            raise ValueError("a corrected plate cannot be empty")
        async with self._lock:
            now = self.context.clock()
            last = self._car_here()
            admitted = self._admitted if last is not None else None
            if self.direction is Direction.IN and admitted is not None:
                current = await self.context.store.stay(admitted.order_id)
                if current is not None and current.state is StayState.INSIDE:
                    return await self._fix_entry(current, plate, now, operator)
            pending = self.pending
            if pending is not None and pending.paying:
                raise ValueError(
                    f"lane {self.lane_id}: a {pending.paying} payment for {pending.stay.plate} is under way; "
                    "wait for it before correcting the plate"
                )
            self.pending = self.match = None
            read_id = last.read_id if last is not None else ""
            if read_id and await self.context.store.stay_by_read(read_id) is not None:
                read_id = ""  # that read let another stay in or out: its pictures stay with that one
            facts = replace(await self._facts(plate), last_read_at=None)
            read = PlateRead(self.lane_id, plate, now, color=last.color if last is not None else "")
            decision = decide(read, self.direction, facts, self.context.tariff, self.context.rules, now)
            log.info("lane %s: the cashier corrected %s to %s", self.lane_id, last.plate if last else "-", plate)
            self._seen(replace(read, read_id=read_id))
            self._last_read[plate] = now
            await self._carry_out(decision, now, plate, facts, read_id)
            return decision

    async def _fix_entry(self, misread: Stay, plate: str, now: datetime, operator: str) -> Decision:
        """The car let in as `misread` carries `plate`: the same visit under the right plate, reported both ways."""
        if plate == misread.plate:
            return Decision(Outcome.ENTRY_OPEN, plate, (), stay=misread, flags=("corrected",))
        store, rules = self.context.store, self.context.rules
        facts = replace(await self._facts(plate), last_read_at=None)
        seen = decide(PlateRead(self.lane_id, plate, now), Direction.IN, facts, self.context.tariff, rules, now)
        kind = next((c.kind for c in seen.commands if isinstance(c, CreateStay)), StayKind.TEMPORARY)
        fixed = replace(misread, order_id=new_order_id(self.lane_id, now), plate=plate, kind=kind,
                        flags=(*misread.flags, "plate_corrected"))  # fmt: skip
        free = max(0, rules.capacity - facts.occupied)  # one stay goes and one comes: the count stays
        closed = reports.out_park(misread, left_at=now, exit_lane=self.lane_id, total=ZERO, payments=[],
                                  empty_plot=free, uid=operator, free_reason=f"车牌更正为{plate}")  # fmt: skip
        await store.enter(fixed, [reports.in_park(fixed, empty_plot=free, uid=operator), closed],
                          supersedes=misread.order_id)  # fmt: skip
        self.context.reported()
        self._admitted = fixed
        self._last_read[plate] = now
        log.info("lane %s: the cashier corrected %s to %s (order %s is now %s)", self.lane_id, misread.plate, plate,
                 misread.order_id, fixed.order_id)  # fmt: skip
        decision = Decision(Outcome.ENTRY_OPEN, plate, (), stay=fixed, flags=(*seen.flags, "corrected"))
        self.emit("decision", f"{misread.plate} 更正为 {plate}", decision=decision)
        if "blacklisted" in seen.flags:
            self.emit("alert", f"黑名单车辆 {plate} 已入场（车牌更正）", "alarm", decision)
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
        self.emit("released", f"人工抬杆：{reason}", "warning")
        return release

    def forget_pending(self) -> None:
        """The car at the exit went away (reversed out): the next read starts afresh."""
        self.pending = None
        self.match = None

    def snapshot(self) -> PendingExit | None:
        return None if self.pending is None else replace(self.pending)
