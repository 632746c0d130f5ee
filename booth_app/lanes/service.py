"""All lanes of a booth running together: the camera listener feeding each lane's controller, and the devices.

Built from plain values (the composition root maps the configuration onto them), so headless and the window run the
same service. Event time: a read happens at the camera's capture time when the camera stored it while offline, or
when the camera's clock is within `MAX_CLOCK_DRIFT` of this PC's; otherwise at this PC's time, with a warning (once an
hour per camera) that the camera's clock is off.

For the window it also keeps the pictures of each read (`pictures`, written on a worker thread once the lane has acted
on the read), turns the devices' changes into lane events (gate state, a board or a camera that stops or starts
answering), and answers `health()` from memory. A camera counts as quiet only once it has shown that it polls (a
heartbeat or comet poll) and then says nothing for `camera_quiet_s`: a camera that only pushes reads is silent
whenever no car comes.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booth_app.core.plates import normalise
from booth_app.core.types import Direction, PlateRead
from booth_app.lanes.camera_listener import CameraListener, CameraListenerError
from booth_app.lanes.controller import LaneContext, LaneController, Level
from booth_app.lanes.devices import LaneDevices, LaneDeviceSpec, open_lane_devices
from booth_app.lanes.pictures import PictureStore
from drivers.barrier import BarrierState
from drivers.display_bus import BoardState
from drivers.zhenshi import PlatePush

log = logging.getLogger(__name__)

MAX_CLOCK_DRIFT = timedelta(minutes=2)
DRIFT_WARNING_EVERY_S = 3600.0
PRUNE_EVERY_S = 24 * 3600.0
STOP_WAIT_S = 5.0  # pictures still being written when the lanes stop get this long to reach the disk


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


@dataclass(frozen=True, slots=True)
class LaneHealth:
    """How a lane's devices are doing, as last heard (no device is asked: cheap to read every second).

    `board_answering` is None until the board's first command; `board_message` says why its last command failed
    ("" when it went through); `gate_state` is a `BarrierState` value; `camera_quiet` is True while a camera that
    polls has not been heard from for `camera_quiet_s`.
    """

    camera_last_seen: datetime | None
    board_answering: bool | None
    board_message: str
    gate_state: str
    gate_error: str | None
    camera_quiet: bool = False


def read_id(push: PlatePush) -> str:
    """A read's identity as the camera gives it (serial, plate id and capture time): a resend carries the same."""
    sec, usec = push.timestamp
    text = f"{push.camera}:{push.plate_id}:{sec}.{usec:06d}"
    return text if len(text) <= 64 else hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


