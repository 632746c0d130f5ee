"""The composition root: builds the services from the settings and runs them under the window or headless."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import logging.handlers
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from booth_app import __version__
from booth_app.bolink.client import Account
from booth_app.bolink.service import BolinkOptions, BolinkService
from booth_app.config import Settings, database_url, load_settings
from booth_app.store import Store
from booth_app.store.journal import JournaledStore

log = logging.getLogger("booth_app")

RESOURCES_IN_PACKAGE = Path(__file__).with_name("resources")  # wheels and frozen builds
RESOURCES_IN_TREE = Path(__file__).resolve().parents[1] / "resources"  # a source checkout


def resource(name: str) -> Path:
    for folder in (RESOURCES_IN_PACKAGE, RESOURCES_IN_TREE):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"resource {name!r} is missing from this installation")


def demo_settings() -> Settings:
    return load_settings(resource("demo.toml"))


def setup_logging(data_dir: Path, *, console: bool = True) -> Path:
    """Log to a rotating file in the data directory (10 files of 5 MB), and to the console unless told not to."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_file = logs / "booth.log"
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=10, encoding="utf-8")
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for chatty in ("httpx", "httpcore", "aiohttp.access", "pymodbus"):  # a line per request would drown the log
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # A Windows window app (the frozen booth-app.exe) has no console at all: sys.stderr is None there.
    handlers: list[logging.Handler] = [file_handler]
    if console and sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return log_file


async def open_store(settings: Settings, data_dir: Path) -> Store:
    """The booth's store: its own SQLite file, or the car park's database server with a journal for its absences."""
    url = database_url(settings, data_dir)
    store: Store
    if url.startswith("sqlite"):
        store = await Store.open(url, booth=settings.bolink.local_id)
    else:
        store = await JournaledStore.open_journaled(url, data_dir / "journal.db", booth=settings.bolink.local_id)
    if store.offline:
        log.info("the configuration's seed list waits until the database server answers (start the booth again then)")
        return store
    added = await store.seed_vehicles(vehicle.to_vehicle() for vehicle in settings.vehicles)
    if added:
        log.info("added %d vehicles from the configuration's seed list", added)
    return store


def bolink_options(settings: Settings, ukey: str) -> BolinkOptions:
    bolink = settings.bolink
    return BolinkOptions(
        sdk_url=bolink.sdk_url,
        union_api_url=bolink.union_api_url,
        account=Account(settings.park.union_id, settings.park.park_id, bolink.local_id, ukey),
        timeout_s=bolink.timeout_s,
        poll_timeout_s=bolink.poll_timeout_s,
        uploads_per_s=bolink.uploads_per_s,
    )


@contextlib.asynccontextmanager
async def demo_bolink(settings: Settings, *, demo: bool) -> AsyncIterator[Any]:
    """The demo's Bolink simulator on the demo configuration's Bolink URL (nothing outside the demo)."""
    if not demo:
        yield None
        return
    from booth_app.sim.bolink import DEMO_UKEY, BolinkSim

    os.environ.setdefault(settings.park.ukey_env, DEMO_UKEY)
    address = urlsplit(settings.bolink.sdk_url)
    simulator = BolinkSim(parks={settings.park.park_id: DEMO_UKEY}, union_id=settings.park.union_id)
    try:
        await simulator.start(address.hostname or "127.0.0.1", address.port or 80)
    except OSError as exc:
        log.error("the demo Bolink simulator could not start on %s: %s", settings.bolink.sdk_url, exc)
        yield None
        return
    try:
        yield simulator
    finally:
        await simulator.stop()


@contextlib.asynccontextmanager
async def bolink_running(settings: Settings, store: Store) -> AsyncIterator[BolinkService | None]:
    """Bolink reporting for as long as the app runs; None when it is switched off or has no ukey.

    The service is built here and started by `lanes_running`, once the lanes can answer its downlinks.
    """
    ukey = settings.ukey()
    if not settings.bolink.enabled:
        log.info("Bolink reporting is switched off in the configuration; reports stay in the local database")
        yield None
        return
    if ukey is None:
        log.warning(
            "no Bolink ukey in $%s or the keyring: reports wait in the local database until there is one",
            settings.park.ukey_env,
        )
        yield None
        return
    exits = [lane.id for lane in settings.lanes if lane.direction == "out"]
    service = BolinkService(bolink_options(settings, ukey), store, exit_lanes=exits)
    try:
        yield service
    finally:
        await service.stop()


# ---------------------------------------------------------------- lanes


