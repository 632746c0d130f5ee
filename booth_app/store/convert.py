"""Rows to domain types and back: the rest of the app never sees a table row."""

from __future__ import annotations

from datetime import datetime

from booth_app.core.types import (
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
from booth_app.store.tables import ManualReleaseRow, OperatorRow, OutboxRow, PaymentRow, StayRow, VehicleRow


def add_flag(flags: str, flag: str) -> str:
    present = [f for f in flags.split(",") if f]
    return ",".join([*present, flag]) if flag not in present else flags


def stay_row(stay: Stay, *, booth: str, now: datetime) -> StayRow:
    return StayRow(
        order_id=stay.order_id,
        plate=stay.plate,
        kind=stay.kind,
        car_type=stay.car_type,
        state=stay.state,
        entry_lane=stay.entry_lane,
        entered_at=stay.entered_at,
        exit_lane=stay.exit_lane,
        left_at=stay.left_at,
        prepaid=stay.prepaid,
        paid=stay.prepaid,
        prepaid_at=stay.prepaid_at,
        flags=",".join(stay.flags),
        booth=booth,
        created_at=now,
        updated_at=now,
    )


def stay(row: StayRow) -> Stay:
    return Stay(
        order_id=row.order_id,
        plate=row.plate,
        entered_at=row.entered_at,
        entry_lane=row.entry_lane,
        kind=StayKind(row.kind),
        car_type=row.car_type,
        state=StayState(row.state),
        prepaid=row.prepaid,
        prepaid_at=row.prepaid_at,
        left_at=row.left_at,
        exit_lane=row.exit_lane,
        flags=tuple(flag for flag in row.flags.split(",") if flag),
    )


def payment_row(payment: Payment, *, booth: str) -> PaymentRow:
    return PaymentRow(
        order_id=payment.order_id,
        channel=payment.channel,
        amount=payment.amount,
        trade_no=payment.trade_no,
        operator=payment.operator,
        lane_id=payment.lane_id,
        reason=payment.reason,
        paid_at=payment.paid_at,
        booth=booth,
    )


def payment(row: PaymentRow) -> Payment:
    return Payment(
        order_id=row.order_id,
        channel=PaymentChannel(row.channel),
        amount=row.amount,
        paid_at=row.paid_at,
        trade_no=row.trade_no,
        operator=row.operator,
        lane_id=row.lane_id,
        reason=row.reason,
    )


def vehicle_row(vehicle: Vehicle, *, now: datetime) -> VehicleRow:
    return VehicleRow(
        plate=vehicle.plate,
        kind=vehicle.kind,
        valid_from=vehicle.valid_from,
        valid_to=vehicle.valid_to,
        owner=vehicle.owner,
        note=vehicle.note,
        updated_at=now,
    )


def vehicle(row: VehicleRow) -> Vehicle:
    return Vehicle(
        plate=row.plate,
        kind=VehicleKind(row.kind),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        owner=row.owner,
        note=row.note,
    )


def operator(row: OperatorRow) -> Operator:
    assert row.id is not None, "an operator row read back always has its id"
    return Operator(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        password_hash=row.password_hash,
        display_name=row.display_name,
        active=row.active,
    )


def manual_release_row(release: ManualRelease, *, booth: str) -> ManualReleaseRow:
    return ManualReleaseRow(
        lane_id=release.lane_id,
        operator_id=release.operator_id,
        reason=release.reason,
        note=release.note,
        plate=release.plate,
        order_id=release.order_id,
        frame_path=release.frame_path,
        released_at=release.released_at,
        booth=booth,
    )


def manual_release(row: ManualReleaseRow) -> ManualRelease:
    return ManualRelease(
        lane_id=row.lane_id,
        reason=row.reason,
        released_at=row.released_at,
        operator_id=row.operator_id,
        note=row.note,
        plate=row.plate,
        order_id=row.order_id,
        frame_path=row.frame_path,
    )


def outbox_item(row: OutboxRow) -> OutboxItem:
    assert row.id is not None, "an outbox row read back always has its id"
    return OutboxItem(
        id=row.id,
        service=row.service,
        order_id=row.order_id,
        payload=row.payload,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
    )
