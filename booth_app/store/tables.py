"""The database tables. Changing one needs a new alembic migration (`tests/store/test_store.py` checks they agree)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

# Naming constraints makes batch migrations on SQLite reproducible.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC (SQLite has no time zones; PostgreSQL gets timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: every time must carry its time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _money(**kwargs: Any) -> Any:
    return Field(default=Decimal("0.00"), sa_type=sa.Numeric(10, 2), **kwargs)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class StayRow(SQLModel, table=True):
    """One car's visit (a Bolink order). The order id is the idempotency key of every upload about it."""

    __tablename__ = "stays"
    __table_args__ = (
        sa.Index("ix_stays_plate_state", "plate", "state"),
        sa.Index("ix_stays_state_entered", "state", "entered_at"),
        sa.Index("ix_stays_entry_read_id", "entry_read_id"),
        sa.Index("ix_stays_exit_read_id", "exit_read_id"),
    )

    order_id: str = Field(primary_key=True, max_length=48)
    plate: str = Field(max_length=16)
    kind: str = Field(max_length=16)  # StayKind
    car_type: str = Field(default="small", max_length=16)
    state: str = Field(max_length=16)  # StayState
    entry_lane: str = Field(max_length=16)
    entered_at: datetime = _when()
    entry_read_id: str = Field(default="", max_length=64)
    exit_lane: str | None = Field(default=None, max_length=16)
    exit_read_id: str = Field(default="", max_length=64)
    left_at: datetime | None = _when(default=None, nullable=True)
    fee: Decimal = _money()  # what the tariff asked at the exit
    paid: Decimal = _money()  # every payment for this stay, prepaid included
    prepaid: Decimal = _money()
    prepaid_at: datetime | None = _when(default=None, nullable=True)
    flags: str = Field(default="")  # comma-separated markers: "fuzzy_exit", "reentered", …
    booth: str = Field(default="", max_length=64)  # the booth that let it in
    exit_booth: str = Field(default="", max_length=64)  # the booth that let it out
    created_at: datetime = _when()
    updated_at: datetime = _when()


class PaymentRow(SQLModel, table=True):
    __tablename__ = "payments"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="stays.order_id", index=True, max_length=48)
    channel: str = Field(max_length=16)  # cash | wallet | sweepcode | scancode | etc | prepay | free
    amount: Decimal = _money()
    trade_no: str = Field(default="", max_length=64)
    operator: str = Field(default="", max_length=32)
    lane_id: str = Field(default="", max_length=16)
    reason: str = ""  # why a free release was free
    paid_at: datetime = _when()
    booth: str = Field(default="", max_length=64)


class VehicleRow(SQLModel, table=True):
    """Month cards, whitelist and blacklist: one row per plate."""

    __tablename__ = "vehicles"

    plate: str = Field(primary_key=True, max_length=16)
    kind: str = Field(max_length=16)  # VehicleKind
    valid_from: date
    valid_to: date | None = None
    owner: str = Field(default="", max_length=64)
    note: str = Field(default="")
    updated_at: datetime = _when()


class OperatorRow(SQLModel, table=True):
    __tablename__ = "operators"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=32)
    display_name: str = Field(default="", max_length=64)
    password_hash: str
    role: str = Field(max_length=16)  # cashier | admin
    active: bool = True
    created_at: datetime = _when()


class ShiftRow(SQLModel, table=True):
    __tablename__ = "shifts"

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    booth: str = Field(default="", max_length=64)
    started_at: datetime = _when()
    ended_at: datetime | None = _when(default=None, nullable=True)
    cash_counted: Decimal | None = Field(default=None, sa_type=sa.Numeric(10, 2))
    note: str = ""


class ManualReleaseRow(SQLModel, table=True):
    """Every gate opened by a person, for the audit."""

    __tablename__ = "manual_releases"

    id: int | None = Field(default=None, primary_key=True)
    lane_id: str = Field(max_length=16)
    operator_id: int | None = Field(default=None, foreign_key="operators.id")
    reason: str
    note: str = ""
    plate: str = Field(default="", max_length=16)
    order_id: str | None = Field(default=None, max_length=48)
    frame_path: str = ""
    released_at: datetime = _when()
    booth: str = Field(default="", max_length=64)


class OutboxRow(SQLModel, table=True):
    """A report to Bolink, written in the same transaction as the change it reports; the relay uploads and marks it."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_state_id", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=32)
    order_id: str = Field(default="", max_length=48, index=True)
    payload: str  # the `data` object as JSON text
    state: str = Field(default="pending", max_length=16)  # pending | sent | rejected
    attempts: int = 0
    last_error: str = ""
    created_at: datetime = _when()
    next_attempt_at: datetime = _when()
    sent_at: datetime | None = _when(default=None, nullable=True)
    # Several booths on one database drain one outbox: a booth's relay claims a row until `claimed_until`, and a
    # claim left by a booth that died lapses then, so another booth sends it (at least once, never lost).
    claimed_by: str = Field(default="", max_length=64)
    claimed_until: datetime | None = _when(default=None, nullable=True)


class RelayPaceRow(SQLModel, table=True):
    """Bolink's pace for the whole car park: the next moment any booth's relay may upload (one row, id 1)."""

    __tablename__ = "relay_pace"

    id: int = Field(default=1, primary_key=True)
    next_upload_at: datetime = _when()


class LaneQrCodeRow(SQLModel, table=True):
    """The payment QR code Bolink gave each exit lane, kept so the exit screen can show it while Bolink is away."""

    __tablename__ = "lane_qrcodes"

    lane_id: str = Field(primary_key=True, max_length=16)
    url: str
    fetched_at: datetime = _when()


class ConflictRow(SQLModel, table=True):
    """Something a booth did while it could not reach the shared database that disagrees with what the other booths
    did meanwhile (the same car let out at both), found when its journal was merged: for a person to check."""

    __tablename__ = "conflicts"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(default="", max_length=48, index=True)
    plate: str = Field(default="", max_length=16)
    kind: str = Field(max_length=32)  # closed_twice | paid_after_close | still_inside
    detail: str
    booth: str = Field(default="", max_length=64)  # the booth whose journal it came from
    found_at: datetime = _when()
    resolved_at: datetime | None = _when(default=None, nullable=True)
    resolved_by: str = Field(default="", max_length=32)
    resolution: str = ""


class JournalMergeRow(SQLModel, table=True):
    """A booth's offline journal merged into the shared database: one row per outage, so a merge is never applied
    twice (the booth may stop between writing here and emptying its journal)."""

    __tablename__ = "journal_merges"

    key: str = Field(primary_key=True, max_length=120)  # "<booth>:<journal epoch>"
    booth: str = Field(default="", max_length=64)
    merged_at: datetime = _when()
    summary: str = ""
