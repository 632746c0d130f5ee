"""Display board protocol 0x64 (display-board-0x64.md): frames, builders, decoder, the driver against the simulator."""

from __future__ import annotations

import asyncio
import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booth_app.sim.display_board import DisplayBoardSim
from drivers.display_0x64 import (
    GREEN,
    RED,
    YELLOW,
    Cmd,
    Command,
    Effect,
    Font,
    Frame,
    FrameDecoder,
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
from drivers.display_bus import BoardNotAnsweringError, BoardRefusedError, BoardState, DisplayBus
from drivers.serial_link import Backoff, SerialLinkError
from tests.helpers import FAST, display_board_sim, display_bus  # noqa: F401 - fixtures sim, bus

STOP = "00 64 FF FF 31 00"
TING_CHE = "CD A3 B3 B5"  # 停车 in GBK, from section 4


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def bitwise_crc(data: bytes) -> int:
    """Section 2 word for word, independent of the driver's table."""
    register = 0xFFFF
    for byte in data:
        register ^= byte
        for _ in range(8):
            carry = register & 1
            register >>= 1
            if carry:
                register ^= 0xA001
    return register


def framed(address: int, cmd: int, data: str, version: int = 0x64) -> bytes:
    """A frame assembled by hand around DATA given as hex, CRC from `bitwise_crc`."""
    raw = h(data)
    length = bytes([len(raw)]) if version == 0x64 else len(raw).to_bytes(2, "little")
    body = bytes([address, version, 0xFF, 0xFF, cmd]) + length + raw
    return body + bitwise_crc(body).to_bytes(2, "little")


# ---------------------------------------------------------------------------------------------------- CRC and frames


@pytest.mark.parametrize(
    ("prefix", "register"),
    [
        ("", 0xFFFF),
        ("00", 0x40BF),
        ("00 64", 0x5B00),
        ("00 64 FF", 0x401B),
        ("00 64 FF FF", 0x4B40),
        ("00 64 FF FF 31", 0x248B),
        (STOP, 0x6764),
    ],
)
def test_the_crc_follows_the_worked_example_byte_by_byte(prefix: str, register: int) -> None:
    assert crc16_modbus(h(prefix)) == register


def test_the_worked_example_frames() -> None:
    assert encode_frame(0, 0x31, b"") == h("00 64 FF FF 31 00 64 67")
    assert encode_frame(0, *stop_speaking()) == h("00 64 FF FF 31 00 64 67")
    assert encode_frame(0, *relay(RelayChannel.TRAFFIC_LIGHT, 5)) == h("00 64 FF FF 0F 06 00 01 00 00 00 05 24 B7")


@given(st.binary(max_size=300))
def test_the_table_crc_is_the_bitwise_crc(data: bytes) -> None:
    assert crc16_modbus(data) == bitwise_crc(data)


def test_a_frame_carries_its_address_and_a_long_payload_is_refused() -> None:
    assert encode_frame(7, 0x30, h("01 " + TING_CHE)) == framed(7, 0x30, "01 " + TING_CHE)
    with pytest.raises(ValueError, match="at most 255"):
        encode_frame(0, 0x62, bytes(256))
    with pytest.raises(ValueError, match="address"):
        encode_frame(256, 0x31, b"")


def test_0xe5_goes_with_version_200_and_a_two_byte_length() -> None:
    assert encode_frame(1, 0xE5, bytes(300))[:7] == h("01 C8 FF FF E5 2C 01")
    assert encode_ack(0, 0xE5) == framed(0, 0xE5, "00", version=0xC8)
    assert encode_ack(0, 0xE5)[:8] == h("00 C8 FF FF E5 01 00 00")


# ---------------------------------------------------------------------------------------------------- builders


def test_set_clock_sends_the_fields_and_the_vendor_weekday_unless_told() -> None:
    sunday = datetime.datetime(2024, 3, 10, 8, 5, 9)  # the board's wall clock: no time zone
    assert set_clock(sunday) == (0x05, h("E8 07 03 0A 01 08 05 09"))
    assert set_clock(sunday + datetime.timedelta(days=1)).data[4] == 2  # Monday
    assert set_clock(sunday, weekday=7).data == h("E8 07 03 0A 07 08 05 09")
    with pytest.raises(ValueError, match="year"):
        set_clock(datetime.datetime(2100, 1, 1))


def test_relay_channels_and_times() -> None:
    assert relay(RelayChannel.GATE_OPEN, 1) == (0x0F, h("01 01 00 00 00 01"))
    assert relay(RelayChannel.GATE_CLOSE, 0, option=0) == (0x0F, h("02 00 00 00 00 00"))
    assert relay(RelayChannel.LIGHT_AND_GATE_OPEN, 255).data == h("FE 01 00 00 00 FF")


def test_speak_and_stop() -> None:
    assert speak("停车") == (0x30, h("01 " + TING_CHE))
    assert encode_frame(0, *speak("停车", 2)) == framed(0, 0x30, "02 " + TING_CHE)
    assert stop_speaking() == (0x31, b"")
    with pytest.raises(ValueError, match=r"1\.\.254"):
        speak("")


def test_show_text_lays_out_the_0x62_fields() -> None:
    command = show_text("A停", 1, color=RED, effect=Effect.RIGHT_TO_LEFT, speed=2, dwell=3, font=Font.SONG_16, repeat=1)
    #                    TWID ETM ETS GST DT RA1   FINDEX DRS TC          RA2         TL R3 TEXT
    assert command == (0x62, h("01 01 02 00 03 00 00 03 01 FF 00 00 00 00 00 00 00 03 00 41 CD A3"))
    assert len(command.data) == 19 + 3
    assert show_text("x", reserved1=0x0102).data[5:7] == h("02 01")
    with pytest.raises(ValueError, match="speed"):
        show_text("x", speed=0)


def test_show_lines_v2_with_voice() -> None:
    command = show_lines([Line("A", color=YELLOW), Line("停", color=RED)], "停车")
    expected = (
        "00 00 02"  # SF GST N
        " 00 00 00 03 00 03 00 FF FF 00 00 01 41 0D"  # LID DM DS DT DR FINDEX FLAGS TC TL TEXT 0D
        " 01 00 00 03 00 03 00 FF 00 00 00 02 CD A3 00"  # ... last block ends 00
        " 0A 04 " + TING_CHE + " 00"  # VF VTL VOICE 00
    )
    assert command == (0x6F, h(expected))


def test_show_lines_legacy_has_no_page_hold_font_or_flags() -> None:
    command = show_lines([Line("A", color=YELLOW), "停"], legacy=True, store=True)
    expected = "01 02  00 00 00 03 00 FF FF 00 00 01 41 0D  01 00 00 03 00 00 FF 00 00 02 CD A3 00  0A 00 00"
    assert command == (0x6E, h(expected))
    assert show_lines(["x"], page_hold=255).data[:3] == h("00 FF 01")
    assert show_lines([Line("x", line=3, effect=Effect.SCROLL_LEFT, font=Font.SONG_32)]).data[3:10] == h(
        "03 15 00 03 00 05 00"
    )


def test_show_lines_limits() -> None:
    with pytest.raises(ValueError, match=r"1\.\.4 lines"):
        show_lines(["a"] * 5)
    with pytest.raises(ValueError, match="line 1 text"):
        show_lines(["停" * 17])
    with pytest.raises(ValueError, match="at most 255"):
        show_lines(["停" * 16] * 4, "欢迎光临" * 10)


def test_the_qr_page() -> None:
    command = show_qr_page("http://x/1", "停车", speak_text=True, seconds=60, parking_seconds=3600, fee_jiao=50)
    expected = (
        "01 00 00 3C 00"  # SF EM ETM ST NI
        " 10 0E 00 00  32 00 00 00"  # TIME MONEY
        " 0A 04 81 00"
        + " 00"
        * 15  # ML TL FLAGS QRSIZE RESERVED
        + " 68 74 74 70 3A 2F 2F 78 2F 31 00"  # MSG + 00
        " " + TING_CHE + " 00"  # TEXT + 00
    )
    assert command == (0xE1, h(expected))
    assert len(command.data) == 32 + 10 + 1 + 4 + 1
    assert show_qr_page("u", small_code=True).data[13:17] == h("01 00 00 01")  # no text: FLAGS 0
    assert show_qr_page("u", "停").data[15] == 0x80
    assert hide_qr_page() == (0xE1, bytes(34))
    with pytest.raises(ValueError, match="221"):
        show_qr_page("u" * 200, "停" * 11)


def test_the_qr_bitmap_page() -> None:
    modules = [[False] * 29 for _ in range(29)]
    modules[0][0] = modules[28][28] = True
    bmp = qr_bitmap(modules)
    assert len(bmp) == 62 + 29 * 4 == 178
    assert bmp[:14] == h("42 4D B2 00 00 00 00 00 00 00 3E 00 00 00")
    assert bmp[14:30] == h("28 00 00 00 1D 00 00 00 E3 FF FF FF 01 00 01 00")  # 40, 29, -29, planes 1, 1 bit
    assert bmp[54:62] == h("FF FF FF 00 00 00 00 00")  # white, then black
    assert bmp[62:66] == h("80 00 00 00")
    assert bmp[-4:] == h("00 00 00 08")
    assert len(qr_bitmap([[True] * 45] * 45)) == 62 + 45 * 8
    with pytest.raises(ValueError, match="29×29"):
        qr_bitmap([[True] * 30] * 30)

    command = show_qr_bitmap_page(bmp, "停车", speak_text=True)
    assert command == (0xE5, h("01 00 00 00 00 01 04 " + TING_CHE) + bmp)
    assert encode_frame(0, *command)[:7] == h("00 C8 FF FF E5 BD 00")
    assert show_qr_bitmap_page(bmp, speak_text=True, speak_flag=0x81).data[5] == 0x81


def test_free_spaces_and_offline_policy() -> None:
    assert show_free_spaces(300, seconds=10) == (0xE3, h("01 00 00 0A 00 2C 01 00 00"))
    assert show_free_spaces(0, show=False).data == bytes(9)
    assert offline_policy(OfflinePolicy.MANUAL_RELEASE) == (0xD3, h("02"))
    assert encode_frame(0, *offline_policy(OfflinePolicy.LET_THROUGH)) == framed(0, 0xD3, "01")


@pytest.mark.parametrize(
    "build",
    [
        lambda: show_text("欢迎😀光临"),
        lambda: speak("欢迎😀光临"),
        lambda: show_lines(["欢迎😀光临"]),
        lambda: show_qr_page("u", "欢迎😀光临"),
    ],
)
def test_a_character_gbk_cannot_hold_is_named_with_its_position(build: object) -> None:
    assert callable(build)
    with pytest.raises(GbkEncodingError, match=r"'😀' \(U\+1F600\) at position 2") as caught:
        build()
    assert isinstance(caught.value, ValueError)
    assert (caught.value.character, caught.value.position) == ("😀", 2)


# ---------------------------------------------------------------------------------------------------- decoder

ACK = encode_ack(0, 0x62)
FRAMES = [ACK, encode_frame(3, *show_text("停车")), encode_ack(9, 0xE5), encode_frame(1, *show_free_spaces(7))]


def test_frames_fed_byte_by_byte() -> None:
    decoder = FrameDecoder()
    found = [frame for byte in b"".join(FRAMES) for frame in decoder.feed(bytes([byte]))]
    assert [frame.encode() for frame in found] == FRAMES
    assert found[0] == Frame(0, 0x64, b"\xff\xff", 0x62, b"\x00")
    assert found[0].ack == 0
    assert found[2].version == 0xC8
    assert (decoder.frames, decoder.skipped_bytes, decoder.crc_errors) == (4, 0, 0)


def test_junk_and_bad_crcs_are_skipped_and_counted() -> None:
    decoder = FrameDecoder()
    broken = bytearray(ACK)
    broken[-1] ^= 0xFF
    assert decoder.feed(b"\x11\x22" + bytes(broken) + b"\x33" + ACK) == [Frame(0, 0x64, b"\xff\xff", 0x62, b"\x00")]
    assert decoder.crc_errors >= 1
    assert decoder.skipped_bytes == 2 + len(ACK) + 1


def test_a_false_header_does_not_hide_the_reply_behind_it() -> None:
    decoder = FrameDecoder()
    false_long = h("00 C8 FF FF 00 FF 00")  # announces 255 data bytes that never come
    false_short = h("05 64 00 00 00 F0")
    assert [f.encode() for f in decoder.feed(false_long + false_short + ACK)] == [ACK]
    assert [f.encode() for f in decoder.feed(false_short + ACK[:4])] == []
    assert [f.encode() for f in decoder.feed(ACK[4:])] == [ACK]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(1, 64), max_size=20))
