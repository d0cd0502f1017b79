"""Trends and slowdowns: Mann-Kendall with the Theil-Sen slope, and a one-sided Mann-Whitney
slowdown test with an effect bound."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cutover.statistics.base import check_alpha, finite, stats


@dataclass(frozen=True, slots=True)
class TrendTest:
    """A Mann-Kendall test for an upward trend, with the Theil-Sen slope as the effect size.

    ``tau`` is Kendall's tau-b of the values against their index; ``p_value`` is one-sided
    (alternative: increasing). All three are None when there are fewer than 3 values.
    """

    n: int
    slope_per_step: float | None
    tau: float | None
    p_value: float | None
    increasing: bool


@dataclass(frozen=True, slots=True)
class SlowdownTest:
    """Whether current durations are slower than a baseline, by enough and significantly.

    ``ratio_pct`` is ``current_mean / baseline_mean * 100 - 100``; ``p_value`` is a one-sided
    Mann-Whitney U test (alternative: current tends to be greater). Means, ratio and p-value
    are None when either sample is empty (the caller treats that as inconclusive).
    """

    baseline_mean: float | None
    current_mean: float | None
    ratio_pct: float | None
    p_value: float | None
    slower: bool
    n_baseline: int
    n_current: int


def mann_kendall_trend(values: Sequence[float], *, alpha: float) -> TrendTest:
    """Test ``values`` (equally spaced in time, oldest first) for a monotonic upward trend.

    Mann-Kendall is Kendall's tau between the values and their time index, so this uses
    ``scipy.stats.kendalltau``: its S statistic is the Mann-Kendall S and its variance carries
    the usual tie correction (the index has no ties); small tie-free series get the exact
    null distribution. The test is one-sided because the question asked (is memory climbing?)
    is directional: ``increasing`` is ``tau > 0 and p < alpha``. The Theil-Sen median slope
    (``scipy.stats.theilslopes``) gives the size of the trend in units per step.
    """
    check_alpha(alpha)
    array = finite(values, "values")
    n = int(array.size)
    if n < 3:
        # Two points always "trend"; there is nothing to test.
        return TrendTest(n=n, slope_per_step=None, tau=None, p_value=None, increasing=False)
    index = np.arange(n, dtype=float)
    slope = float(stats().theilslopes(array, index).slope)
    if np.all(array == array[0]):
        # kendalltau is undefined (NaN) for a constant series; a flat line has no trend.
        return TrendTest(n=n, slope_per_step=slope, tau=0.0, p_value=1.0, increasing=False)
    kendall = stats().kendalltau(index, array, alternative="greater")
    tau = float(kendall.statistic)
    p_value = float(kendall.pvalue)
    return TrendTest(
        n=n,
        slope_per_step=slope,
        tau=tau,
        p_value=p_value,
        increasing=tau > 0 and p_value < alpha,
    )


def slowdown_test(
    baseline_minutes: Sequence[float],
    current_minutes: Sequence[float],
    *,
    max_slowdown_pct: float,
    alpha: float,
) -> SlowdownTest:
    """Decide whether current durations are slower than a baseline by more than allowed.

    ``slower`` needs both an effect larger than ``max_slowdown_pct`` (current mean over
    baseline mean) and significance: a one-sided Mann-Whitney U test (current greater) with
    ``p < alpha``. The effect bound keeps a tiny but significant difference in a large sample
    from failing a gate; the test keeps a large but noisy difference in a tiny sample from
    failing it. With either sample empty nothing is measured: values None, ``slower`` False.
    A baseline mean of 0 leaves the ratio undefined (None) and ``slower`` False.
    """
    check_alpha(alpha)
    baseline = finite(baseline_minutes, "baseline_minutes")
    current = finite(current_minutes, "current_minutes")
    if np.any(baseline < 0) or np.any(current < 0):
        raise ValueError("durations must be >= 0")
    n_baseline, n_current = int(baseline.size), int(current.size)
    if n_baseline == 0 or n_current == 0:
        return SlowdownTest(
            baseline_mean=None,
            current_mean=None,
            ratio_pct=None,
            p_value=None,
            slower=False,
            n_baseline=n_baseline,
            n_current=n_current,
        )
    baseline_mean = float(baseline.mean())
    current_mean = float(current.mean())
    ratio_pct = current_mean / baseline_mean * 100 - 100 if baseline_mean > 0 else None
    p_value = float(stats().mannwhitneyu(current, baseline, alternative="greater").pvalue)
    if math.isnan(p_value):
        # Defensive: no evidence of a difference rather than a NaN leaking into reports.
        p_value = 1.0
    slower = ratio_pct is not None and ratio_pct > max_slowdown_pct and p_value < alpha
    return SlowdownTest(
        baseline_mean=baseline_mean,
        current_mean=current_mean,
        ratio_pct=ratio_pct,
        p_value=p_value,
        slower=slower,
        n_baseline=n_baseline,
        n_current=n_current,
    )
