"""Measurements for the stage gates from the database and the ledger, over the stage window:
from the stage's start to the instant measured (or to when the stage ended)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cutover.errors import SourceUnavailable
from cutover.ledger.view import LedgerView, StageRun
from cutover.measure.inputs import Inputs
from cutover.measure.set_aside import SetAside, set_aside
from cutover.outcome import Window
from cutover.profile import StagePlan
from cutover.sources import imports
from cutover.timeutil import iso


@dataclass(frozen=True, slots=True)
class StageProgress:
    plan: StagePlan
    started: datetime | None  # the stage's latest start at or before the instant
    ended: datetime | None  # a later stage start or rollback, if any
    ended_by: str
    current: StageRun | None
    as_of: datetime
    hundred_percent_since: datetime | None = None  # stage 4: when 100% began (stage 3 start)


def progress_of(view: LedgerView, plan: StagePlan, full_stage: int = 3) -> StageProgress:
    """The stage's span as the ledger view orders events; `full_stage`: the first stage at
    100% (stage 4 counts its days at 100% from its start)."""
    span = view.stage_span(plan.number)
    return StageProgress(
        plan=plan,
        started=None if span is None else span.started,
        ended=None if span is None else span.ended,
        ended_by="" if span is None else span.ended_by,
        current=view.current_stage(),
        as_of=view.as_of,
        hundred_percent_since=view.stage_started(full_stage),
    )


def stage_window(view: LedgerView, plan: StagePlan) -> Window:
    """From the stage's start to the instant (or to when the stage ended); no start: unavailable."""
    progress = progress_of(view, plan)
    if progress.started is None:
        raise SourceUnavailable(
            f"ledger (stage {plan.number})",
            f"no stage {plan.number} start at or before {iso(view.as_of)}; record it with "
            f"`cutover stage start {plan.number} --at <when it started>`",
        )
    end = min(view.as_of, progress.ended) if progress.ended else view.as_of
    return Window(progress.started, end)


def window_of(inputs: Inputs, criterion: str) -> Window:
    return stage_window(inputs.ledger(), inputs.plan(criterion))


def stage_progress(inputs: Inputs, criterion: str) -> StageProgress:
    full = min(p.number for p in inputs.profile.stages if p.percent == 100)
    return progress_of(inputs.ledger(), inputs.plan(criterion), full)


def imports_started(inputs: Inputs, window: Window) -> int:
    """How many v2 imports the table shows started in the window: none means nothing to judge
    (no traffic, an empty table, or rows this role's row-level security hides)."""
    counts = imports.read_success(inputs.database(), window, inputs.profile.stuck_after_minutes)
    return counts.total


@dataclass(frozen=True, slots=True)
class StuckStatus:
    window: Window
    stuck_now: tuple[imports.StuckImport, ...]
    completed_minutes: dict[float, int]  # durations of imports completed in the window (bins)
    started: int  # v2 imports started in the window


def stuck_status(inputs: Inputs, criterion: str) -> StuckStatus:
    window = window_of(inputs, criterion)
    profile, db = inputs.profile, inputs.database()
    stuck = imports.read_stuck(db, window.end, profile.stuck_after_minutes)
    durations = imports.read_durations(db, window, profile.slow_import_minutes)
    return StuckStatus(window, tuple(stuck), durations.bins, imports_started(inputs, window))


@dataclass(frozen=True, slots=True)
class ErrorPatterns:
    """Query 4's rows over the stage window: error texts, counts, users, first and last seen
    (unjudged); what the evidence rules read: failures by hour, imports started (in all and by
    hour), and the signatures people classified in the ledger."""

    window: Window
    patterns: tuple[imports.ErrorPattern, ...]
    started: int  # v2 imports started in the window
    hours: tuple[imports.ErrorHour, ...] = ()
    started_by_hour: tuple[imports.HourCount, ...] = ()
    classified: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    more_texts_than: int | None = None  # set when the table has more distinct texts than read


def error_patterns(inputs: Inputs, criterion: str) -> ErrorPatterns:
    window = window_of(inputs, criterion)
    db = inputs.database()
    most = inputs.profile.error_texts_max_rows
    # one row past the limit tells a complete list from a cut one
    patterns = tuple(imports.read_error_patterns(db, window, most + 1))
    hours = tuple(imports.read_error_hours(db, window)) if patterns else ()
    timeline = tuple(imports.read_timeline(db, window)) if patterns else ()
    classified = inputs.ledger().signature_classifications()
    return ErrorPatterns(
        window,
        patterns[:most],
        imports_started(inputs, window),
        hours,
        timeline,
        classified,
        more_texts_than=most if len(patterns) > most else None,
    )


