"""The window tests really run on qasync's loop, so a Qt timer and an awaited future meet."""

import asyncio

import qasync
from PySide6.QtCore import QTimer


async def test_window_tests_run_on_the_qt_event_loop() -> None:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, qasync.QEventLoop)
    fired: asyncio.Future[str] = loop.create_future()
    QTimer.singleShot(5, lambda: fired.set_result("timer"))
    assert await asyncio.wait_for(fired, 2) == "timer"
