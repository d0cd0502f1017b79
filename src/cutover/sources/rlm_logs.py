"""RLM (Render) logs: count the runbook's patterns over a window.

Forms read, mixed in one file (see DESIGN.md "Input files"):

* text lines that begin with an ISO 8601 timestamp (``2026-02-02T10:00:01.123Z ...``,
  ``2026-02-02 10:00:01,123 ERROR ...``; naive means UTC, as the RLM writes it);
* JSON lines with ``timestamp`` (RFC 3339 or epoch ms) and ``message``; Render API log objects
  also carry ``labels`` (``{"name": "level", "value": "error"}`` counts as an error);
* a Render API response ``{"hasMore": ..., "logs": [...]}`` (or a JSON array of log objects) on
  one line; each entry of ``logs`` is one entry;
* Render event objects (``{"event": {"timestamp": ..., "type": "server_failed", ...}}``): the
  object's JSON text is matched against the patterns.

A text line without a leading timestamp (a traceback line, a wrapped message) continues the
entry before it and takes its instant; before any timestamped entry it is unparsed. Instants are
read by ``cutover.timeutil`` (epoch numbers are milliseconds, below 1e11 seconds); an instant
outside the years 1-9999 counts as none.

Counts cover entries whose instant lies in [window_start, window_end). An entry can match
several counters: an OOM line that says ``Instance failed`` is both an OOM kill and a crash.

Reading: the file is read in binary blocks; memory does not grow with its size. Logs are
written in time order, nearly: when ``margin`` is set (default ``OUT_OF_ORDER_MARGIN``, 30
minutes), a large file is not read whole: ``sources.logs.seek`` finds the part the window,
widened by the margin, needs (the whole file when it is not in order within the margin). The
counts equal those of reading every line (``margin=None``) when no two timestamped entries are
out of order by more than ``margin``. So:

* ``first_seen`` / ``last_seen`` span the first and last timestamped lines of the file and
  every entry read;
* ``lines`` counts the entries read (text lines, JSON lines, entries of a response's
  ``logs``): the whole file when it is small, not in order, or read with ``margin=None``, else
  its start up to the first timestamp and the part the window needs (lines that continue an
  entry from before that part are skipped); ``unparsed`` counts the entries read that could not
  be read (broken JSON, no instant).

This module reads and never decides: criteria judge the counts.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cutover.sources.logs.blocks import read_blocks, read_head
from cutover.sources.logs.seek import OUT_OF_ORDER_MARGIN, read_window
from cutover.sources.logs.tally import Span
from cutover.timeutil import epoch_us, instant_us, leading_stamp_us

DEPRECATED_CALL = "[DEPRECATED] /process-full called"
# Memory exhaustion: the container runtime's word (runbook), Render's event detail, and the text
# Render's dashboard shows ("Ran out of memory (used over 512MB) while running your code").
OOM_PATTERNS: tuple[str, ...] = ("OOMKilled", "oomKilled", "Ran out of memory")
# A crash or an unplanned restart of the service. Render: "Instance failed: ..." (dashboard),
# `server_failed` / `server_restarted` (event types), "==> Exited with status N" (deploy/run
# output), "Application exited early"; generic runtime words: "exited with code N",
# "Segmentation fault", gunicorn's "Worker (pid:N) was sent SIGKILL!". A logged traceback alone is
# not a crash (a handled exception logs one too): it shows up as an ERROR line.
CRASH_PATTERNS: tuple[str, ...] = (
    "Instance failed",
    "server_failed",
    "server_restarted",
    "Exited with status",
    "exited with code",
    "Application exited early",
    "Segmentation fault",
    "was sent SIGKILL",
)
PROCESSORS_UNAVAILABLE_TEXT = "Processor modules unavailable"

_OOM = re.compile("|".join(map(re.escape, OOM_PATTERNS)))
_CRASH = re.compile("|".join(map(re.escape, CRASH_PATTERNS)))
# A block of text lines holding none of these (lowercased) needs no per-line check for them.
_RARE = tuple(
    {p.lower() for p in (*OOM_PATTERNS, *CRASH_PATTERNS, PROCESSORS_UNAVAILABLE_TEXT)}
    | {"processors_available"}
)
_PROCESSORS_FALSE = re.compile(r"""processors_available\\?["']?\s*[:=]\s*false""", re.IGNORECASE)
_ERROR_TOKEN = re.compile(r"\bERROR\b")
_DEPRECATED_USER = re.compile(r"called by user\s+([^\s,;]+)")
_LEADING_INSTANT = re.compile(
    r"^\s*\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:\s?(?:Z|z|UTC|[+-]\d{2}(?::?\d{2})?))?)(?=[\s\]|]|$)"
)
CHUNK = 1 << 18  # bytes read at a time (a module constant: tests make it small)
_ERROR_LEVELS = frozenset({"error", "err"})
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class RlmLogCounts:
    """Pattern counts over [window_start, window_end) and the span the file covers."""

    deprecated_calls: int = 0
    errors: int = 0
    oom_kills: int = 0
    crashes: int = 0
    processors_unavailable: int = 0
    deprecated_users: frozenset[str] = field(default_factory=frozenset)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    lines: int = 0
    unparsed: int = 0
    path: str = ""


