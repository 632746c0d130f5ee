"""The async Store facade: every database call runs on one worker thread, so the GUI thread never touches the disk
and writes are serialised. Each method is one transaction; when it returns, what it wrote is committed (and on SQLite
fsynced).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from booth_app.core.types import (
    ZERO,
    Conflict,
    ManualRelease,
    Operator,
    Payment,
    PaymentChannel,
    Role,
    Stay,
    StayKind,
    StayState,
    Vehicle,
    VehicleKind,
)
from booth_app.store import convert
from booth_app.store.engine import create_engine, migrate
from booth_app.store.outbox import OutboxItem, Report
from booth_app.store.shift_report import (
    ELECTRONIC_CHANNELS,
    ChannelTotal,
    FreeRelease,
    ManualOpen,
    OpenShift,
    ShiftReport,
)
from booth_app.store.tables import (
    ConflictRow,
    LaneQrCodeRow,
    ManualReleaseRow,
    OperatorRow,
    OutboxRow,
    PaymentRow,
    RelayPaceRow,
    ShiftRow,
    StayRow,
    VehicleRow,
)

CLAIM_LEASE = timedelta(seconds=60)  # how long a relay's claim on a report holds; a stopped booth's lapses then
# Each booth waits for one turn at a time, so the park's next turn is never more than a booth count of turns ahead:
# further means a clock went back, and the pace starts again from now rather than waiting out the difference.
PACE_MAX_AHEAD = timedelta(seconds=5)

P = ParamSpec("P")
T = TypeVar("T")


class StoreError(Exception):
    """A store operation that cannot be done as asked (a person or the caller can act on the message)."""


def _insert_operator(session: Session, username: str, password_hash: str, role: Role, display_name: str) -> Operator:
    row = OperatorRow(
        username=username, password_hash=password_hash, role=role, display_name=display_name, created_at=_utcnow()
    )
    session.add(row)
    session.flush()
    return convert.operator(row)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _stay_inside(session: Session, order_id: str) -> StayRow:
    """The stay's row, locked for this transaction; only a stay still inside can be paid for or closed."""
    row = session.get(StayRow, order_id, with_for_update=True)
    if row is None:
        raise StoreError(f"no stay with order id {order_id}")
    if row.state != StayState.INSIDE:
        raise StoreError(f"stay {order_id} ({row.plate}) is already closed: {row.state}")
    return row


def _run_session(engine: Engine, work: Callable[[Session], T], prepare: Callable[[Session], None] | None = None) -> T:
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            if prepare is not None:
                prepare(session)
            return work(session)
    except sa.exc.StatementError as exc:
        if isinstance(exc.orig, ValueError):  # a value our column types refused (a naive time): say just that
            raise exc.orig from None
        raise


def _due(now: datetime) -> Any:
    """Pending reports whose time has come, oldest first, none ahead of an earlier pending report of its order."""
    earlier = sa.orm.aliased(OutboxRow)
    # An order's reports go in the order written: one waiting for a retry (or claimed by another booth's relay) holds
    # back the later ones.
    held_back = (
        select(earlier.id)
        .where(earlier.state == "pending", earlier.order_id == OutboxRow.order_id, col(earlier.id) < OutboxRow.id)
        .exists()
    )
    return (
        select(OutboxRow)
        .where(
            OutboxRow.state == "pending",
            col(OutboxRow.next_attempt_at) <= now,
            sa.or_(col(OutboxRow.order_id) == "", ~held_back),
        )
        .order_by(col(OutboxRow.id))
    )


