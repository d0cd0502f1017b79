"""`cutover status` as a pure function: the ledger view (one target, as of an instant), the
profile and what is wrong with the source settings in; a `Status` out, ending in the one next step.

The next step, in order: roll back when any run of the stage asked for it (its gate, at a
checkpoint or between them, or the rollback triggers; a later passing run takes none back); act
on the stage's gate run once its time has run (PROCEED: the next stage); run an interim
checkpoint due now, else backfill the earliest missed one; before the gate's own run, classify
what is unclassified and attest the complaints; else classify now; else wait for the next
checkpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cutover.criteria.registry import CRITERIA
from cutover.ledger.view import LedgerView
from cutover.overrides import in_force
from cutover.profile import Profile, StagePlan
from cutover.status.commands import Commands
from cutover.status.gaps import LiveStream, missing_for_gate, recorded_rate_below, sample_needs
from cutover.status.model import (
    ATTESTATION,
    DUE,
    MISSED,
    SIGNATURE,
    UPCOMING,
    CheckpointState,
    Earliest,
    GateRun,
    Missing,
    Status,
)
from cutover.status.schedule import (
    StageRecord,
    checkpoint_states,
    gate_run,
    rollback_asks,
    runs_of,
    selects,
)
from cutover.timeutil import iso

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class StatusInputs:
    view: LedgerView
    profile: Profile
    target: str  # live | seeded
    scenario: str | None = None
    explicit_as_of: bool = False  # the status was asked with --as-of: commands carry it
    # source setting -> what is wrong with it (unset, a missing export) for a live gate run
    sources: Mapping[str, str] = field(default_factory=dict)
    live: LiveStream | None = None  # --db

    @property
    def commands(self) -> Commands:
        return Commands(self.target, self.scenario, self.view.as_of, self.explicit_as_of)


def build_status(inputs: StatusInputs) -> Status:
    view, profile = inputs.view, inputs.profile
    rollbacks = tuple((r.at, r.reason) for _, r in view.rollbacks())
    base: dict[str, Any] = dict(
        as_of=view.as_of,
        target=inputs.target,
        scenario=inputs.scenario,
        rollbacks=rollbacks,
        waivers=waivers_in_force(view),
    )
    current = view.current_stage()
    if current is None:
        headline, step = _between_stages(inputs)
        return Status(
            **base,
            stage=None,
            checkpoints=(),
            gate=None,
            missing=(),
            earliest=None,
            next=step,
            headline=headline,
        )
    plan = profile.stage(current.stage)
    started = current.started
    bound, bound_reason = elapsed_bound(plan, view, profile, started)
    commands = inputs.commands
    checkpoints = checkpoint_states(plan, started, view, profile, commands)
    gate = gate_run(plan, bound, view, started)
    missing = missing_for_gate(plan, started, bound, view, profile, commands, inputs.sources)
    earliest = _earliest(plan, started, bound, bound_reason, inputs)
    asks = rollback_asks(plan, view, started)
    step = next_step(plan, checkpoints, gate, missing, bound, commands, asks)
    if plan.number == 4 and gate is not None and gate.verdict == "PROCEED" and not asks:
        step = _v1_removed(view, gate) or step
    return Status(
        **base,
        stage=current,
        checkpoints=checkpoints,
        gate=gate,
        missing=tuple(missing),
        earliest=earliest,
        next=step,
    )


def waivers_in_force(view: LedgerView) -> tuple[str, ...]:
    """Each criterion's waiver in force at the instant, as the gates would apply it."""
    found = []
    for criterion in sorted(CRITERIA):
        waiver = in_force(view.waivers(criterion), view.as_of)
        if waiver is None:
            continue
        line, w = waiver
        until = "no end" if w.until is None else f"until {iso(w.until)}"
        forced = ", forced" if w.forced else ""
        found.append(f"{criterion} by {w.by} {until}{forced} (line {line}): {w.reason}")
    return tuple(found)


def elapsed_bound(
    plan: StagePlan, view: LedgerView, profile: Profile, started: datetime
) -> tuple[datetime, str]:
    """When the stage's time has run: its duration; stage 4 also the profile's days at 100% in
    all, counted from stage 3's start."""
    bound = started + plan.duration
    hours = plan.duration.total_seconds() / 3600
    reason = f"{hours:g} h at {plan.percent}% since {iso(started)}"
    full_since = view.stage_started(3)
    if plan.number == 4 and full_since is not None:
        days = profile.days_at_100_before_removal
        at_100 = full_since + timedelta(days=days)
        if at_100 > bound:
            bound, reason = at_100, f"{days:g} days at 100% since stage 3 started {iso(full_since)}"
    return bound, reason


