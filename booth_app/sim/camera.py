"""A ZhenShi licence-plate camera that pushes reads, for the demo and the tests (`lpr-camera.md`).

`SimCamera` POSTs the push body printed on the protocol page (UTF-8, or GBK like some firmware) and keeps every answer
it got, counting the ones that would have opened its gate (`"info":"ok"` or an IO pulse) and collecting the bytes
meant for the display board on its RS485 port. Like the firmware with pictures switched on, each push carries a small
JPEG of the scene and one of the plate (`paint_car`: numpy and PyAV's mjpeg encoder, painted once per plate and
colour, on a worker thread so the event loop the booth shares in the tests never waits for it). Command line:
`booth-app sim camera --to URL --serialno S [--plate P]… [--every SECONDS] [--count N] [--charset utf-8|gbk]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hashlib
import itertools
import json
import random
import sys
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import TracebackType
from typing import Any, Final, Literal

import av
import httpx
import numpy as np
import numpy.typing as npt

from booth_app.core.plates import PlateKind, classify, normalise
from booth_app.sim.camera_video import _text_mask
from drivers.zhenshi import NO_PLATE, RESPONSE_KEY, IoValue, PlateColour

DEFAULT_URL: Final = "http://127.0.0.1:8088/lpr/zhenshi"  # camera_listener's defaults in the configuration
Charset = Literal["utf-8", "gbk"]

_PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTERS: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # plates use no I or O: they look like 1 and 0
_DIGITS: Final = "0123456789"

Rect = tuple[int, int, int, int]  # left, top, right, bottom


class SimCamera:
    """One camera pushing to `url`; use `async with` to keep one connection open, as the firmware does."""

    def __init__(
        self,
        url: str,
        *,
        serialno: str,
        ip: str = "127.0.0.1",
        charset: Charset = "utf-8",
        timeout_s: float = 5.0,
        pictures: bool = True,
    ) -> None:
        if charset not in ("utf-8", "gbk"):
            raise ValueError(f"a ZhenShi camera pushes UTF-8 or GBK, not {charset!r}")
        self.url = url
        self.serialno = serialno
        self.ip = ip
        self.charset: Charset = charset
        self.pictures = pictures  # paint and send the scene and the plate crop with each push
        self.answers: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # HTTP status of each answer, beside `answers`
        self.serial_data: list[bytes] = []  # bytes the booth sent for the camera's RS485 port, in order
        self.opened = 0  # answers that would have pulsed the gate output
        self._timeout_s = timeout_s
        self._plate_ids = itertools.count(1)
        self._last_body: bytes | None = None
        self.last_sent: str | None = None  # the plate of the last push that left the camera ("" for no plate)
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> SimCamera:
        self._client = httpx.AsyncClient(timeout=self._timeout_s, trust_env=False)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # ------------------------------------------------------------ pushes

    async def push(
        self,
        plate: str | None,
        *,
        colour: PlateColour | int = PlateColour.BLUE,
        confidence: int = 92,
        plate_id: int | None = None,
        image_jpeg: bytes | None = None,
        plate_image_jpeg: bytes | None = None,
        offline: bool = False,
        at: float | None = None,
        shows: str | None = None,
    ) -> dict[str, Any]:
        """Push one read (None = the camera saw a vehicle but read no plate) and return the booth's answer.

        Pictures not given are painted (if `pictures`) showing `shows`, the plate really on the car (default: the
        plate read; a misread shows the true plate in its pictures, as a real camera's would).
        """
        location = None
        if self.pictures and image_jpeg is None and plate_image_jpeg is None:
            painted = await car_pictures(shows if shows is not None else plate, _known_colour(colour))
            image_jpeg, plate_image_jpeg, location = painted.full, painted.plate, painted.location
        body = self.body(
            plate,
            colour=colour,
            confidence=confidence,
            plate_id=next(self._plate_ids) if plate_id is None else plate_id,
            image_jpeg=image_jpeg,
            plate_image_jpeg=plate_image_jpeg,
            location=location,
            offline=offline,
            at=time.time() if at is None else at,
        )
        self._last_body, self.last_sent = body, plate or ""
        return await self._post(body, {"Content-Type": f"application/json; charset={self.charset}"})

    async def resend_last(self) -> dict[str, Any]:
        """Send the last push again, byte for byte, as the firmware does when an answer did not arrive."""
        if self._last_body is None:
            raise RuntimeError("this camera has pushed nothing yet, so there is nothing to resend")
        return await self._post(self._last_body, {"Content-Type": f"application/json; charset={self.charset}"})

    async def poll(self) -> dict[str, Any]:
        """One comet poll / heartbeat: the registration form the firmware sends, answered with queued commands."""
        fields = {"device_name": "IVS", "ipaddr": self.ip, "port": "80", "serialno": self.serialno, "channel_num": "1"}
        return await self._post(None, {}, form=fields)

    def body(
        self,
        plate: str | None,
        *,
        colour: PlateColour | int,
        confidence: int,
        plate_id: int,
        image_jpeg: bytes | None,
        offline: bool,
        at: float,
        plate_image_jpeg: bytes | None = None,
        location: Rect | None = None,
    ) -> bytes:
        """The push exactly as the protocol page prints it, encoded in this camera's charset."""
        left, top, right, bottom = location or (0, 0, 0, 0)
        result: dict[str, Any] = {
            "license": NO_PLATE if plate is None else plate,
            "colorType": int(colour) if plate is not None else int(PlateColour.UNKNOWN),
            "type": 1,
            "confidence": confidence if plate is not None else 0,
            "direction": 0,
            "triggerType": 8,
            "plateid": plate_id,
            "timeStamp": {"Timeval": {"sec": int(at), "usec": int(at * 1_000_000) % 1_000_000}},
            "location": {"RECT": {"left": left, "top": top, "right": right, "bottom": bottom}},
            "isoffline": int(offline),
        }
        if image_jpeg is not None:  # optional in the format; the booth keeps it when it comes
            result["imageFile"] = base64.b64encode(image_jpeg).decode("ascii")
        if plate_image_jpeg is not None:
            result["imageFragmentFile"] = base64.b64encode(plate_image_jpeg).decode("ascii")
        alarm = {
            "channel": 0,
            "deviceName": "IVS",
            "ipaddr": self.ip,
            "serialno": self.serialno,
            "result": {"PlateResult": result},
        }
        return json.dumps({"AlarmInfoPlate": alarm}, ensure_ascii=False).encode(self.charset)

    # ------------------------------------------------------------ answers

    async def _post(
        self, body: bytes | None, headers: Mapping[str, str], form: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        if self._client is not None:
            response = await self._client.post(self.url, content=body, headers=headers, files=_form_parts(form))
        else:
            async with httpx.AsyncClient(timeout=self._timeout_s, trust_env=False) as client:
                response = await client.post(self.url, content=body, headers=headers, files=_form_parts(form))
        try:
            parsed = response.json()
        except ValueError:  # not JSON (a proxy's error page…): kept as text so a test can show it
            parsed = response.text
        answer: dict[str, Any] = parsed if isinstance(parsed, dict) else {"unparsed": parsed}
        self._record(response.status_code, answer)
        return answer

    def _record(self, status: int, answer: dict[str, Any]) -> None:
        self.statuses.append(status)
        self.answers.append(answer)
        commands = answer.get(RESPONSE_KEY)
        if not isinstance(commands, dict):
            return
        ioctrl = commands.get("ivs_ioctrl")
        pulses = isinstance(ioctrl, dict) and ioctrl.get("value") in (IoValue.HOLD_ON, IoValue.PULSE)
        if status == 200 and (commands.get("info") == "ok" or pulses):
            self.opened += 1
        for chunk in commands.get("serialData") or []:
            try:
                self.serial_data.append(base64.b64decode(chunk["data"], validate=True))
            except (KeyError, TypeError, binascii.Error):
                continue  # a malformed entry is what a real camera would drop too


def _form_parts(form: Mapping[str, str] | None) -> dict[str, tuple[None, str]] | None:
    """The heartbeat goes as multipart/form-data text fields, as the firmware sends it."""
    return None if form is None else {name: (None, value) for name, value in form.items()}


# ---------------------------------------------------------------- pictures

PICTURE_SIZE: Final = (640, 360)  # the scene; enough for the cashier to tell one car from another
_PLATE_LOOKS: Final[Mapping[PlateColour, tuple[tuple[int, int, int], tuple[int, int, int]]]] = {
    PlateColour.BLUE: ((20, 70, 200), (250, 250, 250)),  # background, characters
    PlateColour.YELLOW: ((245, 195, 20), (15, 15, 15)),
    PlateColour.WHITE: ((240, 240, 240), (15, 15, 15)),
    PlateColour.BLACK: ((20, 20, 20), (250, 250, 250)),
    PlateColour.GREEN: ((70, 190, 100), (15, 15, 15)),
    PlateColour.YELLOW_GREEN: ((170, 205, 40), (15, 15, 15)),
}
_BODIES: Final = ((180, 180, 185), (40, 40, 45), (150, 30, 35), (235, 235, 230), (60, 80, 120), (110, 110, 105))
_PAINTED_MAX: Final = 512
_painted: OrderedDict[tuple[str | None, PlateColour], CarPictures] = OrderedDict()


@dataclass(frozen=True, slots=True)
class CarPictures:
    """A push's pictures: the scene, the plate crop (None with no plate) and where the plate is in the scene."""

    full: bytes
    plate: bytes | None
    location: Rect | None


def _known_colour(colour: PlateColour | int) -> PlateColour:
    try:
        return PlateColour(colour)
    except ValueError:  # a code newer firmware uses: painted like an unknown one
        return PlateColour.UNKNOWN


async def car_pictures(plate: str | None, colour: PlateColour) -> CarPictures:
    """`paint_car`, remembered per plate and colour, and painted off the event loop."""
    key = (plate, colour)
    painted = _painted.get(key)
    if painted is None:
        painted = await asyncio.to_thread(paint_car, plate, colour)
        _painted[key] = painted
        if len(_painted) > _PAINTED_MAX:
            _painted.popitem(last=False)
    return painted


def paint_car(plate: str | None, colour: PlateColour) -> CarPictures:
    """A car in the lane at dusk, its body colour picked by the plate, with the plate painted where a camera sees it.

    The plate's background follows its colour (blue, yellow, white, black, green; unknown ones are blue); only the
    characters the synthetic font has are drawn (other provinces show as a box).
    """
    width, height = PICTURE_SIZE
    ramp = np.linspace(55, 120, height, dtype=np.float32)[:, None, None]  # darker sky, lighter road
    scene = np.broadcast_to(ramp * np.array([0.9, 1.0, 1.1], dtype=np.float32), (height, width, 3)).astype(np.uint8)
    pick = hashlib.sha1((plate or "").encode(), usedforsecurity=False).digest()[0]
    scene[120:330, 150:490] = _BODIES[pick % len(_BODIES)]
    scene[135:205, 190:450] = (30, 35, 45)  # the windscreen
    scene[300:330, 150:490] = (25, 25, 25)  # the bumper
    if not plate:
        return CarPictures(_jpeg(scene), None, None)
    crop = _plate_crop(plate, colour)
    crop_h, crop_w = crop.shape[:2]
    left, top = (width - crop_w) // 2, 300 - crop_h
    scene[top : top + crop_h, left : left + crop_w] = crop
    return CarPictures(_jpeg(scene), _jpeg(crop), (left, top, left + crop_w, top + crop_h))


def _plate_crop(plate: str, colour: PlateColour) -> npt.NDArray[np.uint8]:
    background, ink = _PLATE_LOOKS.get(colour, _PLATE_LOOKS[PlateColour.BLUE])
    mask = _text_mask(plate, 3)[:, :300]
    height, width = 56, max(176, mask.shape[1] + 24 + mask.shape[1] % 2)  # even sides: the JPEG is 4:2:0
    crop = np.empty((height, width, 3), dtype=np.uint8)
    crop[:] = background
    if colour is PlateColour.GREEN:  # new-energy plates fade from white-green at the top
        crop[:] = np.linspace((200, 235, 205), background, height, dtype=np.float32)[:, None, :].astype(np.uint8)
    crop[:2], crop[-2:], crop[:, :2], crop[:, -2:] = ink, ink, ink, ink  # the rim
    top, left = (height - mask.shape[0]) // 2, (width - mask.shape[1]) // 2
    crop[top : top + mask.shape[0], left : left + mask.shape[1]][mask] = ink
    return crop


def _jpeg(rgb: npt.NDArray[np.uint8]) -> bytes:
    height, width = rgb.shape[:2]
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="yuvj420p")
    return b"".join(bytes(packet) for packet in [*codec.encode(frame), *codec.encode(None)])


# ---------------------------------------------------------------- command line


def random_plate(rng: random.Random) -> tuple[str, PlateColour]:
    """A plausible plate: mostly blue 7-character ones, some green new-energy 8-character ones."""
    province, city = rng.choice(_PROVINCES), rng.choice(_LETTERS)
    if rng.random() < 0.2:
        return f"{province}{city}{rng.choice('DF')}{''.join(rng.choices(_DIGITS, k=5))}", PlateColour.GREEN
    return f"{province}{city}{''.join(rng.choices(_LETTERS + _DIGITS, k=5))}", PlateColour.BLUE


def _colour_of(plate: str) -> PlateColour:
    # new-energy plates are green; every other shape is pushed as the common blue one
    return PlateColour.GREEN if classify(normalise(plate)) is PlateKind.NEW_ENERGY else PlateColour.BLUE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="booth-app sim camera", description="Push ZhenShi plate reads to a camera listener and print each answer."
    )
    parser.add_argument("--to", default=DEFAULT_URL, metavar="URL", help=f"the listener (default {DEFAULT_URL})")
    parser.add_argument("--serialno", default="sim-camera", help="the camera's serial number (default sim-camera)")
    parser.add_argument("--ip", default="127.0.0.1", help="the address the push claims (default 127.0.0.1)")
    parser.add_argument(
        "--plate", action="append", default=[], help=f"a plate to push, repeatable ({NO_PLATE} = no plate read)"
    )
    parser.add_argument(
        "--every", type=float, metavar="SECONDS", help="seconds between pushes; with no --plate, random plates"
    )
    parser.add_argument("--count", type=int, metavar="N", help="with random plates, stop after N (default: Ctrl+C)")
    parser.add_argument("--charset", choices=["utf-8", "gbk"], default="utf-8", help="body encoding (default utf-8)")
    return parser


