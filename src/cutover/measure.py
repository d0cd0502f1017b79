"""Measurements for the stage gates: each function reads its sources for a stage window and
returns plain values (with the window and sample size) for a criterion to judge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from cutover.criteria.signatures import Signature, classify
from cutover.errors import SourceUnavailable
from cutover.ledger.view import LedgerView, StageRun
from cutover.outcome import Window
from cutover.profile import Profile, StagePlan
from cutover.sources import imports
from cutover.sources.database import Database
from cutover.sources.metrics import MetricSeries, read_metrics_csv
from cutover.sources.rlm_logs import RlmLogCounts, scan_rlm_log
from cutover.sources.router_logs import RoutingCounts, count_routing
from cutover.timeutil import iso, utc_now


@dataclass(frozen=True, slots=True)
class StageProgress:
    plan: StagePlan
    started: datetime | None  # the stage's latest start at or before the instant
    ended: datetime | None  # a later stage start or rollback, if any
    ended_by: str
    current: StageRun | None
    as_of: datetime
    hundred_percent_since: datetime | None = None  # stage 4: when 100% began (stage 3 start)


def stage_progress(view: LedgerView, plan: StagePlan) -> StageProgress:
    started = view.stage_started(plan.number)
    ended: datetime | None = None
    ended_by = ""
    if started is not None:
        later = [
            (r.at, r.type, r.data.get("stage"))
            for r in view.records
            if r.type in ("stage_started", "rollback") and started < r.at <= view.as_of
        ]
        if later:
            at, kind, stage = min(later, key=lambda item: item[0])
            ended, ended_by = at, "rollback" if kind == "rollback" else f"stage {stage} start"
    return StageProgress(
        plan=plan,
        started=started,
        ended=ended,
        ended_by=ended_by,
        current=view.current_stage(),
        as_of=view.as_of,
        hundred_percent_since=view.stage_started(3),
    )


def stage_window(view: LedgerView, plan: StagePlan) -> Window:
    """From the stage's start to the instant (or to when the stage ended); no start: unavailable."""
    progress = stage_progress(view, plan)
    if progress.started is None:
        raise SourceUnavailable(
            f"ledger (stage {plan.number})",
            f"no stage {plan.number} start at or before {iso(view.as_of)}; record it with "
            f"`cutover stage start {plan.number} --at <when it started>`",
        )
    end = min(view.as_of, progress.ended) if progress.ended else view.as_of
    return Window(progress.started, end)


# -- success rate over checkpoints ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckpointReading:
    label: str  # "+6h"
    due: datetime
    as_of: datetime | None  # when it was measured (None: missing)
    counts: dict[str, Any] | None  # SuccessCounts.as_record()
    origin: str  # "this run" | "ledger" | "missing"
    # measured well after the instant it describes (a --as-of backfill): the table keeps no
    # history, so imports re-run since then are lost and the figure is a reconstruction
    reconstructed: bool = False


@dataclass(frozen=True, slots=True)
class SuccessSeries:
    window: Window
    readings: tuple[CheckpointReading, ...]
    current: imports.SuccessCounts
    not_yet_due: tuple[str, ...] = field(default=())


def _label(offset: timedelta) -> str:
    hours = offset.total_seconds() / 3600
    return f"+{hours:g}h" if hours < 48 or hours % 24 else f"+{hours / 24:g}d"