def lane_specs(settings: Settings) -> list[Any]:
    from booth_app.core.types import Direction
    from booth_app.lanes.devices import LaneDeviceSpec
    from booth_app.lanes.service import LaneSpec

    specs = []
    for lane in settings.lanes:
        barrier = lane.barrier
        extra: dict[str, Any] = {"pulse_ms": barrier.pulse_ms}
        if barrier.kind == "display_relay":
            extra["relay"] = barrier.relay
        elif barrier.kind == "modbus":
            extra |= {"modbus_port": barrier.port, "modbus_baudrate": barrier.baudrate,
                      "modbus_device_id": barrier.device_id, "modbus_coil": barrier.coil}  # fmt: skip
        else:
            extra |= {"camera_serialno": lane.camera.serialno, "camera_io": barrier.io}
        devices = LaneDeviceSpec(
            lane.id, lane.display.port, lane.display.baudrate, lane.display.address, barrier.kind, **extra
        )
        specs.append(LaneSpec(lane.id, Direction(lane.direction), lane.camera.serialno, lane.camera.ip, devices))
    return specs


@contextlib.asynccontextmanager
async def lanes_running(
    settings: Settings,
    store: Store,
    bolink: BolinkService | None,
    *,
    demo: bool,
    simulator: Any = None,
    listeners: list[Any] | None = None,
    pictures: Any = None,
    traffic: bool = True,
) -> AsyncIterator[Any]:
    """The lanes: camera listener, controllers and devices (and, in the demo, the boards and relay they talk to)."""
    from booth_app.lanes.bolink_handler import LanesDownlinkHandler
    from booth_app.lanes.controller import LaneContext
    from booth_app.lanes.service import LaneService, ListenerSpec

    async with contextlib.AsyncExitStack() as stack:
        if demo:
            await _start_demo_devices(settings, stack)
        context = LaneContext(
            store, settings.tariff.to_tariff(), settings.rule_settings(), bolink=bolink,
            offline_policy=settings.offline.temp_car_policy, etc_vendor=settings.bolink.etc_vendor,
            listeners=list(listeners or ()),
        )  # fmt: skip
        listener = settings.camera_listener
        service = LaneService(
            lane_specs(settings), context, ListenerSpec(listener.host, listener.port, listener.path), pictures=pictures
        )
        await service.start()
        stack.push_async_callback(service.stop)
        if bolink is not None:
            bolink.attach(LanesDownlinkHandler(service.controllers, client=bolink.client, notices=bolink.notices))
            await bolink.start()
        settle_memory()
        if demo and traffic and service.listener is not None:
            cars = asyncio.create_task(_demo_traffic(settings, service, simulator), name="demo-traffic")
            stack.push_async_callback(_cancel, cars)
        yield service


def settle_memory() -> None:
    """Move what start-up built out of the garbage collector's way: a full collection over it stalls every thread
    for about 100 ms (measured in benchmarks/lanes.py), far beyond the lane's 20 ms budget."""
    gc.collect()
    gc.freeze()


async def _demo_traffic(settings: Settings, service: Any, simulator: Any) -> None:
    from booth_app.sim.traffic import DemoLane, DemoTraffic

    lanes_no = {lane.id: lane.lane_no for lane in settings.lanes}

    async def etc(lane_id: str) -> object:
        return await service.controllers[lane_id].pay_by_etc(lanes_no[lane_id], wait_s=20)

    traffic = DemoTraffic(
        service.listener.url,
        [DemoLane(lane.id, lane.direction, lane.camera.serialno) for lane in settings.lanes],
        simulator,
        regulars=[vehicle.plate for vehicle in settings.vehicles if vehicle.kind != "blacklist"],
        on_etc=etc,
    )
    await traffic.run()


async def _keep_refreshing(window: Any, every_s: float = 2.0) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await window.refresh()
        except Exception:
            log.exception("the window could not refresh its counts")


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _start_demo_devices(settings: Settings, stack: contextlib.AsyncExitStack) -> None:
    """A display board simulator on every board port of the demo, and a relay board on every Modbus port."""
    from booth_app.sim.display_board import DisplayBoardSim
    from booth_app.sim.relay import RelayBoardSim

    display_ports = {lane.display.port for lane in settings.lanes}
    relay_ports = {lane.barrier.port for lane in settings.lanes if lane.barrier.kind == "modbus"}
    for ports, factory in ((display_ports, DisplayBoardSim), (relay_ports, RelayBoardSim)):
        for port in sorted(ports):
            address = urlsplit(port)
            simulator: Any = factory()
            try:
                await simulator.start(address.hostname or "127.0.0.1", address.port or 0)
            except OSError as exc:
                log.error("the demo's simulated device on %s could not start: %s", port, exc)
                continue
            stack.push_async_callback(simulator.stop)


