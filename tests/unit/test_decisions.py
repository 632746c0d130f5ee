"""Lane rules, one scenario per row of issue #2 §6: what the lane decides and which commands it gives."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from booth_app.core.decisions import (
    AlertCashier,
    AwaitMatch,
    AwaitPayment,
    CloseStay,
    CreateStay,
    LaneFacts,
    OpenBarrier,
    Outcome,
    RuleSettings,
    ShowText,
    Speak,
    decide,
    duration_text,
    settle_exit,
)
from booth_app.core.tariff import Rate, Tariff
from booth_app.core.types import Direction, PlateRead, Stay, StayKind, Vehicle, VehicleKind

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # 18:00 in Beijing
TODAY = date(2026, 11, 22)
TARIFF = Tariff(
    Rate(
        free_minutes=15,
        first_minutes=60,
        first_price=Decimal("5.00"),
        unit_minutes=30,
        unit_price=Decimal("2.00"),
        daily_cap=Decimal("40.00"),
    )
)
RULES = RuleSettings(capacity=100)
PLATE = "京A12345"


def read(plate: str = PLATE, lane: str = "A1") -> PlateRead:
    return PlateRead(lane_id=lane, plate=plate, read_at=NOW)


def month(valid_to: date | None = date(2026, 12, 31), plate: str = PLATE) -> Vehicle:
    return Vehicle(plate, VehicleKind.MONTH, valid_from=date(2026, 1, 1), valid_to=valid_to)


def stay(minutes: float, plate: str = PLATE, **changes: object) -> Stay:
    base = Stay(order_id="A1_0001", plate=plate, entered_at=NOW - timedelta(minutes=minutes), entry_lane="A1")
    return replace(base, **changes)


def entry(facts: LaneFacts, rules: RuleSettings = RULES, plate: str = PLATE):
    return decide(read(plate), Direction.IN, facts, TARIFF, rules, NOW)


def exit_(facts: LaneFacts, rules: RuleSettings = RULES, plate: str = PLATE):
    return decide(read(plate, "B1"), Direction.OUT, facts, TARIFF, rules, NOW)


def kinds(decision) -> list[type]:
    return [type(command) for command in decision.commands]


# ---------------------------------------------------------------- entry


def test_a_temporary_car_gets_a_stay_then_the_gate_and_a_greeting() -> None:
    decision = entry(LaneFacts(occupied=10))
    assert decision.outcome is Outcome.ENTRY_OPEN
    assert kinds(decision) == [CreateStay, OpenBarrier, ShowText, Speak]  # the stay is recorded before the gate moves
    assert decision.commands[0] == CreateStay(StayKind.TEMPORARY)
    assert decision.commands[2] == ShowText((PLATE, "欢迎光临", "余位 89"))


def test_a_valid_month_card_enters_as_a_month_stay() -> None:
    decision = entry(LaneFacts(vehicle=month()))
    assert decision.outcome is Outcome.ENTRY_OPEN
    assert CreateStay(StayKind.MONTH) in decision.commands
    assert ShowText((PLATE, "月卡车 欢迎光临", "余位 99")) in decision.commands


def test_a_month_card_close_to_its_end_says_how_many_days_are_left() -> None:
    decision = entry(LaneFacts(vehicle=month(valid_to=TODAY + timedelta(days=3))))
    assert ShowText((PLATE, "月卡车 欢迎光临", "有效期剩余3天", "余位 99")) in decision.commands


def test_an_expired_month_card_enters_as_a_temporary_car_by_default() -> None:
    decision = entry(LaneFacts(vehicle=month(valid_to=TODAY - timedelta(days=1))))
    assert decision.outcome is Outcome.ENTRY_OPEN
    assert CreateStay(StayKind.TEMPORARY) in decision.commands
    assert "month_expired" in decision.flags


def test_an_expired_month_card_can_be_refused() -> None:
    decision = entry(
        LaneFacts(vehicle=month(valid_to=TODAY - timedelta(days=1))), replace(RULES, expired_month_card="refuse")
    )
    assert decision.outcome is Outcome.ENTRY_REFUSED_EXPIRED
    assert not decision.opens


def test_the_month_card_is_valid_all_of_its_last_day_in_beijing_time() -> None:
    late = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)  # 23:59 in Beijing on the last valid day
    decision = decide(read(), Direction.IN, LaneFacts(vehicle=month()), TARIFF, RULES, late)
    assert CreateStay(StayKind.MONTH) in decision.commands
    after = datetime(2026, 12, 31, 16, 1, tzinfo=UTC)  # 00:01 the next day
    decision = decide(read(), Direction.IN, LaneFacts(vehicle=month()), TARIFF, RULES, after)
    assert CreateStay(StayKind.TEMPORARY) in decision.commands


def test_the_whitelist_enters() -> None:
    vehicle = Vehicle(PLATE, VehicleKind.WHITELIST, valid_from=date(2026, 1, 1))
    decision = entry(LaneFacts(vehicle=vehicle))
    assert CreateStay(StayKind.WHITELIST) in decision.commands
    assert decision.opens


def test_the_blacklist_is_refused_and_the_cashier_alerted() -> None:
    vehicle = Vehicle(PLATE, VehicleKind.BLACKLIST, valid_from=date(2026, 1, 1), note="逃费")
    decision = entry(LaneFacts(vehicle=vehicle))
    assert decision.outcome is Outcome.ENTRY_REFUSED_BLACKLIST
    assert not decision.opens
    assert not any(isinstance(command, CreateStay) for command in decision.commands)
    assert AlertCashier(f"黑名单车辆 {PLATE} 在入口：逃费", "alarm") in decision.commands


def test_a_full_lot_refuses_temporary_cars_but_not_month_cards() -> None:
    full = LaneFacts(occupied=100)
    refused = entry(full)
    assert refused.outcome is Outcome.ENTRY_REFUSED_FULL
    assert not refused.opens
    assert ShowText((PLATE, "车位已满")) in refused.commands
    assert entry(replace(full, vehicle=month())).opens
    assert entry(LaneFacts(occupied=99)).opens


def test_the_same_plate_read_again_within_the_window_is_ignored() -> None:
    assert entry(LaneFacts(last_read_at=NOW - timedelta(seconds=29))).outcome is Outcome.IGNORED_REPEAT
    assert entry(LaneFacts(last_read_at=NOW - timedelta(seconds=29))).commands == ()
    assert entry(LaneFacts(last_read_at=NOW - timedelta(seconds=30))).outcome is Outcome.ENTRY_OPEN
    assert entry(LaneFacts(last_read_at=NOW - timedelta(seconds=5)), replace(RULES, repeat_read_s=0)).opens


def test_a_car_already_inside_is_let_in_flagged_and_its_old_stay_superseded() -> None:
    old = stay(600)
    decision = entry(LaneFacts(stay=old, occupied=10))
    assert decision.outcome is Outcome.ENTRY_OPEN
    assert "already_inside" in decision.flags
    assert CreateStay(StayKind.TEMPORARY, supersedes=old.order_id) in decision.commands
    assert any(isinstance(command, AlertCashier) and "已在场" in command.message for command in decision.commands)
    assert ShowText((PLATE, "欢迎光临", "余位 90")) in decision.commands  # the car was counted already


def test_a_car_already_inside_gets_back_into_a_lot_that_looks_full() -> None:
    decision = entry(LaneFacts(stay=stay(600), occupied=100))  # its own stale stay is one of the hundred
    assert decision.outcome is Outcome.ENTRY_OPEN
    assert ShowText((PLATE, "欢迎光临", "余位 0")) in decision.commands


@pytest.mark.parametrize("direction", [Direction.IN, Direction.OUT])
def test_no_plate_asks_the_driver_to_scan(direction: Direction) -> None:
    decision = decide(read(""), direction, LaneFacts(), TARIFF, RULES, NOW)
    assert decision.outcome is Outcome.NO_PLATE
    assert not decision.opens


# ---------------------------------------------------------------- exit


def test_a_stay_inside_the_free_minutes_leaves_free() -> None:
    decision = exit_(LaneFacts(stay=stay(14)))
    assert decision.outcome is Outcome.EXIT_OPEN
    assert kinds(decision)[:2] == [CloseStay, OpenBarrier]  # the exit is recorded before the gate moves
    assert decision.commands[0] == CloseStay("free")
    assert decision.fee is not None
    assert decision.fee.total == Decimal("0.00")


def test_a_fee_due_is_shown_and_said_and_the_lane_waits_for_payment() -> None:
    decision = exit_(LaneFacts(stay=stay(135)))  # 2 h 15 min: 5 + 3 units of 30 min = 11
    assert decision.outcome is Outcome.EXIT_FEE_DUE
    assert decision.due == Decimal("11.00")
    assert not decision.opens
    assert ShowText((PLATE, "停车2小时15分", "请缴费 11.00元")) in decision.commands
    assert Speak(f"{PLATE}停车2小时15分请缴费11元") in decision.commands
    assert AwaitPayment(Decimal("11.00")) in decision.commands


def test_a_valid_month_card_leaves_free() -> None:
    decision = exit_(LaneFacts(stay=stay(600, kind=StayKind.MONTH), vehicle=month()))
    assert decision.outcome is Outcome.EXIT_OPEN
    assert decision.commands[0] == CloseStay("monthuser")


def test_a_month_card_that_ran_out_during_the_stay_pays_from_the_day_after() -> None:
    # entered 3 days ago; the card's last valid day was yesterday, so only today (since 00:00 Beijing) is charged
    vehicle = month(valid_to=TODAY - timedelta(days=1))
    decision = exit_(LaneFacts(stay=stay(3 * 24 * 60, kind=StayKind.MONTH), vehicle=vehicle))
    assert decision.outcome is Outcome.EXIT_FEE_DUE
    # charged from 2026-11-22 00:00 CST = 2026-11-21 16:00 UTC until 10:00 UTC: 18 h → capped at 40.00
    assert decision.due == Decimal("40.00")
    assert "month_expired" in decision.flags


def test_the_whitelist_leaves_free() -> None:
    vehicle = Vehicle(PLATE, VehicleKind.WHITELIST, valid_from=date(2026, 1, 1))
    assert exit_(LaneFacts(stay=stay(600), vehicle=vehicle)).commands[0] == CloseStay("monthuser")


def test_a_blacklisted_car_pays_and_the_cashier_is_alerted() -> None:
    vehicle = Vehicle(PLATE, VehicleKind.BLACKLIST, valid_from=date(2026, 1, 1))
    decision = exit_(LaneFacts(stay=stay(120), vehicle=vehicle))
    assert decision.outcome is Outcome.EXIT_FEE_DUE
    assert AlertCashier(f"黑名单车辆 {PLATE} 在出口", "alarm") in decision.commands


def test_a_prepaid_stay_leaves_free_within_the_free_out_time() -> None:
    paid = stay(120, prepaid=Decimal("9.00"), prepaid_at=NOW - timedelta(minutes=10))
    decision = exit_(LaneFacts(stay=paid))
    assert decision.outcome is Outcome.EXIT_OPEN
    assert decision.commands[0] == CloseStay("prepaid")


def test_a_prepaid_stay_pays_the_difference_after_the_free_out_time() -> None:
    paid = stay(180, prepaid=Decimal("9.00"), prepaid_at=NOW - timedelta(minutes=60))
    decision = exit_(LaneFacts(stay=paid))  # 3 h = 5 + 4 units = 13, minus 9 prepaid
    assert decision.outcome is Outcome.EXIT_FEE_DUE
    assert decision.due == Decimal("4.00")
    assert "prepaid_overtime" in decision.flags


def test_a_misread_exit_plate_asks_the_cashier_to_confirm_ranked_candidates() -> None:
    inside = [stay(60, plate="京AB8220"), stay(60, plate="沪C99999"), stay(60, plate="京A88220")]
    decision = exit_(LaneFacts(inside=inside), plate="京A8B220")
    assert decision.outcome is Outcome.EXIT_CONFIRM_MATCH
    assert not decision.opens
    # one confusion (B for 8) beats two; the unrelated plate is not offered at all
    assert [c.plate for c in decision.candidates] == ["京A88220", "京AB8220"]
    (await_match,) = [command for command in decision.commands if isinstance(command, AwaitMatch)]
    assert await_match.candidates == decision.candidates


def test_no_stay_at_all_leaves_it_to_the_cashier() -> None:
    decision = exit_(LaneFacts(inside=[stay(60, plate="沪C99999")]))
    assert decision.outcome is Outcome.EXIT_NO_STAY
    assert AwaitMatch(()) in decision.commands
    assert not decision.opens


def test_a_month_card_with_no_entry_record_is_let_out() -> None:
    decision = exit_(LaneFacts(vehicle=month()))
    assert decision.outcome is Outcome.EXIT_OPEN
    assert "no_entry_record" in decision.flags


def test_settling_a_confirmed_match_charges_that_stay() -> None:
    decision = settle_exit(stay(61), None, TARIFF, RULES, NOW)
    assert decision.due == Decimal("7.00")


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(read(), Direction.IN, LaneFacts(), TARIFF, RULES, NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0分"),
        (0.5, "1分"),
        (8, "8分"),
        (60, "1小时"),
        (135, "2小时15分"),
        (24 * 60 + 61, "1天1小时1分"),
        (48 * 60, "2天"),
    ],
)
def test_durations_read_the_way_a_driver_hears_them(minutes: float, text: str) -> None:
    assert duration_text(timedelta(minutes=minutes)) == text
