"""A booth on a shared database server keeps its lanes going while the server is away, on a local SQLite journal.

While the server answers, every call goes to it, and every 15 s the booth copies into its journal (on a thread of its
own) what its lanes need to decide on their own: the vehicle lists, the operators, the stays inside, its own open
shifts and the lanes' QR codes. When a call finds the server gone (refused, reset, timed out), that call and every
one after it go to the journal, and the server is probed every 5 s away from the lanes' thread. The journal has the
server's tables (the same migrations), so the lanes, the relay and the window carry on as they are: cars enter and
leave, payments are taken, reports queue, and go to Bolink if Bolink can be reached. What needs the whole car park is
refused meanwhile, with a sentence saying so: editing the vehicle lists or the operators, and the handover figures.

When the server answers again, the journal is merged into it in one transaction (`_merge`), then emptied and copied
afresh. Merging is idempotent: each outage has an epoch, and the server records each booth's merged epochs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from booth_app.core.types import PaymentChannel, StayState
from booth_app.store import convert
from booth_app.store.engine import create_engine, migrate, sqlite_url
from booth_app.store.store import Store, StoreError, _run_session
from booth_app.store.tables import (
    ConflictRow,
    JournalMergeRow,
    LaneQrCodeRow,
    ManualReleaseRow,
    OperatorRow,
    OutboxRow,
    PaymentRow,
    ShiftRow,
    StayRow,
    VehicleRow,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

JOURNAL_IDS = 1 << 40  # the journal numbers its rows from here: never an id the server handed out
SNAPSHOT_EVERY_S = 15.0
PROBE_EVERY_S = 5.0
# Said to the person who asked (the window shows a StoreError's text): the booth's language.
OFFLINE_REFUSAL = "暂时连不上停车场的数据库服务器：这项操作要等服务器恢复后再做，车道照常工作。"
_CST = timezone(timedelta(hours=8))

# Rows the journal numbers itself (the server renumbers them when merging), and every table it empties, children first.
_NUMBERED = (PaymentRow, ManualReleaseRow, OutboxRow, ShiftRow)
_EMPTIED: tuple[type[SQLModel], ...] = (
    PaymentRow,
    ManualReleaseRow,
    OutboxRow,
    ShiftRow,
    StayRow,
    VehicleRow,
    OperatorRow,
    LaneQrCodeRow,
    ConflictRow,
    JournalMergeRow,
)


def server_lost(exc: BaseException) -> bool:
    """Whether a database error says the server cannot be reached (rather than that the work was wrong)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:  # psycopg gives none when there is no server to give one
        return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
    return str(sqlstate).startswith(("08", "57P"))  # connection exception; the server shutting down or starting


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _clock(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment.astimezone(_CST):%m-%d %H:%M:%S}"


def _copy(row: SQLModel, *, without: Sequence[str] = ()) -> dict[str, Any]:
    return row.model_dump(exclude=set(without))


