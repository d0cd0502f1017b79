"""Settings, resolved once into a frozen dataclass.

Order: explicit argument (command-line option), then environment variable, then `cutover.toml`,
then default. Values are compared with `is None`, never with `or`: `0` and `""` are real values,
except that an environment variable set to `""` is unset (CI passes undefined secrets so).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cutover.errors import ConfigError
from cutover.profile import Profile, profile_from_mapping
from cutover.redact import dsn_secrets, redact_text, register_secret, register_secrets
from cutover.timeutil import iso, parse_instant, utc_now


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting of the contract: its name in cutover.toml, its env variable and its option."""

    name: str
    env: str
    option: str
    help: str
    secret: bool = False
    choices: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "CUTOVER_DATABASE_URL",
        "--db-url",
        "Postgres holding user_profiles (unset: embedded Postgres seeded with a scenario)",
        secret=True,
    ),
    Setting(
        "db",
        "CUTOVER_DB",
        "--db",
        "where a seeded database runs when no --db-url is given",
        choices=("embedded", "docker"),
    ),
    Setting("scenario", "CUTOVER_SCENARIO", "--scenario", "seeded scenario name"),
    Setting("as_of", "CUTOVER_AS_OF", "--as-of", "the instant measured (ISO 8601, UTC)"),
    Setting("evidence_dir", "CUTOVER_EVIDENCE_DIR", "--evidence-dir", "ledger and evidence files"),
    Setting("rlm_url", "CUTOVER_RLM_URL", "--rlm-url", "production RLM base URL"),
    Setting(
        "rlm_local_url",
        "CUTOVER_RLM_LOCAL_URL",
        "--rlm-local-url",
        "local RLM for the deprecation-header probe",
    ),
    Setting("router_logs", "CUTOVER_ROUTER_LOGS", "--router-logs", "exported router (Vercel) logs"),
    Setting(
        "router_log_date",
        "CUTOVER_ROUTER_LOG_DATE",
        "--router-log-date",
        "the date of a `vercel logs` text export (its lines carry no year), YYYY-MM-DD",
    ),
    Setting(
        "router_log_tz",
        "CUTOVER_ROUTER_LOG_TZ",
        "--router-log-tz",
        "the time zone of a `vercel logs` text export, e.g. Europe/Berlin or UTC",
    ),
    Setting("rlm_logs", "CUTOVER_RLM_LOGS", "--rlm-logs", "exported RLM (Render) logs"),
    Setting("rlm_metrics", "CUTOVER_RLM_METRICS", "--rlm-metrics", "RLM memory/CPU series (CSV)"),
    Setting(
        "rollout_percent",
        "CUTOVER_ROLLOUT_PERCENT",
        "--rollout-percent",
        "the configured V2_ROLLOUT_PERCENT, as the raw string Vercel holds",
    ),
    Setting(
        "vercel_env_file",
        "CUTOVER_VERCEL_ENV_FILE",
        "--vercel-env-file",
        "a `vercel env pull` file holding V2_ROLLOUT_PERCENT",
    ),
    Setting(
        "postgres_image", "CUTOVER_POSTGRES_IMAGE", "--postgres-image", "image for --db=docker"
    ),
    # the platforms, read by the suite itself (cutover.sources.platform)
    Setting("vercel_token", "VERCEL_TOKEN", "--vercel-token", "Vercel API token", secret=True),
    Setting("vercel_project", "CUTOVER_VERCEL_PROJECT", "--vercel-project", "router's project"),
    Setting("vercel_team", "CUTOVER_VERCEL_TEAM", "--vercel-team", "Vercel team id, if any"),
    Setting("vercel_api_url", "CUTOVER_VERCEL_API_URL", "--vercel-api-url", "Vercel API URL"),
    Setting("render_api_key", "RENDER_API_KEY", "--render-api-key", "Render API key", secret=True),
    Setting("render_service", "CUTOVER_RENDER_SERVICE", "--render-service", "RLM's srv- id"),
    Setting("render_owner", "CUTOVER_RENDER_OWNER", "--render-owner", "Render workspace id"),
    Setting("render_api_url", "CUTOVER_RENDER_API_URL", "--render-api-url", "Render API URL"),
    Setting("drain_store", "CUTOVER_DRAIN_STORE", "--drain-store", "log-drain receiver's folder"),
    Setting(
        "drain_secret", "VERCEL_DRAIN_SECRET", "--drain-secret", "log drain secret", secret=True
    ),
    Setting(
        "ledger_ssh_key",
        "CUTOVER_LEDGER_SSH_KEY",
        "--ledger-ssh-key",
        "an SSH private key that signs each new ledger head (ssh-keygen -Y sign)",
    ),
    Setting(
        "ledger_allowed_signers",
        "CUTOVER_LEDGER_ALLOWED_SIGNERS",
        "--ledger-allowed-signers",
        "an ssh-keygen allowed-signers file: `cutover verify` checks the head's SSH signature",
    ),
    Setting(
        "ledger_hmac_key",
        "CUTOVER_LEDGER_HMAC_KEY",
        "--ledger-hmac-key",
        "a key that signs each new ledger head with HMAC-SHA256 (and checks it in verify)",
        secret=True,
    ),
)

