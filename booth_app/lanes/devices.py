"""The lane's devices, built from plain values: its LED/voice board as a `LaneDisplay`, and its gate as a `Barrier`.

`BoardDisplay` turns what the lane wants shown or said into 0x64 commands (`display-board-0x64.md`) for one
`DisplayBoard`. It is best effort: a board that fails costs one warning and `last_error`, never an exception, because
the gate must not wait for the text. Text GBK cannot hold is shown with '?' in place of the missing characters.

`open_lane_devices(specs)` opens everything a set of lanes needs: one `DisplayBus` per display port (lanes whose boards
share an RS485 line share the bus, at different addresses) and each lane's barrier (`barrier.md`). Ports that cannot
be opened yet do not stop it: the serial link keeps retrying in the background and the first command says the rest.

Choices the protocol page leaves to us:

* Colours of `show`: the first line (the plate, or the greeting) yellow; a line with a fee in it (containing "元") red;
  every other line green. Lines beyond the board's count are dropped, missing ones sent empty so the last car's text
  does not linger.
* Voice replaces the board's queue (0x30 OPT 2): a sentence still queued from the car before would mislead this one.
* Offline policy (0xD3 TCA): "free" → 1 let through; "cash" and "manual" → 2 manual release (a cashier must take the
  money or decide, and without the PC only a person can lift the arm); "forbid" → 0 no entry. 3 (not authorised) is
  not used.
* Gate relay on a display board: 0x0F counts the on-time in whole seconds (1..254), so a `pulse_ms` becomes
  max(1, round(pulse_ms / 1000)) s, and the board switches the relay off by itself; closing sends OT 0 (off now).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, Literal

from booth_app.lanes.ports import OfflinePolicyName
from drivers.barrier import Barrier, BarrierError, CameraIoBarrier, DisplayRelayBarrier, ModbusBarrier, SendRelay
from drivers.display_0x64 import (
    GREEN,
    RED,
    RELAY_OFF,
    YELLOW,
    Color,
    Command,
    Line,
    OfflinePolicy,
    VoiceMode,
    hide_qr_page,
    offline_policy,
    relay,
    show_free_spaces,
    show_lines,
    show_qr_page,
    speak,
)
from drivers.display_bus import BoardState, DisplayBoard, DisplayBoardError, DisplayBus
from drivers.serial_link import Backoff, SerialLinkError

log = logging.getLogger(__name__)

LINE_BYTES: Final = 32  # TL of one 0x6E/0x6F line block
VOICE_BYTES: Final = 254  # TEXT of 0x30
QR_BYTES: Final = 221  # QR content plus text of 0xE1
MAX_JIAO: Final = 0xFFFF_FFFF  # MONEY of 0xE1 is a u32
FEE_MARK: Final = "元"

OFFLINE_POLICIES: Final[Mapping[OfflinePolicyName, OfflinePolicy]] = {
    "cash": OfflinePolicy.MANUAL_RELEASE,
    "free": OfflinePolicy.LET_THROUGH,
    "manual": OfflinePolicy.MANUAL_RELEASE,
    "forbid": OfflinePolicy.NO_ENTRY,
}

# A display-board gate command may wait on the shared RS485 line behind another board's command and its retries
# (about 1.7 s at 9600 baud when that board is dead) before its own tries: give it both, not the driver's 2 s.
RELAY_TIMEOUT_S: Final = 4.0


# ---------------------------------------------------------------------------------------------------- text


def line_color(index: int, text: str) -> Color:
    """Yellow for the first line (plate or greeting), red for a fee, green for the rest."""
    if index == 0:
        return YELLOW
    return RED if FEE_MARK in text else GREEN


def fit_gbk(text: str, max_bytes: int | None, notes: list[str], what: str) -> str:
    """`text` as the board can take it: characters GBK lacks become '?', and it is cut to `max_bytes` GBK bytes.

    Each change is described in `notes` (for the one warning of the call), never raised. `max_bytes` None: no cut.
    """
    missing = sorted({ch for ch in text if not _is_gbk(ch)})
    if missing:
        text = "".join(ch if _is_gbk(ch) else "?" for ch in text)
        names = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in missing)
        notes.append(f"{what} shown with '?' for characters GBK lacks: {names}")
    if max_bytes is None:
        return text
    size = 0
    for at, ch in enumerate(text):
        size += len(ch.encode("gbk"))
        if size > max_bytes:
            notes.append(f"{what} {text!r} cut to {max_bytes} bytes")
            return text[:at]
    return text


def _is_gbk(ch: str) -> bool:
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def fee_in_jiao(due: Decimal) -> int:
    """The fee as 0xE1's MONEY: 0.1 yuan, half up, within a u32."""
    jiao = int((due * 10).to_integral_value(rounding=ROUND_HALF_UP))
    return min(max(jiao, 0), MAX_JIAO)


