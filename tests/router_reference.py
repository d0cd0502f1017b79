"""The router log reader's reference: the documented semantics without fast paths, seeking or
blocks (as the module read before them): every line, one at a time, with the full parser."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime
from itertools import accumulate
from pathlib import Path

from cutover.sources.router_logs import RoutingCounts
from cutover.sources.router_logs.lines import CONTROL, LineParser
from cutover.sources.router_logs.records import BAD, OTHER, V1, V2
from cutover.timeutil import epoch_us, from_epoch_us

JSON_ENDS = (b"}\n", b"]\n", b"}\r\n", b"]\r\n", b"}", b"]")


class Reference:
    """The documented semantics without fast paths or seeking (as the module read before):
    every line, one at a time, with the full parser. Parsed once; counted per window."""

    def __init__(self, path: Path, text_date: date | None = None) -> None:
        parser = LineParser(text_date, UTC if text_date else None, str(path))
        self.path = str(path)
        raw_lines = list(io.BytesIO(path.read_bytes()))
        self.lines = 0
        self.judged_unparsed = 0  # truncated non-routing JSON
        self.events: list[list[tuple[int | None, int, int | None, int]] | None] = []
        first: int | None = None
        self.head: list[int] = []  # instants of the first timestamped line
        for index, raw in enumerate(raw_lines):
            if raw.isspace():
                continue
            self.lines += 1
            if b"Routing import request" in raw or b"routed to" in raw:
                records = parser.records(raw, routing=True)
            elif first is None:
                records = parser.records(raw, routing=False)
            else:
                if raw[0] in b"{[" and not raw.endswith(JSON_ENDS) or CONTROL.search(raw):
                    self.judged_unparsed += 1
                continue
            self.events.append(records)
            valid = [r[0] for r in records or () if r[0] is not None and r[1] != BAD]
            if first is None and valid:
                first = index
                self.head = valid
        self.tail: list[int] = []
        if first is not None:
            for raw in reversed(raw_lines[first + 1 :]):
                self.tail = parser.instants(raw)
                if self.tail:
                    break

    def count(self, start: datetime, end: datetime) -> RoutingCounts:
        lo, hi = epoch_us(start), epoch_us(end)
        records = [record for line in self.events if line is not None for record in line]
        timed = [(i, kind, p, key) for i, kind, p, key in records if i is not None and kind != BAD]
        instants = [i for i, *_ in timed]
        # out of order: earlier than the latest instant before it
        latest = accumulate(instants, max)  # one longer than instants[1:]
        out_of_order = sum(i < last for i, last in zip(instants[1:], latest, strict=False))
        counted = [(key, kind, p) for i, kind, p, key in timed if kind != OTHER and lo <= i < hi]
        first_of_each = {key: (kind, p) for key, kind, p in reversed(counted)}  # the first wins
        routed = list(first_of_each.values())
        unparsed = self.judged_unparsed + self.events.count(None)
        unparsed += sum(kind == BAD or (i is None and kind != OTHER) for i, kind, *_ in records)
        span = self.tail + instants
        percents = Counter(percent for _, percent in routed if percent is not None)
        return RoutingCounts(
            v1=sum(kind == V1 for kind, _ in routed),
            v2=sum(kind == V2 for kind, _ in routed),
            percent_seen=dict(sorted(percents.items())),
            first_seen=from_epoch_us(min(span)) if span else None,
            last_seen=from_epoch_us(max(span)) if span else None,
            lines=self.lines,
            unparsed=unparsed,
            out_of_order=out_of_order,
            path=self.path,
            duplicates=len(counted) - len(routed),
            without_percent=sum(kind in (V1, V2) and p is None for kind, p in routed),
        )


def reference(
    path: Path, start: datetime, end: datetime, text_date: date | None = None
) -> RoutingCounts:
    return Reference(path, text_date).count(start, end)