class Store:
    """The booth's durable memory: stays, payments, vehicle lists, operators, shifts, manual releases, outbox."""

    def __init__(self, engine: Engine, *, booth: str = "") -> None:
        self._engine = engine
        self._booth = booth
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    @classmethod
    async def open(cls, url: str, *, booth: str = "") -> Store:
        """Open (creating or upgrading) the database at `url`."""
        store = cls(create_engine(url), booth=booth)
        await store._call(migrate, store._engine)
        return store

    async def close(self) -> None:
        await self._call(self._engine.dispose)
        self._worker.shutdown(wait=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def booth(self) -> str:
        """This booth: the one every change made through this store is recorded at."""
        return self._booth

    @property
    def shared(self) -> bool:
        """Whether other booths may use this database too (a server; a SQLite file is one booth's own)."""
        return self._engine.dialect.name != "sqlite"

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(fn, *args, **kwargs))

    @property
    def offline(self) -> bool:
        """Whether this booth cannot reach its shared database now and keeps its lanes going on a local journal."""
        return False

    @property
    def offline_since(self) -> datetime | None:
        """Since when this booth has been `offline` (None while it is not)."""
        return None

    async def _in_session(self, work: Callable[[Session], T], *, journaled: bool = True) -> T:
        """Run `work` in one transaction on the worker thread.

        `journaled=False` marks work that only the database itself may do (vehicle lists, operators, handover
        figures): a store keeping a journal while its server is away refuses it then, rather than writing changes it
        could not merge back or reading figures that miss other booths' part.
        """
        return await self._call(_run_session, self._engine, work)

    def _row_id(self, row_id: int) -> int:
        """The row an id handed out by this store names now (a journal's ids move when it is merged)."""
        return row_id

    def _queue(self, session: Session, reports: Iterable[Report], now: datetime) -> None:
        for report in reports:
            session.add(
                OutboxRow(
                    service=report.service,
                    order_id=report.order_id,
                    payload=report.payload(),
                    created_at=now,
                    next_attempt_at=now,
                )
            )

    # ------------------------------------------------------------ stays

    async def enter(self, stay: Stay, reports: Sequence[Report] = (), *, supersedes: str | None = None) -> Stay:
        """Record a car that entered, with its reports; returns the stay as recorded, at this booth.

        `supersedes`: an older stay of the same car, still inside, whose exit was missed.
        """
        entered = dataclasses.replace(stay, entry_booth=self._booth)

        def work(session: Session) -> None:
            now = _utcnow()
            if supersedes is not None:
                old = session.get(StayRow, supersedes)
                if old is not None and old.state == StayState.INSIDE:
                    old.state = StayState.SUPERSEDED
                    old.flags = convert.add_flag(old.flags, "reentered")
                    old.updated_at = now
                    session.add(old)
            if session.get(StayRow, stay.order_id) is not None:
                raise StoreError(f"order id {stay.order_id} already exists")
            session.add(convert.stay_row(entered, now=now))
            self._queue(session, reports, now)

        await self._in_session(work)
        return entered

    async def leave(
        self,
        order_id: str,
        *,
        left_at: datetime,
        exit_lane: str,
        fee: Decimal,
        payments: Sequence[Payment] = (),
        reports: Sequence[Report] = (),
        flags: Sequence[str] = (),
        exit_read_id: str = "",
    ) -> Stay:
        """Close a stay with what was paid at the exit; refuses a stay that has already left."""

        def work(session: Session) -> Stay:
            row = _stay_inside(session, order_id)
            now = _utcnow()
            for payment in payments:
                session.add(convert.payment_row(dataclasses.replace(payment, booth=self._booth)))
                row.paid += payment.amount
            row.state = StayState.LEFT
            row.left_at = left_at
            row.exit_lane = exit_lane
            row.exit_booth = self._booth
            row.exit_read_id = exit_read_id
            row.fee = fee
            for flag in flags:
                row.flags = convert.add_flag(row.flags, flag)
            row.updated_at = now
            session.add(row)
            self._queue(session, reports, now)
            return convert.stay(row)

        return await self._in_session(work)

    async def prepay(self, payment: Payment, reports: Sequence[Report] = ()) -> Stay:
        """A payment made inside the lot before the exit (Bolink's prepay_order, or cash at a pay station)."""

        def work(session: Session) -> Stay:
            row = _stay_inside(session, payment.order_id)
            session.add(convert.payment_row(dataclasses.replace(payment, booth=self._booth)))
            row.prepaid += payment.amount
            row.paid += payment.amount
            row.prepaid_at = payment.paid_at
            row.updated_at = _utcnow()
            session.add(row)
            self._queue(session, reports, row.updated_at)
            return convert.stay(row)

        return await self._in_session(work)

    async def stay(self, order_id: str) -> Stay | None:
        def work(session: Session) -> Stay | None:
            row = session.get(StayRow, order_id)
            return convert.stay(row) if row is not None else None

        return await self._in_session(work)

    async def stay_by_read(self, read_id: str) -> Stay | None:
        """The stay a camera read already let in or out (a camera resends a read it got no answer for)."""

        def work(session: Session) -> Stay | None:
            row = session.exec(
                select(StayRow).where(
                    sa.or_(col(StayRow.entry_read_id) == read_id, col(StayRow.exit_read_id) == read_id)
                )
            ).first()
            return None if row is None else convert.stay(row)

        return await self._in_session(work) if read_id else None

    async def inside(self, plate: str) -> Stay | None:
        """The stay of a car with exactly this plate that is in the lot now (the newest, if the data disagrees)."""

        def work(session: Session) -> Stay | None:
            row = session.exec(
                select(StayRow)
                .where(StayRow.plate == plate, StayRow.state == StayState.INSIDE)
                .order_by(col(StayRow.entered_at).desc())
                .limit(1)
            ).first()
            return convert.stay(row) if row is not None else None

        return await self._in_session(work)

    async def stays_inside(self) -> list[Stay]:
        def work(session: Session) -> list[Stay]:
            rows = session.exec(
                select(StayRow).where(StayRow.state == StayState.INSIDE).order_by(col(StayRow.entered_at).desc())
            )
            return [convert.stay(row) for row in rows]

        return await self._in_session(work)

    async def count_inside(self) -> int:
        def work(session: Session) -> int:
            return session.exec(
                select(func.count()).select_from(StayRow).where(StayRow.state == StayState.INSIDE)
            ).one()

        return await self._in_session(work)

    async def recent_stays(self, *, limit: int = 100, plate_contains: str = "") -> list[Stay]:
        def work(session: Session) -> list[Stay]:
            query = select(StayRow).order_by(col(StayRow.updated_at).desc()).limit(limit)
            if plate_contains:
                query = query.where(col(StayRow.plate).contains(plate_contains))
            return [convert.stay(row) for row in session.exec(query)]

        return await self._in_session(work)

    async def payments(self, order_id: str) -> list[Payment]:
        def work(session: Session) -> list[Payment]:
            rows = session.exec(select(PaymentRow).where(PaymentRow.order_id == order_id).order_by(col(PaymentRow.id)))
            return [convert.payment(row) for row in rows]

        return await self._in_session(work)

    # ------------------------------------------------------------ vehicle lists

    async def vehicle(self, plate: str) -> Vehicle | None:
        def work(session: Session) -> Vehicle | None:
            row = session.get(VehicleRow, plate)
            return convert.vehicle(row) if row is not None else None

        return await self._in_session(work)

    async def vehicles(self, kind: VehicleKind | None = None) -> list[Vehicle]:
        def work(session: Session) -> list[Vehicle]:
            query = select(VehicleRow).order_by(col(VehicleRow.plate))
            if kind is not None:
                query = query.where(VehicleRow.kind == kind)
            return [convert.vehicle(row) for row in session.exec(query)]

        return await self._in_session(work)

    async def put_vehicles(self, vehicles: Iterable[Vehicle]) -> None:
        """Add or replace list entries (one transaction for the lot: a CSV import lands whole or not at all)."""
        batch = list(vehicles)

        def work(session: Session) -> None:
            now = _utcnow()
            for vehicle in batch:
                session.merge(convert.vehicle_row(vehicle, now=now))

        await self._in_session(work, journaled=False)

    async def seed_vehicles(self, vehicles: Iterable[Vehicle]) -> int:
        """Add the configuration's seed list, leaving alone the plates the window manages; returns how many are new."""
        batch = list(vehicles)

        def work(session: Session) -> int:
            now = _utcnow()
            added = 0
            for vehicle in batch:
                if session.get(VehicleRow, vehicle.plate) is None:
                    session.add(convert.vehicle_row(vehicle, now=now))
                    added += 1
            return added

        return await self._in_session(work, journaled=False)

    async def remove_vehicle(self, plate: str) -> bool:
        def work(session: Session) -> bool:
            row = session.get(VehicleRow, plate)
            if row is None:
                return False
            session.delete(row)
            return True

        return await self._in_session(work, journaled=False)

    # ------------------------------------------------------------ operators and shifts

    async def add_operator(self, username: str, password_hash: str, role: Role, display_name: str = "") -> Operator:
        def work(session: Session) -> Operator:
            if session.exec(select(OperatorRow).where(OperatorRow.username == username)).first() is not None:
                raise StoreError(f"an operator named {username!r} already exists")
            return _insert_operator(session, username, password_hash, role, display_name)

        return await self._in_session(work, journaled=False)

    async def operator(self, username: str) -> Operator | None:
        def work(session: Session) -> Operator | None:
            row = session.exec(select(OperatorRow).where(OperatorRow.username == username)).first()
            return convert.operator(row) if row is not None else None

        return await self._in_session(work)

    async def operators(self) -> list[Operator]:
        def work(session: Session) -> list[Operator]:
            return [convert.operator(row) for row in session.exec(select(OperatorRow).order_by(col(OperatorRow.id)))]

        return await self._in_session(work)

    async def start_shift(self, operator_id: int, at: datetime, reports: Sequence[Report] = ()) -> int:
        def work(session: Session) -> int:
            row = ShiftRow(operator_id=operator_id, started_at=at, booth=self._booth)
            session.add(row)
            self._queue(session, reports, _utcnow())
            session.flush()
            assert row.id is not None
            return row.id

        return await self._in_session(work)

    async def end_shift(
        self,
        shift_id: int,
        at: datetime,
        *,
        cash_counted: Decimal | None = None,
        note: str = "",
        reports: Sequence[Report] = (),
    ) -> None:
        def work(session: Session) -> None:
            row = session.get(ShiftRow, self._row_id(shift_id))
            if row is None:
                raise StoreError(f"no shift {shift_id}")
            if row.ended_at is not None:
                raise StoreError(f"shift {shift_id} already ended at {row.ended_at:%Y-%m-%d %H:%M}")
            row.ended_at = at
            row.cash_counted = cash_counted
            row.note = note
            session.add(row)
            self._queue(session, reports, _utcnow())

        await self._in_session(work)

    # ------------------------------------------------------------ manual releases (audit)

    async def record_manual_release(self, release: ManualRelease, reports: Sequence[Report] = ()) -> int:
        def work(session: Session) -> int:
            row = convert.manual_release_row(dataclasses.replace(release, booth=self._booth))
            session.add(row)
            self._queue(session, reports, _utcnow())
            session.flush()
            assert row.id is not None
            return row.id

        return await self._in_session(work)

    async def manual_releases(self, *, since: datetime | None = None, limit: int = 200) -> list[ManualRelease]:
        def work(session: Session) -> list[ManualRelease]:
            query = select(ManualReleaseRow).order_by(col(ManualReleaseRow.released_at).desc()).limit(limit)
            if since is not None:
                query = query.where(col(ManualReleaseRow.released_at) >= since)
            return [convert.manual_release(row) for row in session.exec(query)]

        return await self._in_session(work)

    # ------------------------------------------------------------ outbox

    async def queue(self, reports: Sequence[Report]) -> None:
        """Queue reports that go with no other change (a heartbeat-like `work_record`, a re-sent `out_park`)."""
        await self._in_session(lambda session: self._queue(session, reports, _utcnow()))

    async def outbox_due(self, now: datetime, limit: int = 50) -> list[OutboxItem]:
        """Pending reports whose time has come, oldest first, none ahead of an earlier pending report of its order."""

        def work(session: Session) -> list[OutboxItem]:
            return [convert.outbox_item(row) for row in session.exec(_due(now).limit(limit))]

        return await self._in_session(work)

    async def outbox_claim(self, now: datetime, limit: int = 50, *, lease: timedelta = CLAIM_LEASE) -> list[OutboxItem]:
        """What `outbox_due` lists, claimed for this booth's relay until `now + lease`: no other booth's relay gets
        these rows meanwhile (rows another booth is claiming at this moment are skipped, not waited for), and a claim
        left by a booth that stopped lapses, so another booth sends the report. This booth's own claims are renewed."""

        def work(session: Session) -> list[OutboxItem]:
            free = sa.or_(
                col(OutboxRow.claimed_until).is_(None),
                col(OutboxRow.claimed_until) <= now,
                col(OutboxRow.claimed_by) == self._booth,
            )
            rows = session.exec(_due(now).where(free).limit(limit).with_for_update(skip_locked=True)).all()
            for row in rows:
                row.claimed_by, row.claimed_until = self._booth, now + lease
                session.add(row)
            return [convert.outbox_item(row) for row in rows]

        return await self._in_session(work)

    async def outbox_release(self, item_ids: Sequence[int]) -> None:
        """Give back claims this booth will not use now (its relay pauses): another booth may send them at once."""

        def work(session: Session) -> None:
            session.execute(
                sa.update(OutboxRow)
                .where(
                    col(OutboxRow.id).in_([self._row_id(item_id) for item_id in item_ids]),
                    col(OutboxRow.claimed_by) == self._booth,
                )
                .values(claimed_by="", claimed_until=None)
            )

        if item_ids:
            await self._in_session(work)

    async def upload_slot(self, now: datetime, gap: timedelta) -> datetime:
        """When this booth may make its next upload to Bolink: the park's next free moment, the one after it `gap`
        later. Every booth on the database takes its turns from the same row, so the park as a whole keeps the pace."""

        def work(session: Session) -> datetime:
            pace = session.get(RelayPaceRow, 1, with_for_update=True)
            if pace is None:  # the migration writes it; a database made otherwise gets it here
                pace = RelayPaceRow(id=1, next_upload_at=now)
            if pace.next_upload_at > now + PACE_MAX_AHEAD:  # a clock set back (or a booth's clock far ahead)
                pace.next_upload_at = now
            slot = max(pace.next_upload_at, now)
            pace.next_upload_at = slot + gap
            session.add(pace)
            return slot

        return await self._in_session(work)

    async def outbox_sent(self, item_id: int, at: datetime) -> None:
        def work(session: Session) -> None:
            session.execute(
                sa.update(OutboxRow)
                .where(col(OutboxRow.id) == self._row_id(item_id))
                .values(state="sent", sent_at=at, attempts=OutboxRow.attempts + 1, claimed_by="", claimed_until=None)
            )

        await self._in_session(work)

    async def outbox_retry(self, item_id: int, error: str, next_attempt_at: datetime, *, give_up: bool = False) -> None:
        """Note a failed upload: retry at `next_attempt_at`, or (`give_up`) keep it as rejected for a person to see."""

        def work(session: Session) -> None:
            session.execute(
                sa.update(OutboxRow)
                .where(col(OutboxRow.id) == self._row_id(item_id))
                .values(
                    state="rejected" if give_up else "pending",
                    last_error=error[:500],
                    next_attempt_at=next_attempt_at,
                    attempts=OutboxRow.attempts + 1,
                    claimed_by="",
                    claimed_until=None,
                )
            )

        await self._in_session(work)

    async def outbox_counts(self) -> dict[str, int]:
        """How many reports are pending, sent and rejected."""

        def work(session: Session) -> dict[str, int]:
            rows = session.exec(select(OutboxRow.state, func.count()).group_by(col(OutboxRow.state)))
            return {"pending": 0, "sent": 0, "rejected": 0} | {state: count for state, count in rows}

        return await self._in_session(work)

    # ------------------------------------------------------------ exit lanes' payment QR codes

    async def put_lane_qrcode(self, lane_id: str, url: str, at: datetime) -> None:
        def work(session: Session) -> None:
            session.merge(LaneQrCodeRow(lane_id=lane_id, url=url, fetched_at=at))

        await self._in_session(work)

    async def lane_qrcode(self, lane_id: str) -> tuple[str, datetime] | None:
        """The cached QR code URL of a lane and when it was fetched."""

        def work(session: Session) -> tuple[str, datetime] | None:
            row = session.get(LaneQrCodeRow, lane_id)
            return None if row is None else (row.url, row.fetched_at)

        return await self._in_session(work)

    async def outbox_backlog(self) -> int:
        def work(session: Session) -> int:
            return session.exec(select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "pending")).one()

        return await self._in_session(work)

    # ---- operators' shifts and handover reports

    async def add_first_operator(
        self, username: str, password_hash: str, role: Role, display_name: str = ""
    ) -> Operator | None:
        """Add the first operator of a new booth; None (and nothing written) when any operator exists already."""

        def work(session: Session) -> Operator | None:
            if session.exec(select(OperatorRow.id).limit(1)).first() is not None:
                return None
            return _insert_operator(session, username, password_hash, role, display_name)

        return await self._in_session(work, journaled=False)

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        def work(session: Session) -> None:
            row = session.exec(select(OperatorRow).where(OperatorRow.username == username)).first()
            if row is None:
                raise StoreError(f"no operator named {username!r}")
            row.password_hash = password_hash
            session.add(row)

        await self._in_session(work, journaled=False)

    async def open_shifts(self) -> list[OpenShift]:
        """The shifts at this booth nobody has handed over yet, oldest first."""

        def work(session: Session) -> list[OpenShift]:
            rows = session.exec(
                select(ShiftRow, OperatorRow)
                .join(OperatorRow, col(OperatorRow.id) == ShiftRow.operator_id)
                .where(ShiftRow.booth == self._booth, col(ShiftRow.ended_at).is_(None))
                .order_by(col(ShiftRow.started_at))
            )
            return [OpenShift(shift.id or 0, convert.operator(operator), shift.started_at) for shift, operator in rows]

        return await self._in_session(work)

    async def shift_report(self, shift_id: int, *, until: datetime | None = None) -> ShiftReport:
        """A shift's figures at its booth: the final ones once it ended, otherwise those from its start to `until`.

        A car counts in at the booth that let it in and out at the booth that let it out; payments and manual opens
        count at the booth that took them.
        """

        def work(session: Session) -> ShiftReport:
            found = session.exec(
                select(ShiftRow, OperatorRow)
                .join(OperatorRow, col(OperatorRow.id) == ShiftRow.operator_id)
                .where(ShiftRow.id == self._row_id(shift_id))
            ).first()
            if found is None:
                raise StoreError(f"no shift {shift_id}")
            shift, operator = found
            start, end = shift.started_at, shift.ended_at or until or _utcnow()

            def cars(booth: Any, at: Any) -> dict[StayKind, int]:
                counted = session.exec(
                    select(StayRow.kind, func.count())
                    .where(booth == shift.booth, at >= start, at < end)
                    .group_by(col(StayRow.kind))
                )
                return {kind: 0 for kind in StayKind} | {StayKind(kind): n for kind, n in counted}

            paid_in_shift = (
                PaymentRow.booth == shift.booth,
                col(PaymentRow.paid_at) >= start,
                col(PaymentRow.paid_at) < end,
            )
            totals = {
                PaymentChannel(channel): ChannelTotal(n, Decimal(amount or 0).quantize(ZERO))
                for channel, n, amount in session.exec(
                    select(PaymentRow.channel, func.count(), func.sum(PaymentRow.amount))
                    .where(*paid_in_shift)
                    .group_by(col(PaymentRow.channel))
                )
            }
            free = session.exec(
                select(PaymentRow, StayRow.plate)
                .join(StayRow, col(StayRow.order_id) == PaymentRow.order_id)
                .where(*paid_in_shift, PaymentRow.channel == PaymentChannel.FREE)
                .order_by(col(PaymentRow.paid_at))
            )
            opens = session.exec(
                select(ManualReleaseRow)
                .where(
                    ManualReleaseRow.booth == shift.booth,
                    col(ManualReleaseRow.released_at) >= start,
                    col(ManualReleaseRow.released_at) < end,
                )
                .order_by(col(ManualReleaseRow.released_at))
            )
            return ShiftReport(
                shift_id=shift_id,
                username=operator.username,
                display_name=operator.display_name,
                booth=shift.booth,
                started_at=start,
                ended_at=end,
                closed=shift.ended_at is not None,
                cars_in=cars(col(StayRow.booth), col(StayRow.entered_at)),
                cars_out=cars(col(StayRow.exit_booth), col(StayRow.left_at)),
                cash_collected=totals.get(PaymentChannel.CASH, ChannelTotal()).amount,
                electronic={channel: totals.get(channel, ChannelTotal()) for channel in ELECTRONIC_CHANNELS},
                free_releases=tuple(
                    FreeRelease(plate, payment.lane_id, payment.reason, payment.paid_at, payment.operator)
                    for payment, plate in free
                ),
                manual_opens=tuple(
                    ManualOpen(row.lane_id, row.reason, row.released_at, row.plate, row.note) for row in opens
                ),
                cash_counted=shift.cash_counted,
                note=shift.note,
            )

        return await self._in_session(work, journaled=False)

    # ------------------------------------------------------------ conflicts found merging a booth's offline journal

    async def conflicts(self, *, open_only: bool = True, limit: int = 200) -> list[Conflict]:
        """What merging booths' offline journals found for a person to check, newest first."""

        def work(session: Session) -> list[Conflict]:
            query = select(ConflictRow).order_by(col(ConflictRow.found_at).desc(), col(ConflictRow.id).desc())
            if open_only:
                query = query.where(col(ConflictRow.resolved_at).is_(None))
            return [convert.conflict(row) for row in session.exec(query.limit(limit))]

        return await self._in_session(work)

    async def count_open_conflicts(self) -> int:
        def work(session: Session) -> int:
            return session.exec(
                select(func.count()).select_from(ConflictRow).where(col(ConflictRow.resolved_at).is_(None))
            ).one()

        return await self._in_session(work)

    async def resolve_conflict(self, conflict_id: int, *, by: str, resolution: str, at: datetime) -> Conflict:
        """A person checked a conflict and says what they did about it."""

        def work(session: Session) -> Conflict:
            row = session.get(ConflictRow, conflict_id, with_for_update=True)
            if row is None:
                raise StoreError(f"no conflict {conflict_id}")
            if row.resolved_at is not None:
                raise StoreError(f"conflict {conflict_id} was checked already by {row.resolved_by}")
            row.resolved_at, row.resolved_by, row.resolution = at, by, resolution
            session.add(row)
            return convert.conflict(row)

        return await self._in_session(work, journaled=False)
