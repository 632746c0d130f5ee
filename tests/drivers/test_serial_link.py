"""The serial link over a real pty pair and a real socket, including the port going away and coming back."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from drivers.serial_link import Backoff, SerialLink, SerialLinkError

FAST = Backoff(initial=0.02, maximum=0.1)


class Watcher:
    """Collects what a link reports, for awaiting."""

    def __init__(self) -> None:
        self.states: asyncio.Queue[tuple[bool, str]] = asyncio.Queue()
        self.data = bytearray()
        self._arrived = asyncio.Event()

    def on_data(self, data: bytes) -> None:
        self.data += data
        self._arrived.set()

    def on_state(self, connected: bool, error: str) -> None:
        self.states.put_nowait((connected, error))

    async def state(self, connected: bool) -> str:
        """The next reported state with this `connected`, skipping others; returns its error text."""
        async with asyncio.timeout(5):
            while True:
                is_connected, error = await self.states.get()
                if is_connected == connected:
                    return error

    async def received(self, expected: bytes) -> None:
        async with asyncio.timeout(5):
            while bytes(self.data) != expected:
                assert expected.startswith(bytes(self.data))
                self._arrived.clear()
                await self._arrived.wait()
        self.data.clear()


def link_threads(url: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith(f" {url}") and t.is_alive()]


def test_backoff_doubles_up_to_its_cap() -> None:
    delays = Backoff(initial=0.1, maximum=0.5).delays()
    assert [next(delays) for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]


# ---------------------------------------------------------------------------------------------------- socket://


class Peer:
    """A TCP server playing the device at the far end of `socket://`; can be stopped and restarted on its port."""

    def __init__(self) -> None:
        self.port = 0
        self.received = bytearray()
        self.got = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._clients: list[asyncio.StreamWriter] = []
        self._client_came = asyncio.Event()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.append(writer)
        self._client_came.set()
        while data := await reader.read(4096):
            self.received += data
            self.got.set()

    async def wait_client(self) -> None:
        """Until the link's connection reached our handler (the link may report "connected" a little earlier)."""
        async with asyncio.timeout(5):
            await self._client_came.wait()

    async def send(self, data: bytes) -> None:
        await self.wait_client()
        self._clients[-1].write(data)
        await self._clients[-1].drain()

    async def wait_received(self, expected: bytes) -> None:
        async with asyncio.timeout(5):
            while bytes(self.received) != expected:
                self.got.clear()
                await self.got.wait()
        self.received.clear()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._clients:
                writer.close()
            for writer in self._clients:
                await writer.wait_closed()
            self._clients.clear()
            self._client_came.clear()
            await self._server.wait_closed()
            self._server = None


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    peer = Peer()
    await peer.start()
    yield peer
    await peer.stop()


async def test_bytes_flow_both_ways_over_a_socket(peer: Peer) -> None:
    watcher = Watcher()
    url = f"socket://127.0.0.1:{peer.port}"
    async with SerialLink(url, on_data=watcher.on_data, on_state=watcher.on_state, backoff=FAST) as link:
        assert await watcher.state(True) == ""
        await link.write(b"\x00\x64\xff\xff\x31\x00\x64\x67")
        await peer.wait_received(b"\x00\x64\xff\xff\x31\x00\x64\x67")
        await peer.send(b"reply")
        await watcher.received(b"reply")
        assert link_threads(url)
    assert link_threads(url) == []


async def test_a_vanished_socket_is_reported_and_comes_back(peer: Peer) -> None:
    watcher = Watcher()
    url = f"socket://127.0.0.1:{peer.port}"
    async with SerialLink(url, on_data=watcher.on_data, on_state=watcher.on_state, backoff=FAST) as link:
        await watcher.state(True)
        await peer.wait_client()
        await peer.stop()
        assert (await watcher.state(False)).startswith(f"serial port {url} was lost: ")
        assert not link.connected
        with pytest.raises(SerialLinkError, match=f"serial port {url} "):
            await link.write(b"lost")

        await peer.start()  # the same port
        await watcher.state(True)
        await link.write(b"again")
        await peer.wait_received(b"again")
        await peer.send(b"back")
        await watcher.received(b"back")


async def test_a_port_that_cannot_be_opened_is_named_and_retried(tmp_path: Path) -> None:
    watcher = Watcher()
    path = tmp_path / "ttyNONE"
    async with SerialLink(str(path), on_state=watcher.on_state, backoff=FAST) as link:
        error = await watcher.state(False)
        assert error.startswith(f"serial port {path} could not be opened: No such file or directory")
        assert link.error == error
        with pytest.raises(SerialLinkError, match=f"serial port {path} could not be opened"):
            await link.write(b"x")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await link.wait_connected()
    with pytest.raises(SerialLinkError, match="is closed"):
        await link.write(b"x")


# ---------------------------------------------------------------------------------------------------- pty


class Pty:
    """A pty pair whose slave the link reaches through a stable symlink, like a udev name for a USB adapter."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.master = -1

    def plug(self) -> None:
        self.master, slave = os.openpty()
        name = os.ttyname(slave)
        os.close(slave)  # the link opens it by name; the master keeps the pty alive
        self.path.unlink(missing_ok=True)
        self.path.symlink_to(name)

    def pull(self) -> None:
        os.close(self.master)
        self.master = -1
        self.path.unlink()

    async def read(self, size: int) -> bytes:
        loop = asyncio.get_running_loop()
        data = b""
        async with asyncio.timeout(5):
            while len(data) < size:
                ready = asyncio.Event()
                loop.add_reader(self.master, ready.set)
                try:
                    await ready.wait()
                finally:
                    loop.remove_reader(self.master)
                data += os.read(self.master, size - len(data))
        return data


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[Pty]:
    pty = Pty(tmp_path / "ttyBOARD")
    pty.plug()
    yield pty
    if pty.master >= 0:
        os.close(pty.master)


async def test_bytes_flow_both_ways_over_a_pty(pty: Pty) -> None:
    watcher = Watcher()
    async with SerialLink(str(pty.path), on_data=watcher.on_data, on_state=watcher.on_state, backoff=FAST) as link:
        await watcher.state(True)
        frame = bytes(range(200))
        await link.write(frame)
        assert await pty.read(len(frame)) == frame
        os.write(pty.master, b"\x00\x64\xff\xff\x31\x01\x00")
        await watcher.received(b"\x00\x64\xff\xff\x31\x01\x00")


async def test_a_pulled_pty_is_reported_and_comes_back_on_the_same_path(pty: Pty) -> None:
    watcher = Watcher()
    async with SerialLink(str(pty.path), on_data=watcher.on_data, on_state=watcher.on_state, backoff=FAST) as link:
        await watcher.state(True)
        pty.pull()
        assert (await watcher.state(False)).startswith(f"serial port {pty.path} was lost: ")

        pty.plug()
        await watcher.state(True)
        await link.write(b"again")
        assert await pty.read(5) == b"again"
        os.write(pty.master, b"back")
        await watcher.received(b"back")
