"""How long a stage has run, and whether it ran without a rollback (ledger-backed)."""

from __future__ import annotations

from datetime import timedelta

from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, hours, result
from cutover.measure.stage import Rollbacks, StageProgress
from cutover.outcome import Result, Window
from cutover.timeutil import iso


def elapsed(p: StageProgress, ctx: Context) -> Result:
    plan = p.plan
    threshold = f">= {hours(plan.duration)} at {plan.percent}% since stage {plan.number} started"
    if p.started is None:
        return result(
            UNDECIDED,
            f"no stage {plan.number} start in the ledger by {iso(p.as_of)}; "
            f"record it with `cutover stage start {plan.number} --at <time>`",
            threshold=threshold,
            window=Window(None, p.as_of),
        )
    end = p.ended or p.as_of
    ran = end - p.started
    common = dict(measured=hours(ran), threshold=threshold, window=Window(p.started, end))
    if p.ended is not None and ran < plan.duration:
        return result(
            FAIL,
            f"stage {plan.number} ended after {hours(ran)} by a {p.ended_by} at "
            f"{iso(p.ended)}: restart it and wait the full {hours(plan.duration)}",
            **common,
        )
    if ran < plan.duration:
        return result(
            UNDECIDED,
            f"{hours(ran)} of {hours(plan.duration)} elapsed: wait until "
            f"{iso(p.started + plan.duration)}",
            **common,
        )
    return result(PASS, f"{hours(ran)} at {plan.percent}%", **common)


def deprecation_elapsed(p: StageProgress, ctx: Context) -> Result:
    """Stage 4: its own days of deprecation, and the profile's days at 100% in all (since
    stage 3 started) before v1 may be removed."""
    base = elapsed(p, ctx)
    if base.outcome is not PASS:
        return base
    days = ctx.profile.days_at_100_before_removal
    total_needed = timedelta(days=days)
    since = p.hundred_percent_since
    threshold = f"{base.threshold}, and >= {days:g} days at 100% since stage 3 started"
    if since is None:
        return result(UNDECIDED, "no stage 3 start in the ledger", threshold=threshold)
    total = p.as_of - since
    outcome = PASS if total >= total_needed else UNDECIDED
    reason = f"{total.days} days at 100% (stage 3 started {iso(since)})"
    if outcome is UNDECIDED:
        reason += f": wait until {iso(since + total_needed)}"
    return result(
        outcome,
        reason,
        measured=f"{total.total_seconds() / 86400:.1f} days",
        threshold=threshold,
        window=Window(since, p.as_of),
    )


def rollbacks(r: Rollbacks, ctx: Context) -> Result:
    common = dict(
        threshold="no rollback since stage 3 started",
        window=r.window,
        measured=f"{len(r.rollbacks)} rollbacks",
    )
    if r.rollbacks:
        listed = "; ".join(f"{iso(at)}: {reason}" for at, reason in r.rollbacks)
        return result(FAIL, f"rollbacks during stage 3: {listed}", **common)
    return result(PASS, "no rollback during stage 3", **common)
