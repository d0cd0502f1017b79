"""How long imports take (runbook Query 3), per slice of a stage and against stage 1."""

from __future__ import annotations

from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.stage import DurationComparison, DurationSlices
from cutover.outcome import Result
from cutover.sources.imports import Durations
from cutover.statistics import slowdown_test
from cutover.timeutil import iso


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
        return result(
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
    profile = ctx.profile
    common = dict(
        threshold=f"mean no more than {profile.duration_slowdown_max_pct:g}% above stage 1's, "
        "or the slowdown is not significant (one-sided Mann-Whitney)",
        window=c.current.window,
        sample_size=c.current.count,
        query_sha256=c.current.query_sha256,
    )
    if c.baseline_bins is None:
        return result(
            UNDECIDED,
            "no stage 1 duration checkpoint in the ledger: run the stage 1 "
            "gate at its last checkpoint first",
            **common,
        )
    baseline = [m for m, n in sorted(c.baseline_bins.items()) for _ in range(n)]
    current = c.current.values()
    if len(baseline) < profile.min_settled_imports or len(current) < profile.min_settled_imports:
        return result(
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
    return result(
        FAIL if test.slower else PASS,
        "slower than stage 1" if test.slower else "no significant slowdown",
        measured=measured,
        **common,
    )
