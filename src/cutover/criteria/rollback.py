"""The Emergency Rollback triggers: must we roll back now? Each carries the runbook's decision
table row (severity, timeframe) in its registration; the runner puts it in the evidence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cutover.criteria.coverage import coverage_details, rlm_log_coverage
from cutover.criteria.rates import RateDecision, decide_rate
from cutover.criteria.registry import Context, criterion
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.readings import SuccessCounts
from cutover.measure.rollback import (
    Integrity,
    RecentRates,
    RlmCrashSignals,
    SlowHistory,
    StuckNow,
)
from cutover.measure.stage import Complaints
from cutover.outcome import Action, Result, Window
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


def _stream_text(r: RecentRates) -> str:
    s = r.stream
    return f"settled v2 imports of {r.stream_of}, {iso(s.window.start)}..{iso(s.window.end)}"


@trigger("success_rate", "sql/q1_success_rate.sql", "Critical", "Now")
def success_rate(r: RecentRates, ctx: Context) -> Result:
    profile, c = ctx.profile, r.counts
    floor = profile.success_rate_min_pct
    rate, n = _rate_counts(c, ctx)
    decision = decide_rate(
        rate,
        c.settled,
        r.stream.complete,
        r.stream.settled,
        threshold_pct=floor,
        catastrophic_pct=profile.catastrophic_success_min_pct,
        profile=profile,
    )
    fields: dict[str, Any] = dict(
        measured=f"{rate}% of {n} ({profile.success_rate_basis}); Query 1 {c.query1_rate_pct}%"
        + _sequence_text(decision),
        threshold=f"roll back below {floor:g}% ({profile.decision_mode} mode; at once under "
        f"{profile.catastrophic_success_min_pct:g}%)",
        window=c.window,
        sample_size=n,
        query_sha256=c.query_sha256,
        details={"counts": c.as_record(), **decision.details(_stream_text(r))},
    )
    reason = decision.reason + (": roll back now" if decision.outcome is FAIL else "")
    return result(decision.outcome, reason, **fields)


@trigger("error_rate", "sql/q1_success_rate.sql", "Critical", "Now")
def error_rate(r: RecentRates, ctx: Context) -> Result:
    """Failed among settled imports; decided as its complement (not failed) against
    100 - ceiling, so the same rule and sequence serve both rates."""
    profile, c = ctx.profile, r.counts
    ceiling = profile.error_rate_max_pct
    pct = None if c.settled == 0 else round(100.0 * c.failed / c.settled, 2)
    decision = decide_rate(
        None if pct is None else round(100.0 - pct, 2),
        c.settled,
        r.stream.settled - r.stream.failed,
        r.stream.settled,
        threshold_pct=100.0 - ceiling,
        catastrophic_pct=100.0 - profile.catastrophic_error_max_pct,
        profile=profile,
        name="share not failed",
    )
    fields: dict[str, Any] = dict(
        measured=f"{c.failed} failed of {c.settled} settled ({pct}%)"
        + _sequence_text(decision, failed=True),
        threshold=f"roll back above {ceiling:g}% failed ({profile.decision_mode} mode; at "
        f"once over {profile.catastrophic_error_max_pct:g}%)",
        window=c.window,
        sample_size=c.settled,
        query_sha256=c.query_sha256,
        details=decision.details(_stream_text(r) + " (not failed of settled)"),
    )
    if decision.outcome is FAIL:
        return result(
            FAIL, f"{pct}% of imports failed (> {ceiling:g}%): {decision.reason}", **fields
        )
    shown = "" if pct is None else f"{pct}% failed; "
    return result(decision.outcome, shown + decision.reason, **fields)


def _sequence_text(decision: RateDecision, *, failed: bool = False) -> str:
    """The sequence's bounds; of the failed share when the decision ran on its complement."""
    cs = decision.sequence
    if cs is None:
        return ""
    low, high = (1 - cs.high, 1 - cs.low) if failed else (cs.low, cs.high)
    what = "failed " if failed else ""
    return f"; sequence {what}{100 * low:.2f}%..{100 * high:.2f}% of {cs.trials}"


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
    """Slow hours: >= max_slow_pct of the hour's imports took the slow limit or more, counting
    those still running past it (already slow). Only hours whose outcome is known decide: every
    import started in them is complete or older than the limit (hour end + limit <= the
    instant); later hours hold imports whose fate is not known yet. Under 6 h of slowness:
    HOLD and extend monitoring; past 6 h: roll back."""
    profile = ctx.profile
    persist = timedelta(hours=profile.slow_persist_hours)
    limit = timedelta(minutes=profile.slow_import_minutes)
    hours = sorted(h.hours, key=lambda x: x.hour)
    known = [x for x in hours if x.hour + timedelta(hours=1) + limit <= h.window.end]
    pending = [x for x in hours if x not in known]
    run_start: datetime | None = None
    for hour in reversed(known):
        if hour.known and 100.0 * hour.slow / hour.known >= profile.max_slow_pct:
            run_start = hour.hour
        else:
            break
    in_flight = sum(x.in_flight_slow for x in hours)
    young = sum(x.in_flight_young for x in hours)
    fields: dict[str, Any] = dict(
        threshold=f">= {profile.max_slow_pct:g}% of imports over "
        f"{profile.slow_import_minutes} min (in flight past it counted): hold while under "
        f"{profile.slow_persist_hours:g} h, roll back after",
        window=h.window,
        sample_size=sum(x.known for x in hours),
        details={
            "in_flight_slow": in_flight,
            "in_flight_unknown": young,
            "hours_known": len(known),
            "hours_pending": [
                {"hour": iso(x.hour), "slow": x.slow, "known": x.known} for x in pending
            ],
        },
    )
    censored = (
        f"; {in_flight} still in flight past {profile.slow_import_minutes} min counted as slow, "
        f"{young} younger left out; {len(pending)} latest hour(s) not known yet"
    )
    if not known:
        reason = (
            "no import started in the window"
            if not hours
            else "no hour's outcome is known yet (its imports are still younger than the limit)"
        )
        return result(UNDECIDED, reason + censored, measured=censored[2:], **fields)
    if run_start is None:
        return result(
            PASS,
            "the last known hour is not slow" + censored,
            measured="0 h slow" + censored,
            **fields,
        )
    known_until = known[-1].hour + timedelta(hours=1)
    lasted = (known_until - run_start).total_seconds() / 3600
    measured = f"slow since {iso(run_start)} ({lasted:.1f} h of known hours)" + censored
    if known_until - run_start >= persist:
        reason = f"imports over {profile.slow_import_minutes} min for {lasted:.1f} h: roll back"
        return result(FAIL, reason + censored, measured=measured, on_fail=Action.ROLLBACK, **fields)
    reason = (
        f"imports over {profile.slow_import_minutes} min for under "
        f"{profile.slow_persist_hours:g} h: hold and extend monitoring"
    )
    return result(FAIL, reason + censored, measured=measured, on_fail=Action.HOLD, **fields)


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
def complaints(c: Complaints, ctx: Context) -> Result:
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
