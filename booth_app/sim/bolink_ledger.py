"""What the Bolink simulator remembers: received messages, the payments it holds and their refunds."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


class Refused(Exception):
    """A message Bolink would turn away; the text is the `errmsg` sent back."""

    @property
    def errmsg(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Received:
    """One message the booth sent: `data_json` is the text as received (what the sign covers), `data` its parse."""

    service: str
    data: Any
    data_json: str
    token: str
    at: float  # time.time() when it arrived


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """A payment the platform took for an order; `record()` is its query_order / queryOrderState form (seed 004)."""

    order_id: str
    car_number: str
    money: Decimal
    trade_no: str
    pay_type: str = "scancode"  # sweepcode (被扫) | wallet | scancode (主扫) | etc
    pay_scene: str = "outpay"  # prepay | outpay
    pay_channel: int = 0  # 0 WeChat, 1 Alipay, 2 balance, 3 UnionPay
    pay_time: int = 0
    in_time: int = 0
    out_time: int = 0
    state: int = 1
    errmsg: str = "查询成功"

    def record(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "car_number": self.car_number,
            "order_id": self.order_id,
            "pay_type": self.pay_type,
            "pay_scene": self.pay_scene,
            "pay_channel": self.pay_channel,
            "in_time": self.in_time,
            "out_time": self.out_time,
            "pay_time": self.pay_time,
            "money": money_text(self.money),
            "errmsg": self.errmsg,
            "trade_no": self.trade_no,
        }


@dataclass(frozen=True, slots=True)
class ExitPay:
    """What happened when a driver scanned the exit QR code; `trade_no` is empty when nothing was paid."""

    price_answer: dict[str, Any]
    outpark_answer: dict[str, Any] | None
    trade_no: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Prepay:
    """What happened when a driver prepaid inside the lot; `prepay_answer` is None when nothing was due."""

    price_answer: dict[str, Any]
    prepay_answer: dict[str, Any] | None
    trade_no: str
    amount: Decimal


def money_text(value: Decimal) -> str:
    """Money as Bolink writes it in records: yuan with two decimals ("0.01")."""
    return f"{value.quantize(Decimal('0.01'))}"


def to_money(value: Any, field: str) -> Decimal:
    """A money field (number or text) as Decimal; raises Refused naming the field."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Refused(f"error:{field}不是金额") from None
    if not amount.is_finite():
        raise Refused(f"error:{field}不是金额")
    return amount


def same_month(a: float, b: float) -> bool:
    return time.localtime(a)[:2] == time.localtime(b)[:2]


class Ledger:
    """The payments the simulated platform holds, by order_id, and the refunds made against them."""

    def __init__(self) -> None:
        self.payments: dict[str, list[PaymentRecord]] = {}
        self.refunds: dict[str, list[tuple[str, Decimal]]] = {}  # trade_no -> [(refund_no, money)]
        # A per-run salt keeps trade numbers unique across simulator restarts (the booth's store remembers them).
        self._salt = secrets.token_hex(1).upper()
        self._serial = itertools.count(1)

    def new_number(self, prefix: str) -> str:
        """A fresh trade_no / query_order_no / refund_no: prefix + 18 characters (Bolink's fields hold 30 to 32)."""
        return f"{prefix}{time.strftime('%y%m%d%H%M%S')}{self._salt}{next(self._serial) % 10000:04d}"

    def add(self, payment: PaymentRecord) -> PaymentRecord:
        self.payments.setdefault(payment.order_id, []).append(payment)
        return payment

    def all(self) -> list[PaymentRecord]:
        return sorted((p for ps in self.payments.values() for p in ps), key=lambda p: (p.pay_time, p.trade_no))

    def by_trade(self, trade_no: str) -> PaymentRecord | None:
        return next((p for p in self.all() if p.trade_no == trade_no), None)

    def for_order(self, order_id: str, *, month_of: float | None = None) -> list[PaymentRecord]:
        """The order's payments; with `month_of`, only those paid in that timestamp's month (query_order's rule)."""
        found = self.payments.get(order_id, [])
        return [p for p in found if month_of is None or same_month(p.pay_time, month_of)]

    def for_car(self, car_number: str) -> list[PaymentRecord]:
        return [p for p in self.all() if p.car_number == car_number]

    def between(self, start: int, end: int) -> list[PaymentRecord]:
        return [p for p in self.all() if start <= p.pay_time <= end]

    def refunded(self, trade_no: str) -> Decimal:
        return sum((money for _, money in self.refunds.get(trade_no, [])), Decimal(0))

    def refund(self, order_id: str, trade_no: str, money: Decimal) -> str:
        """Refund part or all of a trade; returns the refund_no, or raises Refused saying why not."""
        payment = self.by_trade(trade_no)
        if payment is None or payment.state != 1 or (order_id and payment.order_id != order_id):
            raise Refused("error:交易不存在")
        if money <= 0:
            raise Refused("error:退款金额必须大于0")
        if money > payment.money - self.refunded(trade_no):
            raise Refused("error:退款金额超过可退金额")
        refund_no = self.new_number("rf")
        self.refunds.setdefault(trade_no, []).append((refund_no, money))
        return refund_no
