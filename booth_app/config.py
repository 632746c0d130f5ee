"""The configuration file (`booth.example.toml` is the contract): typed models, loading, and problems a person can fix.

Every section forbids unknown keys, so a typo is reported instead of silently ignored. Problems come out as one line
each, `key.path: what is wrong`, never as a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from booth_app.core.decisions import RuleSettings
from booth_app.core.plates import PlateKind, classify, normalise
from booth_app.core.tariff import Rate, Tariff
from booth_app.core.types import Vehicle, VehicleKind

# The window's action table is plain data with no Qt in it (booth_app.ui's __init__ imports nothing either), so
# checking [ui.keys] here loads no Qt, and the table the keys are checked against is the one the window binds.
from booth_app.ui.actions import ACTIONS_BY_NAME, REBINDABLE, canonical_key, key_bindings, key_conflicts

APP_NAME = "booth-app"
CONFIG_ENV = "BOOTH_CONFIG"  # points the app at a configuration file when --config is not given
KEYRING_SERVICE = "booth-app"
# Bolink's addresses as the contract gives them: what the setup screen proposes for a new booth.
BOLINK_SDK_URL = "https://p.bolink.club/bpd"
BOLINK_UNION_API_URL = "https://s.bolink.club/unionapi"

Money = Annotated[Decimal, Field(ge=0, max_digits=9, decimal_places=2)]
Minutes = Annotated[int, Field(ge=0, le=7 * 24 * 60)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParkConfig(Section):
    park_id: str = Field(min_length=1)
    union_id: int = Field(gt=0)
    name: str = Field(min_length=1)
    capacity: int = Field(gt=0, description="spaces, for empty_plot and the full-lot rule")
    ukey_env: str = Field(default="BOOTH_BOLINK_UKEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class BolinkConfig(Section):
    enabled: bool = True
    sdk_url: str = Field(pattern=r"^https?://\S+$")
    union_api_url: str = Field(pattern=r"^https?://\S+$")
    local_id: str = Field(min_length=1, max_length=64)
    timeout_s: float = Field(default=5.0, gt=0, le=120)
    uploads_per_s: float = Field(
        default=9.0, gt=0, lt=10, description="outbox drain pace; Bolink asks for fewer than 10 uploads a second"
    )
    poll_timeout_s: float = Field(default=30.0, gt=0, le=300, description="download.do long-poll time")
    etc_vendor: Literal["my", "cj", "jyyh", "ystx"] = Field(
        default="jyyh", description="etcPayApi pay_type: the ETC service behind this park's antennas"
    )


class StoreConfig(Section):
    url: str = ""  # "" = SQLite in the data directory

    @field_validator("url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if url and not url.startswith(("sqlite://", "postgresql")):
            raise ValueError("must be empty (SQLite in the data directory), sqlite:///FILE or postgresql+psycopg://…")
        return url


class CameraListenerConfig(Section):
    host: str = "0.0.0.0"  # noqa: S104 - cameras on the lane network push to the booth
    port: int = Field(default=8088, ge=1, le=65535)
    path: str = Field(default="/lpr/zhenshi", pattern=r"^/\S*$")


class OfflineConfig(Section):
    temp_car_policy: Literal["cash", "free", "manual", "forbid"] = "cash"


class RulesConfig(Section):
    """Lane rules that a car park tunes (keys added to the contract; all optional)."""

    repeat_read_s: int = Field(default=30, ge=0, le=3600, description="the same plate read again at a lane is ignored")
    fuzzy_min_equal: int = Field(
        default=5, ge=1, le=6, description="N of the last 6 characters equal for a fuzzy match"
    )
    expired_month_card: Literal["temporary", "refuse"] = "temporary"
    month_expiry_warning_days: int = Field(default=7, ge=0, le=366)


class CameraConfig(Section):
    vendor: Literal["zhenshi"] = "zhenshi"
    serialno: str = Field(min_length=1)
    ip: str = ""  # optional: a camera that does not send its serial number is known by its address
    rtsp: str = Field(default="", pattern=r"^(rtsp://\S+)?$")


class DisplayConfig(Section):
    port: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0)
    address: int = Field(default=0, ge=0, le=255)


class DisplayRelayBarrier(Section):
    kind: Literal["display_relay"]
    relay: int = Field(
        default=1, ge=0, le=255, description="the board's relay channel that opens the gate (0 is the traffic light)"
    )
    pulse_ms: int = Field(default=500, gt=0, le=10_000)


class ModbusBarrier(Section):
    kind: Literal["modbus"]
    port: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0)
    device_id: int = Field(default=1, ge=0, le=247)
    coil: int = Field(default=0, ge=0, le=65535)
    pulse_ms: int = Field(default=500, gt=0, le=10_000)


class CameraIoBarrier(Section):
    kind: Literal["camera_io"]
    io: int = Field(default=0, ge=0, le=7)
    pulse_ms: int = Field(default=500, gt=0, le=10_000)


Barrier = Annotated[DisplayRelayBarrier | ModbusBarrier | CameraIoBarrier, Field(discriminator="kind")]
BARRIER_KINDS: tuple[str, ...] = tuple(
    get_args(model.model_fields["kind"].annotation)[0]
    for model in (DisplayRelayBarrier, ModbusBarrier, CameraIoBarrier)
)


class LaneConfig(Section):
    id: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1)
    direction: Literal["in", "out"]
    lane_no: str = ""  # ETC lane code
    camera: CameraConfig
    display: DisplayConfig
    barrier: Barrier


class RateOverride(Section):
    free_minutes: Minutes | None = None
    first_minutes: Minutes | None = None
    first_price: Money | None = None
    unit_minutes: Annotated[int, Field(gt=0, le=24 * 60)] | None = None
    unit_price: Money | None = None
    daily_cap: Money | None = None


class TariffConfig(Section):
    free_minutes: Minutes = 15
    first_minutes: Minutes = 60
    first_price: Money = Decimal("5.00")
    unit_minutes: Annotated[int, Field(gt=0, le=24 * 60)] = 30
    unit_price: Money = Decimal("2.00")
    daily_cap: Money | None = None  # absent = no cap
    free_out_minutes: Minutes = 15  # after paying inside the lot, leave within this many minutes for free
    by_car_type: dict[str, RateOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> TariffConfig:
        try:
            self.to_tariff()
        except (ValueError, TypeError) as exc:  # e.g. a first price for a first period of 0 minutes
            raise ValueError(str(exc)) from None
        return self

    def to_tariff(self) -> Tariff:
        default = Rate(
            free_minutes=self.free_minutes,
            first_minutes=self.first_minutes,
            first_price=self.first_price,
            unit_minutes=self.unit_minutes,
            unit_price=self.unit_price,
            daily_cap=self.daily_cap,
        )
        overrides = {
            car_type: default.with_overrides(**override.model_dump(exclude_unset=True))
            for car_type, override in self.by_car_type.items()
        }
        return Tariff(default=default, by_car_type=overrides)


class VehicleConfig(Section):
    plate: str
    kind: Literal["month", "whitelist", "blacklist"]
    valid_from: date
    valid_to: date | None = None
    owner: str = ""
    note: str = ""

    @field_validator("plate")
    @classmethod
    def _plate(cls, raw: str) -> str:
        plate = normalise(raw)
        if classify(plate) in (PlateKind.NONE, PlateKind.UNKNOWN):
            raise ValueError(f"{raw!r} is not a Chinese licence plate")
        return plate

    @model_validator(mode="after")
    def _period(self) -> VehicleConfig:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self

    def to_vehicle(self) -> Vehicle:
        return Vehicle(**(self.model_dump() | {"kind": VehicleKind(self.kind)}))


def _rebindable_action(name: str) -> str:
    if name not in ACTIONS_BY_NAME:
        raise ValueError(f"is not an action; the actions are {', '.join(REBINDABLE)}")
    if name not in REBINDABLE:
        raise ValueError("cannot be rebound: every dialog confirms with Return and cancels with Esc")
    return name


ActionName = Annotated[str, AfterValidator(_rebindable_action)]
KeyText = Annotated[str, AfterValidator(canonical_key)]

DEFAULT_RELEASE_REASONS = (
    "车辆故障",
    "系统故障",
    "特殊车辆（警车、救护车、消防车）",
    "领导/内部车辆",
    "已线下缴费",
    "其他",
)


class UiConfig(Section):
    """The cashier's window (keys added to the contract; all optional)."""

    language: Literal["zh", "en"] = "zh"
    release_reasons: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=lambda: list(DEFAULT_RELEASE_REASONS),
        min_length=1,
        description="offered for manual gate openings and free releases; the cashier may always type another",
    )
    keys: dict[ActionName, KeyText] = Field(
        default_factory=dict, description="action = key, in Qt's portable text; only the actions rebound"
    )

    @field_validator("release_reasons")
    @classmethod
    def _distinct_reasons(cls, reasons: list[str]) -> list[str]:
        _no_repeats("release reason", reasons)
        return reasons

    @field_validator("keys")
    @classmethod
    def _one_action_per_key(cls, keys: dict[str, str]) -> dict[str, str]:
        conflicts = key_conflicts(key_bindings(keys))
        if conflicts:
            raise ValueError("; ".join(conflicts))
        return keys

    def key_bindings(self) -> dict[str, str]:
        """Every action's key, in Qt's portable text: the default unless `[ui.keys]` rebinds it."""
        return key_bindings(self.keys)