def success_series(
    db: Database, view: LedgerView, plan: StagePlan, criterion: str, profile: Profile
) -> SuccessSeries:
    """This run's Query 1 plus earlier checkpoints of the same criterion from the ledger."""
    window = stage_window(view, plan)
    # Query 1's 24 h window, never reaching back before the stage started
    query_window = Window(
        max(window.start or window.end, window.end - timedelta(hours=24)), window.end
    )
    current = imports.read_success(db, query_window, profile.stuck_after_minutes)
    earlier = view.checkpoint_values(criterion)
    tolerance = timedelta(minutes=profile.checkpoint_tolerance_minutes)
    readings = []
    not_due = []
    assert window.start is not None
    for offset in plan.checkpoints:
        due = window.start + offset
        label = _label(offset)
        if due > window.end:
            not_due.append(label)
            continue
        if due <= window.end <= due + tolerance:
            readings.append(
                CheckpointReading(
                    label,
                    due,
                    window.end,
                    current.as_record(),
                    "this run",
                    reconstructed=utc_now() - window.end > tolerance,
                )
            )
            continue
        matches = [
            v for v in earlier if due <= v.as_of <= due + tolerance and "current" in v.details
        ]
        if matches:
            best = min(matches, key=lambda v: v.as_of)
            readings.append(
                CheckpointReading(
                    label,
                    due,
                    best.as_of,
                    best.details["current"],
                    "ledger",
                    reconstructed=best.recorded_at - best.as_of > tolerance,
                )
            )
        else:
            readings.append(CheckpointReading(label, due, None, None, "missing"))
    return SuccessSeries(window, tuple(readings), current, tuple(not_due))


# -- other measurements -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StuckStatus:
    window: Window
    stuck_now: tuple[imports.StuckImport, ...]
    resolved_late: int  # completed in the window, but only after being stuck past the allowance


def stuck_status(db: Database, view: LedgerView, plan: StagePlan, profile: Profile) -> StuckStatus:
    window = stage_window(view, plan)
    stuck = imports.read_stuck(db, window.end, profile.stuck_after_minutes)
    durations = imports.read_durations(db, window)
    limit = profile.stuck_after_minutes + profile.stuck_resolved_within_minutes
    late = sum(n for minutes, n in durations.bins.items() if minutes > limit)
    return StuckStatus(window, tuple(stuck), late)


@dataclass(frozen=True, slots=True)
class ErrorSignatures:
    window: Window
    signatures: tuple[Signature, ...]
    query_sha256: str = ""


def error_signatures(
    db: Database, view: LedgerView, plan: StagePlan, profile: Profile
) -> ErrorSignatures:
    window = stage_window(view, plan)
    patterns = imports.read_error_patterns(db, window)
    rows = [(p.text, p.count, p.users) for p in patterns]
    return ErrorSignatures(window, tuple(classify(rows, profile)))


@dataclass(frozen=True, slots=True)
class NewErrorPatterns:
    current: ErrorSignatures
    baseline: frozenset[str] | None  # stage 1's signatures from the ledger (None: missing)


def new_error_patterns(
    db: Database, view: LedgerView, plan: StagePlan, profile: Profile
) -> NewErrorPatterns:
    current = error_signatures(db, view, plan, profile)
    baseline = _latest_details(view, "stage1.systemic_errors", "signatures")
    return NewErrorPatterns(current, None if baseline is None else frozenset(baseline))


def _latest_details(view: LedgerView, criterion: str, key: str) -> Any:
    values = [v for v in view.checkpoint_values(criterion) if key in v.details]
    return max(values, key=lambda v: v.as_of).details[key] if values else None


@dataclass(frozen=True, slots=True)
class DurationSlices:
    window: Window
    slices: tuple[imports.Durations, ...]


def duration_slices(
    db: Database, view: LedgerView, plan: StagePlan, every: timedelta | None
) -> DurationSlices:
    """Query 3 over the stage window, or over each `every`-long slice of it (stage 3: 3 days)."""
    window = stage_window(view, plan)
    start = window.start or window.end
    bounds = [start]
    while every is not None and bounds[-1] + every < window.end:
        bounds.append(bounds[-1] + every)
    edges = [*bounds, window.end]
    slices = tuple(
        imports.read_durations(db, Window(a, b)) for a, b in zip(edges, edges[1:], strict=False)
    )
    return DurationSlices(window, slices)


@dataclass(frozen=True, slots=True)
class DurationComparison:
    current: imports.Durations
    baseline_bins: dict[float, int] | None


