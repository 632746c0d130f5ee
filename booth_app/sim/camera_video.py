"""A synthetic RTSP camera for the demo, the tests and the latency benchmark.

Frames are painted in Python (plate text, a wall clock, a moving bar) and piped raw to an `ffmpeg` that encodes them
with libx264 the way a camera does for live view (`-tune zerolatency -preset ultrafast -bf 0`, one keyframe a second).
Each frame also carries its capture time in milliseconds as two rows of big black/white blocks along the bottom edge,
which survive compression and downscaling: `read_timestamp(rgb)` gets it back from a decoded frame, so glass-to-glass
latency can be measured from the pixels alone.

ffmpeg cannot serve RTSP to viewers itself (its `-rtsp_flags listen` works for receiving only), so it publishes to
the small relay in `booth_app.sim.rtsp_relay`, which viewers play from. Where no `ffmpeg` program is installed (a
booth PC running the shipped demo), `booth-app sim encoder` takes its place: the same pipe in, the same stream out,
encoded by PyAV's own FFmpeg libraries (in a process of its own: PyAV holds the interpreter's lock while it writes to
the network, which would stall the relay it writes to if both ran in one process).

Command line: `python -m booth_app.sim.camera_video [--port P] [--plate TEXT] [--size 1280x720] [--fps 25]
[--noise 8] [--bitrate 3M]` (noise and a bit rate make the encoder and the decoder work like a real camera's).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import logging
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import IO

import numpy as np
import numpy.typing as npt

from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.sim.rtsp_relay import RtspRelay

log = logging.getLogger(__name__)

DEFAULT_PORT = 18554
PATH = "/live"
_START_TIMEOUT = 10.0  # seconds for ffmpeg to start and announce its first frame
ENCODERS = ("auto", "ffmpeg", "pyav")  # auto: the ffmpeg program when it is on PATH, else `booth-app sim encoder`

# ---------------------------------------------------------------- the timestamp drawn into each frame

_CODE_COLUMNS = 32  # the frame width is cut into this many block widths; blocks are square
_CODE_PER_ROW = 24  # 48 bits in two rows: 40 bits of milliseconds and a CRC-8
_CODE_ROWS = 2
_MS_BITS = 40  # milliseconds modulo 2**40 (about 35 years), unwrapped against the reader's clock
_BLACK, _WHITE = 16, 235  # limited-range luma: what a decoder turns into RGB 0 and 255


def _crc8(data: bytes) -> int:
    # Initial value 0xFF so an all-black or all-white band never passes as a valid code.
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _code_bits(ms: int) -> list[int]:
    value = ms % (1 << _MS_BITS)
    word = (value << 8) | _crc8(value.to_bytes(5, "big"))
    return [(word >> (47 - i)) & 1 for i in range(_CODE_ROWS * _CODE_PER_ROW)]


def _code_block_edges(width: int, height: int) -> tuple[list[int], list[int]]:
    """Pixel edges of the code blocks: columns from the left, rows ending at the bottom edge; any size, same layout."""
    block = width / _CODE_COLUMNS
    xs = [round(i * block) for i in range(_CODE_PER_ROW + 1)]
    ys = [round(height - (_CODE_ROWS - r) * block) for r in range(_CODE_ROWS + 1)]
    return xs, ys


def draw_timestamp(luma: npt.NDArray[np.uint8], ms: int) -> None:
    """Draw `ms` (milliseconds since the epoch) into the bottom rows of a luma plane, in place."""
    height, width = luma.shape
    xs, ys = _code_block_edges(width, height)
    bits = _code_bits(ms)
    for row in range(_CODE_ROWS):
        for col in range(_CODE_PER_ROW):
            bit = bits[row * _CODE_PER_ROW + col]
            luma[ys[row] : ys[row + 1], xs[col] : xs[col + 1]] = _WHITE if bit else _BLACK


def read_timestamp(rgb: npt.NDArray[np.uint8], *, now: float | None = None) -> float | None:
    """The capture time drawn by `draw_timestamp` into a decoded H×W×3 RGB frame, as `time.time()` seconds.

    Returns None when the code is unreadable (checksum mismatch: a frame from another source, or badly damaged).
    The frame may have been scaled, as long as its aspect ratio was kept. `now` (default: `time.time()`) resolves the
    40-bit millisecond counter to the nearest matching time.
    """
    height, width = rgb.shape[:2]
    block = width / _CODE_COLUMNS
    half = max(1, int(block / 4))  # sample the middle half of each block: edges blur under compression and scaling
    word = 0
    for row in range(_CODE_ROWS):
        y = int(height - (_CODE_ROWS - row - 0.5) * block)
        for col in range(_CODE_PER_ROW):
            x = int((col + 0.5) * block)
            patch = rgb[max(0, y - half) : y + half, max(0, x - half) : x + half]
            word = (word << 1) | int(patch.mean() >= 128)
    value, crc = word >> 8, word & 0xFF
    if _crc8(value.to_bytes(5, "big")) != crc:
        return None
    now_ms = round((time.time() if now is None else now) * 1000)
    wrap = 1 << _MS_BITS
    delta = (value - now_ms) % wrap
    if delta > wrap // 2:
        delta -= wrap
    return (now_ms + delta) / 1000


# ---------------------------------------------------------------- painting frames

# A 5×7 pixel font for the overlay: digits, capitals, clock punctuation, and 京 for the demo plate. Rows top to bottom.
_GLYPHS = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11110 00001 00001 01110 00001 00001 11110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    ":": "000 010 000 000 000 010 000",
    ".": "000 000 000 000 000 000 010",
    " ": "000 000 000 000 000 000 000",
    "京": "0001000 1111111 0111110 0100010 0111110 0101010 1001001",
}
_UNKNOWN_GLYPH = "11111 10001 10001 10001 10001 10001 11111"  # other characters (other provinces) show as a box


def _text_mask(text: str, scale: int) -> npt.NDArray[np.bool_]:
    """Where `text` lights up, as a boolean image `scale` times the 7-pixel font (one blank column between glyphs)."""
    columns: list[npt.NDArray[np.bool_]] = []
    for char in text:
        rows = _GLYPHS.get(char.upper(), _UNKNOWN_GLYPH).split()
        columns.append(np.array([[c == "1" for c in row] for row in rows], dtype=bool))
        columns.append(np.zeros((7, 1), dtype=bool))
    mask = np.hstack(columns[:-1]) if columns else np.zeros((7, 0), dtype=bool)
    return np.kron(mask, np.ones((scale, scale), dtype=bool)).astype(bool)


def _rgb_to_yuv420(rgb: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.uint8], ...]:
    """BT.601 limited range, what ffmpeg assumes for raw yuv420p; chroma averaged over 2×2 pixels."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b

    def half(plane: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) / 4

    return tuple(np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (y, half(u), half(v)))


