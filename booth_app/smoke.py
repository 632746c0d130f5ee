"""`booth-app --smoke-test`: the whole app once, as built, on its own simulators: does this installation work?

It starts every service of the demo car park (Bolink simulator, display boards, relay board, synthetic video cameras)
on free ports of this machine, opens the real window offscreen, logs the demo cashier in through the login dialog,
drives one car in and out with a cash payment taken through the cash dialog, and checks the store, the reports Bolink
received, the gate, live video on every lane and the rendered window. Any warning logged by the app or by Qt on the way
is a failure too: a frozen build that lost a plugin or a library usually says so only in a warning.

It prints one line and exits 0 when everything worked, else 1 with one line naming what failed. Nothing of a real car
park is touched: the data go to a fresh folder (a temporary one unless `--data-dir` names where to keep them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from booth_app.config import Settings, parse_settings

log = logging.getLogger(__name__)

TIMEOUT_S = 120.0  # the whole run; a cold start of a frozen build on a slow booth PC takes well under a minute
PLATE = "京S52110"
STAY_MINUTES = 70  # the demo tariff: 5 yuan for the first hour, 2 for each started half hour after it
FEE = Decimal(7)
# The demo cameras encode with PyAV, as on a booth PC with no ffmpeg program: the bundle's own FFmpeg libraries then
# both encode and decode the video the tiles show.
DEMO_ENCODER = "pyav"
EXPECTED_QT_NOISE = (  # about this machine, not about the build
    "This plugin does not support propagateSizeHints",  # the offscreen platform's own limitation
    'Detected locale "C"',  # no UTF-8 locale set (a bare service account): Qt switches to C.UTF-8 by itself
)


# A port of the demo: in an address (127.0.0.1:19000) or the camera listener's own key (port = 18088).
LOCAL_PORT = re.compile(r"(127\.0\.0\.1:|^port = )(\d+)", re.MULTILINE)


class SmokeFailure(Exception):
    """What did not work, in one sentence."""


def smoke_settings() -> Settings:
    """The demo car park, every one of its local ports moved to a free one, so that a running booth or demo on this
    machine neither disturbs the test nor is disturbed by it."""
    from booth_app.app import resource

    text = resource("demo.toml").read_text(encoding="utf-8")
    ports = sorted({match[2] for match in LOCAL_PORT.finditer(text)})
    moved = dict(zip(ports, free_ports(len(ports)), strict=True))
    return parse_settings(LOCAL_PORT.sub(lambda m: f"{m[1]}{moved[m[2]]}", text))


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on the loopback now (held together while chosen, so none repeats)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


class Problems(logging.Handler):
    """Every warning or error the app logs (and, through `qt_message`, every Qt warning) while the test runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    def qt_message(self, kind: Any, _context: Any, message: str) -> None:
        from PySide6.QtCore import QtMsgType

        if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg and not message.startswith(EXPECTED_QT_NOISE):
            self.lines.append(f"Qt: {message}")


