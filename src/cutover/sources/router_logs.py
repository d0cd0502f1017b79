"""Router (Vercel) logs: count routed requests per pipeline over a window.

The router writes one Pino line per routed request (``msg`` ``Routing import request to RLM
pipeline`` with ``endpoint`` ``/process-full`` or ``/process-full-v2`` and ``v2RolloutPercent``);
the runbook greps for ``routed to v1`` / ``routed to v2``; both are read. Forms read, mixed in one
file (see DESIGN.md "Input files"):

(a) raw Pino JSON lines (``time`` as epoch ms or ISO 8601);
(b) Vercel log-drain objects, one per line or a JSON array per line, with ``timestamp`` (epoch
    ms) and the Pino line as a string in ``message`` (text before the first ``{`` is tolerated);
(c) ``vercel logs --json`` lines: one object per request with ``timestamp`` and ``logs[]``;
(d) ``vercel logs`` text: ``TIME HOST LEVEL <icon> METHOD PATH STATUS MESSAGE`` with TIME as
    ``HH:mm:ss.SS`` or ``MMM DD HH:mm:ss.SS`` (local, no year, no zone): read only when the
    export's date and zone are supplied.

A record's instant is its own ``timestamp`` (or ``timestampInMs``), else that of the object that
wraps it, else the Pino ``time``. Instants are read by ``cutover.timeutil``: epoch numbers are
milliseconds (values below 1e11 are taken as seconds); an instant outside the years 1-9999 counts
as none.

Reading: the file is read in binary blocks; memory does not grow with its size. Only routing
lines (those containing ``Routing import request`` or ``routed to``) are decoded, plus lines at
the start until the first timestamp and lines at the end back to the last one. A routing line
in the form the router writes (a flat Pino object without escapes, nested values or spaces) is
read by one compiled pattern; every other routing line goes through the full JSON / text
parser. Both give the same result.

Seeking: router logs are written in time order, nearly. When ``margin`` is set (default
``OUT_OF_ORDER_MARGIN``, 30 minutes), a large file is not read whole: ``sources.logs.seek``
finds the part the window, widened by the margin, needs (the whole file when it is not in
order within the margin).

Guarantee: the counts (``v1``, ``v2``, ``percent_seen``) equal those of reading every line
(``margin=None``) when no two timestamped lines of the file are out of order by more than
``margin`` (a line written before another, with an instant more than ``margin`` later). A record
out of order by more than that may be missed, and then only if at least two lines where the
read starts or stops are out of order with it by more than ``margin``. So:

* ``first_seen`` / ``last_seen`` span the first and last timestamped lines of the file and
  every routing record read (an out-of-order non-routing line in the middle does not widen it;
  with seeking, a routing record out of order near either end of the file may be unread);
* ``lines``, ``unparsed`` and ``out_of_order`` describe the lines read: the whole file when it
  is small, not in order, or read with ``margin=None``, else its start up to the first
  timestamp and the part the window, widened by the margin, needs;
* ``out_of_order`` counts decoded records (routing records, in practice) earlier than the
  latest instant decoded before them;
* ``unparsed`` counts decoded lines that could not be read, routing records with another
  endpoint or no instant, and lines that start like JSON (``{`` / ``[``) but do not end like it
  (truncated); other non-routing lines are not decoded and not judged;
* ``lines`` counts non-blank physical lines.

This module reads and never decides: criteria judge the counts.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cutover.errors import ConfigError
from cutover.sources.logs.blocks import read_blocks, read_head
from cutover.sources.logs.seek import OUT_OF_ORDER_MARGIN, read_window
from cutover.sources.logs.tally import Span
from cutover.timeutil import (
    checked_epoch_us,
    epoch_number_us,
    epoch_us,
    instant_us,
    parse_iso,
)

ROUTING_MESSAGE = "Routing import request to RLM pipeline"
V1_ENDPOINT = "/process-full"
V2_ENDPOINT = "/process-full-v2"
# A message holding this is a routing line (the full text may be cut off); it needs an endpoint.
_ROUTING_PREFIX = "Routing import request"

# A line is decoded for counting only when it holds one of these (bytes, checked with `in`).
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
_FAST_LINE = re.compile(
    rb'\{"level":' + _VALUE + rb',"time":(' + _INTEGER + rb"|" + _STRING + rb")"
    rb'(?:,"(?:msg":"([^"]*+)"|endpoint":"([^"]*+)"|v2RolloutPercent":(' + _INTEGER + rb")"
    rb'|(?!(?:time|timestamp|timestampInMs|msg|endpoint|v2RolloutPercent)")[^"]*+":'
    + _VALUE
    + rb"))*+\}"
)

_RUNBOOK_WORDING = re.compile(r"routed to (v[12])\b")
_TEXT_ENDPOINT = re.compile(r"""\bendpoint\\?["']?\s*[:=]\s*\\?["']?([^\s"'\\,}]+)""")
_TEXT_PERCENT = re.compile(r"""\bv2RolloutPercent\\?["']?\s*[:=]\s*\\?["']?(\d+)""")
# `vercel logs` text: optional `MMM DD`, then `HH:mm:ss(.SS)`, then the rest of the line.
_TEXT_TIME = re.compile(
    r"^(?:(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+)?"
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:[.,](?P<frac>\d{1,6}))?(?=\s|$)"
)
# A text line that starts with a full ISO 8601 date-time (absolute if it carries a zone).
_TEXT_ISO = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?P<zone>Z|z|[+-]\d{2}:?\d{2})?)"
    r"(?=\s|$)"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

