"""The app as a user starts it: headless on a configuration file, and the window on its demo; both stop cleanly."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT


def start(*args: str, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-m", "booth_app.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_log(log_file: Path, text: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.exists() and text in log_file.read_text(encoding="utf-8"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    output = process.communicate()[0]
    raise AssertionError(f"{text!r} never reached {log_file}; the app said:\n{output}")


@pytest.mark.slow
def test_headless_runs_on_a_configuration_and_stops_on_sigterm(tmp_path: Path) -> None:
    with start("--headless", "--config", str(EXAMPLE), data_dir=tmp_path) as app:
        wait_for_log(tmp_path / "logs" / "booth.log", "running headless for park 1001 with 2 lanes", app)
        app.send_signal(signal.SIGTERM)
        output = app.communicate(timeout=30)[0]
    assert app.returncode == 0, output
    assert "stopping" in (tmp_path / "logs" / "booth.log").read_text(encoding="utf-8")
    with sqlite3.connect(tmp_path / "booth.db") as db:  # the seed list of the configuration is in the store
        assert db.execute("SELECT plate, kind FROM vehicles").fetchall() == [("京A88888", "month")]


@pytest.mark.slow
def test_the_demo_window_starts_and_closes_on_sigterm(tmp_path: Path) -> None:
    with start("--demo", data_dir=tmp_path) as app:
        wait_for_log(tmp_path / "demo" / "logs" / "booth.log", "window shown for park 1001 with 4 lanes (demo)", app)
        app.send_signal(signal.SIGTERM)
        output = app.communicate(timeout=30)[0]
    assert app.returncode == 0, output
    assert "Traceback" not in output
    assert (tmp_path / "demo" / "booth.db").exists()


def test_headless_with_no_configuration_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "booth_app.cli", "--data-dir", str(tmp_path), "--headless"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "BOOTH_CONFIG"},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"booth-app: cannot start: there is no configuration file {tmp_path / 'booth.toml'}; start booth-app once "
        "with its window to fill in the setup screen, or copy docs/booth.example.toml there and edit it"
    )
    assert list(tmp_path.iterdir()) == []  # nothing made: no logs, no database


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_headless_demo_reports_to_its_bolink_simulator(tmp_path: Path) -> None:
    with start("--demo", "--headless", data_dir=tmp_path) as app:
        log_file = tmp_path / "demo" / "logs" / "booth.log"
        wait_for_log(log_file, "Bolink reporting started", app)
        wait_for_log(log_file, "Bolink is reachable", app)
        deadline = time.monotonic() + 30
        rows: list[tuple[str, str]] = []
        while time.monotonic() < deadline and len(rows) < 2:
            with sqlite3.connect(tmp_path / "demo" / "booth.db") as db:
                rows = db.execute("SELECT lane_id, url FROM lane_qrcodes ORDER BY lane_id").fetchall()
            time.sleep(0.2)
        app.send_signal(signal.SIGTERM)
        output = app.communicate(timeout=30)[0]
    assert app.returncode == 0, output
    assert "Traceback" not in output
    assert [lane for lane, _ in rows] == ["B1", "B2"]  # each exit lane's payment QR code, cached
    assert all(url.startswith("http://127.0.0.1:19000/") for _, url in rows)


@pytest.mark.slow
def test_the_bolink_simulator_runs_on_its_own(tmp_path: Path) -> None:
    import httpx

    from booth_app.bolink.messages import Login
    from booth_app.bolink.signing import envelope
    from booth_app.sim.bolink import DEMO_UKEY

    port = free_port()
    login = envelope(
        Login(union_id="200188", park_id="1001", local_id="t").json_text(), DEMO_UKEY, service_name="login"
    )
    with subprocess.Popen(
        [sys.executable, "-m", "booth_app.cli", "sim", "bolink", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as sim:
        deadline = time.monotonic() + 30
        reply: dict[str, object] = {}
        while time.monotonic() < deadline and sim.poll() is None:
            try:
                reply = httpx.post(f"http://127.0.0.1:{port}/bpd/upload.do", content=login.encode()).json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        sim.send_signal(signal.SIGTERM)
        output = sim.communicate(timeout=30)[0]
    assert reply.get("state") == 1, output
    assert reply.get("token")
    assert sim.returncode == 0, output
    assert f"Bolink simulator on http://127.0.0.1:{port}" in output


@pytest.mark.parametrize("kind", ["bolink", "camera", "display", "relay", "video"])
def test_every_simulator_is_reachable_from_the_command_line(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    from booth_app.cli import main

    try:
        code = main(["sim", kind, "--help"])
    except SystemExit as done:  # argparse's own exit, when the simulator lets it through
        code = done.code  # type: ignore[assignment]
    assert code == 0
    assert f"usage: booth-app sim {kind}" in capsys.readouterr().out