def run_smoke_test(data_dir: Path | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.monotonic()
    with _data_folder(data_dir) as folder:
        problems = Problems()
        try:
            summary = _run(folder, problems)
            if problems.lines:
                raise SmokeFailure(f"the app logged {len(problems.lines)} problem(s), first: {problems.lines[0]}")
        except SmokeFailure as exc:
            print(f"smoke test failed: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # anything else is a failure of the build too: one line, not a traceback
            print(f"smoke test failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print(f"smoke test passed in {time.monotonic() - started:.1f} s: {summary}")
    return 0


@contextlib.contextmanager
def _data_folder(data_dir: Path | None) -> Iterator[Path]:
    if data_dir is None:
        with tempfile.TemporaryDirectory(prefix="booth-smoke-") as folder:
            yield Path(folder)
        return
    kept = data_dir / "smoke-test"
    shutil.rmtree(kept, ignore_errors=True)  # each run starts from an empty database
    kept.mkdir(parents=True)
    yield kept


def _run(data_dir: Path, problems: Problems) -> str:
    import qasync
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from booth_app.app import setup_logging
    from booth_app.ui.i18n import install_qt_translator, install_translator
    from booth_app.ui.theme import apply_theme

    settings = smoke_settings()
    setup_logging(data_dir, console=False)
    logging.getLogger().addHandler(problems)
    previous = qInstallMessageHandler(problems.qt_message)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    app.setQuitOnLastWindowClosed(False)
    # Both translations the window may load: a build that lost either logs an error, and fails here.
    translators = [install_translator(app, "en"), install_qt_translator(app, "zh")]
    apply_theme(app)
    outcome: list[str] = []
    try:
        qasync.run(_exercise(settings, data_dir, outcome))
    finally:
        qInstallMessageHandler(previous)
        logging.getLogger().removeHandler(problems)
        for translator in translators:
            if translator is not None:
                app.removeTranslator(translator)
    return outcome[0]


async def _exercise(settings: Settings, data_dir: Path, outcome: list[str]) -> None:
    from booth_app.app import window_running

    try:
        async with (
            asyncio.timeout(TIMEOUT_S),
            window_running(settings, data_dir, demo=True, traffic=False, demo_encoder=DEMO_ENCODER) as shell,
        ):
            outcome.append(await _one_car(shell, settings))
    except TimeoutError:
        raise SmokeFailure(f"the run took more than {TIMEOUT_S:.0f} s") from None


async def _one_car(shell: Any, settings: Settings) -> str:
    from booth_app.app import DEMO_ACCOUNTS
    from booth_app.core.types import PaymentChannel, StayState
    from booth_app.sim.camera import SimCamera

    services = shell.bridge.services
    store = services.store
    events: list[Any] = []
    shell.bridge.lane_event.connect(events.append)
    entry = next(lane for lane in settings.lanes if lane.direction == "in")
    exit_ = next(lane for lane in settings.lanes if lane.direction == "out")

    await _until(lambda: services.lanes is not None, "the lanes did not start")
    cashier_name, password = DEMO_ACCOUNTS[1][:2]
    await _log_in(shell, cashier_name, password)

    listener = services.lanes.listener.url
    # The entry as a camera reports a car that passed while the booth was away: timed by the camera, an hour ago.
    async with SimCamera(listener, serialno=entry.camera.serialno) as camera:
        await camera.push(PLATE, offline=True, at=time.time() - STAY_MINUTES * 60)
    stay = await _until_async(lambda: store.inside(PLATE), f"{PLATE} has no stay after entering at {entry.id}")

    async with SimCamera(listener, serialno=exit_.camera.serialno) as camera:
        await camera.push(PLATE)
    panel = shell.window.payments[exit_.id]
    await _until(lambda: panel.state == "waiting", f"the exit lane {exit_.id} did not ask {PLATE} to pay")
    shell.cashier.collect_cash()  # what F5 does
    dialog = shell.cashier.dialog
    if dialog is None or dialog.objectName() != "cash-dialog":
        raise SmokeFailure(f"F5 did not open the cash dialog for {PLATE}")
    dialog.ok_button.click()  # what Enter does
    await _until(lambda: shell.cashier.dialog is None, f"the cash dialog did not close: {dialog.error.text()}")

    await _until_async(
        lambda: _left(store, stay.order_id, StayState.LEFT), f"{PLATE}'s stay was not closed after paying cash"
    )
    payments = [(p.channel, p.amount, p.operator) for p in await store.payments(stay.order_id)]
    if payments != [(PaymentChannel.CASH, FEE, cashier_name)]:
        held = ", ".join(f"{channel} {amount:.2f} by {who}" for channel, amount, who in payments) or "no payment"
        raise SmokeFailure(f"the store holds {held} for {PLATE}, not one cash payment of {FEE} by {cashier_name}")
    await _until(
        lambda: any(e.lane_id == exit_.id and e.kind == "gate" and e.text == "open" for e in events),
        f"the exit gate of {exit_.id} did not open",
    )
    reports = await _until_async(
        lambda: _reported(shell.simulator, stay.order_id), f"Bolink did not receive {PLATE}'s in_park and out_park"
    )
    frames = await _until_async(lambda: _video(shell), "not every lane showed a video frame", within=60)
    width, height = _rendered(shell.window)
    return (
        f"{PLATE} in at {entry.id} and out at {exit_.id} after {STAY_MINUTES} min, {FEE} yuan cash, "
        f"{reports} reports at Bolink, video on {frames} lanes, window {width}x{height}"
    )


async def _log_in(shell: Any, username: str, password: str) -> None:
    shell.cashier.login()
    await _until(lambda: shell.cashier.dialog is not None, "the login dialog did not open")
    dialog = shell.cashier.dialog
    dialog.username.setText(username)
    dialog.password.setText(password)
    dialog.ok_button.click()
    await _until(lambda: shell.bridge.on_duty is not None, f"the login of {username} failed: {dialog.error.text()}")


async def _left(store: Any, order_id: str, state: Any) -> Any:
    stay = await store.stay(order_id)
    return stay if stay is not None and stay.state is state else None


async def _reported(simulator: Any, order_id: str) -> int | None:
    services = [str(u.service) for u in simulator.uploads if u.data.get("order_id") == order_id]
    return len(services) if {"in_park", "out_park"} <= set(services) else None


async def _video(shell: Any) -> int | None:
    """How many lanes show video, once every lane does (each demo lane has its camera)."""
    tiles = shell.window.tiles
    return len(tiles) if all(tile.video.showing is not None for tile in tiles) else None


def _rendered(window: Any) -> tuple[int, int]:
    image = window.grab().toImage()
    if image.isNull() or image.width() < 800:
        raise SmokeFailure("the main window did not render")
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)}
    if len(colours) < 8:
        raise SmokeFailure(f"the main window rendered nearly blank ({len(colours)} colours)")
    return image.width(), image.height()


async def _until(predicate: Callable[[], bool], failure: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{failure} (waited {within:.0f} s)")
        await asyncio.sleep(0.05)


async def _until_async(probe: Callable[[], Any], failure: str, within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    while (found := await probe()) is None or found is False:
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{failure} (waited {within:.0f} s)")
        await asyncio.sleep(0.1)
    return found