class Settings(Section):
    """The whole configuration file."""

    park: ParkConfig
    bolink: BolinkConfig
    store: StoreConfig = StoreConfig()
    camera_listener: CameraListenerConfig = CameraListenerConfig()
    offline: OfflineConfig = OfflineConfig()
    rules: RulesConfig = RulesConfig()
    lanes: list[LaneConfig] = Field(min_length=1)
    tariff: TariffConfig = TariffConfig()
    vehicles: list[VehicleConfig] = Field(default_factory=list)
    ui: UiConfig = UiConfig()

    @field_validator("lanes", mode="wrap")
    @classmethod
    def _distinct_lanes(cls, lanes: Any, handler: ValidatorFunctionWrapHandler) -> list[LaneConfig]:
        """Each lane id, camera serialno and camera ip is used once (a camera is known by them)."""
        return _each_once("lanes", lanes, handler, LANE_REPEATS)

    @field_validator("vehicles", mode="wrap")
    @classmethod
    def _distinct_vehicles(cls, vehicles: Any, handler: ValidatorFunctionWrapHandler) -> list[VehicleConfig]:
        return _each_once("vehicles", vehicles, handler, VEHICLE_REPEATS)

    def lane(self, lane_id: str) -> LaneConfig:
        for lane in self.lanes:
            if lane.id == lane_id:
                return lane
        raise KeyError(lane_id)

    def rule_settings(self) -> RuleSettings:
        """What the lane rules need from this file."""
        return RuleSettings(
            capacity=self.park.capacity,
            repeat_read_s=self.rules.repeat_read_s,
            fuzzy_min_equal=self.rules.fuzzy_min_equal,
            expired_month_card=self.rules.expired_month_card,
            month_expiry_warning_days=self.rules.month_expiry_warning_days,
            free_out_minutes=self.tariff.free_out_minutes,
        )

    def ukey(self) -> str | None:
        """The Bolink ukey: from the environment variable `park.ukey_env`, else the OS keyring, else None."""
        from_env = os.environ.get(self.park.ukey_env, "").strip()
        if from_env:
            return from_env
        return _keyring_ukey(self.park.park_id)