#: the settings each platform source needs, all of them or none
PLATFORMS: dict[str, tuple[str, ...]] = {
    "Render": ("render_api_key", "render_service", "render_owner"),
    "Vercel": ("vercel_token", "vercel_project"),
}

DEFAULTS: dict[str, str] = {
    "db": "embedded",
    "scenario": "healthy-rollout",
    "evidence_dir": "evidence",
    "postgres_image": "postgres:16",
    "vercel_api_url": "https://api.vercel.com",
    "render_api_url": "https://api.render.com",
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of a run, resolved once."""

    database_url: str | None = None
    db: str = "embedded"
    scenario: str = "healthy-rollout"
    as_of: datetime | None = None
    evidence_dir: Path = Path("evidence")
    rlm_url: str | None = None
    rlm_local_url: str | None = None
    router_logs: Path | None = None
    router_log_date: date | None = None
    router_log_tz: tzinfo | None = None
    rlm_logs: Path | None = None
    rlm_metrics: Path | None = None
    rollout_percent: str | None = None
    vercel_env_file: Path | None = None
    postgres_image: str = "postgres:16"
    vercel_token: str | None = None
    vercel_project: str | None = None
    vercel_team: str | None = None
    vercel_api_url: str = "https://api.vercel.com"
    render_api_key: str | None = None
    render_service: str | None = None
    render_owner: str | None = None
    render_api_url: str = "https://api.render.com"
    drain_store: Path | None = None
    drain_secret: str | None = None
    ledger_ssh_key: Path | None = None
    ledger_allowed_signers: Path | None = None
    ledger_hmac_key: str | None = None
    profile: Profile = field(default_factory=Profile)
    origins: Mapping[str, str] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        """A database URL means a live target: read-only, nothing seeded."""
        return self.database_url is not None

    @property
    def render(self) -> bool:
        """Whether the RLM's logs, metrics and events are read from Render's API."""
        return self.render_api_key is not None

    @property
    def vercel(self) -> bool:
        """Whether the rollout percent and deployments are read from Vercel's API."""
        return self.vercel_token is not None


_PATHS = {
    "evidence_dir",
    "router_logs",
    "rlm_logs",
    "rlm_metrics",
    "vercel_env_file",
    "drain_store",
    "ledger_ssh_key",
    "ledger_allowed_signers",
}


def resolve_settings(
    options: Mapping[str, str | None] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    criteria: Collection[str] | None = None,
) -> Settings:
    """Resolve every setting: option, then environment, then cutover.toml, then default.
    `criteria`: the criterion ids the profile's `advisory` may name (None: not checked)."""
    options = options or {}
    env = os.environ if env is None else env
    file_values, profile_table, file_origin, file_text = _read_config_file(config_file, env)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    register_secret(env.get("PGPASSWORD"))
    for setting in SETTINGS:
        raw, origin = _first_set(setting, options, env, file_values, file_origin, file_text)
        if raw is None:
            continue
        if setting.secret:
            # before anything can print it: a malformed value's error message included
            register_secrets([raw, *dsn_secrets(raw)])
        values[setting.name] = _convert(setting, raw, origin)
        origins[setting.name] = origin
    profile = (
        profile_from_mapping(
            profile_table,
            origin=lambda key: f"config file {file_origin}, line {_line_of(file_text, key)}",
            criteria=criteria,
        )
        if profile_table
        else Profile()
    )
    _check_not_ahead(values.get("as_of"), origins.get("as_of", ""), profile)
    _check_platforms(values, origins)
    return Settings(**values, profile=profile, origins=origins)


def _check_not_ahead(as_of: datetime | None, origin: str, profile: Profile) -> None:
    """An instant after now cannot have been measured: a stage would 'elapse' that never ran."""
    if as_of is None:
        return
    allowance = timedelta(minutes=profile.clock_skew_minutes)
    now = utc_now()
    if as_of > now + allowance:
        raise ConfigError(
            f"{origin}: as_of is {iso(as_of)}, after the clock's {iso(now)} (allowance "
            f"{profile.clock_skew_minutes:g} min); expected an instant that has passed"
        )


def _check_platforms(values: Mapping[str, Any], origins: Mapping[str, str]) -> None:
    """A platform source with some of its settings but not all is a usage error naming them."""
    by_name = {s.name: s for s in SETTINGS}
    for platform, names in PLATFORMS.items():
        given = [n for n in names if n in values]
        missing = [by_name[n].env for n in names if n not in values]
        if given and missing:
            first = given[0]
            raise ConfigError(
                f"{origins[first]}: {by_name[first].env} is set but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not; the {platform} source needs "
                f"{', '.join(by_name[n].env for n in names)} (or none of them)"
            )


def _first_set(
    setting: Setting,
    options: Mapping[str, str | None],
    env: Mapping[str, str],
    file_values: Mapping[str, Any],
    file_origin: str,
    file_text: str,
) -> tuple[str | None, str]:
    option_value = options.get(setting.name)
    if option_value is not None:
        return option_value, f"option {setting.option}"
    # CI secrets and variables arrive as "" when nobody defined them: empty is unset there
    if env.get(setting.env, "") != "":
        return env[setting.env], f"environment variable {setting.env}"
    if setting.name in file_values:
        value = file_values[setting.name]
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ConfigError(
                f"{file_origin}, line {_line_of(file_text, setting.name)}: {setting.name} is "
                f"{value!r}; expected a string ({setting.help})"
            )
        return str(value), f"{file_origin}, line {_line_of(file_text, setting.name)}"
    if setting.name in DEFAULTS:
        return DEFAULTS[setting.name], "default"
    return None, "default"


def _convert(setting: Setting, raw: str, origin: str) -> Any:
    if setting.choices and raw not in setting.choices:
        raise ConfigError(
            f"{origin}: {setting.name} is {raw!r}; expected one of {', '.join(setting.choices)}"
        )
    if setting.name == "as_of":
        try:
            return parse_instant(raw, what=f"{origin}: {setting.name}")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if setting.name == "router_log_date":
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise ConfigError(f"{origin}: {setting.name} is {raw!r}; expected YYYY-MM-DD") from None
    if setting.name == "router_log_tz":
        try:
            return ZoneInfo(raw.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{origin}: {setting.name} is {raw!r}; expected an IANA time zone such as UTC"
            ) from None
    if setting.name in _PATHS:
        if raw.strip() == "":
            raise ConfigError(f"{origin}: {setting.name} is empty; expected a file or folder path")
        return Path(raw)
    if setting.name == "database_url":
        _check_dsn(raw, origin)
    if setting.name in _URLS:
        _check_http_url(setting, raw, origin)
    return raw


_URLS = {"rlm_url", "rlm_local_url", "vercel_api_url", "render_api_url"}
_DSN_SCHEMES = ("postgresql", "postgres")
_DSN_EXPECTED = (
    "expected postgresql://user:password@host:port/dbname (or a key=value conninfo string)"
)


def _check_dsn(raw: str, origin: str) -> None:
    """A DSN psycopg would misread, or that would print its password in an error, is refused
    here; the message shows it masked."""
    shown = redact_text(raw)
    if not raw.strip():
        raise ConfigError(f"{origin}: database_url is empty; {_DSN_EXPECTED}")
    if raw != raw.strip():
        raise ConfigError(
            f"{origin}: database_url {shown!r} has white space around it; {_DSN_EXPECTED}"
        )
    if "://" not in raw:
        if "=" in raw and "@" not in raw.split("=", 1)[0]:
            return  # key=value conninfo: psycopg reads it, and says what is wrong with it
        raise ConfigError(f"{origin}: database_url {shown!r} has no scheme; {_DSN_EXPECTED}")
    scheme = raw.split("://", 1)[0].lower()
    if scheme not in _DSN_SCHEMES:
        raise ConfigError(
            f"{origin}: database_url {shown!r} has the scheme {scheme!r}; {_DSN_EXPECTED}"
        )


def _check_http_url(setting: Setting, raw: str, origin: str) -> None:
    shown = redact_text(raw)
    parts = urlsplit(raw.strip()) if raw.strip() == raw else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{origin}: {setting.name} is {shown!r}; expected an http:// or https:// URL "
            "such as https://soulprint-landing.onrender.com"
        )


