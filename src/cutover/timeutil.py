"""UTC instants and durations: parsing the forms the runbook, the CLI and the scenarios use."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_instant(text: str, *, what: str = "instant") -> datetime:
    """Parse ISO 8601 into aware UTC; a naive value is UTC (as the RLM writes it)."""
    value = text.strip()
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
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
