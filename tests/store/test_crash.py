"""Killing the process at any instant loses no committed stay (ARCHITECTURE.md, durability rules).

A child process commits stays and prints each order id once its commit returned; we SIGKILL it at a random moment,
reopen the SQLite file and require every promised stay, payment and outbox row, intact.
"""

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from booth_app.core.types import StayState
from booth_app.store import Store
from booth_app.store.engine import sqlite_url
from tests.conftest import ROOT
from tests.store.crash_writer import expected_stay, fee

ROUNDS = 8


def run_and_kill(url: str, prefix: str, rng: random.Random) -> tuple[set[int], set[int]]:
    """Start a writer, let it commit for a random while, SIGKILL it; return what it had promised."""
    entered: set[int] = set()
    left: set[int] = set()
    first_line = threading.Event()
    with subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_writer", url, prefix],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        stdout = child.stdout

        def read() -> None:
            for line in stdout:
                if not line.endswith("\n"):
                    break  # cut off by the kill: not a promise
                what, number = line.split()
                (entered if what == "entered" else left).add(int(number))
                first_line.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        if not first_line.wait(timeout=60):
            child.kill()
            raise AssertionError(f"the writer never committed a stay: {child.stderr.read()}")
        time.sleep(rng.uniform(0.0, 0.6))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        reader.join(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return entered, left


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_committed_stay(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    url = sqlite_url(tmp_path / "booth.db")
    promised: dict[str, tuple[set[int], set[int]]] = {}
    for round_no in range(ROUNDS):
        prefix = f"R{round_no}"
        promised[prefix] = run_and_kill(url, prefix, rng)
        assert promised[prefix][0], f"round {round_no} committed nothing (seed {seed})"

    async def check() -> None:
        store = await Store.open(url)
        try:
            for prefix, (entered, left) in promised.items():
                for i in sorted(entered):
                    want = expected_stay(prefix, i)
                    got = await store.stay(want.order_id)
                    assert got is not None, f"committed stay {want.order_id} is gone (seed {seed})"
                    assert (got.plate, got.entered_at, got.entry_lane, got.car_type) == (
                        want.plate,
                        want.entered_at,
                        want.entry_lane,
                        want.car_type,
                    ), f"seed {seed}"
                for i in sorted(left):
                    order_id = expected_stay(prefix, i).order_id
                    got = await store.stay(order_id)
                    assert got is not None, f"stay {order_id} lost (seed {seed})"
                    assert got.state is StayState.LEFT, f"exit of {order_id} lost (seed {seed})"
                    payments = await store.payments(order_id)
                    assert [p.amount for p in payments] == [fee(i)], f"payment of {order_id} (seed {seed})"
            with store.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                # every stay has exactly its in_park report, every closed one its out_park: same transaction
                orphans = connection.execute(
                    sa.text(
                        "SELECT count(*) FROM stays s WHERE "
                        "(SELECT count(*) FROM outbox o WHERE o.order_id = s.order_id AND o.service = 'in_park') != 1 "
                        "OR (s.state = 'left') != "
                        "((SELECT count(*) FROM outbox o WHERE o.order_id = s.order_id AND o.service = 'out_park') = 1)"
                    )
                ).scalar()
                assert orphans == 0, f"stays without their reports (seed {seed})"
        finally:
            await store.close()

    asyncio.run(check())
    total = sum(len(entered) for entered, _ in promised.values())
    assert total >= ROUNDS