@dataclass(slots=True, kw_only=True)
class _Tally(Span):
    """Counts in [lo, hi) (epoch microseconds) and the span."""

    lo: int
    hi: int
    deprecated_calls: int = 0
    errors: int = 0
    oom_kills: int = 0
    crashes: int = 0
    processors_unavailable: int = 0
    deprecated_users: set[str] = field(default_factory=set)
    lines: int = 0
    unparsed: int = 0

    def entry(self, instant: int, message: str, level_error: bool, rare: bool = True) -> None:
        """`rare`: whether the message may hold an OOM, crash or processor pattern (False when
        the block it was read from holds none of them)."""
        self.widen(instant, instant)
        if not self.lo <= instant < self.hi:
            return
        deprecated = DEPRECATED_CALL in message
        if deprecated:
            self.deprecated_calls += 1
            user = _DEPRECATED_USER.search(message)
            if user is not None:
                self.deprecated_users.add(user.group(1).rstrip(".:\"'"))
        elif level_error or _ERROR_TOKEN.search(message) is not None:
            self.errors += 1
        if not rare:
            return
        if _OOM.search(message) is not None:
            self.oom_kills += 1
        if _CRASH.search(message) is not None:
            self.crashes += 1
        if PROCESSORS_UNAVAILABLE_TEXT in message or _PROCESSORS_FALSE.search(message):
            self.processors_unavailable += 1

    def counts(self, path: str) -> RlmLogCounts:
        return RlmLogCounts(
            deprecated_calls=self.deprecated_calls,
            errors=self.errors,
            oom_kills=self.oom_kills,
            crashes=self.crashes,
            processors_unavailable=self.processors_unavailable,
            deprecated_users=frozenset(self.deprecated_users),
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            lines=self.lines,
            unparsed=self.unparsed,
            path=path,
        )


def scan_rlm_log(
    path: Path,
    window_start: datetime,
    window_end: datetime,
    *,
    margin: timedelta | None = OUT_OF_ORDER_MARGIN,
) -> RlmLogCounts:
    """Count deprecated v1 calls, errors, OOM kills, crashes and processor failures in a window.

    `margin` is how far out of time order entries may be for seeking to stay exact (see the
    module notes); None reads every line.

    Raises SourceUnavailable when the file cannot be read, ValueError for a negative margin.
    """
    tally = _Tally(lo=epoch_us(window_start), hi=epoch_us(window_end))
    window = (tally.lo, tally.hi)
    tail = read_window(path, f"rlm logs {path}", window, margin, _instants_of, _Reader(tally))
    if tail is not None:
        tally.widen(*tail)
    return tally.counts(str(path))


def count_lines(
    lines: Iterable[str], window_start: datetime, window_end: datetime, *, path: str = ""
) -> RlmLogCounts:
    """The counts of `lines` (each one physical line) read one at a time, as `scan_rlm_log`
    reads every line of a file (``margin=None``) without reading blocks: its reference."""
    tally = _Tally(lo=epoch_us(window_start), hi=epoch_us(window_end))
    reader = _Reader(tally)
    for line in lines:
        reader.line(line.strip())
    return tally.counts(path)


