"""All lanes of a booth running together: the camera listener feeding each lane's controller, and the devices.

Built from plain values (the composition root maps the configuration onto them), so headless and the window run the
same service. Event time: a read happens at the camera's capture time when the camera stored it while offline, or
when the camera's clock is within `MAX_CLOCK_DRIFT` of this PC's; otherwise at this PC's time, with a warning (once an
hour per camera) that the camera's clock is off.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booth_app.core.plates import normalise
from booth_app.core.types import Direction, PlateRead
from booth_app.lanes.camera_listener import CameraListener, CameraListenerError
from booth_app.lanes.controller import LaneContext, LaneController
from booth_app.lanes.devices import LaneDevices, LaneDeviceSpec, open_lane_devices
from drivers.zhenshi import PlatePush

log = logging.getLogger(__name__)

MAX_CLOCK_DRIFT = timedelta(minutes=2)
DRIFT_WARNING_EVERY_S = 3600.0


@dataclass(frozen=True)
class LaneSpec:
    lane_id: str
    direction: Direction
    camera_serialno: str
    camera_ip: str
    devices: LaneDeviceSpec


@dataclass(frozen=True)
class ListenerSpec:
    host: str
    port: int
    path: str


def read_id(push: PlatePush) -> str:
    """A read's identity as the camera gives it (serial, plate id and capture time): a resend carries the same."""
    sec, usec = push.timestamp
    text = f"{push.camera}:{push.plate_id}:{sec}.{usec:06d}"
    return text if len(text) <= 64 else hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


class LaneService:
    """Owns the controllers, the devices and the camera listener; `start()` inside the running loop."""

    def __init__(self, lanes: Sequence[LaneSpec], context: LaneContext, listener: ListenerSpec) -> None:
        self.specs = list(lanes)
        self.context = context
        self.listener_spec = listener
        self.controllers: dict[str, LaneController] = {}
        self.devices: LaneDevices | None = None
        self.listener: CameraListener | None = None
        self._drift_warned: dict[str, float] = {}

    async def start(self) -> None:
        self.devices = await open_lane_devices([spec.devices for spec in self.specs])
        for spec in self.specs:
            lane = self.devices.lane(spec.lane_id)
            self.controllers[spec.lane_id] = LaneController(
                spec.lane_id, spec.direction, self.context, lane.display, lane.gate
            )
            # What the board does on its own with a temporary car if this PC goes away (0xD3).
            await lane.display.set_offline_policy(self.context.offline_policy)
        self.listener = CameraListener(
            self.listener_spec.host,
            self.listener_spec.port,
            self.listener_spec.path,
            lanes_by_serial={spec.camera_serialno: spec.lane_id for spec in self.specs if spec.camera_serialno},
            lanes_by_ip={spec.camera_ip: spec.lane_id for spec in self.specs if spec.camera_ip},
            on_read=self.on_read,
            pending=self.devices.camera_pending,
        )
        try:
            await self.listener.start()
        except CameraListenerError as exc:  # the lanes still take Bolink's and the cashier's commands
            log.error("%s; no plate reads until it can (is another booth-app running?)", exc)
            self.listener = None
            return
        log.info("%d lanes running; cameras push to %s", len(self.specs), self.listener.url)

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        if self.devices is not None:
            await self.devices.aclose()

    async def on_read(self, lane_id: str, push: PlatePush) -> Mapping[str, Any] | None:
        controller = self.controllers[lane_id]
        read = PlateRead(
            lane_id,
            normalise(push.plate) if push.plate else "",
            self.event_time(push),
            color=push.colour.name.lower(),
            confidence=push.confidence,
            read_id=read_id(push),
        )
        await controller.handle_read(read)
        return None  # the gate is opened by the lane's barrier (a camera-IO barrier queues its pulse for this answer)

    def event_time(self, push: PlatePush) -> datetime:
        now = self.context.clock()
        if push.is_offline or abs(push.read_at - now) <= MAX_CLOCK_DRIFT:
            return push.read_at
        camera = push.camera
        last = self._drift_warned.get(camera)
        if last is None or time.monotonic() - last > DRIFT_WARNING_EVERY_S:
            self._drift_warned[camera] = time.monotonic()
            log.warning(
                "camera %s's clock is %.0f s off this PC's; its reads are timed by this PC (set the camera's clock)",
                camera,
                (push.read_at - now).total_seconds(),
            )
        return now
