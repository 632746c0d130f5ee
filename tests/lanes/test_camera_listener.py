"""The camera listener over real HTTP: the aiohttp server on a free port, pushed to by SimCamera and raw httpx."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booth_app.lanes.camera_listener import CameraListener, CameraListenerError
from booth_app.sim.camera import SimCamera
from drivers.barrier import CameraIoBarrier
from drivers.zhenshi import (
    RESPONSE_KEY,
    PlatePush,
    idle_response,
    info_response,
    ioctrl_response,
    serial_data_response,
)

LOGGER = "booth_app.lanes.camera_listener"
OPEN = info_response(True, serial_data=[b"\x00\x64\xff\xff"])


@dataclass
class Lanes:
    """Stands in for the lanes layer: records every read and answers with `answer` (or raises `fail`)."""

    answer: Mapping[str, Any] | None = field(default_factory=lambda: OPEN)
    fail: Exception | None = None
    gate: asyncio.Event | None = None  # when set, on_read waits for it (a slow decision)
    reads: list[tuple[str, PlatePush]] = field(default_factory=list)
    queued: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    entered: asyncio.Event = field(default_factory=asyncio.Event)  # set by the first read

    async def on_read(self, lane: str, push: PlatePush) -> Mapping[str, Any] | None:
        self.reads.append((lane, push))
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return self.answer

    def pending(self, serialno: str) -> list[dict[str, Any]]:
        return self.queued.pop(serialno, [])


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lanes() -> Lanes:
    return Lanes()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_listener(lanes: Lanes, clock: FakeClock) -> AsyncIterator[Callable[..., Any]]:
    started: list[CameraListener] = []

    async def make(**changes: Any) -> CameraListener:
        options: dict[str, Any] = {
            "lanes_by_serial": {"cam-in": "in1", "cam-out": "out1"},
            "lanes_by_ip": {"192.0.2.10": "in1"},
            "on_read": lanes.on_read,
            "pending": lanes.pending,
            "clock": clock,
            **changes,
        }
        listener = CameraListener("127.0.0.1", 0, "/lpr/zhenshi", **options)
        await listener.start()
        started.append(listener)
        return listener

    yield make
    for listener in started:
        await listener.stop()


@pytest.fixture
async def listener(make_listener: Callable[..., Any]) -> CameraListener:
    made: CameraListener = await make_listener()
    return made


def raw_client() -> httpx.AsyncClient:
    """Plain HTTP to the listener, never through a proxy the environment may name."""
    return httpx.AsyncClient(trust_env=False)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


# ---------------------------------------------------------------- reads reach the lane


async def test_a_read_reaches_the_lane_of_its_serial_number_and_the_lane_answers(
    listener: CameraListener, lanes: Lanes
) -> None:
    camera = SimCamera(listener.url, serialno="cam-out")
    answer = await camera.push("京A12345", confidence=97, plate_id=42)

    assert answer == OPEN
    assert camera.statuses == [200]
    assert camera.opened == 1
    assert camera.serial_data == [b"\x00\x64\xff\xff"]
    [(lane, push)] = lanes.reads
    assert lane == "out1"
    assert (push.plate, push.confidence, push.plate_id, push.serialno) == ("京A12345", 97, 42, "cam-out")
    assert listener.counters.reads == 1
    assert listener.url == f"http://127.0.0.1:{listener.port}/lpr/zhenshi"
    assert listener.port > 0


async def test_a_camera_without_a_serial_number_is_known_by_the_address_it_claims(
    listener: CameraListener, lanes: Lanes
) -> None:
    await SimCamera(listener.url, serialno="", ip="192.0.2.10").push("京A12345")
    assert [lane for lane, _ in lanes.reads] == ["in1"]


async def test_a_camera_is_known_by_its_sender_address_when_nothing_else_matches(
    make_listener: Callable[..., Any], lanes: Lanes, caplog: pytest.LogCaptureFixture
) -> None:
    listener = await make_listener(lanes_by_ip={"127.0.0.1": "out1"})
    await SimCamera(listener.url, serialno="", ip="198.51.100.7").push("京A12345")
    assert [lane for lane, _ in lanes.reads] == ["out1"]
    assert warnings(caplog) == []

    # a serial number the configuration does not know, from a known address: taken, and the installer is told once
    replaced = SimCamera(listener.url, serialno="new-camera", ip="198.51.100.7")
    await replaced.push("京B12345")
    await replaced.push("京C12345")
    assert [lane for lane, _ in lanes.reads] == ["out1", "out1", "out1"]
    [line] = warnings(caplog)
    assert "new-camera" in line
    assert "out1" in line


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
async def test_utf8_and_gbk_bodies_give_the_same_plate(listener: CameraListener, lanes: Lanes, charset: Any) -> None:
    camera = SimCamera(listener.url, serialno="cam-in", charset=charset)
    await camera.push("鲁A12345")  # 鲁 in GBK happens to be valid UTF-8 too ("³"): the trap decode_body avoids
    await camera.push("粤Z1234港")
    assert [push.plate for _, push in lanes.reads] == ["鲁A12345", "粤Z1234港"]


async def test_gbk_without_a_declared_charset_still_reads(listener: CameraListener, lanes: Lanes) -> None:
    body = SimCamera(listener.url, serialno="cam-in").body(
        "京A12345", colour=1, confidence=90, plate_id=1, image_jpeg=None, offline=False, at=1_700_000_000.0
    )
    gbk = body.decode("utf-8").encode("gbk")
    async with raw_client() as client:
        response = await client.post(listener.url, content=gbk, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert [push.plate for _, push in lanes.reads] == ["京A12345"]


async def test_no_plate_read_reaches_the_lane_as_none(listener: CameraListener, lanes: Lanes) -> None:
    lanes.answer = None
    answer = await SimCamera(listener.url, serialno="cam-in").push(None)
    assert answer == idle_response()
    [(_, push)] = lanes.reads
    assert push.plate is None
    assert not push.has_plate


# ---------------------------------------------------------------- refusals


async def test_an_unknown_camera_is_refused_with_one_warning_a_minute(
    listener: CameraListener, lanes: Lanes, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    camera = SimCamera(listener.url, serialno="stranger", ip="203.0.113.5")
    for _ in range(3):
        answer = await camera.push("京A12345")
        assert answer[RESPONSE_KEY]["info"] == "no"
        assert "stranger" in answer["error"]
    assert camera.statuses == [403, 403, 403]
    assert camera.opened == 0
    assert lanes.reads == []
    [line] = warnings(caplog)
    assert "stranger" in line
    assert "not configured for any lane" in line

    clock.now += 61  # the next minute: one more line, saying how many were held back
    await camera.push("京A12345")
    assert len(warnings(caplog)) == 2
    assert "2 more like it" in warnings(caplog)[1]
    assert listener.counters.refused == 4


def _push_without(key: str) -> bytes:
    body = json.loads(
        SimCamera("http://x", serialno="cam-in").body(
            "京A12345", colour=1, confidence=90, plate_id=1, image_jpeg=None, offline=False, at=1_700_000_000.0
        )
    )
    del body["AlarmInfoPlate"]["result"]["PlateResult"][key]
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(b'{"AlarmInfoPlate": {', "not JSON", id="broken-json"),
        pytest.param(b"\xff\xfe\x00\x81garbage", "", id="not-text"),
        pytest.param(b"plate=A12345", "not JSON", id="not-json"),
        pytest.param(b"[1, 2, 3]", "must be a JSON object", id="array"),
        pytest.param(b'{"AlarmInfoPlate": "x"}', "AlarmInfoPlate must be a JSON object", id="wrong-shape"),
        pytest.param(_push_without("plateid"), "plateid", id="no-plateid"),
    ],
)
async def test_a_body_that_is_not_a_push_is_refused_with_one_warning(
    listener: CameraListener, lanes: Lanes, caplog: pytest.LogCaptureFixture, body: bytes, problem: str
) -> None:
    async with raw_client() as client:
        for _ in range(2):
            response = await client.post(listener.url, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400
            assert response.json()[RESPONSE_KEY]["info"] == "no"
    assert lanes.reads == []
    [line] = warnings(caplog)
    assert "127.0.0.1" in line
    assert problem in line
    assert listener.counters.refused == 2


async def test_a_malformed_push_names_the_camera_it_claims_to_be(
    listener: CameraListener, caplog: pytest.LogCaptureFixture
) -> None:
    async with raw_client() as client:
        await client.post(listener.url, content=_push_without("timeStamp"))
    [line] = warnings(caplog)
    assert "camera cam-in at 127.0.0.1" in line
    assert "timeStamp" in line


async def test_a_push_to_the_wrong_path_is_refused_with_one_warning(
    listener: CameraListener, caplog: pytest.LogCaptureFixture
) -> None:
    camera = SimCamera(listener.url.replace("/lpr/zhenshi", "/lpr/other"), serialno="cam-in")
    await camera.push("京A12345")
    await camera.push("京A12345")
    assert camera.statuses == [404, 404]
    [line] = warnings(caplog)
    assert "/lpr/other" in line
    assert "/lpr/zhenshi" in line


async def test_other_camera_messages_get_the_idle_answer_and_keep_queued_commands(
    listener: CameraListener, lanes: Lanes, caplog: pytest.LogCaptureFixture
) -> None:
    lanes.queued["cam-in"] = [ioctrl_response()]
    io_input = {"AlarmGioIn": {"serialno": "cam-in", "result": {"TriggerResult": {"source": 0, "value": 1}}}}
    async with raw_client() as client:
        response = await client.post(listener.url, json=io_input)
    assert (response.status_code, response.json()) == (200, idle_response())
    assert lanes.queued["cam-in"] == [ioctrl_response()]  # the camera ignores this answer: the command waits
    assert warnings(caplog) == []
    assert listener.counters.others == 1


# ---------------------------------------------------------------- resends


async def test_a_resend_is_answered_the_same_and_not_handed_on_again(listener: CameraListener, lanes: Lanes) -> None:
    camera = SimCamera(listener.url, serialno="cam-in")
    first = await camera.push("京A12345")
    lanes.answer = info_response(False)  # the lane would decide differently now: the resend must not ask it
    again = await camera.resend_last()
    assert again == first == OPEN
    assert len(lanes.reads) == 1
    assert (listener.counters.reads, listener.counters.resends) == (1, 1)

    # the same plate id with a new timestamp is a new read (a camera that restarted its numbering)
    await camera.push("京A12345", plate_id=lanes.reads[0][1].plate_id, at=1_800_000_000.0)
    assert len(lanes.reads) == 2


async def test_a_resend_while_the_lane_is_still_deciding_waits_for_the_same_answer(
    listener: CameraListener, lanes: Lanes
) -> None:
    lanes.gate = asyncio.Event()
    camera = SimCamera(listener.url, serialno="cam-in")
    first = asyncio.create_task(camera.push("京A12345"))
    await lanes.entered.wait()
    resend = asyncio.create_task(camera.resend_last())
    await asyncio.sleep(0.05)
    assert not resend.done()
    lanes.gate.set()
    assert await first == await resend == OPEN
    assert len(lanes.reads) == 1


# ---------------------------------------------------------------- failures, queued commands, polls


async def test_a_failing_lane_gets_the_idle_answer_one_logged_error_and_the_server_keeps_serving(
    listener: CameraListener, lanes: Lanes, caplog: pytest.LogCaptureFixture
) -> None:
    lanes.fail = RuntimeError("database is locked")
    camera = SimCamera(listener.url, serialno="cam-in")
    assert await camera.push("京A12345") == idle_response()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert "in1" in errors[0].getMessage()
    assert "京A12345" in errors[0].getMessage()
    assert listener.counters.errors == 1

    lanes.fail = None
    assert await camera.push("京B12345") == OPEN
    assert camera.statuses == [200, 200]


async def test_an_answer_that_is_not_a_mapping_counts_as_the_lanes_error(
    listener: CameraListener, lanes: Lanes
) -> None:
    lanes.answer = ["open"]  # type: ignore[assignment]
    assert await SimCamera(listener.url, serialno="cam-in").push("京A12345") == idle_response()
    assert listener.counters.errors == 1


async def test_queued_commands_ride_along_with_the_answer(listener: CameraListener, lanes: Lanes) -> None:
    lanes.answer = info_response(False)
    lanes.queued["cam-in"] = [ioctrl_response(1), serial_data_response(b"\x01\x02")]
    camera = SimCamera(listener.url, serialno="cam-in")
    answer = await camera.push("京A12345")
    assert answer[RESPONSE_KEY]["info"] == "no"
    assert answer[RESPONSE_KEY]["ivs_ioctrl"] == {"io": 1, "value": 2, "delay": 500}
    assert camera.serial_data == [b"\x01\x02"]
    assert camera.opened == 1  # the IO pulse opens the gate even though the read itself said no
    assert lanes.queued == {}


async def test_a_broken_queue_is_logged_and_the_lanes_answer_still_goes_out(
    listener: CameraListener, lanes: Lanes, caplog: pytest.LogCaptureFixture
) -> None:
    lanes.queued["cam-in"] = [{RESPONSE_KEY: {"serialData": 5}}]
    assert await SimCamera(listener.url, serialno="cam-in").push("京A12345") == OPEN
    assert listener.counters.errors == 1
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1


async def test_a_push_labelled_as_a_form_is_still_read(listener: CameraListener, lanes: Lanes) -> None:
    body = SimCamera(listener.url, serialno="cam-in").body(
        "京A12345", colour=1, confidence=90, plate_id=1, image_jpeg=None, offline=False, at=1_700_000_000.0
    )
    async with raw_client() as client:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}  # what some firmware declares
        response = await client.post(listener.url, content=body, headers=headers)
    assert (response.status_code, response.json()) == (200, OPEN)
    assert [push.plate for _, push in lanes.reads] == ["京A12345"]


async def test_a_camera_io_barrier_opens_through_the_next_answer(
    make_listener: Callable[..., Any], lanes: Lanes
) -> None:
    barrier = CameraIoBarrier("cam-out", io=2, pulse_ms=700)
    listener = await make_listener(pending=barrier.take_pending)
    lanes.answer = None
    camera = SimCamera(listener.url, serialno="cam-out")
    await barrier.open("paid at the booth")
    answer = await camera.push(None)
    assert answer == ioctrl_response(2, delay_ms=700)
    assert barrier.pending == 0
    await barrier.aclose()


async def test_an_offline_read_is_acknowledged_so_the_camera_sends_the_next(
    listener: CameraListener, lanes: Lanes
) -> None:
    answer = await SimCamera(listener.url, serialno="cam-in").push("京A12345", plate_id=7, offline=True)
    assert answer[RESPONSE_KEY]["ContinuePushOffline"] == {"plateid": 7, "continue": 1}
    assert answer[RESPONSE_KEY]["info"] == "ok"
    assert lanes.reads[0][1].is_offline


async def test_a_comet_poll_gets_queued_commands_or_status_ok(listener: CameraListener, lanes: Lanes) -> None:
    camera = SimCamera(listener.url, serialno="cam-in")
    assert await camera.poll() == idle_response()
    lanes.queued["cam-in"] = [serial_data_response(b"\x07")]
    await camera.poll()
    assert camera.serial_data == [b"\x07"]
    async with raw_client() as client:  # a GET naming the camera in its query is a poll too
        response = await client.get(listener.url, params={"serialno": "cam-in"})
    assert (response.status_code, response.json()) == (200, idle_response())
    assert listener.counters.polls == 3
    assert lanes.reads == []


async def test_a_poll_from_an_unknown_camera_is_refused(
    listener: CameraListener, caplog: pytest.LogCaptureFixture
) -> None:
    camera = SimCamera(listener.url, serialno="stranger", ip="203.0.113.5")
    await camera.poll()
    assert camera.statuses == [403]
    assert len(warnings(caplog)) == 1


async def test_a_held_poll_answers_as_soon_as_a_command_is_queued(
    make_listener: Callable[..., Any], lanes: Lanes
) -> None:
    listener = await make_listener(poll_hold_s=5.0)
    poll = asyncio.create_task(SimCamera(listener.url, serialno="cam-in").poll())
    await asyncio.sleep(0.1)
    assert not poll.done()
    lanes.queued["cam-in"] = [ioctrl_response()]
    answer = await asyncio.wait_for(poll, 1.0)
    assert answer == ioctrl_response()


# ---------------------------------------------------------------- robustness


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
            max_leaves=20,
        ).map(lambda document: json.dumps(document).encode()),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=gbk",
            "text/plain; charset=nonsense",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "",
        ]
    ),
)
async def test_whatever_arrives_the_server_answers_below_500_and_keeps_serving(
    listener: CameraListener, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    async with raw_client() as client:
        response = await client.post(listener.url, content=body, headers=headers)
    assert response.status_code < 500
    assert await SimCamera(listener.url, serialno="cam-in").push("京A12345") == OPEN


async def test_a_busy_port_is_one_sentence_naming_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        listener = CameraListener(
            "127.0.0.1", port, "/lpr/zhenshi", lanes_by_serial={}, lanes_by_ip={}, on_read=Lanes().on_read
        )
        with pytest.raises(CameraListenerError) as caught:
            await listener.start()
    assert str(caught.value) == f"the camera listener cannot listen on 127.0.0.1:{port}: address already in use"
    assert not listener.running


async def test_it_stops_and_starts_again(make_listener: Callable[..., Any]) -> None:
    listener = await make_listener()
    await listener.stop()
    assert not listener.running
    with pytest.raises(httpx.ConnectError):
        await SimCamera(listener.url, serialno="cam-in").push("京A12345")
    await listener.start()
    assert await SimCamera(listener.url, serialno="cam-in").push("京A12345") == OPEN
