"""Rows to domain types and back: the rest of the app never sees a table row.

Domain fields and columns share their names, so the copying is generic; only what differs is spelled out (enums,
the stay's flags, columns the domain does not carry, and the stay's `entry_booth`, whose column is `booth`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import SQLModel

from booth_app.core.types import (
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
from booth_app.store.outbox import OutboxItem
from booth_app.store.tables import (
    ConflictRow,
    ManualReleaseRow,
    OperatorRow,
    OutboxRow,
    PaymentRow,
    StayRow,
    VehicleRow,
)

D = TypeVar("D")
R = TypeVar("R", bound=SQLModel)


def _to_row(row_type: type[R], value: Any, *, renamed: tuple[str, ...] = (), **columns: Any) -> R:
    """`renamed`: domain fields stored under another column name (given in `columns`)."""
    names = [field.name for field in dataclasses.fields(value) if field.name not in renamed]
    fields = {name: getattr(value, name) for name in names}
    return row_type(**(fields | columns))


def _from_row(domain_type: type[D], row: SQLModel, **fields: Any) -> D:
    names = [field.name for field in dataclasses.fields(domain_type)]  # type: ignore[arg-type]
    return domain_type(**({name: getattr(row, name) for name in names if name not in fields} | fields))


def add_flag(flags: str, flag: str) -> str:
    present = [f for f in flags.split(",") if f]
    return ",".join([*present, flag]) if flag not in present else flags


def stay_row(stay: Stay, *, now: datetime) -> StayRow:
    return _to_row(
        StayRow,
        stay,
        renamed=("entry_booth",),
        booth=stay.entry_booth,
        flags=",".join(stay.flags),
        paid=stay.prepaid,
        created_at=now,
        updated_at=now,
    )


def stay(row: StayRow) -> Stay:
    flags = tuple(flag for flag in row.flags.split(",") if flag)
    return _from_row(Stay, row, kind=StayKind(row.kind), state=StayState(row.state), flags=flags, entry_booth=row.booth)


def payment_row(payment: Payment) -> PaymentRow:
    return _to_row(PaymentRow, payment)


def payment(row: PaymentRow) -> Payment:
    return _from_row(Payment, row, channel=PaymentChannel(row.channel))


def vehicle_row(vehicle: Vehicle, *, now: datetime) -> VehicleRow:
    return _to_row(VehicleRow, vehicle, updated_at=now)


def vehicle(row: VehicleRow) -> Vehicle:
    return _from_row(Vehicle, row, kind=VehicleKind(row.kind))


def operator(row: OperatorRow) -> Operator:
    assert row.id is not None, "an operator row read back always has its id"
    return _from_row(Operator, row, role=Role(row.role))


def manual_release_row(release: ManualRelease) -> ManualReleaseRow:
    return _to_row(ManualReleaseRow, release)


def manual_release(row: ManualReleaseRow) -> ManualRelease:
    return _from_row(ManualRelease, row)


def outbox_item(row: OutboxRow) -> OutboxItem:
    assert row.id is not None, "an outbox row read back always has its id"
    return _from_row(OutboxItem, row)


def conflict(row: ConflictRow) -> Conflict:
    assert row.id is not None, "a conflict row read back always has its id"
    return _from_row(Conflict, row)
