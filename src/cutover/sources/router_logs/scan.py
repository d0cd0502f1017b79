"""Reading a byte range of a router log in blocks: numpy finds the lines worth decoding (those
holding ``Routing import request`` or ``routed to``) and judges the rest by their first and last
bytes; a routing line in the form the router writes is read by one compiled pattern
(``FAST_LINE``), every other one by the full parser (``lines.LineParser``). Both give the same
records, and the tally counts them the same way."""

from __future__ import annotations

import io
import re

import numpy as np
from numpy.typing import NDArray

from cutover.sources.logs.blocks import read_blocks, read_head
from cutover.sources.logs.tally import Span
from cutover.sources.router_logs.lines import LineParser
from cutover.sources.router_logs.records import BAD, OTHER, V1, Record, classify
from cutover.timeutil import epoch_number_us, instant_us

_PREFILTER_ROUTING = b"Routing import request"
_PREFILTER_RUNBOOK = b"routed to"
_NEEDLES = (_PREFILTER_ROUTING, _PREFILTER_RUNBOOK)  # each holds a space (see _find_all)
_JSON_ENDS = (b"}\n", b"]\n", b"}\r\n", b"]\r\n", b"}", b"]")
CHUNK = 1 << 21  # bytes read at a time (a module constant: tests make it small)
_KIND_CACHE = 4096  # distinct (msg, endpoint, percent) classifications kept

_NL, _SPACE, _QUOTE, _OPEN, _CLOSE, _BACKSLASH = b'\n "{}\\'

# A routing line as the router writes it: a flat Pino object starting with level and time, no
# escapes (the caller checks there are no backslashes or control characters), no spaces between
# tokens. Captures time (integer or string), msg, endpoint (strings), v2RolloutPercent (integer),
# the last of each when repeated, as JSON keeps the last; any other value of those keys, a second
# time, or a timestamp / timestampInMs key (which would win over time) fails the match.
_STRING = rb'"[^"]*+"'
_INTEGER = rb"-?(?:0|[1-9][0-9]*+)"
_VALUE = (
    rb"(?>" + _STRING + rb"|" + _INTEGER + rb"(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?|true|false|null)"
)
FAST_LINE = re.compile(
    rb'\{"level":' + _VALUE + rb',"time":(' + _INTEGER + rb"|" + _STRING + rb")"
    rb'(?:,"(?:msg":"([^"]*+)"|endpoint":"([^"]*+)"|v2RolloutPercent":(' + _INTEGER + rb")"
    rb'|(?!(?:time|timestamp|timestampInMs|msg|endpoint|v2RolloutPercent)")[^"]*+":'
    + _VALUE
    + rb"))*+\}"
)


class Tally(Span):
    """What has been read so far: counts in [lo, hi) (epoch microseconds) and the span."""

    __slots__ = (
        "lo",
        "hi",
        "v1",
        "v2",
        "percent_seen",
        "lines",
        "unparsed",
        "out_of_order",
        "latest",
    )

    def __init__(self, lo: int, hi: int) -> None:
        super().__init__()
        self.lo = lo
        self.hi = hi
        self.v1 = self.v2 = self.lines = self.unparsed = self.out_of_order = 0
        self.percent_seen: dict[int, int] = {}
        self.latest: int | None = None

    def take(self, records: list[Record] | None) -> bool:
        """Account for the records of one line; True when one of them had an instant."""
        if records is None:
            self.unparsed += 1
            return False
        timed = False
        for instant, kind, percent in records:
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
            if kind == V1:
                self.v1 += 1
            else:
                self.v2 += 1
            if percent is not None:
                self.percent_seen[percent] = self.percent_seen.get(percent, 0) + 1
        return timed


