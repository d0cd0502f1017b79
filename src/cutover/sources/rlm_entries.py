"""What one line of an RLM log holds: its entries (a text line's leading instant; a JSON line's
objects, each with its instant, message, whether its level is an error, and its own id)."""

from __future__ import annotations

import json
import re
from typing import Any

from cutover.timeutil import instant_us, leading_stamp_us

_LEADING_INSTANT = re.compile(
    r"^\s*\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:\s?(?:Z|z|UTC|[+-]\d{2}(?::?\d{2})?))?)(?=[\s\]|]|$)"
)
_ERROR_LEVELS = frozenset({"error", "err"})
_DECODER = json.JSONDecoder()


def instants_of(raw: bytes) -> list[int]:
    """Instants of one physical line, for seeking."""
    return line_instants(raw.decode("utf-8", "replace").strip())


def line_instants(line: str) -> list[int]:
    """Instants of a stripped line: its entries' (JSON) or its leading one."""
    if not line:
        return []
    if line[0] in "{[":
        return [instant for instant, *_ in json_entries(line) or () if instant is not None]
    instant = leading_instant(line)
    return [] if instant is None else [instant]


# (instant in epoch microseconds, message, level is error, the object's id or None, whether it
# is a line of the log: a Render event is matched like one, but the platform raised it, so it
# proves nothing of the log's continuity)
Entry = tuple[int | None, str, bool, str | int | None, bool]


def json_entries(line: str) -> list[Entry] | None:
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


def render_event(item: Any) -> dict[str, Any] | None:
    """The Render event a JSON line holds (the events API's `{"event": {"id", "timestamp",
    "type", "details"}}`, with no timestamp of its own), else None: a log object."""
    event = item.get("event") if isinstance(item, dict) else None
    return event if isinstance(event, dict) and "timestamp" not in item else None


def _entry(item: Any) -> Entry:
    if not isinstance(item, dict):
        return None, "", False, None, True
    event = render_event(item)
    if event is not None:
        return instant_us(event.get("timestamp")), json.dumps(event), False, _id(event), False
    instant = instant_us(item.get("timestamp"))
    if instant is None:
        instant = instant_us(item.get("time"))
    message = item.get("message")
    if not isinstance(message, str):
        message = item.get("msg")
    if not isinstance(message, str):
        message = json.dumps(item)
    return instant, message, _level_is_error(item), _id(item), True


def _id(item: dict[str, Any]) -> str | int | None:
    """A Render log object's (or event's) own id, which a duplicate shares."""
    ident = item.get("id")
    return ident if isinstance(ident, str | int) and not isinstance(ident, bool) else None


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
    return parse_leading_instant(line)


def parse_leading_instant(line: str) -> int | None:
    match = _LEADING_INSTANT.match(line)
    if match is None:
        return None
    text = match.group(1).replace(",", ".").replace(" UTC", "Z").replace("UTC", "Z")
    return instant_us(text)
