"""The health-check subset a platform fetch keeps has exactly the gaps of the whole log, and
costs about a request per tolerance when health checks are dense, a page per 100 when sparse;
`prove` walks the health checks and asks for every line only where they leave a gap."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.criteria.coverage import Gap, log_coverage
from cutover.outcome import Window
from cutover.sources.logs.continuity import Tracker
from cutover.sources.platform.heartbeats import (
    BACKWARD,
    FORWARD,
    PAGE,
    REQUEST_WORTH,
    Line,
    Query,
    prove,
    sample,
)
from cutover.timeutil import from_epoch_us

MINUTE = 60_000_000  # microseconds


class FakeLog:
    """Health checks at `instants`, answered as Render does: a range's oldest or newest lines."""

    def __init__(self, instants: Sequence[int]) -> None:
        self.instants = sorted(instants)
        self.requests = 0
        self.sent = 0  # lines answered, kept or not

    def query(self, lo: int, hi: int, direction: str, limit: int) -> tuple[list[Line], bool]:
        self.requests += 1
        left = bisect.bisect_left(self.instants, lo)
        right = bisect.bisect_right(self.instants, hi)
        found = self.instants[left:right]
        chosen = found[:limit] if direction == FORWARD else found[-limit:]
        assert direction in (FORWARD, BACKWARD)
        self.sent += len(chosen)
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


# -- what the reader sees: the coverage rule itself, not the helper above --------------------

T0 = 1_772_445_600_000_000  # 2026-03-02T10:00Z in epoch microseconds


