"""The codebase keeps its own rules: the layers of ARCHITECTURE.md, lint, and types."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_the_import_rules_of_the_architecture_hold() -> None:
    result = run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_imports_the_standard_library_only() -> None:
    allowed = set(sys.stdlib_module_names) | {"booth_app"}
    offenders = []
    for path in sorted((ROOT / "booth_app" / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            )
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] not in allowed]
            offenders += [
                f"{path.name}: {name}"
                for name in names
                if name.startswith("booth_app.") and not name.startswith("booth_app.core")
            ]
    assert offenders == []


@pytest.mark.slow
def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_types_check() -> None:
    result = run("mypy", "--cache-dir", os.devnull)
    assert result.returncode == 0, result.stdout + result.stderr
