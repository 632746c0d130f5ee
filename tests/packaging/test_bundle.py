"""The one-folder bundle, built by `scripts/build-bundle` from this tree, works on its own and carries only what the
app uses: the frozen app passes its smoke test, checks a configuration and knows its version; and the Windows installer
built around the bundle's files installs, upgrades and uninstalls under wine as packaging/README.md says."""

import shutil
import signal
import socket
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [str(ROOT / "scripts" / "build-bundle"), str(dist)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "smoke test passed in " in built.stdout, built.stdout  # the script ends with the bundle's own smoke test
    return dist / "booth-app"


def run(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bundle / "booth-app"), *args],
        env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"},  # nothing of the build's virtualenv
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_frozen_app_passes_its_smoke_test_with_the_bundled_ffmpeg(bundle: Path, tmp_path: Path) -> None:
    # No ffmpeg program on PATH: the demo cameras use the bundle's own encoder (booth-app sim encoder), and the tiles
    # decode with the bundle's PyAV.
    result = subprocess.run(
        [str(bundle / "booth-app"), "--smoke-test", "--data-dir", str(tmp_path)],
        env={"PATH": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "video on 4 lanes" in result.stdout
    assert (tmp_path / "smoke-test" / "booth.db").exists()


def test_the_frozen_app_knows_its_version_and_checks_a_configuration(bundle: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert run(bundle, "--version").stdout.strip() == f"booth-app {version}"
    checked = run(bundle, "check-config", str(EXAMPLE))
    assert checked.returncode == 0, checked.stderr
    assert "ok — park 1001" in checked.stdout
    broken = run(bundle, "check-config", str(ROOT / "pyproject.toml"))
    assert broken.returncode == 2
    assert "park: is required but missing" in broken.stderr


def test_the_frozen_app_runs_on_a_shared_postgresql_store(bundle: Path, tmp_path: Path, postgres: Any) -> None:
    url = postgres.database()
    config = EXAMPLE.read_text(encoding="utf-8").replace('url = ""', f'url = "{url}"', 1)
    config = config.replace("port = 8088", f"port = {free_port()}", 1).replace('host = "0.0.0.0"', 'host = "127.0.0.1"')
    (tmp_path / "booth.toml").write_text(config, encoding="utf-8")
    console = tmp_path / "console.log"
    command = [str(bundle / "booth-app"), "--headless", "--config", str(tmp_path / "booth.toml"), "--data-dir"]
    with console.open("wb") as output:
        app = subprocess.Popen(
            [*command, str(tmp_path)],
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    log = tmp_path / "logs" / "booth.log"
    deadline = time.monotonic() + 60
    while not (log.exists() and "lanes running" in log.read_text(encoding="utf-8")):
        assert app.poll() is None, console.read_text(encoding="utf-8", errors="replace")
        assert time.monotonic() < deadline, "the frozen app's lanes did not start on PostgreSQL within 60 s"
        time.sleep(0.2)
    app.send_signal(signal.SIGTERM)
    assert app.wait(timeout=30) == 0
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as db:
        (count,) = db.execute("SELECT count(*) FROM vehicles").fetchone()  # the example's seed list, written there
    assert count == 1
    assert "ERROR" not in log.read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_bundle_leaves_out_what_the_app_does_not_use(bundle: Path) -> None:
    files = [path.relative_to(bundle).as_posix() for path in bundle.rglob("*") if path.is_file()]
    qt_libraries = {name.rsplit("/", 1)[-1].split(".so")[0] for name in files if "/libQt6" in name}
    for unused in ("libQt6Qml", "libQt6Quick", "libQt6Multimedia", "libQt6Pdf", "libQt6WebEngineCore", "libQt6Sql"):
        assert unused not in qt_libraries
    assert {"libQt6Core", "libQt6Gui", "libQt6Widgets", "libQt6PrintSupport"} <= qt_libraries
    translations = [name for name in files if name.endswith(".qm")]
    assert sorted(name.rsplit("/", 1)[-1] for name in translations) == ["booth_en.qm", "qt_zh_CN.qm", "qtbase_zh_CN.qm"]
    assert not [name for name in files if name.endswith(".ts") or "/tests/" in name or "pytest" in name]
    assert "_internal/booth_app/store/migrations/versions/0001_initial_tables.py" in files
    assert any(name.startswith("_internal/psycopg_binary/") for name in files)  # its own libpq, none of the system's


@pytest.mark.skipif(
    shutil.which("wine") is None or shutil.which("makensis") is None,
    reason="wine or nsis is not installed: scripts/install-system-packages installs them for the tests",
)
def test_the_installer_around_the_bundle_installs_upgrades_and_uninstalls_under_wine(bundle: Path) -> None:
    exercise = ROOT / "packaging" / "windows" / "test-under-wine"
    result = subprocess.run([str(exercise), str(bundle)], capture_output=True, text=True, timeout=600, check=False)
    if result.returncode == 1:
        # Once in about a dozen runs here, a silent uninstall under wine exited 1 where it exits 0, and never again
        # on the next run; the cause is not found yet. One more run, in a fresh wine prefix, must pass: a real defect
        # fails both. The first run's output is printed, so a failure of both shows it.
        print(f"the first run failed:\n{result.stdout}{result.stderr}")
        result = subprocess.run([str(exercise), str(bundle)], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr  # 77: wine is installed but cannot run here
    assert "exercising the installer around the Linux bundle's files" in result.stdout
    assert "ok: 1.0.0's own file is gone: the program folder was replaced whole" in result.stdout
    assert "ok: data and configuration kept, unchanged" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("every check passed in ")
