"""The lane's LED/voice display board, serial protocol "0x64": frames, CRC, command builders and a decoder.

The protocol is described in `display-board-0x64.md` (shared protocols folder); section numbers below refer to it.

* `encode_frame(address, cmd, data)` makes one wire frame; `crc16_modbus` is its checksum.
* Builders (`show_text`, `show_lines`, `speak`, `relay`, ...) return a `Command` (code and DATA) without an address, so
  one command can go to any board: `encode_frame(address, *command)`.
* `FrameDecoder` turns a byte stream into `Frame`s, skipping (and counting) junk and bad CRCs.
* The driver that talks to boards over a port is `drivers.display_bus`.

Text is GBK (section 4); a character GBK cannot hold raises `GbkEncodingError` before anything is sent. Defaults for
fields the page leaves open (speed, dwell, font) are this driver's choice and are keyword arguments everywhere.
"""

from __future__ import annotations

import datetime
import enum
import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

log = logging.getLogger(__name__)

VR_SHORT = 0x64  # DL is one byte
VR_LONG = 0xC8  # DL is two bytes, little-endian (0xE5 only)
SINGLE_PACKET = b"\xff\xff"  # PN of every unsplit message
MAX_SHORT_DATA = 255


class Cmd(enum.IntEnum):
    """Command codes the booth uses (section 5)."""

    CONNECT = 0x00
    SET_CLOCK = 0x05
    RELAY = 0x0F
    REPLY_MODE = 0x1A
    SPEAK = 0x30
    STOP_SPEAKING = 0x31
    TEXT = 0x62
    LINES_LEGACY = 0x6E
    LINES = 0x6F
    OFFLINE_POLICY = 0xD3
    GPS = 0xD4
    READ_INPUTS = 0xD5
    QR_PAGE = 0xE1
    FREE_SPACES = 0xE3
    QR_BITMAP_PAGE = 0xE5


_LONG_COMMANDS = frozenset({Cmd.QR_BITMAP_PAGE})
REPLIES_WITHOUT_ACK = frozenset({Cmd.GPS, Cmd.READ_INPUTS})  # their reply DATA is not an ACK byte (section 3)


# ---------------------------------------------------------------------------------------------------- frames and CRC


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (section 2): start 0xFFFF, reflected polynomial 0xA001, no final XOR. Sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def version_for(cmd: int) -> int:
    """The VR byte a command is sent with: 0xC8 (two-byte DL) for 0xE5, 0x64 for everything else."""
    return VR_LONG if cmd in _LONG_COMMANDS else VR_SHORT


def pack_frame(address: int, version: int, cmd: int, data: bytes, packet: bytes = SINGLE_PACKET) -> bytes:
    """DA VR PN CMD DL DATA CRC with an explicit VR and PN (replies, tests); most callers want `encode_frame`."""
    check_byte("address", address)
    check_byte("command", cmd)
    if len(packet) != 2:
        raise ValueError(f"packet number must be 2 bytes, not {len(packet)}")
    if version == VR_SHORT:
        if len(data) > MAX_SHORT_DATA:
            raise ValueError(f"command 0x{cmd:02X} carries {len(data)} data bytes; a 0x64 frame holds at most 255")
        length = bytes([len(data)])
    elif version == VR_LONG:
        if len(data) > 0xFFFF:
            raise ValueError(f"command 0x{cmd:02X} carries {len(data)} data bytes; a 0xC8 frame holds at most 65535")
        length = struct.pack("<H", len(data))
    else:
        raise ValueError(f"protocol version must be 0x64 or 0xC8, not 0x{version:02X}")
    body = bytes([address, version]) + packet + bytes([cmd]) + length + data
    return body + crc16_modbus(body).to_bytes(2, "little")


def encode_frame(address: int, cmd: int, data: bytes) -> bytes:
    """One complete frame for board `address`: VR 0x64 with a one-byte DL, or VR 0xC8 with a two-byte DL for 0xE5."""
    return pack_frame(address, version_for(cmd), cmd, bytes(data))