def reader_gaps(instants: Sequence[int], start: int, end: int, tol: int) -> list[Gap]:
    """The gaps criteria.coverage finds in what a reader of these instants sees of [start, end):
    instants at or after `end` count for nothing, and a window without one is a gap however
    short (the helper `gaps` above does neither)."""
    tracker = Tracker(start, end, tol)
    tracker.see(list(instants))
    window = Window(from_epoch_us(start), from_epoch_us(end))
    return list(log_coverage(tracker.result(), window, timedelta(microseconds=tol), 1.0, "").gaps)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-2, 40), st.booleans()), max_size=120),
    st.sampled_from([1, 2, 5, 10]),
    st.sampled_from([1, 3, 5, 9, 10, 11, 40]),
)
def test_prove_has_the_readers_gaps_of_the_log_in_any_window(
    lines: list[tuple[int, bool]], tol_minutes: int, span_minutes: int
) -> None:
    """Windows shorter than the tolerance, lines at the same instant, lines exactly a tolerance
    apart or at the window's end: what the reader finds in the kept lines is what it finds in
    the whole log."""
    tol, start = tol_minutes * MINUTE, T0
    end = start + span_minutes * MINUTE
    instants = [start + minute * MINUTE // 2 for minute, _ in lines]
    health = [start + minute * MINUTE // 2 for minute, h in lines if h]
    kept = prove(FakeLog(health).query, FakeLog(instants).query, start, end, tol)
    assert reader_gaps([t for t, _ in kept], start, end, tol) == reader_gaps(
        instants, start, end, tol
    )


def test_a_window_shorter_than_the_tolerance_without_a_health_check_keeps_a_line() -> None:
    """A 4-minute window at a 5-minute tolerance, with lines but no health check in it: the
    stretch between the window's edges is not over the tolerance, yet the reader counts a
    window without a line as one gap, however short."""
    start, end, tol = T0, T0 + 4 * MINUTE, 5 * MINUTE
    every = FakeLog(range(start + 10_000_000, end, 20_000_000))
    kept = prove(FakeLog([]).query, every.query, start, end, tol)
    assert reader_gaps(every.instants, start, end, tol) == []
    assert reader_gaps([t for t, _ in kept], start, end, tol) == []


def walk_cost(*logs: FakeLog) -> int:
    """Requests and lines answered, a request worth REQUEST_WORTH lines."""
    return sum(log.requests * REQUEST_WORTH + log.sent for log in logs)


DAY = 24 * 60 * MINUTE


@pytest.mark.parametrize(
    "health_instants",
    [
        range(3_000_000, DAY, 5 * MINUTE + 1_000_000),  # every 5 min 1 s
        range(3_000_000, DAY, 6 * MINUTE),
        sorted(  # two instances, each every 6 min, one a second after the other
            [*range(3_000_000, DAY, 6 * MINUTE), *range(4_000_000, DAY, 6 * MINUTE)]
        ),
    ],
    ids=["every-5min-1s", "every-6min", "two-instances-every-6min"],
)
def test_health_checks_sparser_than_the_tolerance_cost_no_more_than_every_line(
    health_instants: Sequence[int],
) -> None:
    """Where every stretch between health checks is over the tolerance, walking every line in
    each stretch on its own began each with a page of its 100 oldest lines: ~100 lines a stretch
    where the walk of every line keeps one (a fifth of a dense week's lines)."""
    tol = 5 * MINUTE
    health_set = set(health_instants)
    others = [t for t in range(0, DAY, 2_000_000) if t not in health_set]  # a line every 2 s
    instants = sorted([*health_instants, *others])
    health, every, alone = FakeLog(health_instants), FakeLog(instants), FakeLog(instants)
    kept = prove(health.query, every.query, 0, DAY, tol)
    sample(alone.query, 0, DAY, tol)
    assert gaps([t for t, _ in kept], 0, DAY, tol) == []
    assert walk_cost(health, every) <= 1.5 * walk_cost(alone)
    assert every.sent <= alone.sent + PAGE


def test_a_quiet_start_does_not_make_the_walk_of_a_busy_log_ask_for_pages_in_vain() -> None:
    """Two quiet hours (a line a minute: pages of 100) before a busy day (a line a second):
    the cadence was only learnt from pages whose lines were kept, so the busy day was walked
    with pages of 100 that were thrown away and a second request each tolerance. It costs what
    the quiet hours and the busy day cost apart, and a page where they meet."""
    hour, tol = 60 * MINUTE, 5 * MINUTE
    quiet, busy = range(0, 2 * hour, MINUTE), range(2 * hour, 2 * hour + DAY, 1_000_000)
    both, quiet_only, busy_only = FakeLog([*quiet, *busy]), FakeLog(quiet), FakeLog(busy)
    kept = sample(both.query, 0, 2 * hour + DAY, tol)
    sample(quiet_only.query, 0, 2 * hour, tol)
    sample(busy_only.query, 2 * hour, 2 * hour + DAY, tol)
    assert gaps([t for t, _ in kept], 0, 2 * hour + DAY, tol) == []
    assert both.requests <= quiet_only.requests + busy_only.requests + 5
    assert both.sent <= quiet_only.sent + busy_only.sent + PAGE


def rounded(log: FakeLog, start: Callable[[int], int], end: Callable[[int], int]) -> Query:
    """`log.query` of a platform that rounds the range it is asked for."""

    def query(lo: int, hi: int, direction: str, limit: int) -> tuple[Sequence[Line], bool]:
        return log.query(start(lo), end(hi), direction, limit)

    return query


SECOND = 1_000_000
ROUNDINGS = {
    "ms-floor": (lambda t: t // 1000 * 1000, lambda t: t // 1000 * 1000),
    "s-floor": (lambda t: t // SECOND * SECOND, lambda t: t // SECOND * SECOND),
    "s-ceil-end": (lambda t: t, lambda t: -(-t // SECOND) * SECOND),
    "end-exclusive": (lambda t: t, lambda t: t - 1),
    "start-exclusive": (lambda t: t + 1, lambda t: t),
}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 200 * 60), st.booleans()), max_size=150),
    st.sampled_from([1, 5, 10]),
    st.sampled_from(sorted(ROUNDINGS)),
)
def test_a_platform_that_rounds_the_range_never_makes_the_kept_lines_hide_a_gap(
    lines: list[tuple[int, bool]], tol_minutes: int, rounding: str
) -> None:
    """Whatever Render does to startTime/endTime, every kept line is a line of the log, so each
    gap of the log lies within a gap of the kept lines (at worst a gap is longer or one more:
    inconclusive, never a pass)."""
    tol, start, end = tol_minutes * MINUTE, T0, T0 + 200 * MINUTE
    instants = [start + s * SECOND + s % 7 * 1000 for s, _ in lines]
    health = [start + s * SECOND + s % 7 * 1000 for s, h in lines if h]
    lo, hi = ROUNDINGS[rounding]
    every_line, filtered = FakeLog(instants), FakeLog(health)
    kept = prove(rounded(filtered, lo, hi), rounded(every_line, lo, hi), start, end, tol)
    assert {t for t, _ in kept} <= set(instants)
    shown = reader_gaps([t for t, _ in kept], start, end, tol)
    for gap in reader_gaps(instants, start, end, tol):
        assert any(g.start <= gap.start and gap.end <= g.end for g in shown)
