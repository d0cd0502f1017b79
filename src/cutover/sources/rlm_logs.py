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
entry before it and takes its instant; before any timestamped entry, or when it holds binary data
(control characters, bytes that are not UTF-8), it is unparsed. Instants are
read by ``cutover.timeutil`` (epoch numbers are milliseconds, below 1e11 seconds); an instant
outside the years 1-9999 counts as none.

Counts cover entries whose instant lies in [window_start, window_end). An entry can match
several counters: an OOM line that says ``Instance failed`` is both an OOM kill and a crash.
Duplicates are counted once (``duplicates`` says how many were left out): an entry is the same
as an earlier one when both are Render log objects (or events) with the same ``id``, instant and
message, or else when both are the same line (a continuation line: at the same instant; a JSON
line's entry: at the same place in it).

Coverage (``coverage``, see ``sources.logs.continuity``): the instants of the timestamped
entries in the window (continuation lines extend nothing, nor do Render events: the platform
raises them whether or not the service logs), chained at ``resolution``, and the
lines read per slot of the window with those that could not be read (broken JSON, binary data),
each at the instant of the entry before it.

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
  be read (broken JSON, no instant, binary data);
* ``coverage`` is the same whether or not the file is sought in: it looks at the window only.

This module reads and never decides: criteria judge the counts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from cutover.profile import Profile
from cutover.sources.logs.blocks import read_blocks, read_head
from cutover.sources.logs.continuity import Continuity, Tracker
from cutover.sources.logs.identity import Identities
from cutover.sources.logs.seek import OUT_OF_ORDER_MARGIN, read_window
from cutover.sources.logs.tally import Span
from cutover.sources.rlm_entries import (
    instants_of,
    json_entries,
    leading_instant,
    line_instants,
    parse_leading_instant,
)
from cutover.timeutil import epoch_us, leading_stamp_us

__all__ = [
    "CRASH_PATTERNS",
    "DEPRECATED_CALL",
    "OOM_PATTERNS",
    "OUT_OF_ORDER_MARGIN",
    "PROCESSORS_UNAVAILABLE_TEXT",
    "RlmLogCounts",
    "count_lines",
    "leading_instant",
    "scan_rlm_log",
]

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
# A text line without an instant holding binary data (control characters other than tab, CR and
# escape, or bytes that are not UTF-8) is unreadable, not the continuation of an entry.
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\ufffd]")
CHUNK = 1 << 18  # bytes read at a time (a module constant: tests make it small)
# What a counted entry counts as (bits of its code).
_DEPRECATED, _ERROR, _OOM_KILL, _CRASH_LINE, _PROCESSORS = 1, 2, 4, 8, 16
# The longest silence coverage bridges when a caller names none: the profile's default (the gates
# pass the profile in use).
DEFAULT_RESOLUTION = timedelta(minutes=Profile().rlm_log_gap_minutes)


@dataclass(frozen=True, slots=True)
class RlmLogCounts:
    """Pattern counts over [window_start, window_end), each entry's identity once, the span the
    file covers and what it covers of the window."""

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
    duplicates: int = 0  # counted entries left out: another with the same identity came first
    coverage: Continuity = field(default_factory=Continuity)


@dataclass(slots=True, kw_only=True)
class _Tally(Span):
    """Counts in [lo, hi) (epoch microseconds), by identity, and the span."""

    lo: int
    hi: int
    coverage: Tracker
    counted: Identities = field(default_factory=Identities)
    deprecated_users: set[str] = field(default_factory=set)
    lines: int = 0
    unparsed: int = 0

    def entry(
        self,
        instant: int,
        message: str,
        level_error: bool,
        rare: bool,
        identity: tuple[object, ...],
    ) -> None:
        """`rare`: whether the message may hold an OOM, crash or processor pattern (False when
        the block it was read from holds none of them); `identity`: what tells the entry from
        a duplicate (hashed only when the entry counts)."""
        self.widen(instant, instant)
        if not self.lo <= instant < self.hi:
            return
        code = 0
        if DEPRECATED_CALL in message:
            code = _DEPRECATED
            user = _DEPRECATED_USER.search(message)
            if user is not None:
                self.deprecated_users.add(user.group(1).rstrip(".:\"'"))
        elif level_error or _ERROR_TOKEN.search(message) is not None:
            code = _ERROR
        if rare:
            if _OOM.search(message) is not None:
                code |= _OOM_KILL
            if _CRASH.search(message) is not None:
                code |= _CRASH_LINE
            if PROCESSORS_UNAVAILABLE_TEXT in message or _PROCESSORS_FALSE.search(message):
                code |= _PROCESSORS
        if code:
            self.counted.add(hash(identity), code)

    def counts(self, path: str) -> RlmLogCounts:
        codes, duplicates = self.counted.first()

        def having(bit: int) -> int:
            return int(np.count_nonzero(codes & bit))

        return RlmLogCounts(
            deprecated_calls=having(_DEPRECATED),
            errors=having(_ERROR),
            oom_kills=having(_OOM_KILL),
            crashes=having(_CRASH_LINE),
            processors_unavailable=having(_PROCESSORS),
            deprecated_users=frozenset(self.deprecated_users),
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            lines=self.lines,
            unparsed=self.unparsed,
            path=path,
            duplicates=duplicates,
            coverage=self.coverage.result(),
        )


