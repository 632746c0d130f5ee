"""The Windows window program has no console: a configuration it cannot use is said in a message box instead."""

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from booth_app.cli import EXIT_USAGE, main


def test_without_a_console_a_broken_configuration_is_shown_in_a_message_box(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "booth.toml"
    config.write_text("[park]\npark_id = 1001\n", encoding="utf-8")
    monkeypatch.setattr("sys.stderr", None)  # what a program built without a console gets
    shown: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_close)
            return
        shown.append(box.text())
        box.accept()

    QTimer.singleShot(20, read_and_close)
    assert main(["--config", str(config), "--data-dir", str(tmp_path)]) == EXIT_USAGE
    (text,) = shown
    assert text.startswith("Booth 无法启动 / Booth cannot start:")
    assert f"{config}: park.park_id: input should be a valid string" in text
    assert "bolink: is required but missing" in text
