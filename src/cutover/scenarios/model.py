"""The scenario file format, parsed and validated into frozen dataclasses.

Times in a scenario are offsets from `t0`, the instant stage 1 starts (e.g. "-48h", "26h", "3d").
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError
from cutover.paths import scenarios_dir
from cutover.timeutil import parse_duration, parse_instant

DEFAULT_ERRORS = ("Pipeline failed: ValueError: Unsupported export format",)


@dataclass(frozen=True, slots=True)
class Traffic:
    """A span of routed import requests; v2 ones become user_profiles rows."""

    start: timedelta
    end: timedelta
    requests_per_hour: float
    v2_share_pct: float | None = None  # None: the rollout percent of the stage in force
    failure_pct: float = 0.0
    errors: tuple[str, ...] = DEFAULT_ERRORS
    duration_minutes: float = 4.0  # median of a log-normal distribution
    duration_sigma: float = 0.5
    stuck_pct: float = 0.0
    direct_v1_per_hour: float = 0.0  # calls to /process-full that bypass the router
    deployed_percent: int | None = None  # what the running router uses, if not the stage's


DEFAULT_SUNSET = "Sat, 01 Mar 2026 00:00:00 GMT"


@dataclass(frozen=True, slots=True)
class Rlm:
    health: str = "ok"  # ok | healthy | unavailable (503) | processors-false
    sunset: str | None = DEFAULT_SUNSET  # None: header absent
    deprecation: bool = True
    link: bool = True
    v1_removed: bool = False


@dataclass(frozen=True, slots=True)
class Database:
    missing_columns: tuple[str, ...] = ()
    status_check: bool = True
    grant_select: bool = True
    background_users: int = 200  # rows never touched by v2: status 'pending', NULL timestamps


@dataclass(frozen=True, slots=True)
class StageEvent:
    stage: int
    at: timedelta


@dataclass(frozen=True, slots=True)
class RollbackEvent:
    at: timedelta
    reason: str


@dataclass(frozen=True, slots=True)
class Attestation:
    """Import-failure complaints counted by a person over since..at."""

    at: timedelta
    since: timedelta
    count: int
    by: str


@dataclass(frozen=True, slots=True)
class Metrics:
    """The RLM's memory and CPU series (one instance), sampled every `every`."""

    memory_mb: float = 320.0
    memory_leak_mb_per_hour: float = 0.0
    memory_noise_mb: float = 6.0
    cpu_percent: float = 18.0
    cpu_growth_per_hour: float = 0.0
    cpu_noise: float = 3.0
    every: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RlmEvent:
    """Something the RLM logs: oom | crash | processors-unavailable | error."""

    at: timedelta
    kind: str
    message: str = ""


INVARIANTS = (
    "complete_without_completed_at",
    "completed_before_started",
    "complete_without_memory_md",
    "failed_without_error",
    "processing_without_started_at",
    "status_not_allowed",
    "started_in_future",
)


@dataclass(frozen=True, slots=True)
class CorruptRow:
    """A row that breaks one integrity invariant (sql/integrity.sql), started at `at`."""

    invariant: str
    at: timedelta


@dataclass(frozen=True, slots=True)
class Logs:
    router_format: str = "pino"  # pino | drain | vercel-json
    until: timedelta | None = None  # exports end here (default: the instant measured)
    since: timedelta | None = None  # exports start here (default: the first traffic)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    t0: datetime
    as_of: timedelta
    seed: int
    rollout_percent: str | None
    rlm: Rlm
    database: Database
    stages: tuple[StageEvent, ...]
    traffic: tuple[Traffic, ...]
    path: Path
    rollbacks: tuple[RollbackEvent, ...] = ()
    attestations: tuple[Attestation, ...] = ()
    metrics: Metrics = field(default_factory=Metrics)
    rlm_events: tuple[RlmEvent, ...] = ()
    logs: Logs = field(default_factory=Logs)
    corrupt_rows: tuple[CorruptRow, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def at(self, offset: timedelta) -> datetime:
        return self.t0 + offset

    @property
    def default_as_of(self) -> datetime:
        return self.t0 + self.as_of


def available_scenarios(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or scenarios_dir()).glob("*.toml"))


