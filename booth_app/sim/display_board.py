"""A simulated LED/voice display board (protocol 0x64) on a TCP socket and, on Linux, a pty.

The app reaches it as `socket://127.0.0.1:PORT` (or the pty's path) like any serial port. Every frame is decoded with
`drivers.display_0x64.FrameDecoder` and answered as a board would (section 3 of `display-board-0x64.md`); the sim
answers for every address, and keeps per address what the board shows and says (`BoardView`). `behaviour(address)`
scripts misbehaviour: stay silent, refuse, or put junk before replies; `send_garbage` writes junk unasked.

`main(argv)` runs it from the command line (`booth-app sim display --port 7001 [--pty]`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.display_0x64 import Cmd, Color, Frame, FrameDecoder, RelayChannel, pack_frame, version_for

DEFAULT_PORT = 7001  # the port the example configuration's comment uses

# Special replies (section 5.1): versions as ASCII digits like the vendor sample, a void GPS fix, no inputs.
CONNECT_REPLY = b"\x00" + b"100" + b"100" + b"200"
GPS_REPLY = b"$GPRMC,,V,,,,,,,,,,N*53\r\n"
INPUTS_REPLY = bytes(8)


@dataclass(slots=True)
class ShownLine:
    """One line of text as the board shows it; colour and font only when the command carried them."""

    text: str
    color: Color | None = None
    effect: int = 0
    font: int | None = None
    command: int = Cmd.TEXT


@dataclass(slots=True)
class QrScreen:
    """The QR payment page (0xE1, or 0xE5 with a bitmap instead of content)."""

    shown: bool
    content: str = ""
    text: str = ""
    speak: bool = False
    bitmap: bytes = b""
    fee_jiao: int = 0
    parking_seconds: int = 0


@dataclass(slots=True)
class RelayState:
    on: bool
    seconds: int  # OT as sent: 255 = until told otherwise
    switched_at: float  # time.monotonic()


@dataclass(slots=True)
class BoardView:
    """What one simulated board currently shows, says and switches, and every frame it received."""

    address: int
    lines: dict[int, ShownLine] = field(default_factory=dict)
    voice: str = ""  # the last text given to speak
    spoken: list[str] = field(default_factory=list)
    relays: dict[int, RelayState] = field(default_factory=dict)
    free_spaces: int | None = None
    free_spaces_shown: bool = False
    qr: QrScreen | None = None
    offline_policy: int | None = None
    clock: datetime.datetime | None = None
    weekday: int | None = None
    replies: bool = True  # 0x1A MODE 1 turns replies off for good
    history: list[Frame] = field(default_factory=list)

    def text(self) -> list[str]:
        """The shown lines' text, first line first."""
        return [self.lines[i].text for i in sorted(self.lines)]

    def relay_on(self, channel: int) -> bool:
        state = self.relays.get(channel)
        return state is not None and state.on


@dataclass(slots=True)
class Behaviour:
    """How a board misbehaves, for testing the driver.

    `answer=False`: the board takes commands but its replies are lost (the driver times out and retries). `ack` not 0:
    it refuses every command with that code and changes nothing. `junk`: bytes sent before every reply.
    """

    answer: bool = True
    ack: int = 0
    junk: bytes = b""


class _Refused(Exception):
    """DATA the simulated board cannot make sense of: it answers ACK 1."""


def _gbk(raw: bytes) -> str:
    return raw.decode("gbk", errors="replace")


def _take(data: bytes, at: int, size: int) -> bytes:
    if at + size > len(data):
        raise _Refused
    return data[at : at + size]


