"""The configuration contract: the example loads, mistakes come out one line each naming the key, never a traceback."""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from booth_app.config import (
    ConfigError,
    DisplayRelayBarrier,
    ModbusBarrier,
    Settings,
    database_url,
    load_settings,
    parse_settings,
)
from booth_app.core.types import VehicleKind
from tests.conftest import EXAMPLE, ROOT, SHARED_EXAMPLE


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text)
    return [str(problem) for problem in caught.value.problems]


def test_the_example_loads_with_every_section(example_toml: str) -> None:
    settings = parse_settings(example_toml)
    assert settings.park.park_id == "1001"
    assert settings.park.union_id == 200188
    assert [lane.id for lane in settings.lanes] == ["A1", "B1"]
    assert isinstance(settings.lanes[0].barrier, DisplayRelayBarrier)
    modbus = settings.lanes[1].barrier
    assert isinstance(modbus, ModbusBarrier)
    assert (modbus.port, modbus.device_id, modbus.coil, modbus.pulse_ms) == ("COM5", 1, 0, 500)
    assert settings.tariff.first_price == Decimal("5.00")
    assert settings.tariff.daily_cap == Decimal("40.00")
    assert settings.offline.temp_car_policy == "cash"
    (vehicle,) = settings.vehicles
    assert vehicle.to_vehicle().kind is VehicleKind.MONTH


def test_the_documented_copy_of_the_example_is_current() -> None:
    if not SHARED_EXAMPLE.exists():
        pytest.skip("shared/ is not beside this checkout; docs/booth.example.toml is the copy in use")
    assert (ROOT / "docs" / "booth.example.toml").read_text(encoding="utf-8") == SHARED_EXAMPLE.read_text("utf-8")


def test_the_demo_configuration_is_valid() -> None:
    settings = load_settings(ROOT / "resources" / "demo.toml")
    assert {lane.direction for lane in settings.lanes} == {"in", "out"}
    assert {type(lane.barrier) for lane in settings.lanes} >= {DisplayRelayBarrier, ModbusBarrier}