# Keys each item of a list must not share with another: (key path in the item, how its text is compared).
LANE_REPEATS: tuple[tuple[tuple[str, ...], Callable[[str], str]], ...] = (
    (("id",), str),
    (("camera", "serialno"), str),
    (("camera", "ip"), str),
)
VEHICLE_REPEATS: tuple[tuple[tuple[str, ...], Callable[[str], str]], ...] = ((("plate",), normalise),)


def _each_once(
    name: str, items: Any, handler: ValidatorFunctionWrapHandler, keys: Iterable[tuple[tuple[str, ...], Any]]
) -> list[Any]:
    """Validate a list, then name each repeated value at its second place (`lanes[1].id`), together with whatever
    else is wrong in the list: the repeats are looked for in the raw items, so they show even when a field is bad."""
    errors: list[InitErrorDetails] = []
    validated: list[Any] = []
    try:
        validated = handler(items)
    except ValidationError as exc:
        errors = [cast(InitErrorDetails, error) for error in exc.errors()]
    if isinstance(items, list):
        for path, compared in keys:
            first_at: dict[str, int] = {}
            for index, item in enumerate(items):
                value: Any = item
                for part in path:
                    value = value.get(part) if isinstance(value, dict) else None
                if not isinstance(value, str) or not value:
                    continue
                seen = first_at.setdefault(compared(value), index)
                if seen != index:
                    message = PydanticCustomError(
                        "repeated",
                        "{value} is already used in {first}",
                        {"value": repr(value), "first": f"{name}[{seen}]"},
                    )
                    errors.append(InitErrorDetails(type=message, loc=(index, *path), input=value))
    if errors:
        raise ValidationError.from_exception_data("list", errors)
    return validated


