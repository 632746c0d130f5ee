"""Writing a configuration file: whatever a person types comes back from the file unchanged, in the contract's order."""

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from booth_app.config import BOLINK_SDK_URL, BOLINK_UNION_API_URL, ConfigError, load_settings, parse_settings
from booth_app.config_file import config_text, first_config, toml_string, write_config

# ---------------------------------------------------------------- any values


@given(st.text())
def test_any_text_is_one_toml_string(text: str) -> None:
    assert tomllib.loads(f"key = {toml_string(text)}")["key"] == text


keys = st.text(max_size=8)
scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
    st.dates(),
    st.lists(st.integers(0, 99), max_size=3),
    st.lists(st.text(max_size=4), max_size=3),
)
tables = st.dictionaries(keys, st.one_of(scalars, st.dictionaries(keys, scalars, max_size=3)), max_size=4)
files = st.dictionaries(keys, st.one_of(scalars, tables, st.lists(tables, min_size=1, max_size=3)), max_size=5)


@given(files)
def test_a_file_reads_back_as_the_values_written(values: dict[str, Any]) -> None:
    assert tomllib.loads(config_text(values)) == values


# ---------------------------------------------------------------- what the setup screen asks

words = st.text(min_size=1, max_size=20)  # quotes, backslashes, Chinese, control characters: anything
no_spaces = st.text(st.characters(blacklist_categories=("Z", "Cc", "Cs")), min_size=1, max_size=20)
barriers = st.one_of(
    st.fixed_dictionaries({"kind": st.just("display_relay"), "relay": st.integers(0, 255)}),
    st.fixed_dictionaries(
        {
            "kind": st.just("modbus"),
            "port": words,
            "baudrate": st.integers(1, 10**6),
            "device_id": st.integers(0, 247),
            "coil": st.integers(0, 65535),
        }
    ),
    st.fixed_dictionaries({"kind": st.just("camera_io"), "io": st.integers(0, 7)}),
)
lanes = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"[A-Za-z0-9_-]{1,16}", fullmatch=True),
        "name": words,
        "direction": st.sampled_from(["in", "out"]),
        "lane_no": st.text(max_size=8),
        "camera": st.fixed_dictionaries(
            {
                "vendor": st.just("zhenshi"),
                "serialno": words,
                "rtsp": st.one_of(st.just(""), no_spaces.map("rtsp://".__add__)),
            },
            optional={"ip": words},
        ),
        "display": st.fixed_dictionaries(
            {"port": words, "baudrate": st.integers(1, 10**6), "address": st.integers(0, 255)}
        ),
        "barrier": barriers,
    }
)
answers = st.fixed_dictionaries(
    {
        "park": st.fixed_dictionaries(
            {"park_id": words, "union_id": st.integers(1, 2**31), "name": words, "capacity": st.integers(1, 10**5)}
        ),
        "bolink": st.fixed_dictionaries(
            {
                "sdk_url": st.sampled_from(["http://", "https://"]).flatmap(
                    lambda scheme: no_spaces.map(scheme.__add__)
                ),
                "union_api_url": no_spaces.map("https://".__add__),
                "local_id": st.text(min_size=1, max_size=64),
            }
        ),
        "camera_listener": st.fixed_dictionaries({"port": st.integers(1, 65535)}),
        "lanes": st.lists(
            lanes, min_size=1, max_size=4, unique_by=(lambda lane: lane["id"], lambda lane: lane["camera"]["serialno"])
        ),
        "ui": st.fixed_dictionaries({"language": st.sampled_from(["zh", "en"])}),
    }
)


def picked(loaded: Any, like: Any) -> Any:
    """From `loaded`, the keys (and list items) that `like` has."""
    if isinstance(like, dict):
        return {key: picked(loaded[key], value) for key, value in like.items()}
    if isinstance(like, list):
        return [picked(item, value) for item, value in zip(loaded, like, strict=True)]
    return loaded


@given(answers)
def test_what_the_setup_asks_comes_back_from_the_file(asked: dict[str, Any]) -> None:
    ips = [lane["camera"]["ip"] for lane in asked["lanes"] if "ip" in lane["camera"]]
    assume(len(set(ips)) == len(ips))
    settings = parse_settings(config_text(first_config(asked)))
    assert picked(settings.model_dump(), asked) == asked