# ---------------------------------------------------------------------------------------------------- the display


class BoardDisplay:
    """A `LaneDisplay` on one 0x64 board: multi-line text, voice, the QR payment page, free spaces, offline policy.

    `lines` is how many text lines the board has (2 or 4 usually); `legacy_multiline` sends text as 0x6E instead of
    0x6F for boards that predate V2.0. `lane` names the lane in log lines. Commands to the board never overlap: its
    `DisplayBus` puts one command on the line at a time, in the order they were asked for.
    """

    def __init__(self, board: DisplayBoard, *, lines: int = 4, legacy_multiline: bool = False, lane: str = "") -> None:
        if not 1 <= lines <= 4:
            raise ValueError(f"a display board shows 1 to 4 lines, not {lines}")
        self._board = board
        self._lines = lines
        self._legacy = legacy_multiline
        self._where = f"display board {board.address} on {board.bus.url}"
        if lane:
            self._where = f"lane {lane}: {self._where}"
        self._last_error: str | None = None

    @property
    def board(self) -> DisplayBoard:
        return self._board

    @property
    def last_error(self) -> str | None:
        """Why the last command failed (one sentence); None once a command gets through again."""
        return self._last_error

    async def show(self, lines: tuple[str, ...]) -> None:
        notes: list[str] = []
        texts = [fit_gbk(text, LINE_BYTES, notes, f"line {i + 1}") for i, text in enumerate(lines[: self._lines])]
        if len(lines) > self._lines:
            notes.append(f"{len(lines) - self._lines} line(s) beyond the board's {self._lines} left out")
        texts += [""] * (self._lines - len(texts))  # blank the rest: the last car's fee must not stay up
        blocks = [Line(text, color=line_color(i, text)) for i, text in enumerate(texts)]
        await self._send("showing text", lambda: show_lines(blocks, legacy=self._legacy), notes)

    async def speak(self, text: str) -> None:
        notes: list[str] = []
        spoken = fit_gbk(text, VOICE_BYTES, notes, "voice text")
        if not spoken:
            return  # nothing to say; 0x30 needs at least one byte
        await self._send("speaking", lambda: speak(spoken, VoiceMode.REPLACE), notes)

    async def show_pay_qr(self, url: str, text: str, due: Decimal) -> None:
        notes: list[str] = []
        content = fit_gbk(url, None, notes, "payment URL")  # never cut: half a URL is a code that leads nowhere
        caption = fit_gbk(text, max(0, QR_BYTES - len(content.encode("gbk"))), notes, "QR caption")
        await self._send(
            "showing the payment QR code", lambda: show_qr_page(content, caption, fee_jiao=fee_in_jiao(due)), notes
        )

    async def hide_pay_qr(self) -> None:
        await self._send("hiding the payment QR code", hide_qr_page, [])

    async def show_spaces(self, free: int) -> None:
        await self._send("showing free spaces", lambda: show_free_spaces(min(max(free, 0), 0xFFFF_FFFF)), [])

    async def set_offline_policy(self, policy: OfflinePolicyName) -> None:
        if policy not in OFFLINE_POLICIES:
            self._fail("setting the offline policy", f"unknown policy {policy!r}", [])
            return
        await self._send(
            f"setting the offline policy to {policy}", lambda: offline_policy(OFFLINE_POLICIES[policy]), []
        )

    async def _send(self, what: str, build: Callable[[], Command], notes: list[str]) -> None:
        """Build and send one command; any failure is logged (with `notes`) and kept in `last_error`, never raised."""
        try:
            await self._board.send(build())
        except (DisplayBoardError, SerialLinkError, ValueError) as exc:  # ValueError: the builders' limits
            self._fail(what, str(exc), notes)
            return
        except Exception as exc:  # a bug must still not stop the lane; the traceback is for whoever fixes it
            self._last_error = f"{self._where}: {what} failed: {exc}"
            log.exception("%s", self._last_error)
            return
        self._last_error = None
        if notes:
            log.warning("%s: %s: %s", self._where, what, "; ".join(notes))

    def _fail(self, what: str, error: str, notes: Iterable[str]) -> None:
        self._last_error = f"{self._where}: {what} failed: {error}"
        log.warning("%s", "; ".join([self._last_error, *notes]))


