"""Statistical tests behind the router, trend and duration criteria.

Pure functions, no I/O: each takes plain counts or series and returns a frozen dataclass
that says what was measured and, where it decides anything, why. The thresholds (alpha,
minimum sample sizes, allowed slowdown) come from the caller's profile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cutover.outcome import Outcome
from cutover.router import expected_v2_share


def _stats() -> Any:
    """scipy.stats, imported on first use: it costs ~0.6 s, and the plugin loads in every run."""
    from scipy import stats

    return stats


__all__ = [
    "SlowdownTest",
    "SplitTest",
    "TrendTest",
    "clopper_pearson",
    "mann_kendall_trend",
    "slowdown_test",
    "split_test",
]


@dataclass(frozen=True, slots=True)
class SplitTest:
    """Whether an observed v1/v2 split is consistent with the configured rollout percent.

    ``outcome`` is an ``Outcome`` (a ``str``: ``"pass"``, ``"fail"`` or ``"inconclusive"``).
    Shares are fractions in 0..1; ``ci_low``/``ci_high`` bound the v2 share with an exact
    (Clopper-Pearson) ``1 - alpha`` interval.
    """

    v1: int
    v2: int
    total: int
    expected_share: float
    observed_share: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    outcome: Outcome
    reason: str


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


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be within (0, 1), got {alpha!r}")


def _pct(share: float) -> str:
    # One decimal is enough to compare with whole-number rollout percents.
    return f"{share * 100:.1f}%"


def clopper_pearson(successes: int, total: int, alpha: float) -> tuple[float, float]:
    """Return the exact (Clopper-Pearson) two-sided ``1 - alpha`` interval of a proportion."""
    _check_alpha(alpha)
    if total <= 0 or not 0 <= successes <= total:
        raise ValueError(f"need 0 <= successes <= total and total > 0, got {successes}/{total}")
    # The bounds are beta quantiles; at 0 or total successes the open end is exactly 0 or 1.
    low = 0.0 if successes == 0 else _stats().beta.ppf(alpha / 2, successes, total - successes + 1)
    high = (
        1.0
        if successes == total
        else _stats().beta.ppf(1 - alpha / 2, successes + 1, total - successes)
    )
    return float(low), float(high)


def split_test(v1: int, v2: int, percent: int, *, alpha: float, min_requests: int) -> SplitTest:
    """Decide whether ``v1``/``v2`` request counts fit a router running at ``percent``.

    - 0% and 100% are deterministic in the router (``Math.random() * 100 < percent``), so a
      single v2 request under 0%, or a single v1 request under 100%, fails whatever the sample
      size (p-value 0: impossible under the configured percent).
    - No requests at all is inconclusive; so is any total below ``min_requests`` that did not
      already fail (a few requests cannot show that the split is right).
    - Otherwise a two-sided exact binomial test of the v2 count against the expected share:
      ``p < alpha`` fails, anything else passes.
    """
    if v1 < 0 or v2 < 0:
        raise ValueError(f"request counts must be >= 0, got v1={v1!r}, v2={v2!r}")
    if min_requests < 0:
        raise ValueError(f"min_requests must be >= 0, got {min_requests!r}")
    _check_alpha(alpha)
    expected = expected_v2_share(percent)
    total = v1 + v2

    def result(outcome: Outcome, reason: str, p_value: float | None) -> SplitTest:
        observed = v2 / total if total else None
        ci = clopper_pearson(v2, total, alpha) if total else (None, None)
        return SplitTest(
            v1=v1,
            v2=v2,
            total=total,
            expected_share=expected,
            observed_share=observed,
            p_value=p_value,
            ci_low=ci[0],
            ci_high=ci[1],
            outcome=outcome,
            reason=reason,
        )

    if percent == 0 and v2 > 0:
        return result(
            Outcome.FAIL,
            f"{v2:,} of {total:,} routed requests went to v2 although the rollout is 0%: "
            "the router never routes to v2 at 0%",
            0.0,
        )
    if percent == 100 and v1 > 0:
        return result(
            Outcome.FAIL,
            f"{v1:,} of {total:,} routed requests went to v1 although the rollout is 100%: "
            "the router always routes to v2 at 100%",
            0.0,
        )
    if total == 0:
        return result(
            Outcome.INCONCLUSIVE,
            f"no routed requests: cannot judge a {percent}% split",
            None,
        )
    if total < min_requests:
        return result(
            Outcome.INCONCLUSIVE,
            f"only {total:,} routed requests (v2 share {_pct(v2 / total)}), fewer than the "
            f"{min_requests:,} needed to judge a {percent}% split",
            None,
        )
    confidence = f"{(1 - alpha) * 100:g}%"
    ci_low, ci_high = clopper_pearson(v2, total, alpha)
    interval = f"{confidence} CI {_pct(ci_low)}..{_pct(ci_high)}"
    if percent in (0, 100):
        # Reaching here means every request went where the router must send it.
        side = "v1" if percent == 0 else "v2"
        return result(
            Outcome.PASS,
            f"all {total:,} routed requests went to {side}, as the router does at {percent}% "
            f"({interval})",
            1.0,
        )
    p_value = float(_stats().binomtest(v2, total, expected, alternative="two-sided").pvalue)
    observed = f"v2 share {_pct(v2 / total)} of {total:,} routed requests"
    if p_value < alpha:
        return result(
            Outcome.FAIL,
            f"{observed} is not consistent with {percent}% "
            f"(exact binomial p={p_value:.2g} < alpha={alpha:g}; {interval})",
            p_value,
        )
    return result(
        Outcome.PASS,
        f"{observed} is consistent with {percent}% "
        f"(exact binomial p={p_value:.2g}, alpha={alpha:g}; {interval})",
        p_value,
    )


def _finite(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a flat sequence of finite numbers")
    return array


def mann_kendall_trend(values: Sequence[float], *, alpha: float) -> TrendTest:
    """Test ``values`` (equally spaced in time, oldest first) for a monotonic upward trend.

    Mann-Kendall is Kendall's tau between the values and their time index, so this uses
    ``scipy.stats.kendalltau``: its S statistic is the Mann-Kendall S and its variance carries
    the usual tie correction (the index has no ties); small tie-free series get the exact
    null distribution. The test is one-sided because the question asked (is memory climbing?)
    is directional: ``increasing`` is ``tau > 0 and p < alpha``. The Theil-Sen median slope
    (``scipy.stats.theilslopes``) gives the size of the trend in units per step.
    """
    _check_alpha(alpha)
    array = _finite(values, "values")
    n = int(array.size)
    if n < 3:
        # Two points always "trend"; there is nothing to test.
        return TrendTest(n=n, slope_per_step=None, tau=None, p_value=None, increasing=False)
    index = np.arange(n, dtype=float)
    slope = float(_stats().theilslopes(array, index).slope)
    if np.all(array == array[0]):
        # kendalltau is undefined (NaN) for a constant series; a flat line has no trend.
        return TrendTest(n=n, slope_per_step=slope, tau=0.0, p_value=1.0, increasing=False)
    kendall = _stats().kendalltau(index, array, alternative="greater")
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
    _check_alpha(alpha)
    baseline = _finite(baseline_minutes, "baseline_minutes")
    current = _finite(current_minutes, "current_minutes")
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
    p_value = float(_stats().mannwhitneyu(current, baseline, alternative="greater").pvalue)
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