# Record kinds.
_OTHER = 0
_V1 = 1
_V2 = 2
_BAD = 3  # a routing record that cannot be counted (unknown endpoint, no instant)

_Record = tuple[int | None, int, int | None]  # (instant in epoch microseconds, kind, percent)
_UNREADABLE = object()
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class RoutingCounts:
    """Routed requests in [window_start, window_end) and the span the file covers."""

    v1: int
    v2: int
    percent_seen: dict[int, int] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    lines: int = 0
    unparsed: int = 0
    out_of_order: int = 0
    path: str = ""

    @property
    def routed(self) -> int:
        return self.v1 + self.v2


def count_routing(
    path: Path,
    window_start: datetime,
    window_end: datetime,
    *,
    text_date: date | None = None,
    text_tz: tzinfo | None = None,
    margin: timedelta | None = OUT_OF_ORDER_MARGIN,
) -> RoutingCounts:
    """Count v1/v2 routing lines of `path` whose instant lies in [window_start, window_end).

    `margin` is how far out of time order lines may be for seeking to stay exact (see the
    module notes); None reads every line.

    Raises SourceUnavailable when the file cannot be read (or is not seekable, such as a pipe),
    ValueError for a negative margin, and ConfigError when it holds
    `vercel logs` text routing lines (in the part read) but `text_date` / `text_tz` were not
    supplied.
    """
    tally = _Tally(epoch_us(window_start), epoch_us(window_end))
    parser = _LineParser(text_date, text_tz, str(path))
    instants = partial(_instants_of, parser=parser)
    window = (tally.lo, tally.hi)
    reader = _Scanner(parser, tally)
    tail = read_window(path, f"router logs {path}", window, margin, instants, reader)
    if tail is not None:
        tally.widen(*tail)

    return RoutingCounts(
        v1=tally.v1,
        v2=tally.v2,
        percent_seen=dict(sorted(tally.percent_seen.items())),
        first_seen=tally.first_seen,
        last_seen=tally.last_seen,
        lines=tally.lines,
        unparsed=tally.unparsed,
        out_of_order=tally.out_of_order,
        path=str(path),
    )


class _Tally(Span):
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

    def take(self, records: list[_Record] | None) -> bool:
        """Account for the records of one line; True when one of them had an instant."""
        if records is None:
            self.unparsed += 1
            return False
        timed = False
        for instant, kind, percent in records:
            if kind == _BAD or (instant is None and kind != _OTHER):
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
            if kind == _OTHER or not self.lo <= instant < self.hi:
                continue
            if kind == _V1:
                self.v1 += 1
            else:
                self.v2 += 1
            if percent is not None:
                self.percent_seen[percent] = self.percent_seen.get(percent, 0) + 1
        return timed


