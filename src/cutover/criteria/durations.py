"""How long imports take (runbook Query 3), per slice of a stage and against stage 1."""

from __future__ import annotations

import numpy as np

from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, noting_set_aside, result
from cutover.measure.readings import Durations
from cutover.measure.stage import DurationComparison, DurationSlices
from cutover.outcome import Result
from cutover.profile import Profile
from cutover.statistics import slowdown_sample, slowdown_test, zero_event_sample
from cutover.timeutil import iso


def duration(d: Durations, ctx: Context) -> Result:
    """Shares under `fast_import_minutes` and at or over `slow_import_minutes` (the profile's
    boundaries; Query 3's buckets are kept as evidence). An import still running past the slow
    limit is slow already and counts; a younger one in flight is unknown and left out."""
    profile = ctx.profile
    fast_limit, slow_limit = profile.fast_import_minutes, profile.slow_import_minutes
    in_flight = d.in_flight_count
    total = d.count + in_flight
    fast = sum(n for minutes, n in d.bins.items() if minutes < fast_limit)
    slow = sum(n for minutes, n in d.bins.items() if minutes >= slow_limit) + in_flight
    threshold = (
        f"> {profile.min_fast_pct:g}% under {fast_limit:g} min, "
        f"< {profile.max_slow_pct:g}% at {slow_limit:g} min or more (in flight past it counted)"
    )
    common = dict(
        threshold=threshold,
        window=d.window,
        sample_size=total,
        details={
            "bins": {f"{k:g}": v for k, v in d.bins.items()},
            "buckets": d.buckets,
            "in_flight_slow": in_flight,
            "in_flight_slow_bins": {f"{k:g}": v for k, v in d.in_flight_slow.items()},
        },
        query_sha256=d.query_sha256,
    )
    # a perfect record must be significant against each share's threshold
    alpha = profile.sequence_alpha
    needed = max(
        zero_event_sample(profile.max_slow_pct / 100, alpha),
        zero_event_sample(1 - profile.min_fast_pct / 100, alpha),
    )
    if total < needed:
        return result(
            UNDECIDED,
            f"{total} imports of known duration: with fewer than {needed} even all-fast ones "
            f"could not show under {profile.max_slow_pct:g}% slow (alpha {alpha:g}); about "
            f"{needed - total} more decide",
            measured=f"{total} imports ({in_flight} in flight counted as slow)",
            **common,
        )
    fast_pct, slow_pct = 100.0 * fast / total, 100.0 * slow / total
    measured = (
        f"{fast_pct:.1f}% under {fast_limit:g} min, {slow_pct:.1f}% at {slow_limit:g} min or "
        f"more ({in_flight} still in flight past it counted as slow)"
    )
    problems = []
    if fast_pct <= profile.min_fast_pct:
        problems.append(f"only {fast_pct:.1f}% finish under {fast_limit:g} min")
    if slow_pct >= profile.max_slow_pct:
        problems.append(f"{slow_pct:.1f}% take {slow_limit:g} min or more")
    outcome = FAIL if problems else PASS
    return result(outcome, "; ".join(problems) or measured, measured=measured, **common)


def duration_every(slices: DurationSlices, ctx: Context) -> Result:
    """Query 3 on each slice of the stage (stage 3: every 3 days); every slice must pass."""
    results = [duration(d, ctx) for d in slices.slices]
    if len(results) == 1:
        return results[0]
    labels = [f"{iso(d.window.start)}..{iso(d.window.end)}" for d in slices.slices]
    decided = list(zip(labels, results, strict=True))
    failed = [f"{label}: {r.reason}" for label, r in decided if r.outcome is FAIL]
    undecided = [f"{label}: {r.reason}" for label, r in decided if r.outcome is UNDECIDED]
    outcome = FAIL if failed else UNDECIDED if undecided else PASS
    reason = "; ".join(failed or undecided) or f"every {len(results)} slices pass"
    return result(
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
    """Ignores the checkpoints set aside, and says so."""
    return noting_set_aside(_duration_vs_stage1(c, ctx), c.set_aside)


def _duration_vs_stage1(c: DurationComparison, ctx: Context) -> Result:
    """Stage 2 against stage 1's recorded durations; imports in flight past the slow limit join
    both samples with their age so far (a lower bound: a slow import is not left out)."""
    profile = ctx.profile
    in_flight = c.current.in_flight_count
    counted = f"{in_flight} in flight past {profile.slow_import_minutes} min counted as slow"
    common = dict(
        measured=f"{c.current.count + in_flight} stage 2 durations ({counted})",
        threshold=f"mean no more than {profile.duration_slowdown_max_pct:g}% above stage 1's, "
        "or the slowdown is not significant (one-sided Mann-Whitney)",
        window=c.current.window,
        sample_size=c.current.count + c.current.in_flight_count,
        query_sha256=c.current.query_sha256,
        details={
            "in_flight_slow": c.current.in_flight_count,
            "baseline_in_flight_slow": sum(c.baseline_in_flight.values()),
        },
    )
    if c.baseline_bins is None:
        return result(
            UNDECIDED,
            "no stage 1 duration checkpoint in the ledger: run the stage 1 "
            "gate at its last checkpoint first",
            **common,
        )
    merged = dict(c.baseline_bins)
    for minutes, n in c.baseline_in_flight.items():
        merged[minutes] = merged.get(minutes, 0) + n
    baseline = [m for m, n in sorted(merged.items()) for _ in range(n)]
    current = c.current.values(in_flight=True)
    needed = _slowdown_minimum(baseline, profile)
    if len(baseline) < needed or len(current) < needed:
        more = max(needed - len(baseline), 0) + max(needed - len(current), 0)
        return result(
            UNDECIDED,
            f"{len(baseline)} stage 1 and {len(current)} stage 2 durations; the test needs "
            f"{needed} each for power {profile.power:g} to see a "
            f"{profile.duration_slowdown_max_pct:g}% slowdown: about {more} more decide",
            **common,
        )
    test = slowdown_test(
        baseline,
        current,
        max_slowdown_pct=profile.duration_slowdown_max_pct,
        alpha=profile.split_alpha,
    )
    common["measured"] = (
        f"mean {test.current_mean:.2f} min vs {test.baseline_mean:.2f} min "
        f"({test.ratio_pct:+.1f}%, p={test.p_value:.3g}; {counted})"
    )
    return result(
        FAIL if test.slower else PASS,
        "slower than stage 1" if test.slower else "no significant slowdown",
        **common,
    )


def _slowdown_minimum(baseline: list[float], profile: Profile) -> int:
    """Durations per stage for the rank test to see the allowed slowdown, from stage 1's
    spread (at least 2 in each; an empty baseline needs the formula's 2)."""
    if len(baseline) < 2:
        return 2
    values = np.asarray(baseline)
    mean = float(values.mean())
    cv = float(values.std(ddof=1)) / mean if mean > 0 else 0.0
    return slowdown_sample(
        cv, profile.duration_slowdown_max_pct, profile.split_alpha, profile.power
    )
