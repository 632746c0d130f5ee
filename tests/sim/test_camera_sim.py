"""The camera simulator: the protocol page's push body, what it records of the answers, and its command line."""

from __future__ import annotations

import asyncio
import io
import json
import random
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from booth_app.core.plates import is_valid, normalise
from booth_app.lanes.camera_listener import CameraListener
from booth_app.sim.camera import SimCamera, car_pictures, main, paint_car, random_plate
from drivers.zhenshi import NO_PLATE, PlateColour, PlatePush, idle_response, info_response, parse_push

JPEG = b"\xff\xd8\xff\xe0 tiny \xff\xd9"


class Recorder:
    def __init__(self) -> None:
        self.reads: list[tuple[str, PlatePush]] = []

    async def on_read(self, lane: str, push: PlatePush) -> Mapping[str, Any] | None:
        self.reads.append((lane, push))
        return info_response(push.plate is not None)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def listener(recorder: Recorder) -> AsyncIterator[CameraListener]:
    server = CameraListener(
        "127.0.0.1", 0, "/lpr/zhenshi", lanes_by_serial={"sim-1": "in1"}, lanes_by_ip={}, on_read=recorder.on_read
    )
    await server.start()
    yield server
    await server.stop()


def body_of(camera: SimCamera, plate: str | None, **changes: Any) -> bytes:
    options: dict[str, Any] = {
        "colour": PlateColour.YELLOW,
        "confidence": 88,
        "plate_id": 5,
        "image_jpeg": None,
        "offline": False,
        "at": 1_621_502_665.25,
    }
    return camera.body(plate, **{**options, **changes})


def test_the_body_is_the_protocol_pages_sample() -> None:
    camera = SimCamera("http://x", serialno="e1b2c3d4", ip="192.0.2.10")
    document = json.loads(body_of(camera, "京A12345"))
    alarm = document["AlarmInfoPlate"]
    assert (alarm["channel"], alarm["ipaddr"], alarm["serialno"]) == (0, "192.0.2.10", "e1b2c3d4")
    result = alarm["result"]["PlateResult"]
    assert result["license"] == "京A12345"
    assert (result["colorType"], result["confidence"], result["plateid"], result["isoffline"]) == (2, 88, 5, 0)
    assert result["timeStamp"] == {"Timeval": {"sec": 1621502665, "usec": 250000}}
    assert result["location"] == {"RECT": {"left": 0, "top": 0, "right": 0, "bottom": 0}}
    assert "imageFile" not in result

    push = parse_push(body_of(camera, "京A12345", image_jpeg=JPEG))
    assert (push.plate, push.colour, push.plate_id, push.image_jpeg) == ("京A12345", PlateColour.YELLOW, 5, JPEG)


def test_no_plate_is_sent_as_wu_and_gbk_is_gbk() -> None:
    camera = SimCamera("http://x", serialno="e1", charset="gbk")
    body = body_of(camera, None)
    assert NO_PLATE.encode("gbk") in body
    assert json.loads(body.decode("gbk"))["AlarmInfoPlate"]["result"]["PlateResult"]["license"] == NO_PLATE
    assert parse_push(body).plate is None
    with pytest.raises(ValueError, match="UTF-8 or GBK"):
        SimCamera("http://x", serialno="e1", charset="latin-1")  # type: ignore[arg-type]


async def test_it_records_answers_and_counts_opens(listener: CameraListener, recorder: Recorder) -> None:
    async with SimCamera(listener.url, serialno="sim-1") as camera:
        assert await camera.push("京A12345") == info_response(True)
        assert await camera.push(None) == info_response(False)
        assert await camera.resend_last() == info_response(False)
    assert camera.answers == [info_response(True), info_response(False), info_response(False)]
    assert camera.statuses == [200, 200, 200]
    assert camera.opened == 1
    assert [push.plate_id for _, push in recorder.reads] == [1, 2]  # numbered on, the resend not handed on
    assert await camera.poll() == idle_response()  # without `async with`: a connection per request


async def test_resend_before_any_push_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="nothing to resend"):
        await SimCamera("http://127.0.0.1:9/", serialno="x").resend_last()


def test_random_plates_are_plausible() -> None:
    rng = random.Random(7)
    plates = [random_plate(rng) for _ in range(200)]
    assert all(is_valid(normalise(plate)) for plate, _ in plates)
    assert {colour for _, colour in plates} == {PlateColour.BLUE, PlateColour.GREEN}
    assert all(len(plate) == 8 for plate, colour in plates if colour is PlateColour.GREEN)


