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
entry before it and takes its instant; before any timestamped entry it is unparsed.

Counts cover entries whose instant lies in [window_start, window_end); ``first_seen`` /
``last_seen`` are the earliest / latest instants of the whole file; ``lines`` counts entries
(text lines, JSON lines, entries of a response's ``logs``); ``unparsed`` counts entries that
could not be read (broken JSON, no instant). An entry can match several counters: an OOM line
that says ``Instance failed`` is both an OOM kill and a crash.

This module reads and never decides: criteria judge the counts.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cutover.errors import SourceUnavailable
from cutover.timeutil import as_utc

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

_PROCESSORS_FALSE = re.compile(r"""processors_available\\?["']?\s*[:=]\s*false""", re.IGNORECASE)
_ERROR_TOKEN = re.compile(r"\bERROR\b")
_DEPRECATED_USER = re.compile(r"called by user\s+([^\s,;]+)")
_LEADING_INSTANT = re.compile(
    r"^\s*\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:\s?(?:Z|z|UTC|[+-]\d{2}(?::?\d{2})?))?)(?=[\s\]|]|$)"
)
_ERROR_LEVELS = frozenset({"error", "err"})
_DECODER = json.JSONDecoder()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_UNREADABLE = object()


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


@dataclass(slots=True)
class _Tally:
    lo: int
    hi: int
    deprecated_calls: int = 0
    errors: int = 0
    oom_kills: int = 0
    crashes: int = 0
    processors_unavailable: int = 0
    deprecated_users: set[str] = field(default_factory=set)
    first: int | None = None
    last: int | None = None
    lines: int = 0
    unparsed: int = 0

    def entry(self, instant: int, message: str, level_error: bool) -> None:
        if self.first is None or instant < self.first:
            self.first = instant
        if self.last is None or instant > self.last:
            self.last = instant
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
        if any(pattern in message for pattern in OOM_PATTERNS):
            self.oom_kills += 1
        if any(pattern in message for pattern in CRASH_PATTERNS):
            self.crashes += 1
        if PROCESSORS_UNAVAILABLE_TEXT in message or _PROCESSORS_FALSE.search(message):
            self.processors_unavailable += 1


def scan_rlm_log(path: Path, window_start: datetime, window_end: datetime) -> RlmLogCounts:
    """Count deprecated v1 calls, errors, OOM kills, crashes and processor failures in a window.

    Raises SourceUnavailable when the file cannot be read.
    """
    source = f"rlm logs {path}"
    tally = _Tally(lo=_to_us(window_start), hi=_to_us(window_end))
    previous: int | None = None  # instant of the last entry, for continuation lines
    try:
        with open(path, encoding="utf-8", errors="replace", buffering=1 << 20) as handle:
            for raw in handle:
                line = raw.strip()
                if not line:
                    continue
                if line[0] in "{[":
                    entries = _json_entries(line)
                    if entries is None:
                        tally.lines += 1
                        tally.unparsed += 1
                        continue
                    for instant, message, level_error in entries:
                        tally.lines += 1
                        if instant is None:
                            tally.unparsed += 1
                            continue
                        previous = instant
                        tally.entry(instant, message, level_error)
                    continue
                tally.lines += 1
                instant = _leading_instant(line)
                if instant is None:
                    instant = previous  # continuation of the entry before
                    if instant is None:
                        tally.unparsed += 1
                        continue
                previous = instant
                tally.entry(instant, line, False)
    except OSError as exc:
        raise SourceUnavailable(source, f"cannot read: {exc.strerror or exc}") from exc

    return RlmLogCounts(
        deprecated_calls=tally.deprecated_calls,
        errors=tally.errors,
        oom_kills=tally.oom_kills,
        crashes=tally.crashes,
        processors_unavailable=tally.processors_unavailable,
        deprecated_users=frozenset(tally.deprecated_users),
        first_seen=_from_us(tally.first),
        last_seen=_from_us(tally.last),
        lines=tally.lines,
        unparsed=tally.unparsed,
        path=str(path),
    )


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
        return _instant(event.get("timestamp")), json.dumps(event), False
    instant = _instant(item.get("timestamp"))
    if instant is None:
        instant = _instant(item.get("time"))
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


def _leading_instant(line: str) -> int | None:
    match = _LEADING_INSTANT.match(line)
    if match is None:
        return None
    text = match.group(1).replace(",", ".").replace(" UTC", "Z").replace("UTC", "Z")
    return _instant(text)


def _instant(value: object) -> int | None:
    """Epoch microseconds from ISO 8601 / RFC 3339 (naive = UTC) or epoch ms (s below 1e11)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            value = int(text)
        else:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            try:
                return _to_us(datetime.fromisoformat(text))
            except ValueError:
                return None
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        return round(value * (1_000_000 if abs(value) < 1e11 else 1_000))
    return None


def _to_us(moment: datetime) -> int:
    return (as_utc(moment) - _EPOCH) // _ONE_US


def _from_us(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)