def encode_ack(address: int, cmd: int, ack: int = 0) -> bytes:
    """The board's usual reply (section 3): DA VR FF FF CMD, DL 1, ACK (0 = done)."""
    check_byte("ACK", ack)
    return pack_frame(address, version_for(cmd), cmd, bytes([ack]))


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame, a command or a reply."""

    address: int
    version: int
    packet: bytes
    cmd: int
    data: bytes

    @property
    def ack(self) -> int | None:
        """The ACK byte of a plain reply (0 = done); None when DATA is not exactly one byte."""
        return self.data[0] if len(self.data) == 1 else None

    def encode(self) -> bytes:
        return pack_frame(self.address, self.version, self.cmd, self.data, self.packet)


class Command(NamedTuple):
    """A command code and its DATA, for any board: `encode_frame(address, *command)`."""

    cmd: int
    data: bytes


# ---------------------------------------------------------------------------------------------------- fields


class GbkEncodingError(ValueError):
    """Text holds a character the board's GBK font cannot show or say."""

    def __init__(self, what: str, text: str, position: int) -> None:
        self.text = text
        self.position = position
        self.character = text[position]
        super().__init__(
            f"{what} {text!r} has a character GBK cannot encode: {self.character!r} (U+{ord(self.character):04X}) "
            f"at position {position}"
        )


def encode_gbk(text: str, what: str = "text") -> bytes:
    """Text as the board wants it (section 4); raises GbkEncodingError naming the first character GBK lacks."""
    try:
        return text.encode("gbk")
    except UnicodeEncodeError as exc:
        raise GbkEncodingError(what, text, exc.start) from None


def check_byte(name: str, value: int, low: int = 0, high: int = 255) -> int:
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low}..{high}, not {value}")
    return value


def _text(text: str, what: str, max_bytes: int, *, min_bytes: int = 0) -> bytes:
    raw = encode_gbk(text, what)
    if not min_bytes <= len(raw) <= max_bytes:
        raise ValueError(f"{what} {text!r} is {len(raw)} bytes in GBK; it must be {min_bytes}..{max_bytes}")
    return raw


class Color(NamedTuple):
    """Text colour as sent (TC): red, green, blue, and an unused alpha byte."""

    red: int
    green: int
    blue: int
    alpha: int = 0


RED = Color(0xFF, 0x00, 0x00)
GREEN = Color(0x00, 0xFF, 0x00)
YELLOW = Color(0xFF, 0xFF, 0x00)


def _color(color: Color) -> bytes:
    for name, value in zip(("red", "green", "blue", "alpha"), color, strict=True):
        check_byte(f"colour {name}", value)
    return bytes(color)


class Effect(enum.IntEnum):
    """How text enters (ETM in 0x62, DM in 0x6E/0x6F), section 5.6."""

    APPEAR = 0x00
    RIGHT_TO_LEFT = 0x01
    LEFT_TO_RIGHT = 0x02
    BOTTOM_UP = 0x03
    TOP_DOWN = 0x04
    WIPE_DOWN = 0x05
    WIPE_UP = 0x06
    WIPE_LEFT = 0x07
    WIPE_RIGHT = 0x08
    ONE_CHARACTER_AT_A_TIME = 0x0D
    SCROLL_LEFT = 0x15


class Font(enum.IntEnum):
    """FINDEX (section 5.6); which fonts exist depends on the board model."""

    ASCII_8 = 0
    ASCII_10 = 1
    ASCII_13 = 2
    SONG_16 = 3
    SONG_24 = 4
    SONG_32 = 5
    SONG_48 = 6
    SONG_64 = 7


class RelayChannel(enum.IntEnum):
    """CH of 0x0F (section 5.3)."""

    TRAFFIC_LIGHT = 0x00
    GATE_OPEN = 0x01
    GATE_CLOSE = 0x02
    LIGHT_AND_GATE_OPEN = 0xFE


RELAY_OFF = 0  # OT: switch off now
RELAY_HOLD = 255  # OT: stay on until told otherwise


class VoiceMode(enum.IntEnum):
    """OPT of 0x30 (section 5.4)."""

    QUEUE = 0  # append, do not start
    PLAY = 1  # append and start
    REPLACE = 2  # empty the queue, append, play


class OfflinePolicy(enum.IntEnum):
    """TCA of 0xD3: what the board/camera does with temporary cars when the PC is gone (section 5.1)."""

    NO_ENTRY = 0
    LET_THROUGH = 1
    MANUAL_RELEASE = 2
    NOT_AUTHORISED = 3


# ---------------------------------------------------------------------------------------------------- builders


