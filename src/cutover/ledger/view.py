"""The ledger as the gates (and `cutover attest`) read it: the records of one target (live, or
one seeded scenario), up to the instant measured. Reads; never decides."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cutover.ledger.errors import RecordInvalid
from cutover.ledger.records import (
    Checkpoint,
    ComplaintsAttestation,
    Entry,
    Invalidation,
    Rollback,
    SignatureClassification,
    StageStarted,
    Waiver,
)
from cutover.ledger.store import Store


class _Timed(Protocol):
    @property
    def at(self) -> datetime: ...


R = TypeVar("R", bound=_Timed)


@dataclass(frozen=True, slots=True)
class StageRun:
    """The stage in force at an instant: when it started, at which percent."""

    stage: int
    percent: int
    started: datetime


@dataclass(frozen=True, slots=True)
class CheckpointValue:
    """A criterion's details as recorded by an earlier run."""

    as_of: datetime
    recorded_at: datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StageSpan:
    """One stage's latest start at or before the instant, and what ended it, if anything did:
    the next stage start or rollback after it in ledger order (`(at, line)`: at the same
    instant, the later line comes after)."""

    stage: int
    started: datetime
    ended: datetime | None
    ended_by: str  # "" | "rollback" | "stage N start"


class LedgerView:
    """`records` are the ledger lines read (this target's). A record is parsed against its
    schema when a reader asks for its kind, so a record that does not fit raises RecordInvalid
    (naming its line) for the readers that need that kind, not for every criterion."""

    def __init__(self, records: Sequence[Entry], as_of: datetime, path: Path | None = None) -> None:
        self.records = list(records)
        self.as_of = as_of
        self._path = path
        self._parsed: dict[type[Any], list[tuple[int, Any]]] = {}

    @classmethod
    def load(
        cls,
        evidence_dir: Path,
        as_of: datetime,
        *,
        target: str,
        scenario: str | None,
        before_line: int | None = None,
        check: Callable[[Path], str | None] | None = None,
    ) -> LedgerView:
        """Verify the chain and keep this target's records (those before `before_line` only,
        when given: what a replayed run saw); a broken chain is a LedgerBroken (a
        SourceUnavailable) naming the line. A record whose target cannot be read is no
        target's (`cutover verify` fails it). `check`: the head's signature check, when the
        settings can check one (`ledger.signing.checker_for`)."""
        store = Store(evidence_dir, check=check)
        entries = store.read()
        if before_line is not None:
            entries = [e for e in entries if e.line < before_line]
        return cls([e for e in entries if _concerns(e, target, scenario)], as_of, store.path)

    def _all(self, kind: type[R]) -> list[tuple[int, R]]:
        """(line, record) of every record of `kind`, in ledger order, parsed once."""
        if kind not in self._parsed:
            wanted = getattr(kind, "type", None)
            parsed = []
            for entry in self.records:
                if entry.type != wanted:
                    continue
                try:
                    record = entry.parse()
                except RecordInvalid as exc:
                    raise RecordInvalid(exc.line, exc.reason, self._path) from None
                if isinstance(record, kind):
                    parsed.append((entry.line, record))
            self._parsed[kind] = parsed
        return self._parsed[kind]

    def _events(self, kind: type[R]) -> Iterator[tuple[int, R]]:
        """(line, record) of each record of `kind` at or before the instant, in ledger order."""
        for line, record in self._all(kind):
            if record.at <= self.as_of:
                yield line, record

    def _stage_events(self) -> list[tuple[datetime, int, StageStarted | Rollback]]:
        events: list[tuple[datetime, int, StageStarted | Rollback]] = [
            (r.at, line, r) for line, r in self._events(StageStarted)
        ]
        events += [(r.at, line, r) for line, r in self._events(Rollback)]
        return sorted(events, key=lambda e: (e[0], e[1]))

    def current_stage(self) -> StageRun | None:
        """The stage in force: the latest stage start or rollback at or before the instant (at
        the same instant, the later line wins); None before any stage and after a rollback."""
        events = self._stage_events()
        if not events or not isinstance(events[-1][2], StageStarted):
            return None
        stage = events[-1][2]
        return StageRun(stage.stage, stage.percent, stage.at)

    def stage_span(self, stage: int) -> StageSpan | None:
        """The latest start of `stage` at or before the instant and what ended it (None: the
        stage never started by then). The same ordering as `current_stage`."""
        events = self._stage_events()
        starts = [
            i
            for i, e in enumerate(events)
            if isinstance(e[2], StageStarted) and e[2].stage == stage
        ]
        if not starts:
            return None
        latest = starts[-1]
        started = events[latest][0]
        if latest + 1 == len(events):
            return StageSpan(stage, started, None, "")
        at, _, record = events[latest + 1]
        by = "rollback" if isinstance(record, Rollback) else f"stage {record.stage} start"
        return StageSpan(stage, started, at, by)

    def stage_started(self, stage: int) -> datetime | None:
        """The latest start of `stage` at or before the instant."""
        span = self.stage_span(stage)
        return None if span is None else span.started

    def rollbacks_since(self, start: datetime) -> list[tuple[datetime, str]]:
        return [(r.at, r.reason) for _, r in self._events(Rollback) if r.at >= start]

    def last_rollback(self) -> tuple[datetime, str] | None:
        return max(((r.at, r.reason) for _, r in self._events(Rollback)), default=None)

    def complaint_attestations(self) -> list[tuple[datetime, datetime, int, str]]:
        """(since, until, count, by) of every complaints attestation made by the instant."""
        return [(a.since, a.at, a.count, a.by) for _, a in self._events(ComplaintsAttestation)]

    def signature_classifications(self) -> dict[str, tuple[str, str, datetime]]:
        """Signature -> (user | systemic, by, when) made by the instant; the latest one wins."""
        found: dict[str, tuple[str, str, datetime]] = {}
        for _, c in sorted(self._events(SignatureClassification), key=lambda e: (e[1].at, e[0])):
            found[c.signature] = (c.classified_as, c.by, c.at)
        return found

    def invalidations(self) -> dict[int, Invalidation]:
        """Checkpoint line -> the first record setting it aside. Whenever it was made: a record
        measured wrongly was wrong at every instant, so a backfill re-deciding one ignores it."""
        found: dict[int, Invalidation] = {}
        for line, record in self._all(Invalidation):
            if record.checkpoint < line:  # one naming a later line is no decision (`verify`)
                found.setdefault(record.checkpoint, record)
        return found

    def set_aside(self, criterion: str) -> list[tuple[int, datetime, Invalidation]]:
        """(line, as_of, invalidation) of each checkpoint set aside that recorded details of
        `criterion` at or before the instant: what `checkpoint_values` leaves out."""
        invalid = self.invalidations()
        found = []
        for line, record in self._all(Checkpoint):
            result = record.result(criterion)
            if line not in invalid or record.as_of is None or result is None:
                continue
            if result.details is not None and record.as_of <= self.as_of:
                found.append((line, record.as_of, invalid[line]))
        return found

    def waivers(self, criterion: str) -> list[tuple[int, Waiver, datetime | None]]:
        """(line, waiver, the as_of of the checkpoint it is scoped to) of every waiver of
        `criterion`, whenever made: which one is in force is the runner's to decide. A waiver
        scoped to a checkpoint set aside has no instant (None): it accepted a failure in evidence
        nobody trusts, so it covers no re-measurement of it."""
        made = [(line, w) for line, w in self._all(Waiver) if w.criterion == criterion]
        if not any(w.checkpoint is not None for _, w in made):  # the usual case: no walk
            return [(line, w, None) for line, w in made]
        invalid = self.invalidations()
        checkpoints = {
            line: record.as_of for line, record in self._all(Checkpoint) if line not in invalid
        }
        return [
            (line, w, None if w.checkpoint is None else checkpoints.get(w.checkpoint))
            for line, w in made
        ]

    def rollbacks(self) -> list[tuple[int, Rollback]]:
        """(line, record) of every rollback at or before the instant, in ledger order."""
        return list(self._events(Rollback))

    def checkpoints(self) -> list[tuple[int, Checkpoint]]:
        """(line, record) of every checkpoint measured at or before the instant (its `as_of`,
        the rule `checkpoint_values` reads by) and not set aside, in ledger order."""
        invalid = self.invalidations()
        return [
            (line, record)
            for line, record in self._all(Checkpoint)
            if record.as_of is not None and record.as_of <= self.as_of and line not in invalid
        ]

    def checkpoint_values(self, criterion: str) -> list[CheckpointValue]:
        """Earlier runs' details for a criterion (measured at or before the instant); a
        checkpoint set aside (`cutover invalidate`) is left out."""
        values = []
        invalid = self.invalidations()
        for line, record in self._all(Checkpoint):
            if record.as_of is None or line in invalid:
                continue
            result = record.result(criterion)
            details = None if result is None else result.details
            if details is not None and record.as_of <= self.as_of:
                values.append(CheckpointValue(record.as_of, record.at, dict(details)))
        return values


def _concerns(entry: Entry, target: str, scenario: str | None) -> bool:
    try:
        return entry.origin.matches(target, scenario)
    except RecordInvalid:
        return False
