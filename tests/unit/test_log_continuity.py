"""Coverage as continuity: the tracker readers feed (runs of instants, lines per slot) and the
rules criteria.coverage applies to what it saw (silences, unreadable slots, the window's edges,
lines after its end)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cutover.criteria.coverage import (
    NO_LINE,
    Gap,
    log_coverage,
    series_coverage,
    series_gaps,
)
from cutover.outcome import Window
from cutover.sources.logs.continuity import Continuity, Tracker, UnreadableSlot
from cutover.timeutil import epoch_us, from_epoch_us, iso

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
US = 60_000_000  # a minute in microseconds
LO = epoch_us(T0)
HOUR = Window(T0, T0 + timedelta(hours=1))
FIVE = timedelta(minutes=5)


def at(minutes: float) -> datetime:
    return T0 + minutes * MINUTE


def tracker(minutes: int = 60, step_minutes: int = 5) -> Tracker:
    return Tracker(LO, LO + minutes * US, step_minutes * US)


def runs_in_minutes(seen: Continuity) -> list[tuple[float, float]]:
    return [((a - T0) / MINUTE, (b - T0) / MINUTE) for a, b in seen.runs]


# -- the tracker --------------------------------------------------------------------------------


def test_instants_chain_into_runs_no_more_than_the_step_apart() -> None:
    t = tracker()
    t.see([LO + m * US for m in (0, 4, 8, 20, 21, 59)])
    assert runs_in_minutes(t.result()) == [(0, 8), (20, 21), (59, 59)]


def test_order_does_not_matter_and_runs_merge_across_calls() -> None:
    instants = [LO + m * US for m in (0, 4, 8, 13, 20, 21, 26, 40, 44, 59)]
    ordered = tracker()
    ordered.see(instants)
    shuffled = tracker()
    rng = random.Random(3)
    mixed = instants[:]
    rng.shuffle(mixed)
    for piece in (mixed[:3], mixed[3:4], mixed[4:8], mixed[8:]):
        shuffled.see(piece)
    assert shuffled.result() == ordered.result()
    assert runs_in_minutes(ordered.result()) == [(0, 13), (20, 26), (40, 44), (59, 59)]


@given(st.lists(st.integers(-10, 70), max_size=300), st.integers(1, 10), st.integers(1, 5))
def test_runs_equal_those_of_the_sorted_instants(minutes: list[int], step: int, parts: int) -> None:
    """Whatever the order and however the instants are given (numpy or Python, one call or
    several), the runs are those of the sorted instants inside the window."""
    values = [LO + m * US for m in minutes]
    in_parts, at_once = tracker(step_minutes=step), tracker(step_minutes=step)
    for part in range(parts):
        in_parts.see(values[part::parts])  # short lists: Python
    at_once.see(values * 10)  # one long list (repeated instants change nothing): numpy
    inside = sorted(v for v in values if LO <= v < LO + 60 * US)
    expected: list[tuple[int, int]] = []
    for v in inside:
        if expected and v - expected[-1][1] <= step * US:
            expected[-1] = (expected[-1][0], v)
        else:
            expected.append((v, v))
    runs = tuple((from_epoch_us(a), from_epoch_us(b)) for a, b in expected)
    assert in_parts.result().runs == runs == at_once.result().runs


def test_instants_outside_the_window_extend_nothing() -> None:
    t = tracker()
    t.see([LO - US, LO + 60 * US, LO + 600 * US])  # before, at the end, far after
    assert t.result().runs == ()
    t.lines([LO - US, LO + 61 * US], 1, 1)
    assert t.result().unreadable == ()


def test_lines_are_counted_per_slot_with_the_unreadable_ones() -> None:
    t = tracker()
    t.lines([LO + m * US for m in (0, 1, 2, 7, 59)], 1, [0, 1, 0, 0, 1])
    t.lines([LO + 3 * US], [10], [2])  # ten lines at one instant, two of them unreadable
    t.lines([LO + m * US for m in range(0, 60, 1) for _ in range(5)])  # the numpy path: 300
    slots = t.result().unreadable
    assert slots == (
        UnreadableSlot(at(0), at(5), 3, 3 + 10 + 25),
        UnreadableSlot(at(55), at(60), 1, 1 + 25),
    )


def test_the_last_slot_ends_at_the_window() -> None:
    t = Tracker(LO, LO + 7 * US, 5 * US)
    t.lines([LO + 6 * US], 1, 1)
    assert t.result().unreadable == (UnreadableSlot(at(5), at(7), 1, 1),)


# -- the rules ----------------------------------------------------------------------------------


def seen(*runs: tuple[float, float], slots: tuple[UnreadableSlot, ...] = ()) -> Continuity:
    return Continuity(T0, HOUR.end, FIVE, tuple((at(a), at(b)) for a, b in runs), unreadable=slots)


def test_a_log_seen_throughout_covers_the_window() -> None:
    cover = log_coverage(seen((2, 57)), HOUR, FIVE, 1.0, "the RLM log")
    assert cover.complete and cover.gaps_reason() == ""
    assert cover.covered == ((T0, HOUR.end),)


def test_silences_over_the_tolerance_are_gaps_at_either_edge_and_between() -> None:
    cover = log_coverage(seen((6, 20), (30, 50)), HOUR, FIVE, 1.0, "the RLM log")
    assert cover.gaps == (
        Gap(at(0), at(6), NO_LINE),
        Gap(at(20), at(30), NO_LINE),
        Gap(at(50), at(60), NO_LINE),
    )
    assert cover.covered == ((at(6), at(20)), (at(30), at(50)))
    reason = cover.gaps_reason()
    assert reason.startswith(f"the RLM log has 3 gaps in {iso(T0)}..{iso(HOUR.end)}")
    assert f"{iso(at(20))}..{iso(at(30))} (10 min without a line)" in reason


def test_a_silence_of_exactly_the_tolerance_is_no_gap() -> None:
    assert log_coverage(seen((5, 20), (25, 55)), HOUR, FIVE, 1.0, "x").complete


def test_a_window_without_a_line_is_one_gap_however_short() -> None:
    short = Window(T0, at(2))
    cover = log_coverage(Continuity(T0, at(2), FIVE), short, FIVE, 1.0, "the router log")
    assert cover.gaps == (Gap(T0, at(2), NO_LINE),)
    assert (
        cover.gaps_reason() == f"the router log has no timestamped line in {iso(T0)}..{iso(at(2))}"
    )


def test_an_empty_window_has_nothing_to_cover() -> None:
    empty = Window(T0, T0)
    assert log_coverage(Continuity(), empty, FIVE, 1.0, "x").complete


def test_unreadable_slots_over_the_share_are_gaps_whatever_their_length() -> None:
    slots = (
        UnreadableSlot(at(10), at(15), 1, 200),  # 0.5%: within the share
        UnreadableSlot(at(20), at(25), 3, 200),  # 1.5%: a gap
        UnreadableSlot(at(25), at(30), 1, 2),  # half: joins it
    )
    cover = log_coverage(seen((0, 59), slots=slots), HOUR, FIVE, 1.0, "the RLM log")
    assert cover.gaps == (
        Gap(at(20), at(30), "3 of 200 lines unreadable; 1 of 2 lines unreadable"),
    )
    assert cover.covered == ((T0, at(20)), (at(30), HOUR.end))
    assert "(3 of 200 lines unreadable; 1 of 2 lines unreadable)" in cover.gaps_reason()
    assert log_coverage(seen((0, 59), slots=slots), HOUR, FIVE, 60.0, "x").complete


def test_an_unreadable_slot_in_a_silence_gives_both_reasons_once() -> None:
    slots = (UnreadableSlot(at(20), at(25), 9, 9),)
    cover = log_coverage(seen((0, 18), (40, 59), slots=slots), HOUR, FIVE, 1.0, "x")
    assert cover.gaps == (Gap(at(18), at(40), f"{NO_LINE}; 9 of 9 lines unreadable"),)


def test_runs_outside_the_window_are_clipped() -> None:
    window = Window(at(10), at(50))
    cover = log_coverage(seen((0, 20), (24, 59)), window, FIVE, 1.0, "x")
    assert cover.complete and cover.covered == ((at(10), at(50)),)


def test_silences_that_meet_at_a_line_stay_two_gaps() -> None:
    cover = log_coverage(seen((0, 0), (10, 10), (20, 59)), HOUR, FIVE, 1.0, "x")
    assert cover.gaps == (Gap(at(0), at(10), NO_LINE), Gap(at(10), at(20), NO_LINE))


def test_the_evidence_lists_spans_gaps_and_counts() -> None:
    cover = log_coverage(seen((6, 59)), HOUR, FIVE, 1.0, "x", (("unparsed", 2), ("duplicates", 3)))
    assert cover.details(20) == {
        "window": [iso(T0), iso(HOUR.end)],
        "tolerance_minutes": 5.0,
        "covered": [[iso(at(6)), iso(HOUR.end)]],
        "gaps": [[iso(T0), iso(at(6)), NO_LINE]],
        "gap_count": 1,
        "unparsed": 2,
        "duplicates": 3,
    }
    many = log_coverage(seen(*((m, m) for m in range(0, 60, 10))), HOUR, MINUTE, 1.0, "x")
    assert many.details(2)["gap_count"] == 6 and len(many.details(2)["gaps"]) == 2
    assert many.gaps_reason(listed=2).endswith("; and 4 more")


def test_a_series_covers_where_its_points_are_close_enough() -> None:
    points = [at(m) for m in (0, 5, 10, 40, 45, 55)]
    cover = series_coverage(points + [at(70)], HOUR, timedelta(minutes=15), "the metrics")
    assert cover.gaps == (Gap(at(10), at(40), NO_LINE),)
    assert series_gaps(points, timedelta(minutes=15)) == [Gap(at(10), at(40), NO_LINE)]
    assert series_gaps(points, timedelta(minutes=30)) == []
