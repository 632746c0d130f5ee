"""What a lane needs from its devices, as the lane controller sees them (implemented in `booth_app.lanes.devices`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Protocol

OfflinePolicyName = Literal["cash", "free", "manual", "forbid"]


class LaneDisplay(Protocol):
    """The lane's LED/voice board. Every method is best effort: a board that fails is reported by the display itself
    (state and a log line) and never raises into the lane, because the gate must not wait for the text."""

    async def show(self, lines: tuple[str, ...]) -> None:
        """Show these lines (plate, greeting or fee…) until the next car."""

    async def speak(self, text: str) -> None: ...

    async def show_pay_qr(self, url: str, text: str, due: Decimal) -> None:
        """The exit's payment QR code screen (0xE1) with a caption and the amount due."""

    async def hide_pay_qr(self) -> None: ...

    async def show_spaces(self, free: int) -> None:
        """Spaces remaining (0xE3), on entry boards."""

    async def set_offline_policy(self, policy: OfflinePolicyName) -> None:
        """What the board itself does with a temporary car while the booth is unreachable (0xD3)."""


class LaneGate(Protocol):
    """The lane's barrier (drivers.barrier.Barrier fits)."""

    async def open(self, reason: str) -> None: ...

    async def close(self) -> None: ...
