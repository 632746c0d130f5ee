"""Writing a configuration file: the values as readable TOML, in the contract's order with its short comments.

`config_text(values)` writes a mapping shaped like the file (a section is a mapping, `lanes` a list of mappings); a
value of None is left out, so a required key left empty comes back from `parse_settings` as missing. `first_config`
adds the contract's defaults to what the setup screen asks, and `write_config` puts the text in place whole.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from booth_app.config import (
    BolinkConfig,
    CameraListenerConfig,
    OfflineConfig,
    ParkConfig,
    StoreConfig,
    TariffConfig,
)

HEADER = """\
# Booth configuration, written by the setup screen at the first start. The keys are those of booth.example.toml
# in Booth's documentation; after editing, `booth-app check-config FILE` names any mistake.
# The Bolink ukey is never kept here. Money is in yuan with two decimals; durations in minutes unless a key says so.
"""

# Table (lanes' sub-tables as "lanes.camera") -> its keys in the contract's order, each with its comment ("" for none).
# Keys not listed follow in the order given; so do tables not listed.
LAYOUT: dict[str, tuple[tuple[str, str], ...]] = {
    "park": (
        ("park_id", ""),
        ("union_id", ""),
        ("name", ""),
        ("capacity", 'spaces, for empty_plot and the "full" rule'),
        (
            "ukey_env",
            "the Bolink ukey is read from this environment variable (or the OS keyring), never from this file",
        ),
    ),
    "bolink": (
        ("enabled", ""),
        ("sdk_url", "upload.do and download.do live below it"),
        ("union_api_url", ""),
        ("local_id", "this booth at Bolink"),
        ("timeout_s", ""),
    ),
    "store": (("url", '"" = SQLite in the data directory; "postgresql+psycopg://…" to share one lot'),),
    "camera_listener": (("host", ""), ("port", "the plate cameras push to http://<this PC>:port/path"), ("path", "")),
    "offline": (
        ("temp_car_policy", "a temporary car at an exit while Bolink is unreachable: cash | free | manual | forbid"),
    ),
    "lanes": (("id", ""), ("name", ""), ("direction", "in | out"), ("lane_no", "ETC lane code")),
    "lanes.camera": (
        ("vendor", ""),
        ("serialno", ""),
        ("ip", "a camera that sends no serial number is known by its address"),
        ("rtsp", "live video for the lane's tile"),
    ),
    "lanes.display": (
        ("port", "any pyserial name: COM3, /dev/ttyUSB0, socket://127.0.0.1:7001"),
        ("baudrate", ""),
        ("address", ""),
    ),
    "lanes.barrier": (
        ("kind", "display_relay | modbus | camera_io"),
        ("relay", "the board's relay that opens the gate (0 is the traffic light)"),
        ("port", "the Modbus relay board's serial port"),
        ("baudrate", ""),
        ("device_id", ""),
        ("coil", ""),
        ("io", "the camera output that opens the gate"),
        ("pulse_ms", ""),
    ),
    "tariff": (
        ("free_minutes", "a stay this short pays nothing"),
        ("first_minutes", "first period …"),
        ("first_price", "… costs this"),
        ("unit_minutes", "after it, each started unit …"),
        ("unit_price", "… costs this"),
        ("daily_cap", "at most this per 24 h counted from entry; each further started 24 h starts again"),
    ),
    "ui": (("language", "the window's language: zh (Chinese) or en (English)"),),
}
TABLE_COMMENTS = {
    "tariff": "for temporary cars; add daily_cap = 40.00 to charge at most that per 24 h",
}
COMMENT_COLUMN = 32  # as in booth.example.toml
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def first_config(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The whole file for a new booth: what the setup screen asked, over the contract's defaults for the rest (the
    tariff included, so the car park sees the prices it charges until it sets its own)."""
    tariff = TariffConfig()
    defaults: dict[str, Any] = {
        "park": {"ukey_env": ParkConfig.model_fields["ukey_env"].default},
        "bolink": {"enabled": True, "timeout_s": BolinkConfig.model_fields["timeout_s"].default},
        "store": {"url": StoreConfig().url},
        "camera_listener": {"host": CameraListenerConfig().host, "path": CameraListenerConfig().path},
        "offline": {"temp_car_policy": OfflineConfig().temp_car_policy},
        "tariff": {key: getattr(tariff, key) for key, _ in LAYOUT["tariff"] if getattr(tariff, key) is not None},
    }
    return _merged(defaults, answers)


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        inner = merged.get(key)
        merged[key] = _merged(inner, value) if isinstance(inner, Mapping) and isinstance(value, Mapping) else value
    return merged


