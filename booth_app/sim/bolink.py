"""A Bolink (泊链) stand-in over real HTTP, for `--demo` and the tests.

It speaks the SDK's HTTP mode (`/bpd/upload.do`, `/bpd/download.do`) and the platform API (`/unionapi/<path>`) with
Bolink's rules: signs checked over the data text as received, tokens, the 100-requests-in-10-s limit, duplicate
detection by order, long-polled signed downlinks. Scripting helpers play the driver's side (scan to pay, prepay, show a
pay code) and faults play the network's. A control API under `/_sim/` does the same over HTTP (bolink_control.py).

Layers: bolink_server.py (HTTP, faults, downlink queue, asks) < bolink_rules.py (what Bolink checks and answers) <
this module (the driver's side, the control API, the command line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import string
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from aiohttp import web

from booth_app.bolink import messages as m
from booth_app.sim.bolink_control import control_routes
from booth_app.sim.bolink_ledger import ExitPay, PaymentRecord, Prepay, Received, to_money
from booth_app.sim.bolink_rules import BolinkRules, decimal_or_zero
from booth_app.sim.bolink_server import FaultKind

__all__ = ["DEMO_PARKS", "BolinkSim", "ExitPay", "FaultKind", "PaymentRecord", "Prepay", "Received", "main", "serve"]

_log = logging.getLogger(__name__)

DEMO_UKEY = "DEMOUKEY0123456789"  # the demo park's key; the app's --demo signs with it too
DEMO_PARKS: Mapping[str, str] = {"1001": DEMO_UKEY}
PLATE_CHARS = string.ascii_uppercase + string.digits


class BolinkSim(BolinkRules):
    """The simulated platform: start() it, point the booth's sdk_url / union_api_url at it, inspect what it got."""

    def __init__(
        self,
        *,
        parks: Mapping[str, str] | None = None,
        union_id: int = 200188,
        poll_timeout: float = 30.0,
        rate_limit: int = 100,
        rate_window: float = 10.0,
    ) -> None:
        super().__init__(
            parks=DEMO_PARKS if parks is None else parks,
            union_id=union_id,
            poll_timeout=poll_timeout,
            rate_limit=rate_limit,
            rate_window=rate_window,
        )

    def _routes(self) -> list[web.RouteDef]:
        return [*super()._routes(), *control_routes(self)]

    def _order_of(self, car_number: str) -> str:
        """The order the booth opened for this plate (its latest in_park), as Bolink would find it."""
        return next(
            (
                str(u.data.get("order_id") or "")
                for u in reversed(self.uploads)
                if u.service == m.Service.IN_PARK and u.data.get("car_number") == car_number
            ),
            "",
        )

    # ------------------------------------------------------------ scripting: the driver's side

    async def driver_scans_exit_qr(
        self,
        car_number: str,
        *,
        order_id: str = "",
        channel_id: str = "",
        pay_channel: int = 0,
        pay: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109 - the scripting API names its wait
    ) -> ExitPay:
        """The driver scans the exit QR code: ask the price; if `pay` and something is due, pay it (outpark)."""
        price_answer = await self._ask_price(car_number, order_id, channel_id, m.PRICE_SCENE_EXIT, timeout)
        price = decimal_or_zero(price_answer.get("price"))
        if not pay or price <= 0 or price_answer.get("state", 1) != 1:
            return ExitPay(price_answer, None, "", price)
        order_id = str(price_answer.get("order_id") or order_id or self._order_of(car_number))
        trade_no = self.record_payment(order_id, car_number, price, pay_channel=pay_channel)
        outpark = m.Outpark(
            order_id=order_id,
            car_number=car_number,
            state=m.OUTPARK_PAID,
            trade_no=trade_no,
            pay_type="scancode",
            total=price,
            pay_channel=pay_channel,
            out_channel_id=channel_id,
        )
        outpark_answer = await self.ask(m.Service.OUTPARK, outpark, timeout=timeout)
        return ExitPay(price_answer, outpark_answer, trade_no, price)

    async def driver_prepays(
        self,
        car_number: str,
        *,
        order_id: str = "",
        amount: Decimal | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the scripting API names its wait
    ) -> Prepay:
        """The driver pays inside the lot before walking to the car: ask the price, pay, send prepay_order."""
        price_answer = await self._ask_price(car_number, order_id, "", m.PRICE_SCENE_PREPAY, timeout)
        amount = decimal_or_zero(price_answer.get("price")) if amount is None else to_money(amount, "amount")
        if amount <= 0 or price_answer.get("state", 1) != 1:  # nothing due, or the booth does not know the car
            return Prepay(price_answer, None, "", amount)
        order_id = str(price_answer.get("order_id") or order_id or self._order_of(car_number))
        trade_no = self.record_payment(order_id, car_number, amount, pay_scene="prepay")
        prepay = m.PrepayOrder(
            order_id=order_id,
            car_number=car_number,
            prepay=amount,
            prepay_type=1,
            trade_no=trade_no,
            pay_channel=0,
            query_time=int(time.time()),
        )
        prepay_answer = await self.ask(m.Service.PREPAY_ORDER, prepay, timeout=timeout)
        return Prepay(price_answer, prepay_answer, trade_no, amount)

    async def _ask_price(
        self,
        car_number: str,
        order_id: str,
        channel_id: str,
        scene: int,
        timeout: float,  # noqa: ASYNC109 - the scripting API names its wait
    ) -> dict[str, Any]:
        query = m.QueryPrice(
            order_id=order_id or self._order_of(car_number),
            car_number=car_number,
            pay_scene=scene,
            channel_id=channel_id,
            query_time=int(time.time()),
            query_order_no=self.ledger.new_number("query_order"),
        )
        return await self.ask(m.Service.QUERY_PRICE, query, timeout=timeout)

    async def driver_shows_pay_code(
        self,
        channel_id: str,
        *,
        authcode: str = "",
        car_number: str = "",
        timeout: float = 10.0,  # noqa: ASYNC109 - the scripting API names its wait
    ) -> dict[str, Any]:
        """The exit screen reads the driver's payment code (sweepcode type 1)."""
        code = authcode or "13" + "".join(secrets.choice(string.digits) for _ in range(16))
        sweep = m.Sweepcode(type=m.SWEEP_PAY_CODE, authcode=code, channel_id=channel_id, car_number=car_number)
        return await self.ask(m.Service.SWEEPCODE, sweep, timeout=timeout)

    async def driver_shows_paid_receipt(
        self,
        channel_id: str,
        pay_info: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - the scripting API names its wait
    ) -> dict[str, Any]:
        """The exit screen reads a receipt code of a payment already made (sweepcode type 2)."""
        sweep = m.Sweepcode(type=m.SWEEP_PAID_RECEIPT, pay_info=pay_info, channel_id=channel_id)
        return await self.ask(m.Service.SWEEPCODE, sweep, timeout=timeout)

    async def unplated_entry(
        self,
        channel_id: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - the scripting API names its wait
    ) -> dict[str, Any]:
        """A car with no plate: its driver scans the entry code and Bolink makes up a car_number."""
        car_number = "临" + "".join(secrets.choice(PLATE_CHARS) for _ in range(7))
        entry = m.NolicenceInPark(car_number=car_number, channel_id=channel_id)
        return await self.ask(m.Service.NOLICENCE_IN_PARK, entry, timeout=timeout)

    async def remote_gate(
        self,
        channel_id: str,
        operate: int = m.LIFTROD_OPEN,
        timeout: float = 10.0,  # noqa: ASYNC109 - the scripting API names its wait
    ) -> dict[str, Any]:
        command = m.OperateLiftrod(channel_id=channel_id, operate=operate)
        return await self.ask(m.Service.OPERATE_LIFTROD, command, timeout=timeout)

    async def monthcard_paid(
        self,
        car_number: str,
        pay_money: Decimal | float | str,
        *,
        months: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - the scripting API names its wait
    ) -> dict[str, Any]:
        renewal = m.MonthcardPay(
            car_number=car_number,
            trade_no=self.ledger.new_number("mc"),
            pay_money=to_money(pay_money, "pay_money"),
            months=months,
        )
        return await self.ask(m.Service.MONTHCARD_PAY, renewal, timeout=timeout)

    # ------------------------------------------------------------ for the control API

    def summary(self) -> dict[str, Any]:
        """Counts a person (or the demo) can read at GET /_sim/state."""
        return {
            "sdk_url": self.sdk_url,
            "union_api_url": self.union_api_url,
            "uploads": dict(Counter(u.service for u in self.uploads)),
            "answers": dict(Counter(a.service for a in self.answers)),
            "duplicates": self.duplicates,
            "refusals": dict(self.refusals),
            "too_fast": self.too_fast,
            "logins": self.logins,
            "tokens": len(self._tokens),
            "pending_downlinks": self.pending_downlinks(),
            "pending_asks": len(self._asks),
            "payments": sum(len(p) for p in self.payments.values()),
            "fault": self._fault,
            "fault_delay": self._fault_delay,
            "etc": {"result": self.union.etc.result, "then": self.union.etc.then, "delay": self.union.etc.delay},
            "bad_downlink_signs": self.bad_downlink_signs,
        }


