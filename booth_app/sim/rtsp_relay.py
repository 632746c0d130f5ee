"""A small RTSP relay: one publisher (ffmpeg, ANNOUNCE/RECORD) and any number of viewers (DESCRIBE/SETUP/PLAY).

RTP travels interleaved over TCP both ways (`rtsp_transport=tcp`, what the booth's video reader uses). ffmpeg cannot
serve RTSP to viewers itself (its `-rtsp_flags listen` works for receiving only), so the synthetic camera publishes
here. A viewer whose socket stops taking data for a few seconds is dropped, as cameras do; each new viewer starts at a
keyframe. When the publisher goes away every viewer is disconnected and DESCRIBE answers 404 until a new one announces.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

SEND_TIMEOUT = 3.0  # seconds a viewer may refuse data before it is dropped (a real camera drops it too)


@dataclass(eq=False)
class _Peer:
    """One RTSP connection: the publisher (ffmpeg) or a viewer."""

    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    rtp_channel: int = 0  # for viewers: the interleaved channel they asked for in SETUP
    session: str = ""
    in_step: bool = False  # for viewers: video reaches them from a keyframe on, so their first picture is whole

    def read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def read_line(self) -> str:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        end = self.buffer.index(b"\n") + 1
        line = bytes(self.buffer[:end])
        del self.buffer[:end]
        return line.decode("utf-8", "replace").strip()

    def send(self, data: bytes) -> None:
        with self.send_lock:
            self.sock.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@dataclass(frozen=True)
class _Request:
    method: str
    headers: dict[str, str]
    body: bytes


class RtspRelay:
    """Accepts one publisher (ANNOUNCE/RECORD) and any number of viewers (DESCRIBE/SETUP/PLAY), TCP transport only."""

    def __init__(self, host: str, port: int) -> None:
        self._listener = socket.create_server((host, port))  # sets SO_REUSEADDR on POSIX: a restart can rebind
        self.port: int = self._listener.getsockname()[1]
        self._frozen = False
        self._lock = threading.Lock()
        self._sdp: bytes | None = None
        self._publisher: _Peer | None = None
        self._viewers: set[_Peer] = set()
        self._peers: set[_Peer] = set()
        self._closed = False
        self._announced = threading.Event()
        self._threads = [threading.Thread(target=self._accept, name=f"rtsp-relay-{self.port}", daemon=True)]
        self._threads[0].start()

    @property
    def viewers(self) -> int:
        with self._lock:
            return len(self._viewers)

    def wait_announced(self, timeout: float) -> bool:
        return self._announced.wait(timeout)

    def freeze(self, frozen: bool) -> None:
        """While frozen nothing reaches the viewers (a hung camera, connections open); then from the next keyframe."""
        with self._lock:
            self._frozen = frozen
            for viewer in self._viewers:
                viewer.in_step = False

    def close(self) -> None:
        """Stop listening and drop every connection; returns when the relay's threads have ended."""
        with self._lock:
            self._closed = True
            peers = list(self._peers)
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux; close() alone may not
        self._listener.close()
        for peer in peers:
            peer.close()
        self._threads[0].join(timeout=5)  # the accept thread first: after it, no peer thread is added
        for thread in self._threads[1:]:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return  # closed
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(SEND_TIMEOUT)
            peer = _Peer(sock)
            with self._lock:
                if self._closed:
                    peer.close()
                    return
                self._peers.add(peer)
                thread = threading.Thread(target=self._serve, args=(peer,), name=f"rtsp-peer-{self.port}", daemon=True)
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, peer: _Peer) -> None:
        try:
            while self._handle_one(peer):
                pass
        except (OSError, ConnectionError, ValueError):
            pass  # the peer went away or spoke nonsense: either way it is done
        finally:
            self._forget(peer)

    def _handle_one(self, peer: _Peer) -> bool:
        """Read one message from `peer` and act on it; False when the peer is done."""
        try:
            first = peer.read(1)
        except TimeoutError:
            return True  # an idle viewer: keep waiting for its next request
        if first == b"$":  # interleaved RTP/RTCP: relay the publisher's, ignore viewers' receiver reports
            channel, size_hi, size_lo = peer.read(3)
            payload = peer.read(size_hi << 8 | size_lo)
            if peer is self._publisher:
                self._broadcast(channel, payload)
            return True
        method = (first + peer.read_line().encode()).decode("utf-8", "replace").split(" ", 1)[0]
        headers: dict[str, str] = {}
        while line := peer.read_line():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = peer.read(int(headers.get("content-length", "0")))
        return self._respond(peer, _Request(method, headers, body))

    def _respond(self, peer: _Peer, request: _Request) -> bool:
        cseq = request.headers.get("cseq", "0")
        status, extra, body = "200 OK", "", b""
        method = request.method
        if method == "OPTIONS":
            extra = "Public: OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, GET_PARAMETER, TEARDOWN\r\n"
        elif method == "DESCRIBE":
            with self._lock:
                sdp = self._sdp
            if sdp is None:
                status = "404 Not Found"
            else:
                extra, body = "Content-Type: application/sdp\r\n", sdp
        elif method == "ANNOUNCE":
            status = self._announce(peer, request.body)
        elif method == "SETUP":
            status, extra = self._setup(peer, request.headers.get("transport", ""))
        elif method == "PLAY":
            status = self._play(peer)
        elif method == "RECORD":
            self._announced.set()
        elif method not in ("GET_PARAMETER", "SET_PARAMETER", "TEARDOWN"):
            status = "501 Not Implemented"
        if peer.session:
            extra += f"Session: {peer.session};timeout=60\r\n"
        head = f"RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
        peer.send(head.encode() + body)
        return method != "TEARDOWN"

    def _announce(self, peer: _Peer, sdp: bytes) -> str:
        with self._lock:
            if self._publisher is not None:
                return "455 Method Not Valid in This State"
            self._publisher, self._sdp = peer, sdp
        return "200 OK"

    @staticmethod
    def _setup(peer: _Peer, transport: str) -> tuple[str, str]:
        if "TCP" not in transport.upper() or "interleaved=" not in transport:
            return "461 Unsupported Transport", ""  # RTP over UDP is not simulated: use rtsp_transport=tcp
        channels = transport.split("interleaved=", 1)[1].split(";", 1)[0]
        peer.rtp_channel = int(channels.split("-", 1)[0])
        peer.session = peer.session or secrets.token_hex(4)
        mode = ";mode=record" if "record" in transport.lower() else ""
        return "200 OK", f"Transport: RTP/AVP/TCP;unicast;interleaved={channels}{mode}\r\n"

    def _play(self, peer: _Peer) -> str:
        with self._lock:
            if self._sdp is None:
                return "404 Not Found"
            self._viewers.add(peer)
        return "200 OK"

    def _broadcast(self, channel: int, payload: bytes) -> None:
        with self._lock:
            viewers = [] if self._frozen else list(self._viewers)
        keyframe = channel == 0 and _starts_keyframe(payload)
        for viewer in viewers:
            if channel == 0 and not viewer.in_step:
                if not keyframe:
                    continue
                viewer.in_step = True
            frame = bytes((0x24, viewer.rtp_channel + channel)) + len(payload).to_bytes(2, "big") + payload
            try:
                viewer.send(frame)
            except OSError:  # includes the send timeout: a viewer that stopped reading is dropped
                self._forget(viewer)

    def _forget(self, peer: _Peer) -> None:
        with self._lock:
            self._peers.discard(peer)
            self._viewers.discard(peer)
            orphans: list[_Peer] = []
            if peer is self._publisher:
                # The source is gone: viewers are disconnected, so they notice now rather than by a timeout.
                self._publisher, self._sdp = None, None
                self._announced.clear()
                orphans, self._viewers = list(self._viewers), set()
        peer.close()
        for viewer in orphans:
            viewer.close()


def _starts_keyframe(rtp: bytes) -> bool:
    """Whether an H.264 RTP packet begins a keyframe (an IDR slice, or the SPS sent before one)."""
    header = 12 + 4 * (rtp[0] & 0x0F) if rtp else 0
    if rtp and rtp[0] & 0x10:  # a header extension: skip it too
        header += 4 + 4 * int.from_bytes(rtp[header + 2 : header + 4], "big")
    payload = rtp[header:]
    if len(payload) < 2:
        return False
    kind = payload[0] & 0x1F
    if kind == 28:  # FU-A: a fragment; only the first one starts the unit
        return bool(payload[1] & 0x80) and payload[1] & 0x1F == 5
    if kind == 24:  # STAP-A: look at the first aggregated unit
        kind = payload[3] & 0x1F if len(payload) > 3 else 0
    return kind in (5, 7)
