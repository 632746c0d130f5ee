"""Domain types shared by the rules, the store and the lanes. Plain frozen dataclasses; every time is timezone-aware."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

ZERO = Decimal("0.00")


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class VehicleKind(enum.StrEnum):
    """What the vehicle lists say about a plate."""

    MONTH = "month"
    WHITELIST = "whitelist"
    BLACKLIST = "blacklist"


class StayKind(enum.StrEnum):
    """How a car was let in, which decides how it leaves."""

    TEMPORARY = "temp"
    MONTH = "month"
    WHITELIST = "whitelist"
    UNPLATED = "unplated"


class StayState(enum.StrEnum):
    INSIDE = "inside"
    LEFT = "left"
    SUPERSEDED = "superseded"  # the same plate entered again: its exit was never read


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One entry of the month-card, white or black list."""

    plate: str
    kind: VehicleKind
    valid_from: date
    valid_to: date | None = None  # inclusive; None = no end
    owner: str = ""
    note: str = ""

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Stay:
    """One car's visit, from entry to exit: Bolink calls it an order.

    `entry_booth` and `exit_booth` name the booths (Bolink's `local_id`) that let the car in and out: the store fills
    them in, since several booths may share one database and a car may leave at another booth than the one it entered.
    """

    order_id: str
    plate: str
    entered_at: datetime
    entry_lane: str
    kind: StayKind = StayKind.TEMPORARY
    car_type: str = "small"
    state: StayState = StayState.INSIDE
    prepaid: Decimal = ZERO
    prepaid_at: datetime | None = None
    left_at: datetime | None = None
    exit_lane: str | None = None
    flags: tuple[str, ...] = field(default=())
    entry_read_id: str = ""  # the camera read that let it in (a camera resends a read it got no answer for)
    exit_read_id: str = ""  # the camera read that let it out
    entry_booth: str = ""
    exit_booth: str = ""  # "" while inside, and for stays closed before the store recorded it


@dataclass(frozen=True, slots=True)
class PlateRead:
    """A plate as a camera read it at one lane, already normalised."""

    lane_id: str
    plate: str  # "" when the camera saw no plate
    read_at: datetime
    color: str = ""
    confidence: int | None = None
    read_id: str = ""


class PaymentChannel(enum.StrEnum):
    """How money (or a waiver) reached a stay; values are Bolink's `pay_type` words where Bolink has one."""

    CASH = "cash"
    WALLET = "wallet"  # no-password wallet
    SWEEPCODE = "sweepcode"  # the driver's payment code read at the exit screen
    SCANCODE = "scancode"  # the driver scanned the lane's QR code
    ETC = "etc_pay"
    PREPAY = "prepay"  # paid inside the lot before driving to the exit
    FREE = "free"  # released without payment, with a reason


@dataclass(frozen=True, slots=True)
class Payment:
    order_id: str
    channel: PaymentChannel
    amount: Decimal
    paid_at: datetime
    trade_no: str = ""
    operator: str = ""
    lane_id: str = ""
    reason: str = ""  # for FREE: why
    booth: str = ""  # the booth that took it (the store fills it in)


class Role(enum.StrEnum):
    CASHIER = "cashier"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    username: str
    role: Role
    password_hash: str
    display_name: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class ManualRelease:
    """A gate a person opened: who, where, when, why."""

    lane_id: str
    reason: str
    released_at: datetime
    operator_id: int | None = None
    note: str = ""
    plate: str = ""
    order_id: str | None = None
    frame_path: str = ""
    booth: str = ""  # the booth that recorded it (the store fills it in)


@dataclass(frozen=True, slots=True)
class Conflict:
    """What a booth did while it could not reach the shared database that disagrees with what other booths did
    meanwhile, found when its journal was merged; a person checks it and says what they did about it."""

    id: int
    order_id: str
    plate: str
    kind: str  # closed_twice | paid_after_close | still_inside
    detail: str
    booth: str
    found_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str = ""
    resolution: str = ""
