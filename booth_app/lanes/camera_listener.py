"""The camera listener: the HTTP server that licence-plate cameras push their reads to (`lpr-camera.md`).

A ZhenShi camera POSTs each read to `http://{host}:{port}{path}`; the answer is its command channel back (open the gate,
bytes for the display board on its RS485 port). For every push this module parses it (`drivers.zhenshi`), finds the
lane from the camera's serial number (else its address), recognises the camera's resends, asks the lane what to do
(`on_read`) and answers with that plus whatever is queued for the camera (`pending`, e.g. a camera-IO barrier's open).
The same URL takes the camera's heartbeat / comet poll, answered with the queued commands or `{"status":"ok"}`.
`on_contact(lane, polled)` hears of every push and poll from a known camera (the lane's health: is its camera there).

Refusals follow the page: an unknown camera gets 403 ("403-style refusal"), a body that is not a push gets 400; both
carry `"info":"no"` too, so firmware that reads only the body still keeps the gate shut. Each refusal is one WARNING,
at most one per camera and kind of problem per `warn_every_s`, so a misconfigured camera cannot flood the log.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from drivers.zhenshi import (
    RESPONSE_KEY,
    PlatePush,
    PushError,
    ResendCache,
    decode_body,
    encode_response,
    idle_response,
    info_response,
    merge_responses,
    parse_push,
)

log = logging.getLogger(__name__)

OnRead = Callable[[str, PlatePush], Awaitable[Mapping[str, Any] | None]]
Pending = Callable[[str], Sequence[Mapping[str, Any]]]
OnContact = Callable[[str, bool], None]  # (lane, polled): a known camera pushed (False) or polled (True)

MAX_BODY_BYTES: Final = 8 * 1024 * 1024  # a push with both pictures at full resolution runs to a few MiB of base64
ANSWER_MEMORY: Final = 1024  # answers kept for resends: a camera resends within seconds, not 1024 cars later
_POLL_STEP_S: Final = 0.02  # how often a held comet poll looks for queued commands: well inside the 20 ms budget
_FORM_TYPES: Final = ("multipart/form-data", "application/x-www-form-urlencoded")
# Other messages a ZhenShi camera may send to the same URL: an IO input change, RS485 bytes, a snapshot. The camera
# ignores the answers to them, so they get the idle answer and never the queued commands (those would be lost).
_OTHER_MESSAGES: Final = frozenset({"AlarmGioIn", "SerialData", "TriggerImage"})


class CameraListenerError(OSError):
    """The listener cannot listen: the message is one sentence naming host:port and why."""


@dataclass
class ListenerCounters:
    """What the listener has seen since it was made (for the status bar and the tests)."""

    reads: int = 0  # pushes handed to the lane
    resends: int = 0  # pushes recognised as a camera's resend and answered from memory
    refused: int = 0  # unknown cameras, bodies that are not pushes, wrong paths
    errors: int = 0  # on_read or pending raised: the camera got the idle answer
    polls: int = 0  # heartbeats / comet polls from known cameras
    others: int = 0  # IO-input, serial-data and snapshot messages, answered idle


class _WarnOnce:
    """Logs a warning at most once per key per `every_s`, counting what it held back."""

    _MAX_KEYS: Final = 4096  # many senders cannot grow the memory without bound

    def __init__(self, every_s: float, clock: Callable[[], float]) -> None:
        self._every_s = every_s
        self._clock = clock
        self._last: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()

    def warn(self, key: tuple[str, str], message: str) -> None:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last[0] < self._every_s:
            self._last[key] = (last[0], last[1] + 1)
            return
        held_back = last[1] if last is not None else 0
        suffix = f" ({held_back} more like it since the last warning)" if held_back else ""
        log.warning("%s%s", message, suffix)
        self._last[key] = (now, 0)
        self._last.move_to_end(key)
        if len(self._last) > self._MAX_KEYS:
            self._last.popitem(last=False)


class CameraListener:
    """One aiohttp server for every camera of the booth: `start()` it inside the running loop, `stop()` it after."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        *,
        lanes_by_serial: Mapping[str, str],
        lanes_by_ip: Mapping[str, str],
        on_read: OnRead,
        pending: Pending | None = None,
        on_contact: OnContact | None = None,
        resend_cache: ResendCache | None = None,
        poll_hold_s: float = 0.0,
        warn_every_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"the camera listener's path must start with '/', not {path!r}")
        self.host = host
        self.path = path
        self.counters = ListenerCounters()
        self._port = port
        self._lanes_by_serial = dict(lanes_by_serial)
        self._lanes_by_ip = dict(lanes_by_ip)
        # commands are queued under the serial number the lane is configured with, whatever a camera claims
        self._serial_of_lane = {lane: serial for serial, lane in lanes_by_serial.items()}
        self._on_read = on_read
        self._pending = pending
        self._on_contact = on_contact
        self._resends = resend_cache if resend_cache is not None else ResendCache()
        self._answers: OrderedDict[tuple[str, int, int, int], asyncio.Future[dict[str, Any]]] = OrderedDict()
        self._poll_hold_s = poll_hold_s
        self._warnings = _WarnOnce(warn_every_s, clock)
        self._runner: web.AppRunner | None = None
        self._stopping = False

    # ------------------------------------------------------------ life cycle

    @property
    def port(self) -> int:
        """The port listened on (the real one once started, when 0 was asked for)."""
        return self._port

    @property
    def url(self) -> str:
        """Where a camera on this machine pushes (a wildcard host is reached at the loopback address)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)  # noqa: S104
        return f"http://{_host_port(host, self._port)}{self.path}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        """Listen; raises CameraListenerError (one sentence naming host:port) if the address cannot be used."""
        if self._runner is not None:
            raise RuntimeError("the camera listener is already running")
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", self.path, self._handle)
        app.router.add_route("*", "/{tail:.*}", self._wrong_path)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host or None, self._port).start()
        except OSError as exc:
            await runner.cleanup()
            raise _bind_error(self.host, self._port, exc) from None
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._stopping = False
        self._port = int(runner.addresses[0][1])
        log.info("camera listener at %s", self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping = True  # held comet polls answer now instead of keeping the shutdown waiting
        await runner.cleanup()

    # ------------------------------------------------------------ requests

    async def _handle(self, request: web.Request) -> web.Response:
        sender = request.remote or "an unknown address"
        content_type = request.content_type
        if request.method == "GET" or content_type in _FORM_TYPES:
            fields = await self._poll_fields(request)
            if fields is not None:
                return await self._poll(fields, sender)
            if content_type == "multipart/form-data":  # its body is consumed by the form reader: nothing left to parse
                return self._refuse_malformed(sender, None, "the form names no camera (no serialno or ipaddr)", 400)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._refuse_malformed(sender, None, f"the push body is larger than {MAX_BODY_BYTES} bytes", 413)
        if not body.strip():  # a bare keep-alive: nothing to parse, answer like a poll
            return await self._poll(dict(request.query), sender)
        try:
            push = parse_push(body, request.charset)
        except PushError as exc:
            return self._not_a_push(body, request.charset, sender, str(exc))
        lane = self._lane_of(push.serialno, push.ip, sender)
        if lane is None:
            return self._refuse_unknown(push.serialno or push.ip or sender, sender)
        return await self._read(lane, push)

    async def _wrong_path(self, request: web.Request) -> web.Response:
        # a camera configured with the wrong URL is a mistake an installer can fix: say so, once a minute
        sender = request.remote or "an unknown address"
        self.counters.refused += 1
        self._warnings.warn(
            (sender, "path"),
            f"a request from {sender} to {request.path} was refused: cameras push to {self.path}",
        )
        return _json_response(_refusal(f"no camera listener at {request.path}; push to {self.path}"), 404)

    async def _read(self, lane: str, push: PlatePush) -> web.Response:
        self._contact(lane, polled=False)
        key = push.resend_key
        if self._resends.seen(push):
            self.counters.resends += 1
            first = self._answers.get(key)
            # the first answer may have been lost (that is why cameras resend): the same answer again, plus anything
            # queued since; a read forgotten long ago gets the idle answer rather than a second decision
            answer = await asyncio.shield(first) if first is not None else idle_response()
            log.debug("camera %s resent plate id %s; answered as the first time", push.camera, push.plate_id)
            return _json_response(merge_responses(answer, *self._take_pending(lane, push.serialno)))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._remember(key, future)  # before any await: a resend arriving during on_read waits for this answer
        try:
            self.counters.reads += 1
            decided = await self._decide(lane, push)
            answer = merge_responses(decided, *self._take_pending(lane, push.serialno))
            if push.is_offline:
                answer = merge_responses(answer, _continue_offline(push.plate_id))
            future.set_result(answer)
        finally:
            if not future.done():  # cancelled (stop): resends waiting for it must not hang
                future.set_result(idle_response())
        return _json_response(answer)

    async def _decide(self, lane: str, push: PlatePush) -> dict[str, Any]:
        """What the lane answers; a lane that fails gets the idle answer (the gate stays shut) and one logged error."""
        try:
            decided = await self._on_read(lane, push)
            if decided is None:
                return idle_response()
            _check(decided)  # an answer that cannot be merged or sent fails here, as the lane's error
            return dict(decided)
        except Exception:
            self.counters.errors += 1
            log.exception(
                "lane %s failed to handle plate %s from camera %s (plate id %s); the camera got the idle answer",
                lane,
                push.plate or "(none read)",
                push.camera,
                push.plate_id,
            )
            return idle_response()

    def _remember(self, key: tuple[str, int, int, int], future: asyncio.Future[dict[str, Any]]) -> None:
        self._answers[key] = future
        if len(self._answers) > ANSWER_MEMORY:
            self._answers.popitem(last=False)

    # ------------------------------------------------------------ heartbeat / comet poll

    async def _poll_fields(self, request: web.Request) -> dict[str, str] | None:
        """The identifying fields of a heartbeat (form fields, or the query of a GET); None if it is not one."""
        fields = {key: str(value) for key, value in request.query.items()}
        if request.method != "GET":
            try:
                form = await request.post()
            except Exception:  # any broken form is simply not a poll; the body check below refuses it
                return None
            fields.update({key: value for key, value in form.items() if isinstance(value, str)})
        return fields if request.method == "GET" or "serialno" in fields or "ipaddr" in fields else None

    async def _poll(self, fields: Mapping[str, str], sender: str) -> web.Response:
        serialno, ip = fields.get("serialno") or None, fields.get("ipaddr") or None
        lane = self._lane_of(serialno, ip, sender)
        if lane is None:
            return self._refuse_unknown(serialno or ip or sender, sender)
        self.counters.polls += 1
        self._contact(lane, polled=True)
        commands = self._take_pending(lane, serialno)
        deadline = asyncio.get_running_loop().time() + self._poll_hold_s
        # comet mode: the camera polls again as soon as it has an answer, so holding an empty poll a while (if asked
        # to) spares both sides a busy loop while a queued command still goes out within one step
        while not commands and not self._stopping and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(_POLL_STEP_S)
            commands = self._take_pending(lane, serialno)
        return _json_response(merge_responses(*commands))

    # ------------------------------------------------------------ lanes, pending commands, refusals

    def _lane_of(self, serialno: str | None, ip: str | None, sender: str) -> str | None:
        if serialno and serialno in self._lanes_by_serial:
            return self._lanes_by_serial[serialno]
        for address in (ip, sender):
            if address and address in self._lanes_by_ip:
                lane = self._lanes_by_ip[address]
                if serialno:  # e.g. a replaced camera: it works, and the installer learns the configuration is stale
                    self._warnings.warn(
                        (serialno, "serial"),
                        f"camera {serialno} at {address} is not in the configuration; "
                        f"taken as lane {lane}'s camera by its address",
                    )
                return lane
        return None

    def _contact(self, lane: str, *, polled: bool) -> None:
        if self._on_contact is None:
            return
        try:
            self._on_contact(lane, polled)
        except Exception:  # whoever watches the cameras must not cost one its answer
            log.exception("noting contact with lane %s's camera failed", lane)

    def _take_pending(self, lane: str, serialno: str | None) -> list[Mapping[str, Any]]:
        if self._pending is None:
            return []
        camera = self._serial_of_lane.get(lane) or serialno or ""
        try:
            commands = list(self._pending(camera))
            for command in commands:
                _check(command)
        except Exception:  # a broken queue must not cost the camera its answer (nor the server its life)
            self.counters.errors += 1
            log.exception("the commands queued for camera %s (lane %s) cannot be sent; dropped", camera, lane)
            return []
        return commands

    def _refuse_unknown(self, camera: str, sender: str) -> web.Response:
        self.counters.refused += 1
        where = "" if camera == sender else f" at {sender}"
        self._warnings.warn(
            (camera, "unknown"),
            f"camera {camera}{where} is not configured for any lane; its push was refused "
            "(add its serial number or address to a lane's camera section)",
        )
        return _json_response(_refusal(f"camera {camera} is not configured for any lane"), 403)

    def _not_a_push(self, body: bytes, charset: str | None, sender: str, problem: str) -> web.Response:
        document = _json_object(body, charset)
        if document is not None and _OTHER_MESSAGES.intersection(document):
            self.counters.others += 1
            log.debug("%s message from %s answered idle", sorted(_OTHER_MESSAGES.intersection(document)), sender)
            return _json_response(idle_response())
        return self._refuse_malformed(sender, _claimed_serial(document), problem, 400)

    def _refuse_malformed(self, sender: str, serialno: str | None, problem: str, status: int) -> web.Response:
        self.counters.refused += 1
        camera = f"camera {serialno} at {sender}" if serialno else sender
        self._warnings.warn((serialno or sender, "malformed"), f"a push from {camera} was refused: {problem}")
        return _json_response(_refusal(problem), status)


# ---------------------------------------------------------------- helpers


def _refusal(reason: str) -> dict[str, Any]:
    """A refusal the camera understands ("no": gate shut) and a person reading a capture understands (`error`)."""
    return {**info_response(False), "error": reason}


def _continue_offline(plate_id: int) -> dict[str, Any]:
    # ZhenShi firmware pushes its next stored offline read only after this acknowledgement of the previous one
    return {RESPONSE_KEY: {"ContinuePushOffline": {"plateid": plate_id, "continue": 1}}}


def _check(answer: object) -> None:
    """Raises unless `answer` is a camera answer that merges with others and encodes (ValueError, TypeError…)."""
    if not isinstance(answer, Mapping):
        raise TypeError(f"a camera answer must be a mapping, not {type(answer).__name__}")
    encode_response(merge_responses(answer))
    encode_response(answer)


def _json_response(answer: Mapping[str, Any], status: int = 200) -> web.Response:
    return web.Response(body=encode_response(answer), status=status, content_type="application/json")


def _json_object(body: bytes, charset: str | None) -> dict[str, Any] | None:
    """The body as a JSON object if it is one (to name the camera or the message in a refusal), else None."""
    try:
        document = json.loads(decode_body(body, charset))
    except (ValueError, RecursionError):  # PushError and JSONDecodeError are ValueErrors
        return None
    return document if isinstance(document, dict) else None


def _claimed_serial(document: Mapping[str, Any] | None) -> str | None:
    alarm = document.get("AlarmInfoPlate") if document is not None else None
    serialno = alarm.get("serialno") if isinstance(alarm, dict) else None
    return serialno if isinstance(serialno, str) and serialno.isprintable() and 0 < len(serialno) <= 64 else None


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind_error(host: str, port: int, exc: OSError) -> CameraListenerError:
    """One sentence naming the address: 'the camera listener cannot listen on 0.0.0.0:8088: address already in use'."""
    if exc.errno is not None and exc.errno in errno.errorcode:
        reason = os.strerror(exc.errno)
    else:
        reason = exc.strerror or str(exc) or type(exc).__name__
    error = CameraListenerError(
        f"the camera listener cannot listen on {_host_port(host or '0.0.0.0', port)}: {reason[:1].lower()}{reason[1:]}"  # noqa: S104
    )
    error.errno = exc.errno
    return error