# ---------------------------------------------------------------- live video (window only)

DEMO_VIDEO_SIZE = (960, 540)  # the demo's cameras: enough for a tile, cheap enough for four encoders on a small PC


@contextlib.asynccontextmanager
async def video_running(
    settings: Settings, tiles: dict[str, Any], *, demo: bool, encoder: str = "auto"
) -> AsyncIterator[list[Any]]:
    """A reader per lane camera feeding its tile (and, in the demo, a synthetic camera per lane to read, encoded by
    `encoder`: see `SyntheticCamera`)."""
    from drivers.video import VideoReader

    cameras: list[Any] = []
    if demo:
        cameras = await asyncio.to_thread(_start_demo_cameras, settings, encoder)
    readers = []
    for lane in settings.lanes:
        if lane.camera.rtsp and lane.id in tiles:
            view = tiles[lane.id].video
            reader = VideoReader(lane.camera.rtsp, on_frame=view.offer, on_state=view.offer_state)
            reader.start()
            readers.append(reader)
    try:
        yield readers
    finally:
        await asyncio.gather(*(asyncio.to_thread(reader.stop) for reader in readers))
        await asyncio.gather(*(asyncio.to_thread(camera.stop) for camera in cameras))


def _start_demo_cameras(settings: Settings, encoder: str) -> list[Any]:
    from booth_app.sim.camera_video import SyntheticCamera

    cameras = []
    for lane in settings.lanes:
        address = urlsplit(lane.camera.rtsp)
        if not lane.camera.rtsp or address.port is None:
            continue
        camera = SyntheticCamera(
            address.port, plate=f"京 {lane.id}", size=DEMO_VIDEO_SIZE, host=address.hostname or "", encoder=encoder
        )
        try:
            camera.start()
        except (OSError, RuntimeError) as exc:
            log.warning("the demo camera of lane %s could not start: %s", lane.id, exc)
            continue
        cameras.append(camera)
    return cameras


# ---------------------------------------------------------------- headless


async def _headless(settings: Settings, data_dir: Path, *, demo: bool) -> None:
    store = await open_store(settings, data_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still raises KeyboardInterrupt
            loop.add_signal_handler(signum, stop.set)
    log.info(
        "booth-app %s running headless for park %s with %d lanes",
        __version__,
        settings.park.park_id,
        len(settings.lanes),
    )
    try:
        async with (
            demo_bolink(settings, demo=demo) as simulator,
            bolink_running(settings, store) as bolink,
            lanes_running(settings, store, bolink, demo=demo, simulator=simulator),
        ):
            await stop.wait()
    finally:
        log.info("stopping")
        await store.close()


def run_headless(settings: Settings, data_dir: Path, *, demo: bool = False) -> int:
    setup_logging(data_dir)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_headless(settings, data_dir, demo=demo))
    return 0


# ---------------------------------------------------------------- the window