async def _run(args: argparse.Namespace) -> None:
    plates: list[tuple[str | None, PlateColour]]
    rng = random.Random()  # noqa: S311 - made-up plates, not secrets
    if args.plate:
        plates = [(None if plate == NO_PLATE else plate, _colour_of(plate)) for plate in args.plate]
    else:
        plates = [random_plate(rng) for _ in range(args.count if args.count is not None else 1)]
    endless = not args.plate and args.count is None and args.every is not None
    async with SimCamera(args.to, serialno=args.serialno, ip=args.ip, charset=args.charset) as camera:
        for n in itertools.count():
            plate, colour = plates[n] if n < len(plates) else random_plate(rng)
            answer = await camera.push(plate, colour=colour)
            print(f"{plate or NO_PLATE} -> {camera.statuses[-1]} {json.dumps(answer, ensure_ascii=False)}", flush=True)
            if n + 1 >= len(plates) and not endless:
                return
            if args.every:
                await asyncio.sleep(args.every)


def main(argv: list[str]) -> int:
    """`booth-app sim camera …`: 0 when every push was answered, 1 if the listener could not be reached, 2 for usage."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help or a bad option: argparse has already printed why
        return exc.code if isinstance(exc.code, int) else 2
    if args.every is not None and args.every < 0:
        print("camera simulator: --every must be 0 or more seconds", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 0
    except httpx.HTTPError as exc:
        print(f"camera simulator: cannot push to {args.to}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
