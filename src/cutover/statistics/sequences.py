"""Anytime-valid confidence sequences for a rate (a proportion of successes in a stream).

A gate looks at the same stream many times: each checkpoint of a stage, and the rollback
monitor every 15 minutes. A fixed-sample interval checked at every look loses its coverage
(the chance that some look is wrong grows with the number of looks); a confidence sequence
covers the true rate at every look at once: P(exists n: p outside CS_n) <= alpha.

Construction: Robbins' beta-binomial mixture martingale with Ville's inequality (Howard,
Ramdas, McAuliffe & Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence
sequences", Ann. Statist. 49(2); Waudby-Smith & Ramdas 2023, "Estimating means of bounded
random variables by betting", JRSS-B, for the view of it as a test martingale). Against a
candidate rate p0, with S successes in n trials, mix the likelihood ratio over a Beta(a, b)
prior on the alternative p:

    M_n(p0) = integral (p / p0)^S ((1 - p) / (1 - p0))^(n - S) dPrior(p)

Under p0 each ratio is a martingale with mean 1, so their mixture is one too; Ville's
inequality gives P(exists n: M_n(p0) >= 1/alpha) <= alpha. The sequence is every p0 not
rejected.

The gates' questions are one-sided ("is the success rate below 95%?"), so each bound is its own
sequence: the upper bound mixes only over alternatives below p0 (the prior truncated to
[0, p0]; the lower bound, above). Then for every true rate p >= p0 the mixture is a
nonnegative supermartingale (each ratio's mean is below 1 when p > p0), so "the upper bound lies
below the threshold at some look" happens with probability at most alpha whenever the true rate
meets the threshold, however often one looks. Each bound holds at level alpha on its own; the
band [low, high] at 1 - 2 alpha.

The prior is Beta centred on the threshold with `prior_weight` pseudo-observations: it decides
where the sequence is tightest, not whether it is valid (any prior fixed before the data is).
Everything here takes numpy arrays as well as numbers, so a simulation can decide thousands of
timelines at once with the very functions the criteria use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cutover.statistics.base import check_alpha, special

__all__ = [
    "ConfidenceSequence",
    "confidence_sequence",
    "lies_above",
    "lies_below",
    "log_upper_mixture",
    "more_to_exclude",
]

_EPS = 1e-12


def _prior(center: Any, weight: float) -> tuple[Any, Any]:
    center = np.clip(np.asarray(center, dtype=float), 1e-6, 1 - 1e-6)
    return weight * center, weight * (1 - center)


def log_upper_mixture(successes: Any, trials: Any, p0: Any, *, center: Any, weight: float) -> Any:
    """log M_n(p0) of the upper sequence: the Beta(weight*center, weight*(1-center)) prior
    truncated to [0, p0] (alternatives below p0). Large values are evidence that p < p0."""
    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    p = np.clip(np.asarray(p0, dtype=float), _EPS, 1 - _EPS)
    a, b = _prior(center, weight)
    sp = special()
    posterior = sp.betaln(a + s, b + n - s) + np.log(
        np.maximum(sp.betainc(a + s, b + n - s, p), 1e-300)
    )
    prior = sp.betaln(a, b) + np.log(np.maximum(sp.betainc(a, b, p), 1e-300))
    return posterior - prior - s * np.log(p) - (n - s) * np.log1p(-p)


def lies_below(successes: Any, trials: Any, threshold: Any, *, alpha: float, weight: float) -> Any:
    """Whether the upper sequence lies wholly below `threshold`: the data reject every rate at or
    above it (valid at every look). The prior is centred on the threshold."""
    check_alpha(alpha)
    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    log_m = log_upper_mixture(s, n, threshold, center=threshold, weight=weight)
    below = s < np.asarray(threshold) * n
    return (n > 0) & below & (log_m >= np.log(1 / alpha))


def lies_above(successes: Any, trials: Any, threshold: Any, *, alpha: float, weight: float) -> Any:
    """Whether the lower sequence lies wholly above `threshold` (the mirror of `lies_below`)."""
    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    return lies_below(n - s, n, 1 - np.asarray(threshold), alpha=alpha, weight=weight)


def more_to_exclude(
    successes: int, trials: int, threshold: float, *, alpha: float, weight: float
) -> int | None:
    """About how many more trials, at the rate observed so far, would put the upper sequence
    wholly below `threshold` (None: at that rate, never; 0: it already lies below)."""
    if trials <= 0 or successes >= threshold * trials:
        return None
    rate = successes / trials
    if lies_below(successes, trials, threshold, alpha=alpha, weight=weight):
        return 0
    # the evidence grows about linearly with n at a fixed rate: double, then bisect
    high = max(trials, 1)
    while not lies_below(rate * high, high, threshold, alpha=alpha, weight=weight):
        high *= 2
        if high > 10**9:
            return None
    low = trials
    while high - low > 1:
        mid = (low + high) // 2
        if lies_below(rate * mid, mid, threshold, alpha=alpha, weight=weight):
            high = mid
        else:
            low = mid
    return high - trials


@dataclass(frozen=True, slots=True)
class ConfidenceSequence:
    """The sequence at one look: `low`/`high` bound the rate (each side valid at `alpha` across
    every look of the stream), from `successes` of `trials`; the prior centre and weight."""

    successes: int
    trials: int
    alpha: float
    low: float
    high: float
    center: float
    weight: float

    @property
    def estimate(self) -> float | None:
        return None if self.trials == 0 else self.successes / self.trials

    def as_record(self) -> dict[str, Any]:
        return {
            "successes": self.successes,
            "trials": self.trials,
            "low_pct": round(100 * self.low, 2),
            "high_pct": round(100 * self.high, 2),
            "alpha": self.alpha,
            "prior": f"Beta centred on {100 * self.center:g}%, weight {self.weight:g}",
        }


def _upper_bound(
    successes: int, trials: int, *, alpha: float, center: float, weight: float
) -> float:
    if trials == 0 or successes == trials:
        return 1.0
    level = np.log(1 / alpha)
    low, high = successes / trials, 1.0 - _EPS

    def rejected(p: float) -> bool:
        return bool(log_upper_mixture(successes, trials, p, center=center, weight=weight) >= level)

    if not rejected(high):
        return 1.0
    for _ in range(60):  # bisection to ~1e-18: far below the two decimals shown
        mid = (low + high) / 2
        if rejected(mid):
            high = mid
        else:
            low = mid
    return high


def confidence_sequence(
    successes: int, trials: int, *, alpha: float, center: float, weight: float
) -> ConfidenceSequence:
    """The sequence's bounds at this look: the upper from the truncated mixture below, the lower
    from its mirror image (failures as successes, 1 - center)."""
    check_alpha(alpha)
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    high = _upper_bound(successes, trials, alpha=alpha, center=center, weight=weight)
    low = 1 - _upper_bound(
        trials - successes, trials, alpha=alpha, center=1 - center, weight=weight
    )
    return ConfidenceSequence(successes, trials, alpha, low, high, center, weight)
