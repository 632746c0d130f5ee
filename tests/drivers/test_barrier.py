"""The three barrier drivers behind one interface (barrier.md): display relay, Modbus relay board, camera IO."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable

import pytest

from booth_app.sim.relay import RelayBoardSim
from drivers.barrier import (
    GATE_CLOSE_RELAY,
    GATE_OPEN_RELAY,
    Barrier,
    BarrierError,
    BarrierState,
    CameraIoBarrier,
    DisplayRelayBarrier,
    ModbusBarrier,
    socket_address,
)
from drivers.zhenshi import info_response, merge_responses

Change = tuple[BarrierState, str | None]


def watch(barrier: Barrier) -> list[Change]:
    changes: list[Change] = []
    barrier.add_listener(lambda state, error: changes.append((state, error)))
    return changes


async def wait_until(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - the board and the state offer nothing to await
            await asyncio.sleep(0.01)


def test_every_driver_is_a_barrier() -> None:
    for driver in (DisplayRelayBarrier, ModbusBarrier, CameraIoBarrier):
        assert issubclass(driver, Barrier)


# ---------------------------------------------------------------- display board relay


class RelayRecorder:
    """Stands in for the display board driver's send_relay."""

    def __init__(self, failure: Exception | None = None, delay_s: float = 0.0) -> None:
        self.calls: list[tuple[int, bool, int]] = []
        self.failure = failure
        self.delay_s = delay_s

    async def __call__(self, relay: int, on: bool, pulse_ms: int) -> None:
        self.calls.append((relay, on, pulse_ms))
        await asyncio.sleep(self.delay_s)
        if self.failure is not None:
            raise self.failure


async def test_display_relay_open_pulses_the_gate_relay() -> None:
    send = RelayRecorder()
    barrier = DisplayRelayBarrier(send, pulse_ms=700)
    changes = watch(barrier)
    assert barrier.state is BarrierState.UNKNOWN

    await barrier.open("month card 京A12345")

    assert send.calls == [(GATE_OPEN_RELAY, True, 700)]
    assert barrier.state is BarrierState.OPEN
    assert barrier.last_error is None
    assert barrier.last_reason == "month card 京A12345"
    assert changes == [(BarrierState.OPEN, None)]


async def test_display_relay_close_releases_or_pulses_the_close_relay() -> None:
    send = RelayRecorder()
    await DisplayRelayBarrier(send, relay=3).close()
    await DisplayRelayBarrier(send, close_relay=GATE_CLOSE_RELAY, pulse_ms=400).close()

    assert send.calls == [(3, False, 0), (GATE_CLOSE_RELAY, True, 400)]


async def test_display_relay_failure_is_one_sentence_and_the_state_recovers() -> None:
    send = RelayRecorder(failure=OSError("COM3 is gone"))
    barrier = DisplayRelayBarrier(send)
    changes = watch(barrier)

    with pytest.raises(BarrierError, match=r"^the display board could not switch relay 1 \(COM3 is gone\)$"):
        await barrier.open("cashier")
    assert barrier.state is BarrierState.ERROR
    assert barrier.last_error == "the display board could not switch relay 1 (COM3 is gone)"

    send.failure = None
    await barrier.open("cashier")
    assert barrier.state is BarrierState.OPEN
    assert barrier.last_error is None
    assert [state for state, _ in changes] == [BarrierState.ERROR, BarrierState.OPEN]


async def test_a_display_board_that_never_answers_times_out() -> None:
    barrier = DisplayRelayBarrier(RelayRecorder(delay_s=10), timeout_s=0.05)

    with pytest.raises(BarrierError, match=r"did not switch relay 1 within 0\.05 s"):
        await barrier.open("auto")
    assert barrier.state is BarrierState.ERROR


async def test_a_broken_state_listener_does_not_stop_the_gate() -> None:
    send = RelayRecorder()
    barrier = DisplayRelayBarrier(send)

    def broken(state: BarrierState, error: str | None) -> None:
        raise RuntimeError("observer bug")

    barrier.add_listener(broken)
    await barrier.open("auto")

    assert barrier.state is BarrierState.OPEN
    assert send.calls


async def test_commands_do_not_overlap() -> None:
    send = RelayRecorder(delay_s=0.05)
    barrier = DisplayRelayBarrier(send)

    await asyncio.gather(barrier.open("first"), barrier.close(), barrier.open("second"))

    assert send.calls == [(1, True, 500), (1, False, 0), (1, True, 500)]
    assert barrier.state is BarrierState.OPEN
    assert barrier.last_reason == "second"


# ---------------------------------------------------------------- Modbus relay board


