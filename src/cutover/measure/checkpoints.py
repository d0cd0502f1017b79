"""The success rate over a stage's checkpoints: this run's Query 1, and the earlier
checkpoints' readings from the ledger (`user_profiles` keeps no history)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cutover.ledger.view import CheckpointValue
from cutover.measure.inputs import Inputs
from cutover.measure.set_aside import SetAside, set_aside
from cutover.measure.stage import stage_window
from cutover.outcome import Window
from cutover.sources import imports
from cutover.timeutil import iso, utc_now


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
    # the stage's imports from its start to the instant: the stream the confidence sequence
    # covers (None: not read; the criterion then uses this run's Query 1 counts)
    stream: imports.SuccessCounts | None = None
    set_aside: tuple[SetAside, ...] = ()  # the stage's earlier checkpoints left out


def stream_record(stream: imports.SuccessCounts) -> dict[str, Any]:
    """The stage-to-date counts a checkpoint records for later runs' sequences."""
    return {
        "since": iso(stream.window.start),
        "complete": stream.complete,
        "failed": stream.failed,
        "settled": stream.settled,
    }


def checkpoint_label(offset: timedelta) -> str:
    """`+6h`, `+36h`, `+3d`: hours up to two days, then whole days."""
    hours = offset.total_seconds() / 3600
    return f"+{hours:g}h" if hours < 48 or hours % 24 else f"+{hours / 24:g}d"


def success_series(inputs: Inputs, criterion: str) -> SuccessSeries:
    """This run's Query 1 plus earlier checkpoints of the same criterion from the ledger."""
    profile, view, plan = inputs.profile, inputs.ledger(), inputs.plan(criterion)
    window = stage_window(view, plan)
    start = window.start or window.end
    # Query 1's own window, never reaching back before the stage started
    span = timedelta(hours=profile.query_window_hours)
    query_window = Window(max(start, window.end - span), window.end)
    db, stuck_after = inputs.database(), profile.stuck_after_minutes
    current = imports.read_success(db, query_window, stuck_after)
    stream = current if query_window == window else imports.read_success(db, window, stuck_after)
    earlier = view.checkpoint_values(criterion)
    tolerance = timedelta(minutes=profile.checkpoint_tolerance_minutes)
    readings: list[CheckpointReading] = []
    not_due: list[str] = []
    for offset in plan.checkpoints:
        due, label = start + offset, checkpoint_label(offset)
        if due > window.end:
            not_due.append(label)
        elif due <= window.end <= due + tolerance:
            reconstructed = utc_now() - window.end > tolerance
            record = {**current.as_record(), "stream": stream_record(stream)}
            readings.append(
                CheckpointReading(label, due, window.end, record, "this run", reconstructed)
            )
        else:
            readings.append(_from_ledger(label, due, earlier, tolerance))
    ignored = set_aside(view, criterion, since=start)
    return SuccessSeries(window, tuple(readings), current, tuple(not_due), stream, ignored)


def _from_ledger(
    label: str, due: datetime, earlier: list[CheckpointValue], tolerance: timedelta
) -> CheckpointReading:
    """The earliest recorded reading within the tolerance after `due`, else a missing one."""
    matches = [v for v in earlier if due <= v.as_of <= due + tolerance and "current" in v.details]
    if not matches:
        return CheckpointReading(label, due, None, None, "missing")
    best = min(matches, key=lambda v: v.as_of)
    reconstructed = best.recorded_at - best.as_of > tolerance
    return CheckpointReading(
        label, due, best.as_of, best.details["current"], "ledger", reconstructed
    )
