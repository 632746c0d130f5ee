"""ZhenShi (Vzenith) licence-plate camera: parse its HTTP push, recognise resends, and build its answers.

The camera POSTs one JSON object per read (`lpr-camera.md` among the shared protocols), UTF-8 or, on some firmware, GBK.
`parse_push` turns the body into a frozen `PlatePush` or raises `PushError` (a ValueError) whose message is one sentence
naming what is wrong; nothing else escapes it, whatever the bytes. The answer to a push (or to a poll in "comet" mode)
is the command channel back to the camera: `info_response`, `serial_data_response`, `ioctrl_response`, `idle_response`,
combined with `merge_responses` and turned into bytes with `encode_response`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, Final

NO_PLATE: Final = "_无_"  # what the camera sends as the licence when it saw a vehicle but read no plate
RESPONSE_KEY: Final = "Response_AlarmInfoPlate"
_MAX_EPOCH_S: Final = 253_402_300_799  # 9999-12-31T23:59:59Z: beyond it datetime cannot represent the read time


class PushError(ValueError):
    """A camera push that cannot be used: the message is one sentence naming what is wrong."""


class PlateColour(IntEnum):
    """`colorType` of a read; codes the page does not list come out as UNKNOWN (the raw code is kept)."""

    UNKNOWN = 0
    BLUE = 1
    YELLOW = 2
    WHITE = 3
    BLACK = 4
    GREEN = 5
    YELLOW_GREEN = 6


class IoValue(IntEnum):
    """`ivs_ioctrl.value`: what the camera does with its IO output."""

    OFF = 0
    HOLD_ON = 1
    PULSE = 2


@dataclass(frozen=True, slots=True)
class PlatePush:
    """One plate read pushed by a camera. `plate` is None when the camera read no plate (`_无_`)."""

    plate: str | None
    colour: PlateColour
    colour_code: int
    confidence: int
    plate_id: int
    read_at: datetime  # when the camera read it (its own clock), timezone-aware UTC
    timestamp: tuple[int, int]  # the camera's Timeval (sec, usec) as sent: part of the resend key
    serialno: str | None
    ip: str | None
    channel: int
    device_name: str
    plate_type: int
    direction: int
    trigger_type: int
    is_offline: bool  # stored by the camera while the booth was unreachable, sent later
    location: tuple[int, int, int, int] | None  # plate rectangle (left, top, right, bottom) in the picture
    image_jpeg: bytes | None = field(default=None, repr=False)
    plate_image_jpeg: bytes | None = field(default=None, repr=False)

    @property
    def has_plate(self) -> bool:
        return self.plate is not None

    @property
    def camera(self) -> str:
        """How the camera is named in messages and keys: its serial number, else its address."""
        return self.serialno or self.ip or ""

    @property
    def resend_key(self) -> tuple[str, int, int, int]:
        """The same read sent again carries the same plate id and timestamp (the page's rule), per camera."""
        return (self.camera, self.plate_id, *self.timestamp)


# ---------------------------------------------------------------- parsing


def decode_body(body: bytes, charset: str | None = None) -> str:
    """The push body as text, whether the firmware sent UTF-8 or GBK (a declared charset is only a fallback hint).

    Valid UTF-8 wins, except in one trap: GBK text can be valid UTF-8 by accident ("鲁" is C2 B3 in GBK, which UTF-8
    reads as "³"). Such accidents only ever produce two-byte UTF-8 characters (below U+0800), while any Chinese text
    in real UTF-8 has three-byte ones, so a UTF-8 reading with Latin-looking characters and no CJK at all gives way to
    a GBK reading that is entirely CJK.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None and (text.isascii() or any(ord(char) >= 0x800 for char in text)):
        return text
    for encoding in dict.fromkeys([*([charset] if charset else []), "gbk", "gb18030"]):
        try:
            other = body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if text is None or _all_cjk(other):
            return other
    if text is not None:
        return text
    raise PushError("the push body is neither UTF-8 nor GBK text")


def _all_cjk(text: str) -> bool:
    """Only ASCII and CJK or full-width characters (no private-use ones): how a GBK push reads when decoded right."""
    return all(ord(char) < 0x80 or (ord(char) >= 0x2E80 and not 0xE000 <= ord(char) <= 0xF8FF) for char in text)


def parse_push(body: bytes, charset: str | None = None) -> PlatePush:
    """Parse a ZhenShi plate push; raises PushError (and nothing else) for anything malformed."""
    text = decode_body(body, charset)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PushError(f"the push body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (ValueError, RecursionError):  # integers too long to convert, nesting too deep for the decoder
        raise PushError("the push body is JSON this parser refuses (too deeply nested or too long a number)") from None
    if not isinstance(document, dict):
        raise PushError(f"the push body must be a JSON object, not {_kind(document)}")
    return _push_from(document)


def _push_from(document: Mapping[str, Any]) -> PlatePush:
    alarm = _object(document, "AlarmInfoPlate", "")
    result = _object(_object(alarm, "result", "AlarmInfoPlate"), "PlateResult", "AlarmInfoPlate.result")
    where = "AlarmInfoPlate.result.PlateResult"
    serialno = _text(alarm, "serialno", "AlarmInfoPlate", default="") or None
    ip = _text(alarm, "ipaddr", "AlarmInfoPlate", default="") or None
    if serialno is None and ip is None:
        raise PushError("the push names its camera neither by AlarmInfoPlate.serialno nor by AlarmInfoPlate.ipaddr")
    colour_code = _integer(result, "colorType", where)
    sec, usec = _timeval(result, where)
    return PlatePush(
        plate=_plate(_text(result, "license", where)),
        colour=_colour(colour_code),
        colour_code=colour_code,
        confidence=_integer(result, "confidence", where),
        plate_id=_integer(result, "plateid", where),
        read_at=datetime.fromtimestamp(sec, tz=UTC) + timedelta(microseconds=usec),
        timestamp=(sec, usec),
        serialno=serialno,
        ip=ip,
        channel=_integer(alarm, "channel", "AlarmInfoPlate", default=0),
        device_name=_text(alarm, "deviceName", "AlarmInfoPlate", default=""),
        plate_type=_integer(result, "type", where, default=0),
        direction=_integer(result, "direction", where, default=0),
        trigger_type=_integer(result, "triggerType", where, default=0),
        is_offline=_integer(result, "isoffline", where, default=0) != 0,
        location=_location(result, where),
        image_jpeg=_image(result, "imageFile", where),
        plate_image_jpeg=_image(result, "imageFragmentFile", where),
    )


def _colour(code: int) -> PlateColour:
    try:
        return PlateColour(code)
    except ValueError:  # newer firmware adds colours: the read still counts, the raw code is kept beside it
        return PlateColour.UNKNOWN


def _plate(licence: str) -> str | None:
    licence = licence.strip()
    return None if licence in ("", NO_PLATE) else licence  # an empty licence means no plate read, as _无_ does


def _timeval(result: Mapping[str, Any], where: str) -> tuple[int, int]:
    timeval = _object(_object(result, "timeStamp", where), "Timeval", f"{where}.timeStamp")
    path = f"{where}.timeStamp.Timeval"
    sec = _integer(timeval, "sec", path)
    usec = _integer(timeval, "usec", path, default=0)
    if not 0 <= sec <= _MAX_EPOCH_S:
        raise PushError(f"{path}.sec must be seconds since 1970 (0 to {_MAX_EPOCH_S}), not {sec}")
    if not 0 <= usec < 1_000_000:
        raise PushError(f"{path}.usec must be 0 to 999999 microseconds, not {usec}")
    return sec, usec


def _location(result: Mapping[str, Any], where: str) -> tuple[int, int, int, int] | None:
    if result.get("location") is None:
        return None
    rect = _object(_object(result, "location", where), "RECT", f"{where}.location")
    path = f"{where}.location.RECT"
    left, top, right, bottom = (_integer(rect, side, path) for side in ("left", "top", "right", "bottom"))
    return left, top, right, bottom


def _image(result: Mapping[str, Any], key: str, where: str) -> bytes | None:
    encoded = _text(result, key, where, default="")
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        return None  # a damaged picture must not cost the plate read itself: keep the read, drop the picture


def _object(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    path = f"{where}.{key}" if where else key
    value = parent.get(key)
    if value is None:
        raise PushError(f"the push has no {path}")
    if not isinstance(value, dict):
        raise PushError(f"{path} must be a JSON object, not {_kind(value)}")
    return value


def _integer(parent: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = parent.get(key)
    if value is None and default is not None:
        return default
    if value is None:
        raise PushError(f"the push has no {where}.{key}")
    if isinstance(value, bool) or not isinstance(value, int):  # bool is an int to Python, not to the camera
        raise PushError(f"{where}.{key} must be an integer, not {_kind(value)}")
    return value


def _text(parent: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = parent.get(key)
    if value is None and default is not None:
        return default
    if value is None:
        raise PushError(f"the push has no {where}.{key}")
    if not isinstance(value, str):
        raise PushError(f"{where}.{key} must be a string, not {_kind(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: it would break every later write of the text
        raise PushError(f"{where}.{key} is not valid Unicode text") from None
    return value


_JSON_KINDS: Final[dict[type, str]] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a fractional number",
}


def _kind(value: object) -> str:
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)


# ---------------------------------------------------------------- resends


class ResendCache:
    """Remembers the last `capacity` reads so a camera's resend (same camera, plate id and timestamp) is recognised."""

    def __init__(self, capacity: int = 1024) -> None:
        if capacity < 1:
            raise ValueError("a resend cache needs room for at least one read")
        self._capacity = capacity
        self._keys: OrderedDict[tuple[str, int, int, int], None] = OrderedDict()

    def seen(self, push: PlatePush) -> bool:
        """True if this read was seen before; otherwise remember it and return False."""
        key = push.resend_key
        if key in self._keys:
            self._keys.move_to_end(key)  # a camera that keeps resending keeps its read remembered
            return True
        self._keys[key] = None
        if len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
        return False

    def __len__(self) -> int:
        return len(self._keys)


# ---------------------------------------------------------------- answers to the camera


def info_response(
    open_gate: bool, *, io: int = 0, serial_data: Sequence[bytes] = (), serial_channel: int = 0
) -> dict[str, Any]:
    """`"info":"ok"` makes the camera pulse its IO output (gate opens), `"no"` keeps it shut; bytes ride along.

    `channelNum` is which IO output pulses (ZhenShi firmware reads it so), not the video channel of the push.
    """
    body: dict[str, Any] = {"info": "ok" if open_gate else "no", "channelNum": io}
    if serial_data:
        body["serialData"] = [serial_chunk(data, serial_channel) for data in serial_data]
    return {RESPONSE_KEY: body}


def serial_chunk(data: bytes, serial_channel: int = 0) -> dict[str, Any]:
    """One `serialData` entry: bytes the camera writes to its RS485 port (e.g. a display-board frame)."""
    if not data:
        raise ValueError("a serialData entry needs at least one byte")
    return {"serialChannel": serial_channel, "data": base64.b64encode(data).decode("ascii"), "dataLen": len(data)}


def serial_data_response(*data: bytes, serial_channel: int = 0) -> dict[str, Any]:
    """Bytes for the camera's RS485 port with no gate decision (e.g. a display update on a poll)."""
    return {RESPONSE_KEY: {"serialData": [serial_chunk(chunk, serial_channel) for chunk in data]}}


def ioctrl_response(io: int = 0, value: IoValue = IoValue.PULSE, delay_ms: int = 500) -> dict[str, Any]:
    """An IO command on its own: by default pulse output `io` for `delay_ms` (opens a gate wired to it)."""
    if not 0 <= io <= 7:
        raise ValueError(f"camera IO output {io} does not exist (0 to 7)")
    if delay_ms < 0:
        raise ValueError(f"an IO pulse cannot last {delay_ms} ms")
    return {RESPONSE_KEY: {"ivs_ioctrl": {"io": io, "value": int(IoValue(value)), "delay": delay_ms}}}


def idle_response() -> dict[str, Any]:
    """The answer to a comet-mode poll when nothing is queued."""
    return {"status": "ok"}


def merge_responses(*responses: Mapping[str, Any]) -> dict[str, Any]:
    """One answer carrying every command: serialData lists are joined, other keys are taken from the last one."""
    body: dict[str, Any] = {}
    for response in responses:
        for key, value in response.get(RESPONSE_KEY, {}).items():
            if key == "serialData":
                body["serialData"] = [*body.get("serialData", []), *value]
            else:
                body[key] = value
    return {RESPONSE_KEY: body} if body else idle_response()


def encode_response(response: Mapping[str, Any]) -> bytes:
    """The HTTP body for an answer: compact ASCII JSON, which every firmware reads whatever charset it pushes in."""
    return json.dumps(response, separators=(",", ":"), ensure_ascii=True).encode("ascii")
