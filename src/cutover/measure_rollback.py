"""Measurements for the rollback triggers ("must we roll back now?") and for verifying that a
rollback took. Windows end at the instant measured; nothing here judges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cutover.errors import SourceUnavailable
from cutover.ledger.view import LedgerView
from cutover.measure import Exports
from cutover.outcome import Window
from cutover.profile import Profile
from cutover.sources import imports
from cutover.sources.database import Database
from cutover.sources.rlm_http import HealthProbe, probe_health
from cutover.sources.rlm_logs import RlmLogCounts, scan_rlm_log
from cutover.sources.router_logs import RoutingCounts
from cutover.timeutil import iso


def recent(as_of: datetime, hours: float) -> Window:
    return Window(as_of - timedelta(hours=hours), as_of)


def recent_success(db: Database, as_of: datetime, profile: Profile) -> imports.SuccessCounts:
    window = recent(as_of, profile.rollback_window_hours)
    return imports.read_success(db, window, profile.stuck_after_minutes)


@dataclass(frozen=True, slots=True)
class StuckNow:
    as_of: datetime
    stuck: tuple[imports.StuckImport, ...]


def stuck_now(db: Database, as_of: datetime, profile: Profile) -> StuckNow:
    return StuckNow(as_of, tuple(imports.read_stuck(db, as_of, profile.stuck_after_minutes)))


@dataclass(frozen=True, slots=True)
class SlowHistory:
    window: Window
    hours: tuple[imports.SlowHour, ...]


def slow_history(db: Database, as_of: datetime, profile: Profile) -> SlowHistory:
    window = recent(as_of, profile.rollback_window_hours)
    hours = imports.read_slow_by_hour(db, window, profile.slow_import_minutes)
    return SlowHistory(window, tuple(hours))


@dataclass(frozen=True, slots=True)
class RlmCrashSignals:
    window: Window
    logs: RlmLogCounts
    health: HealthProbe | None
    health_error: str  # why /health could not be read ("" when it answered)


def rlm_crash_signals(
    exports: Exports, rlm_url: str | None, as_of: datetime, profile: Profile
) -> RlmCrashSignals:
    window = Window(as_of - timedelta(minutes=profile.rollback_log_window_minutes), as_of)
    logs = scan_rlm_log(exports.need("rlm_logs"), window.start or as_of, as_of)
    health: HealthProbe | None = None
    error = "CUTOVER_RLM_URL / --rlm-url is not set"
    if rlm_url is not None:
        try:
            health, error = probe_health(rlm_url, timeout=profile.http_timeout_seconds), ""
        except SourceUnavailable as exc:
            error = exc.message
    return RlmCrashSignals(window, logs, health, error)


@dataclass(frozen=True, slots=True)
class RecentComplaints:
    window: Window
    attestations: tuple[tuple[datetime, datetime, int, str], ...]


def recent_complaints(view: LedgerView, profile: Profile) -> RecentComplaints:
    """Attestations that overlap the current stage (or the trigger window when none runs)."""
    stage = view.current_stage()
    start = stage.started if stage else view.as_of - timedelta(hours=profile.rollback_window_hours)
    window = Window(start, view.as_of)
    relevant = [a for a in view.complaint_attestations() if a[1] >= start]
    return RecentComplaints(window, tuple(relevant))


@dataclass(frozen=True, slots=True)
class Integrity:
    window: Window
    broken: tuple[imports.BrokenRow, ...]
    query_sha256: str


def integrity(db: Database, as_of: datetime, profile: Profile) -> Integrity:
    window = recent(as_of, profile.rollback_window_hours)
    rows, sha = imports.read_integrity(db, window, profile.integrity_max_listed)
    return Integrity(window, tuple(rows), sha)


# -- verification -------------------------------------------------------------------------------


def rollback_at(view: LedgerView) -> tuple[datetime, str]:
    found = view.last_rollback()
    if found is None:
        raise SourceUnavailable(
            "ledger (rollback)",
            f"no rollback recorded at or before {iso(view.as_of)}; record it with "
            "`cutover rollback --reason ... --at <deploy time>`",
        )
    return found


@dataclass(frozen=True, slots=True)
class RoutingAfterRollback:
    window: Window
    counts: RoutingCounts


def routing_after_rollback(view: LedgerView, exports: Exports) -> RoutingAfterRollback:
    at, _ = rollback_at(view)
    counts = exports.count_routing(at, view.as_of)
    return RoutingAfterRollback(Window(at, view.as_of), counts)


@dataclass(frozen=True, slots=True)
class InFlightAfterRollback:
    rollback_at: datetime
    as_of: datetime
    in_flight: tuple[imports.InFlight, ...]


def in_flight_after_rollback(
    db: Database, view: LedgerView, profile: Profile
) -> InFlightAfterRollback:
    at, _ = rollback_at(view)
    window = Window(at - timedelta(hours=profile.in_flight_lookback_hours), view.as_of)
    return InFlightAfterRollback(at, view.as_of, tuple(imports.read_in_flight(db, window, at)))
