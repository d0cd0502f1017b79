"""Reading a byte range of a router log in blocks: a survey finds the lines worth decoding (those
holding ``Routing import request`` or ``routed to``) and judges the rest by their first and last
bytes (and binary data). Of the routing lines, those of a layout learnt before (``layouts``) are
read all at once; any other one in the form the router writes by one compiled pattern
(``FAST_LINE``), every other one by the full parser (``lines.LineParser``). All three give the
same records, identities included, and the tally counts them the same way, in file order: each
identity once.

Coverage: a few lines of each block are read for their instants (``cover``)."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray

from cutover.sources.logs.blocks import read_blocks, read_head
from cutover.sources.logs.identity import text_key
from cutover.sources.router_logs.cover import BlockCover
from cutover.sources.router_logs.layouts import Layout, Layouts, learn
from cutover.sources.router_logs.lines import CONTROL, LineParser
from cutover.sources.router_logs.pattern import FAST_LINE, time_us
from cutover.sources.router_logs.records import (
    BAD,
    OTHER,
    V1,
    V2,
    Record,
    classify,
    line_identity,
    record_salt,
)
from cutover.sources.router_logs.survey import NEEDLES, Survey, survey
from cutover.sources.router_logs.tally import Tally

_JSON_ENDS = (b"}\n", b"]\n", b"}\r\n", b"]\r\n", b"}", b"]")
CHUNK = 1 << 22  # bytes read at a time (a module constant: tests make it small)
SURVEY_PART = 1 << 20  # bytes of a block looked at a time (flags that stay in the cache)
_KIND_CACHE = 4096  # distinct (msg, endpoint, percent) classifications kept

# (kind, percent, msg as text, code, salt) of a routing line read by the pattern
_Classified = tuple[int, int | None, str, int, int]


class Scanner:
    """Reads [start, stop) of the file in blocks: byte patterns find the lines worth decoding."""

    __slots__ = ("_parser", "_tally", "_kinds", "_mask", "_cover", "_layouts")

    def __init__(self, parser: LineParser, tally: Tally) -> None:
        self._parser = parser
        self._tally = tally
        # (msg, endpoint, v2RolloutPercent) as bytes -> (kind, percent, msg, code, salt)
        self._kinds: dict[tuple[bytes | None, ...], _Classified] = {}
        # One flag per byte of a part of a block, reused (see `_steady_heap`).
        self._mask: NDArray[np.bool_] = np.empty(SURVEY_PART, dtype=np.bool_)
        self._cover = BlockCover(parser, tally.coverage)
        self._layouts = Layouts()

    def head(self, handle: io.BufferedReader) -> int | None:
        """Read line by line (every line decoded) up to and including the first timestamped
        one; its end offset, or None when the file has no timestamp."""
        return read_head(handle, self._head_line)

    def _head_line(self, raw: bytes) -> bool:
        if raw.isspace():
            return False
        tally = self._tally
        tally.lines += 1
        routing = any(needle in raw for needle in NEEDLES)
        timed = tally.take(self._parser.records(raw, routing=routing))
        if timed:
            self._cover.line(self._parser.instants(raw))
        return timed

    def body(self, handle: io.BufferedReader, start: int, stop: int, *, resumed: bool) -> None:
        """The lines of [start, stop), in blocks (a routing line stands alone: `resumed` does
        not matter)."""
        _steady_heap()
        for buf, end in read_blocks(handle, start, stop, CHUNK):
            if end:
                self._account(survey(buf, end, self._mask))

    def _account(self, found: Survey) -> None:
        """Account for the lines of a block, as its survey found them."""
        tally = self._tally
        buf, end, starts, ends = found.buf, found.end, found.starts, found.ends
        blank = 0
        unreadable: list[int] = []  # lines that could not be read, for coverage
        judged = found.judged
        for i, s, e in zip(
            judged.tolist(), starts[judged].tolist(), ends[judged].tolist(), strict=True
        ):
            raw = buf[s : e + 1] if e < end else buf[s:e]
            if raw.isspace():
                blank += 1
            elif (raw[0] in b"{[" and not raw.endswith(_JSON_ENDS)) or CONTROL.search(raw):
                tally.unparsed += 1
                unreadable.append(i)
        tally.lines += len(starts) - blank
        lines = found.routing
        if len(lines):
            data = np.frombuffer(buf, dtype=np.uint8, count=end)
            bad = self._routing_lines(buf, data, starts[lines], ends[lines], found.plain[lines])
            del data  # no view of buf may outlive this call (buf is resized and reused)
            unreadable += lines[bad].tolist()
        self._cover.block(buf, starts, ends, found.plain, sorted(unreadable))

    def _routing_lines(
        self,
        buf: bytearray,
        data: NDArray[np.uint8],
        starts: NDArray[np.intp],
        ends: NDArray[np.intp],
        plain: NDArray[np.bool_],
    ) -> list[int]:
        """Routing lines, in file order: those of a known layout at once, the others one by
        one (`_line`); their records counted in file order. Returns the indexes (into the
        arrays given) of the lines that could not be read."""
        tally = self._tally
        simple = np.flatnonzero(plain)
        known = self._layouts.read(data, starts[simple], ends[simple] - starts[simple], self._learn)
        rest = np.ones(len(starts), dtype=bool)
        rest[simple[known.rows]] = False
        unreadable: list[int] = []
        rows: list[int] = []  # the records read one line at a time: their line, and what they are
        instants: list[int] = []
        kinds: list[int] = []
        codes: list[int] = []
        keys: list[int] = []
        others = np.flatnonzero(rest)
        for i, s, e, alone in zip(
            others.tolist(),
            starts[others].tolist(),
            ends[others].tolist(),
            plain[others].tolist(),
            strict=True,
        ):
            records = self._line(buf, s, e, alone)
            if records is None:
                tally.unparsed += 1
                unreadable.append(i)
                continue
            for instant, kind, percent, identity in records:
                if kind == BAD or (instant is None and kind != OTHER):
                    tally.unparsed += 1
                elif instant is not None:
                    rows.append(i)
                    instants.append(instant)
                    kinds.append(kind)
                    codes.append(tally.code(kind, percent))
                    keys.append(identity)
        if not rows:
            tally.take_all(known.instants, known.kinds, known.codes, known.keys)
            return unreadable
        order = np.argsort(np.concatenate((simple[known.rows], rows)), kind="stable")
        tally.take_all(
            np.concatenate((known.instants, np.array(instants, dtype=np.int64)))[order],
            np.concatenate((known.kinds, np.array(kinds, dtype=np.int64)))[order],
            np.concatenate((known.codes, np.array(codes, dtype=np.int64)))[order],
            np.concatenate((known.keys, np.array(keys, dtype=np.int64)))[order],
        )
        return unreadable

    def _line(self, buf: bytearray, s: int, e: int, simple: bool) -> list[Record] | None:
        """The records of the routing line buf[s:e]: the pattern's reading where it reads it
        (`simple`: no escapes or control bytes), else the full parser's."""
        found = FAST_LINE.fullmatch(buf, s, e) if simple else None
        if found is not None:
            groups: tuple[bytes | None, ...] = found.group(1, 2, 3, 4, 5)
            key = groups[1:4]
            classified = self._kinds.get(key) or self._classify(key)
            if classified is not None:
                kind, percent, _, _, salt = classified
                instant = time_us(groups[0])  # type: ignore[arg-type]  # the pattern requires it
                identity = 0  # a record that does not count needs none
                if instant is not None and kind in (V1, V2):
                    correlation = groups[4]
                    if correlation is None:
                        identity = line_identity(bytes(buf[s:e]), 0)
                    else:  # pino_identity(correlation, instant, msg, kind, percent), inlined
                        if not correlation.isascii():
                            correlation = correlation.decode("utf-8", "replace").encode()
                        identity = text_key(correlation, instant, salt)
                return [(instant, kind, percent, identity)]
        return self._parser.records(bytes(buf[s:e]), routing=True)

    def _learn(self, line: bytes) -> Layout | None:
        """The layout of a routing line the pattern reads with a message and an instant of 13
        digits (epoch milliseconds) that counts or not (not BAD); None for any other line."""
        found = FAST_LINE.fullmatch(line)
        if found is None:
            return None
        key: tuple[bytes | None, ...] = found.group(2, 3, 4)
        classified = self._kinds.get(key) or self._classify(key)
        if classified is None or classified[0] == BAD:
            return None
        kind, _, _, code, salt = classified
        return learn(line, kind, code, salt)

    def _classify(self, key: tuple[bytes | None, ...]) -> _Classified | None:
        """(kind, percent, msg, code, salt) of a routing line read by the pattern from (msg,
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
        code = self._tally.code(kind, number)
        classified = self._kinds[key] = (kind, number, text, code, record_salt(text, kind, number))
        return classified


def _steady_heap() -> None:
    """Allocate and free (untouched) more than a block's temporaries take. glibc's malloc then
    serves chunks up to that size from its heap, which it trims only past twice that (see
    M_MMAP_THRESHOLD in mallopt(3)), so the arrays each block allocates and frees stay mapped
    instead of being given back to the system and faulted in again for the next block (a page
    fault costs microseconds in a virtual machine). Elsewhere it does nothing."""
    np.empty(2 * CHUNK, dtype=np.uint8)