class DisplayBoardSim:
    """Any number of display boards behind one TCP port (and optionally a pty).

    `on_frame(address, description)` is called for every command received, for the console and the demo.
    """

    def __init__(self, on_frame: Callable[[int, str], None] | None = None) -> None:
        self.on_frame = on_frame
        self.bad_frames = 0  # junk bytes and bad CRCs seen, over every connection
        self._boards: dict[int, BoardView] = {}
        self._behaviours: dict[int, Behaviour] = {}
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.Transport] = set()
        self._host = "127.0.0.1"
        self._port = 0
        self._pty: tuple[int, int] | None = None
        self._pty_decoder = FrameDecoder()
        self._timers: dict[tuple[int, int], asyncio.TimerHandle] = {}  # (address, channel): relay switching off
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ control

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"socket://{self._host}:{self._port}"

    @property
    def pty_path(self) -> str | None:
        return os.ttyname(self._pty[1]) if self._pty else None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (0 = any free port; see `port` and `url`)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port)
        self._host, self._port = host, self._server.sockets[0].getsockname()[1]

    def start_pty(self) -> str:
        """Also serve a pty (Linux/macOS); returns the path to give the app as its serial port."""
        import tty  # POSIX only: imported here so the module still loads on Windows

        master, slave = os.openpty()
        tty.setraw(slave)  # no echo: otherwise our own replies would come back to us as frames
        os.set_blocking(master, False)
        self._pty = (master, slave)  # keeping the slave open lets the app close and reopen without EIO here
        asyncio.get_running_loop().add_reader(master, self._pty_readable)
        return os.ttyname(slave)

    async def stop(self) -> None:
        """Close the server, every connection and the pty: the app sees its port disappear."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._server is not None:
            self._server.close()
            for transport in list(self._transports):
                transport.abort()
            await self._server.wait_closed()
            self._server = None
        if self._pty is not None:
            master, slave = self._pty
            asyncio.get_running_loop().remove_reader(master)
            os.close(master)
            os.close(slave)
            self._pty = None

    def state(self, address: int) -> BoardView:
        """The live view of the board at `address` (created empty on first use)."""
        if address not in self._boards:
            self._boards[address] = BoardView(address)
        return self._boards[address]

    def behaviour(self, address: int) -> Behaviour:
        """The script for the board at `address`; change its fields to make it misbehave."""
        if address not in self._behaviours:
            self._behaviours[address] = Behaviour()
        return self._behaviours[address]

    def send_garbage(self, data: bytes) -> None:
        """Write bytes to every connection and the pty, unasked (a noisy line)."""
        self._broadcast(data)

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `predicate()` holds, checking after every frame received; TimeoutError after `within` s."""
        async with asyncio.timeout(within):
            while not predicate():
                await self._changed.wait()
                self._changed.clear()

    # ------------------------------------------------------------------ the board

    def receive(self, data: bytes, decoder: FrameDecoder) -> bytes:
        """Bytes from one connection in, the replies to send back out."""
        before = decoder.skipped_bytes + decoder.crc_errors
        out = b"".join(self._answer(frame) for frame in decoder.feed(data))
        self.bad_frames += decoder.skipped_bytes + decoder.crc_errors - before
        return out

    def _answer(self, frame: Frame) -> bytes:
        board = self.state(frame.address)
        board.history.append(frame)
        behaviour = self.behaviour(frame.address)
        special: bytes | None = None
        if behaviour.ack:  # a refusing board changes nothing
            ack, description = behaviour.ack, f"0x{frame.cmd:02X} refused as scripted (ACK {behaviour.ack})"
        else:
            try:
                ack, (special, description) = 0, self._apply(board, frame)
            except _Refused:
                ack, description = 1, f"0x{frame.cmd:02X} refused: data it cannot read"
        self._changed.set()
        if self.on_frame is not None:
            self.on_frame(frame.address, description)
        # 0x1A's own ACK still goes out; replies stop after it (section 3).
        if not behaviour.answer or (not board.replies and frame.cmd != Cmd.REPLY_MODE):
            return b""
        if special is not None:
            reply = pack_frame(frame.address, version_for(frame.cmd), frame.cmd, special, frame.packet)
        else:
            reply = pack_frame(frame.address, frame.version, frame.cmd, bytes([ack]), frame.packet)
        return behaviour.junk + reply

    def _apply(self, board: BoardView, frame: Frame) -> tuple[bytes | None, str]:
        """Change the board's state; returns a special reply's DATA (or None for a plain ACK) and a description."""
        handler = _HANDLERS.get(frame.cmd)
        if handler is None:
            return None, f"0x{frame.cmd:02X} ({len(frame.data)} data bytes) acknowledged"
        return handler(self, board, frame.data)

    def _switch_relay(self, board: BoardView, channel: int, seconds: int) -> None:
        board.relays[channel] = RelayState(seconds != 0, seconds, time.monotonic())
        timer = self._timers.pop((board.address, channel), None)
        if timer is not None:  # switched again before the last time ran out
            timer.cancel()
        if 0 < seconds < 255:  # the board switches it off by itself when OT runs out
            loop = asyncio.get_running_loop()
            self._timers[board.address, channel] = loop.call_later(seconds, self._relay_timeout, board, channel)

    def _relay_timeout(self, board: BoardView, channel: int) -> None:
        del self._timers[board.address, channel]
        board.relays[channel].on = False
        self._changed.set()

    # ------------------------------------------------------------------ transports

    def _broadcast(self, data: bytes) -> None:
        for transport in list(self._transports):
            transport.write(data)
        self._write_pty(data)

    def _pty_readable(self) -> None:
        assert self._pty is not None
        try:
            data = os.read(self._pty[0], 4096)
        except OSError:
            return
        self._write_pty(self.receive(data, self._pty_decoder))

    def _write_pty(self, data: bytes) -> None:
        if self._pty is not None and data:
            with contextlib.suppress(BlockingIOError):  # nobody reading: a real line would lose it too
                os.write(self._pty[0], data)


