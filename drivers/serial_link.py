"""An asyncio-facing serial port that survives being unplugged: one reader and one writer thread per port.

Any pyserial name works (`COM3`, `/dev/ttyUSB0`, `socket://host:port`, a pty path) because the port is opened with
`serial.serial_for_url`. The reader thread blocks in `read()` with a short timeout (so it can notice `close()`) and
hands bytes to the event loop with `loop.call_soon_threadsafe`: nothing polls from the loop, unlike pyserial-asyncio on
Windows, which wakes every 0.5 ms.

Writes go through a queue to a sibling writer thread rather than through the reader thread or the loop: the reader may
sit in a blocking read for up to `read_timeout`, which would delay a gate command, and pyserial's Windows `write()`
waits until the bytes have left the UART, which must not block the event loop.

When the port fails (USB adapter pulled, socket closed) the link reports it through `on_state(False, error)`, closes
the port, and the reader thread retries opening it with capped exponential backoff until it comes back
(`on_state(True, "")`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import serial  # type: ignore[import-untyped]  # pyserial ships no types and the lock has no stubs

log = logging.getLogger(__name__)

DataCallback = Callable[[bytes], None]
StateCallback = Callable[[bool, str], None]

_MAX_CHUNK = 4096  # bytes handed to the loop in one call; a display board's frames are far smaller


class SerialLinkError(ConnectionError):
    """The port cannot take bytes now: not connected, closed, or the write failed. The message names the port."""


def present_ports() -> list[str]:
    """The serial ports this computer has now (COM3, /dev/ttyUSB0 …), sorted; empty when they cannot be listed."""
    try:
        from serial.tools import list_ports  # type: ignore[import-untyped]

        return sorted(port.device for port in list_ports.comports())
    except (ImportError, OSError) as exc:
        log.warning("the serial ports could not be listed: %s", exc)
        return []


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts to (re)open a port: `initial`, times `factor` each failure, never above `maximum`."""

    initial: float = 0.2
    maximum: float = 5.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield min(delay, self.maximum)
            delay = min(delay * self.factor, self.maximum)


@dataclass(slots=True)
class _WriteJob:
    data: bytes
    done: asyncio.Future[None]