def set_clock(when: datetime.datetime, *, weekday: int | None = None) -> Command:
    """0x05: set the board's clock to `when` (its wall-clock fields; the board knows no time zone).

    `weekday` is the W byte, passed through as given. By default it follows the vendor text (1 = Sunday, 2..7 = Monday
    ..Saturday); the vendor's own sample contradicts that and boards do not seem to check it (section 5.2).
    """
    check_byte("year", when.year, 1970, 2099)
    w = when.isoweekday() % 7 + 1 if weekday is None else check_byte("weekday", weekday)
    data = struct.pack("<HBBBBBB", when.year, when.month, when.day, w, when.hour, when.minute, when.second)
    return Command(Cmd.SET_CLOCK, data)


def relay(channel: int, seconds: int, *, option: int = 1) -> Command:
    """0x0F: switch a relay output on for `seconds` (1..254), RELAY_OFF (0) or RELAY_HOLD (255).

    `option` is OF, which the board ignores; the vendor samples send 1.
    """
    check_byte("relay channel", channel)
    check_byte("relay seconds", seconds)
    return Command(Cmd.RELAY, bytes([channel, check_byte("relay option", option), 0, 0, 0, seconds]))


def speak(text: str, mode: int = VoiceMode.PLAY) -> Command:
    """0x30: say `text` (1..254 GBK bytes). Phrases must match the board's recordings; separate them with ，or 。."""
    raw = _text(text, "voice text", 254, min_bytes=1)
    return Command(Cmd.SPEAK, bytes([check_byte("voice mode", mode, 0, 2)]) + raw)


def stop_speaking() -> Command:
    """0x31: stop the current voice and empty the queue."""
    return Command(Cmd.STOP_SPEAKING, b"")


def show_text(
    text: str,
    line: int = 0,
    *,
    color: Color = GREEN,
    effect: int = Effect.APPEAR,
    speed: int = 1,
    page_hold: int = 0,
    dwell: int = 3,
    font: int = Font.SONG_16,
    repeat: int = 0,
    reserved1: int = 0,
) -> Command:
    """0x62: temporary text on one line (not kept across power loss), section 5.6.

    `line` is TWID (0 = first), `speed` ETS (1..32), `page_hold` GST, `dwell` DT in s, `repeat` DRS (0 = forever).
    `reserved1` is RA1 (u16 LE), sent as given because vendor samples put non-zero values there.
    """
    raw = _text(text, "display text", MAX_SHORT_DATA - 19)
    head = bytes(
        [
            check_byte("line", line),
            check_byte("effect", effect),
            check_byte("speed", speed, 1, 32),
            check_byte("page hold", page_hold),
            check_byte("dwell", dwell),
        ]
    )
    check_byte("reserved1", reserved1, 0, 0xFFFF)
    fields = struct.pack("<HBB", reserved1, check_byte("font", font), check_byte("repeat", repeat))
    return Command(Cmd.TEXT, head + fields + _color(color) + bytes(4) + bytes([len(raw), 0]) + raw)


@dataclass(frozen=True, slots=True)
class Line:
    """One line block of 0x6E/0x6F (sections 5.8, 5.9). `line` (LID) defaults to the block's place in the list."""

    text: str
    color: Color = GREEN
    effect: int = Effect.APPEAR
    speed: int = 0  # DS: the page recommends 0
    dwell: int = 3
    repeat: int = 0
    font: int = Font.SONG_16  # 0x6F only; 0x6E uses the board's default font
    line: int | None = None


def _line_block(block: Line, index: int, last: bool, legacy: bool) -> bytes:
    raw = _text(block.text, f"line {index + 1} text", 32)
    head = [
        check_byte("line", index if block.line is None else block.line),
        check_byte("effect", block.effect),
        check_byte("speed", block.speed),
        check_byte("dwell", block.dwell),
        check_byte("repeat", block.repeat),
    ]
    if not legacy:
        head += [check_byte("font", block.font), 0x00]  # FINDEX, FLAGS (reserved)
    return bytes(head) + _color(block.color) + bytes([len(raw)]) + raw + (b"\x00" if last else b"\x0d")