def _read_config_file(
    config_file: Path | None, env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """The `[cutover]` (settings) and `[profile]` tables of cutover.toml, if there is one."""
    if config_file is None:
        named = env.get("CUTOVER_CONFIG")
        config_file = Path(named) if named is not None else Path("cutover.toml")
        if named is None and not config_file.exists():
            return {}, {}, "", ""
    origin = str(config_file)
    try:
        text = config_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {origin}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {origin}: not valid TOML: {exc}") from None
    unknown = set(data) - {"cutover", "profile"}
    if unknown:
        raise ConfigError(
            f"config file {origin}: unknown table(s) {sorted(unknown)}; "
            "expected [cutover] for settings and [profile] for thresholds"
        )
    settings_table = data.get("cutover", {})
    for setting in SETTINGS:
        if setting.secret and setting.name in settings_table:
            raise ConfigError(
                f"config file {origin}, line {_line_of(text, setting.name)}: {setting.name} is "
                f"secret and may not be kept in a config file; set {setting.env} instead"
            )
    known = {s.name for s in SETTINGS}
    for key in settings_table:
        if key not in known:
            line = _line_of(text, key)
            raise ConfigError(
                f"config file {origin}, line {line}: unknown setting {key!r} in [cutover]; "
                f"known settings: {', '.join(sorted(known))}"
            )
    return dict(settings_table), dict(data.get("profile", {})), origin, text


def _line_of(text: str, key: str) -> int:
    """The line on which `key =` is written (tomllib keeps no positions)."""
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.split("=", 1)[0].strip().strip('"')
        if "=" in line and name == key:
            return number
    return 0
