"""The display-board driver: one RS485 port, the boards on it, each command sent and its ACK awaited.

`DisplayBus` drives one serial port through `drivers.serial_link.SerialLink`; `DisplayBus.board(a)` gives the
`DisplayBoard` at address `a`, whose `send(command)` waits for the ACK, retries, and reports whether the board is
answering. The frames and builders are in `drivers.display_0x64`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from drivers.display_0x64 import REPLIES_WITHOUT_ACK, Command, Frame, FrameDecoder, check_byte, encode_frame
from drivers.serial_link import Backoff, SerialLink, SerialLinkError, StateCallback

log = logging.getLogger(__name__)


class DisplayBoardError(Exception):
    """A command did not get done; the message names the board and port."""


class BoardRefusedError(DisplayBoardError):
    """The board answered with an ACK other than 0."""

    def __init__(self, message: str, ack: int) -> None:
        super().__init__(message)
        self.ack = ack


class BoardNotAnsweringError(DisplayBoardError):
    """No reply after every try."""


@dataclass(frozen=True, slots=True)
class BoardState:
    """Whether a board answers, for whoever watches it; `message` is one sentence naming board and port."""

    address: int
    port: str
    answering: bool
    message: str


BoardStateCallback = Callable[[BoardState], None]


class DisplayBus:
    """One serial port (an RS485 line) with one or more display boards on it, at different addresses.

    One command is on the line at a time, whatever board it is for: RS485 is half duplex, so two boards answering at
    once would garble both replies. That also makes commands to one board strictly one after another. Each try waits
    `ack_timeout` s plus the time the frames take at `baudrate`; a command is tried `1 + retries` times.
    """

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 9600,
        ack_timeout: float = 0.5,
        retries: int = 2,
        on_link_state: StateCallback | None = None,
        backoff: Backoff | None = None,
        read_timeout: float = 0.1,
    ) -> None:
        self.url = url
        self._baudrate = baudrate
        self._ack_timeout = ack_timeout
        self._retries = retries
        self._on_link_state = on_link_state
        self._decoder = FrameDecoder()
        self._link = SerialLink(
            url,
            baudrate=baudrate,
            on_data=self._on_bytes,
            on_state=self._link_state,
            backoff=backoff,
            read_timeout=read_timeout,
        )
        self._line = asyncio.Lock()
        self._waiting: tuple[int, int, asyncio.Future[Frame]] | None = None
        self._boards: dict[int, DisplayBoard] = {}
        self.unexpected_frames = 0

    @property
    def link(self) -> SerialLink:
        return self._link

    @property
    def decoder(self) -> FrameDecoder:
        return self._decoder

    async def start(self) -> None:
        await self._link.start()

    async def close(self) -> None:
        await self._link.close()

    async def __aenter__(self) -> DisplayBus:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def board(self, address: int, *, on_state: BoardStateCallback | None = None) -> DisplayBoard:
        """The board at `address` on this port (the same object each time; `on_state` replaces the watcher)."""
        check_byte("board address", address)
        board = self._boards.get(address)
        if board is None:
            board = self._boards[address] = DisplayBoard(self, address)
        if on_state is not None:
            board.on_state = on_state
        return board

    async def request(self, address: int, command: Command, *, expect_reply: bool = True) -> Frame | None:
        """Send `command` to `address` and return its reply frame (ACK checked), trying `1 + retries` times.

        Raises BoardRefusedError, BoardNotAnsweringError, or SerialLinkError when the port is not open.
        With `expect_reply=False` (boards put in never-reply mode with 0x1A) it only writes.
        """
        frame = encode_frame(address, *command)
        async with self._line:
            if not expect_reply:
                await self._link.write(frame)
                return None
            reply = await self._exchange(address, command.cmd, frame)
        self._check_ack(address, reply)
        return reply

    async def _exchange(self, address: int, cmd: int, frame: bytes) -> Frame:
        timeout = self._ack_timeout + 2 * (len(frame) + 16) * 10 / self._baudrate  # both ways at 10 bits a byte
        loop = asyncio.get_running_loop()
        for _ in range(1 + self._retries):
            waiter: asyncio.Future[Frame] = loop.create_future()
            self._waiting = (address, cmd, waiter)
            try:
                await self._link.write(frame)
                return await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                continue
            finally:
                self._waiting = None
        raise BoardNotAnsweringError(
            f"display board {address} on {self.url} is not answering: no reply to command 0x{cmd:02X} "
            f"after {1 + self._retries} tries"
        )

    def _check_ack(self, address: int, reply: Frame) -> None:
        if reply.cmd in REPLIES_WITHOUT_ACK:
            return
        code = reply.data[0] if reply.data else -1  # 0x00's RET sits where the ACK does, with the same meaning
        if code != 0:
            raise BoardRefusedError(
                f"display board {address} on {self.url} refused command 0x{reply.cmd:02X} (ACK {code})", code
            )

    def _on_bytes(self, data: bytes) -> None:
        for frame in self._decoder.feed(data):
            waiting = self._waiting
            if waiting is not None and (frame.address, frame.cmd) == waiting[:2] and not waiting[2].done():
                waiting[2].set_result(frame)
            else:  # a late reply to a try we gave up on, or another device talking
                self.unexpected_frames += 1
                log.debug("display port %s: unexpected frame %s", self.url, frame)

    def _link_state(self, connected: bool, error: str) -> None:
        if connected:
            self._decoder.reset()  # a partial frame from before the loss would only delay resynchronising
        if self._on_link_state is not None:
            self._on_link_state(connected, error)


class DisplayBoard:
    """One board on a `DisplayBus`. `answering` is None until the first command, then whether the last one got a reply.

    A board that stops answering is reported once through `on_state` (answering False, message naming address and
    port); the next command it answers (even with a refusal) reports it back. Nothing probes it in between: the lane's
    next message or periodic clock sync does.
    """

    def __init__(self, bus: DisplayBus, address: int, on_state: BoardStateCallback | None = None) -> None:
        self.bus = bus
        self.address = address
        self.on_state = on_state
        self.answering: bool | None = None

    async def send(self, command: Command, *, expect_reply: bool = True) -> Frame | None:
        """Send one command and wait for its ACK (see `DisplayBus.request` for what it raises)."""
        try:
            reply = await self.bus.request(self.address, command, expect_reply=expect_reply)
        except BoardRefusedError:
            self._set_answering(True, "")
            raise
        except (BoardNotAnsweringError, SerialLinkError) as exc:
            self._set_answering(False, str(exc))
            raise
        if expect_reply:
            self._set_answering(True, "")
        return reply

    async def send_all(self, commands: Iterable[Command]) -> None:
        for command in commands:
            await self.send(command)

    def _set_answering(self, answering: bool, reason: str) -> None:
        if answering == self.answering:
            return
        self.answering = answering
        where = f"display board {self.address} on {self.bus.url}"
        if answering:
            message = f"{where} is answering"
        elif reason.startswith(where):
            message = reason
        else:
            message = f"{where} is not answering: {reason}"
        (log.info if answering else log.warning)("%s", message)
        if self.on_state is not None:
            self.on_state(BoardState(self.address, self.bus.url, answering, message))