def show_lines(
    lines: Sequence[Line | str],
    voice: str = "",
    *,
    legacy: bool = False,
    store: bool = False,
    page_hold: int = 0,
) -> Command:
    """0x6F (or 0x6E with `legacy=True`): 1..4 lines and optional voice in one packet.

    Which of the two a board accepts is a per-lane setting (section 5.9). `store=True` writes to flash (SF 1): keep it
    False for per-car messages. `page_hold` (GST) exists in 0x6F only. An empty `voice` sends VTL 0, as integrations do.
    """
    blocks = [Line(item) if isinstance(item, str) else item for item in lines]
    if not 1 <= len(blocks) <= 4:
        raise ValueError(f"a multi-line command takes 1..4 lines, not {len(blocks)}")
    body = b"".join(_line_block(b, i, i == len(blocks) - 1, legacy) for i, b in enumerate(blocks))
    spoken = _text(voice, "voice text", 255)
    if legacy:  # SF N
        head = bytes([int(store), len(blocks)])
    else:  # SF GST N
        head = bytes([int(store), check_byte("page hold", page_hold), len(blocks)])
    data = head + body + bytes([0x0A, len(spoken)]) + spoken + b"\x00"
    if len(data) > MAX_SHORT_DATA:
        raise ValueError(f"lines and voice take {len(data)} bytes; one multi-line command holds at most 255")
    return Command(Cmd.LINES_LEGACY if legacy else Cmd.LINES, data)


def _page_head(show: bool, seconds: int) -> bytes:
    """SF EM ETM ST NI, shared by 0xE1, 0xE3, 0xE5; the modes and next page are reserved 0."""
    return bytes([int(show), 0, 0, check_byte("page seconds", seconds), 0])


def show_qr_page(
    content: str,
    text: str = "",
    *,
    speak_text: bool = False,
    seconds: int = 0,
    parking_seconds: int = 0,
    fee_jiao: int = 0,
    small_code: bool = False,
) -> Command:
    """0xE1: the QR payment page (section 5.10), `content` usually the payment URL; `seconds` 0 = until replaced.

    `parking_seconds` and `fee_jiao` (0.1 yuan) are sent but not used by the board. Content plus text: at most 221
    bytes; longer URLs need `show_qr_bitmap_page`. FLAGS bit 7 is set when there is text, bit 0 when it is spoken.
    """
    msg = encode_gbk(content, "QR content")
    raw = encode_gbk(text, "QR page text")
    if len(msg) + len(raw) > MAX_SHORT_DATA - 34:
        raise ValueError(f"QR content and text take {len(msg) + len(raw)} bytes; 0xE1 holds at most 221")
    flags = (0x80 | int(speak_text)) if raw else 0x00
    fixed = _page_head(True, seconds) + struct.pack("<II", parking_seconds, fee_jiao)
    fixed += bytes([len(msg), len(raw), flags, int(small_code)]) + bytes(15)
    return Command(Cmd.QR_PAGE, fixed + msg + b"\x00" + raw + b"\x00")


def hide_qr_page() -> Command:
    """0xE1 with SF 0: take the QR page down."""
    return Command(Cmd.QR_PAGE, _page_head(False, 0) + bytes(8) + bytes(19) + b"\x00\x00")


def qr_bitmap(modules: Sequence[Sequence[bool]]) -> bytes:
    """A QR module matrix (True = dark) as the 1-bit BMP 0xE5 carries (section 5.11): 29×29 or 45×45 only.

    62-byte header, palette white then black (so a 1 bit is dark), negative height (rows top to bottom), rows padded to
    4 bytes: 178 bytes for 29×29.
    """
    size = len(modules)
    if size not in (29, 45) or any(len(row) != size for row in modules):
        raise ValueError("a QR bitmap must be 29×29 (version 3) or 45×45 (version 7) modules")
    stride = (size + 31) // 32 * 4
    pixels = b"".join(_bmp_row(row, stride) for row in modules)
    info = struct.pack("<IiiHHIIiiII", 40, size, -size, 1, 1, 0, len(pixels), 0, 0, 2, 2)
    palette = b"\xff\xff\xff\x00" + b"\x00\x00\x00\x00"
    header = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(palette) + len(pixels), 0, 0, 62)
    return header + info + palette + pixels


def _bmp_row(row: Sequence[bool], stride: int) -> bytes:
    bits = 0
    for dark in row:
        bits = bits << 1 | int(bool(dark))
    bits <<= stride * 8 - len(row)  # the first module is the most significant bit
    return bits.to_bytes(stride, "big")


