"""UTC instants and durations; the profile's defaults are the runbook's numbers."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cutover import gate
from cutover.criteria.registry import Context
from cutover.errors import ConfigError
from cutover.measure.rollback import RecentRates
from cutover.measure.stage import DurationSlices
from cutover.outcome import Outcome, Window
from cutover.profile import LIMITS, Profile, profile_from_mapping, value_problem
from cutover.sources.imports import Durations, SuccessCounts
from cutover.timeutil import as_utc, iso, parse_duration, parse_instant


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T12:00:00",
        "2026-03-01T12:00:00Z",
        "2026-03-01T12:00:00z",
        "2026-03-01T12:00:00+00:00",
        "2026-03-01T13:00:00+01:00",
        "2026-03-01 12:00:00",
        "  2026-03-01T12:00:00Z  ",
    ],
)
def test_parse_instant_forms_are_the_same_utc_instant(text: str) -> None:
    parsed = parse_instant(text)
    assert parsed == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


def test_naive_instant_is_utc_not_local() -> None:
    parsed = parse_instant("2026-03-01T12:00:00")
    assert parsed.tzinfo is not None
    assert parsed.hour == 12


def test_bad_instant_names_what_and_the_value() -> None:
    with pytest.raises(ValueError, match=r"--as-of: 'yesterday' is not an ISO 8601 instant"):
        parse_instant("yesterday", what="--as-of")


def test_as_utc_converts_aware_and_labels_naive() -> None:
    plus_two = datetime(2026, 3, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    assert as_utc(plus_two) == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert as_utc(plus_two).tzinfo is UTC
    assert as_utc(datetime(2026, 3, 1, 12)) == datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("90m", timedelta(minutes=90)),
        ("15min", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("1.5h", timedelta(minutes=90)),
        ("7d", timedelta(days=7)),
        ("-2d", timedelta(days=-2)),
        (" 6 h ", timedelta(hours=6)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "1w", "one hour", "1h30m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_iso_is_utc_with_z_to_the_second() -> None:
    moment = datetime(2026, 3, 1, 13, 0, 5, 999_999, tzinfo=timezone(timedelta(hours=1)))
    assert iso(moment) == "2026-03-01T12:00:05Z"
    assert iso(datetime(2026, 3, 1, 12)) == "2026-03-01T12:00:00Z"
    assert iso(None) == ""


def test_iso_roundtrips_through_parse_instant() -> None:
    moment = datetime(2026, 2, 2, 9, 30, tzinfo=UTC)
    assert parse_instant(iso(moment)) == moment


def test_profile_defaults_are_the_runbooks_numbers() -> None:
    profile = Profile()
    assert profile.success_rate_min_pct == 95.0
    assert profile.stuck_after_minutes == 120
    assert [(s.number, s.percent) for s in profile.stages] == [(1, 10), (2, 50), (3, 100), (4, 100)]
    assert [s.duration for s in profile.stages] == [
        timedelta(hours=24),
        timedelta(hours=48),
        timedelta(days=7),
        timedelta(days=7),
    ]
    hours = [[c / timedelta(hours=1) for c in s.checkpoints] for s in profile.stages]
    assert hours[0] == [1, 6, 24]
    assert hours[1] == [12, 24, 36, 48]
    assert hours[2] == [24 * d for d in range(1, 8)]
    assert hours[3] == [24 * d for d in range(1, 8)]
    for plan in profile.stages:
        assert plan.checkpoints[-1] == plan.duration
    assert profile.sunset == "Sat, 01 Mar 2026 00:00:00 GMT"
    assert profile.rlm_health_statuses == ("healthy", "ok")


def test_profile_stage_lookup() -> None:
    assert Profile().stage(2).percent == 50
    with pytest.raises(KeyError, match="no stage 5"):
        Profile().stage(5)


def test_profile_from_mapping_overrides_and_coerces() -> None:
    profile = profile_from_mapping(
        {
            "success_rate_min_pct": 90,
            "stuck_after_minutes": 90,
            "systemic_error_patterns": ["quota"],
            "success_rate_basis": "query1",
        }
    )
    assert profile.success_rate_min_pct == 90.0
    assert isinstance(profile.success_rate_min_pct, float)
    assert profile.stuck_after_minutes == 90
    assert profile.systemic_error_patterns == ("quota",)
    assert profile.success_rate_basis == "query1"
    assert profile.min_settled_imports == Profile().min_settled_imports
    assert profile_from_mapping({}) == Profile()


def test_profile_from_mapping_unknown_key() -> None:
    with pytest.raises(ConfigError, match=r"here: unknown profile setting 'stages'"):
        profile_from_mapping({"stages": []}, origin=lambda key: "here")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("stuck_after_minutes", "120", "int"),
        ("stuck_after_minutes", 1.5, "int"),
        ("stuck_after_minutes", True, "int"),
        ("success_rate_min_pct", "95", "float"),
        ("success_rate_min_pct", True, "float"),
        ("systemic_error_patterns", "timeout", "tuple"),
        ("systemic_error_patterns", ["timeout", 3], "tuple"),
        ("sunset", 2026, "str"),
    ],
)
def test_profile_from_mapping_wrong_type(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        profile_from_mapping({key: value}, origin=lambda k: f"file x, line for {k}")
    message = str(info.value)
    assert f"file x, line for {key}" in message
    assert f"{key!r}" in message
    assert f"expected {expected}" in message


def test_profile_from_mapping_bad_basis() -> None:
    with pytest.raises(ConfigError, match="expected 'settled' or 'query1'"):
        profile_from_mapping({"success_rate_basis": "mean"})


def test_every_number_of_the_profile_has_a_limit_and_its_default_fits() -> None:
    for f in dataclasses.fields(Profile):
        default = getattr(Profile(), f.name)
        if isinstance(default, int | float) and not isinstance(default, bool):
            assert f.name in LIMITS, f"{f.name} has no limit"
        if f.name != "stages":
            assert value_problem(f.name, default) == "", f.name


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("success_rate_min_pct", math.nan, "a finite number in (0, 100)"),
        ("success_rate_min_pct", math.inf, "a finite number in (0, 100)"),
        ("success_rate_min_pct", 100.5, "a finite number in (0, 100)"),
        ("success_rate_min_pct", -1, "a finite number in (0, 100)"),
        ("error_rate_max_pct", -math.inf, "a finite number in (0, 100)"),
        ("split_alpha", 0, "a finite number in (0, 1)"),
        ("split_alpha", 1.0, "a finite number in (0, 1)"),
        ("trend_alpha", math.nan, "a finite number in (0, 1)"),
        ("min_settled_imports", 0, "a finite number in [1, inf)"),
        ("http_timeout_seconds", 0, "a finite number in (0, inf)"),
        ("http_timeout_seconds", math.inf, "a finite number in (0, inf)"),
        ("statement_timeout_ms", -5, "a finite number in [1, inf)"),
        ("min_trend_points", 2, "a finite number in [3, inf)"),
        ("success_rate_basis", "mean", "'settled' or 'query1'"),
        ("systemic_error_patterns", ["timeout", " "], "a list of non-empty strings"),
        ("rlm_health_statuses", [], "a list with at least one entry"),
        ("sunset", "next March", "an HTTP date"),
    ],
)
def test_profile_values_out_of_range_are_refused(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        profile_from_mapping({key: value}, origin=lambda k: f"cutover.toml, line 7 ({k})")
    message = str(info.value)
    assert message.startswith(f"cutover.toml, line 7 ({key}): profile setting {key!r} is ")
    assert f"expected {expected}" in message


NOW = datetime(2026, 3, 3, 9, tzinfo=UTC)
DAY = Window(NOW - timedelta(hours=24), NOW)


# -- review 12, F6: LIMITS admit percents for which the power-derived minimums raise


def _rates() -> RecentRates:
    counts = SuccessCounts(DAY, 500, 490, 10, 0, 0, 98.0, "sha")
    return RecentRates(counts, counts, "stage 1")


def _durations() -> DurationSlices:
    return DurationSlices(DAY, (Durations(DAY, {5.0: 100}, {}, "sha"),))


@pytest.mark.parametrize(
    ("setting", "value", "criterion", "measurement"),
    [
        ("error_rate_max_pct", 0.0, "rollback.error_rate", _rates),  # "no failure tolerated"
        ("success_rate_min_pct", 100.0, "rollback.success_rate", _rates),
        ("success_rate_min_pct", 0.0, "rollback.success_rate", _rates),
        ("max_slow_pct", 0.0, "stage1.duration", _durations),  # "no slow import tolerated"
        ("min_fast_pct", 100.0, "stage1.duration", _durations),
    ],
)
def test_a_percent_the_profile_admits_never_crashes_a_criterion(
    setting: str, value: float, criterion: str, measurement: object
) -> None:
    """F6 (medium, traceback). LIMITS give these settings PERCENT = [0, 100], so
    `profile_from_mapping` accepts 0 and 100; the power-derived minimums then call
    `zero_event_sample(rate)` with rate 0 or 1, which raises `ValueError: rate must be within
    (0, 1)` from inside the criterion: gate.decide does not catch it, so the gate run dies with a
    traceback instead of one line naming the setting. Either LIMITS refuse the value
    (ConfigError naming it) or the criterion decides; a traceback is neither."""
    try:
        profile = profile_from_mapping({setting: value})
    except ConfigError as exc:
        assert setting in str(exc)
        return
    ctx = Context(profile=profile, as_of=NOW, target="seeded")
    make = measurement
    assert callable(make)
    r = gate.decide(criterion, make, ctx)
    assert r.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.ERROR)
