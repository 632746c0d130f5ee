"""What a cashier hands over at the end of a shift: the shift's figures as plain data (the store computes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from booth_app.core.types import ZERO, Operator, PaymentChannel, StayKind

# The channels a handover lists one by one: money that reached the park without passing through the cashier's hands.
ELECTRONIC_CHANNELS = (
    PaymentChannel.WALLET,
    PaymentChannel.SWEEPCODE,
    PaymentChannel.SCANCODE,
    PaymentChannel.ETC,
    PaymentChannel.PREPAY,
)


@dataclass(frozen=True, slots=True)
class ChannelTotal:
    count: int = 0
    amount: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class FreeRelease:
    """A car let out without paying (a FREE payment), with the reason the cashier gave."""

    plate: str
    lane_id: str
    reason: str
    released_at: datetime
    operator: str = ""


@dataclass(frozen=True, slots=True)
class ManualOpen:
    """A gate a person opened."""

    lane_id: str
    reason: str
    opened_at: datetime
    plate: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """One shift's figures at one booth, counted over [started_at, ended_at).

    `closed` is false for figures so far (the shift is still open and `ended_at` is when they were counted).
    `cars_in`/`cars_out` and `electronic` hold every kind and channel, zero where nothing happened.
    """

    shift_id: int
    username: str
    display_name: str
    booth: str
    started_at: datetime
    ended_at: datetime
    closed: bool
    cars_in: dict[StayKind, int]
    cars_out: dict[StayKind, int]
    cash_collected: Decimal
    electronic: dict[PaymentChannel, ChannelTotal]
    free_releases: tuple[FreeRelease, ...] = field(default=())
    manual_opens: tuple[ManualOpen, ...] = field(default=())
    cash_counted: Decimal | None = None
    note: str = ""

    @property
    def operator_name(self) -> str:
        return self.display_name or self.username

    @property
    def cash_difference(self) -> Decimal | None:
        """Counted minus collected: positive when the drawer holds more than the lanes took in."""
        return None if self.cash_counted is None else self.cash_counted - self.cash_collected

    @property
    def electronic_total(self) -> ChannelTotal:
        totals = self.electronic.values()
        return ChannelTotal(sum(t.count for t in totals), sum((t.amount for t in totals), ZERO))


@dataclass(frozen=True, slots=True)
class OpenShift:
    """A shift not handed over yet (its cashier is still on duty, or the booth stopped before the handover)."""

    shift_id: int
    operator: Operator
    started_at: datetime
