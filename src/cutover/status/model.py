"""What `cutover status` says, as plain data: where the rollout stands, which checkpoints are
done, due, missed or upcoming, what the gate still lacks, when it could pass at the earliest,
and the one next step. `to_json` is the documented form (`status.schema.json`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cutover.ledger.view import StageRun
from cutover.timeutil import iso

#: the states of a scheduled checkpoint
DONE, DUE, MISSED, UPCOMING = "done", "due", "missed", "upcoming"
#: the kinds of what the gate still lacks
ATTESTATION, SIGNATURE, COVERAGE, SOURCE = "attestation", "signature", "coverage", "source"


@dataclass(frozen=True, slots=True)
class CheckpointState:
    """One checkpoint of the stage's schedule as of the instant.

    done: `line` is the ledger line of the run that recorded it, `verdict` that run's
    (PROCEED | HOLD | ROLLBACK) and `summary` what did not pass; due and missed: `command` is the
    run that records it (a missed one backfills it with `--as-of` its due time)."""

    label: str  # "+6h"
    due: datetime
    state: str  # DONE | DUE | MISSED | UPCOMING
    final: bool  # the stage's last checkpoint: the gate
    line: int | None = None
    measured_at: datetime | None = None
    verdict: str = ""
    summary: str = ""
    command: str = ""
    note: str = ""  # e.g. stage 3's Query 3 slice that ends there


@dataclass(frozen=True, slots=True)
class Missing:
    """Something the gate needs that the evidence does not hold yet, and the command that
    supplies it ("" when no command can: a log export with a gap must be exported again)."""

    kind: str  # ATTESTATION | SIGNATURE | COVERAGE | SOURCE
    what: str
    command: str = ""


@dataclass(frozen=True, slots=True)
class SampleNeed:
    """A minimum sample a criterion of the gate still lacks: `more` observations beyond the
    `have` of `need`, and at the rate seen so far (`per_hour`, None: not known) `hours`."""

    criterion: str
    unit: str  # "settled imports", "routed requests"
    have: int
    need: int
    per_hour: float | None
    source: str  # "ledger line N" | "database (--db)"

    @property
    def more(self) -> int:
        return max(0, self.need - self.have)

    @property
    def hours(self) -> float | None:
        if self.more == 0:
            return 0.0
        if not self.per_hour:
            return None
        return self.more / self.per_hour


@dataclass(frozen=True, slots=True)
class Earliest:
    """The earliest instant the gate can pass if nothing fails: the elapsed-time bound, pushed
    later by any minimum sample whose rate is known (`at`); `known` is False when a sample's
    rate is not known yet, so `at` is only a lower bound."""

    elapsed: datetime
    elapsed_reason: str
    at: datetime
    known: bool
    needs: tuple[SampleNeed, ...] = ()
    note: str = ""  # e.g. a rate below its threshold, which no sample size fixes


@dataclass(frozen=True, slots=True)
class GateRun:
    """The latest whole run of the stage's gate after its time had run."""

    line: int
    as_of: datetime
    verdict: str
    not_passed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Status:
    as_of: datetime
    target: str  # live | seeded
    scenario: str | None
    stage: StageRun | None  # the stage in force
    rollbacks: tuple[tuple[datetime, str], ...]  # every rollback by the instant
    checkpoints: tuple[CheckpointState, ...]
    gate: GateRun | None
    missing: tuple[Missing, ...]
    earliest: Earliest | None
    next: str  # a command, or "wait until <ISO time>"
    headline: str = ""  # what stands instead of a stage (before stage 1, after a rollback)
    # the waivers in force at the instant (`cutover waive`), as the gates would apply them
    waivers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        stage = self.stage
        earliest = self.earliest
        return {
            "as_of": iso(self.as_of),
            "target": self.target,
            "scenario": self.scenario,
            "stage": None
            if stage is None
            else {"number": stage.stage, "percent": stage.percent, "since": iso(stage.started)},
            "headline": self.headline,
            "rollbacks": [{"at": iso(at), "reason": reason} for at, reason in self.rollbacks],
            "checkpoints": [_checkpoint_json(c) for c in self.checkpoints],
            "gate": None
            if self.gate is None
            else {
                "line": self.gate.line,
                "as_of": iso(self.gate.as_of),
                "verdict": self.gate.verdict,
                "not_passed": list(self.gate.not_passed),
            },
            "missing": [
                {"kind": m.kind, "what": m.what, "command": m.command} for m in self.missing
            ],
            "earliest": None if earliest is None else _earliest_json(earliest),
            "waivers": list(self.waivers),
            "next": self.next,
        }


def _checkpoint_json(c: CheckpointState) -> dict[str, Any]:
    return {
        "label": c.label,
        "due": iso(c.due),
        "state": c.state,
        "final": c.final,
        "line": c.line,
        "measured_at": None if c.measured_at is None else iso(c.measured_at),
        "verdict": c.verdict,
        "summary": c.summary,
        "command": c.command,
        "note": c.note,
    }


def _earliest_json(e: Earliest) -> dict[str, Any]:
    return {
        "elapsed": iso(e.elapsed),
        "elapsed_reason": e.elapsed_reason,
        "at": iso(e.at),
        "known": e.known,
        "needs": [
            {
                "criterion": n.criterion,
                "unit": n.unit,
                "have": n.have,
                "need": n.need,
                "more": n.more,
                "per_hour": None if n.per_hour is None else round(n.per_hour, 2),
                "hours": None if n.hours is None else round(n.hours, 2),
                "source": n.source,
            }
            for n in e.needs
        ],
        "note": e.note,
    }
