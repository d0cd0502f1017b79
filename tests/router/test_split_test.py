"""The v1/v2 split check: exact at 0% and 100%, an exact binomial test in between."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cutover.statistics import clopper_pearson, split_test

pytestmark = pytest.mark.router

ALPHA = 0.01
MIN_REQUESTS = 100


@settings(max_examples=60)
@given(st.integers(min_value=1, max_value=99), st.integers(min_value=1, max_value=200))
def test_counts_exactly_at_the_expected_share_pass(percent: int, hundreds: int) -> None:
    total = 100 * hundreds
    v2 = percent * hundreds
    result = split_test(total - v2, v2, percent, alpha=ALPHA, min_requests=MIN_REQUESTS)
    assert result.outcome == "pass", result.reason
    assert result.observed_share == pytest.approx(percent / 100)
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= percent / 100 <= result.ci_high


@pytest.mark.parametrize("percent", [10, 50, 90])
def test_false_alarm_rate_of_honest_splits_stays_within_alpha(percent: int) -> None:
    runs, requests = 2_000, 1_000
    rng = np.random.default_rng(20_240_601 + percent)
    v2_counts = rng.binomial(requests, percent / 100, size=runs)
    failures = sum(
        split_test(
            requests - int(v2), int(v2), percent, alpha=ALPHA, min_requests=MIN_REQUESTS
        ).outcome
        == "fail"
        for v2 in v2_counts
    )
    # The exact test keeps the false-alarm rate at or below alpha; the observed rate over
    # `runs` simulations may exceed it by sampling noise, bounded here at 3 binomial sigmas.
    tolerance = 3 * math.sqrt(ALPHA * (1 - ALPHA) / runs)
    assert failures / runs <= ALPHA + tolerance


def test_a_real_skew_fails() -> None:
    result = split_test(4_000, 1_000, 10, alpha=ALPHA, min_requests=MIN_REQUESTS)
    assert result.outcome == "fail"
    assert result.p_value is not None and result.p_value < ALPHA
    assert "20.0%" in result.reason and "5,000" in result.reason


def test_a_consistent_split_passes_with_a_readable_reason() -> None:
    result = split_test(1_792, 208, 10, alpha=0.001, min_requests=MIN_REQUESTS)
    assert result.outcome == "pass"
    assert result.reason.startswith("v2 share 10.4% of 2,000 routed requests is consistent")
    assert "alpha=0.001" in result.reason


def test_one_v2_request_under_zero_percent_fails_whatever_the_sample() -> None:
    result = split_test(0, 1, 0, alpha=ALPHA, min_requests=MIN_REQUESTS)
    assert result.outcome == "fail"
    assert result.p_value == 0.0


def test_one_v1_request_under_hundred_percent_fails_whatever_the_sample() -> None:
    result = split_test(1, 0, 100, alpha=ALPHA, min_requests=MIN_REQUESTS)
    assert result.outcome == "fail"
    assert split_test(1, 9_999, 100, alpha=ALPHA, min_requests=MIN_REQUESTS).outcome == "fail"


@pytest.mark.parametrize(("v1", "v2", "percent"), [(500, 0, 0), (0, 500, 100)])
def test_all_requests_where_the_router_must_send_them_pass(v1: int, v2: int, percent: int) -> None:
    result = split_test(v1, v2, percent, alpha=ALPHA, min_requests=MIN_REQUESTS)
    assert result.outcome == "pass"
    assert result.p_value == 1.0


@pytest.mark.parametrize("percent", [0, 10, 50, 100])
def test_no_requests_is_inconclusive(percent: int) -> None:
    result = split_test(0, 0, percent, alpha=ALPHA, min_requests=0)
    assert result.outcome == "inconclusive"
    assert result.observed_share is None and result.ci_low is None and result.ci_high is None


@pytest.mark.parametrize(("v1", "v2", "percent"), [(45, 5, 10), (50, 0, 0), (0, 50, 100)])
def test_below_min_requests_is_inconclusive(v1: int, v2: int, percent: int) -> None:
    result = split_test(v1, v2, percent, alpha=ALPHA, min_requests=MIN_REQUESTS)
    assert result.outcome == "inconclusive"
    assert "fewer than the 100" in result.reason


@settings(max_examples=60)
@given(st.integers(min_value=1, max_value=5_000), st.data())
def test_interval_is_clopper_pearson(total: int, data: st.DataObject) -> None:
    v2 = data.draw(st.integers(min_value=0, max_value=total))
    low, high = clopper_pearson(v2, total, ALPHA)
    reference = stats.binomtest(v2, total).proportion_ci(confidence_level=1 - ALPHA)
    assert low == pytest.approx(reference.low, abs=1e-9)
    assert high == pytest.approx(reference.high, abs=1e-9)
    assert low <= v2 / total <= high


@pytest.mark.parametrize(
    ("v1", "v2", "percent", "alpha", "min_requests"),
    [(-1, 0, 10, ALPHA, 0), (0, 0, 101, ALPHA, 0), (1, 1, 10, 0.0, 0), (1, 1, 10, ALPHA, -1)],
)
def test_invalid_arguments_are_rejected(
    v1: int, v2: int, percent: int, alpha: float, min_requests: int
) -> None:
    with pytest.raises(ValueError):
        split_test(v1, v2, percent, alpha=alpha, min_requests=min_requests)
