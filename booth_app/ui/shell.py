"""The window put together: main window, bridge, the cashier's commands on their keys, and the F1 help.

The app and the tests build it the same way (`open_window`), so the tests drive exactly what the cashier gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from booth_app.ui.bridge import Bridge, Services
from booth_app.ui.cashier import Cashier
from booth_app.ui.help_overlay import HelpOverlay
from booth_app.ui.keys import KeyMap
from booth_app.ui.main_window import MainWindow


@dataclass
class Shell:
    window: MainWindow
    bridge: Bridge
    cashier: Cashier
    keymap: KeyMap
    help: HelpOverlay
    simulator: Any = None  # the demo's Bolink simulator, when there is one


def open_window(services: Services, *, demo: bool = False) -> Shell:
    """Build and show the window for `services`; the lanes may start later (`bridge.lanes_started`)."""
    keymap = KeyMap.from_settings(services.settings.ui)
    window = MainWindow(services.settings, services.store, demo=demo, keymap=keymap)
    bridge = Bridge(services, window)
    window.attach(bridge)
    cashier = Cashier(window, bridge)
    overlay = HelpOverlay(keymap, window)
    handlers = cashier.handlers() | {"help": overlay.toggle}
    keymap.install(window, handlers)
    window.show()
    return Shell(window, bridge, cashier, keymap, overlay)
