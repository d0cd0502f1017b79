"""What a router log reader has read so far: the records counted in the window, by identity,
the span of instants, the order, and the lines that could not be read."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cutover.sources.logs.continuity import Tracker
from cutover.sources.logs.identity import Identities
from cutover.sources.logs.tally import Span
from cutover.sources.router_logs.records import BAD, OTHER, V1, V2, Record


class Tally(Span):
    """What has been read so far: the records counted in [lo, hi) (epoch microseconds), by
    identity, the span and what the coverage tracker has seen."""

    __slots__ = (
        "lo",
        "hi",
        "lines",
        "unparsed",
        "out_of_order",
        "latest",
        "counted",
        "coverage",
        "_codes",
        "_classes",
    )

    def __init__(self, lo: int, hi: int, coverage: Tracker) -> None:
        super().__init__()
        self.lo = lo
        self.hi = hi
        self.lines = self.unparsed = self.out_of_order = 0
        self.latest: int | None = None
        self.counted = Identities()  # each counted record: its identity and code
        self.coverage = coverage
        self._codes: dict[tuple[int, int | None], int] = {}  # (kind, percent) -> code
        self._classes: list[tuple[int, int | None]] = []  # code -> (kind, percent)

    def code(self, kind: int, percent: int | None) -> int:
        """A small number for (kind, percent): what `counted` keeps of a record."""
        code = self._codes.get((kind, percent))
        if code is None:
            code = self._codes[(kind, percent)] = len(self._classes)
            self._classes.append((kind, percent))
        return code

    def take(self, records: list[Record] | None) -> bool:
        """Account for the records of one line; True when one of them had an instant."""
        if records is None:
            self.unparsed += 1
            return False
        timed = False
        for instant, kind, percent, identity in records:
            if kind == BAD or (instant is None and kind != OTHER):
                self.unparsed += 1
                continue
            if instant is None:
                continue
            timed = True
            self.widen(instant, instant)
            if self.latest is not None and instant < self.latest:
                self.out_of_order += 1
            else:
                self.latest = instant
            if kind == OTHER or not self.lo <= instant < self.hi:
                continue
            self.counted.add(identity, self.code(kind, percent))
        return timed

    def take_all(
        self,
        instants: NDArray[np.int64],
        kinds: NDArray[np.int64],
        codes: NDArray[np.int64],
        keys: NDArray[np.int64],
    ) -> None:
        """Account for timestamped records (none BAD), in file order, as `take` would one by one:
        the span, the order, and those counted in [lo, hi) by identity."""
        if not len(instants):
            return
        latest = int(instants[0]) if self.latest is None else self.latest
        running = np.maximum.accumulate(instants)
        before = np.empty_like(running)
        before[0] = latest
        np.maximum(running[:-1], latest, out=before[1:])
        self.out_of_order += int(np.count_nonzero(instants < before))
        self.latest = max(latest, int(running[-1]))
        self.widen(int(instants.min()), int(running[-1]))
        counted = (kinds != OTHER) & (instants >= self.lo) & (instants < self.hi)
        self.counted.add_all(keys[counted], codes[counted])

    def totals(self) -> tuple[int, int, dict[int, int], int, int]:
        """v1, v2, the lines per percent (sorted), the duplicates left out and the routed lines
        that log no percent."""
        codes, duplicates = self.counted.first()
        per_code = np.bincount(codes, minlength=len(self._classes)).tolist()
        v1 = v2 = without_percent = 0
        percent_seen: dict[int, int] = {}
        for (kind, percent), count in zip(self._classes, per_code, strict=True):
            if kind == V1:
                v1 += count
            elif kind == V2:
                v2 += count
            if percent is not None and count:
                percent_seen[percent] = percent_seen.get(percent, 0) + count
            elif kind in (V1, V2):
                without_percent += count
        return v1, v2, dict(sorted(percent_seen.items())), duplicates, without_percent
