"""The display board simulator: real bytes over TCP and a pty, the state it keeps, its scripted misbehaviour."""

from __future__ import annotations

import asyncio
import datetime
import socket

import pytest

from booth_app.sim.display_board import DisplayBoardSim, main
from drivers.display_0x64 import (
    RED,
    YELLOW,
    Color,
    GbkEncodingError,
    Line,
    OfflinePolicy,
    RelayChannel,
    crc16_modbus,
    encode_ack,
    encode_frame,
    hide_qr_page,
    offline_policy,
    qr_bitmap,
    relay,
    set_clock,
    show_free_spaces,
    show_lines,
    show_qr_bitmap_page,
    show_qr_page,
    show_text,
    speak,
    stop_speaking,
)
from drivers.display_bus import BoardState, DisplayBus
from drivers.serial_link import SerialLinkError
from tests.helpers import FAST, display_board_sim, display_bus  # noqa: F401 - fixtures sim, bus


async def exchange(sim: DisplayBoardSim, data: bytes, reply_size: int) -> bytes:
    """Raw bytes to the sim over a fresh TCP connection, and exactly `reply_size` bytes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(data)
        async with asyncio.timeout(5):
            return await reader.readexactly(reply_size)
    finally:
        writer.close()
        await writer.wait_closed()


def test_the_url_names_the_port() -> None:
    sim = DisplayBoardSim()
    assert sim.url == "socket://127.0.0.1:0"


async def test_it_acks_with_the_echoed_header(sim: DisplayBoardSim) -> None:
    assert sim.url == f"socket://127.0.0.1:{sim.port}"
    ack = await exchange(sim, bytes.fromhex("00 64 FF FF 31 00 64 67"), 9)
    body = bytes.fromhex("00 64 FF FF 31 01 00")
    assert ack == body + crc16_modbus(body).to_bytes(2, "little")
    bmp = show_qr_bitmap_page(qr_bitmap([[False] * 29] * 29))
    assert await exchange(sim, encode_frame(7, *bmp), 10) == encode_ack(7, 0xE5)  # VR 0xC8, two-byte DL


async def test_junk_and_split_frames_are_survived(sim: DisplayBoardSim) -> None:
    frame = encode_frame(3, *speak("欢迎光临"))
    assert await exchange(sim, b"\xff\x00\x64" + frame + b"\x01", 9) == encode_ack(3, 0x30)
    assert sim.state(3).voice == "欢迎光临"
    assert sim.bad_frames > 0


async def test_data_it_cannot_read_is_refused(sim: DisplayBoardSim) -> None:
    assert await exchange(sim, encode_frame(0, 0x62, b"\x00\x01\x02"), 9) == encode_ack(0, 0x62, 1)


async def test_special_replies(sim: DisplayBoardSim) -> None:
    reply = await exchange(sim, encode_frame(0, 0x00, b"123456"), 6 + 10 + 2)
    assert reply[5:7] == b"\x0a\x00"  # DL 10, RET 0


async def test_what_the_board_shows_and_says(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    board = bus.board(1)
    await board.send(show_text("临时车", 1, color=YELLOW))
    await board.send(show_lines([Line("京A12345", color=RED), "欢迎光临"], "京A12345，欢迎光临"))
    view = sim.state(1)
    assert view.text() == ["京A12345", "欢迎光临"]
    assert view.lines[0].color == RED
    assert view.lines[1].color == Color(0x00, 0xFF, 0x00)
    assert view.voice == "京A12345，欢迎光临"

    await board.send(show_lines(["一路顺风"], legacy=True))
    assert view.lines[0].text == "一路顺风"
    assert view.lines[0].font is None

    await board.send(speak("请交费12.50元"))
    assert view.voice == "请交费12.50元"
    await board.send(stop_speaking())
    assert view.voice == ""
    assert view.spoken == ["京A12345，欢迎光临", "请交费12.50元"]

    await board.send(show_free_spaces(42))
    assert (view.free_spaces, view.free_spaces_shown) == (42, True)

    await board.send(offline_policy(OfflinePolicy.MANUAL_RELEASE))
    assert view.offline_policy == 2

    await board.send(set_clock(datetime.datetime(2025, 1, 2, 3, 4, 5)))
    assert view.clock == datetime.datetime(2025, 1, 2, 3, 4, 5)

    await board.send(show_qr_page("https://pay.example/o/1", "请扫码付款", fee_jiao=125, speak_text=True))
    assert view.qr is not None
    assert (view.qr.shown, view.qr.content, view.qr.text, view.qr.fee_jiao, view.qr.speak) == (
        True,
        "https://pay.example/o/1",
        "请扫码付款",
        125,
        True,
    )
    await board.send(hide_qr_page())
    assert view.qr.shown is False
    bmp = qr_bitmap([[True] * 45] * 45)
    await board.send(show_qr_bitmap_page(bmp, "请扫码"))
    assert (view.qr.bitmap, view.qr.text) == (bmp, "请扫码")

    assert [f.cmd for f in view.history] == [0x62, 0x6F, 0x6E, 0x30, 0x31, 0xE3, 0xD3, 0x05, 0xE1, 0xE1, 0xE5]
    assert sim.state(2).history == []  # boards are kept apart by address


async def test_relays_switch_and_time_out(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    board = bus.board(0)
    await board.send(relay(RelayChannel.LIGHT_AND_GATE_OPEN, 255))
    assert sim.state(0).relay_on(0)
    assert sim.state(0).relay_on(1)
    await board.send(relay(RelayChannel.TRAFFIC_LIGHT, 0))
    assert not sim.state(0).relay_on(0)
    await board.send(relay(RelayChannel.GATE_OPEN, 1))
    assert sim.state(0).relay_on(1)
    await sim.wait_for(lambda: not sim.state(0).relay_on(1))  # the board switches it off by itself


async def test_text_gbk_cannot_hold_is_never_sent(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    with pytest.raises(GbkEncodingError, match="position 5"):
        await bus.board(0).send(show_text("京A123😀"))
    assert sim.state(0).history == []


async def test_a_board_going_silent_and_refusing(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    states: list[BoardState] = []
    board = bus.board(9, on_state=states.append)
    sim.behaviour(9).answer = False
    with pytest.raises(Exception, match=r"display board 9 on .* is not answering"):
        await board.send(show_text("x"))
    sim.behaviour(9).answer = True
    sim.behaviour(9).ack = 2
    with pytest.raises(Exception, match="refused"):
        await board.send(show_text("y"))
    assert sim.state(9).text() == ["x"]  # a silent board heard "x"; a refusing one changes nothing
    assert [s.answering for s in states] == [False, True]


async def test_the_app_survives_the_sim_restarting_on_its_port(sim: DisplayBoardSim) -> None:
    link_states: asyncio.Queue[bool] = asyncio.Queue()
    bus = DisplayBus(
        sim.url, ack_timeout=0.2, retries=1, backoff=FAST, on_link_state=lambda c, e: link_states.put_nowait(c)
    )
    async with bus:
        async with asyncio.timeout(5):
            assert await link_states.get() is True
        states: list[BoardState] = []
        board = bus.board(0, on_state=states.append)
        await board.send(show_text("before"))
        port = sim.port

        await sim.stop()
        async with asyncio.timeout(5):
            assert await link_states.get() is False
        with pytest.raises(SerialLinkError):
            await board.send(show_text("while away"))

        await sim.start(port=port)
        async with asyncio.timeout(5):
            while not await link_states.get():
                pass
        await board.send(show_text("after"))
        assert [s.answering for s in states] == [True, False, True]
        assert sim.state(0).text() == ["after"]


async def test_it_serves_a_pty_too(sim: DisplayBoardSim) -> None:
    path = sim.start_pty()
    assert sim.pty_path == path
    bus = DisplayBus(path, ack_timeout=0.5, retries=1, backoff=FAST)
    async with bus:
        async with asyncio.timeout(5):
            await bus.link.wait_connected()
        await bus.board(6).send(show_text("pty"))
        sim.send_garbage(b"\x06\x64\x00")
        await bus.board(6).send(speak("欢迎光临"))
    assert sim.state(6).text() == ["pty"]
    assert sim.state(6).voice == "欢迎光临"


def test_main_says_when_the_port_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 2
    assert f"display board simulator could not listen on 127.0.0.1:{port}: " in capsys.readouterr().err
