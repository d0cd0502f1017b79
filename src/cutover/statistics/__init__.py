"""The statistics behind the gates: pure functions over counts and series, no I/O. Each returns
plain values or a frozen dataclass saying what was measured and, where it decides, why; alphas,
powers and effect sizes come from the caller's profile.

- `split`: the v1/v2 split against the rollout percent (exact binomial, Clopper-Pearson);
- `trend`: Mann-Kendall trends and the Mann-Whitney slowdown test;
- `sequences`: anytime-valid confidence sequences for rates, valid at every look of a stage;
- `power`: minimum samples derived from power against the alternative that matters.
"""

from __future__ import annotations

from cutover.statistics.power import slowdown_sample, split_sample, zero_event_sample
from cutover.statistics.sequences import (
    ConfidenceSequence,
    confidence_sequence,
    lies_above,
    lies_below,
    more_to_exclude,
)
from cutover.statistics.split import SplitTest, clopper_pearson, split_test
from cutover.statistics.trend import SlowdownTest, TrendTest, mann_kendall_trend, slowdown_test

__all__ = [
    "ConfidenceSequence",
    "SlowdownTest",
    "SplitTest",
    "TrendTest",
    "clopper_pearson",
    "confidence_sequence",
    "lies_above",
    "lies_below",
    "mann_kendall_trend",
    "more_to_exclude",
    "slowdown_sample",
    "slowdown_test",
    "split_sample",
    "split_test",
    "zero_event_sample",
]