class _Reader:
    """Feeds lines to a tally; a line without an instant continues the entry before it."""

    __slots__ = ("_tally", "_previous", "_rare")

    def __init__(self, tally: _Tally) -> None:
        self._tally = tally
        self._previous: int | None = None  # instant of the last entry, for continuation lines
        self._rare = True  # whether the text being read may hold a rare pattern (see _RARE)

    def head(self, handle: io.BufferedReader) -> int | None:
        """Read up to and including the first line with an instant; its end offset, or None
        when the file has none."""
        return read_head(handle, self._head_line)

    def _head_line(self, raw: bytes) -> bool:
        self.line(raw.decode("utf-8", "replace").strip())
        return self._previous is not None

    def body(self, handle: io.BufferedReader, start: int, stop: int, *, resumed: bool) -> None:
        """Read the lines of [start, stop). `resumed`: the read starts after skipped lines, so
        lines before its first instant continue an entry that lies before the window."""
        skipping = resumed
        for buf, end in read_blocks(handle, start, stop, CHUNK):
            text = buf[:end].decode("utf-8", "replace")
            lowered = text.lower()
            self._rare = any(pattern in lowered for pattern in _RARE)
            # A block ends in a line end or is empty, so its last piece is "": skipping ends with
            # the first block at the latest.
            for piece in text.split("\n"):
                line = piece.strip()
                if skipping and line and not _line_instants(line):
                    continue  # lines of an entry that began before the read
                skipping = False
                self.line(line)
        self._rare = True

    def line(self, line: str) -> None:
        if not line:
            return
        tally = self._tally
        if line[0] in "{[":
            entries = _json_entries(line)
            if entries is None:
                tally.lines += 1
                tally.unparsed += 1
                return
            for instant, message, level_error in entries:
                tally.lines += 1
                if instant is None:
                    tally.unparsed += 1
                    continue
                self._previous = instant
                tally.entry(instant, message, level_error)
            return
        tally.lines += 1
        instant = leading_stamp_us(line)  # leading_instant(line), one call less
        if instant is None:
            instant = _parse_leading_instant(line)
        if instant is None:
            instant = self._previous  # continuation of the entry before
            if instant is None:
                tally.unparsed += 1
                return
        self._previous = instant
        tally.entry(instant, line, False, self._rare)


def _instants_of(raw: bytes) -> list[int]:
    """Instants of one physical line, for seeking."""
    return _line_instants(raw.decode("utf-8", "replace").strip())


def _line_instants(line: str) -> list[int]:
    """Instants of a stripped line: its entries' (JSON) or its leading one."""
    if not line:
        return []
    if line[0] in "{[":
        return [instant for instant, _, _ in _json_entries(line) or () if instant is not None]
    instant = leading_instant(line)
    return [] if instant is None else [instant]


_Entry = tuple[int | None, str, bool]  # (instant in epoch microseconds, message, level is error)


def _json_entries(line: str) -> list[_Entry] | None:
    """Entries of one JSON line, or None when it is not JSON."""
    try:
        value, end = _DECODER.raw_decode(line)
    except (ValueError, RecursionError):
        return None
    if end != len(line):
        return None
    items: list[Any]
    if isinstance(value, dict) and isinstance(value.get("logs"), list):
        items = value["logs"]
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    return [_entry(item) for item in items]


def _entry(item: Any) -> _Entry:
    if not isinstance(item, dict):
        return None, "", False
    event = item.get("event")
    if isinstance(event, dict) and "timestamp" not in item:
        # Render events API: {"event": {"timestamp", "type", "details"}}.
        return instant_us(event.get("timestamp")), json.dumps(event), False
    instant = instant_us(item.get("timestamp"))
    if instant is None:
        instant = instant_us(item.get("time"))
    message = item.get("message")
    if not isinstance(message, str):
        message = item.get("msg")
    if not isinstance(message, str):
        message = json.dumps(item)
    return instant, message, _level_is_error(item)


def _level_is_error(item: dict[str, Any]) -> bool:
    level = item.get("level")
    if isinstance(level, str) and level.strip().lower() in _ERROR_LEVELS:
        return True
    if isinstance(level, int) and not isinstance(level, bool) and 50 <= level < 60:
        return True  # Pino/bunyan numeric "error"
    labels = item.get("labels")
    if isinstance(labels, list):
        for label in labels:
            if (
                isinstance(label, dict)
                and label.get("name") == "level"
                and isinstance(label.get("value"), str)
                and label["value"].strip().lower() in _ERROR_LEVELS
            ):
                return True
    return False


def leading_instant(line: str) -> int | None:
    """The instant (epoch microseconds) a text line of an RLM log starts with, None when it
    starts with none: ISO 8601, optionally in brackets, with ``,`` or ``.`` before fractions,
    ``Z``, ``UTC`` or an offset (naive is UTC). The RLM's own form
    (``2026-02-02T10:00:01.123Z ``) is read by the fast path (`leading_stamp_us`)."""
    instant = leading_stamp_us(line)
    if instant is not None:
        return instant
    return _parse_leading_instant(line)


def _parse_leading_instant(line: str) -> int | None:
    match = _LEADING_INSTANT.match(line)
    if match is None:
        return None
    text = match.group(1).replace(",", ".").replace(" UTC", "Z").replace("UTC", "Z")
    return instant_us(text)
