"""The lane's devices against the simulators, real bytes over sockets: the display board's text, voice, pages and
offline policy; a board that fails without raising; and the factory wiring boards, shared ports and gates."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import socket
import warnings
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from booth_app.lanes.devices import (
    BoardDisplay,
    LaneDevices,
    LaneDeviceSpec,
    fee_in_jiao,
    fit_gbk,
    open_lane_devices,
    relay_seconds,
)
from booth_app.lanes.ports import LaneDisplay, LaneGate, OfflinePolicyName
from booth_app.sim.display_board import DisplayBoardSim
from booth_app.sim.relay import RelayBoardSim
from drivers.barrier import BarrierError, BarrierState, CameraIoBarrier, DisplayRelayBarrier, ModbusBarrier
from drivers.display_0x64 import GREEN, RED, YELLOW, Cmd, RelayChannel, VoiceMode
from drivers.display_bus import DisplayBus
from drivers.zhenshi import ioctrl_response
from tests.helpers import FAST, display_board_sim, display_bus  # noqa: F401 - fixtures sim, bus

LOGGER = "booth_app.lanes.devices"
open_quickly = functools.partial(open_lane_devices, ack_timeout=0.2, retries=1, backoff=FAST)


@pytest.fixture
def display(bus: DisplayBus) -> BoardDisplay:
    return BoardDisplay(bus.board(3), lane="E1")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


# ---------------------------------------------------------------------------------------------------- BoardDisplay


def test_a_board_display_is_a_lane_display(display: BoardDisplay) -> None:
    lane_display: LaneDisplay = display  # checked by mypy; here it must at least build
    assert lane_display is display


async def test_show_puts_every_line_up_in_its_colour(sim: DisplayBoardSim, display: BoardDisplay) -> None:
    await display.show(("京A12345", "临时车", "请交费12.50元"))

    view = sim.state(3)
    assert view.text() == ["京A12345", "临时车", "请交费12.50元", ""]  # the 4th line blanked, not left over
    assert [view.lines[i].color for i in range(4)] == [YELLOW, GREEN, RED, GREEN]
    assert [frame.cmd for frame in view.history] == [Cmd.LINES]  # one command for all lines
    assert display.last_error is None


async def test_a_shorter_message_blanks_the_lines_of_the_one_before(
    sim: DisplayBoardSim, display: BoardDisplay
) -> None:
    await display.show(("京A12345", "停车3小时", "请交费12元", "请扫码"))
    await display.show(("欢迎光临",))
    assert sim.state(3).text() == ["欢迎光临", "", "", ""]


async def test_a_legacy_two_line_board_gets_0x6e_and_two_lines(
    sim: DisplayBoardSim, bus: DisplayBus, caplog: pytest.LogCaptureFixture
) -> None:
    display = BoardDisplay(bus.board(5), lines=2, legacy_multiline=True, lane="A1")
    await display.show(("京A12345", "欢迎光临", "剩余车位10"))

    view = sim.state(5)
    assert view.text() == ["京A12345", "欢迎光临"]
    assert view.history[-1].cmd == Cmd.LINES_LEGACY
    assert len(our_warnings(caplog)) == 1  # the dropped third line is said once


async def test_speak_replaces_the_voice_queue(sim: DisplayBoardSim, display: BoardDisplay) -> None:
    await display.speak("京A12345，请交费12.50元")
    await display.speak("")  # nothing to say: nothing sent

    view = sim.state(3)
    assert view.spoken == ["京A12345，请交费12.50元"]
    assert [frame.cmd for frame in view.history] == [Cmd.SPEAK]
    assert view.history[0].data[0] == VoiceMode.REPLACE


async def test_the_pay_qr_page_shows_the_url_caption_and_fee_then_hides(
    sim: DisplayBoardSim, display: BoardDisplay
) -> None:
    await display.show_pay_qr("https://pay.example/o/20250102-1", "请扫码付款12.55元", Decimal("12.55"))

    qr = sim.state(3).qr
    assert qr is not None
    assert (qr.shown, qr.content, qr.text, qr.fee_jiao) == (
        True,
        "https://pay.example/o/20250102-1",
        "请扫码付款12.55元",
        126,  # 0.1 yuan, half up
    )

    await display.hide_pay_qr()
    qr = sim.state(3).qr
    assert qr is not None
    assert not qr.shown
    assert display.last_error is None


async def test_a_caption_too_long_for_the_page_is_cut_not_the_url(sim: DisplayBoardSim, display: BoardDisplay) -> None:
    url = "https://pay.example/" + "x" * 180
    await display.show_pay_qr(url, "请扫码付款" * 10, Decimal(5))

    qr = sim.state(3).qr
    assert qr is not None
    assert qr.content == url
    assert len(qr.text.encode("gbk")) <= 221 - len(url)
    assert display.last_error is None


async def test_a_url_too_long_for_the_page_fails_without_raising(
    sim: DisplayBoardSim, display: BoardDisplay, caplog: pytest.LogCaptureFixture
) -> None:
    await display.show_pay_qr("https://pay.example/" + "x" * 250, "请扫码付款", Decimal(5))

    assert sim.state(3).qr is None  # nothing sent: a cut URL would be a code leading nowhere
    assert display.last_error is not None
    assert "221" in display.last_error
    assert len(our_warnings(caplog)) == 1


async def test_free_spaces_page(sim: DisplayBoardSim, display: BoardDisplay) -> None:
    await display.show_spaces(42)
    assert (sim.state(3).free_spaces, sim.state(3).free_spaces_shown) == (42, True)
    await display.show_spaces(-3)  # more cars than spaces: the board shows 0
    assert sim.state(3).free_spaces == 0


async def test_offline_policy_maps_to_the_board_s_rule(sim: DisplayBoardSim, display: BoardDisplay) -> None:
    expected: dict[OfflinePolicyName, int] = {"forbid": 0, "free": 1, "manual": 2, "cash": 2}
    for policy, tca in expected.items():
        await display.set_offline_policy(policy)
        assert sim.state(3).offline_policy == tca, policy


async def test_text_gbk_cannot_hold_is_shown_with_question_marks(
    sim: DisplayBoardSim, display: BoardDisplay, caplog: pytest.LogCaptureFixture
) -> None:
    await display.show(("京A12345", "欢迎😀光临🚗"))

    assert sim.state(3).text()[:2] == ["京A12345", "欢迎?光临?"]
    logged = our_warnings(caplog)
    assert len(logged) == 1
    assert "U+1F600" in logged[0]
    assert "U+1F697" in logged[0]
    assert "E1" in logged[0]
    assert display.last_error is None  # it was shown


async def test_a_line_too_long_for_the_board_is_cut(sim: DisplayBoardSim, display: BoardDisplay) -> None:
    await display.show(("京A12345", "欢迎光临" * 5 + "x"))
    shown = sim.state(3).text()[1]
    assert shown == "欢迎光临" * 4  # 32 GBK bytes, cut on a character boundary
    assert display.last_error is None


def test_fit_gbk_cuts_on_character_boundaries() -> None:
    notes: list[str] = []
    assert fit_gbk("a欢迎", 2, notes, "t") == "a"  # "欢" would need bytes 2 and 3
    assert fit_gbk("ok", 2, notes, "t") == "ok"
    assert len(notes) == 1


async def test_a_board_that_does_not_answer_costs_a_warning_not_an_exception(
    sim: DisplayBoardSim, display: BoardDisplay, caplog: pytest.LogCaptureFixture
) -> None:
    sim.behaviour(3).answer = False

    await display.show(("京A12345",))

    assert display.last_error is not None
    assert "lane E1" in display.last_error
    assert "not answering" in display.last_error
    logged = our_warnings(caplog)
    assert len(logged) == 1
    assert "showing text" in logged[0]

    sim.behaviour(3).answer = True
    await display.speak("欢迎光临")
    assert display.last_error is None
    assert sim.state(3).voice == "欢迎光临"


async def test_a_refusing_board_is_reported(sim: DisplayBoardSim, display: BoardDisplay) -> None:
    sim.behaviour(3).ack = 5
    await display.show_spaces(10)
    assert display.last_error is not None
    assert "refused" in display.last_error


async def test_every_method_survives_a_port_that_is_not_open(caplog: pytest.LogCaptureFixture) -> None:
    bus = DisplayBus(f"socket://127.0.0.1:{free_port()}", ack_timeout=0.1, retries=0, backoff=FAST)
    await bus.start()
    try:
        display = BoardDisplay(bus.board(0), lane="X9")
        await display.show(("京A12345",))
        await display.speak("欢迎光临")
        await display.show_pay_qr("https://pay.example/o/1", "请扫码", Decimal("1.00"))
        await display.hide_pay_qr()
        await display.show_spaces(1)
        await display.set_offline_policy("cash")
    finally:
        await bus.close()
    assert display.last_error is not None
    assert "lane X9" in display.last_error
    assert len(our_warnings(caplog)) == 6  # one per failed call


async def test_commands_to_one_board_do_not_overlap(sim: DisplayBoardSim, display: BoardDisplay) -> None:
    await asyncio.gather(
        display.show(("京A12345", "请交费5元")),
        display.speak("请交费5元"),
        display.show_pay_qr("https://pay.example/o/2", "请扫码付款", Decimal(5)),
        display.show_spaces(7),
    )
    assert [frame.cmd for frame in sim.state(3).history] == [Cmd.LINES, Cmd.SPEAK, Cmd.QR_PAGE, Cmd.FREE_SPACES]
    assert sim.bad_frames == 0
    assert display.last_error is None


@pytest.mark.parametrize(("due", "jiao"), [("0", 0), ("12.34", 123), ("12.35", 124), ("-1", 0), ("1e12", 0xFFFFFFFF)])
def test_fee_in_jiao(due: str, jiao: int) -> None:
    assert fee_in_jiao(Decimal(due)) == jiao


@pytest.mark.parametrize(("pulse_ms", "seconds"), [(0, 1), (500, 1), (1499, 1), (1500, 2), (3000, 3), (10**6, 254)])
def test_relay_seconds(pulse_ms: int, seconds: int) -> None:
    assert relay_seconds(pulse_ms) == seconds


# ---------------------------------------------------------------------------------------------------- the factory


@pytest.fixture
async def sim2() -> AsyncIterator[DisplayBoardSim]:
    sim = DisplayBoardSim()
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def relay_board() -> AsyncIterator[RelayBoardSim]:
    board = RelayBoardSim(device_id=4)
    await board.start()
    yield board
    await board.stop()


@pytest.fixture
async def devices(
    sim: DisplayBoardSim, sim2: DisplayBoardSim, relay_board: RelayBoardSim
) -> AsyncIterator[LaneDevices]:
    specs = [
        LaneDeviceSpec("A1", sim.url, 9600, 1, "display_relay", relay=1, pulse_ms=500),
        LaneDeviceSpec("A2", sim.url, 9600, 2, "camera_io", camera_serialno="cam-a2", camera_io=1, pulse_ms=300),
        LaneDeviceSpec(
            "B1", sim2.url, 19200, 0, "modbus", pulse_ms=100, modbus_port=relay_board.url, modbus_device_id=4,
            modbus_coil=2,
        ),
    ]  # fmt: skip
    devices = await open_quickly(specs)
    yield devices
    await devices.aclose()


async def test_lanes_on_one_port_share_one_bus(
    sim: DisplayBoardSim, sim2: DisplayBoardSim, devices: LaneDevices
) -> None:
    assert set(devices.buses) == {sim.url, sim2.url}
    a1, a2, b1 = devices.lane("A1"), devices.lane("A2"), devices.lane("B1")
    with pytest.raises(KeyError, match="lane Z9"):
        devices.lane("Z9")
    assert a1.display.board.bus is a2.display.board.bus is devices.buses[sim.url]
    assert (a1.display.board.address, a2.display.board.address) == (1, 2)
    assert isinstance(a1.gate, DisplayRelayBarrier)
    assert isinstance(a2.gate, CameraIoBarrier)
    assert isinstance(b1.gate, ModbusBarrier)
    gate: LaneGate = a1.gate
    assert gate is a1.gate

    await asyncio.gather(a1.display.show(("京A11111",)), a2.display.show(("京A22222",)), b1.display.show(("京B1",)))
    assert sim.state(1).text()[0] == "京A11111"
    assert sim.state(2).text()[0] == "京A22222"
    assert sim2.state(0).text()[0] == "京B1"


async def test_a_display_relay_gate_pulses_the_board_s_relay(sim: DisplayBoardSim, devices: LaneDevices) -> None:
    gate = devices.lane("A1").gate
    await gate.open("paid")

    relay = sim.state(1).relays[RelayChannel.GATE_OPEN]
    assert (relay.on, relay.seconds) == (True, 1)  # 500 ms → the board's 1 s minimum; it switches off by itself
    assert gate.state is BarrierState.OPEN
    assert RelayChannel.GATE_OPEN not in sim.state(2).relays  # the other board on the line did not move

    await gate.close()
    assert not sim.state(1).relays[RelayChannel.GATE_OPEN].on
    assert sim.state(1).history[-1].data[-1] == 0  # OT 0: off now


async def test_a_modbus_gate_pulses_the_coil(relay_board: RelayBoardSim, devices: LaneDevices) -> None:
    await devices.lane("B1").gate.open("cashier")
    assert [(coil, on) for _, coil, on in relay_board.history] == [(2, True), (2, False)]
    assert relay_board.pulses(2)[0] >= 0.1


async def test_a_camera_io_gate_waits_for_its_camera(devices: LaneDevices) -> None:
    gate = devices.lane("A2").gate
    await gate.open("manual release")

    assert devices.camera_pending("someone-else") == []
    assert devices.camera_pending("cam-a2") == [ioctrl_response(1, delay_ms=300)]
    assert devices.camera_pending("cam-a2") == []  # taken once
    assert gate.state is BarrierState.OPEN


async def test_aclose_closes_every_port(sim: DisplayBoardSim, relay_board: RelayBoardSim) -> None:
    specs = [
        LaneDeviceSpec("A1", sim.url, 9600, 1, "display_relay"),
        LaneDeviceSpec("B1", sim.url, 9600, 2, "modbus", modbus_port=relay_board.url, modbus_device_id=4, pulse_ms=50),
    ]
    devices = await open_quickly(specs)
    await devices.lane("B1").gate.open("test")
    links = [bus.link for bus in devices.buses.values()]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await devices.aclose()
        await devices.aclose()  # twice is harmless
        del devices
        gc.collect()
        await asyncio.sleep(0.05)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert all(not link.connected for link in links)
    await sim.wait_for(lambda: not sim._transports, within=2)


async def test_a_port_that_does_not_open_does_not_stop_the_lanes(
    sim: DisplayBoardSim, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"socket://127.0.0.1:{free_port()}"
    specs = [
        LaneDeviceSpec("A1", sim.url, 9600, 1, "display_relay"),
        LaneDeviceSpec("X1", dead, 9600, 0, "display_relay"),
        LaneDeviceSpec("X2", dead, 9600, 1, "camera_io", camera_serialno="cam-x2"),
    ]
    devices = await open_quickly(specs, connect_wait_s=0.3)
    try:
        port_lines = [line for line in our_warnings(caplog) if dead in line]
        assert len(port_lines) == 1  # one line for the port, naming both lanes
        assert "X1" in port_lines[0]
        assert "X2" in port_lines[0]

        await devices.lane("X1").display.show(("京A12345",))
        assert devices.lane("X1").display.last_error is not None
        with pytest.raises(BarrierError, match="relay 1"):
            await devices.lane("X1").gate.open("paid")  # a gate says it did not move: the lane must know

        await devices.lane("A1").gate.open("paid")  # the other port works
        assert sim.state(1).relays[RelayChannel.GATE_OPEN].on
    finally:
        await devices.aclose()


async def test_a_modbus_port_that_does_not_open_does_not_stop_the_lanes(sim: DisplayBoardSim) -> None:
    specs = [LaneDeviceSpec("B1", sim.url, 9600, 1, "modbus", modbus_port=f"socket://127.0.0.1:{free_port()}")]
    devices = await open_quickly(specs, connect_wait_s=0.5)
    try:
        assert devices.lane("B1").gate.state is BarrierState.ERROR
        await devices.lane("B1").display.speak("欢迎光临")
        assert sim.state(1).voice == "欢迎光临"
    finally:
        await devices.aclose()


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (
            [
                LaneDeviceSpec("A1", "COM3", 9600, 0, "display_relay"),
                LaneDeviceSpec("A1", "COM4", 9600, 0, "camera_io"),
            ],
            "lane A1 is listed twice",
        ),
        (
            [LaneDeviceSpec("A1", "COM3", 9600, 0, "display_relay"), LaneDeviceSpec("B1", "COM3", 19200, 1, "modbus")],
            "different baud rates",
        ),
        ([LaneDeviceSpec("B1", "COM3", 9600, 0, "modbus")], "no Modbus port"),
        ([LaneDeviceSpec("B1", "COM3", 9600, 0, "modbus", modbus_port="COM3")], "also a display port"),
        ([LaneDeviceSpec("C1", "COM3", 9600, 0, "camera_io")], "no camera serial number"),
    ],
)
async def test_contradictory_specs_are_one_sentence(specs: list[LaneDeviceSpec], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await open_lane_devices(specs)
