"""The simulated platform API (`unionapi`): ETC payment, order queries, refunds and QR-code addresses."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any, Literal
from urllib.parse import quote

from booth_app.bolink.messages import BAD_SIGN, NO_SIGN, UnionPath
from booth_app.bolink.signing import BadMessage, Envelope, open_envelope
from booth_app.sim.bolink_ledger import Ledger, PaymentRecord, Refused, to_money

EtcResult = Literal["paid", "failed", "paying"]
EtcOutcome = Literal["paid", "failed"]

# Seed 000: the fields etcPayApi requires in every call.
ETC_REQUIRED = (
    "park_id",
    "car_number",
    "in_time",
    "out_time",
    "pay_type",
    "total",
    "order_id",
    "out_channel_id",
    "in_channel_id",
    "parking_time",
    "lane_no",
)


@dataclass(slots=True)
class EtcBehaviour:
    """How etcPayApi answers: paid (1), failed (0), or paying (2) with the outcome `then` sent `delay` s later."""

    result: EtcResult = "paid"
    then: EtcOutcome = "paid"
    delay: float = 1.0


# Called with (park_id, the request's data, the trade_no) when a "paying" ETC call must be settled later.
SettleLater = Callable[[str, dict[str, Any], str], None]


class UnionApi:
    """Answers `POST /unionapi/<path>`; envelope problems raise Refused, business failures are state-0 replies."""

    def __init__(
        self,
        *,
        parks: Mapping[str, str],
        union_id: int,
        ledger: Ledger,
        settle_later: SettleLater,
        base_url: Callable[[], str],
    ) -> None:
        self.parks = parks
        self.union_id = union_id
        self.ledger = ledger
        self.etc = EtcBehaviour()
        self.base_url = base_url
        self._settle_later = settle_later
        self._routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            UnionPath.ETC_PAY: self._etc_pay,
            UnionPath.QUERY_ORDER_STATE: self._query_order_state,
            UnionPath.QUERY_ORDERS: self._query_orders,
            UnionPath.REFUND: self._refund,
            UnionPath.QRCODE: self._qrcode,
        }

    def handle(self, path: str, text: str) -> dict[str, Any]:
        route = self._routes.get(path)
        if route is None:
            raise Refused(f"error:未知的接口 {path}")
        data = self._open(text).data
        if not isinstance(data, dict):
            raise Refused("error:data不是JSON对象")
        return route(data)

    def _open(self, text: str) -> Envelope:
        try:
            envelope = open_envelope(text, None)
        except BadMessage as exc:
            raise Refused(f"error:请求体不是有效的消息 ({exc})") from None
        except RecursionError:  # open_envelope lets a deeply nested body through as this
            raise Refused("error:请求体嵌套过深") from None
        data = envelope.data if isinstance(envelope.data, dict) else {}
        ukey = self.parks.get(str(data.get("park_id", "")))
        if ukey is None:
            raise Refused("error:车场不存在")
        union_id = envelope.head.get("union_id", data.get("union_id"))
        if union_id is not None and str(union_id) != str(self.union_id):
            raise Refused("error:union_id不匹配")
        if not envelope.signature:
            raise Refused(NO_SIGN)
        try:
            return open_envelope(text, ukey)
        except (BadMessage, TypeError):  # TypeError: hmac refuses a sign with non-ASCII characters
            raise Refused(f"error:{BAD_SIGN}") from None

    def _etc_pay(self, data: dict[str, Any]) -> dict[str, Any]:
        missing = next((field for field in ETC_REQUIRED if data.get(field) in (None, "")), None)
        if missing is not None:
            return {"state": 0, "errmsg": f"缺少必传参数:{missing}"}
        try:
            total = to_money(data["total"], "total")
        except Refused as exc:
            return {"state": 0, "errmsg": exc.errmsg}
        if self.etc.result == "failed":
            return {"state": 0, "errmsg": "etc扣费失败:余额不足"}
        trade_no = self.ledger.new_number("etc")
        if self.etc.result == "paying":
            self._settle_later(str(data["park_id"]), data, trade_no)
            return {"state": 2, "errmsg": "支付中", "order_id": str(data["order_id"]), "trade_no": trade_no}
        payment = self.record_etc(data, trade_no)
        return {
            "state": 1,
            "errmsg": "etc扣费成功",
            "order_id": payment.order_id,
            "pay_type": "etc",
            "trade_no": trade_no,
            "total": float(total),
            "car_number": payment.car_number,
            "out_channel_id": str(data["out_channel_id"]),
            "pay_time": payment.pay_time,
            "arrive_money": float(total),
            "fee": 0.0,
            "account_type": 1,
        }

    def record_etc(self, data: dict[str, Any], trade_no: str) -> PaymentRecord:
        return self.ledger.add(
            PaymentRecord(
                order_id=str(data["order_id"]),
                car_number=str(data["car_number"]),
                money=to_money(data["total"], "total"),
                trade_no=trade_no,
                pay_type="etc",
                pay_scene="outpay",
                pay_channel=3,
                pay_time=int(time.time()),
                in_time=_int(data.get("in_time")),
                out_time=_int(data.get("out_time")),
            )
        )

    def _query_order_state(self, data: dict[str, Any]) -> dict[str, Any]:
        order_id, car_number = str(data.get("order_id") or ""), str(data.get("car_number") or "")
        if not order_id and not car_number:
            return {"state": 0, "errmsg": "缺少必传参数:order_id"}
        found = self.ledger.for_order(order_id) if order_id else self.ledger.for_car(car_number)
        if trade_no := data.get("trade_no"):
            found = [p for p in found if p.trade_no == trade_no]
        return {"state": 1, "errmsg": "查询成功", "data": [p.record() for p in found]}

    def _query_orders(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            start, end = int(data["start_time"]), int(data["end_time"])
            page, size = max(1, int(data.get("page", 1))), max(1, int(data.get("size", 20)))
        except (KeyError, TypeError, ValueError):
            return {"state": 0, "errmsg": "缺少或错误的参数:start_time, end_time, page, size"}
        found = self.ledger.between(start, end)
        orders = [p.record() for p in found[(page - 1) * size : page * size]]
        return {
            "state": 1,
            "errmsg": "查询成功",
            "data": {"total": len(found), "page": page, "size": size, "orders": orders},
        }

    def _refund(self, data: dict[str, Any]) -> dict[str, Any]:
        missing = next((f for f in ("trade_no", "refund_money") if data.get(f) in (None, "")), None)
        if missing is not None:
            return {"state": 0, "errmsg": f"缺少必传参数:{missing}"}
        try:
            money = to_money(data["refund_money"], "refund_money")
            refund_no = self.ledger.refund(str(data.get("order_id") or ""), str(data["trade_no"]), money)
        except Refused as exc:
            return {"state": 0, "errmsg": exc.errmsg}
        return {"state": 1, "errmsg": "退款成功", "refund_no": refund_no, "trade_no": data["trade_no"]}

    def _qrcode(self, data: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(data.get("channel_id") or "")
        if not channel_id:
            return {"state": 0, "errmsg": "缺少必传参数:channel_id"}
        park_id = str(data["park_id"])
        url = (
            f"{self.base_url()}/qr/{quote(park_id, safe='')}/{quote(channel_id, safe='')}?type={_int(data.get('type'))}"
        )
        return {"state": 1, "errmsg": "获取成功", "url": url}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def qr_page(park_id: str, channel_id: str, kind: str) -> str:
    """The small page a QR code's address shows (the demo may display it)."""
    return (
        '<!doctype html><html lang="zh"><meta charset="utf-8"><title>泊链支付码</title>'
        f"<body><h1>泊链 模拟支付码</h1><p>车场 {escape(park_id)} · 通道 {escape(channel_id)} · type {escape(kind)}</p>"
        "<p>This page stands in for the Bolink payment page a driver reaches by scanning the lane's code.</p>"
        "</body></html>"
    )
