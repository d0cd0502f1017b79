"""The trend (Mann-Kendall + Theil-Sen) and slowdown (mean ratio + Mann-Whitney) tests."""

from __future__ import annotations

import numpy as np
import pytest

from cutover.statistics import mann_kendall_trend, slowdown_test

ALPHA = 0.01


def test_a_steady_climb_is_an_increasing_trend() -> None:
    rng = np.random.default_rng(1)
    memory = 500 + 2.0 * np.arange(48) + rng.normal(0, 3, 48)
    trend = mann_kendall_trend(memory.tolist(), alpha=ALPHA)
    assert trend.n == 48
    assert trend.increasing
    assert trend.tau is not None and trend.tau > 0.5
    assert trend.p_value is not None and trend.p_value < ALPHA
    assert trend.slope_per_step == pytest.approx(2.0, abs=0.3)


def test_noise_around_a_level_is_not_a_trend() -> None:
    rng = np.random.default_rng(2)
    memory = 500 + rng.normal(0, 10, 48)
    trend = mann_kendall_trend(memory.tolist(), alpha=ALPHA)
    assert not trend.increasing
    assert trend.p_value is not None and trend.p_value >= ALPHA


def test_a_decline_is_not_an_increasing_trend() -> None:
    trend = mann_kendall_trend([float(v) for v in range(30, 0, -1)], alpha=ALPHA)
    assert not trend.increasing
    assert trend.tau == pytest.approx(-1.0)
    assert trend.slope_per_step == pytest.approx(-1.0)


def test_a_flat_series_has_no_trend() -> None:
    trend = mann_kendall_trend([512.0] * 10, alpha=ALPHA)
    assert trend == type(trend)(n=10, slope_per_step=0.0, tau=0.0, p_value=1.0, increasing=False)


def test_ties_are_handled() -> None:
    # A staircase: many ties, still clearly upward.
    values = [float(v // 4) for v in range(40)]
    trend = mann_kendall_trend(values, alpha=ALPHA)
    assert trend.increasing
    assert trend.slope_per_step == pytest.approx(0.25)


def test_the_smallest_tie_free_series_uses_the_exact_distribution() -> None:
    # With no ties and n <= 33 scipy uses the exact null: P(perfect order of 5) = 1/5! .
    trend = mann_kendall_trend([1.0, 2.0, 3.0, 4.0, 5.0], alpha=ALPHA)
    assert trend.p_value == pytest.approx(1 / 120)
    assert trend.increasing


@pytest.mark.parametrize("values", [[], [1.0], [1.0, 2.0]])
def test_fewer_than_three_points_cannot_be_tested(values: list[float]) -> None:
    trend = mann_kendall_trend(values, alpha=ALPHA)
    assert trend.n == len(values)
    assert trend.p_value is None and trend.tau is None and trend.slope_per_step is None
    assert not trend.increasing


def test_non_finite_values_are_rejected() -> None:
    with pytest.raises(ValueError):
        mann_kendall_trend([1.0, float("nan"), 3.0], alpha=ALPHA)


def test_a_clear_slowdown_is_slower() -> None:
    rng = np.random.default_rng(3)
    baseline = rng.normal(10, 1, 60).tolist()
    current = rng.normal(13, 1, 60).tolist()
    result = slowdown_test(baseline, current, max_slowdown_pct=20, alpha=ALPHA)
    assert result.slower
    assert result.ratio_pct == pytest.approx(30, abs=5)
    assert result.p_value is not None and result.p_value < ALPHA
    assert (result.n_baseline, result.n_current) == (60, 60)


def test_the_same_distribution_is_not_slower() -> None:
    rng = np.random.default_rng(4)
    baseline = rng.normal(10, 1, 60).tolist()
    current = rng.normal(10, 1, 60).tolist()
    result = slowdown_test(baseline, current, max_slowdown_pct=20, alpha=ALPHA)
    assert not result.slower


def test_a_small_but_significant_slowdown_is_within_the_allowance() -> None:
    rng = np.random.default_rng(5)
    baseline = rng.normal(10.0, 0.1, 500).tolist()
    current = rng.normal(10.5, 0.1, 500).tolist()
    result = slowdown_test(baseline, current, max_slowdown_pct=20, alpha=ALPHA)
    assert result.p_value is not None and result.p_value < ALPHA
    assert result.ratio_pct is not None and result.ratio_pct < 20
    assert not result.slower


def test_a_large_but_unsupported_slowdown_is_not_significant() -> None:
    result = slowdown_test([10.0], [30.0], max_slowdown_pct=20, alpha=ALPHA)
    assert result.ratio_pct == pytest.approx(200)
    assert result.p_value is not None and result.p_value >= ALPHA
    assert not result.slower


@pytest.mark.parametrize(("baseline", "current"), [([], [1.0]), ([1.0], []), ([], [])])
def test_an_empty_sample_measures_nothing(baseline: list[float], current: list[float]) -> None:
    result = slowdown_test(baseline, current, max_slowdown_pct=20, alpha=ALPHA)
    assert result.baseline_mean is None and result.current_mean is None
    assert result.ratio_pct is None and result.p_value is None
    assert not result.slower


def test_a_zero_baseline_leaves_the_ratio_undefined() -> None:
    result = slowdown_test([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], max_slowdown_pct=20, alpha=0.2)
    assert result.ratio_pct is None
    assert not result.slower


def test_negative_durations_are_rejected() -> None:
    with pytest.raises(ValueError):
        slowdown_test([1.0], [-1.0], max_slowdown_pct=20, alpha=ALPHA)
