"""Measurements for the rollback triggers ("must we roll back now?") and for verifying that a
rollback took. Windows end at the instant measured; nothing here judges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cutover.errors import SourceUnavailable
from cutover.ledger.view import LedgerView, StageRun
from cutover.measure.inputs import Inputs
from cutover.measure.logs import rlm_log_gap, router_log_gap
from cutover.measure.stage import Complaints
from cutover.outcome import Window
from cutover.profile import Profile
from cutover.sources import imports
from cutover.sources.rlm_http import HealthProbe, probe_health
from cutover.sources.rlm_logs import RlmLogCounts
from cutover.sources.router_logs import RoutingCounts
from cutover.timeutil import iso


def trigger_window(inputs: Inputs) -> Window:
    """The triggers' rates and integrity look back this far from the instant."""
    span = timedelta(hours=inputs.profile.rollback_window_hours)
    return Window(inputs.as_of - span, inputs.as_of)


@dataclass(frozen=True, slots=True)
class RecentRates:
    """Query 1 over the trigger window (the point estimate) and over the current stage to date
    (the stream the confidence sequence covers: every monitor run of the stage looks at it)."""

    counts: imports.SuccessCounts
    stream: imports.SuccessCounts
    stream_of: str  # "stage 2" | "the trigger window (no stage in force)"


def recent_success(inputs: Inputs, criterion: str) -> RecentRates:
    """The stream starts where the stage in force at the trigger window's start began (else
    the current stage's start): every monitor run of a stage, and of the day after it, looks
    at one stream, and a stage just started does not lose the evidence of the one before."""
    profile, db = inputs.profile, inputs.database()
    window = trigger_window(inputs)
    counts = imports.read_success(db, window, profile.stuck_after_minutes)
    stage = _stream_stage(inputs.ledger(), window, inputs.profile)
    if stage is None or stage.started > inputs.as_of:
        return RecentRates(counts, counts, "the trigger window (no stage in force)")
    stream_window = Window(stage.started, inputs.as_of)
    stream = (
        counts
        if stream_window == window
        else imports.read_success(db, stream_window, profile.stuck_after_minutes)
    )
    return RecentRates(counts, stream, f"stage {stage.stage}")


def _stream_stage(view: LedgerView, window: Window, profile: Profile) -> StageRun | None:
    """The stage whose start begins the stream: the one in force at the window's start, else
    the first started within the window; never one before the last rollback (a restarted
    rollout is a new stream)."""
    start = window.start or window.end
    stage = LedgerView(view.records, start).current_stage()
    if stage is None:
        started = [
            StageRun(plan.number, plan.percent, at)
            for plan in profile.stages
            if (at := view.stage_started(plan.number)) is not None and at >= start
        ]
        stage = min(started, key=lambda run: run.started, default=None)
    rolled_back = view.last_rollback()
    if stage is not None and rolled_back is not None and rolled_back[0] > stage.started:
        stage = view.current_stage()
    return stage


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


def recent_complaints(inputs: Inputs, criterion: str) -> Complaints:
    """Attestations that overlap the current stage (or the trigger window when none runs)."""
    view = inputs.ledger()
    stage = view.current_stage()
    start = stage.started if stage else trigger_window(inputs).start or view.as_of
    relevant = [a for a in view.complaint_attestations() if a[1] >= start]
    return Complaints(Window(start, view.as_of), tuple(relevant))


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
    # the percent in force before the rollback: the alternative "the rollback did not take"
    # (no stage recorded before it: the smallest stage percent, which needs the most requests)
    previous_percent: int = 10


def routing_after_rollback(inputs: Inputs, criterion: str) -> RoutingAfterRollback:
    view = inputs.ledger()
    at, _ = rollback_at(view)
    counts = inputs.exports().count_routing(at, view.as_of, resolution=router_log_gap(inputs))
    before = LedgerView(view.records, at - timedelta(microseconds=1)).current_stage()
    smallest = min(plan.percent for plan in inputs.profile.stages if plan.percent > 0)
    previous = before.percent if before is not None and before.percent > 0 else smallest
    return RoutingAfterRollback(Window(at, view.as_of), counts, previous)


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
