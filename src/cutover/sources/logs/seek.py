"""Seeking by timestamp in a log written in time order, nearly: which bytes a window needs.

Shared by the router and RLM log readers: ``read_window`` opens the file, gives the reader its
head and then the byte range the window needs, and returns the instants of its last timestamped
line; each reader says how to read the instants of one physical line (``InstantsOf``). Nothing
here decides anything: it only narrows what a reader reads.

When ``margin`` is set (the readers default to ``OUT_OF_ORDER_MARGIN``, 30 minutes), a file
with at least ``SEEK_MIN_BYTES`` after its first timestamped line is not read whole: ``SAMPLES``
(32) sampled places must be in time order within the margin (else the whole rest is read); a
binary search by timestamp then starts the read where lines are more than ``margin`` before the
window start and stops it where they are more than ``margin`` past its end. A probe takes the
median of three timestamped lines, so one stray timestamp does not mislead it.

Guarantee: a reader that counts the lines of the range gets the counts of reading every line
when no two timestamped lines of the file are out of order by more than ``margin`` (a line
written before another, with an instant more than ``margin`` later). A line out of order by
more than that may be missed, and then only if at least two lines where the read starts or
stops are out of order with it by more than ``margin``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from cutover.errors import SourceUnavailable

# The instants (epoch microseconds) of one physical line; empty when it has none.
InstantsOf = Callable[[bytes], Sequence[int]]

# Lines may be this far out of time order and still be found by seeking.
OUT_OF_ORDER_MARGIN = timedelta(minutes=30)
# Sizes seeking works in (module constants: tests make them small to seek in small files).
SEEK_MIN_BYTES = 1 << 23  # smaller files are read whole
SAMPLES = 32  # places sampled to check that the file is in time order
SEEK_RESOLUTION = 1 << 16  # the binary search stops within this many bytes
PROBE_LINES = 3  # timestamped lines per probe (their median resists one stray timestamp)
PROBE_BLOCK = 1 << 14
PROBE_LIMIT = 1 << 20  # a probe that finds no timestamp in this many bytes finds none
TAIL_BLOCK = 1 << 16
_ONE_US = timedelta(microseconds=1)


class WindowReader(Protocol):
    """What a log reader does with the parts of the file `read_window` gives it."""

    def head(self, handle: io.BufferedReader) -> int | None:
        """Read from the start up to and including the first timestamped line; the offset
        where that line ends, or None when the file has no timestamp."""

    def body(self, handle: io.BufferedReader, start: int, stop: int, *, resumed: bool) -> None:
        """Read the lines of [start, stop); `resumed`: lines before it were skipped."""


def read_window(
    path: Path,
    source: str,
    window: tuple[int, int],
    margin: timedelta | None,
    instants_of: InstantsOf,
    reader: WindowReader,
) -> tuple[int, int] | None:
    """Give `reader` what the window [lo, hi) (epoch microseconds) needs of the file: its head,
    then the byte range seeking finds; return the instants (min, max) of its last timestamped
    line (None when it has none).

    Raises ValueError for a negative margin and SourceUnavailable(`source`) when the file
    cannot be read (or is not seekable, such as a pipe).
    """
    if margin is not None and margin < timedelta(0):
        raise ValueError(f"margin must not be negative, got {margin}")
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise SourceUnavailable(source, f"cannot read: {exc.strerror or exc}") from exc
    try:
        with handle:
            size = os.fstat(handle.fileno()).st_size
            first_end = reader.head(handle)
            if first_end is None:
                return None
            start, stop = window_range(handle, instants_of, first_end, size, window, margin)
            reader.body(handle, start, stop, resumed=start > first_end)
            return last_instants(handle, first_end, max(size, first_end), instants_of)
    except OSError as exc:
        raise SourceUnavailable(source, f"cannot read: {exc.strerror or exc}") from exc


def window_range(
    handle: BinaryIO,
    instants_of: InstantsOf,
    first_end: int,
    size: int,
    window: tuple[int, int],
    margin: timedelta | None,
) -> tuple[int, int]:
    """The byte range [start, stop) of `handle` after its first timestamped line (which ends at
    `first_end`) that the window [lo, hi) (epoch microseconds) needs: all of it when `margin`
    is None, the file is small, or it is not in time order within the margin."""
    stop = max(size, first_end)
    if margin is None or size - first_end < SEEK_MIN_BYTES:
        return first_end, stop
    slack = margin // _ONE_US
    lo, hi = window
    return _region(handle, instants_of, first_end, size, lo - slack, hi + slack, slack)


@dataclass(frozen=True, slots=True)
class _Probe:
    """Up to PROBE_LINES timestamped lines from `start` (a line start) to `end`: `low` is the
    median of their earliest instants, `high` of their latest (upper / lower median), so that
    most of the lines are at or below `low` and at or above `high`."""

    start: int
    end: int
    low: int
    high: int


def _probe(handle: BinaryIO, offset: int, size: int, instants_of: InstantsOf) -> _Probe | None:
    """The first timestamped lines starting at or after `offset`; None if none near."""
    begin = max(offset - 1, 0)
    handle.seek(begin)
    block = handle.read(min(PROBE_BLOCK, size - begin))
    if offset > 0:
        newline = block.find(b"\n")
        while newline < 0 and len(block) < PROBE_LIMIT and begin + len(block) < size:
            more = handle.read(min(PROBE_BLOCK, size - begin - len(block)))
            if not more:
                break
            block += more
            newline = block.find(b"\n")
        if newline < 0:
            return None
        cursor = newline + 1
    else:
        cursor = 0
    start = begin + cursor
    lows: list[int] = []
    highs: list[int] = []
    while len(lows) < PROBE_LINES:
        newline = block.find(b"\n", cursor)
        if newline < 0:
            at_end = begin + len(block) >= size
            if not at_end and len(block) < PROBE_LIMIT:
                more = handle.read(min(PROBE_BLOCK, size - begin - len(block)))
                if more:
                    block += more
                    continue
            if not at_end or cursor >= len(block):
                break
            newline = len(block) - 1  # the last line, without a newline
        instants = instants_of(block[cursor : newline + 1])
        cursor = newline + 1
        if instants:
            lows.append(min(instants))
            highs.append(max(instants))
    if not lows:
        return None
    lows.sort()
    highs.sort()
    return _Probe(start, begin + cursor, lows[len(lows) // 2], highs[(len(highs) - 1) // 2])


def _region(
    handle: BinaryIO,
    instants_of: InstantsOf,
    first_end: int,
    size: int,
    before: int,
    after: int,
    slack: int,
) -> tuple[int, int]:
    """Byte range to read: from lines more than the margin before the window (`before`) to
    lines more than the margin after it (`after`); the whole rest if the file is not in order."""
    whole = (first_end, size)
    span = size - first_end
    offsets = [first_end + span * i // SAMPLES for i in range(SAMPLES)]
    probes: list[_Probe] = []
    latest: int | None = None
    for offset in offsets:
        probe = _probe(handle, offset, size, instants_of)
        if probe is None or (latest is not None and probe.low < latest - slack):
            return whole  # no timestamp near a sample, or out of order beyond the margin
        latest = probe.low if latest is None else max(latest, probe.low)
        probes.append(probe)

    start = first_end
    below = [i for i, probe in enumerate(probes) if probe.low < before]
    if below:
        i = below[-1]
        lo, found = offsets[i], probes[i]
        hi = offsets[i + 1] if i + 1 < SAMPLES else size
        while hi - lo > SEEK_RESOLUTION:
            middle = (lo + hi) // 2
            probe = _probe(handle, middle, size, instants_of)
            if probe is not None and probe.low < before:
                lo, found = middle, probe
            else:
                hi = middle
        start = found.start

    stop = size
    above = [i for i, probe in enumerate(probes) if probe.start >= start and probe.high >= after]
    if above:
        j = above[0]
        hi, found = offsets[j], probes[j]
        lo = max(offsets[j - 1], start) if j > 0 else start
        while hi - lo > SEEK_RESOLUTION:
            middle = (lo + hi) // 2
            probe = _probe(handle, middle, size, instants_of)
            if probe is not None and probe.high >= after:
                hi, found = middle, probe
            else:
                lo = middle
        stop = max(found.end, start)
    return start, stop


def last_instants(
    handle: BinaryIO, stop: int, end: int, instants_of: InstantsOf
) -> tuple[int, int] | None:
    """Instants (min, max) of the last timestamped line between byte `stop` and `end`, reading
    backwards (lines appended after the file was opened are not looked at)."""
    carry = b""
    position = end
    while position > stop:
        start = max(stop, position - TAIL_BLOCK)
        handle.seek(start)
        block = handle.read(position - start) + carry
        position = start
        pieces = block.split(b"\n")
        # The first piece may be the end of a line that starts before `start`: keep it for later.
        carry = pieces[0] if position > stop else b""
        candidates = pieces[1:] if position > stop else pieces
        for raw in reversed(candidates):
            instants = instants_of(raw)
            if instants:
                return min(instants), max(instants)
    return None
