"""The Bolink reports a lane writes with each change (into the store's outbox, in the same transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from booth_app.bolink.messages import (
    C_TYPES,
    CAR_TYPES,
    PAY_TYPE_MONTH,
    PAY_TYPES,
    InPark,
    OutPark,
    UploadLiftrod,
    seconds,
)
from booth_app.core.tariff import minutes
from booth_app.core.types import ZERO, ManualRelease, Payment, PaymentChannel, Stay
from booth_app.store.outbox import Report

ELECTRONIC = frozenset({PaymentChannel.WALLET, PaymentChannel.SWEEPCODE, PaymentChannel.SCANCODE, PaymentChannel.ETC})


def _entry_fields(stay: Stay, empty_plot: int, uid: str) -> dict[str, object]:
    return {
        "car_number": stay.plate,
        "in_time": seconds(stay.entered_at),
        "order_id": stay.order_id,
        "empty_plot": empty_plot,
        "in_channel_id": stay.entry_lane,
        "car_type": CAR_TYPES.get(stay.car_type, stay.car_type),
        "c_type": C_TYPES[stay.kind],
        "uid": uid,
    }


def in_park(stay: Stay, *, empty_plot: int, uid: str = "") -> Report:
    return InPark.model_validate(_entry_fields(stay, empty_plot, uid)).report()


def out_park(
    stay: Stay,
    *,
    left_at: datetime,
    exit_lane: str,
    total: Decimal,
    payments: Sequence[Payment],
    empty_plot: int,
    month: bool = False,
    uid: str = "",
    auth_code: str | None = None,
    free_reason: str | None = None,
) -> Report:
    """The exit of a stay with everything paid for it (at the exit now, and inside the lot before)."""
    exit_paid = [payment for payment in payments if payment.channel is not PaymentChannel.FREE]
    cash = sum((p.amount for p in exit_paid if p.channel is PaymentChannel.CASH), ZERO)
    electronic = sum((p.amount for p in exit_paid if p.channel in ELECTRONIC), ZERO)
    received = cash + electronic
    reduce = max(ZERO, total - stay.prepaid - received)
    main = max(exit_paid, key=lambda p: p.amount).channel if exit_paid else None
    if month:
        pay_type = PAY_TYPE_MONTH
    elif main is not None:
        pay_type = PAY_TYPES[main]
    elif stay.prepaid > ZERO:
        pay_type = PAY_TYPES[PaymentChannel.PREPAY]
    else:
        pay_type = PAY_TYPES[PaymentChannel.FREE]
    return OutPark.model_validate(
        _entry_fields(stay, empty_plot, uid)
        | {
            "out_time": seconds(left_at),
            "out_channel_id": exit_lane,
            "out_uid": uid,
            "duration": minutes(left_at - stay.entered_at),
            "pay_type": pay_type,
            "total": total,
            "amount_receivable": max(ZERO, total - stay.prepaid),
            "cash_pay": cash,
            "cash_prepay": ZERO,
            "electronic_pay": electronic,
            "electronic_prepay": stay.prepaid,
            "reduce_amount": reduce,
            "auth_code": auth_code,
            "freereasons": free_reason,
        }
    ).report()


def liftrod(release: ManualRelease, *, uid: str = "") -> Report:
    """A gate opened by hand or by a remote command."""
    return UploadLiftrod(
        liftrod_id=release.lane_id,
        channel_id=release.lane_id,
        reason=release.reason,
        car_number=release.plate,
        order_id=release.order_id or "",
        uid=uid,
        liftrod_time=seconds(release.released_at),
    ).report()
