"""The report's data model: an evidence directory (the ledger's records and the JUnit files) as
plain data, every text redacted. `cutover.report.load` reads it; the renderers show it.

Nothing here decides a criterion: verdicts are the ones the runs recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cutover.evidence.junit import JUnitFile
from cutover.evidence.properties import RecordedResult
from cutover.evidence.verdict import RunVerdict, run_verdict
from cutover.ledger import records
from cutover.ledger.records import CriterionRecord, as_text
from cutover.outcome import Action, Outcome, Scope
from cutover.profile import Profile
from cutover.timeutil import iso, parse_instant

# Gate selections in runbook order; anything else sorts after them.
SELECTION_ORDER = (
    "prereq",
    "stage1_gate",
    "stage2_gate",
    "stage3_gate",
    "stage4_gate",
    "v1_removal",
    "rollback",
    "rollback_verify",
    "router",
)
VERDICTS = tuple(o.value for o in Outcome)


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion as a checkpoint record holds it; every text redacted."""

    criterion: str
    verdict: str
    measured: str = ""
    threshold: str = ""
    window_start: str = ""
    window_end: str = ""
    as_of: str = ""
    sample_size: str = ""
    source: str = ""
    target: str = ""
    reason: str = ""
    on_fail: str = "HOLD"
    query_sha256: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    advisory: bool = False  # the profile's `advisory`: it never changed the run's action
    waiver: str = ""  # the `waiver` a waived result carries (JSON)

    @property
    def outcome(self) -> Outcome:
        """The recorded verdict; anything unknown reads as inconclusive (never a pass)."""
        return Outcome(self.verdict) if self.verdict in VERDICTS else Outcome.INCONCLUSIVE

    @property
    def action(self) -> Action:
        """The run verdict this result alone asks for (fail: its on_fail; else HOLD)."""
        return self.recorded().action

    @property
    def window_ends(self) -> tuple[str, ...]:
        """The measured window's start and end (just the end when no start is recorded)."""
        return (self.window_start, self.window_end) if self.window_start else (self.window_end,)

    @property
    def window(self) -> str:
        """The measured window as `start → end` (or just the end)."""
        return " → ".join(self.window_ends)

    @classmethod
    def of(cls, record: CriterionRecord) -> CriterionResult:
        """A checkpoint's criterion record, every text redacted."""
        return cls(
            criterion=record.criterion,
            verdict=record.text("verdict"),
            measured=record.text("measured"),
            threshold=record.text("threshold"),
            window_start=record.text("window_start"),
            window_end=record.text("window_end"),
            as_of=record.text("as_of"),
            sample_size=record.text("sample_size"),
            source=record.text("source"),
            target=record.text("target"),
            reason=record.text("reason"),
            on_fail=record.text("on_fail") or "HOLD",
            query_sha256=record.text("query_sha256"),
            details=record.details or {},
            advisory=record.text("advisory") == "true",
            waiver=record.text("waiver"),
        )

    def recorded(self) -> RecordedResult:
        """As the run's verdict logic reads it."""
        on_fail = Action[self.on_fail] if self.on_fail in Action.__members__ else Action.HOLD
        properties = {"criterion": self.criterion, "verdict": self.verdict}
        properties |= {"advisory": "true"} if self.advisory else {}
        properties |= {"waiver": self.waiver} if self.waiver else {}
        return RecordedResult(self.criterion, self.outcome, on_fail, self.reason, properties)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint record: one run of a selection, as of an instant."""

    line: int
    selection: str
    as_of: str
    at: str
    target: str
    scenario: str | None
    results: tuple[CriterionResult, ...]
    scope: Scope | None = None  # None: a version 1 record, which did not say

    @classmethod
    def of(cls, line: int, record: records.Checkpoint) -> Checkpoint:
        """Ledger line `line`'s checkpoint record, every text redacted."""
        scenario = record.origin.scenario
        return cls(
            line=line,
            selection=as_text(record.selection) or "all gates",
            as_of=iso(record.as_of),
            at=iso(record.at),
            target=as_text(record.origin.target),
            scenario=None if scenario is None else as_text(scenario),
            results=tuple(CriterionResult.of(r) for r in record.results),
            scope=record.scope,
        )

    @property
    def seeded(self) -> bool:
        return self.target == "seeded"

    @property
    def partial(self) -> list[str]:
        """How the run was partial (`partial: N of M criteria`, and what narrowed it); empty
        when it decided its whole selection."""
        scope = self.scope
        if scope is None or not scope.partial:
            return []
        narrowed = f" ({', '.join(scope.narrowed_by)})" if scope.narrowed_by else ""
        return [scope.text() + narrowed]

    def recorded(self) -> list[RecordedResult]:
        return [r.recorded() for r in self.results]

    def result(self, criterion: str) -> CriterionResult | None:
        """The named criterion's result in this checkpoint, if it has one."""
        return next((r for r in self.results if r.criterion == criterion), None)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """A ledger record that is not a checkpoint: a stage start, a rollback, an attestation."""

    line: int
    kind: str
    at: str
    summary: str
    target: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One row of the timeline: an event or a checkpoint, at the instant it concerns."""

    line: int
    kind: str
    at: str
    summary: str
    after_as_of: bool  # later than the latest instant measured (seeded ledgers hold the plan)
    set_aside: str = ""  # a checkpoint set aside: who did and why (shown struck through)


@dataclass(frozen=True, slots=True)
class SelectionVerdict:
    """The latest checkpoint of one selection and the verdict it reconstructs."""

    selection: str
    checkpoint: Checkpoint
    verdict: RunVerdict
    errors: tuple[str, ...]  # gate tests that errored in the JUnit file of this checkpoint


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """Whether the ledger's hash chain verifies, and where it breaks."""

    ok: bool
    records: int
    line: int | None = None
    message: str = ""
    head_sha256: str = ""  # digest of the last record, to cite the ledger from outside it
    anchored: bool = True  # `ledger.head` names the last record as it is

    @property
    def state(self) -> str:
        if not self.ok:
            return f"chain BROKEN at line {self.line}"
        return "chain verified" if self.anchored else "chain verified, ANCHOR does not match"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the reports show, read from one evidence directory."""

    directory: Path
    checkpoints: tuple[Checkpoint, ...]
    events: tuple[LedgerEvent, ...]
    junit: tuple[JUnitFile, ...]
    chain: ChainStatus
    latest: tuple[SelectionVerdict, ...]
    verdict: RunVerdict
    profile: Profile
    problems: tuple[str, ...] = ()  # records that could not be read
    # checkpoint line -> "set aside by <who>: <why>" (`cutover invalidate`)
    set_aside: Mapping[int, str] = field(default_factory=dict)

    @property
    def seeded(self) -> bool:
        """Any seeded record or result: the whole report is then not production evidence."""
        return (
            any(c.seeded for c in self.checkpoints)
            or any(e.target == "seeded" for e in self.events)
            or any(c.properties.get("target") == "seeded" for f in self.junit for c in f.cases)
        )

    @property
    def decisions(self) -> tuple[LedgerEvent, ...]:
        """Every waiver and every checkpoint set aside, in ledger order."""
        return tuple(e for e in self.events if e.data.get("kind") in ("waiver", "invalidation"))

    @property
    def as_of(self) -> str:
        """The latest instant any selection was measured at."""
        return max((s.checkpoint.as_of for s in self.latest), key=instant_key, default="")

    def timeline(self) -> list[TimelineEntry]:
        """Stage events, rollbacks, attestations and checkpoints, in the order they concern."""
        latest = instant_key(self.as_of) if self.as_of else None
        entries = [
            TimelineEntry(e.line, e.kind, e.at, e.summary, _after(e.at, latest))
            for e in self.events
        ]
        for c in self.checkpoints:
            counts = ", ".join(
                f"{c.count(o)} {o.value}" for o in Outcome if c.count(o) or o is Outcome.PASS
            )
            action = run_verdict(c.recorded(), selection="", seeded=False, partial=c.partial)
            summary = f"{c.selection} checkpoint: {counts} → {action.action.name}"
            aside = self.set_aside.get(c.line, "")
            entries.append(TimelineEntry(c.line, "checkpoint", c.as_of, summary, False, aside))
        return sorted(entries, key=lambda e: (instant_key(e.at), e.line))


def instant_key(text: str) -> datetime:
    """An instant to sort by; text that is not one sorts first."""
    try:
        return parse_instant(text)
    except (ValueError, TypeError):
        return datetime.min.replace(tzinfo=UTC)


def _after(at: str, latest: datetime | None) -> bool:
    return latest is not None and instant_key(at) > latest


def selection_rank(selection: str) -> tuple[int, str]:
    """Runbook order for selections; unknown ones after, by name."""
    try:
        return SELECTION_ORDER.index(selection), selection
    except ValueError:
        return len(SELECTION_ORDER), selection
