"""The Bolink simulator's control API under `/_sim/`: JSON in, JSON out, so the demo or a person can script it.

| route | body | does |
| --- | --- | --- |
| GET /_sim/state | | counts: uploads per service, duplicates, refusals, too_fast, logins, pending downlinks, fault |
| POST /_sim/fault | kind (down/slow/5xx/garbage/null), delay, seconds | BolinkSim.fault (see below for "down") |
| POST /_sim/expire_tokens | | every token becomes invalid |
| POST /_sim/scan_exit | car_number, order_id?, channel_id?, pay_channel?, pay?, timeout? | driver_scans_exit_qr |
| POST /_sim/prepay | car_number, order_id?, amount?, timeout? | driver_prepays |
| POST /_sim/pay_code | channel_id, authcode?, car_number?, timeout? | driver_shows_pay_code |
| POST /_sim/paid_receipt | channel_id, pay_info, timeout? | driver_shows_paid_receipt |
| POST /_sim/etc | result, then?, delay? | set_etc |
| POST /_sim/gate | channel_id, operate?, timeout? | remote_gate |
| POST /_sim/wallet | car_number, balance, net_status? | set_wallet |
| POST /_sim/unplated | channel_id, timeout? | unplated_entry |
| POST /_sim/monthcard | car_number, pay_money, months?, timeout? | monthcard_paid |
| POST /_sim/payment | order_id, car_number, money, pay_type?, pay_scene?, pay_channel? | record_payment |
| POST /_sim/push | service, data, park_id? | push |

"down" over HTTP answers first, then closes the port (cutting every request in flight): it comes back on the same port
after `seconds` when the body gives them, else only through `fault(None)` from Python or a restart of the simulator.
A helper that waits for the booth answers 504 when the booth does not answer in time; a bad body answers 400.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from booth_app.store.outbox import encode_data

if TYPE_CHECKING:
    from booth_app.sim.bolink import BolinkSim

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def control_routes(sim: BolinkSim) -> list[web.RouteDef]:
    async def state(request: web.Request) -> web.StreamResponse:
        return _json(sim.summary())

    async def fault(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        kind, delay = body.get("kind"), float(body.get("delay", 3.0))
        if kind == "down":
            seconds = body.get("seconds")
            # Answer before the port closes: closing it cuts every request in flight, this one included.
            response = _json({"fault": "down", "back_in": seconds})
            await response.prepare(request)
            await response.write_eof()
            sim.spawn(sim.outage(None if seconds is None else float(seconds)))
            return response
        await sim.fault(kind, delay=delay)
        return _json({"fault": sim.current_fault, "delay": delay})

    async def expire_tokens(request: web.Request) -> web.StreamResponse:
        sim.expire_tokens()
        return _json({"expired": True})

    async def scan_exit(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        paid = await sim.driver_scans_exit_qr(
            _text(body, "car_number"),
            order_id=str(body.get("order_id", "")),
            channel_id=str(body.get("channel_id", "")),
            pay_channel=int(body.get("pay_channel", 0)),
            pay=bool(body.get("pay", True)),
            timeout=_timeout(body),
        )
        return _json(
            {
                "price_answer": paid.price_answer,
                "outpark_answer": paid.outpark_answer,
                "trade_no": paid.trade_no,
                "price": paid.price,
            }
        )

    async def prepay(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        amount = body.get("amount")
        paid = await sim.driver_prepays(
            _text(body, "car_number"),
            order_id=str(body.get("order_id", "")),
            amount=None if amount is None else Decimal(str(amount)),
            timeout=_timeout(body),
        )
        return _json(
            {
                "price_answer": paid.price_answer,
                "prepay_answer": paid.prepay_answer,
                "trade_no": paid.trade_no,
                "amount": paid.amount,
            }
        )

    async def pay_code(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        answer = await sim.driver_shows_pay_code(
            _text(body, "channel_id"),
            authcode=str(body.get("authcode", "")),
            car_number=str(body.get("car_number", "")),
            timeout=_timeout(body),
        )
        return _json({"answer": answer})

    async def paid_receipt(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        answer = await sim.driver_shows_paid_receipt(
            _text(body, "channel_id"), _text(body, "pay_info"), timeout=_timeout(body)
        )
        return _json({"answer": answer})

    async def etc(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        sim.set_etc(body.get("result", "paid"), then=body.get("then", "paid"), delay=float(body.get("delay", 1.0)))
        return _json({"etc": sim.summary()["etc"]})

    async def gate(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        answer = await sim.remote_gate(_text(body, "channel_id"), int(body.get("operate", 1)), timeout=_timeout(body))
        return _json({"answer": answer})

    async def wallet(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        car_number = _text(body, "car_number")
        sim.set_wallet(car_number, str(body.get("balance", 0)), int(body.get("net_status", 1)))
        balance, net_status = sim.wallets[car_number]
        return _json({"car_number": car_number, "balance": balance, "net_status": net_status})

    async def unplated(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        return _json({"answer": await sim.unplated_entry(_text(body, "channel_id"), timeout=_timeout(body))})

    async def monthcard(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        answer = await sim.monthcard_paid(
            _text(body, "car_number"),
            str(body.get("pay_money", 0)),
            months=int(body.get("months", 1)),
            timeout=_timeout(body),
        )
        return _json({"answer": answer})

    async def payment(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        trade_no = sim.record_payment(
            _text(body, "order_id"),
            str(body.get("car_number", "")),
            str(body.get("money", 0)),
            pay_type=str(body.get("pay_type", "scancode")),
            pay_scene=str(body.get("pay_scene", "outpay")),
            pay_channel=int(body.get("pay_channel", 0)),
        )
        return _json({"trade_no": trade_no})

    async def push(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        data = body.get("data", {})
        if not isinstance(data, dict):
            raise ValueError("data must be a JSON object")
        park_id = body.get("park_id")
        await sim.push(_text(body, "service"), data, park_id=None if park_id is None else str(park_id))
        return _json({"queued": True, "pending_downlinks": sim.pending_downlinks()})

    return [
        web.get("/_sim/state", _guarded(state)),
        web.post("/_sim/fault", _guarded(fault)),
        web.post("/_sim/expire_tokens", _guarded(expire_tokens)),
        web.post("/_sim/scan_exit", _guarded(scan_exit)),
        web.post("/_sim/prepay", _guarded(prepay)),
        web.post("/_sim/pay_code", _guarded(pay_code)),
        web.post("/_sim/paid_receipt", _guarded(paid_receipt)),
        web.post("/_sim/etc", _guarded(etc)),
        web.post("/_sim/gate", _guarded(gate)),
        web.post("/_sim/wallet", _guarded(wallet)),
        web.post("/_sim/unplated", _guarded(unplated)),
        web.post("/_sim/monthcard", _guarded(monthcard)),
        web.post("/_sim/payment", _guarded(payment)),
        web.post("/_sim/push", _guarded(push)),
    ]


def _guarded(handler: Handler) -> Handler:
    """Turn a bad request into 400 and a booth that does not answer into 504, each with a one-line JSON error."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except TimeoutError as exc:
            return _json({"error": str(exc)}, status=504)
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            return _json({"error": str(exc) or type(exc).__name__}, status=400)

    return guarded


async def _body(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    if not text.strip():
        return {}
    value = json.loads(text)  # a JSONDecodeError is a ValueError: 400
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value in (None, ""):
        raise ValueError(f"{key} is required")
    return str(value)


def _timeout(body: dict[str, Any]) -> float:
    return float(body.get("timeout", 10.0))


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(text=encode_data(value), status=status, content_type="application/json")
