"""The one object through which the window observes the services and reaches them.

Signals (always delivered on the GUI thread):
* `lane_event(event: LaneEvent)`: a lane read a plate, decided, waits for money, is being paid, was paid, a gate or a
  device changed, or a gate was opened by hand.
* `bolink_changed(online: bool, reason: str)`: Bolink became reachable or unreachable (reason says why not).
* `services_changed()`: the lane services started (or stopped): `services.lanes` is now set (or None).
* `operator_changed(on_duty: OnDuty | None)`: a cashier logged in, or handed over and left.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from booth_app.bolink.link import Link
from booth_app.config import Settings
from booth_app.lanes.controller import LaneEvent
from booth_app.lanes.staff import OnDuty, Staff
from booth_app.store import Store


@dataclass
class Services:
    """What the window may call. `lanes` and `bolink` are None until they run (and `bolink` when it is off)."""

    settings: Settings
    store: Store
    staff: Staff
    data_dir: Path
    lanes: Any = None  # booth_app.lanes.service.LaneService
    bolink: Any = None  # booth_app.bolink.service.BolinkService


class Bridge(QObject):
    lane_event = Signal(object)
    bolink_changed = Signal(bool, str)
    services_changed = Signal()
    operator_changed = Signal(object)

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.on_duty: OnDuty | None = None
        self._unsubscribe: list[object] = []

    def on_lane_event(self, event: LaneEvent) -> None:
        """A `LaneContext` listener."""
        self.lane_event.emit(event)

    def watch_link(self, link: Link) -> None:
        self._unsubscribe.append(link.subscribe(lambda online, reason: self.bolink_changed.emit(online, reason)))
        self.bolink_changed.emit(link.online, link.reason)  # where it stands now: it may have changed already

    def lanes_started(self, lanes: Any, bolink: Any) -> None:
        self.services.lanes = lanes
        self.services.bolink = bolink
        if bolink is not None:
            self.watch_link(bolink.link)
        self.services_changed.emit()

    def lanes_stopped(self) -> None:
        self.services.lanes = None
        self.services.bolink = None
        self.services_changed.emit()

    def set_on_duty(self, on_duty: OnDuty | None) -> None:
        self.on_duty = on_duty
        self.operator_changed.emit(on_duty)
