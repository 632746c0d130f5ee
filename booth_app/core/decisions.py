"""Lane rules: from a plate read and what the store knows, what the lane does. Pure functions; `now` is a parameter.

Choices made here (the operator's expectations, written down):
* A plate read again at the same lane within `repeat_read_s` is ignored (cameras fire several times per car).
* Month cards and the whitelist always get in, even when the lot is full (their spaces are theirs); temporary cars
  do not.
* A car that is already inside entering again is let in and flagged: its earlier exit was missed (a misread, a gate
  lifted by hand), so the old stay is closed as superseded rather than stopping the lane.
* An expired month card enters as a temporary car (or is refused, `expired_month_card = "refuse"`).
* At the exit a valid month card or the whitelist leaves free; a month card that ran out during the stay pays the tariff
  from the day after its last valid day; a blacklisted car pays like a temporary car and the cashier is alerted.
* A prepaid stay leaves free within `free_out_minutes` of its last payment; after that it pays the difference.
* A plate found only fuzzily is never guessed: the cashier confirms one of the ranked candidates (or matches by hand).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Literal

from booth_app.core.plates import Candidate, match_candidates
from booth_app.core.tariff import FeeBreakdown, Tariff
from booth_app.core.types import ZERO, Direction, PlateRead, Stay, StayKind, Vehicle, VehicleKind

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class RuleSettings:
    capacity: int
    repeat_read_s: int = 30
    fuzzy_min_equal: int = 5
    expired_month_card: Literal["temporary", "refuse"] = "temporary"
    month_expiry_warning_days: int = 7
    free_out_minutes: int = 15
    tz: tzinfo = CHINA_STANDARD_TIME  # month cards are valid by calendar day in the park's time zone


@dataclass(frozen=True, slots=True)
class LaneFacts:
    """What the store knows that matters for one read, gathered by the lanes layer before deciding."""

    vehicle: Vehicle | None = None  # the list entry for this plate
    stay: Stay | None = None  # a stay inside with exactly this plate
    inside: Sequence[Stay] = ()  # at an exit with no exact stay: the stays inside, for fuzzy matching
    occupied: int = 0  # cars inside now
    last_read_at: datetime | None = None  # when this lane last read this plate


# ---------------------------------------------------------------- commands the lanes layer carries out


@dataclass(frozen=True, slots=True)
class OpenBarrier:
    reason: str


@dataclass(frozen=True, slots=True)
class ShowText:
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Speak:
    text: str


@dataclass(frozen=True, slots=True)
class AlertCashier:
    message: str
    level: Literal["info", "warning", "alarm"] = "warning"


@dataclass(frozen=True, slots=True)
class CreateStay:
    """Record a new stay (and its in_park report) before the gate opens."""

    kind: StayKind
    supersedes: str | None = None  # the order id of this plate's earlier stay, closed as superseded


@dataclass(frozen=True, slots=True)
class CloseStay:
    """Record the exit before the gate opens: nothing more is due (`pay_type` says why)."""

    pay_type: Literal["monthuser", "free", "prepaid"]


@dataclass(frozen=True, slots=True)
class AwaitPayment:
    """Money is due: offer the payment paths; the gate opens when one of them succeeds."""

    amount: Decimal


@dataclass(frozen=True, slots=True)
class AwaitMatch:
    """The cashier must say which stay this car is (from the candidates, or by hand when there are none)."""

    candidates: tuple[Candidate, ...]


Command = OpenBarrier | ShowText | Speak | AlertCashier | CreateStay | CloseStay | AwaitPayment | AwaitMatch


class Outcome(enum.StrEnum):
    IGNORED_REPEAT = "ignored_repeat"
    NO_PLATE = "no_plate"
    ENTRY_OPEN = "entry_open"
    ENTRY_REFUSED_BLACKLIST = "entry_refused_blacklist"
    ENTRY_REFUSED_FULL = "entry_refused_full"
    ENTRY_REFUSED_EXPIRED = "entry_refused_expired"
    EXIT_OPEN = "exit_open"
    EXIT_FEE_DUE = "exit_fee_due"
    EXIT_CONFIRM_MATCH = "exit_confirm_match"
    EXIT_NO_STAY = "exit_no_stay"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    plate: str
    commands: tuple[Command, ...]
    stay: Stay | None = None  # at the exit: the stay being closed
    fee: FeeBreakdown | None = None  # at the exit: what the tariff says, with its parts
    due: Decimal = ZERO  # what the driver still has to pay
    candidates: tuple[Candidate, ...] = ()
    flags: tuple[str, ...] = field(default=())

    @property
    def opens(self) -> bool:
        return any(isinstance(command, OpenBarrier) for command in self.commands)


# ---------------------------------------------------------------- the rules


def decide(
    read: PlateRead, direction: Direction, facts: LaneFacts, tariff: Tariff, rules: RuleSettings, now: datetime
) -> Decision:
    """What the lane does with this read."""
    _aware(now)
    if facts.last_read_at is not None and timedelta(0) <= now - facts.last_read_at < timedelta(
        seconds=rules.repeat_read_s
    ):
        return Decision(Outcome.IGNORED_REPEAT, read.plate, ())
    if not read.plate:
        action = "入场" if direction is Direction.IN else "出场"
        return Decision(Outcome.NO_PLATE, "", (ShowText(("无牌车", f"请扫码{action}")), Speak(f"无牌车请扫码{action}")))
    if direction is Direction.IN:
        return _entry(read.plate, facts, rules, now)
    return _exit(read.plate, facts, tariff, rules, now)


def _entry(plate: str, facts: LaneFacts, rules: RuleSettings, now: datetime) -> Decision:
    vehicle = facts.vehicle
    today = now.astimezone(rules.tz).date()
    flags: list[str] = []
    greeting: tuple[str, ...] = ("欢迎光临",)
    kind = StayKind.TEMPORARY

    if vehicle is not None and vehicle.kind is VehicleKind.BLACKLIST and vehicle.valid_on(today):
        return Decision(
            Outcome.ENTRY_REFUSED_BLACKLIST,
            plate,
            (
                ShowText((plate, "禁止通行")),
                Speak(f"{plate}禁止通行"),
                AlertCashier(f"黑名单车辆 {plate} 在入口" + (f"：{vehicle.note}" if vehicle.note else ""), "alarm"),
            ),
            flags=("blacklisted",),
        )
    if vehicle is not None and vehicle.kind is VehicleKind.MONTH:
        if vehicle.valid_on(today):
            kind = StayKind.MONTH
            greeting = ("月卡车 欢迎光临", *_days_left_line(vehicle, today, rules))
        elif rules.expired_month_card == "refuse":
            return Decision(
                Outcome.ENTRY_REFUSED_EXPIRED,
                plate,
                (ShowText((plate, "月卡已过期", "请续费")), Speak(f"{plate}月卡已过期请续费")),
                flags=("month_expired",),
            )
        else:
            flags.append("month_expired")
            greeting = ("月卡已过期", "按临时车计费")
    elif vehicle is not None and vehicle.kind is VehicleKind.WHITELIST and vehicle.valid_on(today):
        kind = StayKind.WHITELIST
        greeting = ("欢迎光临",)

    # A car "already inside" is in fact at the gate: its stay still counts as occupied, so its space is free.
    occupied = facts.occupied - (1 if facts.stay is not None else 0)
    free_spaces = max(0, rules.capacity - occupied)
    if kind is StayKind.TEMPORARY and free_spaces == 0:
        return Decision(
            Outcome.ENTRY_REFUSED_FULL,
            plate,
            (ShowText((plate, "车位已满")), Speak("车位已满")),
            flags=(*flags, "lot_full"),
        )

    commands: list[Command] = []
    supersedes = None
    if facts.stay is not None:
        supersedes = facts.stay.order_id
        flags.append("already_inside")
        commands.append(AlertCashier(f"{plate} 已在场（{_local(facts.stay.entered_at, rules)} 入场），按重新入场处理"))
    commands += [
        CreateStay(kind, supersedes=supersedes),
        OpenBarrier(f"entry:{kind}"),
        ShowText((plate, *greeting, f"余位 {max(0, free_spaces - 1)}")),
        Speak(f"{plate}{greeting[0].replace(' ', '')}"),
    ]
    return Decision(Outcome.ENTRY_OPEN, plate, tuple(commands), flags=tuple(flags))


def _exit(plate: str, facts: LaneFacts, tariff: Tariff, rules: RuleSettings, now: datetime) -> Decision:
    if facts.stay is not None:
        return settle_exit(facts.stay, facts.vehicle, tariff, rules, now)
    vehicle = facts.vehicle
    today = now.astimezone(rules.tz).date()
    if vehicle is not None and vehicle.kind in (VehicleKind.MONTH, VehicleKind.WHITELIST) and vehicle.valid_on(today):
        # A known car whose entry was never read: nothing to charge, so no reason to hold it at the gate.
        return Decision(
            Outcome.EXIT_OPEN,
            plate,
            (
                AlertCashier(f"{plate} 无入场记录，{_kind_name(vehicle.kind)}直接放行", "info"),
                OpenBarrier(f"exit:{vehicle.kind}:no_entry"),
                ShowText((plate, "一路顺风")),
                Speak(f"{plate}一路顺风"),
            ),
            flags=("no_entry_record",),
        )
    candidates = tuple(match_candidates(plate, [stay.plate for stay in facts.inside], min_equal=rules.fuzzy_min_equal))
    if candidates:
        return Decision(
            Outcome.EXIT_CONFIRM_MATCH,
            plate,
            (
                ShowText((plate, "请稍候")),
                AwaitMatch(candidates),
                AlertCashier(f"{plate} 无精确入场记录，请确认：" + "、".join(c.plate for c in candidates)),
            ),
            candidates=candidates,
            flags=("fuzzy",),
        )
    return Decision(
        Outcome.EXIT_NO_STAY,
        plate,
        (
            ShowText((plate, "未找到入场记录", "请稍候")),
            Speak("请稍候"),
            AwaitMatch(()),
            AlertCashier(f"{plate} 未找到入场记录，请人工匹配"),
        ),
        flags=("no_entry_record",),
    )


def settle_exit(stay: Stay, vehicle: Vehicle | None, tariff: Tariff, rules: RuleSettings, now: datetime) -> Decision:
    """The exit of a known stay (found exactly, or confirmed by the cashier): open free, or ask for the fee."""
    _aware(now)
    plate = stay.plate
    today = now.astimezone(rules.tz).date()
    flags: list[str] = []
    alerts: list[Command] = []
    charge_from = stay.entered_at

    if vehicle is not None and vehicle.kind is VehicleKind.BLACKLIST and vehicle.valid_on(today):
        flags.append("blacklisted")
        alerts.append(AlertCashier(f"黑名单车辆 {plate} 在出口", "alarm"))
    elif vehicle is not None and vehicle.kind in (VehicleKind.MONTH, VehicleKind.WHITELIST):
        if vehicle.valid_on(today):
            days = _days_left_line(vehicle, today, rules) if vehicle.kind is VehicleKind.MONTH else ()
            return Decision(
                Outcome.EXIT_OPEN,
                plate,
                (
                    CloseStay("monthuser"),
                    OpenBarrier(f"exit:{vehicle.kind}"),
                    ShowText((plate, "一路顺风", *days)),
                    Speak(f"{plate}一路顺风"),
                ),
                stay=stay,
            )
        if vehicle.valid_to is not None and vehicle.valid_to < today:
            flags.append("month_expired")
            expired_at = datetime.combine(vehicle.valid_to + timedelta(days=1), time(), rules.tz)
            charge_from = max(stay.entered_at, expired_at)

    fee = tariff.fee_between(min(charge_from, now), now, stay.car_type)
    due = max(ZERO, fee.total - stay.prepaid)
    if stay.prepaid > ZERO and stay.prepaid_at is not None:
        if now - stay.prepaid_at <= timedelta(minutes=rules.free_out_minutes):
            due = ZERO
        else:
            flags.append("prepaid_overtime")
    duration = duration_text(now - stay.entered_at)
    if due == ZERO:
        pay_type: Literal["free", "prepaid"] = "prepaid" if stay.prepaid > ZERO else "free"
        return Decision(
            Outcome.EXIT_OPEN,
            plate,
            (
                *alerts,
                CloseStay(pay_type),
                OpenBarrier(f"exit:{pay_type}"),
                ShowText((plate, duration, "一路顺风")),
                Speak(f"{plate}一路顺风"),
            ),
            stay=stay,
            fee=fee,
            flags=tuple(flags),
        )
    return Decision(
        Outcome.EXIT_FEE_DUE,
        plate,
        (
            *alerts,
            ShowText((plate, f"停车{duration}", f"请缴费 {due:.2f}元")),
            Speak(f"{plate}停车{duration}请缴费{_spoken_amount(due)}元"),
            AwaitPayment(due),
        ),
        stay=stay,
        fee=fee,
        due=due,
        flags=tuple(flags),
    )


# ---------------------------------------------------------------- small helpers


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("lane rules need a timezone-aware time")


def _days_left_line(vehicle: Vehicle, today: date, rules: RuleSettings) -> tuple[str, ...]:
    if vehicle.valid_to is None:
        return ()
    days_left = (vehicle.valid_to - today).days
    return (f"有效期剩余{days_left}天",) if days_left <= rules.month_expiry_warning_days else ()


def _kind_name(kind: VehicleKind) -> str:
    return {VehicleKind.MONTH: "月卡车", VehicleKind.WHITELIST: "白名单车", VehicleKind.BLACKLIST: "黑名单车"}[kind]


def _local(at: datetime, rules: RuleSettings) -> str:
    return at.astimezone(rules.tz).strftime("%m-%d %H:%M")


def duration_text(span: timedelta) -> str:
    """A stay's length as a driver hears it: 2小时15分, 1天3小时, 8分 (started minutes count)."""
    minutes = max(0, -(-int(span.total_seconds()) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{days}天" if days else "",
        f"{hours}小时" if hours else "",
        f"{mins}分" if mins or not (days or hours) else "",
    ]
    return "".join(parts)


def _spoken_amount(amount: Decimal) -> str:
    """12.00 → "12", 12.50 → "12.5": how the voice board reads money."""
    text = f"{amount:.2f}".rstrip("0").rstrip(".")
    return text or "0"