def _earliest(
    plan: StagePlan, started: datetime, bound: datetime, reason: str, inputs: StatusInputs
) -> Earliest:
    view = inputs.view
    needs = tuple(sample_needs(plan, started, view, inputs.profile, inputs.live))
    known = bool(needs) or not _needs_samples(plan)
    at = max(bound, view.as_of)  # never an instant already past: once due, the gate can pass now
    for need in needs:
        if need.hours is None:
            known = False
        elif need.more:
            at = max(at, view.as_of + timedelta(hours=need.hours))
    below = recorded_rate_below(view, plan, inputs.profile)
    note = (
        ""
        if below is None
        else f"the recorded success rate {below:g}% is below "
        f"{inputs.profile.success_rate_min_pct:g}%: no sample size makes it pass"
    )
    if not needs and _needs_samples(plan):
        note = note or "no checkpoint has recorded a sample yet: its rate is not known"
    return Earliest(bound, reason, at, known and below is None, needs, note)


def _needs_samples(plan: StagePlan) -> bool:
    return plan.number <= 3


def next_step(
    plan: StagePlan,
    checkpoints: Sequence[CheckpointState],
    gate: GateRun | None,
    missing: Sequence[Missing],
    bound: datetime,
    commands: Commands,
    asks: Sequence[StageRecord] = (),
) -> str:
    marker = f"stage{plan.number}_gate"
    if asks:  # any run of the stage that asked for a rollback: the runbook says now
        return commands.rollback(rollback_reason(plan, asks, checkpoints, bound))
    if gate is not None and gate.verdict == "PROCEED":
        if plan.number < 4:
            return commands.stage_start(plan.number + 1)
        return commands.gate("v1_removal")  # once v1 is removed (runbook 4.4)
    due = [c for c in checkpoints if c.state == DUE]
    missed = [c for c in checkpoints if c.state == MISSED]
    run = next(iter(due or missed), None)
    if run is not None and not run.final:
        return run.command
    # the gate's own run is next (due, missed, or its time has run), or nothing is due
    classify = [m.command for m in missing if m.kind == SIGNATURE]
    if classify:
        return classify[0]
    if run is not None or commands.as_of >= bound:
        attest = [m.command for m in missing if m.kind == ATTESTATION]
        if attest:
            return attest[0]
        return run.command if run is not None else commands.gate(marker)
    upcoming = [c.due for c in checkpoints if c.state == UPCOMING]
    return f"wait until {iso(min(upcoming, default=bound))}"


def _v1_removed(view: LedgerView, gate: GateRun) -> str | None:
    """The end state: a whole `v1_removal` run that proceeded after stage 4's gate did."""
    removed = [
        r
        for r in runs_of("v1_removal", view, gate.as_of)
        if not r.partial and r.verdict.action.name == "PROCEED"
    ]
    if not removed:
        return None
    return (
        f"done: the cutover is complete (stage 4 gate, ledger line {gate.line}; v1's removal "
        f"verified, ledger line {removed[-1].line})"
    )


def rollback_reason(
    plan: StagePlan,
    asks: Sequence[StageRecord],
    checkpoints: Sequence[CheckpointState],
    bound: datetime,
) -> str:
    """The reason a suggested rollback records: the earliest run that asked for it (the gate,
    a checkpoint, or another run named by its selection and instant), what asked, and how many
    later runs asked too."""
    first = asks[0]
    of_gate = selects(first.record.selection, f"stage{plan.number}_gate")
    slot = next((c.label for c in checkpoints if c.line == first.line), None)
    if of_gate and first.as_of >= bound and not first.partial:
        what = "gate"
    elif slot is not None:
        what = f"checkpoint {slot}"
    elif of_gate:
        what = f"gate run as of {iso(first.as_of)}"
    else:  # rollback_asks keeps the stage's gate runs and the triggers' runs only
        what = f"rollback triggers as of {iso(first.as_of)}"
    more = f"; {len(asks) - 1} later run(s) asked too" if len(asks) > 1 else ""
    asked = ", ".join(first.asked_rollback) or ", ".join(first.verdict.not_passed)
    return f"stage {plan.number} {what} (ledger line {first.line}): {asked}{more}"


def _between_stages(inputs: StatusInputs) -> tuple[str, str]:
    """Before stage 1, or after a rollback: what stands and what comes next."""
    view, commands = inputs.view, inputs.commands
    last = view.last_rollback()
    if last is not None:
        at, reason = last
        verified = [
            r for r in runs_of("rollback_verify", view, at) if r.verdict.action.name == "PROCEED"
        ]
        headline = f"rolled back at {iso(at)}: {reason}"
        if not verified:
            return headline + "; the rollback is not verified yet", commands.gate("rollback_verify")
        line = verified[-1].line
        return headline + f"; verified (ledger line {line})", commands.stage_start(1)
    prereqs = [r for r in runs_of("prereq", view, _EPOCH) if r.verdict.action.name == "PROCEED"]
    if not prereqs:
        return "no stage started; the prerequisites have not passed", commands.gate("prereq")
    headline = f"no stage started; the prerequisites passed (ledger line {prereqs[-1].line})"
    return headline, commands.stage_start(1)
