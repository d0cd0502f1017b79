"""Measurements for the rollback triggers ("must we roll back now?") and for verifying that a
rollback took. Windows end at the instant measured; nothing here judges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cutover.errors import SourceUnavailable
from cutover.ledger.view import LedgerView
from cutover.measure.inputs import Inputs
from cutover.measure.logs import rlm_log_gap, router_log_gap
from cutover.measure.stage import Attested
from cutover.outcome import Window
from cutover.sources import imports
from cutover.sources.rlm_http import HealthProbe, probe_health
from cutover.sources.rlm_logs import RlmLogCounts
from cutover.sources.router_logs import RoutingCounts
from cutover.timeutil import iso


def trigger_window(inputs: Inputs) -> Window:
    """The triggers' rates and integrity look back this far from the instant."""
    span = timedelta(hours=inputs.profile.rollback_window_hours)
    return Window(inputs.as_of - span, inputs.as_of)


def recent_success(inputs: Inputs, criterion: str) -> imports.SuccessCounts:
    profile = inputs.profile
    return imports.read_success(
        inputs.database(), trigger_window(inputs), profile.stuck_after_minutes
    )


@dataclass(frozen=True, slots=True)
class StuckNow:
    as_of: datetime
    stuck: tuple[imports.StuckImport, ...]


def stuck_now(inputs: Inputs, criterion: str) -> StuckNow:
    stuck = imports.read_stuck(inputs.database(), inputs.as_of, inputs.profile.stuck_after_minutes)
    return StuckNow(inputs.as_of, tuple(stuck))


@dataclass(frozen=True, slots=True)
class SlowHistory:
    window: Window
    hours: tuple[imports.SlowHour, ...]


def slow_history(inputs: Inputs, criterion: str) -> SlowHistory:
    window = trigger_window(inputs)
    slow_minutes = inputs.profile.slow_import_minutes
    return SlowHistory(
        window, tuple(imports.read_slow_by_hour(inputs.database(), window, slow_minutes))
    )


@dataclass(frozen=True, slots=True)
class RlmCrashSignals:
    window: Window
    logs: RlmLogCounts
    health: HealthProbe | None
    health_error: str  # why /health could not be read ("" when it answered)


def rlm_crash_signals(inputs: Inputs, criterion: str) -> RlmCrashSignals:
    profile, as_of = inputs.profile, inputs.as_of
    window = Window(as_of - timedelta(minutes=profile.rollback_log_window_minutes), as_of)
    logs = inputs.exports().scan_rlm_log(
        window.start or as_of, as_of, resolution=rlm_log_gap(inputs)
    )
    health: HealthProbe | None = None
    error = "CUTOVER_RLM_URL / --rlm-url is not set"
    rlm_url = inputs.rlm().url
    if rlm_url is not None:
        try:
            timeout, cap = profile.http_timeout_seconds, profile.http_max_body_bytes
            health, error = probe_health(rlm_url, timeout=timeout, max_bytes=cap), ""
        except SourceUnavailable as exc:
            error = exc.message
    return RlmCrashSignals(window, logs, health, error)


@dataclass(frozen=True, slots=True)
class RecentComplaints:
    window: Window
    attestations: tuple[Attested, ...]


def recent_complaints(inputs: Inputs, criterion: str) -> RecentComplaints:
    """Attestations that overlap the current stage (or the trigger window when none runs)."""
    view = inputs.ledger()
    stage = view.current_stage()
    start = stage.started if stage else trigger_window(inputs).start or view.as_of
    relevant = [a for a in view.complaint_attestations() if a[1] >= start]
    return RecentComplaints(Window(start, view.as_of), tuple(relevant))


@dataclass(frozen=True, slots=True)
class Integrity:
    window: Window
    broken: tuple[imports.BrokenRow, ...]
    query_sha256: str


def integrity(inputs: Inputs, criterion: str) -> Integrity:
    window = trigger_window(inputs)
    limit = inputs.profile.integrity_max_listed
    rows, sha = imports.read_integrity(inputs.database(), window, limit)
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


def routing_after_rollback(inputs: Inputs, criterion: str) -> RoutingAfterRollback:
    view = inputs.ledger()
    at, _ = rollback_at(view)
    counts = inputs.exports().count_routing(at, view.as_of, resolution=router_log_gap(inputs))
    return RoutingAfterRollback(Window(at, view.as_of), counts)


@dataclass(frozen=True, slots=True)
class InFlightAfterRollback:
    rollback_at: datetime
    as_of: datetime
    in_flight: tuple[imports.InFlight, ...]


def in_flight_after_rollback(inputs: Inputs, criterion: str) -> InFlightAfterRollback:
    view = inputs.ledger()
    at, _ = rollback_at(view)
    lookback = timedelta(hours=inputs.profile.in_flight_lookback_hours)
    window = Window(at - lookback, view.as_of)
    in_flight = imports.read_in_flight(inputs.database(), window, at)
    return InFlightAfterRollback(at, view.as_of, tuple(in_flight))
