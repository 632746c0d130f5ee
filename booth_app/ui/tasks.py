"""Async slots with their types kept: a widget's handler that awaits the services runs as a task on the loop."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, cast

import qasync

P = ParamSpec("P")


def async_slot(handler: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, object]:
    """`qasync.asyncSlot()`: calling the handler starts it as a task (kept, and its errors logged, by qasync)."""
    return cast(Callable[P, object], qasync.asyncSlot()(handler))
