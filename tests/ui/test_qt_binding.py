"""Guards against a Qt binding that breaks the long-running window.

PySide6 6.12.0 drops a reference to True on every `Signal.emit()`; after a few thousand emits (minutes of live video)
Python aborts with "bool_dealloc". The lock file excludes that version; this test fails on any binding that does it.
"""

import sys
import threading

from PySide6.QtCore import QObject, Qt, Signal
from pytestqt.qtbot import QtBot


class Emitter(QObject):
    happened = Signal()
    changed = Signal(bool, str)


def test_emitting_signals_keeps_true_and_false_alive(qtbot: QtBot) -> None:
    emitter = Emitter()
    received: list[object] = []
    emitter.happened.connect(lambda: received.append(None), Qt.ConnectionType.QueuedConnection)
    emitter.changed.connect(lambda *args: received.append(args), Qt.ConnectionType.QueuedConnection)
    before = sys.getrefcount(True), sys.getrefcount(False)

    def emit_many() -> None:
        for index in range(200):
            emitter.happened.emit()
            emitter.changed.emit(index % 2 == 0, "x")

    emit_many()  # on the GUI thread
    worker = threading.Thread(target=emit_many)  # and from a reader's thread, as the video views do
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(received) == 800, timeout=5_000)
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert after[0] >= before[0] - 5  # a few may move with unrelated objects; 800 lost would be the bug
    assert after[1] >= before[1] - 5
