"""Tests that drive the real window: their coroutines run on qasync's loop, inside Qt's own event loop, as the app does.

(Elsewhere the tests keep pytest-asyncio's plain loop.) Inside these tests `qtbot.waitSignal` would block the very loop
that delivers the signal: await a future the signal resolves instead.
"""

import gc

import pytest
import qasync
from PySide6.QtWidgets import QApplication


@pytest.fixture(autouse=True)
def _collect_old_loops() -> None:
    """Free the previous test's event loop here, on the GUI thread.

    A closed qasync loop still owns a QObject with Qt timers (its cancelled call_later handles); left to the cyclic
    garbage collector it may be freed on a worker thread, and Qt warns that timers cannot be stopped from there.
    """
    gc.collect()


def pytest_asyncio_loop_factories(config, item):
    return {"qt": qt_loop}


def qt_loop() -> qasync.QEventLoop:
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # as in the app: closing a test's window must not stop the loop under it
    return qasync.QEventLoop(app)


# ---------------------------------------------------------------- the whole booth: simulated park + the real window
#
# Built inside the test's own coroutine, not in an async fixture: pytest-qt processes Qt events between the setup and
# the call, outside qasync's loop, and the services' timers would fire there with no running loop.

import contextlib  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from pytestqt.qtbot import QtBot  # noqa: E402

from booth_app.app import demo_settings  # noqa: E402
from booth_app.core.types import Role  # noqa: E402
from booth_app.lanes.staff import OnDuty, Staff  # noqa: E402
from booth_app.ui.bridge import Services  # noqa: E402
from booth_app.ui.main_window import MainWindow  # noqa: E402
from booth_app.ui.shell import Shell, open_window  # noqa: E402
from tests.lanes.conftest import Site, site_running  # noqa: E402

ADMIN = ("admin", "admin-pass-1")
CASHIER = ("wang", "cashier-pass-1")


@dataclass
class Booth:
    site: Site
    shell: Shell
    staff: Staff
    data_dir: Path

    @property
    def window(self) -> MainWindow:
        return self.shell.window


@contextlib.asynccontextmanager
async def booth_running(
    qtbot: QtBot, tmp_path: Path, *, logged_in: bool = True, operators: bool = True
) -> AsyncIterator[Booth]:
    """The demo's four lanes (A1, A2 in; B1, B2 out) on simulated devices, watched and driven through the real window;
    with an admin and cashier 王 (unless `operators` is False: a first start), 王 on duty if `logged_in`."""
    async with site_running(tmp_path) as site:
        settings = demo_settings()  # the same lane ids as the site
        staff = Staff(site.store, reported=site.lanes.context.reported)
        if operators:
            admin = await staff.create_first_admin(*ADMIN, display_name="管理员")
            setup = OnDuty(admin, shift_id=0, started_at=datetime.now(UTC))  # the admin's authority, no shift
            await staff.add_operator(setup, *CASHIER, role=Role.CASHIER, display_name="王")
        shell = open_window(Services(settings, site.store, staff, tmp_path / "data"), demo=True)
        qtbot.addWidget(shell.window)
        site.lanes.context.listeners.append(shell.bridge.on_lane_event)
        shell.bridge.lanes_started(site.lanes, site.bolink)
        if logged_in and operators:
            shell.bridge.set_on_duty(await staff.login(*CASHIER))
        shell.window.activateWindow()
        try:
            yield Booth(site, shell, staff, tmp_path / "data")
        finally:
            site.lanes.context.listeners.remove(shell.bridge.on_lane_event)
            shell.window.close()
