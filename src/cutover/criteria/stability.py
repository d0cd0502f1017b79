"""RLM stability: no OOM or crash in the logs, no upward memory (and CPU) trend in the metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cutover.criteria.coverage import (
    coverage_details,
    metrics_coverage,
    rlm_log_coverage,
    series_gaps,
)
from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.logs import RlmStability
from cutover.measure.readings import MetricPoint, series_by_instance
from cutover.outcome import Result
from cutover.profile import Profile
from cutover.statistics import mann_kendall_trend


def hourly_means(points: Sequence[MetricPoint]) -> list[tuple[float, float | None]]:
    """(memory, cpu) means per clock hour. Samples minutes apart are autocorrelated, which
    would make a trend test over-confident; hourly means are closer to independent."""
    buckets: dict[datetime, list[MetricPoint]] = {}
    for point in points:
        hour = point.timestamp.replace(minute=0, second=0, microsecond=0)
        buckets.setdefault(hour, []).append(point)
    means: list[tuple[float, float | None]] = []
    for _, group in sorted(buckets.items()):
        cpus = [p.cpu_percent for p in group if p.cpu_percent is not None]
        memory = sum(p.memory_mb for p in group) / len(group)
        means.append((memory, sum(cpus) / len(cpus) if len(cpus) == len(group) else None))
    return means


def rlm_stability(r: RlmStability, ctx: Context) -> Result:
    profile = ctx.profile
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
    log_cover = rlm_log_coverage(logs, r.window, profile)
    metrics_cover = metrics_coverage(r.metrics, r.window, profile)
    details = {
        "coverage": coverage_details(
            (("rlm_log", log_cover), ("metrics", metrics_cover)), profile.integrity_max_listed
        )
    }
    common = dict(
        threshold=threshold,
        window=r.window,
        source=f"{logs.path}; {r.metrics.path}",
        details=details,
    )
    if logs.oom_kills or logs.crashes or logs.processors_unavailable:
        return result(FAIL, f"RLM logs show {measured}", measured=measured, **common)
    gaps = [c.gaps_reason() for c in (log_cover, metrics_cover) if not c.complete]
    if gaps:
        return result(UNDECIDED, "; ".join(gaps), measured=measured, **common)
    broken = _broken_series(r, profile)
    if broken:
        reason = "no trend can be told across a gap in a metric series: " + "; ".join(broken)
        return result(UNDECIDED, reason, measured=measured, **common)
    trends, rising, short = _trends(r, profile)
    measured += "; " + ", ".join(trends)
    if rising:
        sample = len(r.metrics.points)
        return result(FAIL, "; ".join(rising), measured=measured, sample_size=sample, **common)
    if short or not r.metrics.points:
        reason = "; ".join(short) or "no metric points in the window"
        return result(UNDECIDED, reason, measured=measured, **common)
    return result(
        PASS,
        "no OOM or crash, no upward resource trend",
        measured=measured,
        sample_size=len(r.metrics.points),
        **common,
    )


def _broken_series(r: RlmStability, profile: Profile) -> list[str]:
    """Per instance, the first gap in its series (a trend is read per instance)."""
    tolerance = timedelta(minutes=profile.metrics_gap_minutes)
    broken = []
    for instance, points in sorted(series_by_instance(r.metrics).items()):
        gaps = series_gaps([p.timestamp for p in points], tolerance)
        if gaps:
            more = f" and {len(gaps) - 1} more" if len(gaps) > 1 else ""
            broken.append(f"{instance or 'series'} has no point in {gaps[0].describe()}{more}")
    return broken


def _trends(r: RlmStability, profile: Profile) -> tuple[list[str], list[str], list[str]]:
    """Per instance and series: the trend as measured, the ones that rise too much, and the
    instances with too few hourly points to tell."""
    trends: list[str] = []
    rising: list[str] = []
    short: list[str] = []
    for instance, points in sorted(series_by_instance(r.metrics).items()):
        name_of = instance or "series"
        hours = hourly_means(points)
        if len(hours) < profile.min_trend_points:
            short.append(f"{name_of}: {len(hours)} hourly points, below {profile.min_trend_points}")
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
                rising.append(
                    f"{name_of} {name} rises {growth:.1f}% over the window "
                    f"(Mann-Kendall p={test.p_value:.2g}, Theil-Sen slope)"
                )
    return trends, rising, short
