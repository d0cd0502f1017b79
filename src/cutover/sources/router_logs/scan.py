"""Reading a byte range of a router log in blocks: numpy finds the lines worth decoding (those
holding ``Routing import request`` or ``routed to``) and judges the rest by their first and last
bytes (and binary data); a routing line in the form the router writes is read by one compiled
pattern (``FAST_LINE``), every other one by the full parser (``lines.LineParser``). Both give the
same records, identities included, and the tally counts them the same way: each identity once.

Coverage: a few lines of each block are read for their instants (``cover``)."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray

from cutover.sources.logs.blocks import read_blocks, read_head
from cutover.sources.logs.continuity import Tracker
from cutover.sources.logs.identity import Identities
from cutover.sources.logs.tally import Span
from cutover.sources.router_logs.cover import BlockCover
from cutover.sources.router_logs.lines import CONTROL, LineParser
from cutover.sources.router_logs.pattern import FAST_LINE
from cutover.sources.router_logs.records import (
    BAD,
    OTHER,
    V1,
    V2,
    Record,
    classify,
    line_identity,
)
from cutover.timeutil import epoch_number_us, instant_us

_PREFILTER_ROUTING = b"Routing import request"
_PREFILTER_RUNBOOK = b"routed to"
_NEEDLES = (_PREFILTER_ROUTING, _PREFILTER_RUNBOOK)  # each holds a space (see _find_all)
_JSON_ENDS = (b"}\n", b"]\n", b"}\r\n", b"]\r\n", b"}", b"]")
CHUNK = 1 << 21  # bytes read at a time (a module constant: tests make it small)
_KIND_CACHE = 4096  # distinct (msg, endpoint, percent) classifications kept

_NL, _SPACE, _QUOTE, _OPEN, _CLOSE, _BACKSLASH, _MINUS = b'\n "{}\\-'

# (kind, percent, msg as text, code) of a routing line read by the pattern
_Classified = tuple[int, int | None, str, int]


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

    def totals(self) -> tuple[int, int, dict[int, int], int]:
        """v1, v2, the lines per percent (sorted) and the duplicates left out."""
        codes, duplicates = self.counted.first()
        per_code = np.bincount(codes, minlength=len(self._classes)).tolist()
        v1 = v2 = 0
        percent_seen: dict[int, int] = {}
        for (kind, percent), count in zip(self._classes, per_code, strict=True):
            if kind == V1:
                v1 += count
            elif kind == V2:
                v2 += count
            if percent is not None and count:
                percent_seen[percent] = percent_seen.get(percent, 0) + count
        return v1, v2, dict(sorted(percent_seen.items())), duplicates


class Scanner:
    """Reads [start, stop) of the file in blocks: byte patterns find the lines worth decoding."""

    __slots__ = ("_parser", "_tally", "_kinds", "_mask", "_cover")

    def __init__(self, parser: LineParser, tally: Tally) -> None:
        self._parser = parser
        self._tally = tally
        # (msg, endpoint, v2RolloutPercent) as bytes -> (kind, percent, msg, code)
        self._kinds: dict[tuple[bytes | None, ...], _Classified] = {}
        # One flag per byte of a block, reused: a fresh array per test of a block's bytes (a
        # few MB each) would make every block fault its memory in again whenever malloc gives
        # it back to the system, which depends on what else the process holds.
        self._mask: NDArray[np.bool_] = np.empty(0, dtype=np.bool_)
        self._cover = BlockCover(parser, tally.coverage)

    def head(self, handle: io.BufferedReader) -> int | None:
        """Read line by line (every line decoded) up to and including the first timestamped
        one; its end offset, or None when the file has no timestamp."""
        return read_head(handle, self._head_line)

    def _head_line(self, raw: bytes) -> bool:
        if raw.isspace():
            return False
        tally = self._tally
        tally.lines += 1
        routing = _PREFILTER_ROUTING in raw or _PREFILTER_RUNBOOK in raw
        timed = tally.take(self._parser.records(raw, routing=routing))
        if timed:
            self._cover.line(self._parser.instants(raw))
        return timed

    def body(self, handle: io.BufferedReader, start: int, stop: int, *, resumed: bool) -> None:
        """The lines of [start, stop), in blocks (a routing line stands alone: `resumed` does
        not matter)."""
        for buf, end in read_blocks(handle, start, stop, CHUNK):
            if end:
                self._block(buf, end)

    def _block(self, buf: bytearray, end: int) -> None:
        """Account for the lines of buf[:end] (whole lines; the last may lack its newline)."""
        tally = self._tally
        data = np.frombuffer(buf, dtype=np.uint8, count=end)
        if len(self._mask) < end:
            self._mask = np.empty(len(buf), dtype=np.bool_)
        mask = self._mask[:end]
        newlines = np.flatnonzero(np.equal(data, _NL, out=mask))
        ends = newlines if buf[end - 1] == _NL else np.append(newlines, end)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        count = len(ends)
        # Lines that are not `{...}`: blank, text, truncated... are judged one by one.
        odd = (data[starts] != _OPEN) | (data[np.maximum(ends - 1, 0)] != _CLOSE)
        odd |= ends == starts
        # Lines the pattern may read: `{...}` without escapes or control characters.
        plain = ~odd
        judged = odd.copy()
        if (
            np.count_nonzero(np.less(data, 32, out=mask)) != len(newlines)
            or buf.find(b"\\", 0, end) >= 0
        ):
            control = (data < 32) & (data != _NL)
            special = np.flatnonzero(control | (data == _BACKSLASH))
            plain[np.searchsorted(ends, special)] = False
            # binary data (not tab, CR or escape) is judged whatever the line's ends
            binary = np.flatnonzero(control & (data != 9) & (data != 13) & (data != 27))
            judged[np.searchsorted(ends, binary)] = True
        routing = np.zeros(count, dtype=bool)
        spaces = np.flatnonzero(np.equal(data, _SPACE, out=mask))
        for needle in _NEEDLES:
            found = _find_all(data, spaces, needle)
            if len(found):
                routing[np.searchsorted(ends, found)] = True
        del data  # no view of buf may outlive this call (buf is resized and reused)

        blank = 0
        unreadable: list[int] = []  # lines that could not be read, for coverage
        judged &= ~routing
        indexes = np.flatnonzero(judged).tolist()
        for i, s, e in zip(indexes, starts[judged].tolist(), ends[judged].tolist(), strict=True):
            raw = buf[s : e + 1] if e < end else buf[s:e]
            if raw.isspace():
                blank += 1
            elif (raw[0] in b"{[" and not raw.endswith(_JSON_ENDS)) or CONTROL.search(raw):
                tally.unparsed += 1
                unreadable.append(i)
        tally.lines += count - blank

        lines = np.flatnonzero(routing)
        if len(lines):
            self._routing_lines(
                buf,
                lines.tolist(),
                starts[lines].tolist(),
                ends[lines].tolist(),
                plain[lines].tolist(),
                unreadable,
            )
        self._cover.block(buf, starts, ends, plain, sorted(unreadable))

    def _routing_lines(
        self,
        buf: bytearray,
        indexes: list[int],
        starts: list[int],
        ends: list[int],
        plain: list[bool],
        unreadable: list[int],
    ) -> None:
        """Routing lines in file order: the pattern where it matches, else the full parser."""
        tally = self._tally
        kinds = self._kinds
        match = FAST_LINE.fullmatch
        lo, hi = tally.lo, tally.hi
        keys: list[int] = []  # the identities and codes of the records counted, in order
        codes: list[int] = []
        add_key, add_code = keys.append, codes.append
        # The head has been read: the span and the latest instant are known.
        assert tally.first is not None and tally.last is not None
        assert tally.latest is not None
        span_lo, span_hi, latest = tally.first, tally.last, tally.latest
        out_of_order = 0
        for i, s, e, simple in zip(indexes, starts, ends, plain, strict=True):
            found = match(buf, s, e) if simple else None
            classified: _Classified | None = None
            if found is not None:
                groups: tuple[bytes | None, ...] = found.group(1, 2, 3, 4, 5)
                key = groups[1:4]
                classified = kinds.get(key) or self._classify(key)
            if found is not None and classified is not None:
                kind, percent, msg, code = classified
                time: bytes = groups[0]  # type: ignore[assignment]  # the pattern requires it
                instant: int | None
                if len(time) == 13 and time[0] != _MINUS:
                    # epoch milliseconds, years 2001-2286: epoch_number_us(int(time)), inlined
                    instant = int(time) * 1000
                elif time[0] == _QUOTE:
                    instant = instant_us(time[1:-1].decode("utf-8", "replace"))
                else:
                    instant = epoch_number_us(int(time))
                if instant is not None and kind != BAD:
                    if instant < span_lo:
                        span_lo = instant
                    elif instant > span_hi:
                        span_hi = instant
                    if instant < latest:
                        out_of_order += 1
                    else:
                        latest = instant
                    if kind == OTHER or not lo <= instant < hi:
                        continue
                    correlation = groups[4]
                    if correlation is None:
                        add_key(line_identity(bytes(buf[s:e]), 0))
                    else:  # pino_identity(correlation, instant, msg, kind, percent), inlined
                        if not correlation.isascii():
                            correlation = correlation.decode("utf-8", "replace")  # type: ignore[assignment]
                        add_key(hash((correlation, instant, msg, kind, percent)))
                    add_code(code)
                    continue
                records: list[Record] | None = [
                    (instant, kind, percent, line_identity(bytes(buf[s:e]), 0))
                ]
            else:
                records = self._parser.records(bytes(buf[s:e]), routing=True)
                if records is None:
                    unreadable.append(i)
            # Rare lines go through the tally itself (after the records counted before them).
            tally.latest, tally.first, tally.last = latest, span_lo, span_hi
            tally.counted.keys.extend(keys)
            tally.counted.codes.extend(codes)
            keys.clear()
            codes.clear()
            tally.take(records)
            assert tally.first is not None and tally.last is not None
            assert tally.latest is not None
            span_lo, span_hi, latest = tally.first, tally.last, tally.latest
        tally.latest, tally.first, tally.last = latest, span_lo, span_hi
        tally.counted.keys.extend(keys)
        tally.counted.codes.extend(codes)
        tally.out_of_order += out_of_order

    def _classify(self, key: tuple[bytes | None, ...]) -> _Classified | None:
        """(kind, percent, msg, code) of a routing line read by the pattern from (msg,
        endpoint, percent); None without a msg (the full parser reads such a line)."""
        msg, endpoint, percent = key
        if msg is None:
            return None
        if len(self._kinds) >= _KIND_CACHE:
            self._kinds.clear()
        text = msg.decode("utf-8", "replace")
        kind, number = classify(
            text,
            {
                "endpoint": None if endpoint is None else endpoint.decode("utf-8", "replace"),
                "v2RolloutPercent": None if percent is None else int(percent),
            },
        )
        classified = self._kinds[key] = (kind, number, text, self._tally.code(kind, number))
        return classified


def _find_all(data: NDArray[np.uint8], spaces: NDArray[np.intp], needle: bytes) -> NDArray[np.intp]:
    """Offsets of `needle` (which holds a space) in `data`, given the offsets of its spaces."""
    space = needle.index(b" ")
    found = spaces - space
    found = found[(found >= 0) & (found <= len(data) - len(needle))]
    for index, byte in enumerate(needle):
        if index != space and len(found):
            found = found[data[found + index] == byte]
    return found
