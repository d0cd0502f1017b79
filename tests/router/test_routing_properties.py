"""Properties of the router's per-request decision, `Math.random() * 100 < percent`."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.router import expected_v2_share, routes_to_v2, simulate_routing

pytestmark = pytest.mark.router

percents = st.integers(min_value=0, max_value=100)
# Math.random() is in [0, 1): include both ends of that range and the largest double below 1.
draws = st.one_of(
    st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    st.sampled_from([0.0, math.nextafter(1.0, 0.0), 0.1, 0.5, 0.9]),
)


@settings(max_examples=200)
@given(draws)
def test_zero_percent_never_routes_to_v2(draw: float) -> None:
    assert not routes_to_v2(0, draw)


@settings(max_examples=200)
@given(draws)
def test_hundred_percent_always_routes_to_v2(draw: float) -> None:
    assert routes_to_v2(100, draw)


@settings(max_examples=200)
@given(percents, percents, draws)
def test_raising_the_percent_never_moves_a_request_back_to_v1(a: int, b: int, draw: float) -> None:
    low, high = sorted((a, b))
    if routes_to_v2(low, draw):
        assert routes_to_v2(high, draw)
    assert expected_v2_share(low) <= expected_v2_share(high)


@pytest.mark.parametrize("percent", [0, 10, 50, 100])
def test_expected_share_is_the_percent(percent: int) -> None:
    assert expected_v2_share(percent) == percent / 100


@settings(max_examples=25)
@given(percents, st.integers(min_value=0, max_value=2**32 - 1))
def test_simulated_share_converges_to_the_percent(percent: int, seed: int) -> None:
    requests = 20_000
    v2 = simulate_routing(percent, requests, random.Random(seed))
    share = expected_v2_share(percent)
    # The v2 count is Binomial(requests, share); 5 standard deviations leaves a false alarm
    # chance of about 6e-7 per example, and 0 exactly at 0% and 100%.
    sigma = math.sqrt(requests * share * (1 - share))
    assert abs(v2 - requests * share) <= 5 * sigma


def test_simulation_is_reproducible_with_a_seed() -> None:
    assert simulate_routing(10, 5_000, random.Random(7)) == simulate_routing(
        10, 5_000, random.Random(7)
    )


@pytest.mark.parametrize(("percent", "draw"), [(-1, 0.5), (101, 0.5), (50, 1.0), (50, -0.1)])
def test_out_of_range_inputs_are_rejected(percent: int, draw: float) -> None:
    with pytest.raises(ValueError):
        routes_to_v2(percent, draw)
