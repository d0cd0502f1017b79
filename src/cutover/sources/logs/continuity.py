"""Where a log's lines reach in a window: the instants a reader sees, chained into runs, and how
many of the lines it read could not be read, per slot of the window.

A reader feeds a ``Tracker`` with the instants it sees and the lines it reads (each line at
the instant it belongs to: its own, or that of the entry it continues); ``Tracker.result`` is
the plain ``Continuity`` a criterion judges (``criteria.coverage`` owns what a silence or a
share of unreadable lines means). Only instants in [lo, hi) count: a line dated at or after
the window's end (after the instant measured, say) never extends what the log covers.

The resolution `step` (epoch microseconds) is the longest silence the tracker bridges: two
instants at most `step` apart are in one run, so a run holds no silence longer than `step`
and the runs are at most (hi - lo) / step + 1 however long the file. Lines are counted per slot
of `step` from `lo`: memory follows the window's slots with lines, not the file's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from cutover.timeutil import from_epoch_us

Span = tuple[datetime, datetime]
_VECTOR = 256  # inputs longer than this are handled by numpy, shorter ones in Python


@dataclass(frozen=True, slots=True)
class UnreadableSlot:
    """A slot of the window holding lines that could not be read (binary data, broken JSON)."""

    start: datetime
    end: datetime
    unreadable: int
    lines: int


@dataclass(frozen=True, slots=True)
class Continuity:
    """What a reader saw of the window [start, end): runs of instants no more than
    `resolution` apart, and the slots where lines could not be read. Empty: nothing seen."""

    start: datetime | None = None
    end: datetime | None = None
    resolution: timedelta = timedelta(0)
    runs: tuple[Span, ...] = ()
    unreadable: tuple[UnreadableSlot, ...] = ()


class Tracker:
    """Collects what a reader sees of [lo, hi) (epoch microseconds) at resolution `step`."""

    __slots__ = ("lo", "hi", "step", "_runs", "_slots")

    def __init__(self, lo: int, hi: int, step: int) -> None:
        if step <= 0:
            raise ValueError(f"the resolution must be positive, got {step} us")
        self.lo, self.hi, self.step = lo, hi, step
        self._runs: list[tuple[int, int]] = []  # sorted, more than `step` apart
        self._slots: dict[int, list[int]] = {}  # slot -> [lines, unreadable]

    def see(self, instants: Sequence[int]) -> None:
        """Instants the reader saw, in any order (those outside [lo, hi) are left out)."""
        lo, hi, step = self.lo, self.hi, self.step
        if len(instants) > _VECTOR:
            values = np.asarray(instants, dtype=np.int64)
            values = np.sort(values[(values >= lo) & (values < hi)])
            if not values.size:
                return
            breaks = np.flatnonzero(np.diff(values) > step)
            firsts = values[np.concatenate(([0], breaks + 1))].tolist()
            lasts = values[np.concatenate((breaks, [values.size - 1]))].tolist()
            self._merge(list(zip(firsts, lasts, strict=True)))
            return
        ordered = sorted(t for t in instants if lo <= t < hi)
        if not ordered:
            return
        runs = []
        first = previous = ordered[0]
        for instant in ordered:
            if instant - previous > step:
                runs.append((first, previous))
                first = instant
            previous = instant
        runs.append((first, previous))
        self._merge(runs)

    def lines(
        self, at: Sequence[int], lines: Sequence[int] | int = 1, unreadable: Sequence[int] | int = 0
    ) -> None:
        """Lines read: `lines` of them at each instant of `at` (the instant they belong to),
        `unreadable` of which could not be read. Lines outside [lo, hi) are left out."""
        if not len(at):
            return
        lo, hi, step, slots = self.lo, self.hi, self.step, self._slots
        grouped: Iterable[tuple[int, int, int]]
        if len(at) > _VECTOR:
            instants = np.asarray(at, dtype=np.int64)
            counts = np.broadcast_to(np.asarray(lines, dtype=np.int64), instants.shape)
            bad = np.broadcast_to(np.asarray(unreadable, dtype=np.int64), instants.shape)
            inside = (instants >= lo) & (instants < hi)
            keys, where = np.unique((instants[inside] - lo) // step, return_inverse=True)
            totals = np.bincount(where, weights=counts[inside], minlength=len(keys))
            bads = np.bincount(where, weights=bad[inside], minlength=len(keys))
            grouped = zip(
                keys.tolist(),
                totals.astype(np.int64).tolist(),
                bads.astype(np.int64).tolist(),
                strict=True,
            )
        else:
            many = [lines] * len(at) if isinstance(lines, int) else lines
            failed = [unreadable] * len(at) if isinstance(unreadable, int) else unreadable
            grouped = (
                ((t - lo) // step, n, u)
                for t, n, u in zip(at, many, failed, strict=True)
                if lo <= t < hi
            )
        for key, total, bad_lines in grouped:
            slot = slots.get(key)
            if slot is None:
                slots[key] = [total, bad_lines]
            else:
                slot[0] += total
                slot[1] += bad_lines

    def _merge(self, runs: Sequence[tuple[int, int]]) -> None:
        """Add sorted runs, each more than `step` from the next, to the runs so far."""
        current, step = self._runs, self.step
        if not current or runs[0][0] > current[-1][1] + step:  # after every run so far
            current.extend(runs)
            return
        if runs[0][0] >= current[-1][0] and runs[0][1] >= current[-1][1]:
            current[-1] = (current[-1][0], runs[0][1])  # continues the last run
            current.extend(runs[1:])
            return
        merged: list[tuple[int, int]] = []
        for first, last in sorted([*current, *runs]):
            if merged and first <= merged[-1][1] + step:
                if last > merged[-1][1]:
                    merged[-1] = (merged[-1][0], last)
            else:
                merged.append((first, last))
        self._runs = merged

    def result(self) -> Continuity:
        unreadable = []
        for key in sorted(self._slots):
            lines, failed = self._slots[key]
            if failed:
                start = self.lo + key * self.step
                unreadable.append(
                    UnreadableSlot(
                        from_epoch_us(start),
                        from_epoch_us(min(start + self.step, self.hi)),
                        failed,
                        lines,
                    )
                )
        return Continuity(
            start=from_epoch_us(self.lo),
            end=from_epoch_us(self.hi),
            resolution=timedelta(microseconds=self.step),
            runs=tuple((from_epoch_us(a), from_epoch_us(b)) for a, b in self._runs),
            unreadable=tuple(unreadable),
        )
