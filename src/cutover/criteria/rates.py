"""How every rate criterion decides (the stages' success rate, the rollback triggers' success
and error rates), in one of the profile's two modes:

- `runbook`: the point estimate against the threshold, as the runbook reads Query 1;
- `evidence`: FAIL only when the anytime-valid confidence sequence of the stage's settled
  imports lies wholly below the threshold (valid at every look: checkpoints and monitor runs);
  PASS when the point estimate meets it; otherwise HOLD, not yet conclusive.

In both modes a catastrophic rate (under `catastrophic_success_min_pct` with at least
`min_settled_imports` settled) fails at once, and a sample too small to tell the rate from its
threshold (a perfect record would not be significant against it) decides nothing.

`decide_codes` works on numpy arrays, so `bench/decisions_bench.py` simulates thousands of
timelines with the rule the gates use; `decide_rate` is the one-look form with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from cutover.outcome import Outcome
from cutover.profile import Profile
from cutover.statistics import (
    ConfidenceSequence,
    confidence_sequence,
    lies_below,
    more_to_exclude,
    zero_event_sample,
)


class Code(IntEnum):
    """Why a look decided as it did."""

    MEETS = 0  # pass
    BELOW = 1  # fail: the point estimate (runbook) or the sequence (evidence) is below
    CATASTROPHIC = 2  # fail at once, in both modes
    TOO_FEW = 3  # inconclusive: not enough imports to tell the rate from the threshold
    NOT_CONCLUSIVE = 4  # inconclusive: below the threshold, but the sequence is not yet below
    NO_DATA = 5  # inconclusive


OUTCOMES = {
    Code.MEETS: Outcome.PASS,
    Code.BELOW: Outcome.FAIL,
    Code.CATASTROPHIC: Outcome.FAIL,
    Code.TOO_FEW: Outcome.INCONCLUSIVE,
    Code.NOT_CONCLUSIVE: Outcome.INCONCLUSIVE,
    Code.NO_DATA: Outcome.INCONCLUSIVE,
}


def minimum_sample(threshold_pct: float, profile: Profile) -> int:
    """The fewest settled imports with which a perfect record is significant against the
    threshold (threshold^n <= alpha): below it, a pass would rest on nothing."""
    return zero_event_sample(1 - threshold_pct / 100, profile.sequence_alpha)


def decide_codes(
    estimate_pct: Any,
    sample: Any,
    successes: Any,
    trials: Any,
    *,
    threshold_pct: float,
    catastrophic_pct: float,
    mode: str,
    profile: Profile,
) -> Any:
    """The `Code` of each look (numpy arrays or numbers). `estimate_pct` is the point estimate
    (success-like: higher is better) over `sample` imports; `successes` of `trials` is the
    stream the sequence covers (the stage's settled imports to date)."""
    estimate = np.asarray(estimate_pct, dtype=float)
    sample = np.asarray(sample)
    known = np.isfinite(estimate) & (sample > 0)
    catastrophic = known & (sample >= profile.min_settled_imports) & (estimate < catastrophic_pct)
    sequence_below = lies_below(successes, trials, threshold_pct / 100, **_sequence(profile))
    too_few = sample < minimum_sample(threshold_pct, profile)
    meets = estimate >= threshold_pct
    if mode == "runbook":
        decided = np.where(meets, Code.MEETS, Code.BELOW)
        codes = np.where(too_few, Code.TOO_FEW, decided)
    else:
        codes = np.where(meets, Code.MEETS, Code.NOT_CONCLUSIVE)
        codes = np.where(too_few, Code.TOO_FEW, codes)
        codes = np.where(sequence_below, Code.BELOW, codes)
    codes = np.where(catastrophic, Code.CATASTROPHIC, codes)
    return np.where(known, codes, Code.NO_DATA)


@dataclass(frozen=True, slots=True)
class RateDecision:
    code: Code
    outcome: Outcome
    reason: str
    sequence: ConfidenceSequence | None

    def details(self, stream: str) -> dict[str, Any]:
        """What the evidence records about the sequence: its bounds, its data and alpha."""
        if self.sequence is None:
            return {}
        return {"sequence": {**self.sequence.as_record(), "data": stream}}


def decide_rate(
    estimate_pct: float | None,
    sample: int,
    successes: int,
    trials: int,
    *,
    threshold_pct: float,
    catastrophic_pct: float,
    profile: Profile,
    name: str = "success rate",
    unit: str = "settled imports",
) -> RateDecision:
    """One look, with a reason that says which rule decided and what would decide it."""
    mode = profile.decision_mode
    code = Code(
        int(
            decide_codes(
                np.nan if estimate_pct is None else estimate_pct,
                sample,
                successes,
                trials,
                threshold_pct=threshold_pct,
                catastrophic_pct=catastrophic_pct,
                mode=mode,
                profile=profile,
            )
        )
    )
    sequence = (
        confidence_sequence(
            successes,
            trials,
            alpha=profile.sequence_alpha,
            center=threshold_pct / 100,
            weight=profile.sequence_prior_weight,
        )
        if trials > 0
        else None
    )
    shown = "" if sequence is None else f"; sequence {_bounds(sequence)} of {trials} {unit}"
    value = f"{name} {estimate_pct}%"
    reasons = {
        Code.MEETS: f"{value} meets {threshold_pct:g}%{shown}",
        Code.BELOW: (
            f"{value}: the confidence sequence {_bounds(sequence)} lies wholly below "
            f"{threshold_pct:g}%"
            if mode == "evidence" and sequence is not None
            else f"{value} < {threshold_pct:g}%{shown}"
        ),
        Code.CATASTROPHIC: (
            f"{value} of {sample} {unit} is under the catastrophic floor of "
            f"{catastrophic_pct:g}%: it fails at once{shown}"
        ),
        Code.TOO_FEW: _too_few(sample, threshold_pct, profile, unit) + shown,
        Code.NOT_CONCLUSIVE: (
            f"{value} is below {threshold_pct:g}%, not yet conclusive{shown}: "
            + _more(successes, trials, threshold_pct, profile, unit)
        ),
        Code.NO_DATA: f"no {unit}: nothing to judge",
    }
    return RateDecision(code, OUTCOMES[code], reasons[code], sequence)


def _sequence(profile: Profile) -> dict[str, float]:
    """The profile's settings of every rate's confidence sequence."""
    return {"alpha": profile.sequence_alpha, "weight": profile.sequence_prior_weight}


def _bounds(sequence: ConfidenceSequence | None) -> str:
    if sequence is None:
        return "[none]"
    return f"[{100 * sequence.low:.2f}%, {100 * sequence.high:.2f}%]"


def _too_few(sample: int, threshold_pct: float, profile: Profile, unit: str) -> str:
    need = minimum_sample(threshold_pct, profile)
    return (
        f"{sample} {unit}: with fewer than {need} even a perfect record could not tell the "
        f"rate from {threshold_pct:g}% (alpha {profile.sequence_alpha:g}); about "
        f"{need - sample} more decide"
    )


def _more(successes: int, trials: int, threshold_pct: float, profile: Profile, unit: str) -> str:
    more = more_to_exclude(successes, trials, threshold_pct / 100, **_sequence(profile))
    if more is None:
        return "at the stage's rate so far, more data would not show it below"
    return f"about {more} more {unit} at this rate decide"