def load_scenario(name: str, directory: Path | None = None) -> Scenario:
    """Load fixtures/scenarios/<name>.toml; errors name the file, the key and what was expected."""
    path = (directory or scenarios_dir()) / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(available_scenarios(directory)) or "none"
        raise ConfigError(
            f"scenario {name!r} (CUTOVER_SCENARIO / --scenario): no file {path}; known: {known}"
        )
    data = _load_with_base(path, directory, seen=(name,))
    reader = _Reader(path, data)
    return Scenario(
        name=name,
        description=reader.string("description", ""),
        t0=reader.instant("t0"),
        as_of=reader.offset("as_of", "1h"),
        seed=reader.integer("seed", 1),
        rollout_percent=reader.optional_string("vercel.rollout_percent"),
        rlm=Rlm(
            health=reader.choice(
                "rlm.health", "ok", ("ok", "healthy", "unavailable", "processors-false")
            ),
            sunset=reader.optional_string("rlm.sunset", DEFAULT_SUNSET),
            deprecation=reader.boolean("rlm.deprecation", True),
            link=reader.boolean("rlm.link", True),
            v1_removed=reader.boolean("rlm.v1_removed", False),
        ),
        database=Database(
            missing_columns=tuple(reader.strings("database.missing_columns")),
            status_check=reader.boolean("database.status_check", True),
            grant_select=reader.boolean("database.grant_select", True),
            background_users=reader.integer("database.background_users", 200),
        ),
        stages=tuple(
            StageEvent(stage=r.integer("stage", 0), at=r.offset("at", "0h"))
            for r in reader.tables("stage")
        ),
        traffic=tuple(_traffic(r) for r in reader.tables("traffic")),
        path=path,
        rollbacks=tuple(
            RollbackEvent(at=r.offset("at", None), reason=r.string("reason", "rollback"))
            for r in reader.tables("rollback")
        ),
        attestations=tuple(
            Attestation(
                at=r.offset("at", None),
                since=r.offset("since", None),
                count=r.integer("count", 0),
                by=r.string("by", "on-call"),
            )
            for r in reader.tables("attestation")
        ),
        metrics=Metrics(
            memory_mb=reader.number("metrics.memory_mb", 320.0),
            memory_leak_mb_per_hour=reader.number("metrics.memory_leak_mb_per_hour", 0.0),
            memory_noise_mb=reader.number("metrics.memory_noise_mb", 6.0),
            cpu_percent=reader.number("metrics.cpu_percent", 18.0),
            cpu_growth_per_hour=reader.number("metrics.cpu_growth_per_hour", 0.0),
            cpu_noise=reader.number("metrics.cpu_noise", 3.0),
            every=reader.offset("metrics.every", "5m"),
        ),
        rlm_events=tuple(
            RlmEvent(
                at=r.offset("at", None),
                kind=r.choice("kind", "error", ("oom", "crash", "processors-unavailable", "error")),
                message=r.string("message", ""),
            )
            for r in reader.tables("rlm_event")
        ),
        corrupt_rows=tuple(
            CorruptRow(r.choice("invariant", INVARIANTS[0], INVARIANTS), r.offset("at", "0h"))
            for r in reader.tables("corrupt_row")
        ),
        logs=Logs(
            router_format=reader.choice(
                "logs.router_format", "pino", ("pino", "drain", "vercel-json")
            ),
            until=reader.optional_offset("logs.until"),
            since=reader.optional_offset("logs.since"),
        ),
    )


