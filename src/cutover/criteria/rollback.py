"""The Emergency Rollback triggers: must we roll back now? Each carries the runbook's decision
table row (severity, timeframe) in its registration; the runner puts it in the evidence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cutover.criteria.coverage import coverage_details, rlm_log_coverage
from cutover.criteria.registry import Context, criterion
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.rollback import (
    Integrity,
    RecentComplaints,
    RlmCrashSignals,
    SlowHistory,
    StuckNow,
)
from cutover.outcome import Action, Result, Window
from cutover.sources.imports import SuccessCounts
from cutover.timeutil import iso

F = TypeVar("F", bound=Callable[..., Result])


def trigger(name: str, source: str, severity: str, timeframe: str) -> Callable[[F], F]:
    """Register `rollback.<name>`: a failure rolls back."""
    return criterion(
        f"rollback.{name}",
        on_fail=Action.ROLLBACK,
        source=source,
        severity=severity,
        timeframe=timeframe,
    )


def _rate_counts(c: SuccessCounts, ctx: Context) -> tuple[float | None, int]:
    if ctx.profile.success_rate_basis == "query1":
        return c.query1_rate_pct, c.total
    return c.settled_rate_pct, c.settled


@trigger("success_rate", "sql/q1_success_rate.sql", "Critical", "Now")
def success_rate(c: SuccessCounts, ctx: Context) -> Result:
    floor, minimum = ctx.profile.success_rate_min_pct, ctx.profile.min_settled_imports
    rate, n = _rate_counts(c, ctx)
    fields: dict[str, Any] = dict(
        measured=f"{rate}% of {n} ({ctx.profile.success_rate_basis}); Query 1 {c.query1_rate_pct}%",
        threshold=f"roll back below {floor:g}%",
        window=c.window,
        sample_size=n,
        query_sha256=c.query_sha256,
        details={"counts": c.as_record()},
    )
    if rate is None or n < minimum:
        return result(UNDECIDED, f"{n} settled imports, below {minimum}", **fields)
    if rate < floor:
        return result(FAIL, f"success rate {rate}% < {floor:g}%: roll back now", **fields)
    return result(PASS, f"success rate {rate}%", **fields)


@trigger("error_rate", "sql/q1_success_rate.sql", "Critical", "Now")
def error_rate(c: SuccessCounts, ctx: Context) -> Result:
    ceiling, minimum = ctx.profile.error_rate_max_pct, ctx.profile.min_settled_imports
    pct = None if c.settled == 0 else round(100.0 * c.failed / c.settled, 2)
    fields: dict[str, Any] = dict(
        measured=f"{c.failed} failed of {c.settled} settled ({pct}%)",
        threshold=f"roll back above {ceiling:g}% failed",
        window=c.window,
        sample_size=c.settled,
        query_sha256=c.query_sha256,
    )
    if pct is None or c.settled < minimum:
        return result(UNDECIDED, f"{c.settled} settled imports, below {minimum}", **fields)
    if pct > ceiling:
        return result(FAIL, f"{pct}% of imports failed (> {ceiling:g}%)", **fields)
    return result(PASS, f"{pct}% failed", **fields)


@trigger("stuck_per_hour", "sql/q2_stuck_imports.sql", "Critical", "Now")
def stuck_per_hour(s: StuckNow, ctx: Context) -> Result:
    """Imports still stuck, grouped by the hour in which they became stuck (start + 2 h)."""
    limit = ctx.profile.stuck_per_hour_max
    after = timedelta(minutes=ctx.profile.stuck_after_minutes)
    by_hour: dict[datetime, int] = {}
    for item in s.stuck:
        became = (item.started_at + after).replace(minute=0, second=0, microsecond=0)
        by_hour[became] = by_hour.get(became, 0) + 1
    worst = max(by_hour.items(), key=lambda kv: kv[1], default=None)
    fields: dict[str, Any] = dict(
        measured=f"{len(s.stuck)} stuck; at most {worst[1] if worst else 0} new in one hour",
        threshold=f"roll back when more than {limit} imports became stuck in one hour",
        window=Window(None, s.as_of),
        sample_size=len(s.stuck),
    )
    if worst and worst[1] > limit:
        reason = f"{worst[1]} imports became stuck in the hour from {iso(worst[0])}"
        return result(FAIL, reason, **fields)
    return result(PASS, f"no hour with more than {limit} new stuck imports", **fields)


@trigger("stuck_multiple_users", "sql/q2_stuck_imports.sql", "Critical", "Now")
def stuck_multiple_users(s: StuckNow, ctx: Context) -> Result:
    limit = ctx.profile.stuck_users_max
    users = sorted({item.user_id for item in s.stuck})
    fields: dict[str, Any] = dict(
        measured=f"{len(users)} users stuck",
        threshold=f"roll back when more than {limit} users are stuck at once",
        window=Window(None, s.as_of),
        sample_size=len(s.stuck),
        details={"users": users[: ctx.profile.integrity_max_listed]},
    )
    if len(users) > limit:
        return result(FAIL, f"{len(users)} different users stuck at once", **fields)
    return result(PASS, f"{len(users)} users stuck", **fields)


@trigger("slow_imports", "sql/slow_by_hour.sql", "Medium", "6 h")
def slow_imports(h: SlowHistory, ctx: Context) -> Result:
    """Slow hours: >= max_slow_pct of completed imports took 30 min or more. Under 6 h of it:
    HOLD and extend monitoring; past 6 h: roll back."""
    profile = ctx.profile
    persist = timedelta(hours=profile.slow_persist_hours)
    hours = sorted(h.hours, key=lambda x: x.hour)
    run_start: datetime | None = None
    for hour in reversed(hours):
        if hour.completed and 100.0 * hour.slow / hour.completed >= profile.max_slow_pct:
            run_start = hour.hour
        else:
            break
    fields: dict[str, Any] = dict(
        threshold=f">= {profile.max_slow_pct:g}% of imports over "
        f"{profile.slow_import_minutes} min: hold while under "
        f"{profile.slow_persist_hours:g} h, roll back after",
        window=h.window,
        sample_size=sum(x.completed for x in hours),
    )
    if not hours:
        return result(UNDECIDED, "no completed imports in the window", **fields)
    if run_start is None:
        return result(PASS, "the last hour is not slow", measured="0 h slow", **fields)
    lasted = (h.window.end - run_start).total_seconds() / 3600
    measured = f"slow since {iso(run_start)} ({lasted:.1f} h)"
    if h.window.end - run_start >= persist:
        reason = f"imports over {profile.slow_import_minutes} min for {lasted:.1f} h: roll back"
        return result(FAIL, reason, measured=measured, on_fail=Action.ROLLBACK, **fields)
    reason = (
        f"imports over {profile.slow_import_minutes} min for under "
        f"{profile.slow_persist_hours:g} h: hold and extend monitoring"
    )
    return result(FAIL, reason, measured=measured, on_fail=Action.HOLD, **fields)


@trigger("rlm_crash", "RLM logs + GET /health", "Critical", "Now")
def rlm_crash(r: RlmCrashSignals, ctx: Context) -> Result:
    logs, health = r.logs, r.health
    cover = rlm_log_coverage(logs, r.window, ctx.profile)
    problems = []
    if logs.oom_kills or logs.crashes:
        problems.append(f"{logs.oom_kills} OOM and {logs.crashes} crash lines in the RLM log")
    if health is not None and health.status_code != 200:
        detail = (health.body or {}).get("detail", "")
        problems.append(f"/health answered {health.status_code} {detail}".strip())
    if health is not None and health.status_code == 200:
        if health.body_problem:
            problems.append(f"/health answered 200, but its {health.body_problem}")
        elif (health.body or {}).get("processors_available") is not True:
            problems.append("/health says processors_available is not true")
    fields: dict[str, Any] = dict(
        measured=f"{logs.oom_kills} OOM, {logs.crashes} crashes; health "
        f"{health.status_code if health else 'unread'}",
        threshold="no OOM or crash, /health 200",
        window=r.window,
        details={
            "coverage": coverage_details((("rlm_log", cover),), ctx.profile.integrity_max_listed)
        },
    )
    if problems:
        return result(FAIL, "; ".join(problems), **fields)
    if not cover.complete or health is None:
        missing = (cover.gaps_reason(), r.health_error and f"/health: {r.health_error}")
        return result(UNDECIDED, "; ".join(x for x in missing if x), **fields)
    return result(PASS, "no OOM or crash; healthy", **fields)


@trigger("complaints", "ledger", "High", "within 1 hour")
def complaints(c: RecentComplaints, ctx: Context) -> Result:
    complained = [a for a in c.attestations if a[2] > 0]
    fields: dict[str, Any] = dict(
        measured=f"{sum(a[2] for a in complained)} complaints",
        threshold="roll back within 1 hour of import-failure complaints",
        window=c.window,
    )
    if complained:
        listed = "; ".join(f"{n} by {by} ({iso(s)}..{iso(u)})" for s, u, n, by in complained)
        return result(FAIL, f"complaints recorded: {listed}", **fields)
    if not c.attestations:
        return result(UNDECIDED, "no complaint attestation in the current stage", **fields)
    return result(PASS, "0 complaints attested", **fields)


@trigger("data_corruption", "sql/integrity.sql", "Critical", "Now + incident")
def data_corruption(i: Integrity, ctx: Context) -> Result:
    totals: dict[str, int] = {}
    users: dict[str, list[str]] = {}
    for row in i.broken:
        totals[row.invariant] = row.broken_rows
        users.setdefault(row.invariant, []).append(row.user_id)
    fields: dict[str, Any] = dict(
        measured=f"{sum(totals.values())} rows break {len(totals)} invariants",
        threshold="no row breaks an integrity invariant",
        window=i.window,
        query_sha256=i.query_sha256,
        details={"users_by_invariant": users},
    )
    if totals:
        listed = "; ".join(
            f"{name}: {n} rows (e.g. {users[name][0]})" for name, n in totals.items()
        )
        reason = f"data corruption: {listed}: roll back now and open an incident"
        return result(FAIL, reason, **fields)
    return result(PASS, "every invariant holds", **fields)
