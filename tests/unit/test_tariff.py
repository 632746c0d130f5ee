"""The tariff: worked examples computed by hand, properties over random rates, and the validation errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from booth_app.core.tariff import DAY, FeeBreakdown, Rate, Tariff, minutes
from booth_app.core.types import Stay

D = Decimal
CST = timezone(timedelta(hours=8))
ENTRY = datetime(2026, 3, 1, 8, 0, tzinfo=CST)

# booth.example.toml: 15 free / first 60 min 5.00 / then 2.00 per started 30 min / at most 40.00 per 24 h.
EXAMPLE = Rate(
    free_minutes=15,
    first_minutes=60,
    first_price=D("5.00"),
    unit_minutes=30,
    unit_price=D("2.00"),
    daily_cap=D("40.00"),
)
LARGE = EXAMPLE.with_overrides(first_price=D("10.00"), unit_price=D("4.00"), daily_cap=D("80.00"))
NEW_ENERGY = EXAMPLE.with_overrides(free_minutes=30)
NO_CAP = EXAMPLE.with_overrides(daily_cap=None)
UNITS_ONLY = Rate(
    free_minutes=0, first_minutes=0, first_price=D("0"), unit_minutes=60, unit_price=D("3.00"), daily_cap=None
)
TARIFF = Tariff(
    default=EXAMPLE,
    by_car_type={"large": LARGE, "new_energy": NEW_ENERGY, "no_cap": NO_CAP, "units_only": UNITS_ONLY},
)

PROPERTY = settings(deadline=None, max_examples=150)


def span(hours: int = 0, minutes: int = 0, seconds: int = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def fee(stay: timedelta, car_type: str = "small", tariff: Tariff = TARIFF) -> FeeBreakdown:
    return tariff.fee_between(ENTRY, ENTRY + stay, car_type)


# Every expected value is worked out by hand in the comment beside it.
WORKED = [
    ("small", span(), "0.00", "nothing"),
    ("small", span(minutes=10), "0.00", "within the free minutes"),
    ("small", span(minutes=15), "0.00", "exactly the free minutes is free"),
    ("small", span(minutes=15, seconds=1), "5.00", "over: the whole stay from the entry, first period 5"),
    ("small", span(minutes=16), "5.00", "first period 5"),
    ("small", span(minutes=60), "5.00", "the first period itself"),
    ("small", span(minutes=60, seconds=1), "7.00", "5 + one started unit 2"),
    ("small", span(minutes=61), "7.00", "5 + 1×2"),
    ("small", span(minutes=90), "7.00", "5 + 1×2: the unit is full, not over"),
    ("small", span(minutes=91), "9.00", "5 + 2×2"),
    ("small", span(hours=9), "37.00", "480 min after the first = 16 units: 5 + 32"),
    ("small", span(hours=9, minutes=30), "39.00", "17 units: 5 + 34"),
    ("small", span(hours=9, minutes=31), "40.00", "18 units: 5 + 36 = 41, capped at 40"),
    ("small", span(hours=10), "40.00", "5 + 18×2 = 41, capped at 40"),
    ("small", span(hours=24), "40.00", "5 + 46×2 = 97, capped at 40"),
    ("small", span(hours=24, seconds=1), "45.00", "40 + a new day's first period 5"),
    ("small", span(hours=24, minutes=1), "45.00", "40 + 5"),
    ("small", span(hours=24, minutes=10), "45.00", "40 + 5: free minutes are for the whole stay, not for each day"),
    ("small", span(hours=24, minutes=61), "47.00", "40 + 5 + 1×2"),
    ("small", span(hours=34), "80.00", "40 + (5 + 18×2 = 41, capped 40)"),
    ("small", span(hours=48), "80.00", "40 + 40"),
    ("small", span(hours=49, minutes=30), "87.00", "40 + 40 + (5 + 1×2)"),
    ("small", span(hours=72, minutes=15), "125.00", "3×40 + 5"),
    ("bus", span(minutes=61), "7.00", "an unknown car type pays the default rate"),
    ("large", span(minutes=15), "0.00", "same free minutes as the default"),
    ("large", span(minutes=16), "10.00", "first period 10"),
    ("large", span(minutes=61), "14.00", "10 + 1×4"),
    ("large", span(hours=2), "18.00", "10 + 2×4"),
    ("large", span(hours=9), "74.00", "10 + 16×4"),
    ("large", span(hours=10), "80.00", "10 + 18×4 = 82, capped at 80"),
    ("large", span(hours=24, minutes=61), "94.00", "80 + 10 + 1×4"),
    ("new_energy", span(minutes=30), "0.00", "30 free minutes"),
    ("new_energy", span(minutes=31), "5.00", "over: charged from the entry, 5"),
    ("new_energy", span(minutes=91), "9.00", "free minutes not deducted: 5 + 2×2"),
    ("no_cap", span(hours=10), "41.00", "5 + 18×2, no cap"),
    ("no_cap", span(hours=24), "97.00", "5 + 46×2"),
    ("no_cap", span(hours=25), "102.00", "97 + a new day's first period 5 (not 5 + 48×2 = 101)"),
    ("units_only", span(seconds=1), "3.00", "no free minutes, no first period: one started unit"),
    ("units_only", span(minutes=60), "3.00", "one unit"),
    ("units_only", span(minutes=61), "6.00", "two units"),
    ("units_only", span(hours=24, seconds=1), "75.00", "24×3 + 1 started unit 3"),
]


@pytest.mark.parametrize(
    ("car_type", "stay", "expected"),
    [
        pytest.param(car_type, stay, expected, id=f"{car_type} {stay}: {why}")
        for car_type, stay, expected, why in WORKED
    ],
)
def test_worked_examples(car_type: str, stay: timedelta, expected: str) -> None:
    breakdown = fee(stay, car_type)

    assert str(breakdown.total) == expected  # the amount and its two places
    assert breakdown.car_type == car_type
    assert breakdown.duration == stay
    assert sum((line.amount for line in breakdown.lines), D("0")) == breakdown.total


def test_free_stay_has_no_lines_and_says_free() -> None:
    free, paid = fee(span(minutes=15)), fee(span(minutes=15, seconds=1))

    assert (free.free, free.lines, free.describe()) == (True, (), "停车15分钟 免费")
    assert paid.free is False
    assert len(paid.lines) == 1


def test_a_cap_of_zero_is_not_a_free_stay() -> None:
    tariff = Tariff(default=EXAMPLE.with_overrides(daily_cap=D("0")))

    breakdown = fee(span(hours=2), tariff=tariff)

    assert (breakdown.total, breakdown.free, breakdown.lines[0].capped) == (D("0.00"), False, True)


def test_lines_of_a_two_day_stay() -> None:
    breakdown = fee(span(hours=24, minutes=61))

    first, second = breakdown.lines
    assert (first.day, first.start, first.end, first.minutes) == (1, ENTRY, ENTRY + DAY, 1440)
    assert (first.first_amount, first.units, first.units_amount) == (D("5.00"), 46, D("92.00"))
    assert (first.capped, first.amount) == (True, D("40.00"))
    assert (second.day, second.start, second.end, second.minutes) == (2, ENTRY + DAY, ENTRY + span(25, 1), 61)
    assert (second.first_amount, second.units, second.units_amount) == (D("5.00"), 1, D("2.00"))
    assert (second.capped, second.amount) == (False, D("7.00"))
    assert breakdown.minutes == 1501


def test_describe() -> None:
    assert fee(span(minutes=60)).lines[0].describe() == "第1天 首60分钟 5.00 = 5.00"
    assert fee(span(minutes=150)).lines[0].describe() == "第1天 首60分钟 5.00 + 3×30分钟 6.00 = 11.00"
    assert fee(span(hours=10)).lines[0].describe() == "第1天 首60分钟 5.00 + 18×30分钟 36.00 = 41.00，封顶 40.00"
    assert fee(span(minutes=61), "units_only").lines[0].describe() == "第1天 2×60分钟 6.00 = 6.00"
    assert fee(span(hours=24, minutes=61)).describe() == (
        "第1天 首60分钟 5.00 + 46×30分钟 92.00 = 97.00，封顶 40.00；"
        "第2天 首60分钟 5.00 + 1×30分钟 2.00 = 7.00；合计 47.00"
    )


def test_fee_of_a_stay_uses_its_entry_and_car_type() -> None:
    stay = Stay(order_id="o1", plate="京A12345", entered_at=ENTRY, entry_lane="A1", car_type="large")

    breakdown = TARIFF.fee(stay, ENTRY + span(minutes=61))

    assert (breakdown.total, breakdown.car_type) == (D("14.00"), "large")


def test_entry_and_exit_in_different_zones() -> None:
    # 08:00 at +08:00 is 00:00 UTC: leaving at 01:01 UTC is a 61-minute stay.
    breakdown = TARIFF.fee_between(ENTRY, datetime(2026, 3, 1, 1, 1, tzinfo=UTC))

    assert (breakdown.duration, breakdown.total) == (span(minutes=61), D("7.00"))
    assert breakdown.lines[0].end.isoformat() == "2026-03-01T09:01:00+08:00"  # shown in the entry's zone


def test_days_are_elapsed_hours_across_a_dst_change() -> None:
    try:
        berlin = ZoneInfo("Europe/Berlin")
    except ZoneInfoNotFoundError:
        pytest.skip("no time zone database here")
    # Clocks go forward at 02:00 on 2026-03-29: 00:30 to 03:30 on the wall is 2 h, not 3 h (5 + 2×2, not 5 + 4×2).
    assert TARIFF.fee_between(
        datetime(2026, 3, 29, 0, 30, tzinfo=berlin), datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
    ).total == D("9.00")
    # Noon to 13:00 the next day is exactly 24 h: one day, ending at 13:00 on the wall.
    breakdown = TARIFF.fee_between(datetime(2026, 3, 28, 12, tzinfo=berlin), datetime(2026, 3, 29, 13, tzinfo=berlin))
    assert breakdown.total == D("40.00")
    assert [line.end for line in breakdown.lines] == [datetime(2026, 3, 29, 13, tzinfo=berlin)]


def test_rate_for() -> None:
    assert TARIFF.rate_for("large") is LARGE
    assert TARIFF.rate_for("small") is EXAMPLE
    assert TARIFF.rate_for("unknown") is EXAMPLE


def test_the_tariff_does_not_follow_the_callers_dict() -> None:
    overrides = {"large": LARGE}
    tariff = Tariff(default=EXAMPLE, by_car_type=overrides)

    overrides["large"] = EXAMPLE

    assert tariff.rate_for("large") is LARGE


def test_with_overrides_changes_only_the_given_keys() -> None:
    expected = Rate(
        free_minutes=15,
        first_minutes=60,
        first_price=D("10.00"),
        unit_minutes=30,
        unit_price=D("4.00"),
        daily_cap=D("80"),
    )
    assert expected == LARGE
    assert EXAMPLE.with_overrides() == EXAMPLE


@pytest.mark.parametrize(
    ("stay", "expected"),
    [(span(), 0), (timedelta(microseconds=1), 1), (span(seconds=60), 1), (span(seconds=61), 2), (span(hours=25), 1500)],
)
def test_minutes_rounds_a_started_minute_up(stay: timedelta, expected: int) -> None:
    assert minutes(stay) == expected


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("entered_at", "left_at", "message"),
    [
        pytest.param(datetime(2026, 3, 1, 8), ENTRY + span(1), "entered_at must be a timezone-aware", id="naive entry"),
        pytest.param(ENTRY, datetime(2026, 3, 1, 9), "left_at must be a timezone-aware", id="naive exit"),
        pytest.param(ENTRY, ENTRY - span(seconds=1), "is before the entry", id="exit before entry"),
    ],
)
def test_bad_times_are_refused(entered_at: datetime, left_at: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TARIFF.fee_between(entered_at, left_at)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"unit_minutes": 0}, "unit_minutes must be at least 1"),
        ({"free_minutes": -1}, "free_minutes cannot be negative"),
        ({"first_minutes": -5}, "first_minutes cannot be negative"),
        ({"first_price": D("-0.01")}, "first_price must be 0 or more"),
        ({"unit_price": D("-2")}, "unit_price must be 0 or more"),
        ({"daily_cap": D("-40")}, "daily_cap must be 0 or more"),
        ({"unit_price": D("NaN")}, "unit_price must be 0 or more"),
        ({"unit_price": D("2.005")}, "unit_price must be whole cents"),
        ({"first_minutes": 0}, "first_price must be 0 when first_minutes is 0"),
        ({"unit_mins": 30}, "unknown tariff key unit_mins"),
    ],
)
def test_bad_rates_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EXAMPLE.with_overrides(**changes)


@pytest.mark.parametrize(
    "changes", [{"unit_price": 2.0}, {"daily_cap": 40}, {"unit_minutes": 30.0}, {"free_minutes": True}]
)
def test_rates_of_the_wrong_type_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(TypeError, match="tariff"):
        EXAMPLE.with_overrides(**changes)


def test_a_negative_duration_has_no_minutes() -> None:
    with pytest.raises(ValueError, match="negative"):
        minutes(-span(seconds=1))


# ---------------------------------------------------------------- properties


def cents(high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(0, high).map(lambda c: D(c).scaleb(-2))


@st.composite
def rates(draw: st.DrawFn, capped: bool | None = None) -> Rate:
    first_minutes = draw(st.integers(0, 240))
    has_cap = draw(st.booleans()) if capped is None else capped
    return Rate(
        free_minutes=draw(st.integers(0, 120)),
        first_minutes=first_minutes,
        first_price=draw(cents(5_000)) if first_minutes else D("0"),
        unit_minutes=draw(st.integers(1, 120)),
        unit_price=draw(cents(2_000)),
        daily_cap=draw(cents(20_000)) if has_cap else None,
    )


entries = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2090, 1, 1),
    timezones=st.sampled_from([UTC, CST, timezone(timedelta(hours=-5, minutes=-30))]),
)
stays = st.integers(0, 10 * 24 * 3600).map(lambda s: timedelta(seconds=s))


def started_days(stay: timedelta) -> int:
    return -(-stay // DAY)


def fee_of(rate: Rate, entered_at: datetime, stay: timedelta) -> FeeBreakdown:
    return Tariff(default=rate).fee_between(entered_at, entered_at + stay)


def by_hand(rate: Rate, seconds: int) -> Decimal:
    """The tariff as a person would count it: second by second into units, day by day, no division anywhere."""
    if seconds <= rate.free_minutes * 60:
        return D("0")
    total, day_start = D("0"), 0
    while day_start < seconds:
        length = min(24 * 3600, seconds - day_start)
        cost, covered = rate.first_price, rate.first_minutes * 60
        while covered < length:
            cost, covered = cost + rate.unit_price, covered + rate.unit_minutes * 60
        total += cost if rate.daily_cap is None else min(cost, rate.daily_cap)
        day_start += 24 * 3600
    return total


@PROPERTY
@given(rates(), entries, stays)
def test_agrees_with_counting_by_hand(rate: Rate, entered_at: datetime, stay: timedelta) -> None:
    assert fee_of(rate, entered_at, stay).total == by_hand(rate, int(stay.total_seconds()))


@PROPERTY
@given(rates(), entries, stays)
def test_never_negative_and_always_two_places(rate: Rate, entered_at: datetime, stay: timedelta) -> None:
    breakdown = fee_of(rate, entered_at, stay)

    assert breakdown.total >= 0
    for amount in [breakdown.total, *(line.amount for line in breakdown.lines)]:
        assert amount.as_tuple().exponent == -2


@PROPERTY
@given(rates(), entries, stays, st.integers(0, 3 * 24 * 3600))
def test_never_decreases_as_the_stay_grows(rate: Rate, entered_at: datetime, stay: timedelta, more: int) -> None:
    assert fee_of(rate, entered_at, stay + timedelta(seconds=more)).total >= fee_of(rate, entered_at, stay).total


@PROPERTY
@given(rates(capped=True), entries, stays)
def test_within_the_cap_for_each_started_day(rate: Rate, entered_at: datetime, stay: timedelta) -> None:
    assert rate.daily_cap is not None
    breakdown = fee_of(rate, entered_at, stay)

    assert breakdown.total <= rate.daily_cap * started_days(stay)
    assert all(line.amount <= rate.daily_cap for line in breakdown.lines)


@PROPERTY
@given(rates(), entries, st.data())
def test_free_within_the_free_minutes(rate: Rate, entered_at: datetime, data: st.DataObject) -> None:
    stay = timedelta(seconds=data.draw(st.integers(0, rate.free_minutes * 60)))

    breakdown = fee_of(rate, entered_at, stay)

    assert (breakdown.total, breakdown.free, breakdown.lines) == (D("0.00"), True, ())


@PROPERTY
@given(rates(), entries, stays)
def test_lines_add_up_and_cover_the_stay_day_by_day(rate: Rate, entered_at: datetime, stay: timedelta) -> None:
    breakdown = fee_of(rate, entered_at, stay)
    lines = breakdown.lines

    assert sum((line.amount for line in lines), D("0")) == breakdown.total
    if breakdown.free:
        assert lines == ()
        return
    assert len(lines) == started_days(stay)
    assert [line.day for line in lines] == list(range(1, len(lines) + 1))
    assert lines[0].start == entered_at
    assert lines[-1].end == entered_at + stay
    assert all(a.end == b.start for a, b in pairwise(lines))
    assert all(line.end - line.start == DAY for line in lines[:-1])
    assert all(line.start.tzinfo is entered_at.tzinfo is line.end.tzinfo for line in lines)


@PROPERTY
@given(rates(), entries, stays)
def test_each_further_day_starts_again(rate: Rate, entered_at: datetime, stay: timedelta) -> None:
    assume(stay > timedelta(minutes=rate.free_minutes))

    one_day_more = fee_of(rate, entered_at, stay + DAY).total

    assert one_day_more == fee_of(rate, entered_at, DAY).total + fee_of(rate, entered_at, stay).total


@PROPERTY
@given(rates(), entries, stays)
def test_the_free_minutes_are_not_deducted_once_over(rate: Rate, entered_at: datetime, stay: timedelta) -> None:
    assume(stay > timedelta(minutes=rate.free_minutes))

    assert fee_of(rate, entered_at, stay) == fee_of(rate.with_overrides(free_minutes=0), entered_at, stay)