def config_text(values: Mapping[str, Any]) -> str:
    """`values` as a TOML file that `tomllib` reads back as the same values (None left out)."""
    lines = HEADER.splitlines()
    scalars, tables = _split(values)
    lines += _key_lines(scalars, "", "")
    for name in _ordered(tables, ""):
        value = tables[name]
        if isinstance(value, Mapping):
            lines += ["", *_table(value, [name], "", array=False)]
        else:
            for item in value:
                lines += ["", *_table(item, [name], "", array=True)]
    return "\n".join(lines) + "\n"


def _table(table: Mapping[str, Any], names: list[str], indent: str, *, array: bool) -> list[str]:
    """A table's header and keys, then its sub-tables (indented under an array's item, as in the contract)."""
    layout = ".".join(names)
    header = ".".join(_key(name) for name in names)
    header = f"{indent}[[{header}]]" if array else f"{indent}[{header}]"
    lines = [_commented(header, TABLE_COMMENTS.get(layout, ""))]
    scalars, tables = _split(table)
    lines += _key_lines(scalars, layout, indent)
    inner = indent + "  " if array or indent else indent
    for name in _ordered(tables, layout):
        value = tables[name]
        if isinstance(value, Mapping):
            lines += _table(value, [*names, name], inner, array=False)
        else:
            for item in value:
                lines += _table(item, [*names, name], inner, array=True)
    return lines


def _split(table: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Plain keys, and the tables below (mappings, and non-empty lists of mappings); None is left out."""
    scalars: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    for key, value in table.items():
        if value is None:
            continue
        is_table_array = _is_sequence(value) and value and all(isinstance(item, Mapping) for item in value)
        (tables if isinstance(value, Mapping) or is_table_array else scalars)[key] = value
    return scalars, tables


def _ordered(table: Mapping[str, Any], layout: str) -> list[str]:
    known = [key for key, _ in LAYOUT.get(layout, ())] if layout else list(LAYOUT)
    if not layout:  # the sections: the order of LAYOUT's top-level names
        known = [name for name in known if "." not in name]
    else:
        known += [name.removeprefix(layout + ".") for name in LAYOUT if name.startswith(layout + ".")]
    return [key for key in known if key in table] + [key for key in table if key not in known]


def _key_lines(scalars: Mapping[str, Any], layout: str, indent: str) -> list[str]:
    comments = dict(LAYOUT.get(layout, ()))
    return [
        _commented(f"{indent}{_key(key)} = {toml_value(scalars[key])}", comments.get(key, ""))
        for key in _ordered(scalars, layout)
    ]


def _commented(line: str, comment: str) -> str:
    if not comment:
        return line
    return f"{line:<{COMMENT_COLUMN}}# {comment}" if len(line) < COMMENT_COLUMN else f"{line}  # {comment}"


def _key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else toml_string(key)


def _is_sequence(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def toml_value(value: object) -> str:
    """One value as TOML: text, a whole number, a decimal, true/false, a date or time, or a list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as an amount")
        return format(value, "f")
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} has no TOML form here")


ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A basic TOML string: quotes and backslashes escaped, control characters as escapes, the rest (Chinese
    included) as it is."""
    out = []
    for char in text:
        if char in ESCAPES:
            out.append(ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def write_config(path: Path, text: str) -> None:
    """Put `text` at `path` whole or not at all: written beside it, flushed to the disk, then renamed over it.
    Makes the folder when there is none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("x", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    if os.name != "nt":  # the rename itself reaches the disk only with its folder (Windows has no folder handles)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
