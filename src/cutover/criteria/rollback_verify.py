"""Did the rollback take? Routing back on v1 and in-flight v2 imports drained. (The percent and
the RLM's health are asked here too: see `rollout` and `rlm`.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cutover.criteria.coverage import coverage_details, router_log_coverage
from cutover.criteria.registry import Context, criterion
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.rollback import InFlightAfterRollback, RoutingAfterRollback
from cutover.outcome import Action, Result, Window
from cutover.statistics import split_test, zero_event_sample
from cutover.timeutil import iso


@criterion("rollback_verify.routing_all_v1", on_fail=Action.ROLLBACK, source="router logs")
def routing_all_v1(r: RoutingAfterRollback, ctx: Context) -> Result:
    counts = r.counts
    cover = router_log_coverage(counts, r.window, ctx.profile)
    fields: dict[str, Any] = dict(
        measured=f"{counts.v2} v2 of {counts.v1 + counts.v2} routed requests",
        threshold="no request routed to v2 after the rollback",
        window=r.window,
        sample_size=counts.v1 + counts.v2,
        source=counts.path,
        details={
            "duplicates": counts.duplicates,
            "coverage": coverage_details(
                (("router_log", cover),), ctx.profile.integrity_max_listed
            ),
        },
    )
    if counts.v2:
        return result(
            FAIL,
            f"{counts.v2} requests still routed to v2 after "
            f"{iso(r.window.start)}: the rollback did not take",
            **fields,
        )
    if not cover.complete:
        return result(UNDECIDED, f"{cover.gaps_reason()}: zero v2 there proves nothing", **fields)
    # enough requests that a router still at the previous percent would have shown a v2 one
    alpha, previous = ctx.profile.verify_alpha, r.previous_percent
    # at 100% the router never sends a request to v1: one on v1 shows the rollback took
    needed = 1 if previous >= 100 else zero_event_sample(previous / 100, alpha)
    why = f"were the router still at {previous}%, 0 v2 in {needed:,} has p <= {alpha:g}"
    test = split_test(counts.v1, counts.v2, 0, alpha=alpha, min_requests=needed, why=why)
    return result(test.outcome, test.reason, **fields)


@criterion("rollback_verify.in_flight_drained", on_fail=Action.HOLD, source="sql/in_flight.sql")
def in_flight_drained(i: InFlightAfterRollback, ctx: Context) -> Result:
    drain = ctx.profile.in_flight_drain_minutes
    minutes = (i.as_of - i.rollback_at).total_seconds() / 60
    users = [f.user_id for f in i.in_flight][: ctx.profile.integrity_max_listed]
    fields: dict[str, Any] = dict(
        measured=f"{len(i.in_flight)} v2 imports still processing",
        threshold=f"none still processing {drain} min after the rollback",
        window=Window(i.rollback_at, i.as_of),
        sample_size=len(i.in_flight),
        details={"users": users},
    )
    if not i.in_flight:
        return result(PASS, "every v2 import started before the rollback has finished", **fields)
    if i.as_of - i.rollback_at < timedelta(minutes=drain):
        reason = (
            f"{len(i.in_flight)} still processing {minutes:.0f} min after the rollback: "
            f"wait up to {drain} min"
        )
        return result(UNDECIDED, reason, **fields)
    reason = (
        f"{len(i.in_flight)} v2 imports still processing {minutes:.0f} min after the rollback: "
        f"{', '.join(users)}"
    )
    return result(FAIL, reason, **fields)