class _Scanner:
    """Reads [start, stop) of the file in blocks: byte patterns find the lines worth decoding."""

    __slots__ = ("_parser", "_tally", "_kinds")

    def __init__(self, parser: _LineParser, tally: _Tally) -> None:
        self._parser = parser
        self._tally = tally
        # (msg, endpoint, v2RolloutPercent) as bytes -> (kind, percent)
        self._kinds: dict[tuple[bytes | None, ...], tuple[int, int | None]] = {}

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
        newlines = np.flatnonzero(data == _NL)
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
        if np.count_nonzero(data < 32) != len(newlines) or buf.find(b"\\", 0, end) >= 0:
            special = np.flatnonzero(((data < 32) & (data != _NL)) | (data == _BACKSLASH))
            plain[np.searchsorted(ends, special)] = False
        routing = np.zeros(count, dtype=bool)
        spaces = np.flatnonzero(data == _SPACE)
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
        match = _FAST_LINE.fullmatch
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
                if instant is not None and kind != _BAD:
                    if instant < span_lo:
                        span_lo = instant
                    elif instant > span_hi:
                        span_hi = instant
                    if instant < latest:
                        out_of_order += 1
                    else:
                        latest = instant
                    if kind == _OTHER or not lo <= instant < hi:
                        continue
                    if kind == _V1:
                        v1 += 1
                    else:
                        v2 += 1
                    if percent is not None:
                        percent_seen[percent] = percent_seen.get(percent, 0) + 1
                    continue
                records: list[_Record] | None = [(instant, kind, percent)]
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
        classified = self._kinds[key] = _classify(
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


def _instants_of(raw: bytes, parser: _LineParser) -> list[int]:
    if not raw.strip():
        return []
    try:
        records = parser.records(raw, routing=False)
    except ConfigError:
        return []
    return [instant for instant, _, _ in records or () if instant is not None]


class _LineParser:
    """Turns one physical line into records; None when the line cannot be read."""

    __slots__ = ("_text_date", "_text_tz", "_path")

    def __init__(self, text_date: date | None, text_tz: tzinfo | None, path: str) -> None:
        self._text_date = text_date
        self._text_tz = text_tz
        self._path = path

    def records(self, raw: bytes, *, routing: bool) -> list[_Record] | None:
        """None when the line cannot be read and matters (a routing line, or JSON-looking)."""
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            return []
        json_looking = text[0] in "{["
        if json_looking:
            decoded = _decode(text)
            if decoded is not _UNREADABLE:
                out: list[_Record] = []
                items = decoded if isinstance(decoded, list) else [decoded]
                for item in items:
                    if not isinstance(item, dict):
                        return None
                    _from_object(item, None, out)
                return out
        iso = _TEXT_ISO.match(text)
        timed = None if iso else _TEXT_TIME.match(text)
        if iso is not None or timed is not None:
            return self._text_records(text, iso, timed)
        brace = text.find("{")
        if brace > 0:  # text such as `[fn-name] ` before a JSON object
            inner = _decode(text[brace:])
            if isinstance(inner, dict):
                out = []
                _from_object(inner, None, out)
                return out
        return None if routing or json_looking else []

    def _text_records(
        self, line: str, iso: re.Match[str] | None, timed: re.Match[str] | None
    ) -> list[_Record]:
        """`vercel logs` text (or a line starting with a full ISO 8601 date-time)."""
        kind, percent = _classify_text(line)
        if kind == _OTHER:
            # Outside routing lines only the instant matters; missing settings mean "unknown".
            try:
                instant: int | None = self._text_instant(iso, timed, line)
            except ConfigError:
                instant = None
            return [(instant, _OTHER, None)]
        return [(self._text_instant(iso, timed, line), kind, percent)]

    def _text_instant(
        self, iso: re.Match[str] | None, timed: re.Match[str] | None, line: str
    ) -> int | None:
        if iso is not None:
            moment = parse_iso(iso.group("ts").replace(",", "."))
            if moment.tzinfo is None:
                if self._text_tz is None:
                    raise self._needs_settings(line, need_date=False)
                moment = moment.replace(tzinfo=self._text_tz)
            return checked_epoch_us(moment)
        assert timed is not None
        if self._text_date is None or self._text_tz is None:
            raise self._needs_settings(line, need_date=True)
        day = self._text_date
        month_name = timed.group("mon")
        if month_name is not None:
            month = _MONTHS.get(month_name.lower())
            if month is None:
                raise ConfigError(
                    f"{self._path}: {month_name!r} in {line[:80]!r} is not a month "
                    "(expected `vercel logs` time as HH:mm:ss.SS or MMM DD HH:mm:ss.SS)"
                )
            day = date(self._text_date.year, month, int(timed.group("day")))
        frac = (timed.group("frac") or "").ljust(6, "0")
        moment = datetime(
            day.year,
            day.month,
            day.day,
            int(timed.group("h")),
            int(timed.group("m")),
            int(timed.group("s")),
            int(frac),
            tzinfo=self._text_tz,
        )
        return checked_epoch_us(moment)

    def _needs_settings(self, line: str, *, need_date: bool) -> ConfigError:
        what = "the export's date and time zone" if need_date else "the export's time zone"
        return ConfigError(
            f"{self._path}: `vercel logs` text output has no "
            f"{'year or ' if need_date else ''}time zone (line {line[:80]!r}); "
            f"it needs {what}: set --router-log-date / CUTOVER_ROUTER_LOG_DATE (YYYY-MM-DD) "
            "and --router-log-tz / CUTOVER_ROUTER_LOG_TZ (e.g. Europe/Berlin or UTC), "
            "or export the logs as JSON (log drain or `vercel logs --json`)"
        )


def _from_object(obj: dict[str, Any], outer: int | None, out: list[_Record]) -> None:
    """Records of one decoded object: Pino line, drain object, or `vercel logs --json` request."""
    value = obj.get("timestamp")
    own = None if value is None else instant_us(value)
    if own is None and "timestampInMs" in obj:
        own = instant_us(obj["timestampInMs"])
    inherited = own if own is not None else outer

    logs = obj.get("logs")
    if isinstance(logs, list):
        before = len(out)
        for item in logs:
            if isinstance(item, dict):
                _from_object(item, inherited, out)
            elif isinstance(item, str):
                _from_message(item, inherited, out)
        if len(out) > before:
            return  # `vercel logs --json`: the top-level `message` repeats one of logs[]

    msg = obj.get("msg")
    if isinstance(msg, str):
        instant = inherited if inherited is not None else instant_us(obj.get("time"))
        kind, percent = _classify(msg, obj)
        out.append((instant, kind, percent))
        return

    message = obj.get("message")
    if isinstance(message, str):
        _from_message(message, inherited, out)
        return
    out.append((inherited if inherited is not None else instant_us(obj.get("time")), _OTHER, None))


def _from_message(message: str, outer: int | None, out: list[_Record]) -> None:
    """A `message` string: an embedded Pino line (text before `{` tolerated) or plain text."""
    brace = message.find("{")
    if brace >= 0:
        inner = _decode(message[brace:])
        if isinstance(inner, dict):
            _from_object(inner, outer, out)
            return
    kind, percent = _classify_text(message)
    out.append((outer, kind, percent))


def _classify(msg: str, fields: dict[str, Any]) -> tuple[int, int | None]:
    if _ROUTING_PREFIX in msg:
        kind = _endpoint_kind(fields.get("endpoint"))
        return kind, _percent(fields.get("v2RolloutPercent")) if kind != _BAD else None
    wording = _RUNBOOK_WORDING.search(msg)
    if wording is None:
        return _OTHER, None
    return (_V1 if wording.group(1) == "v1" else _V2), _percent(fields.get("v2RolloutPercent"))


def _classify_text(text: str) -> tuple[int, int | None]:
    """Plain text (a `vercel logs` line or a truncated message): fields are read by pattern."""
    percent_match = _TEXT_PERCENT.search(text)
    percent = int(percent_match.group(1)) if percent_match else None
    if _ROUTING_PREFIX in text:
        brace = text.find("{")
        if brace >= 0:
            inner = _decode(text[brace:])
            if isinstance(inner, dict):
                return _classify(_ROUTING_PREFIX, inner)
        endpoint = _TEXT_ENDPOINT.search(text)
        kind = _endpoint_kind(endpoint.group(1) if endpoint else None)
        return kind, percent if kind != _BAD else None
    wording = _RUNBOOK_WORDING.search(text)
    if wording is None:
        return _OTHER, None
    return (_V1 if wording.group(1) == "v1" else _V2), percent


def _decode(text: str) -> Any:
    """JSON value of `text` (trailing whitespace allowed), or _UNREADABLE."""
    try:
        value, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError):
        return _UNREADABLE
    if end != len(text) and not text[end:].isspace():
        return _UNREADABLE
    return value


def _endpoint_kind(endpoint: object) -> int:
    if not isinstance(endpoint, str):
        return _BAD
    value = endpoint.split("?", 1)[0].rstrip("/")
    if value.endswith(V2_ENDPOINT):
        return _V2
    if value.endswith(V1_ENDPOINT):
        return _V1
    return _BAD


def _percent(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
