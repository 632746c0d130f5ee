"""Tests that drive the real window: their coroutines run on qasync's loop, inside Qt's own event loop, as the app does.

(Elsewhere the tests keep pytest-asyncio's plain loop.) Inside these tests `qtbot.waitSignal` would block the very loop
that delivers the signal: await a future the signal resolves instead.
"""

import qasync
from PySide6.QtWidgets import QApplication


def pytest_asyncio_loop_factories(config, item):
    return {"qt": lambda: qasync.QEventLoop(QApplication.instance() or QApplication([]))}