class LaneService:
    """Owns the controllers, the devices and the camera listener; `start()` inside the running loop."""

    def __init__(
        self,
        lanes: Sequence[LaneSpec],
        context: LaneContext,
        listener: ListenerSpec,
        *,
        pictures: PictureStore | None = None,
        keep_pictures_days: int = 90,
        camera_quiet_s: float = 60.0,
    ) -> None:
        self.specs = list(lanes)
        self.context = context
        self.listener_spec = listener
        self.pictures = pictures
        self.keep_pictures_days = keep_pictures_days
        self.camera_quiet_s = camera_quiet_s
        self.controllers: dict[str, LaneController] = {}
        self.devices: LaneDevices | None = None
        self.listener: CameraListener | None = None
        self._drift_warned: dict[str, float] = {}
        self._camera_seen: dict[str, datetime] = {}  # lane -> last contact with its camera
        self._camera_heard: dict[str, float] = {}  # the same on time.monotonic, for the quiet check
        self._camera_polls: set[str] = set()  # lanes whose camera polls, so silence from it means something
        self._camera_quiet: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # picture writes and the housekeeping loops
        self._picture_problem: tuple[type, int | None] | None = None

    async def start(self) -> None:
        self.devices = await open_lane_devices([spec.devices for spec in self.specs])
        self.devices.add_board_listener(self._board_changed)
        for spec in self.specs:
            lane = self.devices.lane(spec.lane_id)
            self.controllers[spec.lane_id] = LaneController(
                spec.lane_id, spec.direction, self.context, lane.display, lane.gate
            )
            lane.gate.add_listener(functools.partial(self._gate_changed, spec.lane_id))
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
            on_contact=self._camera_contact,
        )
        self._spawn(self._watch_cameras())
        if self.pictures is not None:
            self._spawn(self._prune_pictures(self.pictures))
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
        writes = [task for task in self._tasks if task.get_name().startswith("pictures")]
        for task in self._tasks - set(writes):
            task.cancel()
        if writes:  # the last cars' pictures are worth a moment
            await asyncio.wait(writes, timeout=STOP_WAIT_S)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
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
        controller.emit("read", read.plate or "无牌", read=read, plate_jpeg=push.plate_image_jpeg)
        try:
            await controller.handle_read(read)
        finally:  # after the gate: the disk never stands between a car and its gate
            if self.pictures is not None and (push.image_jpeg or push.plate_image_jpeg):
                self._spawn(self._keep_pictures(self.pictures, lane_id, read.read_id, push), name="pictures")
        return None  # the gate is opened by the lane's barrier (a camera-IO barrier queues its pulse for this answer)

    def health(self) -> dict[str, LaneHealth]:
        """Every lane's devices as last heard, by lane id (from memory: no I/O)."""
        health = {}
        for spec in self.specs:
            lane = self.devices.lanes.get(spec.lane_id) if self.devices is not None else None
            health[spec.lane_id] = LaneHealth(
                camera_last_seen=self._camera_seen.get(spec.lane_id),
                board_answering=lane.display.board.answering if lane is not None else None,
                board_message=(lane.display.last_error or "") if lane is not None else "",
                gate_state=lane.gate.state.value if lane is not None else BarrierState.UNKNOWN.value,
                gate_error=lane.gate.last_error if lane is not None else None,
                camera_quiet=spec.lane_id in self._camera_quiet,
            )
        return health

    # ------------------------------------------------------------ pictures

    async def _keep_pictures(self, pictures: PictureStore, lane_id: str, read: str, push: PlatePush) -> None:
        try:
            await pictures.keep(read, push.image_jpeg, push.plate_image_jpeg)
        except OSError as exc:  # a full or read-only disk: said once per kind of trouble, and the lane goes on
            problem = (type(exc), exc.errno)
            if problem != self._picture_problem:
                log.warning("lane %s: the pictures of read %s could not be kept in %s: %s", lane_id, read,
                            pictures.root, exc)  # fmt: skip
            self._picture_problem = problem
            return
        except Exception:
            log.exception("lane %s: keeping the pictures of read %s failed", lane_id, read)
            return
        if self._picture_problem is not None:
            self._picture_problem = None
            log.info("pictures are kept in %s again", pictures.root)

    async def _prune_pictures(self, pictures: PictureStore) -> None:
        while True:
            try:
                gone = await pictures.prune_soon(self.keep_pictures_days)
            except OSError as exc:
                log.warning("old pictures in %s could not be removed: %s", pictures.root, exc)
            else:
                if gone:
                    log.info("removed %d day(s) of pictures older than %d days", gone, self.keep_pictures_days)
            await asyncio.sleep(PRUNE_EVERY_S)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str = "lanes") -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ devices

    def _gate_changed(self, lane_id: str, state: BarrierState, error: str | None) -> None:
        controller = self.controllers.get(lane_id)
        if controller is not None:
            level: Level = "alarm" if state is BarrierState.ERROR else "info"
            controller.emit("gate", state.value, level, detail=error or "")

    def _board_changed(self, lane_id: str, state: BoardState) -> None:
        controller = self.controllers.get(lane_id)
        if controller is not None:
            text = "显示屏恢复通讯" if state.answering else "显示屏无响应"
            level: Level = "info" if state.answering else "warning"
            controller.emit("device", text, level, device="board", detail=state.message)

    def _camera_contact(self, lane_id: str, polled: bool) -> None:
        self._camera_seen[lane_id] = self.context.clock()
        self._camera_heard[lane_id] = time.monotonic()
        if polled:
            self._camera_polls.add(lane_id)
        if lane_id in self._camera_quiet:
            self._camera_quiet.discard(lane_id)
            log.info("lane %s: its camera is heard from again", lane_id)
            self.controllers[lane_id].emit("device", "摄像机恢复通讯", device="camera",
                                           detail=f"lane {lane_id}'s camera is heard from again")  # fmt: skip

    async def _watch_cameras(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.camera_quiet_s / 4))
            now = time.monotonic()
            for lane_id in sorted(self._camera_polls - self._camera_quiet):
                if now - self._camera_heard[lane_id] > self.camera_quiet_s:
                    self._camera_quiet.add(lane_id)
                    detail = f"lane {lane_id}'s camera has not been heard from for {self.camera_quiet_s:g} s"
                    log.warning("%s (is it powered and on the network?)", detail)
                    self.controllers[lane_id].emit("device", "摄像机无响应", "warning", device="camera", detail=detail)

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