def _reason(exc: BaseException) -> str:
    """The useful part of a pyserial/OS error: no "could not open port X:" (we name the port ourselves), no errno."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    text = re.sub(r"^could not open port .*?: ", "", text, flags=re.IGNORECASE)
    text = re.sub(r"^\[Errno -?\d+\] ", "", text)
    return text or type(exc).__name__


class SerialLink:
    """One serial port seen from asyncio: `on_data(bytes)` for what arrives, `await write(bytes)` to send.

    `on_data` and `on_state(connected, error)` are called on the event loop thread. `error` is one sentence naming the
    port ("serial port /dev/ttyUSB0 could not be opened: No such file or directory: '/dev/ttyUSB0'"), or "" when
    connected. `on_state` is called on every change, including each new error message while retrying.
    """

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 9600,
        on_data: DataCallback | None = None,
        on_state: StateCallback | None = None,
        read_timeout: float = 0.1,
        write_timeout: float = 2.0,
        backoff: Backoff | None = None,
        serial_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._url = url
        self._open_options: dict[str, Any] = {
            "baudrate": baudrate,
            "timeout": read_timeout,
            "write_timeout": write_timeout,  # bounds how long a stuck write can hold the port lock
            **(serial_options or {}),
        }
        self._on_data = on_data
        self._on_state = on_state
        self._backoff = backoff or Backoff()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: list[threading.Thread] = []
        self._writes: queue.SimpleQueue[_WriteJob | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._port_lock = threading.Lock()  # the reader swaps/closes the port, the writer uses it
        self._port: serial.SerialBase | None = None
        self._write_failure = ""  # set by the writer thread, read by the reader thread
        # Loop-side view of the state; changed only on the loop thread.
        self._connected = False
        self._error = ""
        self._closed = False
        self._connected_event: asyncio.Event | None = None

    # ------------------------------------------------------------------ loop side

    @property
    def url(self) -> str:
        return self._url

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def error(self) -> str:
        """Why the port is not connected, one sentence naming it; "" when connected or not yet tried."""
        return self._error

    async def start(self) -> None:
        """Start the reader and writer threads. Returns at once: the port opens (and reopens) in the background."""
        if self._threads:
            raise RuntimeError(f"serial port {self._url} is already started")
        self._loop = asyncio.get_running_loop()
        self._connected_event = asyncio.Event()
        self._threads = [
            threading.Thread(target=self._run_reader, name=f"serial-reader {self._url}", daemon=True),
            threading.Thread(target=self._run_writer, name=f"serial-writer {self._url}", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    async def wait_connected(self) -> None:
        """Wait until the port is open (wrap in `asyncio.timeout`; `error` then says why it is not)."""
        if self._connected_event is None:
            raise RuntimeError(f"serial port {self._url} is not started")
        await self._connected_event.wait()

    async def write(self, data: bytes) -> None:
        """Send bytes; returns once the OS has taken them. Raises SerialLinkError at once if the port is not open."""
        if self._closed or self._loop is None:
            raise SerialLinkError(f"serial port {self._url} is closed")
        if not self._connected:
            # Queueing for later would deliver stale commands after a reconnect; the owner decides what to resend.
            raise SerialLinkError(self._error or f"serial port {self._url} is not connected")
        job = _WriteJob(bytes(data), self._loop.create_future())
        self._writes.put(job)
        await job.done

    async def close(self) -> None:
        """Stop both threads and close the port. Waits (off the loop) for the threads to end."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._writes.put(None)
        threads, self._threads = self._threads, []
        for thread in threads:
            await asyncio.to_thread(thread.join)
        self._close_port()
        self._connected = False

    async def __aenter__(self) -> SerialLink:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _report(self, connected: bool, error: str) -> None:
        if (connected, error) == (self._connected, self._error) or self._closed:
            return
        self._connected, self._error = connected, error
        if self._connected_event is not None:
            if connected:
                self._connected_event.set()
            else:
                self._connected_event.clear()
        if error:
            log.warning("%s", error)
        if self._on_state is not None:
            self._on_state(connected, error)

    def _deliver(self, data: bytes) -> None:
        if self._on_data is not None and not self._closed:
            self._on_data(data)

    @staticmethod
    def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
        if done.done():  # the writer gave up waiting (cancelled); nothing to tell
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    # ------------------------------------------------------------------ thread side

    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: the owner is gone, nobody to tell
            self._stop.set()

    def _run_reader(self) -> None:
        """Open, read until the port fails, close, wait, reopen: until close()."""
        delays = self._backoff.delays()
        while not self._stop.is_set():
            port = self._open()
            if port is None:
                self._stop.wait(next(delays))
                continue
            delays = self._backoff.delays()  # a port that opened starts the backoff afresh
            lost = self._read_until_lost(port)
            self._close_port()
            if lost:
                self._to_loop(self._report, False, lost)
                self._stop.wait(next(delays))

    def _open(self) -> serial.SerialBase | None:
        try:
            port = serial.serial_for_url(self._url, **self._open_options)
        except Exception as exc:  # a bad name, a busy port, a refused socket: all reported, all retried
            self._to_loop(self._report, False, f"serial port {self._url} could not be opened: {_reason(exc)}")
            return None
        with self._port_lock:
            self._port, self._write_failure = port, ""
        self._to_loop(self._report, True, "")
        return port

    def _read_until_lost(self, port: serial.SerialBase) -> str:
        """Hand bytes to the loop until the port fails (returns why) or close() is called (returns "")."""
        while not self._stop.is_set():
            if self._write_failure:
                return self._write_failure
            try:
                data = port.read(1)  # blocks until a byte arrives or read_timeout passes
                # Then take whatever else is already buffered, so a frame reaches the loop in one call, not per byte.
                while data and len(data) < _MAX_CHUNK and (waiting := port.in_waiting):
                    data += port.read(min(waiting, _MAX_CHUNK - len(data)))
            except Exception as exc:  # SerialException, OSError, or TypeError when pyserial is half-closed
                return f"serial port {self._url} was lost: {_reason(exc)}"
            if data:
                self._to_loop(self._deliver, data)
        return ""

    def _close_port(self) -> None:
        with self._port_lock:
            port, self._port = self._port, None
        if port is None:
            return
        # pyserial 3.5's socket:// close() skips socket.close() when shutdown() fails (the peer is already gone), which
        # would leak one descriptor per reconnect: close the socket ourselves too (closing twice is harmless).
        sock = getattr(port, "_socket", None)
        try:
            port.close()
        except Exception as exc:  # closing a vanished device can fail; it is gone either way
            log.debug("closing serial port %s: %s", self._url, exc)
        if sock is not None:
            sock.close()

    def _run_writer(self) -> None:
        while (job := self._writes.get()) is not None:
            self._to_loop(self._settle, job.done, self._write_now(job.data))

    def _write_now(self, data: bytes) -> SerialLinkError | None:
        with self._port_lock:
            if self._port is None:
                return SerialLinkError(f"serial port {self._url} is not connected")
            try:
                self._port.write(data)
            except Exception as exc:
                failure = f"serial port {self._url} was lost: write failed: {_reason(exc)}"
                self._write_failure = failure  # the reader closes the port and starts reconnecting
                return SerialLinkError(failure)
        return None
