"""The stage gates' criteria (runbook stages 1-4). Pure: measurement + profile -> Result.

One function serves every stage that shares the logic; the ids are registered per stage, with
the runbook's consequence of a failure: stages 1-2 roll back, stages 3-4 hold and investigate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cutover.criteria.registry import Context, CriterionFn, criterion
from cutover.measure import (
    Complaints,
    DurationComparison,
    DurationSlices,
    ErrorSignatures,
    NewErrorPatterns,
    RlmStability,
    Rollbacks,
    RoutingSplit,
    StageProgress,
    StuckStatus,
    SuccessSeries,
    Traffic,
    V1Traffic,
)
from cutover.outcome import Action, Outcome, Result, Window
from cutover.sources.imports import Durations
from cutover.sources.metrics import MetricPoint, series_by_instance
from cutover.sources.rlm_http import RemovalProbe
from cutover.statistics import mann_kendall_trend, slowdown_test, split_test
from cutover.timeutil import iso

PASS, FAIL, UNDECIDED = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE


def _r(outcome: Outcome, reason: str, **fields: Any) -> Result:
    """A result whose id the runner fills in (one function serves several stages)."""
    return Result("", outcome, reason, **fields)


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def coverage_gap(
    first: datetime | None, last: datetime | None, window: Window, slack: timedelta, what: str
) -> str | None:
    """Why a file does not cover the window (None: it does). Zero hits outside it mean nothing."""
    start = window.start or window.end
    if first is None or last is None:
        return f"{what} has no timestamped line"
    if first > start + slack or last < window.end - slack:
        covered = f"{iso(first)}..{iso(last)}"
        return f"{what} covers {covered}, not the window {iso(start)}..{iso(window.end)}"
    return None


# -- elapsed ------------------------------------------------------------------------------------


def elapsed(p: StageProgress, ctx: Context) -> Result:
    plan = p.plan
    threshold = f">= {_hours(plan.duration)} at {plan.percent}% since stage {plan.number} started"
    if p.started is None:
        return Result(
            "",
            UNDECIDED,
            f"no stage {plan.number} start in the ledger by {iso(p.as_of)}; "
            f"record it with `cutover stage start {plan.number} --at <time>`",
            threshold=threshold,
            window=Window(None, p.as_of),
        )
    end = p.ended or p.as_of
    ran = end - p.started
    window = Window(p.started, end)
    if p.ended is not None and ran < plan.duration:
        return Result(
            "",
            FAIL,
            f"stage {plan.number} ended after {_hours(ran)} by a {p.ended_by} at "
            f"{iso(p.ended)}: restart it and wait the full {_hours(plan.duration)}",
            measured=_hours(ran),
            threshold=threshold,
            window=window,
        )
    if ran < plan.duration:
        return Result(
            "",
            UNDECIDED,
            f"{_hours(ran)} of {_hours(plan.duration)} elapsed: wait until "
            f"{iso(p.started + plan.duration)}",
            measured=_hours(ran),
            threshold=threshold,
            window=window,
        )
    return _r(
        PASS,
        f"{_hours(ran)} at {plan.percent}%",
        measured=_hours(ran),
        threshold=threshold,
        window=window,
    )


def deprecation_elapsed(p: StageProgress, ctx: Context) -> Result:
    """Stage 4: 7+ days of deprecation and 14+ days at 100% in all (since stage 3 started)."""
    base = elapsed(p, ctx)
    if base.outcome is not PASS:
        return base
    total_needed = timedelta(days=14)
    since = p.hundred_percent_since
    threshold = f"{base.threshold}, and >= 14 days at 100% since stage 3 started"
    if since is None:
        return _r(UNDECIDED, "no stage 3 start in the ledger", threshold=threshold)
    total = p.as_of - since
    outcome = PASS if total >= total_needed else UNDECIDED
    reason = f"{total.days} days at 100% (stage 3 started {iso(since)})"
    if outcome is UNDECIDED:
        reason += f": wait until {iso(since + total_needed)}"
    return _r(
        outcome,
        reason,
        measured=f"{total.total_seconds() / 86400:.1f} days",
        threshold=threshold,
        window=Window(since, p.as_of),
    )


# -- success rate -------------------------------------------------------------------------------


def success_rate(s: SuccessSeries, ctx: Context) -> Result:
    profile = ctx.profile
    basis = profile.success_rate_basis
    key = "query1_rate_pct" if basis == "query1" else "settled_rate_pct"
    minimum, floor = profile.min_settled_imports, profile.success_rate_min_pct
    failed, undecided, shown = [], [], []
    for reading in s.readings:
        if reading.counts is None:
            undecided.append(
                f"checkpoint {reading.label} ({iso(reading.due)}) has no record; backfill it: "
                f"pytest -m {ctx.criterion.split('.')[0]}_gate --as-of {iso(reading.due)}"
            )
            continue
        rate, settled = (
            reading.counts.get(key),
            int(reading.counts.get("complete", 0))
            + int(reading.counts.get("failed", 0))
            + int(reading.counts.get("stuck", 0)),
        )
        shown.append(f"{reading.label}: {rate}% of {settled}")
        if rate is None or settled < minimum:
            undecided.append(
                f"checkpoint {reading.label}: {settled} settled imports, below {minimum}"
            )
        elif float(rate) < floor:
            failed.append(f"checkpoint {reading.label}: {rate}% < {floor:g}%")
    current = s.current
    details = {
        "current": {"as_of": iso(s.window.end), **current.as_record()},
        "basis": basis,
        "checkpoints": [
            {
                "label": r.label,
                "due": iso(r.due),
                "as_of": iso(r.as_of),
                "origin": r.origin,
                "reconstructed": r.reconstructed,
            }
            for r in s.readings
        ],
    }
    measured = "; ".join(shown) or "no checkpoint due yet"
    common = dict(
        measured=measured,
        threshold=f">= {floor:g}% ({basis} basis) at every checkpoint, "
        f">= {minimum} settled imports each",
        window=s.window,
        sample_size=current.settled,
        details=details,
        query_sha256=current.query_sha256,
    )
    note = (
        f" (this run: {current.settled_rate_pct}% settled, Query 1 {current.query1_rate_pct}% "
        f"with {current.in_flight} in flight left out)"
    )
    if failed:
        return _r(FAIL, "; ".join(failed) + note, **common)
    if undecided or not s.readings:
        first = s.not_yet_due[0] if s.not_yet_due else "none"
        reasons = undecided or [f"no checkpoint due yet (the first is {first})"]
        return _r(UNDECIDED, "; ".join(reasons) + note, **common)
    return _r(PASS, f"every due checkpoint >= {floor:g}%" + note, **common)


# -- stuck imports ------------------------------------------------------------------------------


def stuck_imports(s: StuckStatus, ctx: Context) -> Result:
    profile = ctx.profile
    allowance = profile.stuck_after_minutes + profile.stuck_resolved_within_minutes
    overdue = [i for i in s.stuck_now if i.minutes_stuck > allowance]
    pending = [i for i in s.stuck_now if i.minutes_stuck <= allowance]
    threshold = (
        f"0 stuck (processing > {profile.stuck_after_minutes} min), or each resolved "
        f"within {profile.stuck_resolved_within_minutes} min"
    )
    details = {"stuck_users": [i.user_id for i in s.stuck_now][: profile.integrity_max_listed]}
    measured = f"{len(s.stuck_now)} stuck now, {s.resolved_late} resolved late"
    common = dict(
        measured=measured,
        threshold=threshold,
        window=s.window,
        details=details,
        sample_size=len(s.stuck_now),
    )
    if overdue or s.resolved_late:
        oldest = max((i.minutes_stuck for i in overdue), default=0)
        reason = f"{len(overdue)} stuck past {allowance} min (oldest {oldest} min)"
        if s.resolved_late:
            reason += f"; {s.resolved_late} finished only after more than {allowance} min"
        return _r(FAIL, reason, **common)
    if pending:
        return _r(
            UNDECIDED,
            f"{len(pending)} stuck imports may still resolve in time; measure again within 2 h",
            **common,
        )
    return _r(PASS, "no stuck imports", **common)


# -- errors -------------------------------------------------------------------------------------


def systemic_errors(e: ErrorSignatures, ctx: Context) -> Result:
    systemic = [s for s in e.signatures if s.kind == "systemic"]
    details = {"signatures": {s.text: s.kind for s in e.signatures}}
    measured = f"{len(systemic)} systemic of {len(e.signatures)} signatures"
    common = dict(
        measured=measured,
        threshold="no systemic error signature (Query 4)",
        window=e.window,
        sample_size=sum(s.count for s in e.signatures),
        details=details,
    )
    if systemic:
        listed = "; ".join(f"{s.text!r} x{s.count} ({s.users} users)" for s in systemic[:5])
        return _r(FAIL, f"systemic errors: {listed}", **common)
    return _r(PASS, "no systemic error signature", **common)


def new_error_patterns(n: NewErrorPatterns, ctx: Context) -> Result:
    current = {s.text: s for s in n.current.signatures if s.kind != "user"}
    details = {"signatures": {s.text: s.kind for s in n.current.signatures}}
    common = dict(
        threshold="no error signature that stage 1 did not have (user-specific aside)",
        window=n.current.window,
        details=details,
    )
    if n.baseline is None:
        return _r(
            UNDECIDED,
            "no stage 1 error signatures in the ledger: run the stage 1 "
            "gate at its last checkpoint first",
            **common,
        )
    new = [s for text, s in current.items() if text not in n.baseline]
    measured = f"{len(new)} new of {len(current)}"
    if new:
        listed = "; ".join(f"{s.text!r} x{s.count}" for s in new[:5])
        return _r(FAIL, f"new error patterns: {listed}", measured=measured, **common)
    return _r(PASS, "no new error pattern", measured=measured, **common)


# -- complaints ---------------------------------------------------------------------------------


def complaints(c: Complaints, ctx: Context) -> Result:
    window = c.window
    start = window.start or window.end
    grace = timedelta(minutes=ctx.profile.attestation_grace_minutes)
    threshold = "0 import-failure complaints, attested over the whole stage window"
    relevant = [a for a in c.attestations if a[1] > start and a[0] < window.end]
    complained = [a for a in relevant if a[2] > 0]
    common = dict(threshold=threshold, window=window, sample_size=len(relevant))
    if complained:
        listed = "; ".join(f"{n} by {by} ({iso(s)}..{iso(u)})" for s, u, n, by in complained)
        return _r(
            FAIL,
            f"complaints attested: {listed}",
            measured=str(sum(a[2] for a in complained)),
            **common,
        )
    covered_to = start
    for since, until, _, _ in sorted(relevant):
        if since > covered_to + grace:
            break
        covered_to = max(covered_to, until)
    if not relevant or covered_to < window.end - grace:
        return _r(
            UNDECIDED,
            f"complaints are attested up to {iso(covered_to)}, not "
            f"{iso(window.end)}: record `cutover attest complaints --count N --by NAME`",
            measured="not attested",
            **common,
        )
    return _r(
        PASS,
        f"0 complaints, attested by {', '.join(sorted({a[3] for a in relevant}))}",
        measured="0",
        **common,
    )


# -- RLM stability ------------------------------------------------------------------------------


def hourly_means(points: Sequence[MetricPoint]) -> list[tuple[float, float | None]]:
    """(memory, cpu) means per clock hour. Samples minutes apart are autocorrelated, which
    would make a trend test over-confident; hourly means are closer to independent."""
    buckets: dict[datetime, list[MetricPoint]] = {}
    for point in points:
        buckets.setdefault(point.timestamp.replace(minute=0, second=0, microsecond=0), []).append(
            point
        )
    means: list[tuple[float, float | None]] = []
    for _, group in sorted(buckets.items()):
        cpus = [p.cpu_percent for p in group if p.cpu_percent is not None]
        memory = sum(p.memory_mb for p in group) / len(group)
        means.append((memory, sum(cpus) / len(cpus) if len(cpus) == len(group) else None))
    return means


def rlm_stability(r: RlmStability, ctx: Context) -> Result:
    profile = ctx.profile
    slack = timedelta(minutes=profile.log_coverage_slack_minutes)
    threshold = (
        f"no OOM or crash; no significant upward memory trend growing > "
        f"{profile.memory_growth_max_pct:g}% over the window"
        + (f" (CPU > {profile.cpu_growth_max_pct:g}%)" if r.check_cpu else "")
    )
    logs = r.logs
    measured = (
        f"{logs.oom_kills} OOM, {logs.crashes} crashes, "
        f"{logs.processors_unavailable} processors unavailable"
    )
    common = dict(threshold=threshold, window=r.window, source=f"{logs.path}; {r.metrics.path}")
    if logs.oom_kills or logs.crashes or logs.processors_unavailable:
        return _r(FAIL, f"RLM logs show {measured}", measured=measured, **common)
    gaps = [
        g
        for g in (
            coverage_gap(logs.first_seen, logs.last_seen, r.window, slack, "the RLM log"),
            coverage_gap(r.metrics.first_seen, r.metrics.last_seen, r.window, slack, "the metrics"),
        )
        if g
    ]
    if gaps:
        return _r(UNDECIDED, "; ".join(gaps), measured=measured, **common)
    trends, problems = [], []
    for instance, points in sorted(series_by_instance(r.metrics).items()):
        hours = hourly_means(points)
        if len(hours) < profile.min_trend_points:
            problems.append(
                f"{instance or 'series'}: {len(hours)} hourly points, below "
                f"{profile.min_trend_points}"
            )
            continue
        series = [("memory", [h[0] for h in hours], profile.memory_growth_max_pct)]
        cpu = [h[1] for h in hours if h[1] is not None]
        if r.check_cpu and len(cpu) == len(hours):
            series.append(("cpu", cpu, profile.cpu_growth_max_pct))
        for name, values, max_growth in series:
            test = mann_kendall_trend(values, alpha=profile.trend_alpha)
            level = sorted(values)[len(values) // 2] or 1.0
            growth = 100.0 * (test.slope_per_step or 0.0) * (len(values) - 1) / level
            trends.append(
                f"{name} {growth:+.1f}% (p={test.p_value:.3g})"
                if test.p_value is not None
                else name
            )
            if test.increasing and growth > max_growth:
                problems.append(
                    f"{instance or 'series'} {name} rises {growth:.1f}% over the window "
                    f"(Mann-Kendall p={test.p_value:.2g}, Theil-Sen slope)"
                )
    measured += "; " + ", ".join(trends)
    if any("rises" in p for p in problems):
        return _r(
            FAIL,
            "; ".join(p for p in problems if "rises" in p),
            measured=measured,
            sample_size=len(r.metrics.points),
            **common,
        )
    if problems or not r.metrics.points:
        return _r(
            UNDECIDED,
            "; ".join(problems) or "no metric points in the window",
            measured=measured,
            **common,
        )
    return _r(
        PASS,
        "no OOM or crash, no upward resource trend",
        measured=measured,
        sample_size=len(r.metrics.points),
        **common,
    )


# -- durations ----------------------------------------------------------------------------------


def duration(d: Durations, ctx: Context) -> Result:
    profile = ctx.profile
    total = sum(d.buckets.values())
    fast = d.buckets.get("<5min", 0) + d.buckets.get("5-10min", 0)
    slow = d.buckets.get(">30min", 0)
    threshold = (
        f"> {profile.min_fast_pct:g}% under {profile.fast_import_minutes} min, "
        f"< {profile.max_slow_pct:g}% in >30min"
    )
    common = dict(
        threshold=threshold,
        window=d.window,
        sample_size=total,
        details={"bins": {f"{k:g}": v for k, v in d.bins.items()}, "buckets": d.buckets},
        query_sha256=d.query_sha256,
    )
    if total < profile.min_settled_imports:
        return _r(
            UNDECIDED,
            f"{total} complete imports, below {profile.min_settled_imports}",
            measured=f"{total} imports",
            **common,
        )
    fast_pct, slow_pct = 100.0 * fast / total, 100.0 * slow / total
    measured = f"{fast_pct:.1f}% under 10 min, {slow_pct:.1f}% over 30 min"
    problems = []
    if fast_pct <= profile.min_fast_pct:
        problems.append(f"only {fast_pct:.1f}% finish under {profile.fast_import_minutes} min")
    if slow_pct >= profile.max_slow_pct:
        problems.append(f"{slow_pct:.1f}% take 30 min or more")
    return _r(
        FAIL if problems else PASS, "; ".join(problems) or measured, measured=measured, **common
    )


def duration_every(slices: DurationSlices, ctx: Context) -> Result:
    """Query 3 on each slice of the stage (stage 3: every 3 days); every slice must pass."""
    results = [duration(d, ctx) for d in slices.slices]
    if len(results) == 1:
        return results[0]
    labels = [f"{iso(d.window.start)}..{iso(d.window.end)}" for d in slices.slices]
    failed = [
        f"{label}: {r.reason}"
        for label, r in zip(labels, results, strict=True)
        if r.outcome is FAIL
    ]
    undecided = [
        f"{label}: {r.reason}"
        for label, r in zip(labels, results, strict=True)
        if r.outcome is UNDECIDED
    ]
    outcome = FAIL if failed else UNDECIDED if undecided else PASS
    reason = "; ".join(failed or undecided) or f"every {len(results)} slices pass"
    return _r(
        outcome,
        reason,
        measured="; ".join(str(r.measured) for r in results),
        threshold=f"{results[0].threshold}, in every slice of the stage",
        window=slices.window,
        sample_size=sum(r.sample_size or 0 for r in results),
        details={"slices": [r.details for r in results]},
        query_sha256=results[0].query_sha256,
    )


def duration_vs_stage1(c: DurationComparison, ctx: Context) -> Result:
    profile = ctx.profile
    threshold = (
        f"mean no more than {profile.duration_slowdown_max_pct:g}% above stage 1's, "
        "or the slowdown is not significant (one-sided Mann-Whitney)"
    )
    common = dict(
        threshold=threshold,
        window=c.current.window,
        sample_size=c.current.count,
        query_sha256=c.current.query_sha256,
    )
    if c.baseline_bins is None:
        return _r(
            UNDECIDED,
            "no stage 1 duration checkpoint in the ledger: run the stage 1 "
            "gate at its last checkpoint first",
            **common,
        )
    baseline = [m for m, n in sorted(c.baseline_bins.items()) for _ in range(n)]
    current = c.current.values()
    if len(baseline) < profile.min_settled_imports or len(current) < profile.min_settled_imports:
        return _r(
            UNDECIDED,
            f"{len(baseline)} stage 1 and {len(current)} stage 2 durations; "
            f"need {profile.min_settled_imports} each",
            **common,
        )
    test = slowdown_test(
        baseline,
        current,
        max_slowdown_pct=profile.duration_slowdown_max_pct,
        alpha=profile.split_alpha,
    )
    measured = (
        f"mean {test.current_mean:.2f} min vs {test.baseline_mean:.2f} min "
        f"({test.ratio_pct:+.1f}%, p={test.p_value:.3g})"
    )
    return _r(
        FAIL if test.slower else PASS,
        "slower than stage 1" if test.slower else "no significant slowdown",
        measured=measured,
        **common,
    )


# -- traffic and routing ------------------------------------------------------------------------


def traffic(t: Traffic, ctx: Context) -> Result:
    start = t.window.start or t.window.end
    floor = start.replace(minute=0, second=0, microsecond=0)
    first_hour = floor if floor == start else floor + timedelta(hours=1)  # first full hour
    full_hours = []
    hour = first_hour
    while hour + timedelta(hours=1) <= t.window.end:
        full_hours.append(hour)
        hour += timedelta(hours=1)
    counts = {h.hour: h.started for h in t.hours}
    total = sum(counts.values())
    threshold = "imports every full hour since the stage started"
    common = dict(threshold=threshold, window=t.window, sample_size=total)
    if not full_hours:
        return _r(UNDECIDED, "no full hour since the stage started", **common)
    if total == 0:
        return _r(
            FAIL,
            "no import at all since the stage started: routing is broken",
            measured="0 imports",
            **common,
        )
    empty = [h for h in full_hours if counts.get(h, 0) == 0]
    expected = total / max(len(full_hours), 1)
    measured = f"{len(empty)} empty of {len(full_hours)} hours, {expected:.1f} imports/hour"
    if expected < ctx.profile.traffic_min_expected_per_hour:
        return _r(
            UNDECIDED,
            f"{expected:.1f} imports/hour is too few to tell an empty hour from a quiet one",
            measured=measured,
            **common,
        )
    if empty:
        return _r(
            FAIL,
            f"no imports in {len(empty)} hour(s), first {iso(empty[0])}: routing may be broken",
            measured=measured,
            **common,
        )
    return _r(PASS, "imports every hour", measured=measured, **common)


def routing_split(r: RoutingSplit, ctx: Context) -> Result:
    profile = ctx.profile
    counts = r.counts
    slack = timedelta(minutes=profile.log_coverage_slack_minutes)
    threshold = (
        f"v2 share consistent with {r.percent}% (exact binomial, alpha={profile.split_alpha:g},"
        f" >= {profile.split_min_requests} requests); every line logs v2RolloutPercent={r.percent}"
    )
    common = dict(
        threshold=threshold, window=r.window, sample_size=counts.v1 + counts.v2, source=counts.path
    )
    gap = coverage_gap(counts.first_seen, counts.last_seen, r.window, slack, "the router log")
    if gap:
        return _r(UNDECIDED, gap, **common)
    wrong = {p: n for p, n in counts.percent_seen.items() if p != r.percent}
    test = split_test(
        counts.v1,
        counts.v2,
        r.percent,
        alpha=profile.split_alpha,
        min_requests=profile.split_min_requests,
    )
    details = {
        "v1": counts.v1,
        "v2": counts.v2,
        "p_value": test.p_value,
        "ci_low": test.ci_low,
        "ci_high": test.ci_high,
        "percent_seen": counts.percent_seen,
    }
    measured = f"v2 {counts.v2} of {counts.v1 + counts.v2}" + (
        f" ({100 * test.observed_share:.2f}%, p={test.p_value:.3g})"
        if test.observed_share is not None and test.p_value is not None
        else ""
    )
    if wrong:
        listed = ", ".join(f"{n} lines at {p}%" for p, n in sorted(wrong.items()))
        return _r(
            FAIL,
            f"the router logged another percent ({listed}): the deploy did not take",
            measured=measured,
            details=details,
            **common,
        )
    return _r(test.outcome, test.reason, measured=measured, details=details, **common)


# -- v1 traffic and rollbacks -------------------------------------------------------------------


def v1_traffic(v: V1Traffic, ctx: Context) -> Result:
    slack = timedelta(minutes=ctx.profile.log_coverage_slack_minutes)
    threshold = (
        f"0 `[DEPRECATED] /process-full called` lines in {iso(v.window.start)}..{iso(v.window.end)}"
    )
    common = dict(
        threshold=threshold,
        window=v.window,
        source=v.logs.path,
        measured=f"{v.logs.deprecated_calls} v1 calls",
    )
    if v.logs.deprecated_calls:
        users = sorted(v.logs.deprecated_users)[: ctx.profile.integrity_max_listed]
        return _r(
            FAIL,
            f"{v.logs.deprecated_calls} v1 calls from {len(v.logs.deprecated_users)} "
            f"users; check V2_ROLLOUT_PERCENT, the deploy, and hard-coded v1 clients",
            details={"users": users},
            **common,
        )
    gap = coverage_gap(v.logs.first_seen, v.logs.last_seen, v.window, slack, "the RLM log")
    if gap:
        return _r(UNDECIDED, gap + ": zero hits there prove nothing", **common)
    length = v.window.end - (v.window.start or v.window.end)
    if length < v.required:
        return _r(
            UNDECIDED,
            f"only {_hours(length)} at this stage so far; the runbook asks for "
            f"{_hours(v.required)} without v1 calls",
            **common,
        )
    return _r(PASS, "no v1 call in the window", **common)


def rollbacks(r: Rollbacks, ctx: Context) -> Result:
    common = dict(
        threshold="no rollback since stage 3 started",
        window=r.window,
        measured=f"{len(r.rollbacks)} rollbacks",
    )
    if r.rollbacks:
        listed = "; ".join(f"{iso(at)}: {reason}" for at, reason in r.rollbacks)
        return _r(FAIL, f"rollbacks during stage 3: {listed}", **common)
    return _r(PASS, "no rollback during stage 3", **common)


@criterion("v1_removal.endpoint_gone", on_fail=Action.HOLD, source="RLM POST /process-full")
def endpoint_gone(probe: RemovalProbe, ctx: Context) -> Result:
    """After the removal deploy, POST /process-full answers 404."""
    outcome = PASS if probe.status_code == 404 else FAIL
    reason = (
        "v1 is gone: 404"
        if outcome is PASS
        else f"{probe.url} answered {probe.status_code}: the v1 endpoint is still deployed"
    )
    return _r(
        outcome,
        reason,
        measured=str(probe.status_code),
        threshold="404 Not Found",
        source=probe.url,
    )


# -- registration -------------------------------------------------------------------------------

_STAGE_CRITERIA = {
    1: (
        "elapsed",
        "success_rate",
        "stuck_imports",
        "systemic_errors",
        "complaints",
        "rlm_stability",
        "duration",
        "traffic",
        "routing_split",
    ),
    2: (
        "elapsed",
        "success_rate",
        "stuck_imports",
        "duration_vs_stage1",
        "new_error_patterns",
        "complaints",
        "rlm_stability",
        "routing_split",
    ),
    3: (
        "elapsed",
        "success_rate",
        "v1_traffic",
        "rollbacks",
        "complaints",
        "rlm_stability",
        "duration",
        "routing_split",
    ),
    4: ("elapsed", "v1_traffic"),
}
_SOURCES = {
    "elapsed": "ledger",
    "success_rate": "sql/q1_success_rate.sql + ledger",
    "stuck_imports": "sql/q2_stuck_imports.sql",
    "systemic_errors": "sql/q4_error_patterns.sql",
    "new_error_patterns": "sql/q4_error_patterns.sql + ledger",
    "complaints": "ledger",
    "rlm_stability": "RLM logs + metrics",
    "duration": "sql/q3_duration_histogram.sql",
    "duration_vs_stage1": "sql/durations.sql + ledger",
    "traffic": "sql/q6_recent_timeline.sql",
    "routing_split": "router logs",
    "v1_traffic": "RLM logs",
    "rollbacks": "ledger",
}
_FUNCTIONS: dict[str, CriterionFn] = {
    "elapsed": elapsed,
    "success_rate": success_rate,
    "stuck_imports": stuck_imports,
    "systemic_errors": systemic_errors,
    "new_error_patterns": new_error_patterns,
    "complaints": complaints,
    "rlm_stability": rlm_stability,
    "duration": duration_every,  # one slice for stage 1; every 3 days in stage 3
    "duration_vs_stage1": duration_vs_stage1,
    "traffic": traffic,
    "routing_split": routing_split,
    "v1_traffic": v1_traffic,
    "rollbacks": rollbacks,
}

for _stage, _names in _STAGE_CRITERIA.items():
    for _name in _names:
        # a stage 1-2 failure means roll back; an unfinished or cut-short stage means hold
        _on_fail = Action.ROLLBACK if _stage <= 2 and _name != "elapsed" else Action.HOLD
        _fn: CriterionFn = _FUNCTIONS[_name]
        if (_stage, _name) == (4, "elapsed"):
            _fn = deprecation_elapsed
        criterion(f"stage{_stage}.{_name}", on_fail=_on_fail, source=_SOURCES[_name])(_fn)
