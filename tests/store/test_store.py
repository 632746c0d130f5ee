"""The Store on a real SQLite file and on a real PostgreSQL server: durable settings, one transaction per change,
reports written with their change."""

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from booth_app.core.types import (
    ManualRelease,
    Payment,
    PaymentChannel,
    Role,
    Stay,
    StayKind,
    StayState,
    Vehicle,
    VehicleKind,
)
from booth_app.store import Report, Store, StoreError
from booth_app.store.engine import sqlite_url

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store test runs on a SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "data" / "booth.db")
    return str(request.getfixturevalue("postgres").database())


@pytest.fixture
async def store(database_url: str):
    opened = await Store.open(database_url, booth="booth01")
    yield opened
    await opened.close()


def a_stay(order_id: str = "A1_0001", plate: str = "京A12345", minutes_ago: int = 60) -> Stay:
    return Stay(order_id=order_id, plate=plate, entered_at=T0 - timedelta(minutes=minutes_ago), entry_lane="A1")


def count(store: Store, sql: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


async def test_the_sqlite_database_is_durable_wal_with_foreign_keys(tmp_path: Path) -> None:
    store = await Store.open(sqlite_url(tmp_path / "booth.db"))  # on PostgreSQL, durability is the server's settings
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: fsync at every commit
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    await store.close()


async def test_database_work_runs_off_the_calling_thread(store: Store) -> None:
    seen: list[str] = []
    await store._call(lambda: seen.append(threading.current_thread().name))
    assert seen[0].startswith("store")
    assert seen[0] != threading.current_thread().name


async def test_a_stay_and_its_report_are_written_together(store: Store) -> None:
    stay = a_stay()
    report = Report("in_park", {"order_id": stay.order_id, "car_number": stay.plate}, stay.order_id)
    entered = await store.enter(stay, [report])
    assert entered == replace(stay, entry_booth="booth01")  # the stay as recorded: at this booth
    assert await store.inside("京A12345") == entered
    assert await store.count_inside() == 1
    (item,) = await store.outbox_due(datetime.now(UTC) + timedelta(minutes=1))
    assert (item.service, item.order_id) == ("in_park", "A1_0001")
    assert item.payload == '{"order_id":"A1_0001","car_number":"京A12345"}'  # compact, characters as themselves


async def test_a_failed_change_queues_no_report(store: Store) -> None:
    await store.enter(a_stay(), [Report("in_park", {"n": 1}, "A1_0001")])
    with pytest.raises(StoreError, match="already exists"):
        await store.enter(a_stay(), [Report("in_park", {"n": 2}, "A1_0001")])
    assert count(store, "SELECT count(*) FROM outbox") == 1


async def test_leaving_records_payments_and_refuses_a_second_exit(store: Store) -> None:
    await store.enter(a_stay())
    paid = Payment("A1_0001", PaymentChannel.CASH, Decimal("7.00"), T0, operator="cashier1", lane_id="B1")
    left = await store.leave(
        "A1_0001",
        left_at=T0,
        exit_lane="B1",
        fee=Decimal("7.00"),
        payments=[paid],
        reports=[Report("out_park", {"order_id": "A1_0001"}, "A1_0001")],
        flags=["fuzzy_exit"],
    )
    assert (left.state, left.left_at, left.exit_lane, left.flags) == (StayState.LEFT, T0, "B1", ("fuzzy_exit",))
    assert await store.payments("A1_0001") == [replace(paid, booth="booth01")]
    assert await store.inside("京A12345") is None
    with pytest.raises(StoreError, match="already closed"):
        await store.leave("A1_0001", left_at=T0, exit_lane="B1", fee=Decimal("7.00"), payments=[paid])
    assert count(store, "SELECT count(*) FROM payments") == 1
    with pytest.raises(StoreError, match="no stay"):
        await store.leave("nope", left_at=T0, exit_lane="B1", fee=Decimal(0))


async def test_every_change_is_recorded_at_the_booth_that_made_it(store: Store) -> None:
    entered = await store.enter(a_stay())
    await store.prepay(Payment("A1_0001", PaymentChannel.PREPAY, Decimal("2.00"), T0, trade_no="T1"))
    cash = Payment("A1_0001", PaymentChannel.CASH, Decimal("5.00"), T0, operator="cashier1", lane_id="B1")
    left = await store.leave("A1_0001", left_at=T0, exit_lane="B1", fee=Decimal("7.00"), payments=[cash])
    assert (entered.entry_booth, entered.exit_booth) == ("booth01", "")
    assert (left.entry_booth, left.exit_booth) == ("booth01", "booth01")
    assert await store.stay("A1_0001") == left
    assert [payment.booth for payment in await store.payments("A1_0001")] == ["booth01", "booth01"]
    await store.record_manual_release(ManualRelease("A1", "设备故障", T0))
    assert [release.booth for release in await store.manual_releases()] == ["booth01"]
    assert store.booth == "booth01"
    assert store.shared is (store.engine.dialect.name == "postgresql")


async def test_a_car_may_leave_at_another_booth_of_a_shared_database(postgres) -> None:
    url = postgres.database()
    east, west = await Store.open(url, booth="east"), await Store.open(url, booth="west")
    try:
        assert east.shared
        assert west.shared
        await east.enter(a_stay())
        cash = Payment("A1_0001", PaymentChannel.CASH, Decimal("7.00"), T0, operator="wang", lane_id="B2")
        await west.leave("A1_0001", left_at=T0, exit_lane="B2", fee=Decimal("7.00"), payments=[cash])
        for store in (east, west):
            stay = await store.stay("A1_0001")
            assert stay is not None
            assert (stay.entry_booth, stay.entry_lane, stay.exit_booth, stay.exit_lane) == ("east", "A1", "west", "B2")
            assert await store.payments("A1_0001") == [replace(cash, booth="west")]
            (recent,) = await store.recent_stays()
            assert recent == stay
    finally:
        await east.close()
        await west.close()


async def test_a_shift_counts_the_cars_its_booth_let_in_and_out(postgres) -> None:
    url = postgres.database()
    east, west = await Store.open(url, booth="east"), await Store.open(url, booth="west")
    try:
        wang = await east.add_operator("wang", "x", Role.CASHIER)
        li = await west.add_operator("li", "x", Role.CASHIER)
        east_shift = await east.start_shift(wang.id, T0 - timedelta(hours=2))
        west_shift = await west.start_shift(li.id, T0 - timedelta(hours=2))
        await east.enter(a_stay())
        cash = Payment("A1_0001", PaymentChannel.CASH, Decimal("7.00"), T0, operator="li", lane_id="B2")
        await west.leave("A1_0001", left_at=T0, exit_lane="B2", fee=Decimal("7.00"), payments=[cash])
        until = T0 + timedelta(minutes=1)
        at_east = await east.shift_report(east_shift, until=until)
        at_west = await west.shift_report(west_shift, until=until)
        assert (at_east.booth, sum(at_east.cars_in.values()), sum(at_east.cars_out.values())) == ("east", 1, 0)
        assert (at_west.booth, sum(at_west.cars_in.values()), sum(at_west.cars_out.values())) == ("west", 0, 1)
        assert (at_east.cash_collected, at_west.cash_collected) == (Decimal("0.00"), Decimal("7.00"))
    finally:
        await east.close()
        await west.close()


async def test_a_prepayment_is_kept_on_the_stay(store: Store) -> None:
    await store.enter(a_stay())
    stay = await store.prepay(Payment("A1_0001", PaymentChannel.PREPAY, Decimal("5.00"), T0, trade_no="T1"))
    assert (stay.prepaid, stay.prepaid_at) == (Decimal("5.00"), T0)
    assert (await store.stay("A1_0001")) == stay


async def test_entering_again_supersedes_the_old_stay(store: Store) -> None:
    await store.enter(a_stay("A1_0001"))
    await store.enter(a_stay("A1_0002", minutes_ago=1), supersedes="A1_0001")
    old = await store.stay("A1_0001")
    assert old is not None
    assert old.state is StayState.SUPERSEDED
    assert "reentered" in old.flags
    inside = await store.inside("京A12345")
    assert inside is not None
    assert inside.order_id == "A1_0002"
    assert await store.count_inside() == 1


async def test_times_come_back_in_utc_whatever_zone_they_were_given_in(store: Store) -> None:
    beijing = datetime(2026, 11, 22, 16, 0, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    await store.enter(Stay("A1_9", "京A00001", beijing, "A1", kind=StayKind.MONTH))
    back = await store.stay("A1_9")
    assert back is not None
    assert back.entered_at == beijing
    assert back.entered_at.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        await store.enter(Stay("A1_10", "京A00002", datetime(2026, 1, 1), "A1"))


async def test_vehicle_lists_seed_without_overwriting(store: Store) -> None:
    month = Vehicle("京A88888", VehicleKind.MONTH, date(2026, 1, 1), date(2026, 12, 31), owner="张三")
    assert await store.seed_vehicles([month]) == 1
    renewed = Vehicle("京A88888", VehicleKind.MONTH, date(2026, 1, 1), date(2027, 12, 31), owner="张三")
    await store.put_vehicles([renewed])
    assert await store.seed_vehicles([month]) == 0  # the window's renewal stands
    assert await store.vehicle("京A88888") == renewed
    assert await store.vehicles(VehicleKind.BLACKLIST) == []
    assert await store.remove_vehicle("京A88888") is True
    assert await store.vehicle("京A88888") is None


async def test_operators_shifts_and_manual_releases(store: Store) -> None:
    admin = await store.add_operator("admin", "$argon2id$…", Role.ADMIN, "管理员")
    assert await store.operator("admin") == admin
    with pytest.raises(StoreError, match="already exists"):
        await store.add_operator("admin", "x", Role.CASHIER)
    shift = await store.start_shift(admin.id, T0, [Report("work_record", {"uid": "admin", "state": 1})])
    await store.end_shift(shift, T0 + timedelta(hours=8), cash_counted=Decimal("120.50"))
    with pytest.raises(StoreError, match="already ended"):
        await store.end_shift(shift, T0 + timedelta(hours=9))
    release = ManualRelease("B1", "设备故障", T0, operator_id=admin.id, plate="京A12345", note="道闸不抬")
    await store.record_manual_release(release, [Report("upload_liftrod", {"channel_id": "B1"})])
    assert await store.manual_releases() == [replace(release, booth="booth01")]
    assert count(store, "SELECT count(*) FROM outbox") == 2


async def test_a_manual_release_must_name_a_real_operator(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError):  # foreign keys are on
        await store.record_manual_release(ManualRelease("B1", "测试", T0, operator_id=999))


async def test_the_outbox_hands_out_due_reports_in_order_and_remembers_failures(store: Store) -> None:
    await store.queue([Report("in_park", {"i": i}, f"o{i}") for i in range(5)])
    due = await store.outbox_due(datetime.now(UTC) + timedelta(minutes=1), limit=3)
    assert [item.order_id for item in due] == ["o0", "o1", "o2"]
    await store.outbox_sent(due[0].id, T0)
    later = datetime.now(UTC) + timedelta(minutes=5)
    await store.outbox_retry(due[1].id, "timeout", later)
    await store.outbox_retry(due[2].id, "参数错误", later, give_up=True)
    assert [item.order_id for item in await store.outbox_due(datetime.now(UTC))] == ["o3", "o4"]
    assert [item.order_id for item in await store.outbox_due(later)] == ["o1", "o3", "o4"]
    assert await store.outbox_backlog() == 3


async def test_a_store_reopens_on_the_same_file_with_its_data(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "booth.db")
    first = await Store.open(url)
    await first.enter(a_stay())
    await first.close()
    second = await Store.open(url)  # migrations find the schema current and leave it alone
    try:
        assert await second.stay("A1_0001") == a_stay()
    finally:
        await second.close()


def test_the_migrations_build_exactly_the_tables_of_the_models(tmp_path: Path) -> None:
    from booth_app.store.engine import create_engine, migrate

    engine = create_engine(sqlite_url(tmp_path / "m.db"))
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert differences == [], "the tables changed without a migration: write one with alembic revision --autogenerate"


async def test_a_later_report_waits_while_an_earlier_one_of_the_same_order_is_pending(store: Store) -> None:
    await store.queue([Report("in_park", {"i": 1}, "A1_1"), Report("in_park", {"i": 2}, "A1_2")])
    (first, _second) = await store.outbox_due(datetime.now(UTC))
    await store.outbox_retry(first.id, "timeout", datetime.now(UTC) + timedelta(minutes=5))
    await store.queue([Report("out_park", {"i": 1}, "A1_1"), Report("work_record", {"uid": "x"})])
    due = await store.outbox_due(datetime.now(UTC))
    # A1_1's out_park must not overtake its in_park; other orders and reports with no order go on
    assert [(item.service, item.order_id) for item in due] == [("in_park", "A1_2"), ("work_record", "")]
    await store.outbox_sent(first.id, datetime.now(UTC))
    due = await store.outbox_due(datetime.now(UTC))
    assert [(item.service, item.order_id) for item in due] == [
        ("in_park", "A1_2"),
        ("out_park", "A1_1"),
        ("work_record", ""),
    ]