class Scanner:
    """Reads [start, stop) of the file in blocks: byte patterns find the lines worth decoding."""

    __slots__ = ("_parser", "_tally", "_kinds", "_mask")

    def __init__(self, parser: LineParser, tally: Tally) -> None:
        self._parser = parser
        self._tally = tally
        # (msg, endpoint, v2RolloutPercent) as bytes -> (kind, percent)
        self._kinds: dict[tuple[bytes | None, ...], tuple[int, int | None]] = {}
        # One flag per byte of a block, reused: a fresh array per test of a block's bytes (a
        # few MB each) would make every block fault its memory in again whenever malloc gives
        # it back to the system, which depends on what else the process holds.
        self._mask: NDArray[np.bool_] = np.empty(0, dtype=np.bool_)

    def head(self, handle: io.BufferedReader) -> int | None:
        """Read line by line (every line decoded) up to and including the first timestamped
        one; its end offset, or None when the file has no timestamp."""
        return read_head(handle, self._head_line)

    def _head_line(self, raw: bytes) -> bool:
        if raw.isspace():
            return False
        self._tally.lines += 1
        routing = _PREFILTER_ROUTING in raw or _PREFILTER_RUNBOOK in raw
        return self._tally.take(self._parser.records(raw, routing=routing))

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
        if (
            np.count_nonzero(np.less(data, 32, out=mask)) != len(newlines)
            or buf.find(b"\\", 0, end) >= 0
        ):
            special = np.flatnonzero(((data < 32) & (data != _NL)) | (data == _BACKSLASH))
            plain[np.searchsorted(ends, special)] = False
        routing = np.zeros(count, dtype=bool)
        spaces = np.flatnonzero(np.equal(data, _SPACE, out=mask))
        for needle in _NEEDLES:
            found = _find_all(data, spaces, needle)
            if len(found):
                routing[np.searchsorted(ends, found)] = True
        del data  # no view of buf may outlive this call (buf is resized and reused)

        blank = 0
        judged = odd & ~routing
        for s, e in zip(starts[judged].tolist(), ends[judged].tolist(), strict=True):
            raw = buf[s : e + 1] if e < end else buf[s:e]
            if raw.isspace():
                blank += 1
            elif raw[0] in b"{[" and not raw.endswith(_JSON_ENDS):
                tally.unparsed += 1
        tally.lines += count - blank

        lines = np.flatnonzero(routing)
        if len(lines):
            self._routing_lines(
                buf, starts[lines].tolist(), ends[lines].tolist(), plain[lines].tolist()
            )

    def _routing_lines(
        self, buf: bytearray, starts: list[int], ends: list[int], plain: list[bool]
    ) -> None:
        """Routing lines in file order: the pattern where it matches, else the full parser."""
        tally = self._tally
        kinds = self._kinds
        match = FAST_LINE.fullmatch
        lo, hi, percent_seen = tally.lo, tally.hi, tally.percent_seen
        # The head has been read: the span and the latest instant are known.
        assert tally.first is not None and tally.last is not None
        assert tally.latest is not None
        span_lo, span_hi, latest = tally.first, tally.last, tally.latest
        v1 = v2 = out_of_order = 0
        for s, e, simple in zip(starts, ends, plain, strict=True):
            found = match(buf, s, e) if simple else None
            classified: tuple[int, int | None] | None = None
            if found is not None:
                key: tuple[bytes | None, ...] = found.group(2, 3, 4)
                classified = kinds.get(key) or self._classify(key)
            if found is not None and classified is not None:
                kind, percent = classified
                time: bytes = found.group(1)
                instant: int | None
                if time[0] == _QUOTE:
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
                    if kind == V1:
                        v1 += 1
                    else:
                        v2 += 1
                    if percent is not None:
                        percent_seen[percent] = percent_seen.get(percent, 0) + 1
                    continue
                records: list[Record] | None = [(instant, kind, percent)]
            else:
                records = self._parser.records(bytes(buf[s:e]), routing=True)
            # Rare lines go through the tally itself.
            tally.latest, tally.first, tally.last = latest, span_lo, span_hi
            tally.take(records)
            assert tally.first is not None and tally.last is not None
            assert tally.latest is not None
            span_lo, span_hi, latest = tally.first, tally.last, tally.latest
        tally.latest, tally.first, tally.last = latest, span_lo, span_hi
        tally.v1 += v1
        tally.v2 += v2
        tally.out_of_order += out_of_order

    def _classify(self, key: tuple[bytes | None, ...]) -> tuple[int, int | None] | None:
        """(kind, percent) of a routing line read by the pattern from (msg, endpoint, percent);
        None without a msg (the full parser reads such a line)."""
        msg, endpoint, percent = key
        if msg is None:
            return None
        if len(self._kinds) >= _KIND_CACHE:
            self._kinds.clear()
        classified = self._kinds[key] = classify(
            msg.decode("utf-8", "replace"),
            {
                "endpoint": None if endpoint is None else endpoint.decode("utf-8", "replace"),
                "v2RolloutPercent": None if percent is None else int(percent),
            },
        )
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
