"""The F1 help: every key of the window, drawn from the key map over the window itself.

It covers its parent window (and follows its size) so nothing behind it can be pressed by mistake; any key closes it
and the focus goes back where it was. While it shows, it takes every key itself, so a key pressed to close the help
never also opens a gate or takes cash.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QShowEvent
from PySide6.QtWidgets import QApplication, QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from booth_app.ui.keys import KeyMap, KeyRow

MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr}
COLUMNS = (("lanes",), ("money", "plates", "records"))  # the rest go in a third: all fit 1366x768 in large print


class HelpOverlay(QWidget):
    """A dimmed layer over the window with the keys in groups (styled by the theme: `help-overlay`, `help-panel`,
    `help-title`, `help-group`, `help-key`, `help-text`, `help-hint`)."""

    def __init__(self, keymap: KeyMap, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("help-overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._window = parent
        self._return_focus: QWidget | None = None
        panel = QFrame(self)
        panel.setObjectName("help-panel")
        title = QLabel(self.tr("快捷键"))
        title.setObjectName("help-title")
        hint = QLabel(self.tr("按任意键关闭"))
        hint.setObjectName("help-hint")
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addStretch(1)
        heading.addWidget(hint)
        rows = keymap.rows()
        columns = QHBoxLayout()
        columns.setSpacing(32)
        placed = {group for column in COLUMNS for group in column}
        for column in COLUMNS:
            columns.addLayout(self._column([row for row in rows if row.group in column]), stretch=1)
        columns.addLayout(self._column([row for row in rows if row.group not in placed]), stretch=1)
        inner = QVBoxLayout(panel)
        inner.setSpacing(16)
        inner.addLayout(heading)
        inner.addLayout(columns, stretch=1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        outer.addWidget(panel)
        parent.installEventFilter(self)
        self.hide()

    @staticmethod
    def _column(rows: list[KeyRow]) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        grid.setColumnStretch(1, 1)
        line = 0
        group = None
        for row in rows:
            if row.group != group:
                group = row.group
                heading = QLabel(row.group_title)
                heading.setObjectName("help-group")
                grid.addWidget(heading, line, 0, 1, 2)
                line += 1
            key = QLabel(row.key)
            key.setObjectName("help-key")
            key.setProperty("action", row.action)
            key.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text = QLabel(row.description)
            text.setObjectName("help-text")
            text.setProperty("action", row.action)
            text.setWordWrap(True)
            grid.addWidget(key, line, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, line, 1)
            line += 1
        grid.setRowStretch(line, 1)
        return grid

    def open(self) -> None:
        """Show the help over the whole window and take the keyboard; the focus comes back on close."""
        if self.isVisible():
            return
        focused = QApplication.focusWidget()
        self._return_focus = focused if focused is not None and focused is not self else None
        self.setGeometry(self._window.rect())
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.PopupFocusReason)

    def dismiss(self) -> None:
        if not self.isVisible():
            return
        self.hide()
        previous, self._return_focus = self._return_focus, None
        if previous is not None and shiboken6.isValid(previous) and previous.isVisible():
            previous.setFocus(Qt.FocusReason.PopupFocusReason)

    def toggle(self) -> None:
        """What the window binds to the help key."""
        if self.isVisible():
            self.dismiss()
        else:
            self.open()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # the window's shortcuts do not fire while the help shows: the key comes here instead
            return True
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            # Handled here, before QWidget turns Tab into a focus move out of the help.
            if event.key() not in MODIFIER_KEYS:
                self.dismiss()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.dismiss()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._window.rect())
        return False

    def showEvent(self, event: QShowEvent) -> None:
        self.setGeometry(self._window.rect())
        super().showEvent(event)
