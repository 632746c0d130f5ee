"""Operators, logins, shifts and the handover report, on a real SQLite store (two booths sharing it)."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from booth_app.core.types import ManualRelease, Payment, PaymentChannel, Role, Stay, StayKind
from booth_app.lanes.staff import LoginError, OnDuty, Staff, StaffError
from booth_app.store import Store
from booth_app.store.engine import sqlite_url
from booth_app.store.shift_report import ChannelTotal
from tests.helpers import Clock

T0 = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)  # 08:00 in the park


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(sqlite_url(tmp_path / "booth.db"), booth="booth01")
    yield opened
    await opened.close()


@pytest.fixture
async def other_booth(store: Store, tmp_path: Path) -> AsyncIterator[Store]:
    """A second booth of the same car park on the same database."""
    opened = await Store.open(sqlite_url(tmp_path / "booth.db"), booth="booth02")
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def wakes() -> list[int]:
    return []


@pytest.fixture
def staff(store: Store, clock: Clock, wakes: list[int]) -> Staff:
    return Staff(store, clock=clock, reported=lambda: wakes.append(1))


async def admin_on_duty(staff: Staff) -> OnDuty:
    await staff.create_first_admin("admin", "admin-secret", "王站长")
    return await staff.login("admin", "admin-secret")


async def work_records(store: Store) -> list[dict[str, object]]:
    due = await store.outbox_due(datetime.now(UTC) + timedelta(minutes=1))
    return [json.loads(item.payload) for item in due if item.service == "work_record"]


def shift_row(store: Store, shift_id: int) -> sa.Row:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT booth, ended_at, cash_counted, note FROM shifts WHERE id = :id"), {"id": shift_id}
        ).one()


# ------------------------------------------------------------ operators


async def test_the_first_admin_is_created_once(staff: Staff) -> None:
    assert await staff.needs_first_admin()
    admin = await staff.create_first_admin("admin", "admin-secret", "王站长")
    assert (admin.username, admin.role, admin.display_name) == ("admin", Role.ADMIN, "王站长")
    assert not await staff.needs_first_admin()
    with pytest.raises(StaffError, match="已经建立"):
        await staff.create_first_admin("intruder", "another-secret")
    assert not await staff._store.operator("intruder")


async def test_the_store_keeps_an_argon2_hash_not_the_password(staff: Staff, store: Store) -> None:
    await staff.create_first_admin("admin", "admin-secret")
    with store.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT password_hash FROM operators")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "admin-secret" not in stored
    assert PasswordHasher().verify(stored, "admin-secret")


async def test_a_short_password_or_blank_username_is_refused_in_one_sentence(staff: Staff) -> None:
    with pytest.raises(StaffError, match="至少需要 6 个字符"):
        await staff.create_first_admin("admin", "12345")
    with pytest.raises(StaffError, match="用户名不能为空"):
        await staff.create_first_admin(" ", "123456")
    assert await staff.needs_first_admin()


async def test_only_an_admin_adds_operators_and_changes_others_passwords(staff: Staff) -> None:
    admin = await admin_on_duty(staff)
    cashier = await staff.add_operator(admin, "li", "li-secret", Role.CASHIER, "李娜")
    assert cashier.role is Role.CASHIER
    with pytest.raises(StaffError, match="已被使用"):
        await staff.add_operator(admin, "li", "other-secret", Role.CASHIER)
    li = await staff.login("li", "li-secret")
    assert (li.name, li.is_admin, admin.is_admin) == ("李娜", False, True)
    with pytest.raises(PermissionError):
        await staff.add_operator(li, "zhao", "zhao-secret", Role.CASHIER)
    with pytest.raises(PermissionError):
        await staff.set_password(li, "admin", "taken-over")
    await staff.set_password(li, "li", "li-new-secret")
    await staff.set_password(admin, "li", "li-newer-secret")
    with pytest.raises(LoginError):
        await staff.login("li", "li-new-secret")
    assert (await staff.login("li", "li-newer-secret")).operator.username == "li"


# ------------------------------------------------------------ logins and shifts


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(staff: Staff, store: Store) -> None:
    await staff.create_first_admin("admin", "admin-secret")
    with pytest.raises(LoginError) as wrong:
        await staff.login("admin", "admin-secreT")
    with pytest.raises(LoginError) as unknown:
        await staff.login("nobody", "admin-secret")
    assert str(wrong.value) == str(unknown.value) == "用户名或密码错误。"
    assert await store.open_shifts() == []
    assert await work_records(store) == []


async def test_an_inactive_operator_cannot_log_in(staff: Staff, store: Store) -> None:
    admin = await admin_on_duty(staff)
    await staff.add_operator(admin, "li", "li-secret", Role.CASHIER)
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE operators SET active = 0 WHERE username = 'li'"))
    with pytest.raises(LoginError, match="停用"):
        await staff.login("li", "li-secret")


async def test_login_starts_a_shift_and_queues_work_on(staff: Staff, store: Store, wakes: list[int]) -> None:
    on_duty = await admin_on_duty(staff)
    assert on_duty.started_at == T0
    assert on_duty.name == "王站长"
    booth, ended_at, _, _ = shift_row(store, on_duty.shift_id)
    assert (booth, ended_at) == ("booth01", None)
    assert await work_records(store) == [
        {"data_target": "bolink", "uid": "admin", "user_name": "王站长", "state": 1, "time": int(T0.timestamp())}
    ]
    assert wakes == [1]


async def test_hand_over_ends_the_shift_and_queues_work_off(
    staff: Staff, store: Store, clock: Clock, wakes: list[int]
) -> None:
    on_duty = await admin_on_duty(staff)
    clock.now = T0 + timedelta(hours=8)
    report = await staff.hand_over(on_duty, cash_counted=Decimal("120.5"), note=" 钱箱已清点 ")
    assert report.closed
    assert (report.started_at, report.ended_at, report.cash_counted) == (T0, clock.now, Decimal("120.50"))
    _, ended_at, cash_counted, note = shift_row(store, on_duty.shift_id)
    assert ended_at is not None
    assert (Decimal(str(cash_counted)), note) == (Decimal("120.50"), "钱箱已清点")
    assert [(r["state"], r["time"]) for r in await work_records(store)] == [
        (1, int(T0.timestamp())),
        (0, int(clock.now.timestamp())),
    ]
    assert wakes == [1, 1]
    with pytest.raises(StaffError, match="已经交班结束"):
        await staff.hand_over(on_duty, cash_counted=None)


async def test_a_negative_cash_count_is_refused_and_the_shift_stays_open(staff: Staff, store: Store) -> None:
    on_duty = await admin_on_duty(staff)
    with pytest.raises(StaffError, match="不能为负数"):
        await staff.hand_over(on_duty, cash_counted=Decimal("-1"))
    assert [shift.shift_id for shift in await store.open_shifts()] == [on_duty.shift_id]


async def test_logging_in_again_takes_up_the_own_open_shift_and_ends_anothers(
    staff: Staff, store: Store, clock: Clock, other_booth: Store, wakes: list[int]
) -> None:
    admin = await admin_on_duty(staff)
    await staff.add_operator(admin, "li", "li-secret", Role.CASHIER)
    await staff.add_operator(admin, "zhao", "zhao-secret", Role.CASHIER)
    elsewhere = await Staff(other_booth, clock=clock).login("zhao", "zhao-secret")
    clock.now = T0 + timedelta(hours=1)
    assert await staff.login("admin", "admin-secret") == admin  # the booth restarted before a handover
    li = await staff.login("li", "li-secret")
    assert li.started_at == clock.now
    _, ended_at, _, note = shift_row(store, admin.shift_id)
    assert ended_at is not None
    assert note == "未交班：li 登录时结束"
    assert [shift.shift_id for shift in await store.open_shifts()] == [li.shift_id]
    assert [shift.shift_id for shift in await other_booth.open_shifts()] == [elsewhere.shift_id]
    assert [(r["uid"], r["state"]) for r in await work_records(store)] == [
        ("admin", 1),
        ("zhao", 1),
        ("admin", 0),
        ("li", 1),
    ]
    assert wakes == [1, 1]  # taking up a shift again queued nothing


async def test_an_unknown_operator_cannot_have_a_password_set(staff: Staff) -> None:
    admin = await admin_on_duty(staff)
    with pytest.raises(StaffError, match="没有用户名为“nobody”的操作员"):
        await staff.set_password(admin, "nobody", "some-secret")


async def test_a_hash_with_older_parameters_is_renewed_at_login(store: Store, clock: Clock) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    await Staff(store, clock=clock, hasher=weak).create_first_admin("admin", "admin-secret")
    before = (await store.operator("admin")).password_hash
    await Staff(store, clock=clock).login("admin", "admin-secret")
    after = (await store.operator("admin")).password_hash
    assert before != after
    assert "m=8192" in before
    assert not PasswordHasher().check_needs_rehash(after)
    assert PasswordHasher().verify(after, "admin-secret")


# ------------------------------------------------------------ the handover report


async def a_car(
    store: Store,
    order_id: str,
    *,
    kind: StayKind = StayKind.TEMPORARY,
    entered: timedelta,
    left: timedelta | None = None,
    paid: tuple[tuple[PaymentChannel, str], ...] = (),
    reason: str = "",
) -> None:
    """A car that came in (and left, paying so) at times relative to the shift's start."""
    plate = f"京A{order_id[-5:]}"
    await store.enter(Stay(order_id, plate, T0 + entered, "A1", kind))
    if left is not None:
        payments = [
            Payment(order_id, channel, Decimal(amount), T0 + left, operator="admin", lane_id="B1", reason=reason)
            for channel, amount in paid
        ]
        fee = sum((payment.amount for payment in payments), Decimal(0))
        await store.leave(order_id, left_at=T0 + left, exit_lane="B1", fee=fee, payments=payments)


