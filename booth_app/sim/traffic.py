"""Lively demo traffic: cars arrive, stay a little, and leave paying every way; sometimes a plate is misread and
sometimes Bolink goes away for a while.

Everything goes through the same doors as real traffic: plate pushes over HTTP to the camera listener, and drivers'
payments through the Bolink simulator. Cars that pay cash wait for the cashier (the window's exit panel); if nobody
takes the money, the driver gives up after a while and the next car at that exit takes its place. Each push carries
the pictures a camera sends (the scene and the plate crop, in the plate's colour); a misread plate's pictures show the
plate as it really is, so the cashier can correct it from them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from booth_app.sim.bolink import BolinkSim
from booth_app.sim.camera import SimCamera
from drivers.zhenshi import PlateColour

log = logging.getLogger(__name__)

PROVINCES = "京京京京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "0123456789"
MISREAD = {"0": "D", "8": "B", "5": "S", "2": "Z", "1": "7"}
PAYMENT_WAYS = ("scan", "scan", "pay_code", "wallet", "prepay", "cash", "etc")


@dataclass(frozen=True)
class DemoLane:
    lane_id: str
    direction: str  # in | out
    serialno: str


def random_plate(rng: random.Random) -> str:
    tail = "".join(rng.choice(DIGITS + LETTERS[:6]) for _ in range(4)) + rng.choice(DIGITS)
    return f"{rng.choice(PROVINCES)}{rng.choice(LETTERS)}{tail}"


def random_car(rng: random.Random) -> tuple[str, PlateColour]:
    """A plate and its colour: mostly blue, some green new-energy (8 characters), a few yellow (lorries, coaches)."""
    draw = rng.random()
    if draw < 0.15:
        digits = "".join(rng.choice(DIGITS) for _ in range(5))
        return f"{rng.choice(PROVINCES)}{rng.choice(LETTERS)}{rng.choice('DF')}{digits}", PlateColour.GREEN
    return random_plate(rng), PlateColour.YELLOW if draw < 0.22 else PlateColour.BLUE


class DemoTraffic:
    """Runs until cancelled. `regulars` are plates on the month card or white list (they come and go free)."""

    def __init__(
        self,
        listener_url: str,
        lanes: Sequence[DemoLane],
        bolink: BolinkSim | None,
        *,
        regulars: Sequence[str] = (),
        arrival_s: tuple[float, float] = (3.0, 9.0),
        stay_s: tuple[float, float] = (40.0, 180.0),
        outage_every_s: float = 240.0,
        outage_s: float = 25.0,
        seed: int | None = None,
        on_etc: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo traffic, not security
        self.entries = [lane for lane in lanes if lane.direction == "in"]
        self.exits = [lane for lane in lanes if lane.direction == "out"]
        self.cameras = {lane.lane_id: SimCamera(listener_url, serialno=lane.serialno) for lane in lanes}
        self.bolink = bolink
        self.regulars = list(regulars)
        self.arrival_s, self.stay_s = arrival_s, stay_s
        self.outage_every_s, self.outage_s = outage_every_s, outage_s
        self.on_etc = on_etc  # the ETC antenna of an exit lane read the car's tag
        self.cars = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        if not self.entries or not self.exits:
            log.warning("demo traffic needs an entry and an exit lane")
            return
        outages = asyncio.create_task(self._outages())
        try:
            while True:
                await asyncio.sleep(self.rng.uniform(*self.arrival_s))
                self._spawn(self._car())
        finally:
            outages.cancel()
            for task in [outages, *self._tasks]:
                task.cancel()
            await asyncio.gather(outages, *self._tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push(
        self, lane: DemoLane, plate: str | None, colour: PlateColour = PlateColour.BLUE, shows: str | None = None
    ) -> None:
        try:
            await self.cameras[lane.lane_id].push(plate, colour=colour, shows=shows)
        except Exception as exc:  # the app may be starting or stopping; the demo goes on
            log.debug("demo camera %s could not push: %s", lane.lane_id, exc)

    async def _car(self) -> None:
        self.cars += 1
        regular = self.regulars and self.rng.random() < 0.15
        plate, colour = (self.rng.choice(self.regulars), PlateColour.BLUE) if regular else random_car(self.rng)
        unplated = not regular and self.rng.random() < 0.04
        entry = self.rng.choice(self.entries)
        if unplated and self.bolink is not None:
            await self._push(entry, None)
            await asyncio.sleep(2)
            await self._safely(self.bolink.unplated_entry(entry.lane_id))
            return
        await self._push(entry, plate, colour)
        way = "free" if regular else self.rng.choice(PAYMENT_WAYS)
        await asyncio.sleep(self.rng.uniform(*self.stay_s))
        if way == "prepay" and self.bolink is not None:
            await self._safely(self.bolink.driver_prepays(plate))
            await asyncio.sleep(self.rng.uniform(5, 20))
        if way == "wallet" and self.bolink is not None:
            self.bolink.set_wallet(plate, Decimal(200), net_status=1)
        exit_lane = self.rng.choice(self.exits)
        seen = self._misread(plate) if self.rng.random() < 0.05 else plate
        await self._push(exit_lane, seen, colour, shows=plate)
        await asyncio.sleep(self.rng.uniform(2, 6))
        if self.bolink is None:
            return
        if way == "scan":
            await self._safely(self.bolink.driver_scans_exit_qr(plate, channel_id=exit_lane.lane_id))
        elif way == "pay_code":
            await self._safely(self.bolink.driver_shows_pay_code(exit_lane.lane_id))
        elif way == "etc" and self.on_etc is not None:
            await self._safely(self.on_etc(exit_lane.lane_id))

    def _misread(self, plate: str) -> str:
        chars = list(plate)
        spots = [i for i, char in enumerate(chars) if char in MISREAD and i > 1]
        if spots:
            i = self.rng.choice(spots)
            chars[i] = MISREAD[chars[i]]
        return "".join(chars)

    async def _safely(self, work: Awaitable[object]) -> None:
        try:
            await work
        except Exception as exc:  # nobody answered (Bolink "down", lane busy): a driver would walk away too
            log.debug("demo driver gave up: %s", exc)

    async def _outages(self) -> None:
        if self.bolink is None:
            return
        while True:
            await asyncio.sleep(self.rng.uniform(0.7, 1.3) * self.outage_every_s)
            log.info("demo: Bolink goes away for %.0f s", self.outage_s)
            await self.bolink.fault("down")
            await asyncio.sleep(self.outage_s)
            await self.bolink.fault(None)
            log.info("demo: Bolink is back")
