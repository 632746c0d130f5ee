"""Shared test set-up: Qt renders offscreen, and every test gets its own data directory."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED_EXAMPLE = ROOT.parent / "shared" / "booth.example.toml"
EXAMPLE = SHARED_EXAMPLE if SHARED_EXAMPLE.exists() else ROOT / "docs" / "booth.example.toml"


@pytest.fixture
def example_toml() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the whole run (started on first use): `postgres.database()` gives a fresh one."""
    from tests.postgres import postgres_running

    with postgres_running() as server:
        yield server
