"""Barrier gates (道闸): one interface, three ways to close the dry contact that lifts the arm.

A gate arm goes up when something closes a relay for about half a second and comes down by its ground loop after the
car (`barrier.md` in the shared protocols folder). Which relay differs per lane, so each lane gets one of:

* `DisplayRelayBarrier`: a relay output of the lane's LED/voice board, through an injected `send_relay` callable (the
  board driver lives elsewhere and shares its serial port with the display text);
* `ModbusBarrier`: coil N of a Modbus RTU relay board on a pyserial port (`COM5`, `/dev/ttyUSB0`, `socket://h:p`);
* `CameraIoBarrier`: the plate camera's own IO output, commanded in the camera's next HTTP answer.

All of them: `await open(reason)`, `await close()`, `state` (`BarrierState`) with `last_error`, and `aclose()` to free
the port. A command that cannot be delivered raises `BarrierError` (one sentence naming the device) and leaves the
state ERROR, so the caller knows the gate did not move and the window can say why.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Final

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient, ModbusBaseClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from drivers.zhenshi import IoValue, ioctrl_response

_log = logging.getLogger(__name__)

GATE_OPEN_RELAY: Final = 1  # 0x64 display board, command 0x0F: channel 1 opens the gate
GATE_CLOSE_RELAY: Final = 2  # ... and channel 2 closes it (channel 0 is the traffic light)


class BarrierState(Enum):
    UNKNOWN = "unknown"  # nothing commanded yet since start
    OPEN = "open"  # the last open was delivered (the arm comes down by itself after the car)
    CLOSED = "closed"  # the last close was delivered
    ERROR = "error"  # the last command failed or the link was lost: see last_error


class BarrierError(Exception):
    """A gate command that could not be delivered; the message is one sentence naming the device."""


StateListener = Callable[[BarrierState, str | None], None]


class Barrier(ABC):
    """A lane's gate. Commands are serialised: an open during a pulse waits for that pulse to finish."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._state = BarrierState.UNKNOWN
        self._last_error: str | None = None
        self._last_reason = ""
        self._lock = asyncio.Lock()
        self._listeners: list[StateListener] = []

    @property
    def state(self) -> BarrierState:
        return self._state

    @property
    def last_error(self) -> str | None:
        """Why the state is ERROR; None while the barrier works."""
        return self._last_error

    @property
    def last_reason(self) -> str:
        """The reason given with the last open (automatic rule, cashier, remote operate_liftrod…)."""
        return self._last_reason

    def add_listener(self, listener: StateListener) -> None:
        """Call `listener(state, last_error)` on every change, including a link lost while idle."""
        self._listeners.append(listener)

    async def open(self, reason: str) -> None:
        """Lift the arm; raises BarrierError (state ERROR) when the command could not be delivered."""
        async with self._lock:
            self._last_reason = reason
            _log.info("%s: open (%s)", self.name, reason)
            await self._run(self._open)

    async def close(self) -> None:
        """Lower the arm, or at least release the open contact; raises BarrierError like open."""
        async with self._lock:
            _log.info("%s: close", self.name)
            await self._run(self._close)

    async def aclose(self) -> None:  # noqa: B027 - deliberately empty: only drivers holding a port override it
        """Free the port or connection. A later command reconnects."""

    async def _run(self, command: Callable[[], Awaitable[BarrierState | None]]) -> None:
        try:
            new_state = await command()
        except BarrierError as exc:
            self._set_state(BarrierState.ERROR, str(exc))
            raise
        if new_state is not None:
            self._set_state(new_state, None)

    def _set_state(self, state: BarrierState, error: str | None) -> None:
        if (state, error) == (self._state, self._last_error):
            return
        self._state, self._last_error = state, error
        if error:
            _log.warning("%s: %s", self.name, error)
        for listener in self._listeners:
            try:
                listener(state, error)
            except Exception:  # a broken observer must not stop the gate
                _log.exception("%s: state listener failed", self.name)

    @abstractmethod
    async def _open(self) -> BarrierState | None:
        """Deliver the open command; return the state it leads to (None: unchanged until confirmed later)."""

    @abstractmethod
    async def _close(self) -> BarrierState | None:
        """Deliver the close command; return the state it leads to."""


# ---------------------------------------------------------------- display board relay

SendRelay = Callable[[int, bool, int], Awaitable[None]]
"""`send_relay(relay, on, pulse_ms)`: switch relay `relay` of the display board on for `pulse_ms` (the board switches
it off by itself) or, with on=False, off now."""


