"""The prerequisite criteria as pure functions over hand-made measurements."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from cutover import gate
from cutover.criteria.prereq import migration_columns, read_only_access, validation_queries
from cutover.criteria.registry import CRITERIA, Context
from cutover.criteria.rlm import deprecation_headers, rlm_health
from cutover.criteria.rollout import rollout_percent_zero
from cutover.outcome import Action, Outcome
from cutover.profile import Profile
from cutover.sources.prereq_db import MigrationColumns, QueryRun, TableAccess
from cutover.sources.rlm_http import HeaderProbe, HealthProbe
from cutover.sources.vercel_env import RolloutSetting

CTX = Context(profile=Profile(), as_of=datetime(2026, 2, 1, 9, tzinfo=UTC), target="seeded")
URL = "http://127.0.0.1:8000/health"


def health(code: int, body: dict[str, Any] | None) -> HealthProbe:
    return HealthProbe(url=URL, status_code=code, body=body, elapsed_ms=3.0)


def test_prereq_criteria_are_registered_with_hold() -> None:
    for name in (
        "prereq.migration_columns",
        "prereq.rlm_health",
        "prereq.rollout_percent_zero",
        "prereq.validation_queries",
        "prereq.deprecation_headers",
        "prereq.read_only_access",
    ):
        assert CRITERIA[name].on_fail is Action.HOLD


# -- RLM health ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["ok", "healthy"])
def test_health_passes(status: str) -> None:
    probe = health(200, {"status": status, "processors_available": True})
    r = gate.decide("prereq.rlm_health", lambda: probe, CTX)
    assert r.outcome is Outcome.PASS
    assert r.criterion == "prereq.rlm_health"
    assert r.source == URL


def test_health_503_fails_with_detail() -> None:
    probe = health(503, {"detail": "Processor modules unavailable"})
    r = rlm_health(probe, CTX)
    assert r.outcome is Outcome.FAIL
    assert "503" in r.reason
    assert "Processor modules unavailable" in r.reason


def test_health_503_without_body_fails() -> None:
    r = rlm_health(health(503, None), CTX)
    assert r.outcome is Outcome.FAIL
    assert "no detail" in r.reason


@pytest.mark.parametrize("processors", [False, None, "true"])
def test_health_processors_not_true_fails(processors: object) -> None:
    r = rlm_health(health(200, {"status": "ok", "processors_available": processors}), CTX)
    assert r.outcome is Outcome.FAIL
    assert "processors_available" in r.reason


def test_health_unknown_status_fails() -> None:
    r = rlm_health(health(200, {"status": "degraded", "processors_available": True}), CTX)
    assert r.outcome is Outcome.FAIL
    assert "'degraded'" in r.reason


def test_health_statuses_come_from_the_profile() -> None:
    profile = dataclasses.replace(Profile(), rlm_health_statuses=("green",))
    ctx = dataclasses.replace(CTX, profile=profile)
    ok = health(200, {"status": "ok", "processors_available": True})
    green = health(200, {"status": "green", "processors_available": True})
    assert rlm_health(ok, ctx).outcome is Outcome.FAIL
    assert rlm_health(green, ctx).outcome is Outcome.PASS


# -- V2_ROLLOUT_PERCENT -------------------------------------------------------------------


def rollout(raw: str | None, readable: bool = True) -> RolloutSetting:
    return RolloutSetting(raw=raw, origin="CUTOVER_ROLLOUT_PERCENT", readable=readable)


def test_rollout_zero_passes() -> None:
    r = rollout_percent_zero(rollout("0"), CTX)
    assert r.outcome is Outcome.PASS
    assert r.reason == "configured to 0: no import goes to v2"
    assert r.measured == "'0' (router reads 0 -> 0)"


def test_rollout_padded_zero_passes() -> None:
    r = rollout_percent_zero(rollout(" 0"), CTX)
    assert r.outcome is Outcome.PASS
    assert "0 -> 0" in r.measured


@pytest.mark.parametrize(("raw", "percent"), [("10abc", 10), ("10", 10), ("250", 100)])
def test_rollout_nonzero_fails(raw: str, percent: int) -> None:
    r = rollout_percent_zero(rollout(raw), CTX)
    assert r.outcome is Outcome.FAIL
    assert f"{percent}% of imports" in r.reason


def test_rollout_non_number_passes_as_the_router_reads_zero() -> None:
    r = rollout_percent_zero(rollout("abc"), CTX)
    assert r.outcome is Outcome.PASS
    assert "reads 'abc' as 0" in r.reason
    assert "NaN -> 0" in r.measured


def test_rollout_negative_is_clamped_to_zero() -> None:
    r = rollout_percent_zero(rollout("-5"), CTX)
    assert r.outcome is Outcome.PASS
    assert "as 0" in r.reason


def test_rollout_unset_fails() -> None:
    r = rollout_percent_zero(rollout(None), CTX)
    assert r.outcome is Outcome.FAIL
    assert r.measured == "unset"
    assert "not configured" in r.reason


def test_rollout_sensitive_is_inconclusive() -> None:
    r = rollout_percent_zero(rollout(None, readable=False), CTX)
    assert r.outcome is Outcome.INCONCLUSIVE
    assert "sensitive" in r.reason
    assert "CUTOVER_ROLLOUT_PERCENT" in r.reason


# -- deprecation headers ------------------------------------------------------------------

RUNBOOK_SUNSET = "Sat, 01 Mar 2026 00:00:00 GMT"
RUNBOOK_LINK = '</process-full-v2>; rel="alternate"'


def headers(**overrides: Any) -> HeaderProbe:
    values: dict[str, Any] = {
        "url": "http://127.0.0.1:8000/process-full",
        "status_code": 200,
        "deprecation": "true",
        "sunset": RUNBOOK_SUNSET,
        "link": RUNBOOK_LINK,
        "has_notice": True,
    }
    values.update(overrides)
    return HeaderProbe(**values)


def test_runbook_headers_pass_with_weekday_note() -> None:
    r = deprecation_headers(headers(), CTX)
    assert r.outcome is Outcome.PASS
    assert "names Sat" in r.reason and "is a Sun" in r.reason


def test_correct_weekday_passes_without_note() -> None:
    r = deprecation_headers(headers(sunset="Sun, 01 Mar 2026 00:00:00 GMT"), CTX)
    assert r.outcome is Outcome.PASS
    assert "note" not in r.reason


def test_different_sunset_date_fails() -> None:
    r = deprecation_headers(headers(sunset="Sun, 01 Jun 2026 00:00:00 GMT"), CTX)
    assert r.outcome is Outcome.FAIL
    assert "expected 'Sat, 01 Mar 2026 00:00:00 GMT'" in r.reason


def test_non_http_date_sunset_fails() -> None:
    r = deprecation_headers(headers(sunset="2026-03-01"), CTX)
    assert r.outcome is Outcome.FAIL
    assert "is not an HTTP date" in r.reason


def test_non_gmt_sunset_fails() -> None:
    r = deprecation_headers(headers(sunset="Sun, 01 Mar 2026 01:00:00 +0100"), CTX)
    assert r.outcome is Outcome.FAIL
    assert "GMT" in r.reason


def test_missing_sunset_fails() -> None:
    r = deprecation_headers(headers(sunset=None), CTX)
    assert r.outcome is Outcome.FAIL
    assert "no Sunset header" in r.reason


def test_missing_link_fails() -> None:
    r = deprecation_headers(headers(link=None), CTX)
    assert r.outcome is Outcome.FAIL
    assert "Link is None" in r.reason


@pytest.mark.parametrize("value", [None, "false", ""])
def test_deprecation_not_true_fails(value: str | None) -> None:
    r = deprecation_headers(headers(deprecation=value), CTX)
    assert r.outcome is Outcome.FAIL
    assert "Deprecation is" in r.reason


def test_non_200_probe_fails() -> None:
    r = deprecation_headers(headers(status_code=500), CTX)
    assert r.outcome is Outcome.FAIL
    assert "answered 500" in r.reason


# -- migration columns --------------------------------------------------------------------

GOOD_COLUMNS = {
    "full_pass_status": "text",
    "full_pass_started_at": "timestamp with time zone",
    "full_pass_completed_at": "timestamp with time zone",
    "full_pass_error": "text",
}
GOOD_CHECK = (
    "CHECK ((full_pass_status = ANY (ARRAY['pending'::text, 'processing'::text, "
    "'complete'::text, 'failed'::text])))"
)


def columns(cols: dict[str, str] | None = None, check: str | None = GOOD_CHECK) -> MigrationColumns:
    return MigrationColumns(
        columns=dict(GOOD_COLUMNS if cols is None else cols),
        status_check=check,
        query_sha256="a,b",
    )


def test_migration_columns_pass() -> None:
    r = migration_columns(columns(), CTX)
    assert r.outcome is Outcome.PASS
    assert r.measured == "4 of 4 columns"
    assert r.query_sha256 == "a,b"


def test_migration_wrong_type_fails() -> None:
    r = migration_columns(
        columns({**GOOD_COLUMNS, "full_pass_started_at": "timestamp without time zone"}), CTX
    )
    assert r.outcome is Outcome.FAIL
    assert "full_pass_started_at is timestamp without time zone" in r.reason


def test_migration_missing_column_fails() -> None:
    cols = {k: v for k, v in GOOD_COLUMNS.items() if k != "full_pass_error"}
    r = migration_columns(columns(cols), CTX)
    assert r.outcome is Outcome.FAIL
    assert "full_pass_error missing" in r.reason
    assert r.measured == "3 of 4 columns"


def test_migration_status_check_missing_failed_fails() -> None:
    check = GOOD_CHECK.replace(", 'failed'::text", "")
    r = migration_columns(columns(check=check), CTX)
    assert r.outcome is Outcome.FAIL
    assert "does not allow failed" in r.reason


def test_migration_no_status_check_fails() -> None:
    r = migration_columns(columns(check=None), CTX)
    assert r.outcome is Outcome.FAIL
    assert "no CHECK constraint" in r.reason


def test_migration_zero_visible_columns_hints_at_read_access() -> None:
    r = migration_columns(columns({}, check=None), CTX)
    assert r.outcome is Outcome.FAIL
    assert "none of the 4 full_pass_* columns is visible" in r.reason
    assert "prereq.read_only_access" in r.reason


# -- read-only access ---------------------------------------------------------------------


def access(**overrides: Any) -> TableAccess:
    values: dict[str, Any] = {
        "role": "cutover_reader",
        "can_select": True,
        "rls_enabled": False,
        "bypasses_rls": False,
        "has_select_policy": False,
        "default_read_only": True,
        "rejects_writes": True,
        "write_detail": "cannot execute UPDATE in a read-only transaction",
        "query_sha256": "q",
    }
    values.update(overrides)
    return TableAccess(**values)


def test_read_only_access_passes() -> None:
    assert read_only_access(access(), CTX).outcome is Outcome.PASS


def test_rls_without_policy_fails() -> None:
    r = read_only_access(access(rls_enabled=True), CTX)
    assert r.outcome is Outcome.FAIL
    assert "row-level security" in r.reason


@pytest.mark.parametrize("override", [{"has_select_policy": True}, {"bypasses_rls": True}])
def test_rls_with_policy_or_bypass_passes(override: dict[str, bool]) -> None:
    assert read_only_access(access(rls_enabled=True, **override), CTX).outcome is Outcome.PASS


def test_write_accepted_fails() -> None:
    r = read_only_access(access(rejects_writes=False, write_detail="UPDATE 0 accepted"), CTX)
    assert r.outcome is Outcome.FAIL
    assert "a write was not rejected: UPDATE 0 accepted" in r.reason


def test_no_select_fails() -> None:
    r = read_only_access(access(can_select=False), CTX)
    assert r.outcome is Outcome.FAIL
    assert "cannot SELECT" in r.reason


def test_session_not_read_only_fails() -> None:
    r = read_only_access(access(default_read_only=False), CTX)
    assert r.outcome is Outcome.FAIL
    assert "not read-only" in r.reason


# -- validation queries -------------------------------------------------------------------


def test_validation_queries_outcomes() -> None:
    ok = QueryRun("q1_success_rate", "s1", 3, None)
    skipped = QueryRun("q5_v1_vs_v2", "s5", None, "skipped: no pipeline_version column")
    broken = QueryRun("q2_stuck_imports", "s2", None, "syntax error")
    assert validation_queries([ok, skipped], CTX).outcome is Outcome.PASS
    failed = validation_queries([ok, broken], CTX)
    assert failed.outcome is Outcome.FAIL
    assert "q2_stuck_imports: syntax error" in failed.reason
    assert validation_queries([], CTX).outcome is Outcome.INCONCLUSIVE