def _chunks(values: Sequence[T], size: int = 500) -> list[Sequence[T]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _table(row_type: type[SQLModel]) -> sa.Table:
    table = sa.inspect(row_type).local_table
    assert isinstance(table, sa.Table)
    return table


def _copy_changes(server: sa.Connection, journal: sa.Connection, table: sa.Table, key: str, where: Any) -> None:
    """Make the journal's rows of `table` (those `where` selects) the server's, moving only the rows that differ."""
    stamp = [table.c[key], table.c.updated_at]
    theirs = {row[0]: row[1] for row in server.execute(sa.select(*stamp).where(where))}
    mine = {row[0]: row[1] for row in journal.execute(sa.select(*stamp))}
    stale = [name for name, updated in mine.items() if theirs.get(name) != updated]
    new = [name for name, updated in theirs.items() if mine.get(name) != updated]
    for chunk in _chunks(stale):
        journal.execute(sa.delete(table).where(table.c[key].in_(chunk)))
    for chunk in _chunks(new):
        rows = [dict(row._mapping) for row in server.execute(sa.select(table).where(table.c[key].in_(chunk)))]
        if rows:
            journal.execute(sa.insert(table), rows)


class JournaledStore(Store):
    """The store on a shared database server, with this booth's journal for while the server is away."""

    def __init__(self, engine: Engine, journal: Engine, *, booth: str = "") -> None:
        super().__init__(engine, booth=booth)
        self._journal = journal
        self._server = engine.url.render_as_string(hide_password=True)
        self._online = True
        self._on_journal = False  # while the worker runs a call on the journal
        self._epoch = ""  # the outage whose work the journal holds ("" = none)
        self._offline_since: datetime | None = None
        self._next_id = JOURNAL_IDS
        self._moved: dict[int, int] = {}  # journal id -> the server's id, once merged
        self._task: asyncio.Task[None] | None = None
        self._copying = threading.Lock()
        self._closing = False
        self.snapshot_every_s = SNAPSHOT_EVERY_S
        self.probe_every_s = PROBE_EVERY_S
        self.last_merge: dict[str, int] = {}

    @classmethod
    async def open_journaled(cls, url: str, journal_path: Path, *, booth: str = "") -> JournaledStore:
        """Open the server's database (creating or upgrading it) and this booth's journal beside it.

        With the server away, the booth starts on its journal if it has ever copied one from the server; a booth that
        never reached its server cannot start (it knows no operator nor any car inside).
        """
        store = cls(create_engine(url), create_engine(sqlite_url(journal_path)), booth=booth)
        await store._call(store._open_journal)
        try:
            await store._call(migrate, store._engine)
        except sa.exc.DBAPIError as exc:
            if not server_lost(exc):
                raise
            snapshot_at = await store._call(store._meta, "snapshot_at")
            if not snapshot_at:
                await store.close()
                raise StoreError(
                    f"the database server {store._server} cannot be reached ({_first_line(exc)}), and this booth has "
                    "never copied its journal from it: start the booth once the server answers"
                ) from exc
            await store._call(store._lose, exc)
        else:
            await store._call(store._come_back)
            await asyncio.to_thread(store._snapshot)
        store._task = asyncio.create_task(store._keep(), name="store-journal")
        return store

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self._copying.acquire)  # a copy under way ends first
        self._copying.release()
        await self._call(self._journal.dispose)
        await super().close()

    @property
    def shared(self) -> bool:
        return True

    @property
    def offline(self) -> bool:
        return not self._online

    @property
    def offline_since(self) -> datetime | None:
        return self._offline_since

    # ------------------------------------------------------------ every call

    async def _in_session(self, work: Callable[[Session], T], *, journaled: bool = True) -> T:
        return await self._call(self._run, work, journaled)

    def _run(self, work: Callable[[Session], T], journaled: bool) -> T:
        if self._online:
            try:
                return _run_session(self._engine, work)
            except sa.exc.DBAPIError as exc:
                if not server_lost(exc):
                    raise
                # Whether the server committed before it went is unknown; the journal gets the work too, and merging
                # recognises what the server already has.
                self._lose(exc)
        if not journaled:
            raise StoreError(OFFLINE_REFUSAL)
        self._on_journal = True
        try:
            return _run_session(self._journal, work, self._number_new_rows)
        finally:
            self._on_journal = False

    def _row_id(self, row_id: int) -> int:
        if self._on_journal or row_id < JOURNAL_IDS:
            return row_id
        return self._moved.get(row_id, row_id)

    def _number_new_rows(self, session: Session) -> None:
        def number(session: Session, _context: Any, _instances: Any) -> None:
            for row in session.new:
                if isinstance(row, _NUMBERED) and row.id is None:
                    row.id = self._next_id
                    self._next_id += 1

        sa.event.listen(session, "before_flush", number)

    # ------------------------------------------------------------ losing and finding the server (worker thread)

    def _lose(self, exc: BaseException) -> None:
        was_online = self._online
        self._online = False
        if not self._epoch:
            self._epoch = uuid.uuid4().hex
            self._set_meta(epoch=self._epoch, offline_since=datetime.now(UTC).isoformat())
        if self._offline_since is None:
            self._offline_since = datetime.now(UTC)
        if was_online:
            log.warning(
                "the database server %s cannot be reached (%s): the lanes go on with this booth's journal, "
                "which is merged when the server answers again",
                self._server,
                _first_line(exc),
            )

    def _probe(self) -> bool:
        """Whether the server answers (run off the worker: connecting may take its full timeout)."""
        try:
            with self._engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError as exc:
            if server_lost(exc):
                return False
            raise
        return True

    async def _keep(self) -> None:
        """Copy the journal from the server while it answers; probe for it, and merge, while it does not."""
        loop = asyncio.get_running_loop()
        copied_at = loop.time()
        while True:
            try:
                # Wake at the probe's pace even while online: a lane's call may find the server gone at any moment.
                await asyncio.sleep(min(self.probe_every_s, self.snapshot_every_s))
                if not self._online:
                    if await asyncio.to_thread(self._probe):
                        await self._call(self._come_back)
                        await asyncio.to_thread(self._snapshot)
                        copied_at = loop.time()
                elif loop.time() - copied_at >= self.snapshot_every_s:
                    await asyncio.to_thread(self._snapshot)
                    copied_at = loop.time()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("keeping this booth's journal failed; trying again")

    def _come_back(self) -> None:
        """Back on the server: merge the journal's work into it first (the lanes' calls wait), then use it again.
        The journal is copied afresh after, off the lanes' worker."""
        try:
            if self._epoch:
                self._merge()
            self._online = True
            self._offline_since = None
        except sa.exc.DBAPIError as exc:
            if not server_lost(exc):
                raise
            self._lose(exc)

    # ------------------------------------------------------------ the journal's own notes

    def _open_journal(self) -> None:
        migrate(self._journal)
        with self._journal.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS journal_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            highest = [int(self._meta("next_id", connection) or JOURNAL_IDS)]
            for row_type in _NUMBERED:
                highest_id = connection.execute(sa.select(sa.func.max(_table(row_type).c.id))).scalar()
                highest.append((highest_id or 0) + 1)
        self._next_id = max(highest)
        self._epoch = self._meta("epoch")
        since = self._meta("offline_since")
        self._offline_since = datetime.fromisoformat(since) if since else None

    def _meta(self, key: str, connection: sa.Connection | None = None) -> str:
        if connection is None:
            with self._journal.connect() as own:
                return self._meta(key, own)
        value = connection.execute(sa.text("SELECT value FROM journal_meta WHERE key = :key"), {"key": key}).scalar()
        return str(value) if value is not None else ""

    def _set_meta(self, connection: sa.Connection | None = None, **values: str | None) -> None:
        if connection is None:
            with self._journal.begin() as own:
                self._set_meta(own, **values)
            return
        for key, value in values.items():
            if value is None:
                connection.execute(sa.text("DELETE FROM journal_meta WHERE key = :key"), {"key": key})
            else:
                connection.execute(
                    sa.text(
                        "INSERT INTO journal_meta (key, value) VALUES (:key, :value) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    ),
                    {"key": key, "value": value},
                )

    # ------------------------------------------------------------ copying from the server

    def _snapshot(self) -> None:
        """Copy into the journal what the lanes need while the server is away (only while it holds no work).

        It runs on a thread of its own, not the lanes' worker: a plate read never waits behind a copy. A copy that
        finds the server gone leaves it to the lanes' next call to notice; one that finds the journal holding work
        (the server went while it read) writes nothing.
        """
        with self._copying:
            if not self._closing and self._online and not self._epoch:
                self._copy_from_server()

    def _copy_from_server(self) -> None:
        """Bring the journal's copy up to the server's: the stays inside and the vehicle lists by what changed since the
        last copy (compared by key and `updated_at`: a few rows in 15 s, however full the car park), the small tables
        whole. Core rows, not ORM objects: the copy shares the interpreter with the lanes, so it keeps its work small.
        """
        inside = StayRow.state == StayState.INSIDE
        open_here = sa.and_(col(ShiftRow.booth) == self._booth, col(ShiftRow.ended_at).is_(None))
        try:
            with self._engine.connect() as server, self._journal.begin() as journal:  # the journal's write lock
                if self._meta("epoch", journal):
                    return  # the server went while this copy waited: the journal holds work now
                _copy_changes(server, journal, _table(StayRow), "order_id", inside)
                _copy_changes(server, journal, _table(VehicleRow), "plate", sa.true())
                for row_type in (ShiftRow, OperatorRow, LaneQrCodeRow):  # children first
                    journal.execute(sa.delete(_table(row_type)))
                for row_type, where in ((OperatorRow, sa.true()), (ShiftRow, open_here), (LaneQrCodeRow, sa.true())):
                    table = _table(row_type)
                    rows = [dict(row._mapping) for row in server.execute(sa.select(table).where(where))]
                    if rows:
                        journal.execute(sa.insert(table), rows)
                self._set_meta(journal, snapshot_at=datetime.now(UTC).isoformat())
        except sa.exc.DBAPIError as exc:
            if not server_lost(exc):
                raise
            # The lanes' next call finds the server gone too, and turns to the journal as it was last copied.

    # ------------------------------------------------------------ merging into the server

    def _merge(self) -> None:
        """Merge the journal's work into the server in one transaction, then empty the journal.

        * A stay entered meanwhile is added. A stay closed meanwhile is closed on the server too, unless the server
          has it closed already: the same closure (the server committed just before it went) is left alone, and any
          other is a conflict, `closed_twice`, for a person; the stay gets the flag `conflict`.
        * Payments are added to their stays (the money was taken, whatever else happened); one for a stay another
          booth closed meanwhile is a conflict, `paid_after_close`.
        * A car let out meanwhile whose plate has another stay still inside on the server (it entered at another booth
          after the journal's last copy, so this booth did not know it) is a conflict, `still_inside`.
        * Manual releases, shifts and reports are added, reports in the order written, keeping whether they were sent.
          Rows the server has already (same content) are not added twice.
        """
        key = f"{self._booth}:{self._epoch}"
        with Session(self._journal, expire_on_commit=False) as journal:
            stays = journal.exec(select(StayRow).order_by(col(StayRow.created_at))).all()
            payments = journal.exec(select(PaymentRow).order_by(col(PaymentRow.id))).all()
            releases = journal.exec(select(ManualReleaseRow).order_by(col(ManualReleaseRow.id))).all()
            shifts = journal.exec(select(ShiftRow).order_by(col(ShiftRow.id))).all()
            outbox = journal.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all()
        moved: dict[int, int] = {}
        counts: Counter[str] = Counter()
        with Session(self._engine, expire_on_commit=False) as server, server.begin():
            if server.get(JournalMergeRow, key) is None:
                _Merge(server, self._booth, moved, counts).run(stays, payments, releases, shifts, outbox)
                server.add(
                    JournalMergeRow(key=key, booth=self._booth, merged_at=datetime.now(UTC), summary=json.dumps(counts))
                )
            else:
                log.info("this booth's journal of outage %s was merged already; emptying it", self._epoch)
        self._moved.update(moved)
        with Session(self._journal) as journal, journal.begin():
            for row_type in _EMPTIED:
                journal.execute(sa.delete(row_type))
            self._set_meta(journal.connection(), epoch=None, offline_since=None, next_id=str(self._next_id))
        self._epoch = ""
        self.last_merge = dict(counts)
        log.warning(
            "the database server %s answers again; merged this booth's journal: %d stays entered, %d closed, "
            "%d payments, %d manual opens, %d reports; %d conflicts for a person to check",
            self._server,
            counts["entered"],
            counts["closed"],
            counts["payments"],
            counts["manual_opens"],
            counts["reports"],
            counts["conflicts"],
        )


def _payment_key(row: PaymentRow) -> tuple[Any, ...]:
    return (row.order_id, row.channel, Decimal(row.amount), row.paid_at, row.trade_no)


def _report_key(row: OutboxRow) -> tuple[str, str, str]:
    return (row.service, row.order_id, row.payload)


class _Merge:
    """One journal merged into the server, inside the caller's transaction.

    The lanes' calls wait while it runs, so it reads what it compares with in a few queries of up to 500 keys, and
    writes each table's new rows in one batch, rather than a round trip to the server per row.
    """

    def __init__(self, server: Session, booth: str, moved: dict[int, int], counts: Counter[str]) -> None:
        self.server = server
        self.booth = booth
        self.moved = moved
        self.counts = counts
        self.now = datetime.now(UTC)
        self.theirs: dict[str, StayRow] = {}  # the server's rows of the stays the journal changed, locked
        self.created: set[str] = set()  # stays entered meanwhile
        self.closed_here: set[str] = set()  # stays whose closure the server has from this journal
        self.in_conflict: set[str] = set()

    def run(
        self,
        stays: Sequence[StayRow],
        payments: Sequence[PaymentRow],
        releases: Sequence[ManualReleaseRow],
        shifts: Sequence[ShiftRow],
        outbox: Sequence[OutboxRow],
    ) -> None:
        paid_meanwhile: dict[str, Decimal] = {}
        for payment in payments:
            paid_meanwhile[payment.order_id] = paid_meanwhile.get(payment.order_id, Decimal(0)) + payment.amount
        # The journal's copies of stays still inside are news only if the server never had them (entered meanwhile).
        copies = [row.order_id for row in stays if row.state == StayState.INSIDE and row.order_id not in paid_meanwhile]
        known: set[str] = set()
        for chunk in _chunks(copies):
            known.update(self.server.exec(select(StayRow.order_id).where(col(StayRow.order_id).in_(chunk))).all())
        changed = [row for row in stays if row.order_id not in known]
        for chunk in _chunks([row.order_id for row in changed]):
            query = select(StayRow).where(col(StayRow.order_id).in_(chunk)).with_for_update()
            self.theirs.update((row.order_id, row) for row in self.server.exec(query))
        for stay in changed:
            self.stay(stay, paid_meanwhile.get(stay.order_id, Decimal(0)))
        self.payments(payments)
        self.still_inside([row for row in changed if row.state == StayState.LEFT])
        for release in releases:
            self.release(release)
        for shift in shifts:
            self.shift(shift)
        self.reports(outbox)

    def conflict(self, row: StayRow, kind: str, detail: str) -> None:
        row.flags = convert.add_flag(row.flags, "conflict")
        row.updated_at = self.now
        self.server.add(row)
        self.server.add(
            ConflictRow(
                order_id=row.order_id, plate=row.plate, kind=kind, detail=detail, booth=self.booth, found_at=self.now
            )
        )
        self.in_conflict.add(row.order_id)
        self.counts["conflicts"] += 1

    def stay(self, mine: StayRow, paid_meanwhile: Decimal) -> None:
        theirs = self.theirs.get(mine.order_id)
        if theirs is None:
            self.server.add(StayRow(**_copy(mine)))
            self.created.add(mine.order_id)
            self.counts["entered"] += 1
            self.counts["closed"] += mine.state != StayState.INSIDE
            return
        if mine.state == StayState.INSIDE:
            return  # as copied (or entered just before the server went): the server's row is the one that counts
        same = (theirs.state, theirs.exit_booth, theirs.exit_read_id, theirs.left_at) == (
            mine.state,
            mine.exit_booth,
            mine.exit_read_id,
            mine.left_at,
        )
        if theirs.state == StayState.INSIDE:
            theirs.state, theirs.left_at, theirs.exit_lane = mine.state, mine.left_at, mine.exit_lane
            theirs.exit_booth, theirs.exit_read_id, theirs.fee = mine.exit_booth, mine.exit_read_id, mine.fee
            for flag in mine.flags.split(","):
                if flag:
                    theirs.flags = convert.add_flag(theirs.flags, flag)
            theirs.updated_at = self.now
            self.server.add(theirs)
            self.closed_here.add(mine.order_id)
            self.counts["closed"] += 1
        elif same:
            self.closed_here.add(mine.order_id)
        elif mine.state == StayState.LEFT:
            where = f"{theirs.exit_booth or '?'} {theirs.exit_lane or ''}".strip()
            self.conflict(
                theirs,
                "closed_twice",
                f"{theirs.plate} 出场两次：{where} {_clock(theirs.left_at)} 已出场（"
                f"应收 {theirs.fee}，已收 {theirs.paid}）；本岗亭离线时 {mine.exit_booth} {mine.exit_lane} "
                f"{_clock(mine.left_at)} 又放行出场（应收 {mine.fee}，离线收 {paid_meanwhile}）",
            )

    def payments(self, payments: Sequence[PaymentRow]) -> None:
        existing: dict[tuple[Any, ...], int] = {}
        for chunk in _chunks(sorted({row.order_id for row in payments})):
            for row in self.server.exec(select(PaymentRow).where(col(PaymentRow.order_id).in_(chunk))):
                assert row.id is not None
                existing[_payment_key(row)] = row.id
        added: list[tuple[PaymentRow, PaymentRow]] = []
        for mine in payments:
            assert mine.id is not None
            if (found := existing.get(_payment_key(mine))) is not None:
                self.moved[mine.id] = found
                continue
            row = PaymentRow(**_copy(mine, without=("id",)))
            self.server.add(row)
            added.append((mine, row))
            self.counts["payments"] += 1
            if mine.order_id in self.created or (stay := self.theirs.get(mine.order_id)) is None:
                continue  # a stay entered meanwhile was copied with its payments
            stay.paid += mine.amount
            if mine.channel == PaymentChannel.PREPAY:
                stay.prepaid += mine.amount
                stay.prepaid_at = max(filter(None, (stay.prepaid_at, mine.paid_at)))
            stay.updated_at = self.now
            self.server.add(stay)
            if stay.state != StayState.INSIDE and mine.order_id not in self.closed_here | self.in_conflict:
                self.conflict(
                    stay,
                    "paid_after_close",
                    f"{stay.plate} 已于 {_clock(stay.left_at)} 在 {stay.exit_booth or '?'} {stay.exit_lane or ''} "
                    f"出场，本岗亭离线时 {_clock(mine.paid_at)} 又收 {mine.amount}（{mine.channel}）",
                )
        self.server.flush()
        for mine, row in added:
            assert mine.id is not None
            assert row.id is not None
            self.moved[mine.id] = row.id

    def still_inside(self, left: Sequence[StayRow]) -> None:
        mine_by_plate: dict[str, list[StayRow]] = {}
        for mine in left:
            if mine.order_id in self.closed_here or mine.order_id in self.created:
                mine_by_plate.setdefault(mine.plate, []).append(mine)
        for chunk in _chunks(sorted(mine_by_plate)):
            inside = self.server.exec(
                select(StayRow).where(col(StayRow.plate).in_(chunk), StayRow.state == StayState.INSIDE)
            ).all()
            for other in inside:
                for mine in mine_by_plate[other.plate]:
                    if other.order_id == mine.order_id or other.order_id in self.in_conflict:
                        continue
                    if other.entered_at > (mine.left_at or self.now):
                        continue  # it came in again after leaving here: a new stay, nothing to check
                    self.conflict(
                        other,
                        "still_inside",
                        f"{mine.plate} 已于本岗亭离线时 {_clock(mine.left_at)} 从 {mine.exit_booth} {mine.exit_lane} "
                        f"出场，但 {other.booth or '?'} {other.entry_lane} {_clock(other.entered_at)} 的入场记录仍在场",
                    )

    def release(self, mine: ManualReleaseRow) -> None:
        same = (
            ManualReleaseRow.lane_id == mine.lane_id,
            ManualReleaseRow.released_at == mine.released_at,
            ManualReleaseRow.reason == mine.reason,
        )
        self.add_once(mine, ManualReleaseRow, same, "manual_opens")

    def shift(self, mine: ShiftRow) -> None:
        assert mine.id is not None
        if mine.id < JOURNAL_IDS:  # copied from the server: only its end is news
            theirs = self.server.get(ShiftRow, mine.id, with_for_update=True)
            if theirs is not None and theirs.ended_at is None and mine.ended_at is not None:
                theirs.ended_at, theirs.cash_counted, theirs.note = mine.ended_at, mine.cash_counted, mine.note
                self.server.add(theirs)
            return
        same = (
            ShiftRow.operator_id == mine.operator_id,
            ShiftRow.booth == mine.booth,
            ShiftRow.started_at == mine.started_at,
        )
        self.add_once(mine, ShiftRow, same, "shifts")

    def add_once(self, mine: Any, row_type: Any, same: tuple[Any, ...], counted: str) -> None:
        """Add a row the journal numbered, unless the server has one the same (`same`); note its id on the server."""
        existing = self.server.exec(select(row_type.id).where(*same)).first()
        if existing is None:
            row = row_type(**_copy(mine, without=("id",)))
            self.server.add(row)
            self.server.flush()
            existing = row.id
            self.counts[counted] += 1
        self.moved[mine.id] = existing

    def reports(self, outbox: Sequence[OutboxRow]) -> None:
        existing: dict[tuple[str, str, str], int] = {}
        with_order = sorted({row.order_id for row in outbox if row.order_id})
        without_order = sorted({row.payload for row in outbox if not row.order_id})
        queries: list[sa.ColumnElement[bool]] = [col(OutboxRow.order_id).in_(chunk) for chunk in _chunks(with_order)]
        queries += [
            sa.and_(col(OutboxRow.order_id) == "", col(OutboxRow.payload).in_(chunk))
            for chunk in _chunks(without_order)
        ]
        for where in queries:
            for row in self.server.exec(select(OutboxRow).where(where)):
                assert row.id is not None
                existing[_report_key(row)] = row.id
        added: list[tuple[OutboxRow, OutboxRow]] = []
        for mine in outbox:  # in the order written: the server numbers them in that order
            assert mine.id is not None
            if (found := existing.get(_report_key(mine))) is not None:
                self.moved[mine.id] = found
                continue
            row = OutboxRow(**_copy(mine, without=("id", "claimed_by", "claimed_until")))
            self.server.add(row)
            added.append((mine, row))
            self.counts["reports"] += 1
        self.server.flush()
        for mine, row in added:
            assert mine.id is not None
            assert row.id is not None
            self.moved[mine.id] = row.id
