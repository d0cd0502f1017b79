"""Where requests go: the v1/v2 split the router logs, and calls that still reach v1."""

from __future__ import annotations

from cutover.criteria.coverage import coverage_details, rlm_log_coverage, router_log_coverage
from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, hours, result
from cutover.measure.logs import RoutingSplit, V1Traffic
from cutover.outcome import Result
from cutover.profile import Profile
from cutover.statistics import split_sample, split_test
from cutover.timeutil import iso


def routing_split(r: RoutingSplit, ctx: Context) -> Result:
    profile = ctx.profile
    counts = r.counts
    needed, why = split_minimum(r.percent, profile)
    threshold = (
        f"v2 share consistent with {r.percent}% (exact binomial, alpha={profile.split_alpha:g},"
        f" >= {needed} requests); every line logs v2RolloutPercent={r.percent}"
    )
    common = dict(
        threshold=threshold, window=r.window, sample_size=counts.v1 + counts.v2, source=counts.path
    )
    cover = router_log_coverage(counts, r.window, profile)
    wrong = {p: n for p, n in counts.percent_seen.items() if p != r.percent}
    test = split_test(
        counts.v1,
        counts.v2,
        r.percent,
        alpha=profile.split_alpha,
        min_requests=needed,
        why=why,
    )
    details = {
        "v1": counts.v1,
        "v2": counts.v2,
        "duplicates": counts.duplicates,
        "p_value": test.p_value,
        "ci_low": test.ci_low,
        "ci_high": test.ci_high,
        "percent_seen": counts.percent_seen,
        "coverage": coverage_details((("router_log", cover),), profile.integrity_max_listed),
    }
    measured = f"v2 {counts.v2} of {counts.v1 + counts.v2}" + (
        f" ({100 * test.observed_share:.2f}%, p={test.p_value:.3g})"
        if test.observed_share is not None and test.p_value is not None
        else ""
    )
    if wrong:
        listed = ", ".join(f"{n} lines at {p}%" for p, n in sorted(wrong.items()))
        return result(
            FAIL,
            f"the router logged another percent ({listed}): the deploy did not take",
            measured=measured,
            details=details,
            **common,
        )
    if not cover.complete:
        # Another percent may sit in a gap, and the split of the covered part may be biased (an
        # unreadable stretch hides lines of one kind as easily as of the other).
        reason = f"{cover.gaps_reason()}: the split over the covered part proves nothing"
        return result(UNDECIDED, reason, measured=measured, details=details, **common)
    return result(test.outcome, test.reason, measured=measured, details=details, **common)


def split_minimum(percent: int, profile: Profile) -> tuple[int, str]:
    """Requests the split test needs: the power to see the router `split_shift_pct` points off
    (at 0% and 100% the router is deterministic and one request out of place decides)."""
    if percent in (0, 100):
        return 1, "the router is deterministic at this percent"
    shift, power = profile.split_shift_pct, profile.power
    needed = split_sample(percent, shift, profile.split_alpha, power)
    return needed, f"power {power:g} to see a router {shift:g} points off {percent}%"


def v1_traffic(v: V1Traffic, ctx: Context) -> Result:
    profile = ctx.profile
    threshold = (
        f"0 `[DEPRECATED] /process-full called` lines in {iso(v.window.start)}..{iso(v.window.end)}"
    )
    cover = rlm_log_coverage(v.logs, v.window, profile)
    coverage = coverage_details((("rlm_log", cover),), profile.integrity_max_listed)
    common = dict(
        threshold=threshold,
        window=v.window,
        source=v.logs.path,
        measured=f"{v.logs.deprecated_calls} v1 calls",
    )
    if v.logs.deprecated_calls:
        users = sorted(v.logs.deprecated_users)[: profile.integrity_max_listed]
        return result(
            FAIL,
            f"{v.logs.deprecated_calls} v1 calls from {len(v.logs.deprecated_users)} "
            f"users; check V2_ROLLOUT_PERCENT, the deploy, and hard-coded v1 clients",
            details={"users": users, "coverage": coverage},
            **common,
        )
    details = {"coverage": coverage}
    if not cover.complete:
        reason = f"{cover.gaps_reason()}: zero hits there prove nothing"
        return result(UNDECIDED, reason, details=details, **common)
    length = v.window.end - (v.window.start or v.window.end)
    if length < v.required:
        return result(
            UNDECIDED,
            f"only {hours(length)} at this stage so far; the runbook asks for "
            f"{hours(v.required)} without v1 calls",
            details=details,
            **common,
        )
    return result(PASS, "no v1 call in the window", details=details, **common)