@dataclass(frozen=True, slots=True)
class NewErrorPatterns:
    current: ErrorPatterns
    baseline: frozenset[str] | None  # stage 1's signatures from the ledger (None: missing)
    set_aside: tuple[SetAside, ...] = ()  # stage 1 checkpoints left out of the baseline


def new_error_patterns(inputs: Inputs, criterion: str) -> NewErrorPatterns:
    current = error_patterns(inputs, criterion)
    view, baseline_of = inputs.ledger(), "stage1.systemic_errors"
    baseline = latest_details(view, baseline_of, "signatures")
    return NewErrorPatterns(
        current,
        None if baseline is None else frozenset(baseline),
        set_aside(view, baseline_of),
    )


def latest_details(view: LedgerView, criterion: str, key: str) -> Any:
    """`details[key]` of the latest checkpoint of `criterion` that recorded one (None: none)."""
    values = [v for v in view.checkpoint_values(criterion) if key in v.details]
    return max(values, key=lambda v: v.as_of).details[key] if values else None


@dataclass(frozen=True, slots=True)
class DurationSlices:
    window: Window
    slices: tuple[imports.Durations, ...]


def duration_slices(inputs: Inputs, criterion: str) -> DurationSlices:
    """Query 3 over the stage window; in stage 3 over each slice of the profile's length."""
    plan = inputs.plan(criterion)
    window = window_of(inputs, criterion)
    every = (
        timedelta(hours=inputs.profile.stage3_duration_every_hours) if plan.number == 3 else None
    )
    start = window.start or window.end
    bounds = [start]
    while every is not None and bounds[-1] + every < window.end:
        bounds.append(bounds[-1] + every)
    edges = [*bounds, window.end]
    db, slow = inputs.database(), inputs.profile.slow_import_minutes
    slices = tuple(
        imports.read_durations(db, Window(a, b), slow)
        for a, b in zip(edges, edges[1:], strict=False)
    )
    return DurationSlices(window, slices)


@dataclass(frozen=True, slots=True)
class DurationComparison:
    current: imports.Durations
    baseline_bins: dict[float, int] | None
    # stage 1's imports still running past the slow limit at its checkpoint, by age
    baseline_in_flight: dict[float, int] = field(default_factory=dict)
    set_aside: tuple[SetAside, ...] = ()  # stage 1 checkpoints left out of the baseline


def duration_comparison(inputs: Inputs, criterion: str) -> DurationComparison:
    window, slow = window_of(inputs, criterion), inputs.profile.slow_import_minutes
    current = imports.read_durations(inputs.database(), window, slow)
    view = inputs.ledger()
    bins = latest_details(view, "stage1.duration", "bins")
    baseline = None if bins is None else {float(k): int(v) for k, v in bins.items()}
    running = latest_details(view, "stage1.duration", "in_flight_slow_bins") or {}
    in_flight = {float(k): int(v) for k, v in running.items()}
    in_flight = in_flight if baseline is not None else {}
    return DurationComparison(current, baseline, in_flight, set_aside(view, "stage1.duration"))


Attested = tuple[datetime, datetime, int, str]  # (since, until, count, by)


@dataclass(frozen=True, slots=True)
class Complaints:
    window: Window
    attestations: tuple[Attested, ...]


def complaints(inputs: Inputs, criterion: str) -> Complaints:
    view = inputs.ledger()
    window = stage_window(view, inputs.plan(criterion))
    return Complaints(window, tuple(view.complaint_attestations()))


@dataclass(frozen=True, slots=True)
class Traffic:
    window: Window
    hours: tuple[imports.HourCount, ...]


def traffic(inputs: Inputs, criterion: str) -> Traffic:
    window = window_of(inputs, criterion)
    return Traffic(window, tuple(imports.read_timeline(inputs.database(), window)))


@dataclass(frozen=True, slots=True)
class Rollbacks:
    window: Window
    rollbacks: tuple[tuple[datetime, str], ...]


def rollbacks(inputs: Inputs, criterion: str) -> Rollbacks:
    view = inputs.ledger()
    start = stage_window(view, inputs.plan(criterion)).start or view.as_of
    return Rollbacks(Window(start, view.as_of), tuple(view.rollbacks_since(start)))