def duration_comparison(db: Database, view: LedgerView, plan: StagePlan) -> DurationComparison:
    current = imports.read_durations(db, stage_window(view, plan))
    bins = _latest_details(view, "stage1.duration", "bins")
    baseline = None if bins is None else {float(k): int(v) for k, v in bins.items()}
    return DurationComparison(current, baseline)


@dataclass(frozen=True, slots=True)
class Complaints:
    window: Window
    attestations: tuple[tuple[datetime, datetime, int, str], ...]


def complaints(view: LedgerView, plan: StagePlan) -> Complaints:
    return Complaints(stage_window(view, plan), tuple(view.complaint_attestations()))


@dataclass(frozen=True, slots=True)
class Traffic:
    window: Window
    hours: tuple[imports.HourCount, ...]


def traffic(db: Database, view: LedgerView, plan: StagePlan) -> Traffic:
    window = stage_window(view, plan)
    return Traffic(window, tuple(imports.read_timeline(db, window)))


@dataclass(frozen=True, slots=True)
class RlmStability:
    window: Window
    logs: RlmLogCounts
    metrics: MetricSeries
    check_cpu: bool


@dataclass(frozen=True, slots=True)
class RoutingSplit:
    window: Window
    percent: int
    counts: RoutingCounts


@dataclass(frozen=True, slots=True)
class V1Traffic:
    window: Window
    logs: RlmLogCounts
    required: timedelta  # how long the window must be (24 h in stage 3, 7 days in stage 4)


@dataclass(frozen=True, slots=True)
class Rollbacks:
    window: Window
    rollbacks: tuple[tuple[datetime, str], ...]


def rollbacks(view: LedgerView, plan: StagePlan) -> Rollbacks:
    start = stage_window(view, plan).start or view.as_of
    return Rollbacks(Window(start, view.as_of), tuple(view.rollbacks_since(start)))


# -- file-backed measurements ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exports:
    """Where the exported router log, RLM log and metrics are (None: not configured)."""

    router_logs: Path | None
    rlm_logs: Path | None
    rlm_metrics: Path | None
    router_log_date: date | None = None  # for `vercel logs` text exports (no year, no zone)
    router_log_tz: tzinfo | None = None

    def count_routing(self, start: datetime, end: datetime) -> RoutingCounts:
        return count_routing(
            self.need("router_logs"),
            start,
            end,
            text_date=self.router_log_date,
            text_tz=self.router_log_tz,
        )

    def need(self, name: str) -> Path:
        path: Path | None = getattr(self, name)
        if path is None:
            setting = name.replace("_", "-")
            raise SourceUnavailable(
                name.replace("_", " "),
                f"CUTOVER_{name.upper()} / --{setting} is not set: this criterion reads it",
            )
        return path


def rlm_stability(view: LedgerView, plan: StagePlan, exports: Exports) -> RlmStability:
    window = stage_window(view, plan)
    start = window.start or window.end
    logs = scan_rlm_log(exports.need("rlm_logs"), start, window.end)
    metrics = read_metrics_csv(exports.need("rlm_metrics"), start, window.end)
    return RlmStability(window, logs, metrics, check_cpu=plan.number >= 2)


def routing_split(view: LedgerView, plan: StagePlan, exports: Exports) -> RoutingSplit:
    window = stage_window(view, plan)
    counts = exports.count_routing(window.start or window.end, window.end)
    return RoutingSplit(window, plan.percent, counts)


def v1_traffic(view: LedgerView, plan: StagePlan, exports: Exports, span: timedelta) -> V1Traffic:
    """The last `span` (24 h in stage 3, 7 days in stage 4), within the stage."""
    window = stage_window(view, plan)
    start = max(window.start or window.end, window.end - span)
    logs = scan_rlm_log(exports.need("rlm_logs"), start, window.end)
    return V1Traffic(Window(start, window.end), logs, span)
