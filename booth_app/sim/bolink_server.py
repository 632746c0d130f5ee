"""The Bolink simulator's HTTP plumbing: listening (and not, for the "down" fault), faults, the downlink queue, asks.

Bolink's rules for what arrives live one layer up (bolink_rules.py); this layer knows HTTP and queues only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self, get_args

from aiohttp import web

from booth_app.bolink import messages as m
from booth_app.bolink.signing import envelope
from booth_app.sim.bolink_ledger import Received
from booth_app.store.outbox import encode_data

FaultKind = Literal["down", "slow", "5xx", "garbage"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
MATCH_KEYS = ("order_id", "channel_id", "query_order_no")  # how an answer finds the downlink it answers
GARBAGE = b"<html><body>502 Bad Gateway</body></html>\x00\xff"  # what a broken proxy in between sends
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class _Downlink:
    service: str
    data_json: str
    to: str = ""  # the booth (local_id) it answers, or "" for whichever booth of the park polls first


@dataclass(slots=True)
class _Ask:
    service: str
    keys: dict[str, str]
    future: asyncio.Future[dict[str, Any]]


class SimServer:
    """An aiohttp server that fails on demand and hands each park's queued downlinks to whichever booth polls first."""

    def __init__(self, *, parks: Mapping[str, str], poll_timeout: float) -> None:
        self.parks: dict[str, str] = dict(parks)
        if not self.parks:
            raise ValueError("the Bolink simulator needs at least one park (park_id -> ukey)")
        self.poll_timeout = poll_timeout
        self.host = "127.0.0.1"
        self.port = 0
        self.bad_downlink_signs = False  # sign downlinks wrongly, to see the booth reject them
        self._fault: FaultKind | None = None
        self._fault_delay = 3.0
        self._downlinks: dict[str, deque[_Downlink]] = {park: deque() for park in self.parks}
        self._queued: dict[str, asyncio.Event] = {park: asyncio.Event() for park in self.parks}
        self._asks: list[_Ask] = []
        self._pushed_services: set[str] = set()  # an upload of one of these is an answer, even to an unknown service
        # (park, lane) -> the booth whose local_id names the lane, by the SDK's convention `…_channels_A1_B1`
        self._lane_booths: dict[tuple[str, str], str] = {}
        self._runner: web.AppRunner | None = None
        self._started = False
        self._inflight: set[asyncio.Task[Any]] = set()  # request handlers, cancelled when the port goes down
        self._tasks: set[asyncio.Task[Any]] = set()  # timers the simulator started itself

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def sdk_url(self) -> str:
        return f"{self.base_url}/bpd"

    @property
    def union_api_url(self) -> str:
        return f"{self.base_url}/unionapi"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 picks a free port; read it from `port` afterwards)."""
        if self._started:
            raise RuntimeError("the Bolink simulator is already running")
        self.host = host
        await self._listen(port)
        self._started = True

    async def stop(self) -> None:
        self._started = False
        self._fault = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a timer of the simulator's own; stop() cancels it."""

        async def run() -> Any:
            return await coro

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _routes(self) -> list[web.RouteDef]:
        """The routes a layer above serves."""
        return []

    async def _listen(self, port: int) -> None:
        @web.middleware  # aiohttp marks the function, so a bound method needs this wrapper
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._middleware(request, handler)

        app = web.Application(middlewares=[middleware])
        app.add_routes(self._routes())
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def _close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        # Cut requests in flight (long polls, slow answers) so their clients see the connection drop, as in an outage.
        current = asyncio.current_task()
        for task in list(self._inflight):
            if task is not current:
                task.cancel()
        await runner.cleanup()

    # ------------------------------------------------------------ faults

    @property
    def current_fault(self) -> FaultKind | None:
        return self._fault

    async def fault(self, kind: FaultKind | None, *, delay: float = 3.0) -> None:
        """Act like a bad network: "down" (port closed until fault(None)), "slow", "5xx", "garbage"; None heals."""
        if kind is not None and kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}: use one of {', '.join(FAULT_KINDS)} or None")
        if kind != "down" and self._fault == "down" and self._started and self._runner is None:
            await self._listen(self.port)  # the same port: the booth keeps its configured URL
        was_down = self._fault == "down"
        self._fault, self._fault_delay = kind, delay  # only once listening again, so "healed" means reachable
        if kind == "down" and not was_down:
            await self._close()

    async def outage(self, seconds: float | None = None) -> None:
        """Go down now and, if `seconds` is given, come back on the same port after that long."""
        await self.fault("down")
        if seconds is not None:
            await asyncio.sleep(seconds)
            if self._fault == "down":
                await self.fault(None)

    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            # The control API stays healthy so a person can heal the faults over HTTP.
            if not request.path.startswith("/_sim/"):
                if self._fault == "5xx":
                    return web.Response(status=503, text="503 Service Unavailable")
                if self._fault == "garbage":
                    return web.Response(status=200, body=GARBAGE, content_type="text/html")
                if self._fault == "slow":
                    await asyncio.sleep(self._fault_delay)
            return await handler(request)
        finally:
            if task is not None:
                self._inflight.discard(task)

    # ------------------------------------------------------------ the downlink queue

    @property
    def default_park(self) -> str:
        return next(iter(self.parks))

    def pending_downlinks(self, park_id: str | None = None) -> int:
        parks = [park_id] if park_id is not None else list(self._downlinks)
        return sum(len(self._downlinks[p]) for p in parks)

    async def push(self, service: str, data: Mapping[str, Any] | m.Message, *, park_id: str | None = None) -> None:
        """Queue a signed downlink for the park's booths (the first park by default)."""
        self._queue(park_id or self.default_park, service, _data_json(data))

    async def ask(
        self,
        service: str,
        data: Mapping[str, Any] | m.Message,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the scripting API names its wait
        park_id: str | None = None,
    ) -> dict[str, Any]:
        """Push a downlink and wait for the booth's answer `data`; raises TimeoutError after `timeout` s."""
        data_json = _data_json(data)
        parsed = json.loads(data_json)
        keys = {key: str(parsed[key]) for key in MATCH_KEYS if parsed.get(key)}
        pending = _Ask(str(service), keys, asyncio.get_running_loop().create_future())
        self._asks.append(pending)
        try:
            self._queue(park_id or self.default_park, service, data_json)
            return await asyncio.wait_for(pending.future, timeout)
        except TimeoutError:
            raise TimeoutError(f"the booth did not answer {service} within {timeout:g} s") from None
        finally:
            if pending in self._asks:
                self._asks.remove(pending)

    def _queue(self, park_id: str, service: str, data_json: str, to: str = "") -> None:
        """Queue a downlink for the booth whose local_id names the message's lane (`channel_id`, `out_channel_id`),
        else for `to` (the booth whose upload it answers), else for any booth of the park."""
        if park_id not in self._downlinks:
            raise ValueError(f"unknown park {park_id!r}: the simulator serves {', '.join(self.parks)}")
        with contextlib.suppress(ValueError, AttributeError):
            data = json.loads(data_json)
            lane = str(data.get("channel_id") or data.get("out_channel_id") or "")
            to = self._lane_booths.get((park_id, lane), to)
        self._downlinks[park_id].append(_Downlink(str(service), data_json, to))
        self._pushed_services.add(str(service))
        self._queued[park_id].set()

    def _resolve(self, answer: Received) -> None:
        """Hand an answer to the oldest ask of its service whose order_id / channel_id / query_order_no agree."""
        data: dict[str, Any] = answer.data
        for pending in self._asks:
            if pending.service != answer.service or pending.future.done():
                continue
            if all(not data.get(key) or str(data[key]) == value for key, value in pending.keys.items()):
                pending.future.set_result(data)
                self._asks.remove(pending)
                return

    async def _deliver(self, park_id: str, request: web.Request, booth: str = "") -> web.Response:
        """Long-poll for the park's next downlink for `booth`: the signed message, or an empty body after
        poll_timeout. A downlink that answers one booth's upload goes to that booth only, as each SDK instance
        (local_id) gets the messages about its own lanes; the others go to whichever booth polls first."""
        item = await self._next_downlink(park_id, request, booth)
        if item is None:
            return web.Response(status=200)  # nothing for this park: an empty body, as Bolink's HTTP mode sends
        ukey = self.parks[park_id] + ("-wrong" if self.bad_downlink_signs else "")
        text = envelope(item.data_json, ukey, service_name=item.service)
        return web.Response(text=text, content_type="application/json")

    async def _next_downlink(self, park_id: str, request: web.Request, booth: str = "") -> _Downlink | None:
        queue, queued = self._downlinks[park_id], self._queued[park_id]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.poll_timeout
        while (item := next((d for d in queue if d.to in ("", booth)), None)) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            queued.clear()
            try:
                await asyncio.wait_for(queued.wait(), remaining)
            except TimeoutError:
                return None
            queued.set()  # every poller looks: what woke this one may be for another booth
            await asyncio.sleep(0)
        if request.transport is None or request.transport.is_closing():
            return None  # the poller hung up while waiting: the message stays for the next poll
        queue.remove(item)
        return item


def _data_json(data: Mapping[str, Any] | m.Message) -> str:
    return data.json_text() if isinstance(data, m.Message) else encode_data(data)