def two_lanes(**park: Any) -> dict[str, Any]:
    lane = {"camera": {"vendor": "zhenshi", "rtsp": ""}, "display": {"baudrate": 9600, "address": 0}}
    return {
        "park": {"park_id": "1001", "union_id": 200188, "name": "示例停车场", "capacity": 300} | park,
        "bolink": {"sdk_url": BOLINK_SDK_URL, "union_api_url": BOLINK_UNION_API_URL, "local_id": "booth01"},
        "camera_listener": {"port": 8088},
        "lanes": [
            lane | {"id": "A1", "name": "东门入口", "direction": "in", "lane_no": "000123",
                    "camera": lane["camera"] | {"serialno": "cam-a1"}, "display": lane["display"] | {"port": "COM3"},
                    "barrier": {"kind": "display_relay", "relay": 1}},
            lane | {"id": "B1", "name": "东门出口", "direction": "out", "lane_no": "000124",
                    "camera": lane["camera"] | {"serialno": "cam-b1"}, "display": lane["display"] | {"port": "COM4"},
                    "barrier": {"kind": "modbus", "port": "COM5", "baudrate": 9600, "device_id": 1, "coil": 0}},
        ],
        "ui": {"language": "zh"},
    }  # fmt: skip


@pytest.mark.parametrize(
    "name", ['东门"停车场"', "C:\\停车场\\", "一行\n两行", "tab\there", "'单引号'", "emoji 🚗", "\x00\x1f\x7f", " "]
)
def test_names_with_quotes_backslashes_and_chinese_come_back(name: str) -> None:
    values = two_lanes(name=name)
    values["lanes"][1]["name"] = name + "出口"
    settings = parse_settings(config_text(first_config(values)))
    assert settings.park.name == name
    assert settings.lanes[1].name == name + "出口"


def keys_in_order(text: str) -> list[str]:
    """Every `table.key` of a TOML file in the order written (array tables by their name)."""
    found, table = [], ""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()  # (no value here has a #)
        if header := re.fullmatch(r"\[\[?([\w.]+)\]\]?", line):
            table = header.group(1)
        elif key := re.match(r"([\w]+) =", line):
            found.append(f"{table}.{key.group(1)}")
    return found


def test_the_file_keeps_the_contracts_order_and_comments(example_toml: str) -> None:
    text = config_text(first_config(two_lanes()))
    ours, contract = keys_in_order(text), keys_in_order(example_toml)
    shared = [key for key in contract if key in ours]
    assert [key for key in ours if key in shared] == shared
    assert "port = 8088                     # the plate cameras push to http://<this PC>:port/path" in text
    assert '  kind = "display_relay"        # display_relay | modbus | camera_io' in text
    assert "ukey = " not in text.replace("ukey_env", "")


def test_a_first_config_has_the_contracts_defaults_for_what_is_not_asked() -> None:
    settings = parse_settings(config_text(first_config(two_lanes())))
    assert settings.bolink.enabled
    assert settings.park.ukey_env == "BOOTH_BOLINK_UKEY"
    assert (settings.camera_listener.host, settings.camera_listener.path) == ("0.0.0.0", "/lpr/zhenshi")
    assert settings.store.url == ""
    assert settings.offline.temp_car_policy == "cash"
    tariff = settings.tariff
    assert (tariff.first_minutes, tariff.first_price, tariff.daily_cap) == (60, Decimal("5.00"), None)


def test_the_proposed_bolink_addresses_are_the_contracts(example_toml: str) -> None:
    bolink = tomllib.loads(example_toml)["bolink"]
    assert (bolink["sdk_url"], bolink["union_api_url"]) == (BOLINK_SDK_URL, BOLINK_UNION_API_URL)


def test_a_number_left_empty_is_reported_missing() -> None:
    values = two_lanes(union_id=None, capacity=None)
    with pytest.raises(ConfigError) as caught:
        parse_settings(config_text(first_config(values)))
    assert [str(problem) for problem in caught.value.problems] == [
        "park.union_id: is required but missing",
        "park.capacity: is required but missing",
    ]


# ---------------------------------------------------------------- writing the file


def test_the_file_is_written_whole_into_a_new_folder(tmp_path: Path) -> None:
    path = tmp_path / "ProgramData" / "booth-app" / "booth.toml"
    text = config_text(first_config(two_lanes()))
    write_config(path, text)
    assert path.read_text(encoding="utf-8") == text
    assert load_settings(path).park.name == "示例停车场"
    write_config(path, text.replace("示例停车场", "新名字"))
    assert load_settings(path).park.name == "新名字"
    assert [entry.name for entry in path.parent.iterdir()] == ["booth.toml"]  # no temporary file left behind


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "booth.toml"
    path.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError, match=r"booth\.toml"):
        write_config(path, "x = 1\n")
    assert [entry.name for entry in tmp_path.iterdir()] == ["booth.toml"]
    assert path.is_dir()