def test_random_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder()
    at = 0
    for size in [*cuts, len(data)]:
        for frame in decoder.feed(data[at : at + size]):
            assert frame.encode() in data
        at += size


frames = st.builds(
    encode_frame,
    st.integers(0, 255),
    st.sampled_from([0x05, 0x0F, 0x30, 0x31, 0x62, 0x6F, 0xD3, 0xE1, 0xE3, 0xE5]),
    st.binary(max_size=80),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=40), frames), max_size=8), st.binary(max_size=40), st.integers(1, 50))
def test_every_frame_spliced_with_junk_is_found(pieces: list[tuple[bytes, bytes]], tail: bytes, chunk: int) -> None:
    stream = b"".join(junk + frame for junk, frame in pieces) + tail
    decoder = FrameDecoder()
    found = [f.encode() for at in range(0, len(stream), chunk) for f in decoder.feed(stream[at : at + chunk])]
    found_iter = iter(found)
    missing = [frame for _, frame in pieces if frame not in found_iter]  # in order, extras from junk allowed
    assert missing == []


# ---------------------------------------------------------------------------------------------------- driver


async def test_a_command_is_acknowledged(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    states: list[BoardState] = []
    board = bus.board(0, on_state=states.append)
    reply = await board.send(show_text("欢迎光临", color=GREEN))
    assert reply is not None
    assert reply.encode() == ACK
    assert sim.state(0).text() == ["欢迎光临"]
    assert board.answering is True
    assert states == [BoardState(0, sim.url, True, f"display board 0 on {sim.url} is answering")]


async def test_a_refusal_raises_and_the_board_still_counts_as_answering(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    sim.behaviour(2).ack = 3
    board = bus.board(2)
    with pytest.raises(BoardRefusedError, match=f"display board 2 on {sim.url} refused command 0x30") as caught:
        await board.send(speak("欢迎光临"))
    assert caught.value.ack == 3
    assert board.answering is True
    assert len(sim.state(2).history) == 1  # a refusal is an answer: no retry


async def test_a_silent_board_is_retried_reported_and_recovers(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    states: list[BoardState] = []
    board = bus.board(5, on_state=states.append)
    sim.behaviour(5).answer = False
    with pytest.raises(BoardNotAnsweringError, match="after 3 tries"):
        await board.send(show_text("x"))
    assert len(sim.state(5).history) == 3
    assert board.answering is False
    assert states[-1].answering is False
    assert states[-1].message.startswith(f"display board 5 on {sim.url} is not answering")

    with pytest.raises(BoardNotAnsweringError):  # still silent: reported once, not again
        await board.send(show_text("y"))
    assert len(states) == 1

    sim.behaviour(5).answer = True
    await board.send(show_text("z"))
    assert [s.answering for s in states] == [False, True]
    assert states[-1].message == f"display board 5 on {sim.url} is answering"
    assert sim.state(5).text() == ["z"]


async def test_boards_sharing_a_port_take_turns(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    one, two = bus.board(1), bus.board(2)
    commands = [show_text(f"{i}") for i in range(5)]
    await asyncio.gather(*(board.send(c) for c in commands for board in (one, two)))
    for address in (1, 2):
        assert [f.data for f in sim.state(address).history] == [c.data for c in commands]
    assert bus.board(1) is one


async def test_junk_on_the_line_does_not_disturb_the_driver(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    board = bus.board(0)
    sim.send_garbage(h("00 C8 FF FF 00 FF 00 12 64 99"))
    sim.behaviour(0).junk = h("AA 64 FF FF 62 05")
    await board.send(show_text("ok"))
    await board.send(stop_speaking())
    assert bus.decoder.skipped_bytes > 0


async def test_special_replies_are_returned(bus: DisplayBus) -> None:
    board = bus.board(0)
    inputs = await board.send(Command(Cmd.READ_INPUTS, b""))
    assert inputs is not None
    assert inputs.data == bytes(8)
    versions = await board.send(Command(Cmd.CONNECT, b"123456"))
    assert versions is not None
    assert versions.data == b"\x00100100200"  # RET 0, then versions as ASCII digits


async def test_a_board_that_never_replies_can_still_be_written(sim: DisplayBoardSim, bus: DisplayBus) -> None:
    board = bus.board(4)
    await board.send(Command(Cmd.REPLY_MODE, b"\x01"))
    assert await board.send(show_text("silent"), expect_reply=False) is None
    await sim.wait_for(lambda: sim.state(4).text() == ["silent"])


async def test_a_closed_port_raises_naming_it(sim: DisplayBoardSim) -> None:
    lost = asyncio.Event()
    states: list[BoardState] = []
    bus = DisplayBus(sim.url, backoff=Backoff(0.02, 0.1), on_link_state=lambda up, error: None if up else lost.set())
    async with bus:
        board = bus.board(0, on_state=states.append)
        await sim.stop()
        async with asyncio.timeout(5):
            await lost.wait()
        with pytest.raises(SerialLinkError, match=f"serial port {sim.url}"):
            await board.send(show_text("x"))
    assert states[-1].answering is False
    assert states[-1].message.startswith(f"display board 0 on {sim.url} is not answering: serial port {sim.url}")
