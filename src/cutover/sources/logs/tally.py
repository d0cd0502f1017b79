"""The span of instants a log reader has seen: the base of each reader's tally."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cutover.timeutil import from_epoch_us


@dataclass(slots=True)
class Span:
    """The earliest and latest instants seen (epoch microseconds); None before the first."""

    first: int | None = None
    last: int | None = None

    def widen(self, low: int, high: int) -> None:
        if self.first is None or low < self.first:
            self.first = low
        if self.last is None or high > self.last:
            self.last = high

    @property
    def first_seen(self) -> datetime | None:
        return from_epoch_us(self.first)

    @property
    def last_seen(self) -> datetime | None:
        return from_epoch_us(self.last)
