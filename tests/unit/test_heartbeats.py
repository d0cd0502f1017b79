"""The health-check subset a platform fetch keeps has exactly the gaps of the whole log, and
costs about a request per tolerance when health checks are dense, a page per 100 when sparse."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.sources.platform.heartbeats import BACKWARD, FORWARD, Line, sample

MINUTE = 60_000_000  # microseconds


class FakeLog:
    """Health checks at `instants`, answered as Render does: a range's oldest or newest lines."""

    def __init__(self, instants: Sequence[int]) -> None:
        self.instants = sorted(instants)
        self.requests = 0

    def query(self, lo: int, hi: int, direction: str, limit: int) -> tuple[list[Line], bool]:
        self.requests += 1
        left = bisect.bisect_left(self.instants, lo)
        right = bisect.bisect_right(self.instants, hi)
        found = self.instants[left:right]
        chosen = found[:limit] if direction == FORWARD else found[-limit:]
        assert direction in (FORWARD, BACKWARD)
        lines = [(t, {"timestamp": t}) for t in chosen]
        return (lines if direction == FORWARD else lines[::-1]), len(found) > limit


def gaps(instants: Sequence[int], start: int, end: int, tolerance: int) -> list[tuple[int, int]]:
    points = [start, *instants, end]
    return [(a, b) for a, b in zip(points, points[1:], strict=False) if b - a > tolerance]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 600 * MINUTE), min_size=0, max_size=400, unique=True),
    st.integers(1, 90).map(lambda m: m * MINUTE),
)
def test_the_kept_lines_have_exactly_the_gaps_of_the_log(instants: list[int], tol: int) -> None:
    start, end = 0, 600 * MINUTE
    log = FakeLog(instants)
    kept = sample(log.query, start, end, tol)
    times = [t for t, _ in kept]
    assert times == sorted(times) and set(times) <= set(instants)
    assert gaps(times, start, end, tol) == gaps(sorted(instants), start, end, tol)


def test_dense_health_checks_cost_a_request_and_a_line_per_tolerance() -> None:
    day = 24 * 60 * MINUTE
    every_5s = range(0, day, 5_000_000)
    log = FakeLog(every_5s)
    kept = sample(log.query, 0, day, 5 * MINUTE)
    slots = day // (5 * MINUTE)  # 288
    assert slots - 3 <= log.requests <= slots + 3
    assert len(kept) <= 100 + slots + 5  # the first page, then one line a slot
    assert gaps([t for t, _ in kept], 0, day, 5 * MINUTE) == []


def test_sparse_health_checks_are_all_kept_a_page_per_hundred() -> None:
    week = 7 * 24 * 60 * MINUTE
    every_10m = list(range(3_000_000, week, 10 * MINUTE))
    log = FakeLog(every_10m)
    kept = sample(log.query, 0, week, 30 * MINUTE)
    assert log.requests <= len(every_10m) // 100 + 3
    assert [t for t, _ in kept] == every_10m


def test_a_silence_is_kept_as_a_gap_and_where_it_ends_is_found() -> None:
    hour = 60 * MINUTE
    instants = [*range(0, 2 * hour, MINUTE // 2), *range(5 * hour, 8 * hour, MINUTE // 2)]
    log = FakeLog(instants)
    kept = [t for t, _ in sample(log.query, 0, 8 * hour, 5 * MINUTE)]
    assert gaps(kept, 0, 8 * hour, 5 * MINUTE) == [(max(range(0, 2 * hour, MINUTE // 2)), 5 * hour)]
