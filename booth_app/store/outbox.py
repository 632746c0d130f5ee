"""Reports to Bolink as the store keeps them until they are uploaded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Report:
    """One uplink to queue: the service name and its `data` fields (written with the change it reports)."""

    service: str
    data: Mapping[str, Any]
    order_id: str = ""

    def payload(self) -> str:
        return encode_data(self.data)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A queued report as read back for upload: `payload` is the exact JSON text to sign and send."""

    id: int
    service: str
    order_id: str
    payload: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime


def encode_data(data: Mapping[str, Any]) -> str:
    """Bolink's form of `data`: compact JSON, keys in the order given, non-ASCII characters as themselves."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"a report field of type {type(value).__name__} cannot be sent to Bolink")
