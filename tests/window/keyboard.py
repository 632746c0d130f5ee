"""The keyboard, as a person uses it: keys go wherever the focus is; Chinese comes from the input method."""

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.helpers import until

from .conftest import Booth

Key = Qt.Key


def focused() -> QWidget:
    widget = QApplication.focusWidget() or QApplication.activeWindow()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(), key, modifier)


def type_text(qtbot: QtBot, text: str) -> None:
    """Letters and digits as key presses; Chinese as an input method delivers it (a committed string)."""
    for chunk in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", text):
        if chunk.isascii():
            qtbot.keyClicks(focused(), chunk)
        else:
            event = QInputMethodEvent()
            event.setCommitString(chunk)
            QApplication.sendEvent(focused(), event)


async def dialog_open(booth: Booth, name: str) -> QWidget:
    """The cashier's dialog called `name`, once it is open and has the keyboard."""
    cashier = booth.shell.cashier
    await until(lambda: cashier.dialog is not None and cashier.dialog.objectName() == name, within=5)
    assert cashier.dialog is not None
    await until(lambda: cashier.dialog.isAncestorOf(QApplication.focusWidget()), within=5)
    return cashier.dialog


async def dialog_closed(booth: Booth) -> None:
    await until(lambda: booth.shell.cashier.dialog is None, within=10)
    await until(QApplication.focusWidget, within=5)  # the window has the keyboard back