def show_qr_bitmap_page(
    bitmap: bytes, text: str = "", *, speak_text: bool = False, seconds: int = 0, speak_flag: int = 0x01
) -> Command:
    """0xE5 (VR 0xC8): the QR page from a BMP (see `qr_bitmap`), for payment URLs too long for 0xE1.

    VEN is `speak_flag` when `speak_text`, else 0; the page says 1, the vendor sample sends 0x81.
    """
    if not bitmap.startswith(b"BM"):
        raise ValueError("the QR bitmap must be a Windows BMP file (starting with 'BM')")
    raw = _text(text, "QR page text", 255)
    ven = check_byte("speak flag", speak_flag) if speak_text else 0
    return Command(Cmd.QR_BITMAP_PAGE, _page_head(True, seconds) + bytes([ven, len(raw)]) + raw + bitmap)


def show_free_spaces(count: int, *, seconds: int = 0, show: bool = True) -> Command:
    """0xE3: the free-spaces page showing `count`; `show=False` takes it down."""
    check_byte("free spaces", count, 0, 0xFFFFFFFF)
    return Command(Cmd.FREE_SPACES, _page_head(show, seconds) + struct.pack("<I", count))


def offline_policy(policy: OfflinePolicy) -> Command:
    """0xD3: what the board does with temporary cars while the PC is away."""
    return Command(Cmd.OFFLINE_POLICY, bytes([check_byte("offline policy", policy, 0, 3)]))


# ---------------------------------------------------------------------------------------------------- decoder


class FrameDecoder:
    """Feed it bytes from the line; it returns the complete frames, in order.

    Junk and frames with a bad CRC are skipped one byte at a time and counted; `feed` never raises. A frame is only
    accepted if its CRC checks, and a later complete frame wins over an earlier candidate still waiting for bytes, so
    one junk byte that looks like a header with a large DL cannot hide the real reply behind it.
    """

    def __init__(self, max_long_data: int = 8192) -> None:
        self._buffer = bytearray()
        self._max_long_data = max_long_data  # bounds what a false VR 0xC8 header can make us wait for
        self.skipped_bytes = 0
        self.crc_errors = 0
        self.frames = 0

    def reset(self) -> None:
        """Forget a partial frame (after a reconnect)."""
        self._buffer.clear()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        found: list[Frame] = []
        start = 0
        while True:
            hit, bad_crcs = self._scan(start)
            end = hit[0] if hit is not None else self._first_possible_start(start)
            # Count only what is dropped now: bytes kept for the next feed are looked at again then.
            self.skipped_bytes += end - start
            self.crc_errors += sum(1 for at in bad_crcs if at < end)
            if hit is None:
                del self._buffer[:end]
                self.frames += len(found)
                return found
            found.append(self._frame_at(*hit))
            start = hit[0] + hit[1]

    def _scan(self, start: int) -> tuple[tuple[int, int] | None, list[int]]:
        """(position, length) of the first complete frame with a good CRC from `start`, and the bad-CRC positions."""
        bad_crcs: list[int] = []
        for at in range(start, len(self._buffer)):
            length = self._candidate_length(at)
            if not length or at + length > len(self._buffer):
                continue
            if self._crc_ok(at, length):
                return (at, length), bad_crcs
            bad_crcs.append(at)
        return None, bad_crcs

    def _first_possible_start(self, start: int) -> int:
        """Where a frame still missing bytes could start; everything before it is junk."""
        for at in range(start, len(self._buffer)):
            length = self._candidate_length(at)
            if length == 0 or (length is not None and at + length > len(self._buffer)):
                return at
        return len(self._buffer)

    def _candidate_length(self, at: int) -> int | None:
        """Total length of a frame starting at `at`: None if it cannot start there, 0 if too few bytes to tell."""
        buf = self._buffer
        if at + 1 >= len(buf):
            return 0
        version = buf[at + 1]
        if version == VR_SHORT:
            return 0 if at + 5 >= len(buf) else 6 + buf[at + 5] + 2
        if version == VR_LONG:
            if at + 6 >= len(buf):
                return 0
            size = buf[at + 5] | buf[at + 6] << 8
            return None if size > self._max_long_data else 7 + size + 2
        return None

    def _crc_ok(self, at: int, length: int) -> bool:
        body = bytes(self._buffer[at : at + length - 2])
        return crc16_modbus(body).to_bytes(2, "little") == self._buffer[at + length - 2 : at + length]

    def _frame_at(self, at: int, length: int) -> Frame:
        buf = self._buffer
        header = 7 if buf[at + 1] == VR_LONG else 6
        data = bytes(buf[at + header : at + length - 2])
        return Frame(buf[at], buf[at + 1], bytes(buf[at + 2 : at + 4]), buf[at + 4], data)