def _load_with_base(path: Path, directory: Path | None, seen: tuple[str, ...]) -> dict[str, Any]:
    """Read a scenario; `extends = "other"` starts from that one (tables merge, arrays replace)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"scenario file {path}: not valid TOML: {exc}") from None
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if not isinstance(base_name, str) or base_name in seen:
        raise ConfigError(
            f"scenario file {path}: extends is {base_name!r}; expected another scenario's name"
        )
    base_path = path.parent / f"{base_name}.toml"
    if not base_path.is_file():
        raise ConfigError(
            f"scenario file {path}: extends {base_name!r}, but {base_path} is missing"
        )
    return _merge(_load_with_base(base_path, directory, (*seen, base_name)), data)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _traffic(r: _Reader) -> Traffic:
    share = r.optional_number("v2_share_pct")
    return Traffic(
        start=r.offset("from", None),
        end=r.offset("to", None),
        requests_per_hour=r.number("requests_per_hour", None),
        v2_share_pct=share,
        failure_pct=r.number("failure_pct", 0.0),
        errors=tuple(r.strings("errors")) or DEFAULT_ERRORS,
        duration_minutes=r.number("duration_minutes", 4.0),
        duration_sigma=r.number("duration_sigma", 0.5),
        stuck_pct=r.number("stuck_pct", 0.0),
        direct_v1_per_hour=r.number("direct_v1_per_hour", 0.0),
        deployed_percent=None
        if r.optional_number("deployed_percent") is None
        else int(r.number("deployed_percent", None)),
    )


class _Reader:
    """Typed access to a TOML table with errors that name the file and the dotted key."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path = path
        self.data = data
        self.prefix = prefix

    def _get(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def _error(self, key: str, value: Any, expected: str) -> ConfigError:
        return ConfigError(
            f"scenario file {self.path}: {self.prefix}{key} is {value!r}; expected {expected}"
        )

    def _typed(self, key: str, default: Any, fits: Callable[[Any], bool], expected: str) -> Any:
        """The value at `key` (`default` when absent) if `fits` accepts it, else an error."""
        value = self._get(key)
        if value is None:
            return default
        if not fits(value):
            raise self._error(key, value, expected)
        return value

    def string(self, key: str, default: str) -> str:
        return str(self._typed(key, default, _is_str, "a string"))

    def optional_string(self, key: str, default: str | None = None) -> str | None:
        if self._get(key) is False:
            return None
        value = self._typed(key, default, _is_str, "a string (or false for absent)")
        return None if value is None else str(value)

    def strings(self, key: str) -> list[str]:
        value = self._typed(key, [], _is_str_list, "a list of strings")
        return list(value)

    def integer(self, key: str, default: int) -> int:
        return int(self._typed(key, default, _is_int, "a whole number"))

    def number(self, key: str, default: float | None) -> float:
        if self._get(key) is None and default is None:
            raise self._error(key, None, "a number (required)")
        return float(self._typed(key, default, _is_number, "a number"))

    def optional_number(self, key: str) -> float | None:
        return None if self._get(key) is None else self.number(key, None)

    def boolean(self, key: str, default: bool) -> bool:
        return bool(self._typed(key, default, _is_bool, "true or false"))

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self._error(key, value, f"one of {', '.join(choices)}")
        return value

    def instant(self, key: str) -> datetime:
        value = self._get(key)
        if isinstance(value, datetime):
            return parse_instant(value.isoformat(), what=key)
        if not isinstance(value, str):
            raise self._error(key, value, "an ISO 8601 instant such as 2026-02-02T09:00:00Z")
        try:
            return parse_instant(value, what=key)
        except ValueError:
            raise self._error(key, value, "an ISO 8601 instant") from None

    def offset(self, key: str, default: str | None) -> timedelta:
        value = self._get(key)
        if value is None:
            if default is None:
                raise self._error(key, value, "an offset from t0 such as '-48h' or '3d' (required)")
            value = default
        if not isinstance(value, str):
            raise self._error(key, value, "an offset from t0 such as '-48h' or '3d'")
        try:
            return parse_duration(value)
        except ValueError:
            raise self._error(key, value, "an offset from t0 such as '-48h' or '3d'") from None

    def optional_offset(self, key: str) -> timedelta | None:
        return None if self._get(key) is None else self.offset(key, None)

    def tables(self, key: str) -> list[_Reader]:
        value = self._get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self._error(key, value, "an array of tables ([[...]])")
        return [_Reader(self.path, v, f"{key}[{i}].") for i, v in enumerate(value)]


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)