def _no_repeats(what: str, values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} appears twice")
        seen.add(value)


class KeyringUnavailable(Exception):
    """The OS keyring would not keep a secret (there is none on this machine, or it is locked or refused)."""


def keyring_user(park_id: str) -> str:
    """Who the park's ukey belongs to in the OS keyring (under the service `booth-app`)."""
    return f"ukey:{park_id}"


def store_ukey(park_id: str, ukey: str) -> None:
    """Keep the park's Bolink ukey in the OS keyring, where `Settings.ukey()` finds it; raises KeyringUnavailable."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError as exc:  # pragma: no cover - keyring is a dependency; a frozen build may leave it out
        raise KeyringUnavailable("the keyring package is missing from this installation") from exc
    try:
        keyring.set_password(KEYRING_SERVICE, keyring_user(park_id), ukey)
    except (KeyringError, RuntimeError, OSError) as exc:
        raise KeyringUnavailable(str(exc) or type(exc).__name__) from exc


def _keyring_ukey(park_id: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency; a frozen build may leave its backends out
        return None
    try:
        secret = keyring.get_password(KEYRING_SERVICE, keyring_user(park_id))
    except (KeyringError, RuntimeError, OSError):
        return None
    return secret or None


# ---------------------------------------------------------------- loading and reporting


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    key: str  # "lanes[1].barrier.kind", or "" for the file as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class ConfigError(Exception):
    """A configuration file that cannot be used, with every problem found in it."""

    def __init__(self, path: Path | None, problems: list[ConfigProblem]) -> None:
        self.path = path
        self.problems = problems
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(str(problem) for problem in problems))


def load_settings(path: Path) -> Settings:
    """Read and validate a configuration file; raises ConfigError naming every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, [ConfigProblem("", "the configuration file does not exist")]) from None
    except UnicodeDecodeError:
        raise ConfigError(path, [ConfigProblem("", "the configuration file is not UTF-8 text")]) from None
    except OSError as exc:
        raise ConfigError(
            path, [ConfigProblem("", f"the configuration file cannot be read ({exc.strerror})")]
        ) from None
    return parse_settings(text, path)


def parse_settings(text: str, path: Path | None = None) -> Settings:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [ConfigProblem("", f"not valid TOML: {exc}")]) from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(path, [_problem(error) for error in exc.errors()]) from None


def _key_path(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part in BARRIER_KINDS:
            continue  # the union member pydantic tried: the key path does not have it
        elif part == "[key]":
            continue  # pydantic's mark for a table's key (ui.keys.<action>) rather than its value
        else:
            key += f".{part}" if key else part
    return key


def _choices(expected: Any) -> str:
    return str(expected).replace("'", "").replace(" or ", ", ")


def _problem(error: ErrorDetails) -> ConfigProblem:
    key = _key_path(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        return ConfigProblem(key, "unknown key (a typo?)")
    if kind == "missing":
        return ConfigProblem(key, "is required but missing")
    if kind == "literal_error":
        return ConfigProblem(key, f"must be one of {_choices(ctx.get('expected'))}")
    if kind == "union_tag_invalid":
        return ConfigProblem(
            f"{key}.{ctx.get('discriminator', '').strip(chr(39))}",
            f"must be one of {_choices(ctx.get('expected_tags'))}",
        )
    if kind == "union_tag_not_found":
        return ConfigProblem(f"{key}.kind", f"is required but missing ({', '.join(BARRIER_KINDS)})")
    if kind == "value_error":
        return ConfigProblem(key, str(ctx.get("error", error["msg"])))
    if kind == "string_pattern_mismatch" and key.endswith("url"):
        return ConfigProblem(key, "must be an http:// or https:// address")
    message = error["msg"]
    return ConfigProblem(key, message[0].lower() + message[1:] if message else kind)


# ---------------------------------------------------------------- where things live


def default_data_dir() -> Path:
    """Where the database and logs live: ProgramData on Windows (shared by every account on the booth PC, kept when the
    program folder is replaced by an upgrade), the user's data folder elsewhere."""
    if os.name == "nt":
        return Path(platformdirs.site_data_dir(APP_NAME, appauthor=False))
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_path(data_dir: Path) -> Path:
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    return Path(from_env) if from_env else data_dir / "booth.toml"


def database_url(settings: Settings, data_dir: Path) -> str:
    return settings.store.url or f"sqlite:///{(data_dir / 'booth.db').as_posix()}"