@pytest.fixture
async def board() -> AsyncIterator[RelayBoardSim]:
    sim = RelayBoardSim(device_id=1)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def closing() -> AsyncIterator[list[Barrier]]:
    """Barriers to aclose after the test, so no port stays open."""
    barriers: list[Barrier] = []
    yield barriers
    for barrier in barriers:
        await barrier.aclose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_modbus_open_switches_the_coil_on_then_off_after_the_pulse(
    board: RelayBoardSim, closing: list[Barrier]
) -> None:
    barrier = ModbusBarrier(board.url, device_id=1, coil=3, pulse_ms=150)
    closing.append(barrier)

    await barrier.open("exit paid")

    assert [(coil, value) for _, coil, value in board.history] == [(3, True), (3, False)]
    assert board.pulses(3)[0] >= 0.150
    assert not board.coil(3)
    assert barrier.state is BarrierState.OPEN
    assert barrier.last_reason == "exit paid"


async def test_modbus_sends_the_page_s_bytes(board: RelayBoardSim, closing: list[Barrier]) -> None:
    barrier = ModbusBarrier(board.url, device_id=1, coil=0, pulse_ms=10)
    closing.append(barrier)

    await barrier.open("auto")

    assert board.requests == [bytes.fromhex("01 05 00 00 FF 00 8C 3A"), bytes.fromhex("01 05 00 00 00 00 CD CA")]


@contextlib.asynccontextmanager
async def pty_wired_to(sim: RelayBoardSim) -> AsyncIterator[str]:
    """A pseudo-terminal whose far end is wired to the simulator: a real serial port name for the serial client."""
    import pty  # POSIX only

    controller, device = pty.openpty()
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    loop = asyncio.get_running_loop()

    def to_board() -> None:
        with contextlib.suppress(OSError):  # EIO once the port side is closed
            writer.write(os.read(controller, 1024))

    async def from_board() -> None:
        while data := await reader.read(1024):
            os.write(controller, data)

    loop.add_reader(controller, to_board)
    replies = asyncio.create_task(from_board())
    try:
        yield os.ttyname(device)
    finally:
        loop.remove_reader(controller)
        replies.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await replies
        writer.close()
        await writer.wait_closed()
        os.close(controller)
        os.close(device)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
async def test_modbus_over_a_serial_port_name(board: RelayBoardSim) -> None:
    async with pty_wired_to(board) as tty_name:
        barrier = ModbusBarrier(tty_name, coil=1, pulse_ms=100)
        try:
            await barrier.open("auto")
        finally:
            await barrier.aclose()

    assert board.requests == [bytes.fromhex("01 05 00 01 FF 00 DD FA"), bytes.fromhex("01 05 00 01 00 00 9C 0A")]
    assert board.pulses(1)[0] >= 0.100


async def test_modbus_reports_a_lost_board_and_works_again_once_it_is_back(
    board: RelayBoardSim, closing: list[Barrier]
) -> None:
    barrier = ModbusBarrier(board.url, coil=0, pulse_ms=50)
    closing.append(barrier)
    changes = watch(barrier)
    await barrier.open("first car")

    await board.stop()
    await wait_until(lambda: barrier.state is BarrierState.ERROR)
    assert barrier.last_error == f"lost the connection to the relay board on {board.url}"

    with pytest.raises(BarrierError, match=f"^the relay board port {board.url} cannot be opened$"):
        await barrier.open("second car")
    assert barrier.state is BarrierState.ERROR

    await board.start(port=board.port)
    await barrier.open("second car again")

    assert barrier.state is BarrierState.OPEN
    assert barrier.last_error is None
    assert len(board.pulses(0)) == 2
    assert [state for state, _ in changes] == [
        BarrierState.OPEN,
        BarrierState.ERROR,  # the link dropped while idle
        BarrierState.ERROR,  # the open that could not reach the board
        BarrierState.OPEN,
    ]


async def test_modbus_with_the_wrong_device_id_is_refused(board: RelayBoardSim, closing: list[Barrier]) -> None:
    barrier = ModbusBarrier(board.url, device_id=7, coil=0, pulse_ms=10)
    closing.append(barrier)

    with pytest.raises(BarrierError, match=r"the relay board \(device 7\) on socket://\S+ refused to switch coil 0"):
        await barrier.open("auto")
    assert board.history == []


@pytest.mark.parametrize("port", [f"socket://127.0.0.1:{free_port()}", "nosuch://relay", "/dev/no-such-tty"])
async def test_a_port_that_cannot_be_opened_is_named(port: str, closing: list[Barrier]) -> None:
    barrier = ModbusBarrier(port, pulse_ms=10)
    closing.append(barrier)

    with pytest.raises(BarrierError, match=f"^the relay board port {port} cannot be opened$"):
        await barrier.connect()
    assert barrier.state is BarrierState.ERROR
    with pytest.raises(BarrierError, match="cannot be opened"):
        await barrier.open("auto")


