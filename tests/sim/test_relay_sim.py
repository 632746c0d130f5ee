"""The relay board simulator: pymodbus's own server, RTU-framed over TCP, recording every coil change."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerType

from booth_app.sim.relay import RelayBoardSim, main
from drivers.barrier import ModbusBarrier


@pytest.fixture
async def board() -> AsyncIterator[RelayBoardSim]:
    sim = RelayBoardSim(device_id=3, coils=8)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def client(board: RelayBoardSim) -> AsyncIterator[AsyncModbusTcpClient]:
    modbus = AsyncModbusTcpClient("127.0.0.1", port=board.port, framer=FramerType.RTU, timeout=1, retries=0)
    assert await modbus.connect()
    yield modbus
    modbus.close()


async def test_it_listens_on_a_free_port_with_every_coil_off(board: RelayBoardSim) -> None:
    assert board.running
    assert board.port > 0
    assert board.url == f"socket://127.0.0.1:{board.port}"
    assert [board.coil(n) for n in range(8)] == [False] * 8
    assert board.history == []


async def test_it_records_each_coil_change_with_its_time(board: RelayBoardSim, client: AsyncModbusTcpClient) -> None:
    assert not (await client.write_coil(2, True, device_id=3)).isError()
    assert not (await client.write_coil(2, True, device_id=3)).isError()  # no change: not recorded
    assert not (await client.write_coils(4, [True, True], device_id=3)).isError()
    assert not (await client.write_coil(2, False, device_id=3)).isError()

    assert [(coil, value) for _, coil, value in board.history] == [(2, True), (4, True), (5, True), (2, False)]
    times = [at for at, _, _ in board.history]
    assert times == sorted(times)
    assert board.coil(4)
    assert not board.coil(2)
    assert len(board.pulses(2)) == 1
    assert board.pulses(4) == []  # still on
    coils = (await client.read_coils(0, count=8, device_id=3)).bits[:8]
    assert coils == [False, False, False, False, True, True, False, False]
    assert len(board.requests) == 5


async def test_another_device_id_gets_an_exception_reply(board: RelayBoardSim, client: AsyncModbusTcpClient) -> None:
    reply = await client.write_coil(0, True, device_id=9)

    assert reply.isError()
    assert board.history == []


async def test_a_barrier_pulse_shows_in_the_history(board: RelayBoardSim) -> None:
    barrier = ModbusBarrier(board.url, device_id=3, coil=0, pulse_ms=200)
    try:
        await barrier.open("demo")
    finally:
        await barrier.aclose()

    (lasted,) = board.pulses(0)
    assert lasted >= 0.200


async def test_it_restarts_on_the_same_port_with_coils_off_and_history_kept(board: RelayBoardSim) -> None:
    barrier = ModbusBarrier(board.url, device_id=3, coil=1, pulse_ms=10)
    try:
        await barrier.open("before")
        port = board.port
        await board.stop()
        assert not board.running

        await board.start(port=port)
        await barrier.open("after")
    finally:
        await barrier.aclose()

    assert board.port == port
    assert len(board.pulses(1)) == 2


async def test_it_says_when_it_cannot_listen(board: RelayBoardSim) -> None:
    other = RelayBoardSim()
    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{board.port}"):
        await other.start(port=board.port)
    with pytest.raises(RuntimeError, match="already running"):
        await board.start()
    with pytest.raises(ValueError, match="1 to 247"):
        RelayBoardSim(device_id=0)


async def test_on_change_sees_each_change() -> None:
    seen: list[tuple[int, bool]] = []
    sim = RelayBoardSim(on_change=lambda change: seen.append(change[1:]))
    await sim.start()
    barrier = ModbusBarrier(sim.url, coil=0, pulse_ms=10)
    try:
        await barrier.open("demo")
    finally:
        await barrier.aclose()
        await sim.stop()

    assert seen == [(0, True), (0, False)]


# ---------------------------------------------------------------- command line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_command_line_runs_a_board_and_prints_each_change() -> None:
    port = _free_port()
    code = "import sys; from booth_app.sim.relay import main; sys.exit(main(sys.argv[1:]))"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, "--port", str(port), "--device-id", "2", stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(10):
            banner = (await process.stdout.readline()).decode()
            assert f"device 2, 16 coils, at socket://127.0.0.1:{port}" in banner
            barrier = ModbusBarrier(f"socket://127.0.0.1:{port}", device_id=2, coil=5, pulse_ms=100)
            try:
                await barrier.open("demo")
            finally:
                await barrier.aclose()
            assert (await process.stdout.readline()).decode().strip() == "coil 5 on"
            off = (await process.stdout.readline()).decode().strip()
    finally:
        process.terminate()
        await process.wait()

    assert off.startswith("coil 5 off after ")
    assert off.endswith(" ms")
    assert int(off.split()[-2]) >= 100


def test_the_command_line_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        assert main(["--port", str(port)]) == 2

    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
