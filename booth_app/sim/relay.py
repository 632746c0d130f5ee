"""A Modbus RTU relay board for the demo and the tests: pymodbus's own server on TCP with the RTU framer.

The app reaches it with the port name `socket://127.0.0.1:PORT`, the way it reaches a USB-RS485 board on `COM5`, so
the barrier driver runs unchanged. Every coil change is recorded with its time, so a test or the demo can see "coil 0
on, off 502 ms later". Command line: `booth-app sim relay [--host H] [--port P] [--device-id N] [--coils N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import cast

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

DEFAULT_PORT = 17010  # the Modbus lane of resources/demo.toml
_WRITE_COIL_CODES = frozenset({5, 15})  # write single coil, write multiple coils

CoilChange = tuple[float, int, bool]  # (time.monotonic(), coil, new value)


class RelayBoardSim:
    """One relay board (one Modbus device id) with `coils` relays, all off at each start, like a board powered up."""

    def __init__(
        self, *, device_id: int = 1, coils: int = 16, on_change: Callable[[CoilChange], None] | None = None
    ) -> None:
        if not 1 <= device_id <= 247:
            raise ValueError(f"a Modbus device id is 1 to 247, not {device_id}")
        if not 1 <= coils <= 2000:  # 2000: the most coils one Modbus read can return
            raise ValueError(f"a relay board simulator has 1 to 2000 coils, not {coils}")
        self.device_id = device_id
        self.coils = coils
        self.history: list[CoilChange] = []
        self.requests: list[bytes] = []  # raw bytes as received, to check what went over the wire
        self._on_change = on_change
        self._state = [False] * coils
        self._server: ModbusTcpServer | None = None
        self._host = ""
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The pyserial port name the app uses to reach this board."""
        return f"socket://{self._host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def coil(self, n: int) -> bool:
        return self._state[n]

    def pulses(self, coil: int) -> list[float]:
        """How long, in seconds, each on-then-off of `coil` lasted (an on not yet switched off is left out)."""
        lengths: list[float] = []
        switched_on: float | None = None
        for at, n, value in self.history:
            if n != coil:
                continue
            if value:
                switched_on = at
            elif switched_on is not None:
                lengths.append(at - switched_on)
                switched_on = None
        return lengths

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 = any free port; see `port`). Raises OSError if the address is taken."""
        if self._server is not None:
            raise RuntimeError("the relay board simulator is already running")
        self._state = [False] * self.coils
        server = ModbusTcpServer(self._devices(), framer=FramerType.RTU, address=(host, port), trace_packet=self._trace)
        try:
            await server.serve_forever(background=True)
        except RuntimeError:  # pymodbus's way of saying the listen failed
            raise OSError(f"the relay board simulator cannot listen on {host}:{port} (is the port taken?)") from None
        self._server = server
        sockets = cast(asyncio.Server, server.transport).sockets
        self._host, self._port = host, sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every connection, like a board losing power; `start` again to bring it back."""
        if self._server is not None:
            server, self._server = self._server, None
            await server.shutdown()  # type: ignore[no-untyped-call]  # pymodbus leaves it unannotated

    def _devices(self) -> list[SimDevice]:
        # values as a list, not count=: pymodbus's layout check multiplies by count twice (quadratic in the size)
        bits = [SimData(0, values=[False] * self.coils, datatype=DataType.BITS)]
        registers = [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)]
        board = SimDevice(self.device_id, simdata=(bits, list(bits), registers, list(registers)), action=self._action)
        # Any other device id: a clear "no device answered" exception reply (instead of pymodbus's
        # KeyError traceback), so a barrier configured with the wrong device id says so at once.
        everywhere = [SimData(0, values=[False] * 4096, datatype=DataType.BITS)]  # boards have far fewer relays
        nobody = SimDevice(0, simdata=(everywhere, list(everywhere), registers, list(registers)), action=self._nobody)
        return [board, nobody]

    async def _action(
        self,
        function_code: int,
        _start_address: int,
        address: int,
        _count: int,
        _registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        # pymodbus calls this after checking the address and before storing, so every write seen here takes effect
        if function_code in _WRITE_COIL_CODES and set_values is not None:
            self._record(address, [bool(value) for value in set_values])
        return None

    async def _nobody(self, *_args: object) -> ExcCodes:
        return ExcCodes.GATEWAY_NO_RESPONSE

    def _record(self, first: int, values: Sequence[bool]) -> None:
        now = time.monotonic()
        for n, value in enumerate(values, start=first):
            if n < self.coils and self._state[n] != value:
                self._state[n] = value
                change = (now, n, value)
                self.history.append(change)
                if self._on_change is not None:
                    self._on_change(change)

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            self.requests.append(bytes(data))
        return data


# ---------------------------------------------------------------- booth-app sim relay


def main(argv: list[str]) -> int:
    """`booth-app sim relay …`: run a relay board until Ctrl+C, printing each coil change."""
    parser = argparse.ArgumentParser(prog="booth-app sim relay", description="Simulate a Modbus RTU relay board.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    parser.add_argument("--device-id", type=int, default=1, help="Modbus device id of the board (default 1)")
    parser.add_argument("--coils", type=int, default=16, help="number of relays (default 16)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.host, args.port, args.device_id, args.coils))
    except KeyboardInterrupt:
        return 0
    except (OSError, ValueError) as exc:
        print(f"booth-app sim relay: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve(host: str, port: int, device_id: int, coils: int) -> None:
    switched_on: dict[int, float] = {}

    def show(change: CoilChange) -> None:
        at, coil, value = change
        if value:
            switched_on[coil] = at
            print(f"coil {coil} on", flush=True)
        else:
            lasted = f" after {(at - switched_on.pop(coil)) * 1000:.0f} ms" if coil in switched_on else ""
            print(f"coil {coil} off{lasted}", flush=True)

    sim = RelayBoardSim(device_id=device_id, coils=coils, on_change=show)
    await sim.start(host, port)
    print(f"relay board simulator, device {device_id}, {coils} coils, at {sim.url} (Ctrl+C stops it)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()