def test_three_mistakes_give_three_lines_naming_their_keys(example_toml: str) -> None:
    text = (
        example_toml.replace('kind = "modbus"', 'kind = "modbsu"')
        .replace('direction = "in" ', 'direction = "inn" ')
        .replace("capacity = 300", 'capacity = 300\ncolour = "red"')
    )
    assert problems(text) == [
        "park.colour: unknown key (a typo?)",
        "lanes[0].direction: must be one of in, out",
        "lanes[1].barrier.kind: must be one of display_relay, modbus, camera_io",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("[offline]", "[ofline]"), "ofline: unknown key (a typo?)"),
        (
            ('temp_car_policy = "cash"', 'temp_car_policy = "gratis"'),
            "offline.temp_car_policy: must be one of cash, free, manual, forbid",
        ),
        (("port = 8088", "port = 99999"), "camera_listener.port: input should be less than or equal to 65535"),
        (("first_price = 5.00", "first_price = -5"), "tariff.first_price: input should be greater than or equal to 0"),
        (
            ("unit_price = 2.00", "unit_price = 2.005"),
            "tariff.unit_price: decimal input should have no more than 2 decimal places",
        ),
        (('plate = "京A88888"', 'plate = "京A8888"'), "vehicles[0].plate: '京A8888' is not a Chinese licence plate"),
        (
            ("valid_to = 2026-12-31", "valid_to = 2025-12-31"),
            "vehicles[0]: valid_to 2025-12-31 is before valid_from 2026-01-01",
        ),
        (
            ('sdk_url = "https://p.bolink.club/bpd"', 'sdk_url = "p.bolink.club"'),
            "bolink.sdk_url: must be an http:// or https:// address",
        ),
        (
            ('serialno = "cam-b1"', 'serialno = "cam-a1"'),
            "lanes[1].camera.serialno: 'cam-a1' is already used in lanes[0]",
        ),
        (('park_id = "1001"\n', ""), "park.park_id: is required but missing"),
        (
            ('url = ""', 'url = "mysql://x"'),
            "store.url: must be empty (SQLite in the data directory), sqlite:///FILE or postgresql+psycopg://…",
        ),
    ],
)
def test_each_mistake_is_one_clear_line(example_toml: str, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in example_toml
    assert problems(example_toml.replace(old, new, 1)) == [expected]


def test_a_repeat_is_named_at_its_second_place_beside_the_other_problems(example_toml: str) -> None:
    text = (
        example_toml.replace('id = "B1"', 'id = "A1"')
        .replace('port = "COM4"', 'port = ""')
        .replace('rtsp = "rtsp://192.0.2.11:8557/h264"', 'rtsp = "rtsp://192.0.2.11:8557/h264"\n  ip = "192.0.2.11"')
        .replace('rtsp = "rtsp://192.0.2.10:8557/h264"', 'rtsp = "rtsp://192.0.2.10:8557/h264"\n  ip = "192.0.2.11"')
        + '\n[[vehicles]]\nplate = "京a88888"\nkind = "whitelist"\nvalid_from = 2026-01-01\n'
    )
    assert problems(text) == [
        "lanes[1].display.port: string should have at least 1 character",
        "lanes[1].id: 'A1' is already used in lanes[0]",
        "lanes[1].camera.ip: '192.0.2.11' is already used in lanes[0]",
        "vehicles[1].plate: '京a88888' is already used in vehicles[0]",  # the same plate, once normalised
    ]


def test_a_barrier_without_kind_says_which_kinds_exist(example_toml: str) -> None:
    text = example_toml.replace('kind = "display_relay"', "")
    assert problems(text) == ["lanes[0].barrier.kind: is required but missing (display_relay, modbus, camera_io)"]


def test_unreadable_files_are_one_sentence(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[park\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML: .*line 1"):
        load_settings(broken)
    latin = tmp_path / "latin.toml"
    latin.write_bytes("name = '停车场'".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_settings(latin)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(tmp_path)  # a folder, not a file


def test_per_car_type_overrides_change_only_what_they_name(example_toml: str) -> None:
    text = example_toml + "\n[tariff.by_car_type.large]\nfirst_price = 10.00\ndaily_cap = 80.00\n"
    tariff = parse_settings(text).tariff.to_tariff()
    large, small = tariff.rate_for("large"), tariff.rate_for("small")
    assert (large.first_price, large.daily_cap, large.unit_price) == (
        Decimal("10.00"),
        Decimal("80.00"),
        Decimal("2.00"),
    )
    assert small.first_price == Decimal("5.00")


def test_the_rules_section_reaches_the_lane_rules(example_toml: str) -> None:
    defaults = parse_settings(example_toml).rule_settings()
    assert (defaults.capacity, defaults.repeat_read_s, defaults.fuzzy_min_equal) == (300, 30, 5)
    tuned = parse_settings(
        example_toml + '\n[rules]\nrepeat_read_s = 10\nfuzzy_min_equal = 6\nexpired_month_card = "refuse"\n'
    ).rule_settings()
    assert (tuned.repeat_read_s, tuned.fuzzy_min_equal, tuned.expired_month_card) == (10, 6, "refuse")


def test_the_ukey_comes_from_the_named_environment_variable(example_toml: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = parse_settings(example_toml.replace('"BOOTH_BOLINK_UKEY"', '"TEST_UKEY_VAR"'))
    monkeypatch.setenv("TEST_UKEY_VAR", " 8403A41ED5EF20BC ")
    assert settings.ukey() == "8403A41ED5EF20BC"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps secrets in memory, standing in for the OS store on a machine without one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def test_the_ukey_falls_back_to_the_keyring(example_toml: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOTH_BOLINK_UKEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        settings = parse_settings(example_toml)
        assert settings.ukey() is None
        keyring.set_password("booth-app", "ukey:1001", "SECRETKEY")
        assert settings.ukey() == "SECRETKEY"
    finally:
        keyring.set_keyring(previous)


def test_the_database_defaults_to_sqlite_in_the_data_directory(example_toml: str, tmp_path: Path) -> None:
    settings = parse_settings(example_toml)
    assert database_url(settings, tmp_path) == f"sqlite:///{(tmp_path / 'booth.db').as_posix()}"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "booth_app.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_check_config_exits_0_for_the_example() -> None:
    result = run_cli("check-config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_check_config_exits_2_with_one_line_per_problem(tmp_path: Path, example_toml: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        example_toml.replace('kind = "modbus"', 'kind = "relay"')
        .replace("capacity = 300", "capacity = 0")
        .replace("[offline]", "[ofline]"),
        encoding="utf-8",
    )
    result = run_cli("check-config", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "park.capacity: input should be greater than 0",
        "lanes[1].barrier.kind: must be one of display_relay, modbus, camera_io",
        "ofline: unknown key (a typo?)",
    ]
    assert "Traceback" not in result.stderr


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("booth-app ")


def test_settings_are_immutable(example_toml: str) -> None:
    settings: Settings = parse_settings(example_toml)
    with pytest.raises(ValueError, match="frozen"):
        settings.park.capacity = 1  # type: ignore[misc]