def scan_rlm_log(
    path: Path,
    window_start: datetime,
    window_end: datetime,
    *,
    margin: timedelta | None = OUT_OF_ORDER_MARGIN,
    resolution: timedelta = DEFAULT_RESOLUTION,
) -> RlmLogCounts:
    """Count deprecated v1 calls, errors, OOM kills, crashes and processor failures in a window,
    each entry's identity once, and what the file covers of it at `resolution` (the longest
    silence bridged: see ``sources.logs.continuity``).

    `margin` is how far out of time order entries may be for seeking to stay exact (see the
    module notes); None reads every line.

    Raises SourceUnavailable when the file cannot be read, ValueError for a negative margin or
    a resolution that is not positive.
    """
    tally = _tally(window_start, window_end, resolution)
    window = (tally.lo, tally.hi)
    reader = _Reader(tally)
    tail = read_window(path, f"rlm logs {path}", window, margin, instants_of, reader)
    reader.flush()
    if tail is not None:
        tally.widen(*tail)
    return tally.counts(str(path))


def count_lines(
    lines: Iterable[str],
    window_start: datetime,
    window_end: datetime,
    *,
    path: str = "",
    resolution: timedelta = DEFAULT_RESOLUTION,
) -> RlmLogCounts:
    """The counts of `lines` (each one physical line) read one at a time, as `scan_rlm_log`
    reads every line of a file (``margin=None``) without reading blocks: its reference."""
    tally = _tally(window_start, window_end, resolution)
    reader = _Reader(tally)
    for line in lines:
        reader.line(line.strip())
    reader.flush()
    return tally.counts(path)


def _tally(window_start: datetime, window_end: datetime, resolution: timedelta) -> _Tally:
    lo, hi = epoch_us(window_start), epoch_us(window_end)
    tracker = Tracker(lo, hi, resolution // timedelta(microseconds=1))
    return _Tally(lo=lo, hi=hi, coverage=tracker)


class _Reader:
    """Feeds lines to a tally; a line without an instant continues the entry before it (unless
    it holds binary data). What coverage needs is kept per block: the entries' instants, and
    each line at its instant (a continuation at its entry's) with whether it could be read."""

    __slots__ = ("_tally", "_previous", "_rare", "_seen", "_at", "_bad")

    def __init__(self, tally: _Tally) -> None:
        self._tally = tally
        self._previous: int | None = None  # instant of the last entry, for continuation lines
        self._rare = True  # whether the text being read may hold a rare pattern (see _RARE)
        self._seen: list[int] = []  # instants of the entries read since the last flush
        self._at: list[int] = []  # the instant each line read since then belongs to
        self._bad: list[int] = []  # 1 for each of those lines that could not be read

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
                if skipping and line and not line_instants(line):
                    continue  # lines of an entry that began before the read
                skipping = False
                self.line(line)
            self.flush()
        self._rare = True

    def flush(self) -> None:
        """Give the coverage tracker what was read since the last flush."""
        coverage = self._tally.coverage
        coverage.see(self._seen)
        coverage.lines(self._at, 1, self._bad)
        self._seen.clear()
        self._at.clear()
        self._bad.clear()

    def line(self, line: str) -> None:
        if not line:
            return
        tally = self._tally
        if line[0] in "{[":
            entries = json_entries(line)
            if entries is None:
                tally.lines += 1
                tally.unparsed += 1
                self._count_line(False)
                return
            timed = False
            for index, (instant, message, level_error, ident, logged) in enumerate(entries):
                tally.lines += 1  # each entry of the line is one
                if instant is None:
                    tally.unparsed += 1
                    continue
                timed = True
                self._previous = instant
                if logged:  # a Render event extends no coverage: the log may be silent then
                    self._seen.append(instant)
                identity = (line, index) if ident is None else ("render", ident, instant, message)
                tally.entry(instant, message, level_error, True, identity)
            self._count_line(timed)
            return
        tally.lines += 1
        instant = leading_stamp_us(line)  # leading_instant(line), one call less
        if instant is None:
            instant = parse_leading_instant(line)
        if instant is None:
            if _BINARY.search(line) is not None:
                tally.unparsed += 1  # binary data, not a continuation
                self._count_line(False)
                return
            instant = self._previous  # continuation of the entry before
            if instant is None:
                tally.unparsed += 1
                return
        else:
            self._seen.append(instant)
        self._previous = instant
        self._count_line(True)
        tally.entry(instant, line, False, self._rare, (line, instant))

    def _count_line(self, readable: bool) -> None:
        """A line read, at the instant of the last entry (none before the first)."""
        if self._previous is not None:
            self._at.append(self._previous)
            self._bad.append(0 if readable else 1)
