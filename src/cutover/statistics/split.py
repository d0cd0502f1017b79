"""Whether an observed v1/v2 split fits the configured rollout percent: an exact binomial test,
exact at 0% and 100%, with a Clopper-Pearson interval."""

from __future__ import annotations

from dataclasses import dataclass

from cutover.outcome import Outcome
from cutover.router import expected_v2_share
from cutover.statistics.base import check_alpha, pct, stats


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


def clopper_pearson(successes: int, total: int, alpha: float) -> tuple[float, float]:
    """Return the exact (Clopper-Pearson) two-sided ``1 - alpha`` interval of a proportion."""
    check_alpha(alpha)
    if total <= 0 or not 0 <= successes <= total:
        raise ValueError(f"need 0 <= successes <= total and total > 0, got {successes}/{total}")
    # The bounds are beta quantiles; at 0 or total successes the open end is exactly 0 or 1.
    low = 0.0 if successes == 0 else stats().beta.ppf(alpha / 2, successes, total - successes + 1)
    high = (
        1.0
        if successes == total
        else stats().beta.ppf(1 - alpha / 2, successes + 1, total - successes)
    )
    return float(low), float(high)


def split_test(
    v1: int, v2: int, percent: int, *, alpha: float, min_requests: int, why: str = ""
) -> SplitTest:
    """Decide whether ``v1``/``v2`` request counts fit a router running at ``percent``.

    - 0% and 100% are deterministic in the router (``Math.random() * 100 < percent``), so a
      single v2 request under 0%, or a single v1 request under 100%, fails whatever the sample
      size (p-value 0: impossible under the configured percent).
    - No requests at all is inconclusive; so is any total below ``min_requests`` that did not
      already fail (a few requests cannot show that the split is right): the caller derives it
      from power and says ``why``; the reason says how many more requests decide.
    - Otherwise a two-sided exact binomial test of the v2 count against the expected share:
      ``p < alpha`` fails, anything else passes.
    """
    if v1 < 0 or v2 < 0:
        raise ValueError(f"request counts must be >= 0, got v1={v1!r}, v2={v2!r}")
    if min_requests < 0:
        raise ValueError(f"min_requests must be >= 0, got {min_requests!r}")
    check_alpha(alpha)
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
            f"only {total:,} routed requests (v2 share {pct(v2 / total)}), fewer than the "
            f"{min_requests:,} needed to judge a {percent}% split"
            + (f" ({why})" if why else "")
            + f": about {min_requests - total:,} more decide",
            None,
        )
    confidence = f"{(1 - alpha) * 100:g}%"
    ci_low, ci_high = clopper_pearson(v2, total, alpha)
    interval = f"{confidence} CI {pct(ci_low)}..{pct(ci_high)}"
    if percent in (0, 100):
        # Reaching here means every request went where the router must send it.
        side = "v1" if percent == 0 else "v2"
        return result(
            Outcome.PASS,
            f"all {total:,} routed requests went to {side}, as the router does at {percent}% "
            f"({interval})",
            1.0,
        )
    p_value = float(stats().binomtest(v2, total, expected, alternative="two-sided").pvalue)
    observed = f"v2 share {pct(v2 / total)} of {total:,} routed requests"
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
