"""The parking fee: what a temporary car owes for a stay, and how that sum is made up.

The model is the ``[tariff]`` section of booth.toml (free minutes, a first period, units after it, a cap per 24 h), with
``[tariff.by_car_type.<type>]`` overriding any key. Time is always a parameter. Decisions:

* Durations are exact: the elapsed time between two timezone-aware datetimes (compared in UTC, so a DST change neither
  adds nor removes an hour), never rounded to minutes before charging. Naive datetimes and an exit before the entry are
  ValueErrors; an exit at the entry is a free stay of 0 s.
* Free minutes: a stay of at most ``free_minutes`` pays nothing (exactly 15:00 is free, 15:01 is not). Once over, the
  whole stay is charged from the entry: the free minutes are not deducted (the common Chinese rule). They apply to the
  whole stay only, never to each day.
* Periods: the stay is cut into 24 h periods counted from the entry. A full period costs
  ``min(daily_cap, charge(24 h))``, the last, started period of r > 0 costs ``min(daily_cap, charge(r))``. Each period
  starts again: its own first period, its own units, its own cap. This holds with no cap (``daily_cap = None``) too: the
  25th hour is a new first period.
* ``charge(r) = first_price`` if r <= first_minutes, else ``first_price + ceil((r - first_minutes) / unit_minutes) *
  unit_price``: each started unit is charged, one second into a unit pays the whole unit.
* ``first_minutes = 0`` means there is no first period, only units; its ``first_price`` must then be 0 (a price for a
  period that does not exist is a configuration mistake, not a flat start fee).
* Money is Decimal yuan. Prices and the cap must be whole cents; every amount is quantized to 0.01 (ROUND_HALF_UP).
* An unknown car type pays the default rate. The fee ignores prepayments: subtracting them is the exit payment's job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from booth_app.core.types import ZERO, Stay

CENT = Decimal("0.01")
DAY = timedelta(hours=24)
_MINUTE = timedelta(minutes=1)


def minutes(duration: timedelta) -> int:
    """Whole minutes for display and for Bolink's ``duration`` field: a started minute counts (61 s is 2)."""
    if duration < timedelta(0):
        raise ValueError(f"a duration cannot be negative: {duration}")
    return -(-duration // _MINUTE)


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _check_minutes(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"tariff {name} must be a whole number of minutes, not {value!r}")
    if value < 0:
        raise ValueError(f"tariff {name} cannot be negative: {value}")


def _check_price(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"tariff {name} must be a Decimal amount of yuan (never a float), not {value!r}")
    if not value.is_finite() or value < 0:
        raise ValueError(f"tariff {name} must be 0 or more yuan, not {value}")
    if value != value.quantize(CENT):
        raise ValueError(f"tariff {name} must be whole cents (two decimals at most), not {value}")


@dataclass(frozen=True, slots=True)
class Rate:
    """One price list: the six keys of ``[tariff]``. Minutes are whole minutes; money is Decimal yuan."""

    free_minutes: int
    first_minutes: int
    first_price: Decimal
    unit_minutes: int
    unit_price: Decimal
    daily_cap: Decimal | None  # None = no cap

    def __post_init__(self) -> None:
        _check_minutes("free_minutes", self.free_minutes)
        _check_minutes("first_minutes", self.first_minutes)
        _check_minutes("unit_minutes", self.unit_minutes)
        if self.unit_minutes == 0:
            raise ValueError("tariff unit_minutes must be at least 1 minute")
        _check_price("first_price", self.first_price)
        _check_price("unit_price", self.unit_price)
        if self.daily_cap is not None:
            _check_price("daily_cap", self.daily_cap)
        if self.first_minutes == 0 and self.first_price != 0:
            raise ValueError(
                f"tariff first_price must be 0 when first_minutes is 0 (no first period), not {self.first_price}"
            )

    def with_overrides(self, **changes: object) -> Rate:
        """This rate with some keys replaced, as a ``[tariff.by_car_type.<type>]`` table sets only what it changes."""
        known = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown tariff key {', '.join(unknown)}: the keys are {', '.join(known)}")
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # checked by __post_init__


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One started 24 h period of a stay and what it costs."""

    day: int  # 1, 2, … counted from the entry
    start: datetime
    end: datetime
    minutes: int  # in this period, a started minute counts
    first_minutes: int
    first_amount: Decimal
    units: int  # started units after the first period
    unit_minutes: int
    units_amount: Decimal
    capped: bool  # the daily cap lowered the amount
    amount: Decimal  # what this period costs

    def describe(self) -> str:
        """Short text for the cashier and the receipt, e.g. "第1天 首60分钟 5.00 + 3×30分钟 6.00 = 11.00"."""
        parts = []
        if self.first_minutes:
            parts.append(f"首{self.first_minutes}分钟 {self.first_amount}")
        if self.units:
            parts.append(f"{self.units}×{self.unit_minutes}分钟 {self.units_amount}")
        text = f"第{self.day}天 {' + '.join(parts)} = {self.first_amount + self.units_amount}"
        return f"{text}，封顶 {self.amount}" if self.capped else text


@dataclass(frozen=True, slots=True)
class FeeBreakdown:
    """The fee for one stay; ``lines`` add up to ``total`` and are empty for a free stay."""

    total: Decimal
    duration: timedelta
    car_type: str
    free: bool  # within the free minutes
    lines: tuple[FeeLine, ...]

    @property
    def minutes(self) -> int:
        return minutes(self.duration)

    def describe(self) -> str:
        if self.free:
            return f"停车{self.minutes}分钟 免费"
        return "；".join(line.describe() for line in self.lines) + f"；合计 {self.total}"


def _period(rate: Rate, day: int, start: datetime, end: datetime, length: timedelta) -> FeeLine:
    first = timedelta(minutes=rate.first_minutes)
    units = 0 if length <= first else -(-(length - first) // timedelta(minutes=rate.unit_minutes))
    first_amount = _money(rate.first_price)
    units_amount = _money(rate.unit_price * units)
    charge = first_amount + units_amount
    amount = charge if rate.daily_cap is None else min(charge, _money(rate.daily_cap))
    return FeeLine(
        day=day,
        start=start,
        end=end,
        minutes=minutes(length),
        first_minutes=rate.first_minutes,
        first_amount=first_amount,
        units=units,
        unit_minutes=rate.unit_minutes,
        units_amount=units_amount,
        capped=amount < charge,
        amount=amount,
    )


def _check_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not the naive {moment.isoformat()}")


@dataclass(frozen=True, slots=True)
class Tariff:
    """The default rate and the per-car-type rates; computes fees."""

    default: Rate
    by_car_type: Mapping[str, Rate] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # A read-only copy: the caller's dict must not change a frozen tariff behind its back.
        object.__setattr__(self, "by_car_type", MappingProxyType(dict(self.by_car_type)))

    def rate_for(self, car_type: str) -> Rate:
        return self.by_car_type.get(car_type, self.default)

    def fee(self, stay: Stay, now: datetime) -> FeeBreakdown:
        """What ``stay`` owes if it leaves at ``now`` (prepayments not deducted)."""
        return self.fee_between(stay.entered_at, now, stay.car_type)

    def fee_between(self, entered_at: datetime, left_at: datetime, car_type: str = "small") -> FeeBreakdown:
        _check_aware("entered_at", entered_at)
        _check_aware("left_at", left_at)
        start = entered_at.astimezone(UTC)
        duration = left_at.astimezone(UTC) - start
        if duration < timedelta(0):
            raise ValueError(f"the exit {left_at.isoformat()} is before the entry {entered_at.isoformat()}")
        rate = self.rate_for(car_type)
        if duration <= timedelta(minutes=rate.free_minutes):
            return FeeBreakdown(total=ZERO, duration=duration, car_type=car_type, free=True, lines=())
        lines: list[FeeLine] = []
        offset = timedelta(0)
        while offset < duration:
            length = min(DAY, duration - offset)
            period_start = (start + offset).astimezone(entered_at.tzinfo)
            period_end = (start + offset + length).astimezone(entered_at.tzinfo)
            lines.append(_period(rate, len(lines) + 1, period_start, period_end, length))
            offset += length
        total = _money(sum((line.amount for line in lines), ZERO))
        return FeeBreakdown(total=total, duration=duration, car_type=car_type, free=False, lines=tuple(lines))
