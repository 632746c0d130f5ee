"""The vehicle lists as CSV files, so that a park's office can keep its month cards in a spreadsheet.

A file has a header row naming its columns in any order, in English (`plate,kind,valid_from,valid_to,owner,note`) or
in Chinese (`车牌,类型,开始日期,结束日期,车主,备注`); `plate`, `kind` and `valid_from` are required. Files are written
as UTF-8 with a byte-order mark, because Excel in China reads a file without one as GBK; they are read as UTF-8 (with
or without the mark) or else as GB18030, the superset of the GBK that Excel saves.

A file is taken whole or not at all: :func:`parse_vehicles` lists every problem, one sentence each naming the line and
the column as the file spells it, so that the office can fix them all in one go.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from booth_app.core.plates import is_valid, normalise
from booth_app.core.types import Vehicle, VehicleKind

if TYPE_CHECKING:
    import _csv

COLUMNS: tuple[str, ...] = ("plate", "kind", "valid_from", "valid_to", "owner", "note")
REQUIRED_COLUMNS: tuple[str, ...] = ("plate", "kind", "valid_from")
CHINESE_COLUMNS: dict[str, str] = {
    "车牌": "plate",
    "类型": "kind",
    "开始日期": "valid_from",
    "结束日期": "valid_to",
    "车主": "owner",
    "备注": "note",
}
KIND_NAMES: dict[VehicleKind, str] = {
    VehicleKind.MONTH: "月卡",
    VehicleKind.WHITELIST: "白名单",
    VehicleKind.BLACKLIST: "黑名单",
}
_KIND_WORDS: dict[str, VehicleKind] = {name: kind for kind, name in KIND_NAMES.items()} | {
    kind.value: kind for kind in VehicleKind
}
# Excel re-saves an ISO date as 2026/1/5 in a Chinese locale: accept that spelling as well.
_DAY = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_DATE_FORMAT = "YYYY-MM-DD"
T = TypeVar("T")


class VehicleCsvError(ValueError):
    """A vehicle file that cannot be taken: `problems` says every reason, one sentence each."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ---------------------------------------------------------------- one field (the edit dialog uses these too)


def read_plate(raw: str) -> str:
    """The normalised plate; ValueError saying why it is not one."""
    plate = normalise(raw)
    if not plate:
        raise ValueError("车牌是空的")
    if not is_valid(plate):
        raise ValueError(f"{raw.strip()} 不是有效的车牌")
    return plate


def read_kind(raw: str) -> VehicleKind:
    """月卡/白名单/黑名单 or month/whitelist/blacklist (any case); ValueError otherwise."""
    word = raw.strip()
    kind = _KIND_WORDS.get(word) or _KIND_WORDS.get(word.lower())
    if kind is None:
        expected = "月卡、白名单、黑名单 或 month、whitelist、blacklist"
        raise ValueError(f"类型是空的（应为 {expected}）" if not word else f"{word} 不是名单类型（应为 {expected}）")
    return kind


def read_day(raw: str, *, required: bool) -> date | None:
    """A date written YYYY-MM-DD (or YYYY/M/D); None for an empty optional one; ValueError otherwise."""
    text = raw.strip()
    if not text:
        if required:
            raise ValueError(f"日期是空的（应为 {_DATE_FORMAT}）")
        return None
    match = _DAY.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(f"{text} 不是日期（应为 {_DATE_FORMAT}）") from None


