"""The lane tile's live picture: real RTSP from the synthetic camera, decoded by the reader, painted by the view."""

import shutil
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from booth_app.sim.camera_video import SyntheticCamera, read_timestamp
from booth_app.ui.video_view import VideoView
from drivers.video import VideoReader


@pytest.fixture
def camera() -> Iterator[SyntheticCamera]:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not on PATH: the video tests need it (apt-get install ffmpeg)")
    cam = SyntheticCamera(0, size=(320, 180), fps=25)
    cam.start()
    yield cam
    cam.stop()


def pixels(image: QImage) -> np.ndarray:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    row = rgb.bytesPerLine()
    raw = np.frombuffer(rgb.constBits(), np.uint8, count=row * rgb.height()).reshape(rgb.height(), row)
    return raw[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).copy()


def test_the_view_paints_the_newest_frame_and_says_when_the_video_is_gone(
    qtbot: QtBot, camera: SyntheticCamera
) -> None:
    painted: list[float] = []
    view = VideoView(on_painted=lambda frame, at: painted.append(at - frame.decoded))
    qtbot.addWidget(view)
    view.resize(480, 270)
    view.show()
    assert view.message.startswith("正在连接")
    reader = VideoReader(camera.url, on_frame=view.offer, on_state=view.offer_state, stall_timeout=1.0)
    reader.start()
    try:
        qtbot.waitUntil(lambda: view.painted >= 10, timeout=15_000)
        shown = view.showing
        assert shown is not None
        grabbed = pixels(view.grab().toImage())
        assert read_timestamp(grabbed) is not None  # the camera's own time code survived decoding and painting
        assert all(delay >= 0 for delay in painted)

        camera.freeze()  # the camera hangs: the tile says so instead of showing a still picture forever
        qtbot.waitUntil(lambda: view.showing is None, timeout=15_000)
        assert view.message.startswith("无视频")
        camera.freeze(False)
        before = view.painted
        qtbot.waitUntil(lambda: view.painted > before + 5, timeout=15_000)  # and the picture comes back by itself
    finally:
        assert reader.stop()


def test_only_the_newest_waiting_frame_is_painted(qtbot: QtBot, camera: SyntheticCamera) -> None:
    view = VideoView()
    qtbot.addWidget(view)
    view.show()
    reader = VideoReader(camera.url, stall_timeout=2.0)
    reader.start()
    try:
        frames = []
        qtbot.waitUntil(lambda: (frame := reader.latest()) is not None and frames.append(frame) is None, timeout=15_000)
        qtbot.waitUntil(lambda: (frame := reader.latest()) is not None and frames.append(frame) is None, timeout=15_000)
        first, second = frames
        view.offer(first)
        view.offer(second)  # before the GUI thread took the first one
        qtbot.waitUntil(lambda: view.painted >= 1, timeout=5_000)
        qtbot.wait(100)
        assert view.painted == 1
        assert view.showing is second
    finally:
        assert reader.stop()
