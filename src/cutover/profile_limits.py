"""What each number and mode of the profile may be: finite and in range (`LIMITS`), one of a
few modes (`CHOICES`), a non-empty list; `value_problem` says what was expected instead."""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any


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
# a share that minimum samples are derived from ((1 - p)^n <= alpha needs 0 < p < 1): 0 or 100
# would ask for no failure ever, which no finite sample can show
OPEN_PERCENT = Limit(0.0, 100.0, low_open=True, high_open=True)
POSITIVE = Limit(0.0, low_open=True)
NON_NEGATIVE = Limit(0.0)
PROBABILITY = Limit(0.0, 1.0, low_open=True, high_open=True)
AT_LEAST_ONE = Limit(1.0)
GAP_MINUTES = Limit(1.0, 1440.0)  # a silence tolerated: from a minute to a day

#: every number of the profile and what it may be; a number without a limit is refused by a test
LIMITS: dict[str, Limit] = {
    "query_window_hours": POSITIVE,
    "timeline_window_hours": POSITIVE,
    "success_rate_min_pct": OPEN_PERCENT,
    "sequence_alpha": PROBABILITY,
    "sequence_prior_weight": POSITIVE,
    "sequence_restart_hours": Limit(0.25),  # no finer than the monitor's 15 minutes
    "sequence_stage_weight": PROBABILITY,
    "catastrophic_success_min_pct": PERCENT,
    "catastrophic_error_max_pct": PERCENT,
    "min_settled_imports": AT_LEAST_ONE,
    "stuck_after_minutes": AT_LEAST_ONE,
    "stuck_resolved_within_minutes": NON_NEGATIVE,
    "fast_import_minutes": POSITIVE,
    "slow_import_minutes": POSITIVE,
    "max_slow_pct": OPEN_PERCENT,
    "min_fast_pct": OPEN_PERCENT,
    "duration_slowdown_max_pct": NON_NEGATIVE,
    "stage3_duration_every_hours": POSITIVE,
    "error_rate_max_pct": OPEN_PERCENT,
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
    "platform_min_wait_seconds": Limit(0.1, 3600.0),
    "drain_max_body_bytes": AT_LEAST_ONE,
}
#: settings that name one of a few modes
CHOICES: dict[str, tuple[str, ...]] = {
    "success_rate_basis": ("settled", "query1"),
    "decision_mode": ("runbook", "evidence"),
}
#: lists that must hold at least one entry (an empty one would silently match nothing)
NON_EMPTY = frozenset({"rlm_health_statuses"})


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
