"""The health-check subset a platform fetch keeps has exactly the gaps of the whole log, and
costs about a request per tolerance when health checks are dense, a page per 100 when sparse;
`prove` walks the health checks and asks for every line only where they leave a gap."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.sources.platform.heartbeats import BACKWARD, FORWARD, Line, prove, sample

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


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 600 * MINUTE), st.booleans()),
        max_size=400,
        unique_by=lambda line: line[0],
    ),
    st.integers(1, 90).map(lambda m: m * MINUTE),
)
def test_health_checks_and_the_lines_in_their_gaps_have_exactly_the_gaps_of_the_log(
    lines: list[tuple[int, bool]], tol: int
) -> None:
    start, end = 0, 600 * MINUTE
    every, health = FakeLog([t for t, _ in lines]), FakeLog([t for t, h in lines if h])
    times = [t for t, _ in prove(health.query, every.query, start, end, tol)]
    assert times == sorted(times) and set(times) <= set(every.instants)
    assert gaps(times, start, end, tol) == gaps(every.instants, start, end, tol)


WEEK = 7 * 24 * 60 * MINUTE


def test_steady_health_checks_prove_a_dense_log_without_asking_for_its_other_lines() -> None:
    every = FakeLog(range(0, WEEK, 1_000_000))  # a line a second
    health = FakeLog(range(7_000_000, WEEK, MINUTE))
    kept = prove(health.query, every.query, 0, WEEK, 5 * MINUTE)
    assert every.requests == 0
    assert health.requests <= len(health.instants) // 80 + 3  # pages of ~84, not one a slot
    assert gaps([t for t, _ in kept], 0, WEEK, 5 * MINUTE) == []


def test_where_health_checks_stop_the_other_lines_are_asked_for_there_only() -> None:
    hour = 60 * MINUTE
    every = FakeLog(range(0, 8 * hour, 10_000_000))
    health = FakeLog([t for t in range(0, 8 * hour, MINUTE) if not 2 * hour < t < 3 * hour])
    kept = prove(health.query, every.query, 0, 8 * hour, 5 * MINUTE)
    assert gaps([t for t, _ in kept], 0, 8 * hour, 5 * MINUTE) == []
    others = [t for t, _ in kept if t not in set(health.instants)]
    assert others and all(2 * hour < t < 3 * hour for t in others)
    assert every.requests <= 60 // 5 + 3


def test_a_log_without_health_checks_is_proven_from_its_other_lines() -> None:
    day = 24 * 60 * MINUTE
    instants = [t for t in range(0, day, 30_000_000) if not 600 * MINUTE < t < 700 * MINUTE]
    every, health = FakeLog(instants), FakeLog([])
    kept = [t for t, _ in prove(health.query, every.query, 0, day, 5 * MINUTE)]
    assert health.requests == 1
    assert gaps(kept, 0, day, 5 * MINUTE) == gaps(instants, 0, day, 5 * MINUTE) != []
