"""The picture store on real files: kept under the day, found again (also by a new store after a restart), pruned."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from booth_app.lanes.pictures import PictureStore, ReadPictures, file_stem

FULL = b"\xff\xd8 the scene \xff\xd9"
CROP = b"\xff\xd8 the plate \xff\xd9"
READ = "cam-a1:42:1621502665.250000"


def test_pictures_are_kept_under_the_day_and_found_again(tmp_path: Path) -> None:
    store = PictureStore(tmp_path / "pictures")
    kept = store.save(READ, FULL, CROP)
    assert kept.full is not None
    assert kept.plate is not None
    assert kept.full.parent == tmp_path / "pictures" / store.today().isoformat()
    assert (kept.full.read_bytes(), kept.plate.read_bytes()) == (FULL, CROP)
    assert store.find(READ) == kept
    assert [p.name for p in kept.full.parent.iterdir() if p.name.endswith(".part")] == []


def test_a_new_store_on_the_same_root_finds_pictures_of_earlier_days(tmp_path: Path) -> None:
    earlier = PictureStore(tmp_path)
    last_week = earlier.today() - timedelta(days=7)
    kept = earlier.save(READ, FULL, CROP, day=last_week)
    earlier.save("cam-a1:43:1621502700.000000", FULL, CROP)  # another read, today
    after_restart = PictureStore(tmp_path)
    found = after_restart.find(READ)
    assert found == kept
    assert found.full is not None
    assert found.full.parent.name == last_week.isoformat()


def test_a_read_without_pictures_or_id_has_none(tmp_path: Path) -> None:
    store = PictureStore(tmp_path)
    assert store.save(READ, None, None) == ReadPictures()
    assert not tmp_path.joinpath(store.today().isoformat()).exists()
    assert store.find(READ) == ReadPictures()
    assert store.find("") == ReadPictures()
    with pytest.raises(ValueError, match="read id"):
        store.save("", FULL, CROP)


def test_only_what_the_camera_sent_is_kept(tmp_path: Path) -> None:
    store = PictureStore(tmp_path)
    store.save(READ, None, CROP)
    found = PictureStore(tmp_path).find(READ)
    assert found.full is None
    assert found.plate is not None
    assert found.plate.read_bytes() == CROP


def test_any_read_id_makes_a_safe_and_distinct_file_name(tmp_path: Path) -> None:
    ids = ["../../etc/passwd", "cam/a1:1:2.3", "cam\\a1:1:2.3", "..", "摄像机:1:2", "x" * 300, "CON"]
    store = PictureStore(tmp_path)
    for read_id in ids:
        kept = store.save(read_id, FULL, None)
        assert kept.full is not None
        assert kept.full.parent == tmp_path / store.today().isoformat()  # never outside the day folder
        assert len(kept.full.name) < 80
    assert len({file_stem(read_id) for read_id in ids}) == len(ids)
    assert all(PictureStore(tmp_path).find(read_id).full is not None for read_id in ids)


def test_prune_removes_whole_days_older_than_kept(tmp_path: Path) -> None:
    store = PictureStore(tmp_path)
    today = date(2024, 6, 30)
    for age in (0, 1, 89, 90, 200):
        store.save(f"read-{age}", FULL, CROP, day=today - timedelta(days=age))
    (tmp_path / "notes").mkdir()  # not a day folder: not ours to remove
    assert store.prune(90, today=today) == 2
    days = sorted(p.name for p in tmp_path.iterdir())
    assert days == ["2024-04-02", "2024-06-29", "2024-06-30", "notes"]
    assert store.find("read-90") == ReadPictures()
    assert store.find("read-89").full is not None
    assert store.prune(90, today=today) == 0
    assert PictureStore(tmp_path / "none yet").prune(90) == 0
    with pytest.raises(ValueError, match="at least 1 day"):
        store.prune(0)


async def test_from_the_event_loop_the_work_is_done_on_a_thread(tmp_path: Path) -> None:
    store = PictureStore(tmp_path)
    kept = await store.keep(READ, FULL, CROP)
    assert await PictureStore(tmp_path).look_up(READ) == kept
    assert await store.prune_soon(90) == 0
