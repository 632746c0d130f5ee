"""Bolink's rules for what arrives at the simulator: tokens, signs, the rate limit, duplicates, and what each service
answers (upload.do, download.do, the unionapi); plus the platform's books (payments, wallets, ETC behaviour)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter, deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from booth_app.bolink import messages as m
from booth_app.bolink.signing import BadMessage, Envelope, open_envelope
from booth_app.core.types import PaymentChannel
from booth_app.sim.bolink_ledger import Ledger, PaymentRecord, Received, Refused, to_money
from booth_app.sim.bolink_server import SimServer
from booth_app.sim.bolink_union import EtcOutcome, EtcResult, UnionApi, qr_page
from booth_app.store.outbox import encode_data

_log = logging.getLogger("booth_app.sim.bolink")

DOWNLINK_SERVICES = frozenset(
    {
        m.Service.QUERY_PRICE,
        m.Service.PREPAY_ORDER,
        m.Service.OUTPARK,
        m.Service.NOLICENCE_IN_PARK,
        m.Service.OPERATE_LIFTROD,
        m.Service.SWEEPCODE,
        m.Service.MONTHCARD_PAY,
    }
)
RECORD_SERVICES = frozenset({m.Service.IN_PARK, m.Service.OUT_PARK, m.Service.UPLOAD_LIFTROD, m.Service.WORK_RECORD})
UPLINK_SERVICES = RECORD_SERVICES | {m.Service.PAY_STATUS, m.Service.QUERY_ORDER}
TOO_FAST_WINDOW, TOO_FAST_COUNT = 1.0, 9  # Bolink asks for fewer than 10 uploads per second


class BolinkRules(SimServer):
    """What Bolink checks and answers; the records the tests inspect are plain attributes."""

    def __init__(
        self, *, parks: Mapping[str, str], union_id: int, poll_timeout: float, rate_limit: int, rate_window: float
    ) -> None:
        super().__init__(parks=parks, poll_timeout=poll_timeout)
        self.union_id = union_id
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        # What the tests inspect.
        self.uploads: list[Received] = []
        self.processed: dict[tuple[str, str], Received] = {}
        self.duplicates = 0
        self.refusals: Counter[str] = Counter()
        self.too_fast = 0
        self.answers: list[Received] = []
        self.logins = 0
        # The platform's books.
        self.ledger = Ledger()
        self.payments: dict[str, list[PaymentRecord]] = self.ledger.payments
        self.wallets: dict[str, tuple[Decimal, int]] = {}  # car_number -> (balance, net_status)
        self.charge_on_out_park = True  # charge sweepcode/wallet out_parks and send the outpark result, as Bolink does
        self.union = UnionApi(
            parks=self.parks,
            union_id=union_id,
            ledger=self.ledger,
            settle_later=self._settle_etc_later,
            base_url=lambda: self.base_url,
        )
        self._tokens: dict[str, str] = {}  # token -> park_id
        self._booths: dict[str, str] = {}  # token -> local_id: the booth (SDK instance) that logged in with it
        self._hits: dict[str, deque[float]] = {}  # token -> request times, for the rate limit
        self._uplink_times: dict[str, deque[float]] = {}  # token -> upload times, for too_fast
        self._seen: dict[tuple[str, str], set[str]] = {}  # (service, order_id) -> data texts accepted
        self._charged: set[tuple[str, str]] = set()

    def _routes(self) -> list[web.RouteDef]:
        return [
            web.post("/bpd/upload.do", self._upload),
            web.post("/bpd/download.do", self._download),
            web.post("/unionapi/{path:.+}", self._unionapi),
            web.get("/qr/{park_id}/{channel_id}", self._qr),
        ]

    def expire_tokens(self) -> None:
        """Forget every login: the next request on any token is answered `error:token无效`."""
        self._tokens.clear()

    # ------------------------------------------------------------ upload.do

    async def _upload(self, request: web.Request) -> web.Response:
        try:
            text = await _body_text(request)
            message = _parse(text)
            if message.service == m.Service.LOGIN:
                return _json(self._login(text, message))
            token, park_id = self._session(message)
            self._count_upload(token)
            self._check_rate(token)
            self._check_sign(text, message, self.parks[park_id])
            received = Received(message.service, message.data, message.data_json, token, time.time())
            if not isinstance(received.data, dict):
                raise Refused("error:data不是JSON对象")
            if received.service in UPLINK_SERVICES:
                return _json(self._accept_uplink(received, park_id))
            if received.service in DOWNLINK_SERVICES or received.service in self._pushed_services:
                return _json(self._accept_answer(received))
            raise Refused(f"error:未知的service_name {received.service}")
        except Refused as exc:
            return self._refuse(exc.errmsg)

    def _login(self, text: str, message: Envelope) -> dict[str, Any]:
        data = message.data if isinstance(message.data, dict) else {}
        missing = next((f for f in ("union_id", "park_id", "local_id") if data.get(f) in (None, "")), None)
        if missing is not None:
            raise Refused(f"error:缺少登录参数{missing}")
        ukey = self.parks.get(str(data["park_id"]))
        if ukey is None:
            raise Refused(f"error:车场{data['park_id']}不存在")
        self._check_sign(text, message, ukey)
        if str(data["union_id"]) != str(self.union_id):
            raise Refused(f"error:union_id {data['union_id']} 与车场不匹配")
        token = secrets.token_hex(16)
        self._tokens[token] = str(data["park_id"])
        local_id = self._booths[token] = str(data["local_id"])
        _, _, lanes = local_id.partition("_channels_")
        for lane in filter(None, lanes.split("_")):
            self._lane_booths[(str(data["park_id"]), lane)] = local_id
        self.logins += 1
        return {"state": 1, "token": token, "service_name": m.Service.LOGIN}

    def _session(self, message: Envelope) -> tuple[str, str]:
        """The message's token and the park it logged in to; raises Refused when the token is missing or stale."""
        token = message.head.get("token")
        park_id = self._tokens.get(token) if isinstance(token, str) else None
        if not isinstance(token, str) or park_id is None:
            raise Refused(f"error:{m.TOKEN_INVALID}")
        return token, park_id

    def _accept_uplink(self, received: Received, park_id: str) -> dict[str, Any]:
        self.uploads.append(received)
        order_id = str(received.data.get("order_id") or "")
        if order_id and received.service in RECORD_SERVICES:
            # Idempotent by order: the same text again was already processed; new text (a re-sent out_park) is news.
            seen = self._seen.setdefault((received.service, order_id), set())
            if received.data_json in seen:
                self.duplicates += 1
                return {"state": 0, "errmsg": m.ALREADY_PROCESSED}
            seen.add(received.data_json)
        if order_id:
            self.processed.setdefault((received.service, order_id), received)
        return self._serve_uplink(received, park_id)

    def _accept_answer(self, received: Received) -> dict[str, Any]:
        self.uploads.append(received)
        self.answers.append(received)
        self._resolve(received)
        return {"state": 1}

    def _check_sign(self, text: str, message: Envelope, ukey: str) -> None:
        if not message.signature:
            raise Refused(m.NO_SIGN)
        try:
            open_envelope(text, ukey)
        except (BadMessage, TypeError):  # TypeError: hmac refuses a sign with non-ASCII characters
            raise Refused(f"error:{m.BAD_SIGN}") from None

    def _check_rate(self, token: str) -> None:
        """Sliding window over every request on the token (refused ones count too, as a server-side counter would)."""
        now = time.monotonic()
        hits = self._hits.setdefault(token, deque())
        while hits and hits[0] <= now - self.rate_window:
            hits.popleft()
        hits.append(now)
        if len(hits) > self.rate_limit:
            raise Refused(m.RATE_LIMITED)

    def _count_upload(self, token: str) -> None:
        now = time.monotonic()
        times = self._uplink_times.setdefault(token, deque())
        while times and times[0] < now - TOO_FAST_WINDOW:
            times.popleft()
        if len(times) >= TOO_FAST_COUNT:
            self.too_fast += 1
        times.append(now)

    def _refuse(self, errmsg: str) -> web.Response:
        self.refusals[errmsg] += 1
        _log.info("refused: %s", errmsg)
        return _json({"state": 0, "errmsg": errmsg})

    def _serve_uplink(self, received: Received, park_id: str) -> dict[str, Any]:
        data: dict[str, Any] = received.data
        if received.service == m.Service.PAY_STATUS:
            wallet = self.wallets.get(str(data.get("car_number") or ""))
            if wallet is None:
                return {"state": 1, "is_exist": 0, "balance": 0, "net_status": 0}
            return {"state": 1, "is_exist": 1, "balance": wallet[0], "net_status": wallet[1]}
        if received.service == m.Service.QUERY_ORDER:
            now = time.time()
            found = self.ledger.for_order(str(data.get("order_id") or ""), month_of=now)
            result = {
                "time_temp": int(now * 1000),
                "query_order_no": self.ledger.new_number("query_order"),
                "data": [p.record() for p in found],
            }
            self._queue(park_id, m.Service.QUERY_ORDER, encode_data(result), to=self._booths.get(received.token, ""))
            return {"state": 1}
        if received.service == m.Service.OUT_PARK and self.charge_on_out_park:
            self._charge_at_exit(data, park_id, to=self._booths.get(received.token, ""))
        return {"state": 1, "errmsg": "ok"}

    def _charge_at_exit(self, data: dict[str, Any], park_id: str, *, to: str = "") -> None:
        """An out_park paid by the driver's code or wallet: take the money and send the `outpark` result."""
        pay_type, order_id, car_number = data.get("pay_type"), str(data["order_id"]), str(data.get("car_number") or "")
        auth_code = str(data.get("auth_code") or "")
        if pay_type == "sweepcode" and auth_code:
            key, pay_channel = (order_id, auth_code), 0
        elif pay_type == "wallet":
            key, pay_channel = (order_id, "wallet"), 2
        else:
            return
        amounts = [decimal_or_zero(data.get(f)) for f in ("electronic_pay", "amount_receivable", "total")]
        amount = next((a for a in amounts if a > 0), Decimal(0))
        if key in self._charged or amount <= 0:
            return
        self._charged.add(key)
        state, trade_no, errmsg = m.OUTPARK_PAID, "", "支付成功"
        if pay_type == "wallet":
            balance, net_status = self.wallets.get(car_number, (Decimal(0), 0))
            if net_status != 1 or balance < amount:
                state, errmsg = m.OUTPARK_FAILED, "余额不足或未开通无感支付"
                self._charged.discard(key)  # a later try (after a top-up) may succeed
            else:
                self.wallets[car_number] = (balance - amount, net_status)
        if state == m.OUTPARK_PAID:
            trade_no = self.record_payment(
                order_id, car_number, amount, pay_type=str(pay_type), pay_scene="outpay", pay_channel=pay_channel
            )
        outpark = m.Outpark(
            order_id=order_id,
            car_number=car_number,
            state=state,
            trade_no=trade_no,
            pay_type=str(pay_type),
            total=amount,
            pay_channel=pay_channel,
            out_channel_id=str(data.get("out_channel_id") or ""),
            errmsg=errmsg,
        )
        self._queue(park_id, m.Service.OUTPARK, outpark.json_text(), to=to)  # the result goes to the booth that asked

    # ------------------------------------------------------------ download.do

    async def _download(self, request: web.Request) -> web.Response:
        try:
            token, park_id = self._session(_parse(await _body_text(request)))
            self._check_rate(token)
        except Refused as exc:
            return self._refuse(exc.errmsg)
        return await self._deliver(park_id, request, self._booths.get(token, ""))

    # ------------------------------------------------------------ the platform's books

    def record_payment(
        self,
        order_id: str,
        car_number: str,
        money: Decimal | float | str,
        *,
        pay_type: str = "scancode",
        pay_scene: str = "outpay",
        pay_channel: int = 0,
    ) -> str:
        """The platform took a payment for the order (and says nothing): returns the trade_no."""
        now = int(time.time())
        in_time, out_time = self._stay_times(order_id, now)
        trade_no = self.ledger.new_number("sim")
        payment = PaymentRecord(
            order_id=order_id,
            car_number=car_number,
            money=to_money(money, "money"),
            trade_no=trade_no,
            pay_type=pay_type,
            pay_scene=pay_scene,
            pay_channel=pay_channel,
            pay_time=now,
            in_time=in_time,
            out_time=out_time,
        )
        self.ledger.add(payment)
        return trade_no

    def set_wallet(self, car_number: str, balance: Decimal | float | str, net_status: int = 1) -> None:
        self.wallets[car_number] = (to_money(balance, "balance"), net_status)

    def set_etc(self, result: EtcResult, *, then: EtcOutcome = "paid", delay: float = 1.0) -> None:
        """How etcPayApi answers from now on: paid (state 1), failed (0), or paying (2, then an outpark downlink)."""
        if result not in ("paid", "failed", "paying") or then not in ("paid", "failed"):
            raise ValueError(f"set_etc: result must be paid|failed|paying and then paid|failed, not {result}/{then}")
        self.union.etc.result, self.union.etc.then, self.union.etc.delay = result, then, delay

    def _settle_etc_later(self, park_id: str, data: dict[str, Any], trade_no: str) -> None:
        etc = self.union.etc
        then, delay = etc.then, etc.delay

        async def settle() -> None:
            await asyncio.sleep(delay)
            paid = then == "paid"
            if paid:
                self.union.record_etc(data, trade_no)
            outpark = m.Outpark(
                order_id=str(data["order_id"]),
                car_number=str(data["car_number"]),
                state=m.OUTPARK_PAID if paid else m.OUTPARK_FAILED,
                trade_no=trade_no,
                pay_type=m.PAY_TYPES[PaymentChannel.ETC],
                total=to_money(data["total"], "total"),
                out_channel_id=str(data.get("out_channel_id") or ""),
                errmsg="etc扣费成功" if paid else "etc扣费失败",
            )
            self._queue(park_id, m.Service.OUTPARK, outpark.json_text())

        self.spawn(settle())

    def _stay_times(self, order_id: str, now: int) -> tuple[int, int]:
        """The order's in/out times as the booth reported them (now where it has not yet)."""
        times = {"in_time": now, "out_time": now}
        for upload in self.uploads:
            if upload.service in (m.Service.IN_PARK, m.Service.OUT_PARK) and upload.data.get("order_id") == order_id:
                times.update({k: int(upload.data[k]) for k in times if isinstance(upload.data.get(k), int | float)})
        return times["in_time"], times["out_time"]

    # ------------------------------------------------------------ unionapi and the QR page

    async def _unionapi(self, request: web.Request) -> web.Response:
        try:
            reply = self.union.handle(request.match_info["path"], await _body_text(request))
        except Refused as exc:
            return self._refuse(exc.errmsg)
        return _json(reply)

    async def _qr(self, request: web.Request) -> web.Response:
        page = qr_page(request.match_info["park_id"], request.match_info["channel_id"], request.query.get("type", ""))
        return web.Response(text=page, content_type="text/html")


def _json(value: Mapping[str, Any]) -> web.Response:
    return web.Response(text=encode_data(value), content_type="application/json")


def decimal_or_zero(value: Any) -> Decimal:
    try:
        return to_money(value, "money") if value not in (None, "") else Decimal(0)
    except Refused:
        return Decimal(0)


async def _body_text(request: web.Request) -> str:
    try:
        return (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("error:请求体不是UTF-8文本") from None


def _parse(text: str) -> Envelope:
    """The message in a body, its sign not yet checked; raises Refused for a body that is not a message."""
    try:
        return open_envelope(text, None)
    except BadMessage as exc:
        raise Refused(f"error:请求体不是有效的消息 ({exc})") from None
    except RecursionError:  # open_envelope lets a deeply nested body through as this
        raise Refused("error:请求体嵌套过深") from None