async def test_the_report_counts_this_booths_shift_and_nothing_else(
    staff: Staff, store: Store, clock: Clock, other_booth: Store
) -> None:
    on_duty = await admin_on_duty(staff)
    h = timedelta(hours=1)
    cash, wallet, scancode = PaymentChannel.CASH, PaymentChannel.WALLET, PaymentChannel.SCANCODE
    await a_car(store, "S0001", entered=-h, left=1 * h, paid=((cash, "10"),))  # came in before the shift
    await a_car(store, "S0002", entered=h / 2, left=2 * h, paid=((wallet, "5"),))
    await a_car(store, "S0003", kind=StayKind.MONTH, entered=h)  # still inside
    await a_car(store, "S0004", kind=StayKind.UNPLATED, entered=2 * h, left=3 * h, paid=((scancode, "3"), (cash, "2")))
    await a_car(store, "S0005", entered=3 * h, left=4 * h, paid=((PaymentChannel.FREE, "0"),), reason="救护车")
    await a_car(store, "S0006", kind=StayKind.WHITELIST, entered=4 * h, left=5 * h)
    await a_car(store, "S0007", entered=h)
    await store.prepay(Payment("S0007", PaymentChannel.PREPAY, Decimal(8), T0 + 5 * h, lane_id="PAY"))
    await store.leave("S0007", left_at=T0 + 6 * h, exit_lane="B1", fee=Decimal(8))
    await a_car(store, "S0008", entered=9 * h, left=10 * h, paid=((cash, "50"),))  # after the handover
    await a_car(store, "S0009", entered=-3 * h, left=-2 * h, paid=((cash, "7"),))  # before the shift
    await a_car(other_booth, "O0001", entered=h, left=2 * h, paid=((cash, "100"),))
    await store.record_manual_release(ManualRelease("A1", "车牌识别失败", T0 + 2 * h, plate="京A00001"))
    await store.record_manual_release(ManualRelease("A1", "前一班", T0 - h))
    await other_booth.record_manual_release(ManualRelease("C1", "另一岗亭", T0 + 3 * h))

    so_far = await staff.report(on_duty, until=T0 + 90 * timedelta(minutes=1))
    assert not so_far.closed
    assert so_far.ended_at == T0 + 90 * timedelta(minutes=1)
    assert so_far.cars_in == {StayKind.TEMPORARY: 2, StayKind.MONTH: 1, StayKind.WHITELIST: 0, StayKind.UNPLATED: 0}
    assert so_far.cash_collected == Decimal("10.00")
    assert so_far.free_releases == so_far.manual_opens == ()

    clock.now = T0 + 8 * h
    report = await staff.hand_over(on_duty, cash_counted=Decimal("11.5"))
    assert (report.username, report.display_name, report.booth) == ("admin", "王站长", "booth01")
    assert (report.started_at, report.ended_at, report.closed) == (T0, T0 + 8 * h, True)
    assert report.cars_in == {StayKind.TEMPORARY: 3, StayKind.MONTH: 1, StayKind.WHITELIST: 1, StayKind.UNPLATED: 1}
    assert report.cars_out == {StayKind.TEMPORARY: 4, StayKind.MONTH: 0, StayKind.WHITELIST: 1, StayKind.UNPLATED: 1}
    assert report.cash_collected == Decimal("12.00")
    assert report.electronic == {
        PaymentChannel.WALLET: ChannelTotal(1, Decimal("5.00")),
        PaymentChannel.SWEEPCODE: ChannelTotal(0, Decimal("0.00")),
        PaymentChannel.SCANCODE: ChannelTotal(1, Decimal("3.00")),
        PaymentChannel.ETC: ChannelTotal(0, Decimal("0.00")),
        PaymentChannel.PREPAY: ChannelTotal(1, Decimal("8.00")),
    }
    assert report.electronic_total == ChannelTotal(3, Decimal("16.00"))
    [free] = report.free_releases
    assert (free.plate, free.lane_id, free.reason, free.released_at) == ("京AS0005", "B1", "救护车", T0 + 4 * h)
    [opened] = report.manual_opens
    assert (opened.lane_id, opened.reason, opened.opened_at, opened.plate) == (
        "A1",
        "车牌识别失败",
        T0 + 2 * h,
        "京A00001",
    )
    assert (report.cash_counted, report.cash_difference) == (Decimal("11.50"), Decimal("-0.50"))
    assert await staff.report(on_duty, until=T0 + 24 * h) == report  # a closed shift's figures stay as they were
