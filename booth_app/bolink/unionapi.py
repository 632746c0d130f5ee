"""Bolink's platform HTTP API (`unionapi`): ETC payment, order payment state, order history, refunds, lane QR codes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from booth_app.bolink.client import Account, BolinkError, Refused, Unreachable, post_json
from booth_app.bolink.downlinks import PaymentNotice, PaymentNotices
from booth_app.bolink.link import Link
from booth_app.bolink.messages import (
    ETC_FAILED,
    ETC_PAID,
    ETC_PAYING,
    DataReply,
    EtcPay,
    EtcPayReply,
    Message,
    QrCode,
    QrCodeReply,
    QueryOrderRecord,
    QueryOrders,
    QueryOrderState,
    Refund,
    Reply,
    UnionPath,
)
from booth_app.bolink.signing import envelope
from booth_app.store.store import Store

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Reply)


@dataclass(frozen=True, slots=True)
class EtcResult:
    """How an ETC payment ended. The lane opens only when `paid`."""

    paid: bool
    state: int  # the synchronous state: 1 paid, 0 failed, 2 paying (then the asynchronous result decided)
    errmsg: str = ""
    trade_no: str = ""
    total: Decimal = Decimal(0)
    timed_out: bool = False  # state 2 and no asynchronous result in time: the cashier decides


class UnionApi:
    """Calls below `bolink.union_api_url`, signed with the park's ukey."""

    def __init__(
        self,
        base_url: str,
        account: Account,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        link: Link | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account = account
        self.timeout = timeout
        self.link = link
        self._http = http or httpx.AsyncClient()
        self._owns_http = http is None

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def call(self, path: str, message: Message, reply_type: type[R]) -> R:
        """POST one signed request; returns the parsed reply whatever its state. Raises Unreachable."""
        body = envelope(message.json_text(), self.account.ukey, union_id=self.account.union_id)
        _, raw = await post_json(self._http, f"{self.base_url}/{path}", body, wait_s=self.timeout, link=self.link)
        if not isinstance(raw, dict):
            raise Unreachable(f"Bolink's {path} gave no answer object")
        try:
            return reply_type.parse(raw)  # type: ignore[no-any-return]
        except ValueError as exc:
            raise Unreachable(f"Bolink's answer to {path} does not fit: {exc}") from None

    async def _ok(self, path: str, message: Message, reply_type: type[R]) -> R:
        reply = await self.call(path, message, reply_type)
        if reply.state != 1:
            raise Refused(path, reply.errmsg)
        return reply

    # ------------------------------------------------------------ ETC

    async def etc_pay(self, request: EtcPay, notices: PaymentNotices, *, wait_s: float = 60.0) -> EtcResult:
        """Charge an ETC account. With state 2 (paying) wait for the asynchronous result (an `outpark` downlink)."""
        pending = notices.expect(request.order_id)  # before the call: the result may overtake the reply
        try:
            reply = await self.call(UnionPath.ETC_PAY, request, EtcPayReply)
            if reply.state == ETC_PAID:
                return EtcResult(True, ETC_PAID, reply.errmsg, reply.trade_no, reply.total)
            if reply.state != ETC_PAYING:
                return EtcResult(False, reply.state if reply.state == ETC_FAILED else ETC_FAILED, reply.errmsg)
            try:
                notice: PaymentNotice = await asyncio.wait_for(asyncio.shield(pending), timeout=wait_s)
            except TimeoutError:
                log.warning("no ETC result for order %s within %g s", request.order_id, wait_s)
                return EtcResult(False, ETC_PAYING, "no result from ETC in time", timed_out=True)
            return EtcResult(notice.paid, ETC_PAYING, "", notice.trade_no, notice.total)
        finally:
            if not pending.done():
                pending.cancel()

    # ------------------------------------------------------------ orders

    async def order_state(
        self, order_id: str = "", *, car_number: str = "", trade_no: str = ""
    ) -> list[QueryOrderRecord]:
        """The electronic payments Bolink holds for an order (or a plate)."""
        request = QueryOrderState(
            park_id=self.account.park_id,
            union_id=str(self.account.union_id),
            order_id=order_id or None,
            car_number=car_number or None,
            trade_no=trade_no or None,
        )
        reply = await self._ok(UnionPath.QUERY_ORDER_STATE, request, DataReply)
        return _records(reply.body)

    async def orders(
        self, start: datetime, end: datetime, *, page: int = 1, size: int = 20
    ) -> tuple[int, list[QueryOrderRecord]]:
        """One page of the park's order history: (total count, records)."""
        request = QueryOrders(
            park_id=self.account.park_id,
            union_id=str(self.account.union_id),
            start_time=int(start.timestamp()),
            end_time=int(end.timestamp()),
            page=page,
            size=size,
        )
        reply = await self._ok(UnionPath.QUERY_ORDERS, request, DataReply)
        body: Any = reply.body or {}
        if isinstance(body, list):
            return len(body), _records(body)
        return int(body.get("total", 0)), _records(body.get("orders") or body.get("list") or [])

    async def refund(self, order_id: str, trade_no: str, money: Decimal, reason: str) -> Reply:
        """Give back `money` of an electronic payment. Raises Refused when Bolink will not."""
        request = Refund(
            park_id=self.account.park_id,
            union_id=str(self.account.union_id),
            order_id=order_id,
            trade_no=trade_no,
            refund_money=money,
            refund_reason=reason,
        )
        return await self._ok(UnionPath.REFUND, request, Reply)

    async def qrcode(self, channel_id: str) -> str:
        """The URL a driver scans at this exit lane to pay."""
        request = QrCode(channel_id=channel_id, union_id=str(self.account.union_id), park_id=self.account.park_id)
        reply = await self._ok(UnionPath.QRCODE, request, QrCodeReply)
        if not reply.url:
            raise Refused(UnionPath.QRCODE, "no url in the answer")
        return reply.url


def _records(raw: Any) -> list[QueryOrderRecord]:
    if not isinstance(raw, list):
        return []
    return [QueryOrderRecord.parse(item) for item in raw if isinstance(item, dict)]


class LaneQrCodes:
    """Each exit lane's payment QR code: fetched from Bolink, kept in the store, fetched again when Bolink is back."""

    def __init__(self, api: UnionApi, store: Store, lane_ids: Iterable[str], link: Link) -> None:
        self.api = api
        self.store = store
        self.lane_ids = list(lane_ids)
        self._refresh = asyncio.Event()
        link.subscribe(lambda online, _reason: self._refresh.set() if online else None)

    async def url(self, lane_id: str) -> str:
        """The lane's QR code URL as last fetched ("" when Bolink never gave one)."""
        cached = await self.store.lane_qrcode(lane_id)
        return cached[0] if cached else ""

    async def refresh(self) -> int:
        """Fetch every lane's code; returns how many were fetched. Keeps the cached one when Bolink does not answer."""
        fetched = 0
        for lane_id in self.lane_ids:
            try:
                url = await self.api.qrcode(lane_id)
            except BolinkError as exc:
                log.warning("kept the cached payment QR code of lane %s: %s", lane_id, exc)
                continue
            await self.store.put_lane_qrcode(lane_id, url, datetime.now(UTC))
            fetched += 1
        return fetched

    async def run(self, *, retry_s: float = 60.0) -> None:
        """Refresh at start, then whenever Bolink comes back (and every `retry_s` while some are missing)."""
        while True:
            self._refresh.clear()
            fetched = await self.refresh()
            timeout = None if fetched == len(self.lane_ids) else retry_s
            try:
                async with asyncio.timeout(timeout):  # not wait_for: see OutboxRelay._pause
                    await self._refresh.wait()
            except TimeoutError:
                continue
