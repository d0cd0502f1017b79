"""Whether a log or metrics export covers the window a criterion judges: zero events where a
file has a gap mean nothing. The one owner of the coverage rules:

* A source covers the parts of the window where its lines arrive at the cadence expected of it
  (the profile's tolerance per source: ``rlm_log_gap_minutes``, ``router_log_gap_minutes``,
  ``metrics_gap_minutes``). The stretch from the window's start to the first instant seen, from
  the last one to the window's end, and between two instants seen is a gap when it is longer
  than the tolerance. A window with no instant at all is one gap, however short.
* A slot of the window (the reader's resolution long) in which more than
  ``log_unreadable_max_pct`` of the lines read could not be read (binary data, broken JSON) is a
  gap too, however short: what it hid cannot be told.
* Only instants inside the window count (the readers see to it): a line dated at or after the
  window's end, after the instant measured say, never extends coverage.

A ``Coverage`` says what was covered and the gaps, for the reason (``gaps_reason``) and the
evidence (``details``: covered spans, gaps, unparsed lines and duplicates).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cutover.measure.readings import Continuity, MetricSeries, RlmLogCounts, RoutingCounts, Span
from cutover.outcome import Window
from cutover.profile import Profile
from cutover.timeutil import iso

NO_LINE = "no line"
UNREADABLE = "unreadable lines"


@dataclass(frozen=True, slots=True)
class Gap:
    """A part of the window the source does not cover, and why."""

    start: datetime
    end: datetime
    why: str  # NO_LINE, or "<n> of <m> lines unreadable"

    def describe(self) -> str:
        minutes = (self.end - self.start).total_seconds() / 60
        length = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
        why = f"{length} without a line" if self.why == NO_LINE else self.why
        return f"{iso(self.start)}..{iso(self.end)} ({why})"


@dataclass(frozen=True, slots=True)
class Coverage:
    """What `what` covers of [start, end): the covered spans and the gaps between them."""

    what: str  # "the RLM log", "the router log", "the metric series"
    start: datetime
    end: datetime
    tolerance: timedelta
    covered: tuple[Span, ...]
    gaps: tuple[Gap, ...]
    counts: tuple[tuple[str, int], ...] = ()  # e.g. ("unparsed", 3), ("duplicates", 0)

    @property
    def complete(self) -> bool:
        return not self.gaps

    def gaps_reason(self, listed: int = 3) -> str:
        """`the RLM log has 1 gap: ...` naming the first gaps ("" when there is none)."""
        if not self.gaps:
            return ""
        window = f"{iso(self.start)}..{iso(self.end)}"
        if not self.covered and len(self.gaps) == 1 and self.gaps[0].why == NO_LINE:
            return f"{self.what} has no timestamped line in {window}"
        shown = "; ".join(gap.describe() for gap in self.gaps[:listed])
        more = f"; and {len(self.gaps) - listed} more" if len(self.gaps) > listed else ""
        minutes = self.tolerance.total_seconds() / 60
        return (
            f"{self.what} has {len(self.gaps)} gap{'s' if len(self.gaps) > 1 else ''} in "
            f"{window} (over {minutes:g} min without a line, or unreadable lines): {shown}{more}"
        )

    def details(self, listed: int) -> dict[str, Any]:
        """The evidence: covered spans and gaps (the first `listed` of each) and the counts."""
        return {
            "window": [iso(self.start), iso(self.end)],
            "tolerance_minutes": self.tolerance.total_seconds() / 60,
            "covered": [[iso(a), iso(b)] for a, b in self.covered[:listed]],
            "gaps": [[iso(g.start), iso(g.end), g.why] for g in self.gaps[:listed]],
            "gap_count": len(self.gaps),
            **dict(self.counts),
        }


def rlm_log_coverage(logs: RlmLogCounts, window: Window, profile: Profile) -> Coverage:
    """What the RLM log covers of `window` (its health checks' cadence: the profile's)."""
    return _read_log(logs, window, profile.rlm_log_gap_minutes, profile, "the RLM log")


def router_log_coverage(counts: RoutingCounts, window: Window, profile: Profile) -> Coverage:
    """What the router log covers of `window` (its traffic's cadence: the profile's)."""
    return _read_log(counts, window, profile.router_log_gap_minutes, profile, "the router log")


def metrics_coverage(metrics: MetricSeries, window: Window, profile: Profile) -> Coverage:
    """What the metric points (every instance together) cover of `window`."""
    cover = series_coverage(
        [p.timestamp for p in metrics.points],
        window,
        timedelta(minutes=profile.metrics_gap_minutes),
        "the metric series",
    )
    return dataclasses.replace(cover, counts=(("duplicates", metrics.duplicates),))


def _read_log(
    read: RlmLogCounts | RoutingCounts, window: Window, minutes: float, profile: Profile, what: str
) -> Coverage:
    counts = (("lines", read.lines), ("unparsed", read.unparsed), ("duplicates", read.duplicates))
    tolerance = timedelta(minutes=minutes)
    return log_coverage(
        read.coverage, window, tolerance, profile.log_unreadable_max_pct, what, counts
    )


def log_coverage(
    seen: Continuity,
    window: Window,
    tolerance: timedelta,
    max_unreadable_pct: float,
    what: str,
    counts: Iterable[tuple[str, int]] = (),
) -> Coverage:
    """What a log covers of `window`, from what its reader saw (`seen`)."""
    unreadable = [
        Gap(slot.start, slot.end, f"{slot.unreadable} of {slot.lines} lines unreadable")
        for slot in seen.unreadable
        if 100.0 * slot.unreadable > max_unreadable_pct * slot.lines
    ]
    return _coverage(seen.runs, unreadable, window, tolerance, what, tuple(counts))


def series_coverage(
    instants: Sequence[datetime], window: Window, tolerance: timedelta, what: str
) -> Coverage:
    """What a series of points (metrics) covers of `window`."""
    inside = sorted(t for t in instants if (window.start or window.end) <= t < window.end)
    runs: list[Span] = []
    for instant in inside:
        if runs and instant - runs[-1][1] <= tolerance:
            runs[-1] = (runs[-1][0], instant)
        else:
            runs.append((instant, instant))
    return _coverage(runs, [], window, tolerance, what, ())


def series_gaps(instants: Sequence[datetime], tolerance: timedelta) -> list[Gap]:
    """The silences longer than `tolerance` between the points of one series: a trend across
    one cannot be told (a restart, an export that lost a day)."""
    ordered = sorted(instants)
    return [
        Gap(a, b, NO_LINE) for a, b in zip(ordered, ordered[1:], strict=False) if b - a > tolerance
    ]


def _coverage(
    runs: Sequence[Span],
    unreadable: Sequence[Gap],
    window: Window,
    tolerance: timedelta,
    what: str,
    counts: tuple[tuple[str, int], ...],
) -> Coverage:
    start, end = window.start or window.end, window.end
    gaps: list[Gap] = list(unreadable)
    if start < end:
        inside = [(max(a, start), min(b, end)) for a, b in runs if b >= start and a < end]
        if not inside:
            gaps.append(Gap(start, end, NO_LINE))
        else:
            edges = [start, *(t for run in inside for t in run), end]
            for silent_from, silent_to in zip(edges[::2], edges[1::2], strict=True):
                if silent_to - silent_from > tolerance:
                    gaps.append(Gap(silent_from, silent_to, NO_LINE))
    merged = _merged(sorted(gaps, key=lambda g: (g.start, g.end)))
    covered: list[Span] = []
    cursor = start
    for gap in merged:
        if gap.start > cursor:
            covered.append((cursor, gap.start))
        cursor = max(cursor, gap.end)
    if cursor < end:
        covered.append((cursor, end))
    return Coverage(what, start, end, tolerance, tuple(covered), tuple(merged), counts)


def _merged(gaps: Sequence[Gap]) -> list[Gap]:
    """Gaps that overlap made one (a silence and an unreadable slot: both reasons), and those
    that touch unless both are silences (a line was seen where they meet)."""
    out: list[Gap] = []
    for gap in gaps:
        meet = out and gap.start == out[-1].end and NO_LINE not in (gap.why, out[-1].why)
        if out and (gap.start < out[-1].end or meet):
            last = out[-1]
            why = last.why if gap.why in last.why else f"{last.why}; {gap.why}"
            out[-1] = Gap(last.start, max(last.end, gap.end), why)
        else:
            out.append(gap)
    return out


def coverage_details(coverages: Iterable[tuple[str, Coverage]], listed: int) -> dict[str, Any]:
    """`details["coverage"]` of a criterion: each source's coverage under its key."""
    return {key: coverage.details(listed) for key, coverage in coverages}
