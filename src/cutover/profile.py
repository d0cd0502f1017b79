"""Thresholds and schedules: one profile whose defaults are the runbook's numbers.

A team may override any field in the `[profile]` table of `cutover.toml`; nothing else holds
a threshold, and tests never inline one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from cutover.errors import ConfigError


@dataclass(frozen=True, slots=True)
class StagePlan:
    """A runbook stage: its rollout percent, how long it lasts, and when its checkpoints fall."""

    number: int
    percent: int
    duration: timedelta
    checkpoints: tuple[timedelta, ...]


def _hours(*values: float) -> tuple[timedelta, ...]:
    return tuple(timedelta(hours=v) for v in values)


DEFAULT_STAGES: tuple[StagePlan, ...] = (
    StagePlan(1, 10, timedelta(hours=24), _hours(1, 6, 24)),
    StagePlan(2, 50, timedelta(hours=48), _hours(12, 24, 36, 48)),
    StagePlan(3, 100, timedelta(days=7), _hours(*(24 * d for d in range(1, 8)))),
    StagePlan(4, 100, timedelta(days=7), _hours(*(24 * d for d in range(1, 8)))),
)


@dataclass(frozen=True, slots=True)
class Profile:
    """Every threshold the gates use. Defaults: the runbook, then the planning notes."""

    # the validation queries' own windows: Queries 1, 3 and 4 look at 24 h, Query 6 at 6 h
    query_window_hours: float = 24.0
    timeline_window_hours: float = 6.0
    # Query 1 and the success-rate criteria
    success_rate_min_pct: float = 95.0
    success_rate_basis: str = "settled"  # "settled" (default) or "query1" (the runbook's number)
    # how a rate criterion decides: "runbook" (the point estimate against the threshold) or
    # "evidence" (FAIL only when the anytime-valid confidence sequence lies wholly below it;
    # chosen from bench/decisions_bench.py, see the README)
    decision_mode: str = "evidence"
    sequence_alpha: float = 0.05  # each bound of a rate's confidence sequence, over all looks
    sequence_prior_weight: float = 30.0  # pseudo-imports of the mixture's prior (its tightness)
    # a catastrophic rate fails at once in both modes, from this many settled imports
    catastrophic_success_min_pct: float = 80.0
    catastrophic_error_max_pct: float = 20.0
    min_settled_imports: int = 20
    stuck_after_minutes: int = 120
    stuck_resolved_within_minutes: int = 120
    # Query 3 (durations)
    fast_import_minutes: int = 10
    slow_import_minutes: int = 30
    max_slow_pct: float = 10.0
    min_fast_pct: float = 50.0
    duration_slowdown_max_pct: float = 20.0
    stage3_duration_every_hours: float = 72.0  # the runbook: Query 3 every 3 days in stage 3
    # rollback triggers (runbook decision table, planning notes)
    error_rate_max_pct: float = 5.0
    stuck_per_hour_max: int = 10
    stuck_users_max: int = 2
    slow_persist_hours: float = 6.0
    in_flight_drain_minutes: int = 30
    integrity_max_listed: int = 20
    error_texts_max_rows: int = 1000  # distinct error texts read; more is inconclusive, not cut
    rollback_window_hours: float = 24.0  # success and error rates for the triggers
    rollback_log_window_minutes: int = 60  # OOM / crash lines that call for a rollback now
    in_flight_lookback_hours: float = 48.0  # how far back imports may still be in flight
    # checkpoints, coverage and attestations
    clock_skew_minutes: float = 5.0  # how far after the clock an --as-of may lie
    checkpoint_tolerance_minutes: int = 60
    attestation_grace_minutes: int = 15
    # coverage: a source covers the parts of a window where its lines arrive at the cadence
    # expected of it; a longer silence is a gap, and zero events over a gap prove nothing
    rlm_log_gap_minutes: float = 5.0  # Render probes /health every few seconds; the RLM logs each
    router_log_gap_minutes: float = 20.0  # the router logs every request, uptime probes included
    metrics_gap_minutes: float = 15.0  # Render's series have a point a minute (seeded: every 5)
    log_unreadable_max_pct: float = 1.0  # a slot with more unreadable lines is a gap
    # traffic: an empty hour means broken routing only when this many imports per hour are expected
    traffic_min_expected_per_hour: float = 5.0
    # RLM stability: a significant upward trend that grows more than this over the window fails
    memory_growth_max_pct: float = 10.0
    cpu_growth_max_pct: float = 25.0
    cpu_trend_from_stage: int = 2  # stage 1 asks for no leak or crash; from stage 2, stable CPU too
    # v1 traffic: none for 24 h at stage 3, none for 7 days of deprecation at stage 4; v1 goes
    # only after 14 days at 100% in all (stage 3 and 4)
    stage3_v1_quiet_hours: float = 24.0
    stage4_v1_quiet_days: float = 7.0
    days_at_100_before_removal: float = 14.0
    # statistics
    split_alpha: float = 0.001
    split_shift_pct: float = 5.0  # the split test needs the power to see the router this far off
    power: float = 0.8  # of the split and slowdown tests against their alternatives
    verify_alpha: float = 0.01  # no v2 request in n after a rollback: (1 - previous %)^n <= this
    trend_alpha: float = 0.01
    min_trend_points: int = 12
    # errors: signatures matching these (case-insensitive substrings; a number matches as a whole
    # number) are systemic / user-specific
    systemic_error_patterns: tuple[str, ...] = (
        "no api key",
        "api key",
        "config",
        "rate limit",
        "429",
        "timeout",
        "timed out",
        "overloaded",
        "anthropic",
        "bedrock",
        "processor modules unavailable",
        "api-key",
        "api_key",
        "throttl",
        "connection refused",
        "connection reset",
        "connectionerror",
        "could not connect",
        "service unavailable",
        "503",
        "502",
        "bad gateway",
        "memoryerror",
        "out of memory",
        "no space left",
        "permission denied",
        "unauthorized",
        "authenticationerror",
    )
    # user-side failures: the file's format, parsing, validation, size, emptiness
    user_error_patterns: tuple[str, ...] = (
        # format
        "bad file format",
        "unsupported export",
        "unsupported format",
        "unsupported file",
        "unrecognized format",
        "unrecognised format",
        "unknown export format",
        "not a valid zip",
        "badzipfile",
        "not a zip file",
        "wrong file type",
        "not a chatgpt export",
        "unexpected export version",
        # parse
        "invalid json",
        "jsondecodeerror",
        "could not parse",
        "failed to parse",
        "unable to parse",
        "parse error",
        "malformed",
        "unicodedecodeerror",
        "invalid utf-8",
        "unexpected end of",
        # validation
        "validationerror",
        "validation error",
        "failed validation",
        "missing required field",
        "schema mismatch",
        "invalid conversation",
        "invalid export",
        # too large
        "too large",
        "exceeds the maximum",
        "exceeds maximum",
        "file size limit",
        "too many conversations",
        "too many messages",
        # empty or missing
        "no conversations",
        "empty export",
        "empty file",
        "file is empty",
        "no messages",
        "file not found",
        "no such file",
        "conversations.json not found",
    )
    # an unlisted signature is systemic by evidence: its rate among v2 imports is over this
    # (the confidence sequence's lower bound is), or it bursts to `burst_factor` times its
    # background share in one hour with at least `burst_min_count` failures; either needs
    # `systemic_min_users` different users. Otherwise it is unclassified until someone runs
    # `cutover classify`.
    systemic_rate_max_pct: float = 1.0
    burst_factor: float = 10.0
    burst_min_count: int = 5
    systemic_min_users: int = 3
    # RLM
    rlm_health_statuses: tuple[str, ...] = ("healthy", "ok")
    sunset: str = "Sat, 01 Mar 2026 00:00:00 GMT"
    http_timeout_seconds: float = 10.0  # a whole HTTP exchange, not each read
    http_max_body_bytes: int = 1_000_000
    # the platforms (Render, Vercel): a source's whole fetch (every page, wait and retry) and
    # the largest page read
    platform_deadline_seconds: float = 600.0
    platform_max_page_bytes: int = 8_000_000
    statement_timeout_ms: int = 30_000
    connect_timeout_seconds: float = 10.0
    # criteria that report their verdicts without changing the run's action (dry run); a
    # rollback trigger among them needs `advisory_triggers_accepted = true` as well
    advisory: tuple[str, ...] = ()
    advisory_triggers_accepted: bool = False
    stages: tuple[StagePlan, ...] = field(default=DEFAULT_STAGES)

    def stage(self, number: int) -> StagePlan:
        for plan in self.stages:
            if plan.number == number:
                return plan
        raise KeyError(f"no stage {number} in the profile")


_SETTINGS = frozenset(f.name for f in dataclasses.fields(Profile) if f.name != "stages")


@dataclass(frozen=True, slots=True)
class Limit:
    """The values a number of the profile may take: finite, within [low, high] (an open end
    excludes the bound)."""

    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def admits(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        high = "inf" if math.isinf(self.high) else f"{self.high:g}"
        return f"a finite number in {left}{self.low:g}, {high}{right}"


PERCENT = Limit(0.0, 100.0)
POSITIVE = Limit(0.0, low_open=True)
NON_NEGATIVE = Limit(0.0)
PROBABILITY = Limit(0.0, 1.0, low_open=True, high_open=True)
AT_LEAST_ONE = Limit(1.0)
GAP_MINUTES = Limit(1.0, 1440.0)  # a silence tolerated: from a minute to a day

#: every number of the profile and what it may be; a number without a limit is refused by a test
LIMITS: dict[str, Limit] = {
    "query_window_hours": POSITIVE,
    "timeline_window_hours": POSITIVE,
    "success_rate_min_pct": PERCENT,
    "sequence_alpha": PROBABILITY,
    "sequence_prior_weight": POSITIVE,
    "catastrophic_success_min_pct": PERCENT,
    "catastrophic_error_max_pct": PERCENT,
    "min_settled_imports": AT_LEAST_ONE,
    "stuck_after_minutes": AT_LEAST_ONE,
    "stuck_resolved_within_minutes": NON_NEGATIVE,
    "fast_import_minutes": POSITIVE,
    "slow_import_minutes": POSITIVE,
    "max_slow_pct": PERCENT,
    "min_fast_pct": PERCENT,
    "duration_slowdown_max_pct": NON_NEGATIVE,
    "stage3_duration_every_hours": POSITIVE,
    "error_rate_max_pct": PERCENT,
    "stuck_per_hour_max": NON_NEGATIVE,
    "stuck_users_max": NON_NEGATIVE,
    "slow_persist_hours": NON_NEGATIVE,
    "in_flight_drain_minutes": NON_NEGATIVE,
    "integrity_max_listed": AT_LEAST_ONE,
    "error_texts_max_rows": AT_LEAST_ONE,
    "rollback_window_hours": POSITIVE,
    "rollback_log_window_minutes": POSITIVE,
    "in_flight_lookback_hours": POSITIVE,
    "clock_skew_minutes": NON_NEGATIVE,
    "checkpoint_tolerance_minutes": NON_NEGATIVE,
    "rlm_log_gap_minutes": GAP_MINUTES,
    "router_log_gap_minutes": GAP_MINUTES,
    "metrics_gap_minutes": GAP_MINUTES,
    "log_unreadable_max_pct": PERCENT,
    "attestation_grace_minutes": NON_NEGATIVE,
    "traffic_min_expected_per_hour": NON_NEGATIVE,
    "memory_growth_max_pct": NON_NEGATIVE,
    "cpu_growth_max_pct": NON_NEGATIVE,
    "cpu_trend_from_stage": Limit(1.0, 4.0),
    "stage3_v1_quiet_hours": POSITIVE,
    "stage4_v1_quiet_days": POSITIVE,
    "days_at_100_before_removal": POSITIVE,
    "split_alpha": PROBABILITY,
    "split_shift_pct": Limit(0.0, 100.0, low_open=True),
    "power": PROBABILITY,
    "verify_alpha": PROBABILITY,
    "trend_alpha": PROBABILITY,
    "min_trend_points": Limit(3.0),
    "systemic_rate_max_pct": PERCENT,
    "burst_factor": Limit(1.0),
    "burst_min_count": AT_LEAST_ONE,
    "systemic_min_users": AT_LEAST_ONE,
    "http_timeout_seconds": POSITIVE,
    "http_max_body_bytes": AT_LEAST_ONE,
    "platform_deadline_seconds": POSITIVE,
    "platform_max_page_bytes": AT_LEAST_ONE,
    "statement_timeout_ms": AT_LEAST_ONE,
    "connect_timeout_seconds": Limit(1.0),
}
#: settings that name one of a few modes
CHOICES: dict[str, tuple[str, ...]] = {
    "success_rate_basis": ("settled", "query1"),
    "decision_mode": ("runbook", "evidence"),
}
#: lists that must hold at least one entry (an empty one would silently match nothing)
NON_EMPTY = frozenset({"rlm_health_statuses"})


def profile_from_mapping(
    values: Mapping[str, Any],
    *,
    origin: Callable[[str], str] = lambda key: "profile",
    criteria: Collection[str] | None = None,
) -> Profile:
    """Build a profile from a `[profile]` table; errors name the key, where it was written, and
    what was expected. `criteria`: the ids `advisory` may name (None: not checked here)."""
    defaults = Profile()
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _SETTINGS:
            known = ", ".join(sorted(_SETTINGS))
            raise ConfigError(
                f"{origin(key)}: unknown profile setting {key!r}; known settings: {known}"
            )
        kwargs[key] = _coerce(key, value, getattr(defaults, key), origin(key))
        problem = value_problem(key, kwargs[key])
        if problem:
            raise ConfigError(
                f"{origin(key)}: profile setting {key!r} is {value!r}; expected {problem}"
            )
    profile = dataclasses.replace(defaults, **kwargs)
    problem = advisory_problem(profile, criteria)
    if problem:
        raise ConfigError(f"{origin('advisory')}: profile setting 'advisory' {problem}")
    return profile


def advisory_problem(profile: Profile, criteria: Collection[str] | None) -> str:
    """What is wrong with the profile's `advisory` list ("" when nothing): an id no criterion
    has, or a rollback trigger without `advisory_triggers_accepted = true`."""
    unknown = [c for c in profile.advisory if criteria is not None and c not in criteria]
    if unknown:
        return (
            f"names no criterion: {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(sorted(criteria or ()))}"
        )
    triggers = [c for c in profile.advisory if c.startswith("rollback.")]
    if triggers and not profile.advisory_triggers_accepted:
        return (
            f"names rollback trigger(s) {', '.join(triggers)}; a trigger may be advisory only "
            "when the profile also sets advisory_triggers_accepted = true"
        )
    return ""


def value_problem(key: str, value: Any) -> str:
    """What a profile setting was expected to be, when `value` is not that ("" when it is)."""
    limit = LIMITS.get(key)
    if limit is not None and not limit.admits(float(value)):
        return limit.describe()
    choices = CHOICES.get(key)
    if choices is not None and value not in choices:
        return " or ".join(repr(c) for c in choices)
    if isinstance(value, tuple) and any(not item.strip() for item in value):
        return "a list of non-empty strings"
    if key in NON_EMPTY and not value:
        return "a list with at least one entry"
    if key == "sunset" and _http_date_problem(value):
        return "an HTTP date such as 'Sat, 01 Mar 2026 00:00:00 GMT'"
    return ""


def _http_date_problem(value: str) -> bool:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return True
    return parsed.tzinfo is None


def _coerce(key: str, value: Any, default: Any, origin: str) -> Any:
    expected = type(default)
    if isinstance(default, tuple):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    elif isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, expected) and not isinstance(value, bool):
        return value
    raise ConfigError(
        f"{origin}: profile setting {key!r} is {value!r}; expected {expected.__name__} "
        f"like the default {default!r}"
    )
