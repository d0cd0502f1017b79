"""Confidence sequences and power-derived minimum samples: coverage by simulation at every look,
the decision functions agreeing with the bounds, and the sample sizes against exact arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.statistics import (
    clopper_pearson,
    confidence_sequence,
    lies_above,
    lies_below,
    more_to_exclude,
    slowdown_sample,
    split_sample,
    zero_event_sample,
)
from cutover.statistics.sequences import log_upper_mixture

ALPHA, WEIGHT = 0.05, 30.0


def ever_rejected(rate: float, center: float, runs: int, looks: int, seed: int) -> np.ndarray:
    """For `runs` Bernoulli(rate) streams: whether the upper sequence ever excluded the true rate
    in the first `looks` observations (each look is one more observation)."""
    rng = np.random.default_rng(seed)
    successes = np.cumsum(rng.random((runs, looks)) < rate, axis=1)
    trials = np.arange(1, looks + 1)[None, :]
    log_m = log_upper_mixture(successes, trials, rate, center=center, weight=WEIGHT)
    return np.asarray((log_m >= math.log(1 / ALPHA)).any(axis=1))


@pytest.mark.parametrize(
    ("rate", "center"), [(0.95, 0.95), (0.97, 0.95), (0.9, 0.95), (0.5, 0.5), (0.05, 0.05)]
)
def test_the_upper_sequence_covers_the_true_rate_at_every_look(rate: float, center: float) -> None:
    runs = 4_000
    missed = ever_rejected(rate, center, runs, looks=800, seed=int(rate * 1000))
    # Ville: at most alpha of the runs ever exclude the truth; 3 binomial sigmas of noise
    assert missed.mean() <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / runs)


def test_a_fixed_sample_interval_checked_at_every_look_does_not_cover() -> None:
    """The reason for the sequences: Clopper-Pearson at 1 - 2 alpha, looked at after every
    observation, excludes the truth far more often than alpha."""
    rng = np.random.default_rng(7)
    runs, looks, rate = 400, 400, 0.95
    data = np.cumsum(rng.random((runs, looks)) < rate, axis=1)
    missed = 0
    for row in data:
        for n in range(20, looks, 5):
            if clopper_pearson(int(row[n - 1]), n, 2 * ALPHA)[1] < rate:
                missed += 1
                break
    assert missed / runs > 2 * ALPHA


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=1, max_value=2_000), st.data())
def test_bounds_hold_the_estimate_and_are_wider_than_a_fixed_interval(
    trials: int, data: st.DataObject
) -> None:
    successes = data.draw(st.integers(min_value=0, max_value=trials))
    cs = confidence_sequence(successes, trials, alpha=ALPHA, center=0.95, weight=WEIGHT)
    estimate = successes / trials
    assert 0.0 <= cs.low <= estimate <= cs.high <= 1.0
    fixed_low, fixed_high = clopper_pearson(successes, trials, 2 * ALPHA)
    assert cs.high >= fixed_high - 1e-9
    assert cs.low <= fixed_low + 1e-9


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=1, max_value=1_500), st.data())
def test_the_decision_agrees_with_the_bounds(trials: int, data: st.DataObject) -> None:
    successes = data.draw(st.integers(min_value=0, max_value=trials))
    threshold = data.draw(st.sampled_from([0.8, 0.9, 0.95, 0.99]))
    cs = confidence_sequence(successes, trials, alpha=ALPHA, center=threshold, weight=WEIGHT)
    below = bool(lies_below(successes, trials, threshold, alpha=ALPHA, weight=WEIGHT))
    assert below == (cs.high < threshold)
    failures = trials - successes
    above = bool(lies_above(failures, trials, 1 - threshold, alpha=ALPHA, weight=WEIGHT))
    assert above == below  # an error rate over 1 - t is a success rate under t


def test_decisions_take_arrays() -> None:
    successes = np.array([180, 195, 0])
    trials = np.array([200, 200, 0])
    assert lies_below(successes, trials, 0.95, alpha=ALPHA, weight=WEIGHT).tolist() == [
        True,
        False,
        False,  # no data decides nothing
    ]


def test_more_to_exclude_is_where_the_decision_flips() -> None:
    more = more_to_exclude(90, 100, 0.95, alpha=ALPHA, weight=WEIGHT)
    assert more is not None and more > 0
    n = 100 + more
    assert lies_below(0.9 * n, n, 0.95, alpha=ALPHA, weight=WEIGHT)
    assert not lies_below(0.9 * (n - 1), n - 1, 0.95, alpha=ALPHA, weight=WEIGHT)
    assert more_to_exclude(97, 100, 0.95, alpha=ALPHA, weight=WEIGHT) is None
    assert more_to_exclude(50, 100, 0.95, alpha=ALPHA, weight=WEIGHT) == 0


def test_zero_event_sample_is_the_exact_binomial_bound() -> None:
    # the arithmetic: 0 v2 in 48 under 10% has probability 0.9^48 = 0.6%
    n = zero_event_sample(0.10, 0.01)
    assert 0.9**n <= 0.01 < 0.9 ** (n - 1)
    assert n <= 48
    assert zero_event_sample(0.05, 0.05) == 59  # 0.95^59 = 4.8%, 0.95^58 = 5.1%


def test_split_sample_has_the_power_it_claims() -> None:
    """Simulated: at the returned size the exact test rejects a shifted router >= `power`."""
    from scipy import stats

    n = split_sample(10, 5, 0.001, 0.8)
    rng = np.random.default_rng(3)
    for shifted in (0.05, 0.15):
        v2 = rng.binomial(n, shifted, size=400)
        rejected = [stats.binomtest(int(k), n, 0.10).pvalue < 0.001 for k in v2]
        assert np.mean(rejected) >= 0.75
    assert split_sample(50, 5, 0.001, 0.8) > n  # a coin is harder to read than 10%


def test_slowdown_sample_grows_with_noise_and_shrinks_with_the_effect() -> None:
    assert slowdown_sample(0.5, 20, 0.001, 0.8) > slowdown_sample(0.25, 20, 0.001, 0.8)
    assert slowdown_sample(0.5, 40, 0.001, 0.8) < slowdown_sample(0.5, 20, 0.001, 0.8)


@pytest.mark.parametrize(
    "call",
    [
        lambda: zero_event_sample(0.0, 0.01),
        lambda: zero_event_sample(0.1, 1.0),
        lambda: split_sample(0, 5, 0.01, 0.8),
        lambda: confidence_sequence(3, 2, alpha=ALPHA, center=0.5, weight=WEIGHT),
    ],
)
def test_invalid_arguments_are_rejected(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]
