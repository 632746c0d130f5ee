"""The first start: no configuration file opens the setup screen (window) or says how to make one (headless); a file
that is there is never replaced, however broken."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from booth_app.cli import first_start, main
from booth_app.config import load_settings
from tests.conftest import ROOT
from tests.system.test_app import free_port


@pytest.fixture
def no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOTH_CONFIG", raising=False)


def test_only_a_missing_file_is_a_first_start(tmp_path: Path) -> None:
    assert first_start(tmp_path / "booth.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[park\n", encoding="utf-8")
    assert not first_start(broken)  # someone's file: reported, never set up again over it
    assert not first_start(tmp_path)  # a folder where the file should be
    dangling = tmp_path / "link.toml"
    try:
        dangling.symlink_to(tmp_path / "elsewhere.toml")
    except OSError:  # Windows without the right to make links
        return
    assert not first_start(dangling)


def test_a_broken_file_is_reported_whole_and_no_setup_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], example_toml: str, no_config_env: None
) -> None:
    broken = tmp_path / "booth.toml"
    text = example_toml.replace('id = "B1"', 'id = "A1"').replace("capacity = 300", "capacity = 0")
    broken.write_text(text, encoding="utf-8")
    assert main(["--data-dir", str(tmp_path)]) == 2  # the window was asked for: it would block if it opened
    assert capsys.readouterr().err.splitlines() == [
        f"booth-app: cannot start: {broken}: park.capacity: input should be greater than 0; "
        "lanes[1].id: 'A1' is already used in lanes[0]"
    ]
    assert broken.read_text(encoding="utf-8") == text
    application = QApplication.instance()
    assert application is None or not QApplication.topLevelWidgets()


def start_for_the_first_time(data_dir: Path, action: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("BOOTH_CONFIG", "BOOTH_BOLINK_UKEY")}
    return subprocess.run(
        [sys.executable, "-m", "tests.system.first_start_driver", str(data_dir), str(free_port()), action],
        cwd=ROOT,
        env=env | {"QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_setup_screen_writes_the_file_and_the_window_starts_on_it(tmp_path: Path) -> None:
    result = start_for_the_first_time(tmp_path, "save")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "the setup screen shows",
        "the window asks for the first admin: First use: create the administrator",  # in the language chosen
    ]
    settings = load_settings(tmp_path / "booth.toml")
    assert (settings.park.park_id, settings.park.name, [lane.id for lane in settings.lanes]) == (
        "1001",
        "新停车场",
        ["A1", "B1"],
    )
    log = (tmp_path / "logs" / "booth.log").read_text(encoding="utf-8")
    assert f"the setup screen wrote the configuration to {tmp_path / 'booth.toml'}" in log
    assert "window shown for park 1001 with 2 lanes" in log
    assert settings.ui.language == "en"
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_cancelled_setup_writes_nothing_and_exits_2(tmp_path: Path) -> None:
    result = start_for_the_first_time(tmp_path, "cancel")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["the setup screen shows"]
    lines = [line for line in result.stderr.splitlines() if line.startswith("booth-app:")]
    assert lines == [f"booth-app: setup cancelled: no configuration was written to {tmp_path / 'booth.toml'}"]
    assert not (tmp_path / "booth.toml").exists()