@pytest.mark.parametrize(
    ("port", "address"),
    [
        ("socket://127.0.0.1:17010", ("127.0.0.1", 17010)),
        ("socket://relay-box.local:4001?logging=debug", ("relay-box.local", 4001)),
        ("socket://127.0.0.1", None),
        ("socket://127.0.0.1:99999", None),
        ("COM5", None),
        ("/dev/ttyUSB0", None),
    ],
)
def test_socket_ports_are_recognised(port: str, address: tuple[str, int] | None) -> None:
    assert socket_address(port) == address


async def test_modbus_connect_probes_the_board(board: RelayBoardSim, closing: list[Barrier]) -> None:
    barrier = ModbusBarrier(board.url)
    closing.append(barrier)

    await barrier.connect()

    assert barrier.state is BarrierState.UNKNOWN
    assert board.history == []


async def test_modbus_close_releases_the_coil_or_pulses_the_close_coil(
    board: RelayBoardSim, closing: list[Barrier]
) -> None:
    release = ModbusBarrier(board.url, coil=0)
    pulse = ModbusBarrier(board.url, coil=0, close_coil=1, pulse_ms=30)
    closing.extend([release, pulse])

    await release.close()
    await pulse.close()

    assert [(coil, value) for _, coil, value in board.history] == [(1, True), (1, False)]
    assert board.requests[0] == bytes.fromhex("01 05 00 00 00 00 CD CA")  # coil 0 off: no change, still sent
    assert release.state is pulse.state is BarrierState.CLOSED


async def test_an_open_cancelled_mid_pulse_still_releases_the_coil(
    board: RelayBoardSim, closing: list[Barrier]
) -> None:
    barrier = ModbusBarrier(board.url, coil=2, pulse_ms=5000)
    closing.append(barrier)
    opening = asyncio.create_task(barrier.open("cashier"))
    await wait_until(lambda: board.coil(2))

    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    await wait_until(lambda: not board.coil(2))

    assert [(coil, value) for _, coil, value in board.history] == [(2, True), (2, False)]


# ---------------------------------------------------------------- camera IO


def test_camera_io_refuses_an_output_the_camera_does_not_have() -> None:
    with pytest.raises(ValueError, match="output 9 does not exist"):
        CameraIoBarrier("cam-a2", io=9)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_camera_io_open_waits_for_the_camera_to_collect_it() -> None:
    barrier = CameraIoBarrier("cam-a2", io=1, pulse_ms=300)
    changes = watch(barrier)

    await barrier.open("cashier")

    assert barrier.pending == 1
    assert barrier.state is BarrierState.UNKNOWN  # nothing reached the camera yet
    assert barrier.take_pending("another-camera") == []
    assert barrier.take_pending("cam-a2") == [
        {"Response_AlarmInfoPlate": {"ivs_ioctrl": {"io": 1, "value": 2, "delay": 300}}}
    ]
    assert barrier.state is BarrierState.OPEN
    assert barrier.take_pending("cam-a2") == []
    assert changes == [(BarrierState.OPEN, None)]
    await barrier.aclose()


async def test_camera_io_commands_merge_into_the_answer_to_a_push() -> None:
    barrier = CameraIoBarrier("cam-a2")
    await barrier.open("manual release")

    answer = merge_responses(info_response(False), *barrier.take_pending("cam-a2"))

    assert answer == {
        "Response_AlarmInfoPlate": {
            "info": "no",
            "channelNum": 0,
            "ivs_ioctrl": {"io": 0, "value": 2, "delay": 500},
        }
    }


async def test_camera_io_close_cancels_an_uncollected_open() -> None:
    barrier = CameraIoBarrier("cam-a2")
    await barrier.open("cashier")

    await barrier.close()

    assert barrier.pending == 0
    assert barrier.take_pending("cam-a2") == []
    assert barrier.state is BarrierState.CLOSED


async def test_camera_io_drops_a_stale_open_and_says_so() -> None:
    clock = FakeClock()
    barrier = CameraIoBarrier("cam-a2", max_age_s=10, clock=clock)
    await barrier.open("cashier")

    clock.now += 10.5
    assert barrier.take_pending("cam-a2") == []

    assert barrier.state is BarrierState.ERROR
    assert barrier.last_error == "camera cam-a2 did not collect the open command within 10 s"
    await barrier.aclose()


async def test_camera_io_reports_an_uncollected_open_without_being_asked() -> None:
    barrier = CameraIoBarrier("cam-a2", max_age_s=0.05)
    changes = watch(barrier)
    await barrier.open("cashier")

    await wait_until(lambda: barrier.state is BarrierState.ERROR)

    assert barrier.pending == 0
    assert changes == [(BarrierState.ERROR, "camera cam-a2 did not collect the open command within 0.05 s")]
    await barrier.aclose()
