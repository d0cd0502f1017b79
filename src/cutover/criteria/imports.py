"""Imports that hang, and imports that stop coming (runbook Queries 2 and 6)."""

from __future__ import annotations

from datetime import timedelta

from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.stage import StuckStatus, Traffic
from cutover.outcome import Result
from cutover.timeutil import iso

NO_IMPORTS = (
    "no v2 import started in the window: nothing to judge (no traffic, an empty table, or "
    "rows that this role's row-level security hides)"
)


def stuck_imports(s: StuckStatus, ctx: Context) -> Result:
    profile = ctx.profile
    allowance = profile.stuck_after_minutes + profile.stuck_resolved_within_minutes
    overdue = [i for i in s.stuck_now if i.minutes_stuck > allowance]
    pending = [i for i in s.stuck_now if i.minutes_stuck <= allowance]
    late = sum(n for minutes, n in s.completed_minutes.items() if minutes > allowance)
    threshold = (
        f"0 stuck (processing > {profile.stuck_after_minutes} min), or each resolved "
        f"within {profile.stuck_resolved_within_minutes} min"
    )
    details = {"stuck_users": [i.user_id for i in s.stuck_now][: profile.integrity_max_listed]}
    common = dict(
        measured=f"{len(s.stuck_now)} stuck now, {late} resolved late",
        threshold=threshold,
        window=s.window,
        details=details,
        sample_size=len(s.stuck_now),
    )
    if overdue or late:
        oldest = max((i.minutes_stuck for i in overdue), default=0)
        reason = f"{len(overdue)} stuck past {allowance} min (oldest {oldest} min)"
        if late:
            reason += f"; {late} finished only after more than {allowance} min"
        return result(FAIL, reason, **common)
    if pending:
        return result(
            UNDECIDED,
            f"{len(pending)} stuck imports may still resolve in time; measure again within "
            f"{profile.stuck_resolved_within_minutes / 60:g} h",
            **common,
        )
    if s.started == 0:
        return result(UNDECIDED, NO_IMPORTS, **common)
    return result(PASS, f"no stuck imports of {s.started} started", **common)


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
    common = dict(
        threshold="imports every full hour since the stage started",
        window=t.window,
        sample_size=total,
    )
    if not full_hours:
        return result(UNDECIDED, "no full hour since the stage started", **common)
    if total == 0:
        return result(
            FAIL,
            "no import at all since the stage started: routing is broken",
            measured="0 imports",
            **common,
        )
    empty = [h for h in full_hours if counts.get(h, 0) == 0]
    expected = total / max(len(full_hours), 1)
    measured = f"{len(empty)} empty of {len(full_hours)} hours, {expected:.1f} imports/hour"
    if expected < ctx.profile.traffic_min_expected_per_hour:
        return result(
            UNDECIDED,
            f"{expected:.1f} imports/hour is too few to tell an empty hour from a quiet one",
            measured=measured,
            **common,
        )
    if empty:
        return result(
            FAIL,
            f"no imports in {len(empty)} hour(s), first {iso(empty[0])}: routing may be broken",
            measured=measured,
            **common,
        )
    return result(PASS, "imports every hour", measured=measured, **common)
