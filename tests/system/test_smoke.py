"""`booth-app --smoke-test` from the source tree: passes on a working installation, and says in one line what failed."""

import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from booth_app import smoke
from booth_app.cli import main
from tests.conftest import ROOT


@pytest.fixture
def root_logging() -> Iterator[None]:
    """The smoke test sets up the app's logging as the app does; put the test run's own back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.mark.slow
def test_the_smoke_test_passes_and_keeps_its_data_where_told(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "booth_app.cli", "--smoke-test", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("smoke test passed in ")
    assert "京S52110 in at A1 and out at B1 after 70 min, 7 yuan cash" in line
    assert "video on 4 lanes" in line
    with sqlite3.connect(tmp_path / "smoke-test" / "booth.db") as db:
        ((plate, state),) = db.execute("SELECT plate, state FROM stays").fetchall()
        ((channel, amount, operator),) = db.execute("SELECT channel, amount, operator FROM payments").fetchall()
    assert (plate, state, channel, Decimal(str(amount)), operator) == ("京S52110", "left", "cash", 7, "cashier")


@pytest.mark.slow
def test_a_failed_check_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    monkeypatch.setattr(smoke, "FEE", Decimal(8))  # what the store holds no longer matches what the test expects
    assert main(["--smoke-test", "--data-dir", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "smoke test failed: the store holds cash 7.00 by cashier for 京S52110, not one cash payment of 8 by cashier\n"
    )


@pytest.mark.slow
def test_a_warning_on_the_way_fails_the_smoke_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    monkeypatch.setattr(smoke, "DEMO_ENCODER", "no-such-encoder")  # the demo cameras refuse it, with a warning
    assert main(["--smoke-test", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("smoke test failed: ")
    assert err.count("\n") == 1