class _Connection(asyncio.Protocol):
    def __init__(self, sim: DisplayBoardSim) -> None:
        self._sim = sim
        self._decoder = FrameDecoder()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._sim._transports.add(transport)

    def data_received(self, data: bytes) -> None:
        reply = self._sim.receive(data, self._decoder)
        if reply and self._transport is not None:
            self._transport.write(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._sim._transports.discard(self._transport)


# ---------------------------------------------------------------------------------------------------- commands

Handler = Callable[[DisplayBoardSim, BoardView, bytes], tuple[bytes | None, str]]


def _set_clock(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    try:
        year, month, day, weekday, hour, minute, second = struct.unpack("<HBBBBBB", data)
        board.clock = datetime.datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - the board's wall clock
    except (struct.error, ValueError):
        raise _Refused from None
    board.weekday = weekday
    return None, f"clock set to {board.clock:%Y-%m-%d %H:%M:%S} (W {weekday})"


def _relay(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    if len(data) != 6:
        raise _Refused
    channel, seconds = data[0], data[5]
    both = channel == RelayChannel.LIGHT_AND_GATE_OPEN
    channels: list[int] = [RelayChannel.TRAFFIC_LIGHT, RelayChannel.GATE_OPEN] if both else [channel]
    for each in channels:
        sim._switch_relay(board, each, seconds)
    return None, f"relay {channel} {'off' if seconds == 0 else f'on for {seconds} s'}"


def _speak(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    if len(data) < 2:
        raise _Refused
    board.voice = _gbk(data[1:])
    board.spoken.append(board.voice)
    return None, f"says {board.voice!r}"


def _stop_speaking(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    board.voice = ""
    return None, "stops speaking"


def _text(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    head = _take(data, 0, 19)
    length = head[17]
    text = _gbk(_take(data, 19, length))
    board.lines[head[0]] = ShownLine(text, Color(*head[9:13]), head[1], head[7], Cmd.TEXT)
    return None, f"line {head[0]}: {text!r}"


def _multi_line(legacy: bool) -> Handler:
    """0x6E (legacy) and 0x6F: SF [GST] N, N line blocks, 0x0A VTL VOICE 0x00."""
    block_head = 9 if legacy else 11  # LID DM DS DT DR [FINDEX FLAGS] TC[4]

    def handle(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
        at = 2 if legacy else 3
        count = _take(data, at - 1, 1)[0]
        if not 1 <= count <= 4:
            raise _Refused
        shown: list[tuple[int, ShownLine]] = []
        for _ in range(count):
            head = _take(data, at, block_head + 1)
            length = head[block_head]
            text = _gbk(_take(data, at + block_head + 1, length))
            font = None if legacy else head[5]
            color = Color(*head[block_head - 4 : block_head])
            shown.append((head[0], ShownLine(text, color, head[1], font, Cmd.LINES_LEGACY if legacy else Cmd.LINES)))
            at += block_head + 1 + length + 1  # and the 0x0D/0x00 terminator
        if _take(data, at, 2)[0] != 0x0A:
            raise _Refused
        voice = _gbk(_take(data, at + 2, data[at + 1]))
        board.lines.update(shown)
        if voice:
            board.voice = voice
            board.spoken.append(voice)
        return None, f"lines {[item.text for _, item in shown]}" + (f", says {voice!r}" if voice else "")

    return handle


def _qr_page(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    fixed = _take(data, 0, 32)
    seconds, fee = struct.unpack("<II", fixed[5:13])
    content_length, text_length, flags = fixed[13], fixed[14], fixed[15]
    content = _gbk(_take(data, 32, content_length))
    text = _gbk(_take(data, 32 + content_length + 1, text_length))
    board.qr = QrScreen(bool(fixed[0]), content, text, bool(flags & 0x01), b"", fee, seconds)
    return None, f"QR page {'shown' if fixed[0] else 'hidden'}: {content!r} {text!r}"


def _qr_bitmap_page(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    head = _take(data, 0, 7)
    text = _gbk(_take(data, 7, head[6]))
    bitmap = data[7 + head[6] :]
    if not bitmap.startswith(b"BM"):
        raise _Refused
    board.qr = QrScreen(bool(head[0]), "", text, bool(head[5]), bitmap)
    return None, f"QR bitmap page ({len(bitmap)} byte BMP): {text!r}"


def _free_spaces(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    if len(data) != 9:
        raise _Refused
    board.free_spaces_shown = bool(data[0])
    board.free_spaces = struct.unpack("<I", data[5:9])[0]
    return None, f"free spaces {board.free_spaces}" + ("" if data[0] else " (hidden)")


def _offline_policy(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    if len(data) != 1 or data[0] > 3:
        raise _Refused
    board.offline_policy = data[0]
    return None, f"offline policy {data[0]}"


def _reply_mode(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
    if len(data) != 1:
        raise _Refused
    board.replies = data[0] == 0
    return None, "replies " + ("on" if board.replies else "off")


def _fixed_reply(reply: bytes, description: str) -> Handler:
    def handle(sim: DisplayBoardSim, board: BoardView, data: bytes) -> tuple[bytes | None, str]:
        return reply, description

    return handle


_HANDLERS: dict[int, Handler] = {
    Cmd.CONNECT: _fixed_reply(CONNECT_REPLY, "connect"),
    Cmd.SET_CLOCK: _set_clock,
    Cmd.RELAY: _relay,
    Cmd.REPLY_MODE: _reply_mode,
    Cmd.SPEAK: _speak,
    Cmd.STOP_SPEAKING: _stop_speaking,
    Cmd.TEXT: _text,
    Cmd.LINES_LEGACY: _multi_line(legacy=True),
    Cmd.LINES: _multi_line(legacy=False),
    Cmd.OFFLINE_POLICY: _offline_policy,
    Cmd.GPS: _fixed_reply(GPS_REPLY, "GPS position read"),
    Cmd.READ_INPUTS: _fixed_reply(INPUTS_REPLY, "inputs read"),
    Cmd.QR_PAGE: _qr_page,
    Cmd.FREE_SPACES: _free_spaces,
    Cmd.QR_BITMAP_PAGE: _qr_bitmap_page,
}


# ---------------------------------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="booth-app sim display",
        description="A simulated LED/voice display board (protocol 0x64): point a lane's display port at it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default: %(default)s; 0 = any)")
    parser.add_argument("--pty", action="store_true", help="also serve a pseudo-terminal and print its path")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    sim = DisplayBoardSim(on_frame=lambda address, text: print(f"board {address}: {text}", flush=True))
    await sim.start(args.host, args.port)
    try:
        print(f"display board simulator listening on {sim.url}", flush=True)
        if args.pty:
            print(f"display board simulator on pty {sim.start_pty()}", flush=True)
        await asyncio.Event().wait()  # until Ctrl-C
    finally:
        await sim.stop()


def main(argv: list[str]) -> int:
    """`booth-app sim display [--host H] [--port P] [--pty]`: serve until interrupted."""
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"display board simulator could not listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2
    return 0
