"""The RTSP video reader against a real ffmpeg-encoded stream from the synthetic camera.

Every test needs `ffmpeg` on PATH; without it they fail (never skip) and say so. Pictures are small (320×180) to keep
the file quick on two cores. Latency is never asserted here: `benchmarks/video_latency.py` measures it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from booth_app.sim.camera_video import SyntheticCamera, draw_timestamp, read_timestamp
from drivers.serial_link import Backoff
from drivers.video import Frame, VideoReader, redact

SIZE = (320, 180)
FAST = Backoff(initial=0.05, maximum=0.2)


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def ffmpeg() -> None:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not on PATH: the video tests need it (apt-get install ffmpeg)")


@pytest.fixture
def camera(ffmpeg: None) -> Iterator[SyntheticCamera]:
    with SyntheticCamera(0, size=SIZE) as cam:
        yield cam


class States:
    """Collects `on_state` reports from the worker thread."""

    def __init__(self) -> None:
        self.reports: list[tuple[bool, str]] = []
        self._lock = threading.Lock()

    def __call__(self, connected: bool, error: str) -> None:
        with self._lock:
            self.reports.append((connected, error))

    def losses(self) -> list[str]:
        with self._lock:
            return [error for connected, error in self.reports if not connected and error]


def reader(url: str, **options: Any) -> VideoReader:
    """A reader tuned for tests: a lost stream is noticed after a second and retried at once."""
    options.setdefault("stall_timeout", 1.0)
    options.setdefault("backoff", FAST)
    return VideoReader(url, **options)


def take(video: VideoReader, timeout: float = 10.0) -> Frame:
    """The next frame `latest()` hands out."""
    deadline = time.monotonic() + timeout
    while (frame := video.latest()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no frame within {timeout} s: {video.stats()}")
        time.sleep(0.02)
    return frame


# ---------------------------------------------------------------- the time code alone


def test_the_drawn_time_reads_back_even_scaled_down() -> None:
    luma = np.full((180, 320), 128, dtype=np.uint8)
    captured = 1_795_000_000.123
    draw_timestamp(luma, round(captured * 1000))
    rgb = np.repeat(((luma.astype(np.float64) - 16) * 255 / 219).clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)
    assert read_timestamp(rgb, now=captured + 1) == pytest.approx(captured, abs=0.0005)
    assert read_timestamp(rgb[::2, ::2], now=captured) == pytest.approx(captured, abs=0.0005)
    assert read_timestamp(np.zeros_like(rgb)) is None
    assert read_timestamp(np.full_like(rgb, 255)) is None


def test_passwords_stay_out_of_messages() -> None:
    assert redact("rtsp://admin:s3cret@10.0.0.5:554/ch1") == "rtsp://admin:***@10.0.0.5:554/ch1"
    assert redact("rtsp://10.0.0.5/ch1") == "rtsp://10.0.0.5/ch1"


# ---------------------------------------------------------------- live stream


def test_frames_arrive_and_carry_their_capture_time(camera: SyntheticCamera) -> None:
    states = States()
    with reader(camera.url, on_state=states) as video:
        frame = take(video)
        assert frame.image.shape == (180, 320, 3)
        assert frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
        captured = read_timestamp(frame.image, now=frame.wall)
        assert captured is not None, "the time code drawn by the camera did not survive encoding and decoding"
        assert frame.received <= frame.decoded
        assert 0 <= frame.wall - captured < 5  # the same clock, and not a frame from some other stream
        wait_until(lambda: video.stats().fps > 0, 5, "fps")
        stats = video.stats()
        assert stats.connected
        assert stats.frames_decoded >= 1
        assert stats.last_error == ""
        assert stats.decoder_delay == 0  # the low-delay flag reached the decoder, not only the demuxer
    assert states.reports[0] == (True, "")


def test_max_size_scales_down_keeping_the_aspect_ratio(camera: SyntheticCamera) -> None:
    with reader(camera.url, max_size=(160, 160)) as video:
        frame = take(video)
    assert (frame.width, frame.height) == (160, 90)
    assert read_timestamp(frame.image, now=frame.wall) is not None


def test_a_slow_poller_gets_the_newest_frame_and_drops_are_counted(camera: SyntheticCamera) -> None:
    with reader(camera.url) as video:
        take(video)
        taken: list[Frame] = []
        for _ in range(5):
            time.sleep(0.4)  # a consumer far slower than 25 fps
            frame = video.latest()
            assert frame is not None
            assert video.latest() is None  # handed out once
            taken.append(frame)
        stats = video.stats()
    indexes = [frame.index for frame in taken]
    assert all(later - earlier > 1 for earlier, later in itertools.pairwise(indexes)), indexes
    assert stats.frames_dropped >= stats.frames_decoded - len(taken) - 2  # everything not taken was dropped
    captured = read_timestamp(taken[-1].image, now=taken[-1].wall)
    assert captured is not None
    # A backlog would hand out frames captured two seconds ago by now; the newest one is a frame period or so old.
    assert taken[-1].wall - captured < 1.0


def test_a_slow_callback_sees_drops_never_a_backlog(camera: SyntheticCamera) -> None:
    delivered: list[Frame] = []
    on_thread: list[str] = []

    def slow(frame: Frame) -> None:
        on_thread.append(threading.current_thread().name)
        delivered.append(frame)
        time.sleep(0.3)

    with reader(camera.url, on_frame=slow) as video:
        wait_until(lambda: len(delivered) >= 5, 10, "five deliveries")
        stats = video.stats()
    assert stats.frames_dropped > 0
    assert all(later.index - earlier.index > 1 for earlier, later in itertools.pairwise(delivered))
    assert threading.current_thread().name not in on_thread
    last = delivered[-1]
    captured = read_timestamp(last.image, now=last.wall)
    assert captured is not None
    assert last.wall - captured < 1.0


def test_reconnects_by_itself_when_the_camera_dies_and_comes_back(camera: SyntheticCamera) -> None:
    states = States()
    port = camera.port
    with reader(camera.url, on_state=states) as video:
        take(video)
        camera.kill_encoder()  # ffmpeg dies mid-stream
        wait_until(lambda: not video.connected, 5, "the loss to be noticed")
        assert states.losses(), states.reports
        camera.stop()
        wait_until(lambda: video.stats().open_failures >= 1, 5, "a failed reconnection attempt")
        with SyntheticCamera(port, size=SIZE) as again:  # a new ffmpeg on the same port
            wait_until(lambda: video.connected, 10, "the reader to reconnect")
            frame = take(video)
            assert read_timestamp(frame.image, now=frame.wall) is not None
            assert video.stats().reconnects >= 1
            assert again.viewers == 1


def test_a_hung_camera_is_noticed_and_reconnected(camera: SyntheticCamera) -> None:
    states = States()
    with reader(camera.url, on_state=states) as video:
        take(video)
        camera.freeze()  # connections stay open, nothing arrives
        wait_until(lambda: not video.connected, 5, "the stall to be noticed")
        assert any("no data" in error for error in states.losses()), states.reports
        camera.freeze(False)
        wait_until(lambda: video.stats().reconnects >= 1, 10, "a reconnection")
        frame = take(video)
        assert read_timestamp(frame.image, now=frame.wall) is not None


def test_stop_returns_promptly_while_the_stream_is_stalled(camera: SyntheticCamera) -> None:
    video = reader(camera.url, stall_timeout=30.0, poll_interval=0.25)  # long enough that it never reconnects here
    video.start()
    try:
        take(video)
        camera.freeze()
        time.sleep(0.6)  # the reader is now waiting inside FFmpeg for data that does not come
        started = time.monotonic()
        assert video.stop(timeout=5.0)
        assert time.monotonic() - started < 1.5  # the bound: one poll interval, plus closing
    finally:
        video.stop()


def test_an_unreachable_camera_is_retried_and_reported_and_stop_is_prompt() -> None:
    url = f"rtsp://admin:secret@127.0.0.1:{free_port()}/live"
    states = States()
    video = reader(url, on_state=states)
    video.start()
    try:
        wait_until(lambda: video.stats().open_failures >= 3, 10, "repeated attempts")
        stats = video.stats()
        assert not stats.connected
        assert stats.last_error.startswith("video rtsp://admin:***@127.0.0.1:")
        assert "refused" in stats.last_error.lower()
        assert "secret" not in stats.last_error
        assert states.losses() == [stats.last_error]  # reported once, not once per attempt
        started = time.monotonic()
        assert video.stop(timeout=5.0)
        assert time.monotonic() - started < 1.0
    finally:
        video.stop()


def test_stopping_the_camera_leaves_no_ffmpeg_behind(ffmpeg: None) -> None:
    camera = SyntheticCamera(0, size=SIZE)
    camera.start()
    pid = camera.encoder_pid
    assert pid is not None
    camera.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: not even a zombie is left
