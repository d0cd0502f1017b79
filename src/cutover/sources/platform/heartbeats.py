"""Proving a log's continuity without downloading it: a subset of its lines with exactly the
gaps the log has.

The coverage rule takes a log to cover the parts of a window where its lines come at most
`tolerance` apart, and a longer silence to be a gap. Downloading the lines of a 7-day window
that prove this is most of the download when they are frequent (health checks every 15 s:
40,000 lines), far more than the lines the criteria count. Render's log API answers a time
range with at most 100 lines, the oldest first (`forward`) or the newest first (`backward`), so
this module keeps a subset chosen such that two consecutive kept lines are more than
`tolerance` apart only where the log has no line between them at all:

* the first page is the window's oldest 100 lines (the gap at its start is exact);
* from the last kept line p, the newest `k` lines of (p, p + tolerance + 0.8 (k-1) c] are
  consecutive lines of the log (c: the cadence the pages so far showed); when the oldest of
  them is within `tolerance` of p, or the page holds every line of the range, all are kept;
* otherwise the newest line of (p, p + tolerance] is kept; when there is none, a gap begins at
  p and the oldest line after p + tolerance, if any, ends it.

Counting a request as worth `REQUEST_WORTH` lines, a full page (k = 100) costs less per hour
covered than single lines exactly when fewer than REQUEST_WORTH + 1 lines fall in one
`tolerance`: sparse lines are all kept, a request per ~100 of them; dense ones cost a request
and a line per `tolerance` (a 7-day window at a 30-minute tolerance: ~340 of each). Fewer
requests than one per tolerance cannot prove a dense log has no gap: what a request returns
lies in one stretch of at most `tolerance` plus its lines' span.

Every kept line is a line of the log, so the subset never shows less of a gap than the log
has; the walk above makes it show no more. A platform that rounds the range's start may skip
a line just after p: that only lengthens a gap (inconclusive), never hides one.

`prove` walks a filtered query first (the health checks: one kind of line at a steady
cadence, so a page spans far more of the window than a page of every line), then walks every
line only in the gaps the filtered lines leave: the union has exactly the gaps of the whole
log, whether the health checks are logged every few seconds, every minute, or not at all. Gaps
that meet at a health check are walked as one, and a walk goes on at the cadence the one before
it saw, so health checks sparser than the tolerance cost what the walk of every line costs, not
a page of 100 lines a gap. A page thrown away still shows the cadence where it lies: a quiet
start does not leave a busy log walked with pages of 100 it never keeps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

PAGE = 100  # the most lines Render's log API answers with
REQUEST_WORTH = 20  # lines a request is worth: at ~100 requests a minute, 1% of 1M lines is 10k
FORWARD = "forward"
BACKWARD = "backward"

Line = tuple[int, Any]  # (instant in epoch microseconds, the line as the platform gave it)
#: (start_us, end_us, direction, limit) -> (lines in that range, whether there are more)
Query = Callable[[int, int, str, int], tuple[Sequence[Line], bool]]


def sample(query: Query, start: int, end: int, tolerance: int) -> list[Line]:
    """The lines to keep for [start, end] (epoch microseconds), in time order."""
    return _walk(query, start, end, tolerance, None)[0]


def prove(filtered: Query, every_line: Query, start: int, end: int, tolerance: int) -> list[Line]:
    """The lines to keep for [start, end]: `sample` of the filtered lines, and in each stretch
    longer than `tolerance` without one of them (the window's edges included; the whole window
    when none lies in [start, end), as a window without a line is a gap however short), the
    walk of every line there; in time order (a line both walks kept appears twice).

    Stretches that meet at a filtered line are walked as one (health checks sparser than the
    tolerance leave nothing but such stretches: walked apart, each began with a page of its
    oldest lines), and each walk after the first goes on at the cadence the one before saw."""
    kept = sample(filtered, start, end, tolerance)
    edges = [start, *(t for t, _ in kept if start <= t < end), end]
    walks: list[tuple[int, int]] = []
    for before, after in pairwise(edges):
        if after - before > tolerance or len(edges) == 2:
            if walks and walks[-1][1] == before:
                walks[-1] = (walks[-1][0], after)
            else:
                walks.append((before, after))
    cadence = None
    for before, after in walks:  # `before` is a kept line's instant unless it is `start`
        lines, cadence = _walk(
            every_line, before, after, tolerance, None if before == start else cadence
        )
        kept += lines
    return sorted(kept, key=_instant)


def _walk(
    query: Query, start: int, end: int, tolerance: int, cadence: float | None
) -> tuple[list[Line], float | None]:
    """`sample`'s lines and the cadence its pages last showed. Given a `cadence`, `start` is
    the instant of a line already kept: the walk goes on from it, without a first page."""
    kept: list[Line] = []
    p = start
    if cadence is None:
        first, more = query(start, end, FORWARD, PAGE)
        kept = sorted(first, key=_instant)
        if not kept:
            return kept, None
        cadence = (kept[-1][0] - kept[0][0]) / max(len(kept) - 1, 1)
        if not more:
            return kept, cadence
        p = kept[-1][0]
    while end - p > tolerance:
        limit = PAGE if cadence * (REQUEST_WORTH + 1) > tolerance else 1
        reach = min(end, p + tolerance + int(0.8 * (limit - 1) * cadence))
        page, more = query(p + 1, reach, BACKWARD, limit)
        newer = sorted((line for line in page if line[0] > p), key=_instant)
        if more and len(newer) > 1:  # the newest lines of (p, reach]: the cadence there
            cadence = (newer[-1][0] - newer[0][0]) / (len(newer) - 1)
        if newer and (newer[0][0] - p <= tolerance or not more):
            kept += newer
            p = newer[-1][0]
            continue
        found = None
        if more:  # lines in (p, reach] went unseen: the newest within tolerance of p, if any
            within, _ = query(p + 1, p + tolerance, BACKWARD, 1)
            found = next((line for line in within if line[0] > p), None)
        if found is None:  # a gap begins at p: where does it end?
            after, _ = query(min(reach, p + tolerance), end, FORWARD, 1)
            found = next((line for line in after if line[0] > p), None)
            if found is None:
                break  # no line until the end: the gap reaches it
        kept.append(found)
        p = found[0]
    return kept, cadence


def _instant(line: Line) -> int:
    return line[0]
