"""Demo traffic: plausible plates in their colours, and pushes that carry the camera's pictures."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping
from typing import Any

from booth_app.core.plates import is_valid, normalise
from booth_app.lanes.camera_listener import CameraListener
from booth_app.sim.camera import paint_car
from booth_app.sim.traffic import DemoLane, DemoTraffic, random_car
from drivers.zhenshi import PlateColour, PlatePush, info_response
from tests.helpers import until


def test_random_cars_have_valid_plates_in_their_colours() -> None:
    rng = random.Random(3)
    cars = [random_car(rng) for _ in range(300)]
    assert all(is_valid(normalise(plate)) for plate, _ in cars)
    assert {colour for _, colour in cars} == {PlateColour.BLUE, PlateColour.GREEN, PlateColour.YELLOW}
    assert all(len(plate) == 8 for plate, colour in cars if colour is PlateColour.GREEN)


async def test_every_car_is_pushed_with_its_pictures_at_the_entry_and_the_exit() -> None:
    reads: list[tuple[str, PlatePush]] = []

    async def on_read(lane: str, push: PlatePush) -> Mapping[str, Any] | None:
        reads.append((lane, push))
        return info_response(True)

    listener = CameraListener("127.0.0.1", 0, "/lpr/zhenshi", lanes_by_serial={"cam-in": "in", "cam-out": "out"},
                              lanes_by_ip={}, on_read=on_read)  # fmt: skip
    await listener.start()
    traffic = DemoTraffic(listener.url, [DemoLane("in", "in", "cam-in"), DemoLane("out", "out", "cam-out")], None,
                          arrival_s=(0.01, 0.02), stay_s=(0.01, 0.02), seed=5)  # fmt: skip
    running = asyncio.create_task(traffic.run())
    try:
        await until(lambda: len({lane for lane, _ in reads}) == 2 and len(reads) >= 6)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await listener.stop()
    entries = [push for lane, push in reads if lane == "in"]
    for push in entries:
        assert push.plate is not None
        assert push.colour in (PlateColour.BLUE, PlateColour.GREEN, PlateColour.YELLOW)
        painted = paint_car(push.plate, push.colour)
        assert (push.image_jpeg, push.plate_image_jpeg) == (painted.full, painted.plate)
    entry_crops = {push.plate_image_jpeg for push in entries}
    exits = [push for lane, push in reads if lane == "out"]
    assert all(push.plate_image_jpeg in entry_crops for push in exits)  # the same car: the same plate (misread or not)