def show_start_problem(reason: str) -> None:
    """A message box saying why Booth cannot start (a window program has no console to say it on)."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    _app = QApplication.instance() or QApplication(sys.argv)
    QMessageBox.critical(None, "Booth", f"Booth 无法启动 / Booth cannot start:\n\n{reason}")


def run_window(settings: Settings | None, data_dir: Path, *, demo: bool, config_path: Path | None = None) -> int:
    """The window over the services until it is closed. With no settings yet, the setup screen first writes them to
    `config_path`; cancelled, nothing starts and the exit code is 2 (no configuration, as on the command line)."""
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from booth_app.cli import EXIT_USAGE
    from booth_app.ui.theme import apply_theme, configure_high_dpi

    setup_logging(data_dir)
    configure_high_dpi()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Booth")
    app.setApplicationVersion(__version__)
    app.setQuitOnLastWindowClosed(False)  # main() ends the loop itself, after the store has closed
    translators = _speak(app, settings.ui.language if settings is not None else "zh", [])
    apply_theme(app)
    exit_code = 0

    async def main() -> None:
        nonlocal settings, translators, exit_code
        if settings is None:
            settings = await _first_setup(config_path)
            if settings is None:
                exit_code = EXIT_USAGE  # nothing to run on, as when the file is missing on the command line
                return
            translators = _speak(app, settings.ui.language, translators)
        closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_last_window_closed() -> None:
            if not closed.done():
                closed.set_result(None)

        app.lastWindowClosed.connect(on_last_window_closed)
        async with window_running(settings, data_dir, demo=demo) as shell:
            shell.cashier.login()
            await closed

    # Ctrl+C or SIGTERM closes the window like the close button; the timer lets Python see the signal while Qt waits.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.closeAllWindows())
    wake = QTimer()
    wake.start(250)
    wake.timeout.connect(lambda: None)
    qasync.run(main())
    del translators
    return exit_code


def _speak(app: Any, language: str, installed: list[Any]) -> list[Any]:
    """The window's language (and Qt's own words in it), in place of the translators `installed` before."""
    from booth_app.ui.i18n import install_qt_translator, install_translator

    for translator in installed:
        if translator is not None:
            app.removeTranslator(translator)
    return [install_translator(app, language), install_qt_translator(app, language)]


async def _first_setup(config_path: Path | None) -> Settings | None:
    """No configuration yet: the setup screen writes one (None when it was cancelled, with a line saying so)."""
    from booth_app.ui.setup import first_setup

    if config_path is None:
        raise ValueError("the window needs settings, or the path where the setup screen is to write them")
    log.info("there is no configuration file %s: the setup screen asks for one", config_path)
    settings = await first_setup(config_path)
    if settings is None:
        log.info("the setup was cancelled: no configuration was written")
        print(f"booth-app: setup cancelled: no configuration was written to {config_path}", file=sys.stderr)
    return settings


@contextlib.asynccontextmanager
async def window_running(
    settings: Settings,
    data_dir: Path,
    *,
    demo: bool,
    video: bool = True,
    traffic: bool = True,
    demo_encoder: str = "auto",
) -> AsyncIterator[Any]:
    """The window over running services (store, Bolink, lanes, video), for as long as the block runs.

    Yields the `Shell` (window, bridge, cashier). The window shows at once; the lanes start behind it.
    """
    from booth_app.lanes.pictures import PictureStore
    from booth_app.lanes.staff import Staff
    from booth_app.ui.bridge import Services
    from booth_app.ui.shell import open_window

    store = await open_store(settings, data_dir)
    try:
        wake: list[Any] = []  # the Bolink relay's wake, once it runs: a shift's work_record goes up at once
        staff = Staff(store, reported=lambda: _call_each(wake))
        if demo:
            await _demo_accounts(staff)
        shell = open_window(Services(settings, store, staff, data_dir), demo=demo)
        await shell.window.refresh()
        log.info(
            "booth-app %s window shown for park %s with %d lanes%s",
            __version__, settings.park.park_id, len(settings.lanes), " (demo)" if demo else "",
        )  # fmt: skip
        async with (
            demo_bolink(settings, demo=demo) as simulator,
            bolink_running(settings, store) as bolink,
            lanes_running(
                settings, store, bolink, demo=demo, simulator=simulator, listeners=[shell.bridge.on_lane_event],
                pictures=PictureStore(data_dir / "pictures"), traffic=traffic,
            ) as lanes,
            video_running(
                settings, shell.window.tile_by_lane if video else {}, demo=demo and video, encoder=demo_encoder
            ),
        ):  # fmt: skip
            if bolink is not None:
                wake.append(bolink.relay.wake)
            shell.simulator = simulator
            shell.bridge.lanes_started(lanes, bolink)
            refresher = asyncio.create_task(_keep_refreshing(shell.window))
            try:
                yield shell
            finally:
                await _cancel(refresher)
                shell.bridge.lanes_stopped()
    finally:
        await store.close()


def _call_each(functions: list[Any]) -> None:
    for function in functions:
        function()


DEMO_ACCOUNTS = (  # username, password, role, display name: printed in the README for whoever tries the demo
    ("admin", "admin123", "admin", "管理员"),
    ("cashier", "cashier123", "cashier", "收费员小王"),
)


async def _demo_accounts(staff: Any) -> None:
    """The demo's admin and cashier, to try the demo at once (a real booth creates its admin at first start)."""
    from booth_app.core.types import Role
    from booth_app.lanes.staff import OnDuty

    if not await staff.needs_first_admin():
        return
    (admin_name, admin_password, _, admin_display), (name, password, _, display) = DEMO_ACCOUNTS
    admin = await staff.create_first_admin(admin_name, admin_password, admin_display)
    setup = OnDuty(admin, shift_id=0, started_at=datetime.now(UTC))  # the admin's authority, with no shift opened
    await staff.add_operator(setup, name, password, Role.CASHIER, display)
