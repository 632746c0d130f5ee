"""A booth that loses the shared database server keeps its lanes going on its journal, and merges it when it is back.

Booth 1 reaches a real PostgreSQL server through a cable the tests pull and plug in again (a TCP relay: open
connections are reset, new ones refused); booth 2 reaches the server directly and keeps working meanwhile.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from booth_app.core.types import ManualRelease, Payment, PaymentChannel, Role, Stay, StayState, Vehicle, VehicleKind
from booth_app.lanes.staff import Staff, StaffError
from booth_app.store import Report, Store, StoreError
from booth_app.store.journal import JOURNAL_IDS, JournaledStore
from tests.cable import Cable

NOW = datetime.now(UTC)


@pytest.fixture
async def site(postgres: Any, tmp_path: Path) -> AsyncIterator[tuple[JournaledStore, Store, Cable]]:
    url = postgres.database()
    cable = Cable(postgres.port)
    cable.plug()
    one = await JournaledStore.open_journaled(cable.via(url), tmp_path / "journal.db", booth="booth01")
    one.snapshot_every_s = one.probe_every_s = 0.05
    two = await Store.open(url, booth="booth02")
    yield one, two, cable
    await one.close()
    await two.close()
    cable.pull()


async def until(condition: Callable[[], Any], within_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def copied(store: JournaledStore) -> None:
    """The journal copied afresh from the server, after what the test wrote (as the booth copies it every 15 s)."""
    before = await store._call(store._meta, "snapshot_at")
    await asyncio.to_thread(store._snapshot)
    assert await store._call(store._meta, "snapshot_at") != before


def in_journal(store: JournaledStore, plate: str) -> bool:
    import sqlalchemy as sa

    with store._journal.connect() as journal:
        found = journal.execute(sa.text("SELECT count(*) FROM stays WHERE plate = :plate"), {"plate": plate})
        return found.scalar() > 0


async def lose_server(store: JournaledStore, cable: Cable) -> None:
    cable.pull()
    await store.count_inside()  # the next call finds the server gone
    assert store.offline


async def get_back(store: JournaledStore, cable: Cable) -> None:
    cable.plug()
    await until(lambda: not store.offline)


def a_stay(number: int, plate: str = "") -> Stay:
    return Stay(order_id=f"A1_{number:04d}", plate=plate or f"京A{number:05d}", entered_at=NOW - timedelta(hours=1),
                entry_lane="A1")  # fmt: skip


def cash(order_id: str, amount: int, minute: int = 0) -> Payment:
    return Payment(order_id, PaymentChannel.CASH, Decimal(amount), NOW + timedelta(minutes=minute), operator="cashier")


def out_park(order_id: str) -> Report:
    return Report("out_park", {"order_id": order_id}, order_id)


async def test_lanes_work_on_the_journal_while_the_server_is_away_and_everything_reaches_it_after(
    site: tuple[JournaledStore, Store, Cable],
) -> None:
    one, two, cable = site
    before = await one.enter(a_stay(1), [Report("in_park", {"order_id": "A1_0001"}, "A1_0001")])
    await until(lambda: in_journal(one, before.plate))  # copied by the booth itself, every snapshot_every_s
    await lose_server(one, cable)

    # Offline: a car that entered before leaves and pays, a new car enters, a gate is opened by hand.
    assert (await one.inside(before.plate)) == before
    left = await one.leave(before.order_id, left_at=NOW, exit_lane="B1", fee=Decimal(5),
                           payments=[cash(before.order_id, 5)], reports=[out_park(before.order_id)])  # fmt: skip
    assert (left.state, left.exit_booth) == (StayState.LEFT, "booth01")
    new = await one.enter(a_stay(2), [Report("in_park", {"order_id": "A1_0002"}, "A1_0002")])
    await one.record_manual_release(ManualRelease("A1", "设备故障", NOW))
    assert await one.count_inside() == 1
    assert await one.outbox_backlog() == 2  # the offline part only; the server's rows wait there
    # The server knows none of it yet.
    assert (await two.stay(before.order_id)).state is StayState.INSIDE  # type: ignore[union-attr]
    assert await two.stay(new.order_id) is None

    await get_back(one, cable)
    assert one.last_merge == {"entered": 1, "closed": 1, "payments": 1, "manual_opens": 1, "reports": 2}
    closed = await two.stay(before.order_id)
    assert closed is not None
    assert (closed.state, closed.exit_booth) == (StayState.LEFT, "booth01")
    assert [p.amount for p in await two.payments(before.order_id)] == [Decimal(5)]
    entered = await two.stay(new.order_id)
    assert entered is not None
    assert (entered.state, entered.entry_booth) == (StayState.INSIDE, "booth01")
    assert [r.lane_id for r in await two.manual_releases()] == ["A1"]
    assert (await two.outbox_counts())["pending"] == 3
    first, second = await two.outbox_due(NOW + timedelta(hours=1))  # out_park waits behind its order's in_park
    assert [(first.service, first.order_id), (second.service, second.order_id)] == [
        ("in_park", "A1_0001"),
        ("in_park", "A1_0002"),
    ]
    await two.outbox_sent(first.id, NOW)
    (after,) = [item for item in await two.outbox_due(NOW + timedelta(hours=1)) if item.order_id == "A1_0001"]
    assert after.service == "out_park"
    assert await two.conflicts() == []
    # Online again, the booth works on the server, and its journal is a fresh copy of it.
    third = await one.enter(a_stay(3))
    assert await two.stay(third.order_id) == third
    await copied(one)
    assert await one._call(one._meta, "epoch") == ""


async def test_the_same_car_let_out_at_both_sides_is_flagged_for_a_person_not_settled_silently(
    site: tuple[JournaledStore, Store, Cable],
) -> None:
    one, two, cable = site
    stay = await two.enter(a_stay(7))
    await copied(one)
    await lose_server(one, cable)
    await one.leave(stay.order_id, left_at=NOW, exit_lane="B1", fee=Decimal(5), payments=[cash(stay.order_id, 5)])
    await two.leave(stay.order_id, left_at=NOW + timedelta(minutes=1), exit_lane="B3", fee=Decimal(7),
                    payments=[cash(stay.order_id, 7, minute=1)])  # fmt: skip
    await get_back(one, cable)

    (conflict,) = await two.conflicts()
    assert (conflict.order_id, conflict.kind, conflict.booth) == (stay.order_id, "closed_twice", "booth01")
    for part in ("booth02 B3", "booth01 B1", "离线收 5"):
        assert part in conflict.detail
    closed = await two.stay(stay.order_id)
    assert closed is not None
    assert "conflict" in closed.flags
    assert (closed.exit_booth, closed.exit_lane) == ("booth02", "B3")  # the server's closure stands until a person acts
    assert sorted(p.amount for p in await two.payments(stay.order_id)) == [5, 7]  # both sums were really taken
    assert await two.count_open_conflicts() == 1

    checked = await two.resolve_conflict(conflict.id, by="admin", resolution="退还 5 元", at=NOW)
    assert checked.resolved_by == "admin"
    assert await two.count_open_conflicts() == 0
    with pytest.raises(StoreError, match="checked already"):
        await two.resolve_conflict(conflict.id, by="admin", resolution="again", at=NOW)


async def test_a_car_let_out_offline_whose_entry_this_booth_never_saw_is_flagged(
    site: tuple[JournaledStore, Store, Cable],
) -> None:
    one, two, cable = site
    await lose_server(one, cable)
    elsewhere = await two.enter(a_stay(8, plate="粤B12345"))  # this booth's journal does not know it
    assert await one.inside("粤B12345") is None
    unknown = await one.enter(a_stay(9, plate="粤B12345"))  # as the cashier's "no entry record" handling records it
    await one.leave(unknown.order_id, left_at=NOW, exit_lane="B1", fee=Decimal(10))
    await get_back(one, cable)
    (conflict,) = await two.conflicts()
    assert (conflict.order_id, conflict.kind) == (elsewhere.order_id, "still_inside")
    assert "粤B12345" in conflict.detail


async def test_a_payment_offline_for_a_car_another_booth_let_out_is_kept_and_flagged(
    site: tuple[JournaledStore, Store, Cable],
) -> None:
    one, two, cable = site
    stay = await two.enter(a_stay(10))
    await copied(one)
    await lose_server(one, cable)
    prepaid = Payment(stay.order_id, PaymentChannel.PREPAY, Decimal(3), NOW, trade_no="T1")
    await one.prepay(prepaid)
    await two.leave(stay.order_id, left_at=NOW, exit_lane="B3", fee=Decimal(0))
    await get_back(one, cable)
    (conflict,) = await two.conflicts()
    assert conflict.kind == "paid_after_close"
    after = await two.stay(stay.order_id)
    assert after is not None
    assert after.prepaid == Decimal(3)
    assert [p.trade_no for p in await two.payments(stay.order_id)] == ["T1"]


async def test_reports_claimed_offline_are_marked_on_the_server_under_their_new_ids(
    site: tuple[JournaledStore, Store, Cable],
) -> None:
    one, two, cable = site
    await lose_server(one, cable)
    await one.queue([Report("work_record", {"n": 1}), Report("work_record", {"n": 2})])
    first, second = await one.outbox_claim(NOW + timedelta(hours=1))
    assert first.id >= JOURNAL_IDS  # never an id of the server's
    await one.outbox_sent(first.id, NOW)  # sent to Bolink while the server was away
    await get_back(one, cable)
    await one.outbox_sent(second.id, NOW)  # the relay held this one across the merge
    assert await two.outbox_counts() == {"pending": 0, "sent": 2, "rejected": 0}


async def test_a_shift_started_offline_is_handed_over_once_the_server_is_back(
    site: tuple[JournaledStore, Store, Cable],
) -> None:
    one, two, cable = site
    operator = await two.add_operator("cashier", "hash", Role.CASHIER)
    await copied(one)
    await lose_server(one, cable)
    assert (await one.operator("cashier")) == operator  # logins work from the journal's copy
    shift_id = await one.start_shift(operator.id, NOW)
    with pytest.raises(StoreError, match="等服务器恢复"):
        await one.shift_report(shift_id)  # the figures need every booth's part
    await get_back(one, cable)
    await one.end_shift(shift_id, NOW + timedelta(hours=8), cash_counted=Decimal(100))
    report = await two.shift_report(one._row_id(shift_id))
    assert (report.closed, report.booth, report.cash_counted) == (True, "booth01", Decimal(100))


async def test_what_needs_the_whole_car_park_is_refused_offline_with_a_sentence(
    site: tuple[JournaledStore, Store, Cable],
) -> None:
    one, two, cable = site
    month = Vehicle("京M00001", VehicleKind.MONTH, NOW.date())
    await two.put_vehicles([month])
    await copied(one)
    await lose_server(one, cable)
    assert await one.vehicle("京M00001") == month  # the lanes still decide with the lists
    for change in (
        one.put_vehicles([Vehicle("京M00002", VehicleKind.MONTH, NOW.date())]),
        one.remove_vehicle("京M00001"),
        one.add_operator("new", "hash", Role.CASHIER),
    ):
        with pytest.raises(StoreError, match="连不上停车场的数据库服务器"):
            await change
    await get_back(one, cable)
    assert await two.vehicles() == [month]


async def test_a_booth_starts_on_its_journal_when_the_server_is_away(postgres: Any, tmp_path: Path) -> None:
    url = postgres.database()
    cable = Cable(postgres.port)
    cable.plug()
    store = await JournaledStore.open_journaled(cable.via(url), tmp_path / "journal.db", booth="booth01")
    await store.enter(a_stay(1))
    await store._call(store._snapshot)
    await store.close()
    cable.pull()

    again = await JournaledStore.open_journaled(cable.via(url), tmp_path / "journal.db", booth="booth01")
    try:
        assert again.offline
        assert (await again.inside(a_stay(1).plate)) is not None
        await again.enter(a_stay(2))
        again.probe_every_s = 0.05
        await get_back(again, cable)
        assert again.last_merge["entered"] == 1
    finally:
        await again.close()
        cable.pull()

    with pytest.raises(StoreError, match="never copied its journal"):
        await JournaledStore.open_journaled(cable.via(url), tmp_path / "other.db", booth="booth03")


async def test_a_journal_merged_just_before_a_stop_is_not_merged_again(
    site: tuple[JournaledStore, Store, Cable], caplog: pytest.LogCaptureFixture
) -> None:
    one, two, cable = site
    await lose_server(one, cable)
    stay = await one.enter(a_stay(11))
    await one.leave(stay.order_id, left_at=NOW, exit_lane="B1", fee=Decimal(5), payments=[cash(stay.order_id, 5)])
    epoch = one._epoch
    rows = await one._call(_journal_rows, one)
    await get_back(one, cable)
    # The booth stopped after the server committed the merge but before its journal was emptied: the same rows again.
    await lose_server(one, cable)
    await one._call(_restore_rows, one, rows, epoch)
    with caplog.at_level(logging.INFO, logger="booth_app.store.journal"):
        await get_back(one, cable)
    assert f"outage {epoch} was merged already" in caplog.text  # known by its epoch, not only by its rows
    assert [p.amount for p in await two.payments(stay.order_id)] == [Decimal(5)]
    assert await two.outbox_counts() == {"pending": 0, "sent": 0, "rejected": 0}
    assert one.last_merge == {}


def _journal_rows(store: JournaledStore) -> dict[str, list[dict[str, Any]]]:
    import sqlalchemy as sa

    with store._journal.connect() as connection:
        return {
            table: [dict(row._mapping) for row in connection.execute(sa.text(f"SELECT * FROM {table}"))]
            for table in ("stays", "payments")
        }


def _restore_rows(store: JournaledStore, rows: dict[str, list[dict[str, Any]]], epoch: str) -> None:
    import sqlalchemy as sa

    with store._journal.begin() as connection:
        for table in ("stays", "payments"):
            for row in rows[table]:
                columns = ", ".join(row)
                values = ", ".join(f":{name}" for name in row)
                connection.execute(sa.text(f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({values})"), row)
    store._epoch = epoch
    store._set_meta(epoch=epoch)


async def test_offline_a_cashier_logs_in_and_works_but_the_handover_waits_for_the_server(
    site: tuple[JournaledStore, Store, Cable],
) -> None:
    one, two, cable = site
    admin = await Staff(two).create_first_admin("admin", "admin123")
    await copied(one)
    await lose_server(one, cable)
    staff = Staff(one)
    on_duty = await staff.login("admin", "admin123")  # checked against the journal's copy
    assert on_duty.operator == admin
    for asked in (
        staff.report(on_duty),
        staff.hand_over(on_duty, cash_counted=Decimal(0)),
        staff.add_operator(on_duty, "li", "lipassword1", Role.CASHIER),
        staff.set_password(on_duty, "admin", "newpassword1"),
    ):
        with pytest.raises(StaffError, match="数据库服务器"):
            await asked
    await get_back(one, cable)
    report = await staff.hand_over(on_duty, cash_counted=Decimal(0))
    assert (report.closed, report.booth, report.username) == (True, "booth01", "admin")