def check_period(valid_from: date, valid_to: date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise ValueError(f"结束日期 {valid_to.isoformat()} 早于开始日期 {valid_from.isoformat()}")


# ---------------------------------------------------------------- whole files


class _Columns:
    """Where each column of a file is, and how the file names it (problems use the file's own words)."""

    def __init__(self, where: dict[str, int], names: dict[str, str], width: int) -> None:
        self.where = where
        self.names = names
        self.width = width

    def cell(self, cells: list[str], column: str) -> str:
        index = self.where.get(column)
        return cells[index] if index is not None and index < len(cells) else ""

    def name(self, column: str) -> str:
        return self.names.get(column, column)


def _columns(cells: list[str], line: int) -> _Columns:
    where: dict[str, int] = {}
    names: dict[str, str] = {}
    problems: list[str] = []
    for index, cell in enumerate(cells):
        name = cell.strip()
        if not name:
            continue  # spreadsheets leave empty cells after the last column
        column = CHINESE_COLUMNS.get(name) or (name.lower() if name.lower() in COLUMNS else None)
        if column is None:
            problems.append(
                f"第{line}行：不认识的列 {name}（应为 {'、'.join(COLUMNS)} 或 {'、'.join(CHINESE_COLUMNS)}）"
            )
        elif column in where:
            problems.append(f"第{line}行：列 {name} 出现了两次")
        else:
            where[column] = index
            names[column] = name
    if not where:  # no column known at all: the header is missing, not misspelt
        raise VehicleCsvError(
            [f"第{line}行不是表头：第一行应为列名 {','.join(COLUMNS)}（或 {','.join(CHINESE_COLUMNS)}）"]
        )
    missing = [column for column in REQUIRED_COLUMNS if column not in where]
    if missing:
        problems.append(f"第{line}行：缺少列 {'、'.join(missing)}")
    if problems:
        raise VehicleCsvError(problems)
    return _Columns(where, names, len(cells))


def _vehicle(cells: list[str], line: int, columns: _Columns) -> tuple[Vehicle | None, list[str]]:
    """One row's vehicle, or None and every problem of the row."""
    problems: list[str] = []

    def read(column: str, reader: Callable[[str], T]) -> T | None:
        try:
            return reader(columns.cell(cells, column))
        except ValueError as exc:
            problems.append(f"第{line}行 {columns.name(column)}：{exc}")
            return None

    plate = read("plate", read_plate)
    kind = read("kind", read_kind)
    valid_from = read("valid_from", lambda raw: read_day(raw, required=True))
    valid_to = read("valid_to", lambda raw: read_day(raw, required=False))
    if valid_from is not None and valid_to is not None:
        try:
            check_period(valid_from, valid_to)
        except ValueError as exc:
            problems.append(f"第{line}行 {columns.name('valid_to')}：{exc}")
    extra = [value.strip() for value in cells[columns.width :] if value.strip()]
    if extra:
        problems.append(f"第{line}行：比表头多出 {len(extra)} 个值（{'、'.join(extra)}）")
    if problems or plate is None or kind is None or valid_from is None:
        return None, problems
    owner, note = columns.cell(cells, "owner").strip(), columns.cell(cells, "note").strip()
    return Vehicle(plate, kind, valid_from, valid_to, owner, note), problems


def parse_vehicles(text: str) -> list[Vehicle]:
    """The vehicles of a CSV text, in file order; VehicleCsvError listing every problem if there is any."""
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        return _parse(rows)
    except csv.Error as exc:  # a NUL byte or a broken quote: most likely not a CSV file at all
        raise VehicleCsvError([f"第{rows.line_num}行不是 CSV 文本（{exc}）"]) from None


def _parse(rows: _csv.Reader) -> list[Vehicle]:
    header = next((cells for cells in rows if any(cell.strip() for cell in cells)), None)
    if header is None:
        raise VehicleCsvError([f"文件是空的：第一行应为列名 {','.join(COLUMNS)}"])
    columns = _columns(header, rows.line_num)
    vehicles: list[Vehicle] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        line = rows.line_num
        vehicle, row_problems = _vehicle(cells, line, columns)
        problems += row_problems
        plate = normalise(columns.cell(cells, "plate"))
        if plate in first_line and is_valid(plate):
            problems.append(f"第{line}行 {columns.name('plate')}：{plate} 在第{first_line[plate]}行已经出现过")
        elif vehicle is not None:
            vehicles.append(vehicle)
        first_line.setdefault(plate, line)
    if problems:
        raise VehicleCsvError(problems)
    return vehicles


def format_vehicles(vehicles: Iterable[Vehicle]) -> str:
    """A CSV text with the English header, one row per vehicle; `parse_vehicles` reads it back unchanged."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")  # Excel's own line ends
    writer.writerow(COLUMNS)
    for vehicle in vehicles:
        valid_to = vehicle.valid_to.isoformat() if vehicle.valid_to is not None else ""
        writer.writerow(
            [vehicle.plate, vehicle.kind.value, vehicle.valid_from.isoformat(), valid_to, vehicle.owner, vehicle.note]
        )
    return out.getvalue()


def write_vehicles_csv(path: Path, vehicles: Iterable[Vehicle]) -> None:
    """Write the vehicles as UTF-8 with a byte-order mark, which Excel in China opens as UTF-8."""
    path.write_bytes(format_vehicles(vehicles).encode("utf-8-sig"))


def read_vehicles_csv(path: Path) -> list[Vehicle]:
    """The vehicles of a UTF-8 or GBK (GB18030) file; VehicleCsvError if it cannot be read or has problems."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VehicleCsvError([f"读不了文件 {path}：{exc.strerror or exc}"]) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return parse_vehicles(text)
    raise VehicleCsvError([f"文件 {path} 既不是 UTF-8 也不是 GBK 编码的文本"])
