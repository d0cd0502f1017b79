"""The runbook's prerequisites: if any fails, STOP and fix before stage 1 (verdict HOLD)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from cutover.criteria.registry import Context, criterion
from cutover.outcome import Action, Outcome, Result
from cutover.router import js_parse_int, parse_rollout_percent
from cutover.sources.prereq_db import MigrationColumns, QueryRun, TableAccess
from cutover.sources.rlm_http import HeaderProbe, HealthProbe
from cutover.sources.vercel_env import RolloutSetting

EXPECTED_COLUMNS = {
    "full_pass_status": "text",
    "full_pass_started_at": "timestamp with time zone",
    "full_pass_completed_at": "timestamp with time zone",
    "full_pass_error": "text",
}
STATUSES = ("pending", "processing", "complete", "failed")


@criterion("prereq.migration_columns", on_fail=Action.HOLD, source="sql/migration_columns.sql")
def migration_columns(m: MigrationColumns, ctx: Context) -> Result:
    if not m.columns:
        problems = [
            "none of the 4 full_pass_* columns is visible: the migration is not deployed, or "
            "this role cannot read user_profiles (see prereq.read_only_access)"
        ]
    else:
        problems = [f"{name} missing" for name in EXPECTED_COLUMNS if name not in m.columns]
    problems += [
        f"{name} is {m.columns[name]}, expected {expected}"
        for name, expected in EXPECTED_COLUMNS.items()
        if name in m.columns and m.columns[name] != expected
    ]
    if m.status_check is None:
        problems.append("no CHECK constraint on full_pass_status")
    else:
        missing = [s for s in STATUSES if f"'{s}'" not in m.status_check]
        if missing:
            problems.append(f"the status CHECK does not allow {', '.join(missing)}")
    measured = f"{len(m.columns)} of 4 columns"
    ok = not problems
    return Result(
        criterion="prereq.migration_columns",
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        reason="the four full_pass_* columns exist with the expected types and status check"
        if ok
        else "; ".join(problems),
        measured=measured,
        threshold="4 columns (text, timestamptz, timestamptz, text) and CHECK of 4 statuses",
        details={"columns": m.columns, "status_check": m.status_check or ""},
        query_sha256=m.query_sha256,
    )


@criterion("prereq.rlm_health", on_fail=Action.HOLD, source="RLM GET /health")
def rlm_health(probe: HealthProbe, ctx: Context) -> Result:
    allowed = ctx.profile.rlm_health_statuses
    threshold = f"200, status in {list(allowed)}, processors_available true"
    body = probe.body or {}
    status = body.get("status")
    processors = body.get("processors_available")
    measured = f"{probe.status_code} status={status!r} processors_available={processors!r}"
    if probe.status_code != 200:
        detail = body.get("detail", "no detail")
        reason = f"{probe.url} answered {probe.status_code}: {detail}"
        outcome = Outcome.FAIL
    elif processors is not True:
        reason = f"processors_available is {processors!r}, expected true"
        outcome = Outcome.FAIL
    elif status not in allowed:
        reason = f"status is {status!r}, expected one of {list(allowed)}"
        outcome = Outcome.FAIL
    else:
        reason = f"healthy ({status!r}; the runbook says 'healthy', the real service 'ok')"
        outcome = Outcome.PASS
    return Result(
        criterion="prereq.rlm_health",
        outcome=outcome,
        reason=reason,
        measured=measured,
        threshold=threshold,
        source=probe.url,
    )


@criterion("prereq.rollout_percent_zero", on_fail=Action.HOLD, source="V2_ROLLOUT_PERCENT")
def rollout_percent_zero(setting: RolloutSetting, ctx: Context) -> Result:
    threshold = "V2_ROLLOUT_PERCENT configured, and the router reads it as 0"
    if not setting.readable:
        return Result(
            criterion="prereq.rollout_percent_zero",
            outcome=Outcome.INCONCLUSIVE,
            reason=f"{setting.origin}: the value is sensitive and cannot be read back; "
            "set CUTOVER_ROLLOUT_PERCENT to the value configured",
            threshold=threshold,
            source=setting.origin,
        )
    if setting.raw is None:
        return Result(
            criterion="prereq.rollout_percent_zero",
            outcome=Outcome.FAIL,
            reason=f"{setting.origin}: V2_ROLLOUT_PERCENT is not configured; the runbook asks "
            "for V2_ROLLOUT_PERCENT=0 in Production before stage 1",
            measured="unset",
            threshold=threshold,
            source=setting.origin,
        )
    parsed = js_parse_int(setting.raw)
    percent = parse_rollout_percent(setting.raw)
    read_as = "NaN -> 0" if parsed is None else f"{parsed} -> {percent}"
    measured = f"{setting.raw!r} (router reads {read_as})"
    if percent != 0:
        outcome, reason = Outcome.FAIL, f"the router would send {percent}% of imports to v2"
    elif setting.raw.strip() != "0":
        outcome = Outcome.PASS
        reason = f"the router reads {setting.raw!r} as 0; consider writing it as plain 0"
    else:
        outcome, reason = Outcome.PASS, "configured to 0: no import goes to v2"
    return Result(
        criterion="prereq.rollout_percent_zero",
        outcome=outcome,
        reason=reason,
        measured=measured,
        threshold=threshold,
        source=setting.origin,
    )


@criterion("prereq.validation_queries", on_fail=Action.HOLD, source="sql/q*.sql")
def validation_queries(runs: list[QueryRun], ctx: Context) -> Result:
    failed = [r for r in runs if r.error is not None and not r.error.startswith("skipped")]
    ran = [r for r in runs if r.error is None]
    skipped = [f"{r.name} ({r.error})" for r in runs if r.error and r.error.startswith("skip")]
    if not runs:
        outcome, reason = Outcome.INCONCLUSIVE, "no query files found in sql/"
    elif failed:
        outcome = Outcome.FAIL
        reason = "; ".join(f"{r.name}: {r.error}" for r in failed)
    else:
        outcome = Outcome.PASS
        reason = f"{len(ran)} queries ran read-only" + (
            f"; {', '.join(skipped)}" if skipped else ""
        )
    return Result(
        criterion="prereq.validation_queries",
        outcome=outcome,
        reason=reason,
        measured=f"{len(ran)} ran, {len(failed)} failed, {len(skipped)} skipped",
        threshold="every validation query runs",
        query_sha256=",".join(f"{r.name}:{r.sha256}" for r in runs),
    )


@criterion("stage4.deprecation_headers", on_fail=Action.HOLD, source="local RLM /process-full")
@criterion("prereq.deprecation_headers", on_fail=Action.HOLD, source="local RLM /process-full")
def deprecation_headers(probe: HeaderProbe, ctx: Context) -> Result:
    expected_sunset = ctx.profile.sunset
    problems: list[str] = []
    if probe.status_code != 200:
        problems.append(f"/process-full answered {probe.status_code}")
    if (probe.deprecation or "").strip().lower() != "true":
        problems.append(f"Deprecation is {probe.deprecation!r}, expected 'true'")
    if probe.sunset is None:
        problems.append("no Sunset header")
    else:
        problems += _sunset_problems(probe.sunset, expected_sunset)
    if probe.link is None or "/process-full-v2" not in probe.link:
        problems.append(f'Link is {probe.link!r}, expected </process-full-v2>; rel="alternate"')
    return Result(
        criterion="prereq.deprecation_headers",
        outcome=Outcome.FAIL if problems else Outcome.PASS,
        reason="; ".join(problems)
        or "Deprecation, Sunset and Link headers as configured" + weekday_note(probe.sunset),
        measured=f"Deprecation={probe.deprecation!r} Sunset={probe.sunset!r} Link={probe.link!r}",
        threshold=f"Deprecation: true, Sunset: {expected_sunset}, Link to /process-full-v2",
        source=probe.url,
    )


def _sunset_problems(sunset: str, expected: str) -> list[str]:
    try:
        value = parsedate_to_datetime(sunset)
    except (TypeError, ValueError):
        return [f"Sunset {sunset!r} is not an HTTP date"]
    if value.tzinfo is None or not sunset.rstrip().endswith("GMT"):
        return [f"Sunset {sunset!r} is not an HTTP date in GMT"]
    if value != parsedate_to_datetime(expected):
        return [f"Sunset is {sunset!r}, expected {expected!r}"]
    return []


def weekday_note(sunset: str | None) -> str:
    """The runbook's 'Sat, 01 Mar 2026' names the wrong day (it is a Sunday); clients ignore the
    day name, so it is reported, not failed."""
    if not sunset:
        return ""
    try:
        value = parsedate_to_datetime(sunset)
    except (TypeError, ValueError):
        return ""
    named = sunset.strip()[:3]
    actual = value.strftime("%a")
    if named != actual:
        return f" (note: the Sunset names {named}, but {value:%d %b %Y} is a {actual})"
    return ""


@criterion("prereq.read_only_access", on_fail=Action.HOLD, source="sql/table_access.sql")
def read_only_access(a: TableAccess, ctx: Context) -> Result:
    problems: list[str] = []
    if not a.can_select:
        problems.append(f"role {a.role} cannot SELECT from user_profiles")
    if a.rls_enabled and not a.bypasses_rls and not a.has_select_policy:
        problems.append(
            f"row-level security is on and no policy lets {a.role} read: queries would see no rows"
        )
    if not a.default_read_only:
        problems.append("the session is not read-only (default_transaction_read_only is off)")
    if not a.rejects_writes:
        problems.append(f"a write was not rejected: {a.write_detail}")
    return Result(
        criterion="prereq.read_only_access",
        outcome=Outcome.FAIL if problems else Outcome.PASS,
        reason="; ".join(problems) or f"{a.role} reads user_profiles; the session rejects writes",
        measured=f"select={a.can_select} rls={a.rls_enabled} read_only={a.default_read_only} "
        f"write_rejected={a.rejects_writes}",
        threshold="SELECT granted, rows visible, writes rejected",
        query_sha256=a.query_sha256,
    )