class DisplayRelayBarrier(Barrier):
    """Pulses relay `relay` of the lane's display board; close pulses `close_relay`, or releases `relay` if None."""

    def __init__(
        self,
        send_relay: SendRelay,
        *,
        relay: int = GATE_OPEN_RELAY,
        close_relay: int | None = None,
        pulse_ms: int = 500,
        timeout_s: float = 2.0,
        name: str = "display board barrier",
    ) -> None:
        super().__init__(name)
        self._send_relay = send_relay
        self._relay = relay
        self._close_relay = close_relay
        self._pulse_ms = pulse_ms
        self._timeout_s = timeout_s

    async def _open(self) -> BarrierState:
        await self._switch(self._relay, True, self._pulse_ms)
        return BarrierState.OPEN

    async def _close(self) -> BarrierState:
        if self._close_relay is None:
            await self._switch(self._relay, False, 0)  # no close output wired: the ground loop lowers the arm
        else:
            await self._switch(self._close_relay, True, self._pulse_ms)
        return BarrierState.CLOSED

    async def _switch(self, relay: int, on: bool, pulse_ms: int) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._send_relay(relay, on, pulse_ms)
        except TimeoutError:
            raise BarrierError(f"the display board did not switch relay {relay} within {self._timeout_s:g} s") from None
        except Exception as exc:  # whatever the board driver raises (port gone, no reply), the gate did not move
            raise BarrierError(f"the display board could not switch relay {relay} ({exc})") from exc


# ---------------------------------------------------------------- Modbus RTU relay board


class ModbusBarrier(Barrier):
    """Coil `coil` of a Modbus RTU relay board: on, wait `pulse_ms`, off.

    The port is any pyserial name. `socket://host:port` (an RS485-to-Ethernet converter, or the simulator) goes
    through pymodbus's TCP client with the RTU framer: the same bytes as on a serial line, but on asyncio's own socket
    transport, without pyserial's blocking 0.3 s sleep when a socket port closes or pymodbus's 0.5 ms polling on
    Windows. Every other name goes through pymodbus's serial client. The connection is opened on first use; a lost
    link is reported at once (state ERROR) and every later command reconnects, `attempts` times per write.
    """

    def __init__(
        self,
        port: str,
        *,
        device_id: int = 1,
        coil: int = 0,
        pulse_ms: int = 500,
        baudrate: int = 9600,
        close_coil: int | None = None,
        timeout_s: float = 1.0,
        attempts: int = 2,
        name: str = "Modbus barrier",
    ) -> None:
        super().__init__(name)
        self.port = port
        self._device_id = device_id
        self._coil = coil
        self._close_coil = close_coil
        self._pulse_s = pulse_ms / 1000
        self._baudrate = baudrate
        self._timeout_s = timeout_s
        self._attempts = max(1, attempts)
        self._client: ModbusBaseClient | None = None
        self._generation = 0  # which client a link notice is about: a dropped one's last words are ignored

    async def connect(self) -> None:
        """Open the port now (e.g. at start-up) instead of on the first command; raises BarrierError."""
        async with self._lock:
            try:
                await self._connected_client()
            except BarrierError as exc:
                self._set_state(BarrierState.ERROR, str(exc))
                raise

    async def aclose(self) -> None:
        self._drop_client()

    async def _open(self) -> BarrierState:
        await self._write_coil(self._coil, True)
        try:
            await asyncio.sleep(self._pulse_s)
        finally:
            # shielded: an open cancelled mid-pulse must still release the contact, or the arm is held up for good
            await asyncio.shield(self._write_coil(self._coil, False))
        return BarrierState.OPEN

    async def _close(self) -> BarrierState:
        if self._close_coil is None:
            await self._write_coil(self._coil, False)  # no close output wired: release, the ground loop lowers it
        else:
            await self._write_coil(self._close_coil, True)
            try:
                await asyncio.sleep(self._pulse_s)
            finally:
                await asyncio.shield(self._write_coil(self._close_coil, False))
        return BarrierState.CLOSED

    async def _write_coil(self, coil: int, on: bool) -> None:
        problem = ""
        for _ in range(self._attempts):
            try:
                client = await self._connected_client()
                reply = await client.write_coil(coil, on, device_id=self._device_id)
            except BarrierError as exc:
                problem = str(exc)
            except (ModbusException, OSError, ValueError):  # a lost link or no answer: reconnect and try again
                problem = f"the relay board (device {self._device_id}) on {self.port} did not answer"
            else:
                if reply.isError():
                    code = getattr(reply, "exception_code", "?")
                    raise BarrierError(
                        f"the relay board (device {self._device_id}) on {self.port} refused to switch coil {coil}"
                        f" (Modbus exception code {code})"
                    )
                return
            self._drop_client()
        raise BarrierError(problem)

    async def _connected_client(self) -> ModbusBaseClient:
        if self._client is None:
            self._generation += 1
            self._client = self._new_client(functools.partial(self._on_link, self._generation))
        if not self._client.connected:
            try:
                opened = await self._client.connect()
            except ValueError:  # pyserial refuses the name itself, e.g. an unknown URL scheme
                opened = False
            if not opened:
                raise BarrierError(f"the relay board port {self.port} cannot be opened")
        return self._client

    def _new_client(self, on_link: Callable[[bool], None]) -> ModbusBaseClient:
        # retries=0: the retry loop is ours, so it can reconnect between attempts;
        # reconnect_delay=0: no background reconnect task, the next command reconnects
        address = socket_address(self.port)
        if address is not None:
            host, tcp_port = address
            return AsyncModbusTcpClient(
                host,
                port=tcp_port,
                framer=FramerType.RTU,
                timeout=self._timeout_s,
                retries=0,
                reconnect_delay=0,
                trace_connect=on_link,
                name=self.name,
            )
        return AsyncModbusSerialClient(
            self.port,
            framer=FramerType.RTU,
            baudrate=self._baudrate,
            timeout=self._timeout_s,
            retries=0,
            reconnect_delay=0,
            trace_connect=on_link,
            name=self.name,
        )

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _on_link(self, generation: int, up: bool) -> None:
        if not up and generation == self._generation and self._client is not None:
            self._set_state(BarrierState.ERROR, f"lost the connection to the relay board on {self.port}")


