"""Whether a log or metrics export covers the window a criterion judges: zero hits outside
what the file covers mean nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from cutover.outcome import Window
from cutover.timeutil import iso


def coverage_gap(
    first: datetime | None, last: datetime | None, window: Window, slack: timedelta, what: str
) -> str | None:
    """Why a file does not cover the window (None: it does)."""
    start = window.start or window.end
    if first is None or last is None:
        return f"{what} has no timestamped line"
    if first > start + slack or last < window.end - slack:
        covered = f"{iso(first)}..{iso(last)}"
        return f"{what} covers {covered}, not the window {iso(start)}..{iso(window.end)}"
    return None
