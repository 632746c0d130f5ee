"""The one object through which the window observes the services: their plain callbacks become Qt signals.

Signals (always delivered on the GUI thread):
* `lane_event(event: LaneEvent)`: a lane decided, alerted, waits for money, was paid, or a gate was opened by hand.
* `bolink_changed(online: bool, reason: str)`: Bolink became reachable or unreachable (reason says why not).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from booth_app.bolink.link import Link
from booth_app.lanes.controller import LaneEvent


class Bridge(QObject):
    lane_event = Signal(object)
    bolink_changed = Signal(bool, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: list[object] = []

    def on_lane_event(self, event: LaneEvent) -> None:
        """A `LaneContext` listener."""
        self.lane_event.emit(event)

    def watch_link(self, link: Link) -> None:
        self._unsubscribe.append(link.subscribe(lambda online, reason: self.bolink_changed.emit(online, reason)))
        self.bolink_changed.emit(link.online, link.reason)  # where it stands now: it may have changed already
