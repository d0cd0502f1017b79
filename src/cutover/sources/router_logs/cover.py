"""Coverage of a router log read in blocks: of each block, enough lines are read for their
instants that no two neighbouring lines more than the tracker's resolution apart, or on either
side of an edge of the window, go unseen: the first and last timestamped lines, then the line
halfway between two seen ones wherever those are further apart or straddle an edge
(``seen_lines``). In a file in time order the runs are those of every line's instant; out of
order, what is seen is some of the instants (a silence is never bridged). The lines between two
seen ones count at the instant of the first. A canonical line is read by the pattern, any other
by the full parser."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from cutover.sources.logs.continuity import Tracker
from cutover.sources.router_logs.lines import LineParser
from cutover.sources.router_logs.pattern import FAST_LINE, time_us


class BlockCover:
    """Feeds a coverage tracker what each block (and the head) shows of the window."""

    __slots__ = ("_parser", "_tracker", "_previous")

    def __init__(self, parser: LineParser, tracker: Tracker) -> None:
        self._parser = parser
        self._tracker = tracker
        self._previous: int | None = None  # the instant of the last line seen

    def line(self, instants: list[int]) -> None:
        """One timestamped line read on its own (the head's)."""
        self._tracker.see(instants)
        self._tracker.lines([min(instants)])
        self._previous = max(instants)

    def block(
        self,
        buf: bytearray,
        starts: NDArray[np.intp],
        ends: NDArray[np.intp],
        plain: NDArray[np.bool_],
        bad: list[int],
    ) -> None:
        """What the block shows of coverage: the instants of the lines `_seen_lines` picks, and
        its lines (`bad`: those that could not be read) at the instant of the seen line before
        them (the block's first lines at that of the last line seen before the block)."""
        tracker = self._tracker
        instants_of = self._parser.instants
        match = FAST_LINE.fullmatch
        cache: dict[int, list[int]] = {}

        def instants(i: int) -> list[int]:
            got = cache.get(i)
            if got is None:
                s, e = int(starts[i]), int(ends[i])
                found = match(buf, s, e) if plain[i] else None
                if found is not None and found.group(2) is not None:  # a Pino line with msg
                    instant = time_us(found.group(1))
                    got = [] if instant is None else [instant]
                else:
                    got = instants_of(bytes(buf[s:e]))
                cache[i] = got
            return got

        seen = seen_lines(len(starts), instants, tracker.step, (tracker.lo, tracker.hi))
        at = [min(instants(i)) for i in seen]
        tracker.see([t for i in seen for t in instants(i)])
        count = len(starts)
        lines = [b - a for a, b in zip(seen, [*seen[1:], count], strict=False)]  # to the next
        unreadable = [0] * (len(seen) + 1)  # [0]: before the first seen line
        for line in bad:
            unreadable[bisect_right(seen, line)] += 1
        first = seen[0] if seen else count
        if self._previous is not None and first:  # lines before the block's first seen line
            tracker.lines([self._previous], [first], [unreadable[0]])
        if seen:
            tracker.lines(at, lines, unreadable[1:])
            self._previous = max(instants(seen[-1]))


def seen_lines(
    count: int, instants: Callable[[int], list[int]], step: int, edges: tuple[int, int]
) -> list[int]:
    """Which of a block's `count` lines to read for coverage (in file order): the first and
    the last timestamped ones, then, between two seen lines whose instants are more than `step`
    apart or on either side of an edge of the window (`edges`: where its first and last lines
    are), a timestamped line halfway (the nearest to the middle), until every two neighbours
    seen are within `step` and on one side of each edge, or have no timestamped line between
    them."""
    first = next((i for i in range(count) if instants(i)), None)
    if first is None:
        return []
    last = next(i for i in range(count - 1, first - 1, -1) if instants(i))
    seen = {first, last}
    pending = [(first, last)]
    while pending:
        a, b = pending.pop()
        if b - a < 2:
            continue
        both = instants(a) + instants(b)
        low, high = min(both), max(both)
        if high - low <= step and not any(low < edge <= high for edge in edges):
            continue
        middle = (a + b) // 2
        found = next((i for i in range(middle, b) if instants(i)), None)
        if found is None:
            found = next((i for i in range(middle - 1, a, -1) if instants(i)), None)
        if found is not None:
            seen.add(found)
            pending += [(a, found), (found, b)]
    return sorted(seen)
