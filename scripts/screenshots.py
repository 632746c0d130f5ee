"""Screenshots of the window for docs/screenshots/: the demo's main window (busy lanes, a payment in progress, Bolink
offline) and every dialog, taken offscreen from the real window running on the demo's simulators.

Run: `QT_QPA_PLATFORM=offscreen uv run python scripts/screenshots.py [--out docs/screenshots] [--language zh|en]`
The cars are pushed by the script (the demo's random traffic is off) so every picture shows the same scene.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]


async def until(condition: Callable[[], object], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo did not reach the state the screenshot needs")
        await asyncio.sleep(0.05)


def press(key: object, modifier: object = None) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    target = QApplication.focusWidget() or QApplication.activeWindow()
    QTest.keyClick(target, key, modifier or Qt.KeyboardModifier.NoModifier)


def type_text(text: str) -> None:
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    for chunk in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", text):
        target = QApplication.focusWidget()
        if chunk.isascii():
            QTest.keyClicks(target, chunk)
        else:  # Chinese arrives from an input method as a committed string
            event = QInputMethodEvent()
            event.setCommitString(chunk)
            QApplication.sendEvent(target, event)


async def shoot(out: Path, data_dir: Path) -> list[Path]:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from booth_app.app import demo_settings, window_running
    from booth_app.lanes.staff import Staff
    from booth_app.sim.camera import SimCamera
    from booth_app.store import Store
    from booth_app.store.engine import sqlite_url
    from booth_app.ui.login import FirstAdminDialog
    from booth_app.ui.setup import SetupDialog
    from booth_app.ui.vehicles import VehicleEditDialog
    from drivers.zhenshi import PlateColour

    Key = Qt.Key
    saved: list[Path] = []

    def save(widget: object, name: str) -> None:
        path = out / f"{name}.png"
        widget.grab().save(str(path))  # type: ignore[attr-defined]
        saved.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    async def dialog(name: str) -> object:
        await until(lambda: cashier.dialog is not None and cashier.dialog.objectName() == name)
        await asyncio.sleep(0.3)
        return cashier.dialog

    async def close_dialog(*, confirm: bool = False) -> None:
        open_now = cashier.dialog
        press(Key.Key_Return if confirm else Key.Key_Escape)
        try:
            await until(lambda: cashier.dialog is None)
        except TimeoutError:
            error = getattr(open_now, "error", None)
            said = error.text() if error is not None and error.isVisible() else "nothing"
            raise TimeoutError(f"{open_now.objectName()} did not close; it says {said}") from None
        await until(QApplication.focusWidget)  # the window has the keyboard again

    settings = demo_settings()
    async with window_running(settings, data_dir, demo=True, video=True, traffic=False) as shell:
        window, cashier, sim = shell.window, shell.cashier, shell.simulator
        lanes = shell.bridge.services.lanes
        listener = settings.camera_listener
        url = f"http://{listener.host}:{listener.port}{listener.path}"
        cameras = {lane.id: SimCamera(url, serialno=lane.camera.serialno) for lane in settings.lanes}
        for camera in cameras.values():
            await camera.__aenter__()

        # The login comes first, as at every start.
        cashier.login()
        login = await dialog("login-dialog")
        save(login, "dialog-login")
        type_text("cashier")
        press(Key.Key_Tab)
        type_text("cashier123")
        press(Key.Key_Return)
        await until(lambda: shell.bridge.on_duty is not None)

        # Cars that came in over the last hours (the cameras' stored reads), then the lanes at work.
        hours_ago = [("京A2B350", 2.2, "A1"), ("京N7K291", 1.4, "A2"), ("沪C8D105", 3.1, "A1"), ("粤B6F739", 0.9, "A2")]
        for plate, hours, lane in hours_ago:
            await cameras[lane].push(plate, offline=True, at=time.time() - hours * 3600)
        await cameras["A1"].push("京Q3M812")
        await cameras["A2"].push("苏E5R226", colour=PlateColour.GREEN)
        await cameras["B1"].push("京A2B350")  # owes money: waits at B1 with the QR code
        await until(lambda: window.payments["B1"].state == "waiting")
        await cameras["B2"].push("沪C8D105")
        await until(lambda: window.payments["B2"].state == "waiting")
        await sim.driver_shows_pay_code("B2", authcode="280000000000000001")
        await until(lambda: window.payments["B2"].state in ("paying", "paid"))
        await asyncio.sleep(2.0)  # video frames in every tile
        window.reload_queues()
        await window.refresh()
        await asyncio.sleep(0.5)
        save(window, "main-busy-payment")

        # The cashier's dialogs.
        window.select_lane("B1")
        press(Key.Key_F6)
        save(await dialog("free-release-dialog"), "dialog-free-release")
        await close_dialog()
        press(Key.Key_F3)
        save(await dialog("manual-release-dialog"), "dialog-manual-release")
        await close_dialog(confirm=True)  # opened by hand for the first reason: it shows in the history and handover
        press(Key.Key_F5)
        await dialog("cash-dialog")
        type_text("20")  # the driver hands over 20 yuan
        await asyncio.sleep(0.2)
        save(cashier.dialog, "dialog-cash")
        await close_dialog(confirm=True)  # the cash is taken and the car leaves
        await cameras["B2"].push("粤B6F7S9", shows="粤B6F739")  # 3 read as S: the cashier matches it
        await until(lambda: lanes.controllers["B2"].match is not None)
        window.select_lane("B2")
        press(Key.Key_F7)
        save(await dialog("plate-match-dialog"), "dialog-plate-match")
        await close_dialog()
        press(Key.Key_F9)
        history = await dialog("history-dialog")
        await asyncio.sleep(0.5)
        save(history, "dialog-history")
        await close_dialog()
        press(Key.Key_F10)
        handover = await dialog("handover-dialog")
        save(handover, "dialog-handover")
        press(Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # the report as a PDF, as it would be printed
        await until(lambda: handover.saved is not None)
        pdf = out / "handover-report.pdf"
        pdf.write_bytes(handover.saved.read_bytes())
        saved.append(pdf)
        await close_dialog()
        staff = shell.bridge.services.staff
        shell.bridge.set_on_duty(await staff.login("admin", "admin123"))  # only an admin edits the lists
        press(Key.Key_F11)
        lists = await dialog("vehicle-lists")
        save(lists, "dialog-vehicle-lists")
        press(Key.Key_Insert)  # add a vehicle
        await until(lambda: isinstance(QApplication.activeModalWidget(), VehicleEditDialog))
        await asyncio.sleep(0.3)
        save(QApplication.activeModalWidget(), "dialog-vehicle-edit")
        press(Key.Key_Escape)
        await until(lambda: lists.isAncestorOf(QApplication.focusWidget()))  # the list has the keyboard again
        await close_dialog()
        press(Key.Key_F12)
        operators = await dialog("operators-dialog")
        await until(lambda: len(operators.operators) == 2)
        save(operators, "dialog-operators")
        await close_dialog()
        press(Key.Key_F1)
        await asyncio.sleep(0.3)
        save(window, "help-overlay")
        press(Key.Key_F1)

        # Bolink goes away: the lanes carry on, the reports wait.
        await sim.fault("down")
        await until(lambda: window.bolink_state.property("level") == "alarm", within=30)
        await cameras["A1"].push("京H6T004")
        await cameras["A2"].push("津K2P718")
        await cameras["B1"].push("粤B6F739")
        await until(lambda: window.payments["B1"].state == "waiting")
        await window.refresh()
        await asyncio.sleep(1.0)
        save(window, "main-offline")
        await sim.fault(None)
        for camera in cameras.values():
            await camera.__aexit__(None, None, None)

    # The very first start: no operator yet.
    store = await Store.open(sqlite_url(data_dir / "first.db"))
    try:
        first = FirstAdminDialog(Staff(store))
        first.open()
        await asyncio.sleep(0.3)
        save(first, "dialog-first-admin")
        first.close()
    finally:
        await store.close()

    # The very first start of all: no configuration yet. The path shown is the Windows default.
    setup = SetupDialog(Path("C:\\ProgramData\\booth-app\\booth.toml"))
    setup.resize(1340, 696)  # what it takes on a 1366x768 screen with the taskbar
    setup.open()
    entry, exit_lane = setup.lanes
    for field, text in (
        (setup.park_id, "1001"), (setup.union_id, "200188"), (setup.park_name, "示例停车场"), (setup.capacity, "300"),
        (setup.local_id, "booth01"), (entry.name, "东门入口"), (entry.lane_no, "000123"), (entry.serialno, "cam-a1"),
        (entry.rtsp, "rtsp://192.0.2.10:8557/h264"), (exit_lane.name, "东门出口"), (exit_lane.lane_no, "000124"),
    ):  # fmt: skip
        field.setText(text)
    entry.display_port.setCurrentText("COM3")
    exit_lane.display_port.setCurrentText("COM4")
    exit_lane.barrier_kind.setCurrentIndex(exit_lane.barrier_kind.findData("modbus"))
    exit_lane.modbus_port.setCurrentText("COM5")
    setup.park_id.setFocus()
    await asyncio.sleep(0.3)
    save(setup, "dialog-setup")
    setup.sdk_url.setText("p.bolink.club/bpd")  # three mistakes: no http://, a lane id twice, a serial number missing
    exit_lane.lane_id.setText("A1")
    setup.save()
    await until(setup.error_area.isVisible)
    await asyncio.sleep(0.3)
    save(setup, "dialog-setup-problems")
    setup.reject()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--language", choices=["zh", "en"], default="zh")
    args = parser.parse_args()

    import qasync
    from PySide6.QtWidgets import QApplication

    from booth_app.ui.i18n import install_qt_translator, install_translator
    from booth_app.ui.theme import apply_theme, configure_high_dpi

    configure_high_dpi()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    translators = [install_translator(app, args.language), install_qt_translator(app, args.language)]
    apply_theme(app)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="booth-shots-") as folder:
        saved = qasync.run(shoot(args.out, Path(folder)))
    print(f"{len(saved)} screenshots in {args.out}")
    del translators
    return 0


if __name__ == "__main__":
    sys.exit(main())
