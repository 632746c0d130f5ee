"""The pictures a camera sends with each read: the full scene and the plate crop, kept on disk for the cashier.

Layout: `root/YYYY-MM-DD/<name>.full.jpg` and `<name>.plate.jpg`, where the day is this PC's (or `tz`'s) date when the
pictures were kept, and `<name>` is the read id made safe for any file system: its letters, digits, '-', '_' and '.'
(at most 40), then 12 hex digits of its SHA-1, so two ids that look alike once cleaned never share a file.

Finding them again: the day of every picture kept since start is remembered; a read id not among them (kept before a
restart) is looked for in the day folders, newest first, so old pictures cost a few `stat` calls per folder and
nothing else is ever written beside them (no index to fall out of step with the files). `prune(keep_days)` deletes
whole day folders older than that. Every method here touches the disk: call `keep`, `look_up` and `prune_soon`
from the event loop (they run on a worker thread), the plain ones from a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Final

FULL: Final = ".full.jpg"
PLATE: Final = ".plate.jpg"
REMEMBERED: Final = 20_000  # read ids whose day is known without a look at the disk: a few busy days' worth
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class ReadPictures:
    """Where a read's pictures are; None for a picture the camera did not send (or that was pruned)."""

    full: Path | None = None
    plate: Path | None = None

    @property
    def any(self) -> bool:
        return self.full is not None or self.plate is not None


def file_stem(read_id: str) -> str:
    """The read id as a file name: its safe characters (no leading dot) and a hash that keeps ids apart."""
    readable = _UNSAFE.sub("_", read_id).lstrip(".")[:40]
    digest = hashlib.sha1(read_id.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{readable}-{digest}" if readable else digest


class PictureStore:
    """The pictures of plate reads under `root`, one folder per day."""

    def __init__(self, root: Path, *, tz: tzinfo | None = None) -> None:
        self.root = root
        self._tz = tz
        self._days: OrderedDict[str, str] = OrderedDict()  # read id -> day folder name, newest last
        self._days_lock = threading.Lock()  # worker threads save, find and prune at once

    def today(self) -> date:
        now = datetime.now(UTC)
        return (now.astimezone(self._tz) if self._tz is not None else now.astimezone()).date()

    # ------------------------------------------------------------ on a worker thread

    def save(self, read_id: str, full: bytes | None, plate: bytes | None, *, day: date | None = None) -> ReadPictures:
        """Write what was sent (each file whole or not at all) into the day's folder; raises OSError."""
        if not read_id:
            raise ValueError("pictures are kept under their read id, and this read has none")
        folder = self.root / (day or self.today()).isoformat()
        stem = file_stem(read_id)
        written = ReadPictures(
            _write(folder / f"{stem}{FULL}", full) if full else None,
            _write(folder / f"{stem}{PLATE}", plate) if plate else None,
        )
        if written.any:
            with self._days_lock:
                self._days[read_id] = folder.name
                self._days.move_to_end(read_id)
                if len(self._days) > REMEMBERED:
                    self._days.popitem(last=False)
        return written

    def find(self, read_id: str) -> ReadPictures:
        """The pictures of `read_id`, kept today or on any day still on disk; empty when there are none."""
        if not read_id:
            return ReadPictures()
        stem = file_stem(read_id)
        with self._days_lock:
            known = self._days.get(read_id)
        days = [known] if known is not None else self._day_folders()
        for day in days:
            found = _pictures_in(self.root / day, stem)
            if found.any:
                return found
        return ReadPictures()

    def prune(self, keep_days: int = 90, *, today: date | None = None) -> int:
        """Delete the day folders older than `keep_days` days; returns how many went. Raises OSError."""
        if keep_days < 1:
            raise ValueError(f"pictures are kept for at least 1 day, not {keep_days}")
        oldest = ((today or self.today()) - timedelta(days=keep_days - 1)).isoformat()
        gone = [day for day in self._day_folders() if day < oldest]
        for day in gone:
            shutil.rmtree(self.root / day)
        with self._days_lock:
            for read_id in [read_id for read_id, day in self._days.items() if day < oldest]:
                del self._days[read_id]
        return len(gone)

    def _day_folders(self) -> list[str]:
        """Names of the day folders, newest first ([] while there is no root yet)."""
        try:
            names = [entry.name for entry in os.scandir(self.root) if entry.is_dir() and _DAY.fullmatch(entry.name)]
        except FileNotFoundError:
            return []
        return sorted(names, reverse=True)

    # ------------------------------------------------------------ from the event loop

    async def keep(
        self, read_id: str, full: bytes | None, plate: bytes | None, *, day: date | None = None
    ) -> ReadPictures:
        return await asyncio.to_thread(self.save, read_id, full, plate, day=day)

    async def look_up(self, read_id: str) -> ReadPictures:
        return await asyncio.to_thread(self.find, read_id)

    async def prune_soon(self, keep_days: int = 90) -> int:
        return await asyncio.to_thread(self.prune, keep_days)


def _write(path: Path, data: bytes) -> Path:
    # through a temporary name: a crash mid-write leaves no half picture under the real one
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
    return path


def _pictures_in(folder: Path, stem: str) -> ReadPictures:
    full, plate = folder / f"{stem}{FULL}", folder / f"{stem}{PLATE}"
    return ReadPictures(full if full.is_file() else None, plate if plate.is_file() else None)
