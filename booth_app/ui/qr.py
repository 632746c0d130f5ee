"""A payment QR code as a picture the window can show: segno encodes, Qt paints the modules."""

from __future__ import annotations

import segno
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter

QUIET_ZONE = 2  # modules of white around the code: scanners need it


def qr_image(text: str, size: int) -> QImage:
    """`text` as a black-on-white QR code of about `size` pixels square (whole pixels per module, so it stays sharp)."""
    code = segno.make(text, error="m")
    rows = list(code.matrix_iter(border=QUIET_ZONE))
    modules = len(rows)
    scale = max(1, size // modules)
    image = QImage(modules * scale, modules * scale, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("black"))
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                painter.drawRect(QRect(x * scale, y * scale, scale, scale))
    painter.end()
    return image
