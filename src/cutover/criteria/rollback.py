"""The Emergency Rollback section: triggers that say "roll back now", and the checks that a
rollback took. Pure functions; severity and timeframe from the runbook's decision table are
carried into the evidence."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cutover.criteria import prereq
from cutover.criteria.registry import Context, criterion
from cutover.criteria.stage import coverage_gap
from cutover.measure_rollback import (
    InFlightAfterRollback,
    Integrity,
    RecentComplaints,
    RlmCrashSignals,
    RoutingAfterRollback,
    SlowHistory,
    StuckNow,
)
from cutover.outcome import Action, Outcome, Result, Window
from cutover.sources.imports import SuccessCounts
from cutover.statistics import split_test
from cutover.timeutil import iso

PASS, FAIL, UNDECIDED = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE


def _r(outcome: Outcome, reason: str, severity: str, timeframe: str, **fields: Any) -> Result:
    details = {"severity": severity, "timeframe": timeframe, **fields.pop("details", {})}
    return Result("", outcome, reason, details=details, **fields)


def _rate_counts(c: SuccessCounts, ctx: Context) -> tuple[float | None, int]:
    if ctx.profile.success_rate_basis == "query1":
        return c.query1_rate_pct, c.total
    return c.settled_rate_pct, c.settled


@criterion("rollback.success_rate", on_fail=Action.ROLLBACK, source="sql/q1_success_rate.sql")
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
        return _r(UNDECIDED, f"{n} settled imports, below {minimum}", "Critical", "Now", **fields)
    if rate < floor:
        return _r(
            FAIL, f"success rate {rate}% < {floor:g}%: roll back now", "Critical", "Now", **fields
        )
    return _r(PASS, f"success rate {rate}%", "Critical", "Now", **fields)


@criterion("rollback.error_rate", on_fail=Action.ROLLBACK, source="sql/q1_success_rate.sql")
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
        return _r(
            UNDECIDED, f"{c.settled} settled imports, below {minimum}", "Critical", "Now", **fields
        )
    if pct > ceiling:
        return _r(FAIL, f"{pct}% of imports failed (> {ceiling:g}%)", "Critical", "Now", **fields)
    return _r(PASS, f"{pct}% failed", "Critical", "Now", **fields)


@criterion("rollback.stuck_per_hour", on_fail=Action.ROLLBACK, source="sql/q2_stuck_imports.sql")
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
        return _r(
            FAIL,
            f"{worst[1]} imports became stuck in the hour from {iso(worst[0])}",
            "Critical",
            "Now",
            **fields,
        )
    return _r(
        PASS,
        f"no hour with more than {limit} new stuck imports",
        "Critical",
        "Now",
        **fields,
    )


@criterion(
    "rollback.stuck_multiple_users", on_fail=Action.ROLLBACK, source="sql/q2_stuck_imports.sql"
)
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
        return _r(FAIL, f"{len(users)} different users stuck at once", "Critical", "Now", **fields)
    return _r(PASS, f"{len(users)} users stuck", "Critical", "Now", **fields)


@criterion("rollback.slow_imports", on_fail=Action.ROLLBACK, source="sql/slow_by_hour.sql")
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
        return _r(UNDECIDED, "no completed imports in the window", "Medium", "6 h", **fields)
    if run_start is None:
        return _r(PASS, "the last hour is not slow", "Medium", "6 h", measured="0 h slow", **fields)
    lasted = h.window.end - run_start
    measured = f"slow since {iso(run_start)} ({lasted.total_seconds() / 3600:.1f} h)"
    if lasted >= persist:
        return _r(
            FAIL,
            f"imports over 30 min for {lasted.total_seconds() / 3600:.1f} h: roll back",
            "Medium",
            "6 h",
            measured=measured,
            on_fail=Action.ROLLBACK,
            **fields,
        )
    return _r(
        FAIL,
        "imports over 30 min for under 6 h: hold and extend monitoring",
        "Medium",
        "6 h",
        measured=measured,
        on_fail=Action.HOLD,
        **fields,
    )


@criterion("rollback.rlm_crash", on_fail=Action.ROLLBACK, source="RLM logs + GET /health")
def rlm_crash(r: RlmCrashSignals, ctx: Context) -> Result:
    slack = timedelta(minutes=ctx.profile.log_coverage_slack_minutes)
    logs = r.logs
    problems = []
    if logs.oom_kills or logs.crashes:
        problems.append(f"{logs.oom_kills} OOM and {logs.crashes} crash lines in the RLM log")
    if r.health is not None and r.health.status_code != 200:
        detail = (r.health.body or {}).get("detail", "")
        problems.append(f"/health answered {r.health.status_code} {detail}".strip())
    if r.health is not None and r.health.status_code == 200:
        if (r.health.body or {}).get("processors_available") is not True:
            problems.append("/health says processors_available is not true")
    fields: dict[str, Any] = dict(
        measured=f"{logs.oom_kills} OOM, {logs.crashes} crashes; health "
        f"{r.health.status_code if r.health else 'unread'}",
        threshold="no OOM or crash, /health 200",
        window=r.window,
    )
    if problems:
        return _r(FAIL, "; ".join(problems), "Critical", "Now", **fields)
    gap = coverage_gap(logs.first_seen, logs.last_seen, r.window, slack, "the RLM log")
    if gap or r.health is None:
        return _r(
            UNDECIDED,
            "; ".join(x for x in (gap, r.health_error and f"/health: {r.health_error}") if x),
            "Critical",
            "Now",
            **fields,
        )
    return _r(PASS, "no OOM or crash; healthy", "Critical", "Now", **fields)


@criterion("rollback.complaints", on_fail=Action.ROLLBACK, source="ledger")
def complaints(c: RecentComplaints, ctx: Context) -> Result:
    complained = [a for a in c.attestations if a[2] > 0]
    fields: dict[str, Any] = dict(
        measured=f"{sum(a[2] for a in complained)} complaints",
        threshold="roll back within 1 hour of import-failure complaints",
        window=c.window,
    )
    if complained:
        listed = "; ".join(f"{n} by {by} ({iso(s)}..{iso(u)})" for s, u, n, by in complained)
        return _r(FAIL, f"complaints recorded: {listed}", "High", "within 1 hour", **fields)
    if not c.attestations:
        return _r(
            UNDECIDED,
            "no complaint attestation in the current stage",
            "High",
            "within 1 hour",
            **fields,
        )
    return _r(PASS, "0 complaints attested", "High", "within 1 hour", **fields)


@criterion("rollback.data_corruption", on_fail=Action.ROLLBACK, source="sql/integrity.sql")
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
        return _r(
            FAIL,
            f"data corruption: {listed}: roll back now and open an incident",
            "Critical",
            "Now + incident",
            **fields,
        )
    return _r(PASS, "every invariant holds", "Critical", "Now + incident", **fields)


# -- verification -------------------------------------------------------------------------------

criterion("rollback_verify.percent_zero", on_fail=Action.ROLLBACK, source="V2_ROLLOUT_PERCENT")(
    prereq.rollout_percent_zero
)
criterion("rollback_verify.rlm_health", on_fail=Action.HOLD, source="RLM GET /health")(
    prereq.rlm_health
)


@criterion("rollback_verify.routing_all_v1", on_fail=Action.ROLLBACK, source="router logs")
def routing_all_v1(r: RoutingAfterRollback, ctx: Context) -> Result:
    slack = timedelta(minutes=ctx.profile.log_coverage_slack_minutes)
    counts = r.counts
    fields: dict[str, Any] = dict(
        measured=f"{counts.v2} v2 of {counts.v1 + counts.v2} routed requests",
        threshold="no request routed to v2 after the rollback",
        window=r.window,
        sample_size=counts.v1 + counts.v2,
        source=counts.path,
    )
    if counts.v2:
        return Result(
            "",
            FAIL,
            f"{counts.v2} requests still routed to v2 after "
            f"{iso(r.window.start)}: the rollback did not take",
            **fields,
        )
    gap = coverage_gap(counts.first_seen, counts.last_seen, r.window, slack, "the router log")
    if gap:
        return Result("", UNDECIDED, gap, **fields)
    test = split_test(
        counts.v1,
        counts.v2,
        0,
        alpha=ctx.profile.split_alpha,
        min_requests=ctx.profile.split_min_requests,
    )
    return Result("", test.outcome, test.reason, **fields)


@criterion("rollback_verify.in_flight_drained", on_fail=Action.HOLD, source="sql/in_flight.sql")
def in_flight_drained(i: InFlightAfterRollback, ctx: Context) -> Result:
    wait = timedelta(minutes=ctx.profile.in_flight_drain_minutes)
    since = i.as_of - i.rollback_at
    users = [f.user_id for f in i.in_flight][: ctx.profile.integrity_max_listed]
    fields: dict[str, Any] = dict(
        measured=f"{len(i.in_flight)} v2 imports still processing",
        threshold=f"none still processing {ctx.profile.in_flight_drain_minutes} min after the "
        "rollback",
        window=Window(i.rollback_at, i.as_of),
        sample_size=len(i.in_flight),
        details={"users": users},
    )
    if not i.in_flight:
        return Result(
            "", PASS, "every v2 import started before the rollback has finished", **fields
        )
    if since < wait:
        return Result(
            "",
            UNDECIDED,
            f"{len(i.in_flight)} still processing "
            f"{since.total_seconds() / 60:.0f} min after the rollback: wait up to "
            f"{ctx.profile.in_flight_drain_minutes} min",
            **fields,
        )
    return Result(
        "",
        FAIL,
        f"{len(i.in_flight)} v2 imports still processing "
        f"{since.total_seconds() / 60:.0f} min after the rollback: {', '.join(users)}",
        **fields,
    )
