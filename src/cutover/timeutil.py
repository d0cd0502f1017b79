"""UTC instants and durations: parsing the forms the runbook, the CLI, the scenarios and the logs
use.

The log readers count in epoch microseconds (plain ints): ``epoch_us`` / ``from_epoch_us``
convert, ``instant_us`` reads a log record's timestamp (ISO 8601 text or an epoch number) and
``leading_stamp_us`` is the fast path for the RLM's own ``2026-02-02T10:00:01.123Z``. Each of
them takes an instant outside what a datetime holds (years 1-9999) as no instant (None), never
as an error.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import overload

_DURATION = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# The instants a datetime holds, in epoch microseconds.
MIN_EPOCH_US = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _ONE_US
MAX_EPOCH_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _ONE_US
# Epoch numbers below this (in magnitude) are seconds, others milliseconds.
_SECONDS_BELOW = 100_000_000_000
# `2026-02-02T10:00:01.123Z` at the start of a text: minute, seconds, milliseconds.
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d):(\d\d)\.(\d{3})Z(?=[\s\]|]|$)", re.ASCII)
_MINUTES: dict[str, int] = {}  # `YYYY-MM-DDTHH:MM` -> its epoch microseconds
_MINUTE_CACHE = 4096


def parse_iso(text: str) -> datetime:
    """ISO 8601 / RFC 3339 text (surrounding white space allowed) as a datetime: naive when it
    has no zone; a trailing Z or z is UTC. ValueError when it is not one."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


def parse_instant(text: str, *, what: str = "instant") -> datetime:
    """Parse ISO 8601 into aware UTC; a naive value is UTC (as the RLM writes it)."""
    try:
        parsed = parse_iso(text)
    except ValueError as exc:
        raise ValueError(
            f"{what}: {text!r} is not an ISO 8601 instant (expected e.g. 2026-03-01T12:00:00Z)"
        ) from exc
    return as_utc(parsed)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; naive values are UTC by the system's convention."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    """Parse `90m`, `24h`, `-2d`, `1.5h` into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration (expected e.g. 30m, 24h, 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def iso(moment: datetime | None) -> str:
    """Canonical evidence form: ISO 8601 in UTC with a Z, to the second."""
    if moment is None:
        return ""
    return as_utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def utc_now() -> datetime:
    return datetime.now(UTC)


def epoch_us(moment: datetime) -> int:
    """Microseconds since the epoch (a naive `moment` is UTC). OverflowError when `moment` in
    UTC is outside what a datetime holds (`checked_epoch_us` returns None instead)."""
    return (as_utc(moment) - _EPOCH) // _ONE_US


def checked_epoch_us(moment: datetime) -> int | None:
    """`epoch_us`, or None when the instant is outside what a datetime holds."""
    try:
        return epoch_us(moment)
    except OverflowError:
        return None


@overload
def from_epoch_us(value: int) -> datetime: ...
@overload
def from_epoch_us(value: None) -> None: ...
@overload
def from_epoch_us(value: int | None) -> datetime | None: ...
def from_epoch_us(value: int | None) -> datetime | None:
    """Aware UTC datetime of epoch microseconds (None stays None)."""
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def epoch_number_us(value: int | float) -> int | None:
    """Epoch microseconds of an epoch number: milliseconds, or seconds when below 1e11 in
    magnitude; None when it is not finite or the instant is outside the years 1-9999."""
    if isinstance(value, int):
        instant = value * 1_000 if abs(value) >= _SECONDS_BELOW else value * 1_000_000
    elif not math.isfinite(value) or abs(value) > 1e18:  # far beyond year 9999 in any unit
        return None
    else:
        instant = round(value * 1_000_000) if abs(value) < 1e11 else round(value * 1_000)
    return instant if MIN_EPOCH_US <= instant <= MAX_EPOCH_US else None


def instant_us(value: object) -> int | None:
    """Epoch microseconds of a log record's timestamp: ISO 8601 / RFC 3339 text (naive is UTC),
    or an epoch number (see `epoch_number_us`) as a number or a string of digits. None for
    anything else and for an instant outside what a datetime holds."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isdecimal():  # what int() reads (isdigit also holds for "²", which it does not)
            try:
                return checked_epoch_us(parse_iso(text))
            except ValueError:
                return None
        value = int(text)
    if isinstance(value, int | float):
        return epoch_number_us(value)
    return None


def leading_stamp_us(text: str) -> int | None:
    """The fast path for the RLM's own timestamps: the instant `text` starts with when it starts
    with ``YYYY-MM-DDTHH:MM:SS.mmmZ`` followed by white space, ``]``, ``|`` or its end; None
    otherwise (seconds past 59 and a minute no datetime holds included). Where it is not None,
    it equals `instant_us` of those 24 characters; each minute is read once and cached."""
    found = _STAMP.match(text)
    if found is None:
        return None
    seconds = int(found.group(2))
    if seconds >= 60:
        return None
    key = found.group(1)
    minute = _MINUTES.get(key)
    if minute is None:
        minute = instant_us(key + ":00+00:00")
        if minute is None:
            return None
        if len(_MINUTES) >= _MINUTE_CACHE:
            _MINUTES.clear()
        _MINUTES[key] = minute
    return minute + seconds * 1_000_000 + int(found.group(3)) * 1_000
