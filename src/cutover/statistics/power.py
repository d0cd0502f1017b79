"""Minimum samples from power: the fewest observations with which a test could tell the state it
checks from the alternative that matters. A guard below that number is inconclusive and says how
many more observations would decide; a constant guard either wastes data or decides on noise.
"""

from __future__ import annotations

import math

from cutover.statistics.base import check_alpha, stats

__all__ = ["slowdown_sample", "split_sample", "zero_event_sample"]


def zero_event_sample(rate: float, alpha: float) -> int:
    """The fewest trials in which seeing no event at all is significant (probability <= alpha)
    against an event rate of `rate`: (1 - rate)^n <= alpha.

    Rollback verification: were the router still at the previous stage's 10%, 0 v2 requests in
    n would happen with probability 0.9^n, so 44 requests decide at alpha 0.01. A rate against
    its threshold: a perfect record of n imports shows the rate above 95% once 0.95^n <= alpha.
    """
    check_alpha(alpha)
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be within (0, 1), got {rate!r}")
    return math.ceil(math.log(alpha) / math.log1p(-rate) - 1e-9)


def split_sample(percent: float, shift_pct: float, alpha: float, power: float) -> int:
    """Requests for the two-sided binomial test at `alpha` to detect, with probability `power`,
    a router at `percent` +- `shift_pct` points (the larger of the two sides; normal
    approximation: n = ((z_{1-a/2} sqrt(p0 q0) + z_power sqrt(p1 q1)) / shift)^2)."""
    check_alpha(alpha)
    check_alpha(power)
    p0, shift = percent / 100, shift_pct / 100
    if not 0.0 < p0 < 1.0 or shift <= 0:
        raise ValueError(f"need 0 < percent < 100 and shift > 0, got {percent!r}, {shift_pct!r}")
    z_alpha = float(stats().norm.ppf(1 - alpha / 2))
    z_power = float(stats().norm.ppf(power))
    sizes = []
    for p1 in (p0 - shift, p0 + shift):
        p1 = min(max(p1, 1e-6), 1 - 1e-6)
        root_n = (z_alpha * math.sqrt(p0 * (1 - p0)) + z_power * math.sqrt(p1 * (1 - p1))) / abs(
            p1 - p0
        )
        sizes.append(math.ceil(root_n**2))
    return max(sizes)


def slowdown_sample(cv: float, slowdown_pct: float, alpha: float, power: float) -> int:
    """Durations per stage for a one-sided rank test at `alpha` to detect, with probability
    `power`, a mean `slowdown_pct` above the baseline, given the baseline's coefficient of
    variation: n = (pi / 3) * 2 (z_{1-a} + z_power)^2 (cv / slowdown)^2 per group (the two-sample
    normal formula over Mann-Whitney's asymptotic relative efficiency 3/pi)."""
    check_alpha(alpha)
    check_alpha(power)
    if cv < 0 or slowdown_pct <= 0:
        raise ValueError(f"need cv >= 0 and slowdown > 0, got {cv!r}, {slowdown_pct!r}")
    z = float(stats().norm.ppf(1 - alpha)) + float(stats().norm.ppf(power))
    n = (math.pi / 3) * 2 * z**2 * (cv / (slowdown_pct / 100)) ** 2
    return max(2, math.ceil(n))