# ---------------------------------------------------------------------------------------------------- the factory

BarrierKind = Literal["display_relay", "modbus", "camera_io"]


@dataclass(frozen=True, slots=True)
class LaneDeviceSpec:
    """One lane's devices as plain values (the app maps its configuration to these).

    `pulse_ms` is every kind's gate pulse; `relay` is the display board's gate channel (display_relay), the `modbus_*`
    fields describe the relay board (modbus), `camera_serialno` and `camera_io` the camera output (camera_io).
    `display_lines` and `legacy_multiline` describe the display board (see `BoardDisplay`).
    """

    lane_id: str
    display_port: str
    display_baudrate: int
    display_address: int
    barrier_kind: BarrierKind
    relay: int = 1
    pulse_ms: int = 500
    modbus_port: str = ""
    modbus_baudrate: int = 9600
    modbus_device_id: int = 1
    modbus_coil: int = 0
    camera_serialno: str = ""
    camera_io: int = 0
    display_lines: int = 4
    legacy_multiline: bool = False


@dataclass(frozen=True, slots=True)
class LaneEquipment:
    """What one lane drives: its board's text and voice, and its gate."""

    lane_id: str
    display: BoardDisplay
    gate: Barrier


BoardListener = Callable[[str, BoardState], None]


class LaneDevices:
    """Every lane's devices (`lanes`, by lane id) and the display ports they share (`buses`, by port name).

    `add_board_listener(listener)` has `listener(lane_id, state)` called whenever a lane's board stops or starts
    answering (a board shared by lanes is reported for each). `aclose()` frees every port.
    """

    def __init__(self) -> None:
        self.lanes: dict[str, LaneEquipment] = {}
        self.buses: dict[str, DisplayBus] = {}
        self._cameras: dict[str, list[CameraIoBarrier]] = {}
        self._board_listeners: list[BoardListener] = []
        self._closed = False

    def add(self, lane: LaneEquipment) -> None:
        self.lanes[lane.lane_id] = lane
        if isinstance(lane.gate, CameraIoBarrier):
            self._cameras.setdefault(lane.gate.serialno, []).append(lane.gate)

    def lane(self, lane_id: str) -> LaneEquipment:
        """The display and gate of lane `lane_id`; KeyError naming it if no spec had that id."""
        try:
            return self.lanes[lane_id]
        except KeyError:
            raise KeyError(f"lane {lane_id} has no devices (it was not among the specs)") from None

    def add_board_listener(self, listener: BoardListener) -> None:
        self._board_listeners.append(listener)

    def board_changed(self, state: BoardState) -> None:
        """A board's `on_state`: tell the listeners, for each lane the board serves."""
        for lane in self.lanes.values():
            board = lane.display.board
            if (board.address, board.bus.url) != (state.address, state.port):
                continue
            for listener in list(self._board_listeners):
                try:
                    listener(lane.lane_id, state)
                except Exception:  # a broken observer must not stop the board's command
                    log.exception("lane %s: a display board listener failed", lane.lane_id)

    def camera_pending(self, serialno: str) -> list[dict[str, Any]]:
        """Gate commands waiting for camera `serialno` (the camera listener's `pending`), taken off the queue."""
        return [command for gate in self._cameras.get(serialno, []) for command in gate.take_pending(serialno)]

    async def aclose(self) -> None:
        """Release every gate's port, then close every display port. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for lane in self.lanes.values():
            try:
                await lane.gate.aclose()
            except Exception:  # one stuck port must not keep the others open
                log.exception("lane %s: closing the gate failed", lane.lane_id)
        # together: closing a socket:// port sleeps 0.3 s inside pyserial
        results = await asyncio.gather(*(bus.close() for bus in self.buses.values()), return_exceptions=True)
        for port, result in zip(self.buses, results, strict=True):
            if isinstance(result, Exception):
                log.error("display port %s did not close cleanly: %s", port, result)


async def open_lane_devices(
    specs: Sequence[LaneDeviceSpec],
    *,
    ack_timeout: float = 0.5,
    retries: int = 2,
    backoff: Backoff | None = None,
    connect_wait_s: float = 1.0,
) -> LaneDevices:
    """Open every lane's display board and gate. Raises ValueError for contradictory specs, never for a port.

    `ack_timeout`, `retries` and `backoff` go to each `DisplayBus`. Ports get `connect_wait_s` to open, then one line
    per port says whether it is open; one that is not keeps retrying in the background.
    """
    _check_specs(specs)
    devices = LaneDevices()
    try:
        for spec in specs:
            bus = devices.buses.get(spec.display_port)
            if bus is None:
                bus = DisplayBus(
                    spec.display_port,
                    baudrate=spec.display_baudrate,
                    ack_timeout=ack_timeout,
                    retries=retries,
                    backoff=backoff,
                )
                devices.buses[spec.display_port] = bus
                await bus.start()
            board = bus.board(spec.display_address, on_state=devices.board_changed)
            display = BoardDisplay(
                board, lines=spec.display_lines, legacy_multiline=spec.legacy_multiline, lane=spec.lane_id
            )
            devices.add(LaneEquipment(spec.lane_id, display, _barrier(spec, board)))
        await _report_ports(devices, specs, connect_wait_s)
    except BaseException:
        await devices.aclose()
        raise
    return devices


def _check_specs(specs: Sequence[LaneDeviceSpec]) -> None:
    """Contradictions no retry can fix: each one is a sentence naming the lane and the setting."""
    seen: dict[str, LaneDeviceSpec] = {}
    baudrates: dict[str, tuple[str, int]] = {}
    for spec in specs:
        lane = spec.lane_id
        if lane in seen:
            raise ValueError(f"lane {lane} is listed twice")
        seen[lane] = spec
        if not spec.display_port:
            raise ValueError(f"lane {lane} has no display port")
        first = baudrates.setdefault(spec.display_port, (lane, spec.display_baudrate))
        if first[1] != spec.display_baudrate:
            raise ValueError(
                f"lanes {first[0]} and {lane} share display port {spec.display_port} at different baud rates "
                f"({first[1]} and {spec.display_baudrate})"
            )
        if spec.barrier_kind == "modbus" and not spec.modbus_port:
            raise ValueError(f"lane {lane} has a Modbus barrier but no Modbus port")
        if spec.barrier_kind == "camera_io" and not spec.camera_serialno:
            raise ValueError(f"lane {lane} has a camera IO barrier but no camera serial number")
    for spec in specs:
        if spec.barrier_kind == "modbus" and spec.modbus_port in baudrates:
            raise ValueError(f"lane {spec.lane_id}'s Modbus port {spec.modbus_port} is also a display port")


def _barrier(spec: LaneDeviceSpec, board: DisplayBoard) -> Barrier:
    lane = f"lane {spec.lane_id} gate"
    if spec.barrier_kind == "display_relay":
        return DisplayRelayBarrier(
            relay_sender(board),
            relay=spec.relay,
            pulse_ms=spec.pulse_ms,
            timeout_s=RELAY_TIMEOUT_S,
            name=f"{lane} (relay {spec.relay} of display board {board.address} on {board.bus.url})",
        )
    if spec.barrier_kind == "modbus":
        return ModbusBarrier(
            spec.modbus_port,
            device_id=spec.modbus_device_id,
            coil=spec.modbus_coil,
            pulse_ms=spec.pulse_ms,
            baudrate=spec.modbus_baudrate,
            name=f"{lane} (coil {spec.modbus_coil} of relay board {spec.modbus_device_id} on {spec.modbus_port})",
        )
    if spec.barrier_kind == "camera_io":
        return CameraIoBarrier(
            spec.camera_serialno,
            io=spec.camera_io,
            pulse_ms=spec.pulse_ms,
            name=f"{lane} (IO {spec.camera_io} of camera {spec.camera_serialno})",
        )
    raise ValueError(f"lane {spec.lane_id} has an unknown barrier kind {spec.barrier_kind!r}")


def relay_seconds(pulse_ms: int) -> int:
    """0x0F's OT for a pulse: whole seconds, at least 1, at most 254 (255 would mean "stay on")."""
    return min(max(1, round(pulse_ms / 1000)), 254)


