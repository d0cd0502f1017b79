"""Database reads for the stage gates and triggers: the validation queries over a window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cutover.outcome import Window
from cutover.sources.database import Database


@dataclass(frozen=True, slots=True)
class SuccessCounts:
    """Query 1 over a window, as of its end."""

    window: Window
    total: int
    complete: int
    failed: int
    stuck: int
    in_flight: int
    query1_rate_pct: float | None
    query_sha256: str

    @property
    def settled(self) -> int:
        """Imports whose outcome is known: complete, failed, or stuck past the limit."""
        return self.complete + self.failed + self.stuck

    @property
    def settled_rate_pct(self) -> float | None:
        return None if self.settled == 0 else round(100.0 * self.complete / self.settled, 2)

    def as_record(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "complete": self.complete,
            "failed": self.failed,
            "stuck": self.stuck,
            "in_flight": self.in_flight,
            "settled_rate_pct": self.settled_rate_pct,
            "query1_rate_pct": self.query1_rate_pct,
        }


@dataclass(frozen=True, slots=True)
class StuckImport:
    user_id: str
    started_at: datetime
    minutes_stuck: int


@dataclass(frozen=True, slots=True)
class Durations:
    """Minutes (0.1-minute bins, floored) of imports complete in the window; also Query 3's
    buckets. `in_flight_slow`: the ages of imports still running past the slow limit (already
    slow: their durations are at least that); younger ones in flight are unknown, left out."""

    window: Window
    bins: dict[float, int]
    buckets: dict[str, int]
    query_sha256: str
    in_flight_slow: dict[float, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.bins.values())

    @property
    def in_flight_count(self) -> int:
        return sum(self.in_flight_slow.values())

    def values(self, *, in_flight: bool = False) -> list[float]:
        """Complete durations; with `in_flight`, the in-flight ages too (lower bounds)."""
        merged = dict(self.bins)
        for minutes, n in (self.in_flight_slow if in_flight else {}).items():
            merged[minutes] = merged.get(minutes, 0) + n
        return [minutes for minutes, n in sorted(merged.items()) for _ in range(n)]

    def mean(self) -> float | None:
        return None if not self.count else sum(m * n for m, n in self.bins.items()) / self.count


@dataclass(frozen=True, slots=True)
class ErrorPattern:
    text: str
    count: int
    users: int
    first_seen: datetime | None = None  # by start (a failure's own time is not recorded)
    last_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class ErrorHour:
    """Failed imports of one error text that started in one hour."""

    text: str
    hour: datetime
    count: int


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: datetime
    started: int


def window_params(window: Window, stuck_after_minutes: int, limit: int = 10) -> dict[str, Any]:
    """The queries' parameters; a window without a start (Query 2: all time) starts at its end,
    which the queries that read `window_start` never get."""
    start = window.start if window.start is not None else window.end
    return {
        "as_of": window.end,
        "window_start": start,
        "stuck_before": window.end - timedelta(minutes=stuck_after_minutes),
        "limit": limit,
    }


def read_success(db: Database, window: Window, stuck_after_minutes: int) -> SuccessCounts:
    result = db.run("q1_success_rate", window_params(window, stuck_after_minutes))
    row = result.rows[0]
    rate = row["success_rate_pct"]
    return SuccessCounts(
        window=window,
        total=int(row["total_imports"]),
        complete=int(row["successful_imports"]),
        failed=int(row["failed_imports"]),
        stuck=int(row["stuck_imports"]),
        in_flight=int(row["in_flight_imports"]),
        query1_rate_pct=None if rate is None else float(rate),
        query_sha256=result.query.sha256,
    )


def read_stuck(db: Database, as_of: datetime, stuck_after_minutes: int) -> list[StuckImport]:
    params = window_params(Window(None, as_of), stuck_after_minutes)
    result = db.run("q2_stuck_imports", params)
    return [
        StuckImport(str(r["user_id"]), r["full_pass_started_at"], int(r["minutes_stuck"]))
        for r in result.rows
    ]


def read_durations(db: Database, window: Window, slow_minutes: float) -> Durations:
    params = window_params(window, 0)
    bins = db.run("durations", {**params, "slow_minutes": slow_minutes})
    histogram = db.run("q3_duration_histogram", params)
    complete = {float(r["minutes"]): int(r["imports"]) for r in bins.rows if not r["in_flight"]}
    running = {float(r["minutes"]): int(r["imports"]) for r in bins.rows if r["in_flight"]}
    return Durations(
        window=window,
        bins=complete,
        buckets={str(r["duration_bucket"]): int(r["import_count"]) for r in histogram.rows},
        query_sha256=f"{histogram.query.sha256},{bins.query.sha256}",
        in_flight_slow=running,
    )


def read_error_patterns(db: Database, window: Window, limit: int) -> list[ErrorPattern]:
    """Query 4's rows, most frequent first, at most `limit`."""
    result = db.run("q4_error_patterns", window_params(window, 0, limit=limit))
    return [
        ErrorPattern(
            str(r["full_pass_error"] or ""),
            int(r["error_count"]),
            int(r["affected_users"]),
            r["first_seen"],
            r["last_seen"],
        )
        for r in result.rows
    ]


def read_error_hours(db: Database, window: Window) -> list[ErrorHour]:
    result = db.run("error_hours", window_params(window, 0))
    return [
        ErrorHour(str(r["full_pass_error"] or ""), r["hour"], int(r["error_count"]))
        for r in result.rows
    ]


def read_timeline(db: Database, window: Window) -> list[HourCount]:
    result = db.run("q6_recent_timeline", window_params(window, 0))
    return [HourCount(r["hour"], int(r["imports_started"])) for r in result.rows]


@dataclass(frozen=True, slots=True)
class SlowHour:
    """One hour of starts: `slow` counts complete imports over the limit and those still in
    flight past it (`in_flight_slow` of them); `in_flight_young` are not known yet."""

    hour: datetime
    completed: int
    slow: int
    in_flight_slow: int = 0
    in_flight_young: int = 0

    @property
    def known(self) -> int:
        """Imports whose slow-or-not is known: complete, or in flight past the limit."""
        return self.completed + self.in_flight_slow


@dataclass(frozen=True, slots=True)
class BrokenRow:
    invariant: str
    user_id: str
    broken_rows: int  # rows breaking this invariant in all (the listing is capped)


@dataclass(frozen=True, slots=True)
class InFlight:
    user_id: str
    started_at: datetime
    minutes_running: int


def read_slow_by_hour(db: Database, window: Window, slow_minutes: int) -> list[SlowHour]:
    params = {**window_params(window, 0), "slow_minutes": slow_minutes}
    result = db.run("slow_by_hour", params)
    return [
        SlowHour(
            r["hour"],
            int(r["completed"]),
            int(r["slow_completed"]) + int(r["in_flight_slow"]),
            int(r["in_flight_slow"]),
            int(r["in_flight_young"]),
        )
        for r in result.rows
    ]


def read_integrity(db: Database, window: Window, limit: int) -> tuple[list[BrokenRow], str]:
    result = db.run("integrity", window_params(window, 0, limit=limit))
    rows = [
        BrokenRow(str(r["invariant"]), str(r["user_id"]), int(r["broken_rows"]))
        for r in result.rows
    ]
    return rows, result.query.sha256


def read_in_flight(db: Database, window: Window, rollback_at: datetime) -> list[InFlight]:
    params = {**window_params(window, 0), "rollback_at": rollback_at}
    result = db.run("in_flight", params)
    return [
        InFlight(str(r["user_id"]), r["full_pass_started_at"], int(r["minutes_running"]))
        for r in result.rows
    ]
