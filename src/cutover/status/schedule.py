"""The stage's checkpoints as of an instant, from the profile's schedule (`StagePlan.checkpoints`)
and the ledger's checkpoint records: done, due now, missed or upcoming. A checkpoint is done when
a run of the stage's gate measured it within the profile's tolerance after it fell due and
recorded what later runs read (the stage's success rate, where its gate holds one): the rule
`measure.checkpoints` reads earlier checkpoints by. Pure: reads the view it is given."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cutover.criteria.stage import STAGE_GATES
from cutover.evidence.verdict import RunVerdict, run_verdict
from cutover.ledger import records
from cutover.ledger.view import LedgerView
from cutover.measure.checkpoints import checkpoint_label
from cutover.profile import Profile, StagePlan
from cutover.report.model import Checkpoint
from cutover.status.commands import Commands
from cutover.status.model import DONE, DUE, MISSED, UPCOMING, CheckpointState, GateRun


@dataclass(frozen=True, slots=True)
class StageRecord:
    """A checkpoint record of the stage's gate, with the verdict its run reached."""

    line: int
    record: records.Checkpoint
    verdict: RunVerdict
    partial: bool

    @property
    def as_of(self) -> datetime:
        assert self.record.as_of is not None  # LedgerView.checkpoints keeps measured ones only
        return self.record.as_of

    def summary(self) -> str:
        return ", ".join(self.verdict.not_passed) or "every criterion passed"


def runs_of(marker: str, view: LedgerView, since: datetime) -> list[StageRecord]:
    """The checkpoint records of runs that selected `marker`, measured since `since`."""
    found = []
    for line, record in view.checkpoints():
        if record.as_of is None or record.as_of < since or not selects(record.selection, marker):
            continue
        shown = Checkpoint.of(line, record)
        verdict = run_verdict(
            shown.recorded(), selection=shown.selection, seeded=shown.seeded, partial=shown.partial
        )
        found.append(StageRecord(line, record, verdict, bool(shown.partial)))
    return found


def selects(selection: str, marker: str) -> bool:
    """Whether a run's marker expression (`stage1_gate`, `stage1_gate or rollback`) selects
    `marker` (and does not exclude it)."""
    return re.search(rf"(?<!not )\b{re.escape(marker)}\b", selection) is not None


def _reads(plan: StagePlan, run: StageRecord) -> bool:
    """Whether a run recorded what the gate's later runs read of a checkpoint."""
    if "success_rate" in STAGE_GATES.get(plan.number, ()):
        result = run.record.result(f"stage{plan.number}.success_rate")
        return result is not None and result.details is not None and "current" in result.details
    return any(r.criterion.startswith(f"stage{plan.number}.") for r in run.record.results)


def checkpoint_states(
    plan: StagePlan,
    started: datetime,
    view: LedgerView,
    profile: Profile,
    commands: Commands,
) -> tuple[CheckpointState, ...]:
    marker = f"stage{plan.number}_gate"
    tolerance = timedelta(minutes=profile.checkpoint_tolerance_minutes)
    runs = [r for r in runs_of(marker, view, started) if _reads(plan, r)]
    last = max(plan.checkpoints, default=timedelta(0))
    states = []
    for offset in plan.checkpoints:
        due = started + offset
        label, final = checkpoint_label(offset), offset == last
        note = _note(plan, offset, profile)
        measured = [r for r in runs if due <= r.as_of <= due + tolerance]
        if measured:
            run = min(measured, key=lambda r: (r.as_of, -r.line))
            states.append(
                CheckpointState(
                    label,
                    due,
                    DONE,
                    final,
                    line=run.line,
                    measured_at=run.as_of,
                    verdict=run.verdict.action.name,
                    summary=run.summary(),
                    note=note,
                )
            )
        elif view.as_of < due:
            states.append(CheckpointState(label, due, UPCOMING, final, note=note))
        elif view.as_of <= due + tolerance:
            command = commands.gate(marker)
            states.append(CheckpointState(label, due, DUE, final, command=command, note=note))
        else:
            command = commands.gate(marker, at=due)
            states.append(CheckpointState(label, due, MISSED, final, command=command, note=note))
    return tuple(states)


def _note(plan: StagePlan, offset: timedelta, profile: Profile) -> str:
    """Stage 3 reads Query 3 every `stage3_duration_every_hours`: where a slice ends."""
    every = profile.stage3_duration_every_hours
    hours = offset.total_seconds() / 3600
    if plan.number == 3 and hours > 0 and hours % every == 0:
        return f"Query 3 slice ends (every {every:g} h)"
    return ""


def gate_run(
    plan: StagePlan, bound: datetime, view: LedgerView, started: datetime
) -> GateRun | None:
    """The latest whole run of the stage's gate measured once its time had run (`bound`)."""
    whole = [
        r
        for r in runs_of(f"stage{plan.number}_gate", view, started)
        if not r.partial and r.as_of >= bound
    ]
    if not whole:
        return None
    latest = max(whole, key=lambda r: (r.as_of, r.line))
    return GateRun(latest.line, latest.as_of, latest.verdict.action.name, latest.verdict.not_passed)