# ---------------------------------------------------------------- standalone


async def serve(host: str, port: int, *, parks: Mapping[str, str], union_id: int, poll_timeout: float = 30.0) -> None:
    """Run a simulator until cancelled."""
    sim = BolinkSim(parks=parks, union_id=union_id, poll_timeout=poll_timeout)
    await sim.start(host, port)
    try:
        _log.info(
            "Bolink simulator on %s (sdk_url %s, union_api_url %s, parks %s, union_id %s)",
            sim.base_url,
            sim.sdk_url,
            sim.union_api_url,
            ", ".join(sim.parks),
            union_id,
        )
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="booth-app sim bolink",
        description="Run the Bolink (泊链) simulator: upload.do/download.do under /bpd, the platform API under "
        "/unionapi, and a control API under /_sim (GET /_sim/state).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9000, help="port to listen on; 0 picks a free one (default 9000)")
    parser.add_argument(
        "--park",
        action="append",
        metavar="PARK_ID=UKEY",
        type=_park,
        help="a car park the simulator serves and its ukey; repeat for more (default: the demo park "
        f"{next(iter(DEMO_PARKS))})",
    )
    parser.add_argument("--union-id", type=int, default=200188, help="the vendor's union_id (default 200188)")
    parser.add_argument(
        "--poll-timeout", type=float, default=30.0, help="seconds download.do waits for a message (default 30)"
    )
    return parser


def _park(text: str) -> tuple[str, str]:
    park_id, sep, ukey = text.partition("=")
    if not sep or not park_id.strip() or not ukey.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not PARK_ID=UKEY")
    return park_id.strip(), ukey.strip()


def main(argv: Sequence[str] | None = None) -> int:
    """`booth-app sim bolink [--host H] [--port P] [--park ID=UKEY]… [--union-id N] [--poll-timeout S]`."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help or a bad option: argparse has already printed why
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    parks = dict(args.park) if args.park else dict(DEMO_PARKS)

    async def run() -> None:
        task = asyncio.current_task()
        if task is not None:
            with contextlib.suppress(NotImplementedError):  # Windows has no loop signal handlers
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await serve(args.host, args.port, parks=parks, union_id=args.union_id, poll_timeout=args.poll_timeout)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"Bolink simulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