def relay_sender(board: DisplayBoard) -> SendRelay:
    """`send_relay(relay, on, pulse_ms)` for `DisplayRelayBarrier`: 0x0F through `board`, failures raised to it."""

    async def send_relay(channel: int, on: bool, pulse_ms: int) -> None:
        await board.send(relay(channel, relay_seconds(pulse_ms) if on else RELAY_OFF))

    return send_relay


async def _report_ports(devices: LaneDevices, specs: Sequence[LaneDeviceSpec], wait_s: float) -> None:
    """Give every port `wait_s` to open, all at once, then say in one line per port how it went."""
    gates = [lane.gate for lane in devices.lanes.values() if isinstance(lane.gate, ModbusBarrier)]
    modbus = {asyncio.ensure_future(_connect(gate)): gate for gate in gates}
    waits = [asyncio.ensure_future(bus.link.wait_connected()) for bus in devices.buses.values()]
    if waits or modbus:
        await asyncio.wait([*waits, *modbus], timeout=wait_s)
    for task in [*waits, *modbus]:
        task.cancel()
    await asyncio.gather(*waits, *modbus, return_exceptions=True)
    for port, bus in devices.buses.items():
        users = ", ".join(f"{s.lane_id} (board {s.display_address})" for s in specs if s.display_port == port)
        if bus.link.connected:
            log.info("display port %s is open for lanes %s", port, users)
        else:
            reason = bus.link.error or f"serial port {port} did not open within {wait_s:g} s"
            log.warning("display port for lanes %s is not open yet, retrying in the background: %s", users, reason)
    for task, gate in modbus.items():
        opened = not task.cancelled() and task.result()
        if opened:
            log.info("%s: relay board port %s is open", gate.name, gate.port)
        elif gate.last_error is None:  # still connecting when the wait ran out; a failure the barrier logged itself
            log.warning("%s: relay board port %s did not open within %g s", gate.name, gate.port, wait_s)


async def _connect(gate: ModbusBarrier) -> bool:
    try:
        await gate.connect()
    except BarrierError:
        return False  # the barrier keeps the reason in last_error (state ERROR) and has logged it
    return True
