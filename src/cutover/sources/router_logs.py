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
wraps it, else the Pino ``time``. Epoch numbers are milliseconds (values below 1e11 are taken as
seconds).

Streaming: the file is read line by line in binary; memory does not grow with its size. For
speed only routing lines (those containing ``Routing import request`` or ``routed to``) are
decoded, plus lines at the start until the first timestamp and lines at the end back to the
last one. So:

* ``first_seen`` / ``last_seen`` span the first and last timestamped lines of the file and
  every routing record (an out-of-order non-routing line in the middle does not widen it);
* ``out_of_order`` counts decoded records (routing records, in practice) earlier than the
  latest instant decoded before them;
* ``unparsed`` counts decoded lines that could not be read, routing records with another
  endpoint or no instant, and lines that start like JSON (``{`` / ``[``) but do not end like it
  (truncated); other non-routing lines are not decoded and not judged;
* ``lines`` counts non-blank physical lines.

This module reads and never decides: criteria judge the counts.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

from cutover.errors import ConfigError, SourceUnavailable
from cutover.timeutil import as_utc

ROUTING_MESSAGE = "Routing import request to RLM pipeline"
V1_ENDPOINT = "/process-full"
V2_ENDPOINT = "/process-full-v2"
# A message holding this is a routing line (the full text may be cut off); it needs an endpoint.
_ROUTING_PREFIX = "Routing import request"

# A line is decoded for counting only when it holds one of these (bytes, checked with `in`).
_PREFILTER_ROUTING = b"Routing import request"
_PREFILTER_RUNBOOK = b"routed to"
_JSON_ENDS = (b"}\n", b"]\n", b"}\r\n", b"]\r\n", b"}", b"]")
_READ_BUFFER = 1 << 20
_TAIL_BLOCK = 1 << 16

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)

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
) -> RoutingCounts:
    """Count v1/v2 routing lines of `path` whose instant lies in [window_start, window_end).

    Raises SourceUnavailable when the file cannot be read, and ConfigError when it holds
    `vercel logs` text routing lines but `text_date` / `text_tz` were not supplied.
    """
    source = f"router logs {path}"
    lo = _to_us(window_start)
    hi = _to_us(window_end)
    parser = _LineParser(text_date, text_tz, str(path))

    v1 = v2 = lines = unparsed = out_of_order = 0
    percent_seen: dict[int, int] = {}
    span_lo: int | None = None
    span_hi: int | None = None
    latest: int | None = None
    found_first = False
    first_end = 0  # byte offset just after the first timestamped line

    try:
        handle = open(path, "rb", buffering=_READ_BUFFER)
    except OSError as exc:
        raise SourceUnavailable(source, f"cannot read: {exc.strerror or exc}") from exc
    try:
        with handle:
            for raw in handle:
                if not found_first:
                    first_end += len(raw)
                if raw.isspace():
                    continue
                lines += 1
                if _PREFILTER_ROUTING in raw or _PREFILTER_RUNBOOK in raw:
                    records = parser.records(raw, routing=True)
                elif not found_first:
                    records = parser.records(raw, routing=False)
                else:
                    if raw[0] in b"{[" and not raw.endswith(_JSON_ENDS):
                        unparsed += 1
                    continue
                if records is None:
                    unparsed += 1
                    continue
                for instant, kind, percent in records:
                    if kind == _BAD or (instant is None and kind != _OTHER):
                        unparsed += 1
                        continue
                    if instant is None:
                        continue
                    found_first = True
                    if span_lo is None or instant < span_lo:
                        span_lo = instant
                    if span_hi is None or instant > span_hi:
                        span_hi = instant
                    if latest is not None and instant < latest:
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
            if found_first:
                tail = _last_instants(handle, first_end, parser)
                if tail is not None:
                    tail_lo, tail_hi = tail
                    span_lo = tail_lo if span_lo is None else min(span_lo, tail_lo)
                    span_hi = tail_hi if span_hi is None else max(span_hi, tail_hi)
    except OSError as exc:
        raise SourceUnavailable(source, f"cannot read: {exc.strerror or exc}") from exc

    return RoutingCounts(
        v1=v1,
        v2=v2,
        percent_seen=dict(sorted(percent_seen.items())),
        first_seen=_from_us(span_lo),
        last_seen=_from_us(span_hi),
        lines=lines,
        unparsed=unparsed,
        out_of_order=out_of_order,
        path=str(path),
    )


def _last_instants(handle: BinaryIO, stop: int, parser: _LineParser) -> tuple[int, int] | None:
    """Instants (min, max) of the last timestamped line between byte `stop` and the position
    the forward pass reached (lines appended since are not looked at), reading backwards."""
    carry = b""
    position = handle.tell()
    while position > stop:
        start = max(stop, position - _TAIL_BLOCK)
        handle.seek(start)
        block = handle.read(position - start) + carry
        position = start
        pieces = block.split(b"\n")
        # The first piece may be the end of a line that starts before `start`: keep it for later.
        carry = pieces[0] if position > stop else b""
        candidates = pieces[1:] if position > stop else pieces
        for raw in reversed(candidates):
            instants = _instants_of(raw, parser)
            if instants:
                return min(instants), max(instants)
    return None


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
    ) -> int:
        if iso is not None:
            text = iso.group("ts").replace(",", ".")
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                if self._text_tz is None:
                    raise self._needs_settings(line, need_date=False)
                moment = moment.replace(tzinfo=self._text_tz)
            return _to_us(moment)
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
        return _to_us(moment)

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
    own = None if value is None else _instant(value)
    if own is None and "timestampInMs" in obj:
        own = _instant(obj["timestampInMs"])
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
        instant = inherited if inherited is not None else _instant(obj.get("time"))
        kind, percent = _classify(msg, obj)
        out.append((instant, kind, percent))
        return

    message = obj.get("message")
    if isinstance(message, str):
        _from_message(message, inherited, out)
        return
    out.append((inherited if inherited is not None else _instant(obj.get("time")), _OTHER, None))


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


def _instant(value: object) -> int | None:
    """Epoch microseconds from epoch ms / s (number or digit string) or ISO 8601; else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.isdigit():
            value = int(text)
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                return None
            return _to_us(moment)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        if abs(value) < 1e11:
            return round(value * 1_000_000)
        return round(value * 1_000)
    return None


def _to_us(moment: datetime) -> int:
    return (as_utc(moment) - _EPOCH) // _ONE_US


def _from_us(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)
