"""The Windows installer: its NSIS script builds from a bundle, for both targets, and refuses a folder that is not one
(test_bundle.py runs it under wine around the real bundle)."""

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "packaging" / "windows" / "booth.nsi"
MAKENSIS = shutil.which("makensis")

needs_makensis = pytest.mark.skipif(
    MAKENSIS is None, reason="makensis is not installed: scripts/install-system-packages installs Debian's nsis"
)


def stand_in_bundle(folder: Path) -> Path:
    """The shape of the one-folder bundle, booth-app.exe beside _internal/: the installer packs it, never runs it."""
    (folder / "_internal").mkdir(parents=True)
    (folder / "booth-app.exe").write_bytes(b"MZ stand-in")
    (folder / "_internal" / "x.txt").write_text("x", encoding="utf-8")
    return folder


def makensis(bundle: Path, out: Path, *defines: str) -> subprocess.CompletedProcess[str]:
    assert MAKENSIS is not None
    return subprocess.run(
        [MAKENSIS, "-V2", "-WX", "-DVERSION=0.1.0", f"-DBUNDLE={bundle}", f"-DOUTFILE={out}", *defines, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def pe_machine(exe: Path) -> int:
    """The CPU a Windows program is for, from its PE header (0x8664: x86-64, 0x14C: x86)."""
    data = exe.read_bytes()
    header = struct.unpack_from("<I", data, 0x3C)[0]
    assert data[:2] == b"MZ"
    assert data[header : header + 4] == b"PE\0\0"
    return int(struct.unpack_from("<H", data, header + 4)[0])


@pytest.mark.slow
@needs_makensis
@pytest.mark.parametrize(
    ("target", "machine"), [("amd64-unicode", 0x8664), ("x86-unicode", 0x14C)], ids=["amd64", "x86"]
)
def test_the_installer_builds_from_a_bundle(tmp_path: Path, target: str, machine: int) -> None:
    out = tmp_path / "booth-app-0.1.0-setup.exe"
    result = makensis(stand_in_bundle(tmp_path / "booth-app"), out, f"-DTARGET={target}")
    assert result.returncode == 0, result.stdout + result.stderr  # -WX: a warning fails it too
    assert pe_machine(out) == machine


@pytest.mark.slow
@needs_makensis
def test_a_folder_without_booth_app_exe_is_refused_at_build_time(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = makensis(tmp_path / "empty", tmp_path / "setup.exe")
    assert result.returncode != 0
    assert "has no booth-app.exe" in result.stdout + result.stderr
