"""Settings: precedence, falsy values that are real, config-file errors that point at a line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover.config import SETTINGS, Settings, resolve_settings
from cutover.errors import ConfigError
from cutover.profile import Profile
from cutover.redact import redact_text
from cutover.timeutil import iso, utc_now


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cutover.toml"
    path.write_text(text, encoding="utf-8")
    return path


def resolve(tmp_path: Path, options=None, env=None, text: str = "") -> Settings:
    """Resolve with an explicit environment and config file (empty unless `text` is given)."""
    return resolve_settings(options, env=env or {}, config_file=toml(tmp_path, text))


def test_defaults_without_anything(tmp_path: Path) -> None:
    settings = resolve(tmp_path)
    assert settings.db == "embedded"
    assert settings.scenario == "healthy-rollout"
    assert settings.evidence_dir == Path("evidence")
    assert settings.postgres_image == "postgres:16"
    assert settings.database_url is None
    assert settings.as_of is None
    assert settings.rollout_percent is None
    assert settings.live is False
    assert settings.profile == Profile()
    assert settings.origins["scenario"] == "default"
    assert "rollout_percent" not in settings.origins


def test_precedence_option_over_env_over_file_over_default(tmp_path: Path) -> None:
    text = '[cutover]\nscenario = "from-file"\nrlm_url = "http://file"\nrlm_logs = "file.log"\n'
    env = {"CUTOVER_SCENARIO": "from-env", "CUTOVER_RLM_URL": "http://env"}
    options = {"scenario": "from-option"}
    settings = resolve(tmp_path, options, env, text)
    assert settings.scenario == "from-option"
    assert settings.rlm_url == "http://env"
    assert settings.rlm_logs == Path("file.log")
    assert settings.db == "embedded"


def test_origins_name_where_each_value_came_from(tmp_path: Path) -> None:
    text = '[cutover]\n# comment\nrlm_url = "http://file"\nrlm_logs = "file.log"\n'
    settings = resolve(
        tmp_path,
        {"scenario": "opt"},
        {"CUTOVER_RLM_URL": "http://env"},
        text,
    )
    assert settings.origins["scenario"] == "option --scenario"
    assert settings.origins["rlm_url"] == "environment variable CUTOVER_RLM_URL"
    path = str(tmp_path / "cutover.toml")
    assert settings.origins["rlm_logs"] == f"{path}, line 4"
    assert settings.origins["db"] == "default"


def test_option_none_falls_through_to_env(tmp_path: Path) -> None:
    settings = resolve(tmp_path, {"scenario": None}, {"CUTOVER_SCENARIO": "env"})
    assert settings.scenario == "env"


@pytest.mark.parametrize("value", ["0", ""])
def test_falsy_option_does_not_fall_through(tmp_path: Path, value: str) -> None:
    settings = resolve(
        tmp_path,
        {"rollout_percent": value},
        {"CUTOVER_ROLLOUT_PERCENT": "50"},
        '[cutover]\nrollout_percent = "100"\n',
    )
    assert settings.rollout_percent == value
    assert settings.origins["rollout_percent"] == "option --rollout-percent"


def test_zero_from_env_does_not_fall_through(tmp_path: Path) -> None:
    settings = resolve(
        tmp_path,
        {},
        {"CUTOVER_ROLLOUT_PERCENT": "0"},
        '[cutover]\nrollout_percent = "100"\n',
    )
    assert settings.rollout_percent == "0"
    assert settings.origins["rollout_percent"] == "environment variable CUTOVER_ROLLOUT_PERCENT"


def test_an_empty_environment_variable_is_unset(tmp_path: Path) -> None:
    """CI secrets and variables that nobody defined arrive as empty strings."""
    env = {"CUTOVER_ROLLOUT_PERCENT": "", "CUTOVER_DATABASE_URL": "", "CUTOVER_RLM_URL": ""}
    settings = resolve(tmp_path, {}, env, '[cutover]\nrollout_percent = "100"\n')
    assert settings.rollout_percent == "100"
    assert settings.database_url is None and settings.live is False
    assert settings.rlm_url is None


def test_integer_in_file_is_kept_as_its_string(tmp_path: Path) -> None:
    settings = resolve(tmp_path, text="[cutover]\nrollout_percent = 0\n")
    assert settings.rollout_percent == "0"


def test_as_of_parsed_to_utc(tmp_path: Path) -> None:
    settings = resolve(tmp_path, {"as_of": "2026-02-02T09:00:00Z"})
    assert settings.as_of == datetime(2026, 2, 2, 9, tzinfo=UTC)


def test_database_url_means_live(tmp_path: Path) -> None:
    settings = resolve(tmp_path, env={"CUTOVER_DATABASE_URL": "postgresql://u@localhost/db"})
    assert settings.live is True
    assert settings.origins["database_url"] == "environment variable CUTOVER_DATABASE_URL"


def test_bad_db_choice_in_file_names_setting_file_and_line(tmp_path: Path) -> None:
    text = '[cutover]\nscenario = "x"\ndb = "podman"\n'
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, text=text)
    message = str(info.value)
    assert "db" in message and "'podman'" in message
    assert str(tmp_path / "cutover.toml") in message
    assert "line 3" in message
    assert "embedded, docker" in message


def test_bad_db_choice_from_option_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"option --db: db is 'podman'"):
        resolve(tmp_path, {"db": "podman"})


def test_bad_as_of_in_file_names_file_and_line(tmp_path: Path) -> None:
    # The message names the file and line; see the report: it does not name `as_of` itself.
    text = '[cutover]\nscenario = "x"\nas_of = "yesterday"\n'
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, text=text)
    message = str(info.value)
    assert str(tmp_path / "cutover.toml") in message
    assert "line 3" in message
    assert "'yesterday'" in message


def test_bad_as_of_from_env_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable CUTOVER_AS_OF"):
        resolve(tmp_path, env={"CUTOVER_AS_OF": "not-a-time"})


def test_unknown_cutover_key_names_setting_file_and_line(tmp_path: Path) -> None:
    text = '[cutover]\nscenario = "x"\n\nscenaro = "typo"\n'
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, text=text)
    message = str(info.value)
    assert "'scenaro'" in message
    assert str(tmp_path / "cutover.toml") in message
    assert "line 4" in message


def test_unknown_profile_key_names_setting_file_and_line(tmp_path: Path) -> None:
    text = "[profile]\nsuccess_rate_min_pct = 90\nsucess_rate = 1\n"
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, text=text)
    message = str(info.value)
    assert "'sucess_rate'" in message
    assert str(tmp_path / "cutover.toml") in message
    assert "line 3" in message


def test_mistyped_profile_key_names_setting_file_and_line(tmp_path: Path) -> None:
    text = '[cutover]\nscenario = "x"\n[profile]\nstuck_after_minutes = "two hours"\n'
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, text=text)
    message = str(info.value)
    assert "'stuck_after_minutes'" in message
    assert str(tmp_path / "cutover.toml") in message
    assert "line 4" in message
    assert "expected int" in message


def test_profile_table_overrides_defaults(tmp_path: Path) -> None:
    settings = resolve(tmp_path, text="[profile]\nsuccess_rate_min_pct = 90\n")
    assert settings.profile.success_rate_min_pct == 90.0
    assert settings.profile.stuck_after_minutes == Profile().stuck_after_minutes


def test_unknown_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown table"):
        resolve(tmp_path, text="[settings]\nscenario = 'x'\n")


def test_database_url_in_file_is_refused_as_secret(tmp_path: Path) -> None:
    text = '[cutover]\ndatabase_url = "postgresql://u:hunter2@localhost/db"\n'
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, text=text)
    message = str(info.value)
    assert "database_url is secret" in message
    assert "line 2" in message
    assert "CUTOVER_DATABASE_URL" in message
    assert "hunter2" not in message


def test_cutover_config_pointing_at_missing_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot be read"):
        resolve_settings({}, env={"CUTOVER_CONFIG": str(missing)})


def test_cutover_config_names_the_file_read(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text('[cutover]\nscenario = "named"\n', encoding="utf-8")
    settings = resolve_settings({}, env={"CUTOVER_CONFIG": str(path)})
    assert settings.scenario == "named"
    assert settings.origins["scenario"] == f"{path}, line 2"


def test_explicit_missing_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        resolve_settings({}, env={}, config_file=tmp_path / "missing.toml")


def test_invalid_toml_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve(tmp_path, text="[cutover\n")


def test_empty_path_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="evidence_dir is empty"):
        resolve(tmp_path, {"evidence_dir": ""})


def test_bad_as_of_in_file_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "cutover.toml"
    config.write_text('[cutover]\nas_of = "yesterday"\n')
    with pytest.raises(ConfigError, match=r"line 2: as_of: 'yesterday' is not an ISO 8601"):
        resolve_settings({}, env={}, config_file=config)


def test_secret_in_file_is_refused_even_when_overridden(tmp_path: Path) -> None:
    config = tmp_path / "cutover.toml"
    config.write_text('[cutover]\ndatabase_url = "postgresql://u:pw@h/db"\n')
    env = {"CUTOVER_DATABASE_URL": "postgresql://u@h/db"}
    with pytest.raises(ConfigError, match=r"line 2: database_url is secret"):
        resolve_settings({}, env=env, config_file=config)


def test_boolean_setting_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "cutover.toml"
    config.write_text("[cutover]\nrollout_percent = true\n")
    with pytest.raises(ConfigError, match=r"line 2: rollout_percent is True; expected a string"):
        resolve_settings({}, env={}, config_file=config)


def test_router_log_date_and_zone_for_text_exports(tmp_path: Path) -> None:
    env = {"CUTOVER_ROUTER_LOG_DATE": "2026-02-03", "CUTOVER_ROUTER_LOG_TZ": "Europe/Berlin"}
    settings = resolve_settings({}, env=env, config_file=toml(tmp_path, ""))
    assert str(settings.router_log_date) == "2026-02-03"
    assert str(settings.router_log_tz) == "Europe/Berlin"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CUTOVER_ROUTER_LOG_DATE", "03/02/2026", "expected YYYY-MM-DD"),
        ("CUTOVER_ROUTER_LOG_TZ", "Mars/Olympus", "expected an IANA time zone"),
    ],
)
def test_bad_router_log_date_or_zone_names_the_variable(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=rf"environment variable {variable}: .*{expected}"):
        resolve_settings({}, env={variable: value}, config_file=toml(tmp_path, ""))


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf", "+nan", "101", "-0.5"])
def test_a_profile_number_out_of_range_names_file_line_and_range(
    tmp_path: Path, literal: str
) -> None:
    text = f'[cutover]\nscenario = "x"\n\n[profile]\nsuccess_rate_min_pct = {literal}\n'
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, text=text)
    message = str(info.value)
    assert message.startswith(f"config file {tmp_path / 'cutover.toml'}, line 5: ")
    assert "'success_rate_min_pct'" in message
    assert "expected a finite number in [0, 100]" in message


def test_an_as_of_after_the_clock_is_a_usage_error(tmp_path: Path) -> None:
    """A year ahead made stage1.elapsed pass with '11607 h' (issue 11)."""
    ahead = iso(utc_now() + timedelta(days=365))
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, env={"CUTOVER_AS_OF": ahead})
    message = str(info.value)
    assert message.startswith("environment variable CUTOVER_AS_OF: as_of is ")
    assert "expected an instant that has passed" in message
    # within the clock-skew allowance it is taken as given
    near = iso(utc_now() + timedelta(minutes=2))
    assert resolve(tmp_path, env={"CUTOVER_AS_OF": near}).as_of is not None


@pytest.mark.parametrize(
    ("dsn", "said"),
    [
        ("reader:S3cretZ@127.0.0.1:5432/postgres", "has no scheme"),
        ("postgresql:/reader:S3cretZ@127.0.0.1/postgres", "has no scheme"),
        (" postgresql://reader:S3cretZ@127.0.0.1/postgres", "has white space around it"),
        ("postgresql://reader:S3cretZ@127.0.0.1/postgres\n", "has white space around it"),
        ("mysql://reader:S3cretZ@127.0.0.1/postgres", "has the scheme 'mysql'"),
        ("", "is empty"),
        ("   ", "is empty"),
    ],
)
def test_a_malformed_dsn_is_refused_without_its_password(
    tmp_path: Path, dsn: str, said: str
) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(tmp_path, {"database_url": dsn})  # an option: "" from the environment is unset
    message = str(info.value)
    assert message.startswith("option --db-url: database_url ")
    assert said in message
    assert "expected postgresql://user:password@host:port/dbname" in message
    assert "S3cretZ" not in message


@pytest.mark.parametrize("url", ["soulprint-landing.onrender.com", "ftp://x", "", "http://"])
def test_an_rlm_url_without_a_scheme_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"expected an http:// or https:// URL"):
        resolve(tmp_path, {"rlm_url": url})


def test_ledger_signing_settings_by_env_and_option(tmp_path: Path) -> None:
    env = {
        "CUTOVER_LEDGER_SSH_KEY": "/keys/ledger",
        "CUTOVER_LEDGER_ALLOWED_SIGNERS": "/keys/allowed_signers",
        "CUTOVER_LEDGER_HMAC_KEY": "hm4c-from-the-env",
    }
    settings = resolve(tmp_path, None, env)
    assert settings.ledger_ssh_key == Path("/keys/ledger")
    assert settings.ledger_allowed_signers == Path("/keys/allowed_signers")
    assert settings.ledger_hmac_key == "hm4c-from-the-env"
    assert settings.origins["ledger_hmac_key"] == "environment variable CUTOVER_LEDGER_HMAC_KEY"
    options = {"ledger_ssh_key": "/other/key", "ledger_hmac_key": "hm4c-from-the-option"}
    chosen = resolve(tmp_path, options, env)
    assert (chosen.ledger_ssh_key, chosen.ledger_hmac_key) == (
        Path("/other/key"),
        "hm4c-from-the-option",
    )
    assert {s.option for s in SETTINGS if s.name.startswith("ledger_")} == {
        "--ledger-ssh-key",
        "--ledger-allowed-signers",
        "--ledger-hmac-key",
    }


def test_the_hmac_key_is_a_secret_masked_by_value(tmp_path: Path) -> None:
    resolve(tmp_path, None, {"CUTOVER_LEDGER_HMAC_KEY": "0nly-the-release-manager"})
    assert redact_text("signed with 0nly-the-release-manager") == "signed with ***"
    with pytest.raises(ConfigError, match="ledger_hmac_key is secret"):
        resolve(tmp_path, text='[cutover]\nledger_hmac_key = "in-a-file"\n')


#: issue 13's contract: each platform setting's env variable, option, and whether it is secret
PLATFORM_CONTRACT = {
    "vercel_token": ("VERCEL_TOKEN", "--vercel-token", True),
    "vercel_project": ("CUTOVER_VERCEL_PROJECT", "--vercel-project", False),
    "vercel_team": ("CUTOVER_VERCEL_TEAM", "--vercel-team", False),
    "vercel_api_url": ("CUTOVER_VERCEL_API_URL", "--vercel-api-url", False),
    "render_api_key": ("RENDER_API_KEY", "--render-api-key", True),
    "render_service": ("CUTOVER_RENDER_SERVICE", "--render-service", False),
    "render_owner": ("CUTOVER_RENDER_OWNER", "--render-owner", False),
    "render_api_url": ("CUTOVER_RENDER_API_URL", "--render-api-url", False),
    "drain_store": ("CUTOVER_DRAIN_STORE", "--drain-store", False),
    "drain_secret": ("VERCEL_DRAIN_SECRET", "--drain-secret", True),
}


def test_the_platform_settings_keep_their_contract_names(tmp_path: Path) -> None:
    by_name = {s.name: (s.env, s.option, s.secret) for s in SETTINGS}
    assert {name: by_name.get(name) for name in PLATFORM_CONTRACT} == PLATFORM_CONTRACT
    defaults = resolve(tmp_path)
    assert defaults.vercel_api_url == "https://api.vercel.com"
    assert defaults.render_api_url == "https://api.render.com"
    assert defaults.vercel_team is None and defaults.drain_store is None
    env = {env: f"value-of-{name}" for name, (env, _, _) in PLATFORM_CONTRACT.items()}
    env["CUTOVER_VERCEL_API_URL"] = "https://vercel.test"
    env["CUTOVER_RENDER_API_URL"] = "https://render.test"
    settings = resolve(tmp_path, None, env)
    assert settings.vercel_token == "value-of-vercel_token"
    assert settings.render_owner == "value-of-render_owner"
    assert settings.drain_store == Path("value-of-drain_store")
    assert settings.render_api_url == "https://render.test"
    for name, (_, _, secret) in PLATFORM_CONTRACT.items():
        if secret:
            assert redact_text(f"token value-of-{name}") == "token ***", name
    chosen = resolve(tmp_path, {"render_service": "srv-option"}, env)
    assert chosen.render_service == "srv-option"