def socket_address(port: str) -> tuple[str, int] | None:
    """(host, port) of a pyserial `socket://host:port[?options]` name; None for any other port name."""
    if not port.startswith("socket://"):
        return None
    parts = urllib.parse.urlsplit(port)
    try:
        tcp_port = parts.port
    except ValueError:  # a port number out of range or not a number: let pyserial's own check name it
        return None
    if not parts.hostname or tcp_port is None:
        return None
    return parts.hostname, tcp_port


# ---------------------------------------------------------------- camera IO


class CameraIoBarrier(Barrier):
    """The plate camera opens the gate with its IO output: commands wait here for the camera's next HTTP answer.

    `open()` queues an `ivs_ioctrl` pulse; the camera listener calls `take_pending(serialno)` when it answers a push (or
    a comet-mode poll) from that camera and merges the commands into its answer (`zhenshi.merge_responses`). The state
    turns OPEN when the camera collects the command. A command not collected within `max_age_s` is dropped and the
    state turns ERROR: a gate must not open minutes later for whoever happens to stand there.
    """

    def __init__(
        self,
        serialno: str,
        *,
        io: int = 0,
        pulse_ms: int = 500,
        max_age_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "camera IO barrier",
    ) -> None:
        super().__init__(name)
        self.serialno = serialno
        self._command = ioctrl_response(io, IoValue.PULSE, pulse_ms)  # built now: a bad io fails here, not at open
        self._max_age_s = max_age_s
        self._clock = clock
        self._pending: list[tuple[float, dict[str, Any]]] = []
        self._expiry: asyncio.TimerHandle | None = None

    @property
    def pending(self) -> int:
        """Commands waiting for the camera."""
        return len(self._pending)

    def take_pending(self, serialno: str) -> list[dict[str, Any]]:
        """The commands for camera `serialno` (whole answers to merge into the reply), removed from the queue."""
        if serialno != self.serialno or not self._pending:
            return []
        self._drop_stale()
        self._cancel_expiry()
        commands = [command for _, command in self._pending]
        self._pending.clear()
        if commands:
            self._set_state(BarrierState.OPEN, None)
        return commands

    async def aclose(self) -> None:
        self._cancel_expiry()

    async def _open(self) -> None:
        self._pending.append((self._clock(), copy.deepcopy(self._command)))
        if self._expiry is None:
            self._expiry = asyncio.get_running_loop().call_later(self._max_age_s, self._on_expiry_timer)
        return None  # OPEN once the camera has collected it

    async def _close(self) -> BarrierState:
        self._pending.clear()  # an open the camera has not collected yet is cancelled; the arm lowers by its loop
        self._cancel_expiry()
        return BarrierState.CLOSED

    def _on_expiry_timer(self) -> None:
        # reports a camera that stopped asking even when nobody looks at the queue
        self._expiry = None
        self._drop_stale()
        if self._pending:
            delay = self._pending[0][0] + self._max_age_s - self._clock()
            self._expiry = asyncio.get_running_loop().call_later(max(delay, 0.0), self._on_expiry_timer)

    def _drop_stale(self) -> None:
        cutoff = self._clock() - self._max_age_s
        fresh = [(queued, command) for queued, command in self._pending if queued >= cutoff]
        if len(fresh) < len(self._pending):
            self._pending = fresh
            self._set_state(
                BarrierState.ERROR,
                f"camera {self.serialno} did not collect the open command within {self._max_age_s:g} s",
            )

    def _cancel_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
