"""Correct a misread plate, or say which car inside is the one at the exit: the fuzzy candidates from the core rules,
each with its entry picture beside the picture just taken."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.core.plates import Candidate, normalise
from booth_app.core.types import Stay
from booth_app.ui.dialogs import ServiceDialog

PICTURE_SIZE = (320, 180)


@dataclass(frozen=True)
class MatchChoice:
    """A stay inside that the car at the exit may be, with its entry picture (JPEG bytes) when there is one."""

    stay: Stay
    candidate: Candidate | None = None
    entry_picture: bytes | None = None


class Picture(QLabel):
    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.setFixedSize(*PICTURE_SIZE)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setObjectName("match-picture")
        self.show_jpeg(None)

    def show_jpeg(self, data: bytes | None) -> None:
        image = QImage.fromData(data) if data else QImage()
        if image.isNull():
            self.setPixmap(QPixmap())
            self.setText(self.tr("{0}：无图片").format(self.caption))
            return
        self.setPixmap(
            QPixmap.fromImage(image).scaled(
                *PICTURE_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        )


class PlateMatchDialog(ServiceDialog):
    """↑↓ pick a candidate and Enter confirms it; or type the right plate and Enter looks it up again."""

    def __init__(
        self,
        lane_name: str,
        read_plate: str,
        read_picture: bytes | None,
        choices: Sequence[MatchChoice],
        *,
        confirm_stay: Callable[[str], Awaitable[None]],
        correct_plate: Callable[[str], Awaitable[None]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("修正或匹配车牌"), parent)
        self.setObjectName("plate-match-dialog")
        self.choices = list(choices)
        self._confirm_stay = confirm_stay
        self._correct_plate = correct_plate
        heading = QLabel(self.tr("{0}  识别为 {1}").format(lane_name, read_plate or self.tr("无牌车")))
        heading.setObjectName("plate-text")
        self.read_picture = Picture(self.tr("本次抓拍"))
        self.read_picture.show_jpeg(read_picture)
        self.entry_picture = Picture(self.tr("入场图片"))
        self.candidates = QListWidget()
        self.candidates.setObjectName("match-candidates")
        self.candidates.setMinimumWidth(300)
        for choice in self.choices:
            entered = choice.stay.entered_at.astimezone(CHINA_STANDARD_TIME)
            item = QListWidgetItem(self.tr("{0}   入场 {1:%m-%d %H:%M}   {2}").format(
                choice.stay.plate, entered, choice.stay.entry_lane
            ))  # fmt: skip
            self.candidates.addItem(item)
        self.candidates.currentRowChanged.connect(self._show_candidate)
        self.plate = QLineEdit()
        self.plate.setObjectName("corrected-plate")
        self.plate.setPlaceholderText(self.tr("或输入正确车牌后按回车"))
        grid = QGridLayout()
        grid.addWidget(QLabel(self.tr("本次抓拍")), 0, 0)
        grid.addWidget(QLabel(self.tr("候选车辆（↑↓ 选择）") if self.choices else self.tr("没有相近的在场车辆")), 0, 1)
        grid.addWidget(QLabel(self.tr("入场图片")), 0, 2)
        grid.addWidget(self.read_picture, 1, 0)
        grid.addWidget(self.candidates, 1, 1)
        grid.addWidget(self.entry_picture, 1, 2)
        layout = QVBoxLayout(self)
        # never smaller than the two pictures and the list: a dialog's first size is capped at 2/3 of the screen
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(heading)
        layout.addLayout(grid)
        layout.addWidget(self.plate)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if self.choices:
            self.candidates.setCurrentRow(0)
            self.candidates.setFocus()
        else:
            self.candidates.setEnabled(False)
            self.plate.setFocus()

    def _show_candidate(self, row: int) -> None:
        if 0 <= row < len(self.choices):
            self.entry_picture.show_jpeg(self.choices[row].entry_picture)

    def problem(self) -> str | None:
        if self.plate.text().strip():
            return None if normalise(self.plate.text()) else self.tr("请输入有效的车牌。")
        if not self.choices or self.candidates.currentRow() < 0:
            return self.tr("请输入正确的车牌。")
        return None

    async def submit(self) -> None:
        if text := self.plate.text().strip():
            await self._correct_plate(normalise(text))
        else:
            await self._confirm_stay(self.choices[self.candidates.currentRow()].stay.order_id)
