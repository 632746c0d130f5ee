"""A lane camera's live picture in its tile: the newest decoded frame, painted as soon as it arrives.

The video reader hands frames over on its own thread (`offer`); the view keeps only the newest one and asks Qt, through
a queued signal, to paint on the GUI thread. A frame that arrives before the last one was painted replaces it, so a
busy window drops frames rather than showing old ones. With no picture the view says why (connecting, the reader's
last error) in the tile itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from drivers.video import Frame

PaintedHook = Callable[[Frame, float], None]


class VideoView(QWidget):
    """Paints the newest frame, letterboxed to keep the camera's aspect ratio.

    Signals (emitted from any thread, delivered on the GUI thread):
    * `frame_ready()`: a new frame is waiting.
    * `state_changed(connected: bool, reason: str)`: the stream came or went.
    """

    frame_ready = Signal()
    state_changed = Signal(bool, str)

    def __init__(self, parent: QWidget | None = None, *, on_painted: PaintedHook | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._lock = threading.Lock()
        self._waiting: Frame | None = None
        self._shown: Frame | None = None
        self._image: QImage | None = None
        self._message = "正在连接摄像机…"
        self.on_painted = on_painted  # called after each paint with the frame and time.monotonic() at the end
        self.painted = 0
        self.frame_ready.connect(self._take_frame, Qt.ConnectionType.QueuedConnection)
        self.state_changed.connect(self._set_state, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------ any thread

    def offer(self, frame: Frame) -> None:
        """Hand over a new frame (the reader's `on_frame`); only the newest waiting one is kept."""
        with self._lock:
            first = self._waiting is None
            self._waiting = frame
        if first:
            self.frame_ready.emit()

    def offer_state(self, connected: bool, reason: str) -> None:
        """The reader's `on_state`."""
        self.state_changed.emit(connected, reason)

    # ------------------------------------------------------------ GUI thread

    @property
    def showing(self) -> Frame | None:
        return self._shown

    @property
    def message(self) -> str:
        return self._message

    def _take_frame(self) -> None:
        with self._lock:
            frame, self._waiting = self._waiting, None
        if frame is None:
            return
        height, width = frame.image.shape[:2]
        # No copy: the frame owns its array and is kept in self._shown for as long as the image is painted.
        self._image = QImage(frame.image.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        self._shown = frame
        self.repaint()  # paint now rather than at the next event-loop pass: the picture is already a frame late

    def show_message(self, text: str) -> None:
        """Say `text` in place of the picture (until the next frame)."""
        self._message = text
        self._image = None
        self._shown = None
        self.update()

    def _set_state(self, connected: bool, reason: str) -> None:
        if not connected:
            self.show_message(f"无视频：{reason}" if reason else "无视频")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#101418"))
        if self._image is None:
            painter.setPen(QColor("#c8ccd0"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            painter.end()
            return
        painter.drawImage(_fit(self._image.width(), self._image.height(), self.rect()), self._image)
        painter.end()
        self.painted += 1
        if self.on_painted is not None and self._shown is not None:
            self.on_painted(self._shown, time.monotonic())


def _fit(width: int, height: int, area: QRect) -> QRect:
    """The largest rectangle of the picture's aspect ratio centred in `area`."""
    scale = min(area.width() / width, area.height() / height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    return QRect(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2, w, h)