class FramePainter:
    """Paints yuv420p frames: a still scene with the plate, then per frame the clock, a moving bar and the time code.

    Only the luma plane changes between frames, so each frame costs one plane copy plus a few small fills.
    """

    def __init__(self, size: tuple[int, int], plate: str, fps: int, noise: int = 0) -> None:
        width, height = size
        if width % 2 or height % 2 or width < 64 or height < 48:
            raise ValueError(f"a synthetic camera frame is at least 64×48 with even sides, not {width}×{height}")
        self.width, self.height, self.fps = width, height, fps
        self._clock_scale = max(1, height // 160)
        self._clock_bottom = 9 * self._clock_scale  # the clock band: 7-pixel glyphs plus a pixel of margin each side
        self._code_top = _code_block_edges(width, height)[1][0]
        self.buffer = np.empty(width * height * 3 // 2, dtype=np.uint8)  # Y, then U, then V: what ffmpeg reads
        self._luma = self.buffer[: width * height].reshape(height, width)
        base_luma, self._plate_top = self._paint_scene(plate)
        self._base_lumas = self._add_noise(base_luma, noise)

    def _paint_scene(self, plate: str) -> tuple[npt.NDArray[np.uint8], int]:
        width, height = self.width, self.height
        ramp = np.linspace(0.15, 0.35, height)[:, None, None]  # a dim gradient, like a lane at dusk
        rgb = np.broadcast_to(ramp * np.array([0.9, 1.0, 1.1]), (height, width, 3)).copy()
        mask = _text_mask(plate, max(2, height // 60))
        pad = mask.shape[0] // 2
        box_h, box_w = mask.shape[0] + 2 * pad, mask.shape[1] + 2 * pad
        top, left = max(self._clock_bottom + 2, int(height * 0.45) - box_h // 2), max(0, (width - box_w) // 2)
        box = rgb[top : top + box_h, left : left + box_w]
        box[:] = (0.05, 0.2, 0.75)  # a blue Chinese plate with white characters
        text = box[pad : pad + mask.shape[0], pad : pad + mask.shape[1]]
        text[mask[: text.shape[0], : text.shape[1]]] = (1.0, 1.0, 1.0)
        rgb[: self._clock_bottom] = 0.0  # neutral bands under the clock and the time code: only luma changes there
        rgb[self._code_top :] = 0.5
        y, u, v = _rgb_to_yuv420(rgb)
        chroma = self.buffer[width * height :]
        chroma[: u.size] = u.ravel()
        chroma[u.size :] = v.ravel()
        return y, top

    @staticmethod
    def _add_noise(luma: npt.NDArray[np.uint8], amplitude: int) -> list[npt.NDArray[np.uint8]]:
        """Sensor-like noise, different in consecutive frames, so the encoder has real work like a camera's.

        Eight noisy versions are made once and cycled: drawing fresh noise for each 720p frame would cost more CPU
        than the rest of the camera, and the encoder only compares a frame with the one before it.
        """
        if amplitude <= 0:
            return [luma]
        rng = np.random.default_rng(7)
        noisy = luma.astype(np.int16) + rng.integers(-amplitude, amplitude + 1, (8, *luma.shape), dtype=np.int16)
        return [plane.clip(0, 255).astype(np.uint8) for plane in noisy]

    def paint(self, captured: float, index: int) -> memoryview:
        """The frame captured at `captured` (`time.time()`), number `index`; valid until the next call."""
        luma = self._luma
        luma[:] = self._base_lumas[index % len(self._base_lumas)]
        bar_w = max(2, self.width // 40)  # sweeps the width every 4 seconds: shows at a glance that video is live
        x = (index * self.width // (4 * self.fps)) % (self.width - bar_w)
        luma[self._clock_bottom : self._plate_top, x : x + bar_w] = 200
        # set to China time, as a camera in a Chinese car park is, whatever this machine's zone
        shown = datetime.fromtimestamp(captured, CHINA_STANDARD_TIME)
        clock = f"{shown:%Y-%m-%d %H:%M:%S}.{int(captured * 1000) % 1000:03d}"
        mask = _text_mask(clock, self._clock_scale)[:, : self.width - 2]
        s = self._clock_scale
        luma[s : s + mask.shape[0], 2 : 2 + mask.shape[1]][mask] = _WHITE
        draw_timestamp(luma, round(captured * 1000))
        return self.buffer.data


# ---------------------------------------------------------------- the camera


class SyntheticCamera:
    """An RTSP camera at `url` showing `plate` with a clock and a machine-readable capture time in every frame.

    `start()` returns once the stream is playable; `stop()` ends ffmpeg (no zombie) and every connection. `freeze()`
    keeps connections open but sends nothing (a hung camera); `kill_encoder()` kills ffmpeg as a crash would.
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        plate: str = "京A12345",
        size: tuple[int, int] = (1280, 720),
        fps: int = 25,
        host: str = "127.0.0.1",
        noise: int = 0,
        bitrate: str = "",
        encoder_threads: int = 0,
        encoder: str = "auto",
    ) -> None:
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, not {encoder!r}")
        self.encoder = encoder
        self.port, self.plate, self.size, self.fps, self.host = port, plate, size, fps, host
        self.bitrate = bitrate  # e.g. "4M" like a camera's main stream; "" lets x264 choose (crf 23: tiny here)
        self.encoder_threads = encoder_threads  # 0: x264 decides (sliced threads across the cores)
        self.frames_sent = 0
        self._painter = FramePainter(size, plate, fps, noise)
        self._relay: RtspRelay | None = None
        self._ffmpeg: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)

    @property
    def url(self) -> str:
        return f"rtsp://{self.host}:{self.port}{PATH}"

    @property
    def encoder_pid(self) -> int | None:
        """ffmpeg's process id, e.g. to read its CPU time from /proc."""
        return self._ffmpeg.pid if self._ffmpeg else None

    @property
    def viewers(self) -> int:
        return self._relay.viewers if self._relay else 0

    def start(self) -> None:
        ffmpeg = shutil.which("ffmpeg") if self.encoder != "pyav" else None
        if ffmpeg is None and self.encoder == "ffmpeg":
            raise FileNotFoundError("ffmpeg is not on PATH: this synthetic camera needs it (apt-get install ffmpeg)")
        self._stop.clear()
        self._relay = RtspRelay(self.host, self.port)
        self.port = self._relay.port  # port 0 asks for a free one
        command = self._ffmpeg_command(ffmpeg) if ffmpeg is not None else self._pyav_command()
        self._ffmpeg = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._threads = [
            threading.Thread(target=self._feed, name=f"camera-feed-{self.port}", daemon=True),
            threading.Thread(target=self._drain_stderr, name=f"camera-log-{self.port}", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if not self._relay.wait_announced(_START_TIMEOUT):
            detail = " / ".join(self._stderr) or "no output"
            self.stop()
            raise RuntimeError(f"ffmpeg did not start streaming to {self.url} in {_START_TIMEOUT:.0f} s: {detail}")

    def stop(self) -> None:
        self._stop.set()
        process, self._ffmpeg = self._ffmpeg, None
        threads, self._threads = self._threads, []
        if process is not None:
            threads[0].join(timeout=1)  # the feeder finishes its frame
            if threads[0].is_alive():
                process.kill()  # a stuck encoder holds the feeder in write(): unblock it
            _close_quietly(process.stdin)  # EOF: ffmpeg flushes and sends TEARDOWN
            _end_process(process)
        for thread in threads:
            thread.join(timeout=5)
        if process is not None:
            _close_quietly(process.stderr)
        if self._relay is not None:
            self._relay.close()
            self._relay = None

    def freeze(self, frozen: bool = True) -> None:
        """Stop (or with False, resume) sending video to viewers while keeping their connections open."""
        if self._relay is not None:
            self._relay.freeze(frozen)

    def kill_encoder(self) -> None:
        """Kill ffmpeg abruptly, like an encoder crash: viewers lose their connection, the relay keeps listening."""
        if self._ffmpeg is not None:
            self._ffmpeg.kill()
            self._ffmpeg.wait()

    def __enter__(self) -> SyntheticCamera:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _ffmpeg_command(self, ffmpeg: str) -> list[str]:
        width, height = self.size
        return [
            ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{width}x{height}", "-framerate", str(self.fps),
            "-i", "pipe:0",
            "-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-bf", "0",
            "-g", str(self.fps), "-threads", str(self.encoder_threads), *self._rate_options(),
            "-f", "rtsp", "-rtsp_transport", "tcp", f"rtsp://127.0.0.1:{self.port}{PATH}",
        ]  # fmt: skip

    def _pyav_command(self) -> list[str]:
        from booth_app.sim.encoder import encoder_command

        width, height = self.size
        return [
            *encoder_command(), "--size", f"{width}x{height}", "--fps", str(self.fps), "--bitrate", self.bitrate,
            "--threads", str(self.encoder_threads), f"rtsp://127.0.0.1:{self.port}{PATH}",
        ]  # fmt: skip

    def _rate_options(self) -> list[str]:
        if not self.bitrate:
            return []
        # A constant rate with a small VBV buffer, as cameras use for live view: no frame waits for bits.
        return ["-b:v", self.bitrate, "-maxrate", self.bitrate, "-bufsize", self.bitrate, "-qmin", "1"]

    def _feed(self) -> None:
        """Paint and pipe frames at `fps`, like a sensor: a frame that could not be sent in time is skipped."""
        assert self._ffmpeg is not None
        assert self._ffmpeg.stdin is not None
        pipe, period = self._ffmpeg.stdin, 1 / self.fps
        due, index = time.monotonic(), 0
        while not self._stop.is_set():
            wait = due - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            if wait < -period:
                due = time.monotonic()  # fell behind (encoder busy): resume at the present, not with a burst
            try:
                pipe.write(self._painter.paint(time.time(), index))
                pipe.flush()
            except (OSError, ValueError):
                return  # ffmpeg has gone: stop() or kill_encoder()
            self.frames_sent, index, due = self.frames_sent + 1, index + 1, due + period

    def _drain_stderr(self) -> None:
        assert self._ffmpeg is not None
        assert self._ffmpeg.stderr is not None
        for line in self._ffmpeg.stderr:
            text = line.decode("utf-8", "replace").strip()
            if text:
                self._stderr.append(text)
                log.debug("ffmpeg (%s): %s", self.url, text)


def _close_quietly(pipe: IO[bytes] | None) -> None:
    with contextlib.suppress(OSError, ValueError):  # a dead ffmpeg leaves a broken pipe with unflushed bytes
        if pipe is not None:
            pipe.close()


def _end_process(process: subprocess.Popen[bytes]) -> None:
    """Wait a moment for a clean exit, then terminate, then kill; always reaped, so no zombie is left."""
    for end in (None, process.terminate, process.kill):
        if end is not None:
            with contextlib.suppress(OSError):
                end()
        try:
            process.wait(timeout=2)
            return
        except subprocess.TimeoutExpired:
            continue
    process.wait()


# ---------------------------------------------------------------- command line


def main(argv: list[str]) -> int:
    """Run one synthetic camera until Ctrl+C."""
    parser = argparse.ArgumentParser(prog="booth-app sim video", description="Serve a synthetic RTSP camera.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"RTSP port (default {DEFAULT_PORT})")
    parser.add_argument("--plate", default="京A12345", help="plate text shown in the picture")
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT (default 1280x720)")
    parser.add_argument("--fps", type=int, default=25, help="frames per second (default 25)")
    parser.add_argument("--noise", type=int, default=0, help="luma noise amplitude, like a sensor's (default 0)")
    parser.add_argument("--bitrate", default="", help="encoder bit rate, e.g. 4M (default: x264's choice)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops it as cleanly as Ctrl+C: ffmpeg is reaped
    width, _, height = args.size.partition("x")
    try:
        size = (int(width), int(height))
        camera = SyntheticCamera(
            args.port, plate=args.plate, size=size, fps=args.fps, host=args.host, noise=args.noise, bitrate=args.bitrate
        )
        camera.start()
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"camera_video: {exc}", file=sys.stderr)
        return 2
    print(f"synthetic camera at {camera.url}, ffmpeg pid {camera.encoder_pid} (Ctrl+C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        camera.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