async def test_main_pushes_each_plate_and_prints_each_answer(
    listener: CameraListener, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--to", listener.url, "--serialno", "sim-1", "--plate", "京A12345", "--plate", NO_PLATE]
    assert await asyncio.to_thread(main, argv) == 0
    assert [push.plate for _, push in recorder.reads] == ["京A12345", None]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("京A12345 -> 200 ")
    assert json.loads(lines[0].split(" ", 3)[3]) == info_response(True)


async def test_main_pushes_random_plates_every_so_often(listener: CameraListener, recorder: Recorder) -> None:
    argv = ["--to", listener.url, "--serialno", "sim-1", "--every", "0.01", "--count", "3", "--charset", "gbk"]
    assert await asyncio.to_thread(main, argv) == 0
    assert len(recorder.reads) == 3
    assert all(push.plate is not None and is_valid(push.plate) for _, push in recorder.reads)


def test_main_says_in_one_line_when_nobody_listens(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/lpr/zhenshi"
    assert main(["--to", url, "--serialno", "x", "--plate", "京A12345"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"camera simulator: cannot push to {url}")


def test_main_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--charset", "latin-1"]) == 2
    assert main(["--every", "-1"]) == 2
    capsys.readouterr()


# ---------------------------------------------------------------- pictures


def decoded(jpeg: bytes) -> npt.NDArray[np.uint8]:
    """The picture as RGB pixels, through FFmpeg's JPEG decoder (fails on anything that is not a whole JPEG)."""
    assert jpeg[:2] == b"\xff\xd8"
    assert jpeg[-2:] == b"\xff\xd9"
    with av.open(io.BytesIO(jpeg), format="jpeg_pipe") as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


async def test_each_push_carries_a_scene_and_a_plate_crop(listener: CameraListener, recorder: Recorder) -> None:
    async with SimCamera(listener.url, serialno="sim-1") as camera:
        await camera.push("京A12345", colour=PlateColour.YELLOW)
    [(_, push)] = recorder.reads
    assert push.image_jpeg is not None
    assert push.plate_image_jpeg is not None
    scene, crop = decoded(push.image_jpeg), decoded(push.plate_image_jpeg)
    assert scene.shape == (360, 640, 3)
    assert push.location is not None
    left, top, right, bottom = push.location
    assert 0 <= left < right <= 640
    assert 0 <= top < bottom <= 360
    assert crop.shape == (bottom - top, right - left, 3)
    plate_in_scene = scene[top:bottom, left:right].astype(int)
    assert np.abs(plate_in_scene - crop.astype(int)).mean() < 12  # the crop is the plate where the scene has it


@pytest.mark.parametrize(
    ("colour", "looks_right"),
    [
        (PlateColour.BLUE, lambda r, g, b: b > r + 100 and b > g + 60),
        (PlateColour.YELLOW, lambda r, g, b: r > 180 and g > 150 and b < 90),
        (PlateColour.GREEN, lambda r, g, b: g > r + 60 and g > b + 40),
        (PlateColour.WHITE, lambda r, g, b: min(r, g, b) > 200),
        (PlateColour.BLACK, lambda r, g, b: max(r, g, b) < 60),
    ],
)
def test_the_crop_has_the_plates_colour(colour: PlateColour, looks_right: Callable[[int, int, int], bool]) -> None:
    crop = decoded(paint_car("京A12345", colour).plate or b"")
    background = crop[-8:-4, 4:10].reshape(-1, 3).mean(axis=0)  # inside the rim, below and left of the characters
    assert looks_right(*(int(v) for v in background)), background


async def test_pictures_are_painted_once_per_plate_and_colour() -> None:
    first = await car_pictures("京B54321", PlateColour.BLUE)
    assert await car_pictures("京B54321", PlateColour.BLUE) is first
    yellow = await car_pictures("京B54321", PlateColour.YELLOW)
    assert yellow.plate != first.plate
    assert yellow.full != first.full


async def test_no_plate_means_a_scene_without_a_crop_and_pictures_can_be_off(
    listener: CameraListener, recorder: Recorder
) -> None:
    async with SimCamera(listener.url, serialno="sim-1") as camera:
        await camera.push(None)
    async with SimCamera(listener.url, serialno="sim-1", pictures=False) as camera:
        await camera.push("京A12345")
    (_, unplated), (_, bare) = recorder.reads
    assert unplated.image_jpeg is not None
    assert decoded(unplated.image_jpeg).shape == (360, 640, 3)
    assert unplated.plate_image_jpeg is None
    assert (bare.image_jpeg, bare.plate_image_jpeg, bare.location) == (None, None, (0, 0, 0, 0))


async def test_a_misread_shows_the_true_plate_and_odd_colours_still_paint(
    listener: CameraListener, recorder: Recorder
) -> None:
    async with SimCamera(listener.url, serialno="sim-1") as camera:
        await camera.push("京A1234S", shows="京A12345")
        await camera.push("京A12345", colour=9)  # a code newer firmware might send
    (_, misread), (_, odd) = recorder.reads
    assert misread.plate == "京A1234S"
    assert misread.image_jpeg == paint_car("京A12345", PlateColour.BLUE).full
    assert odd.plate_image_jpeg == paint_car("京A12345", PlateColour.UNKNOWN).plate
    assert odd.plate_image_jpeg is not None
    assert decoded(odd.plate_image_jpeg).shape[0] == 56
