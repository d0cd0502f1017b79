"""The ledger as the gates (and `cutover attest`) read it: the records of one target (live, or
one seeded scenario), up to the instant measured. Reads; never decides."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cutover.ledger.errors import RecordInvalid
from cutover.ledger.records import (
    Checkpoint,
    ComplaintsAttestation,
    Entry,
    LedgerRecord,
    Rollback,
    SignatureClassification,
    StageStarted,
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


class LedgerView:
    """`records` are the ledger lines read (this target's); each is parsed against its schema
    here, so a record that does not fit raises RecordInvalid naming its line."""

    def __init__(self, records: Sequence[Entry], as_of: datetime) -> None:
        self.records = list(records)
        self.as_of = as_of
        self._parsed: list[tuple[int, LedgerRecord]] = [(e.line, e.parse()) for e in self.records]

    @classmethod
    def load(
        cls,
        evidence_dir: Path,
        as_of: datetime,
        *,
        target: str,
        scenario: str | None,
        before_line: int | None = None,
    ) -> LedgerView:
        """Verify the chain and keep this target's records (those before `before_line` only,
        when given: what a replayed run saw); a broken chain or a record that does not fit its
        schema is a LedgerBroken (a SourceUnavailable) naming the line."""
        store = Store(evidence_dir)
        entries = store.read()
        if before_line is not None:
            entries = [e for e in entries if e.line < before_line]
        try:
            return cls([e for e in entries if e.origin.matches(target, scenario)], as_of)
        except RecordInvalid as exc:
            raise RecordInvalid(exc.line, exc.reason, store.path) from None

    def _events(self, kind: type[R]) -> Iterator[tuple[int, R]]:
        """(line, record) of each record of `kind` at or before the instant, in ledger order."""
        for line, record in self._parsed:
            if isinstance(record, kind) and record.at <= self.as_of:
                yield line, record

    def current_stage(self) -> StageRun | None:
        """The stage in force: the latest stage start or rollback at or before the instant (at
        the same instant, the later line wins); None before any stage and after a rollback."""
        events: list[tuple[int, StageStarted | Rollback]] = [
            *self._events(StageStarted),
            *self._events(Rollback),
        ]
        latest = max(events, key=lambda e: (e[1].at, e[0]), default=None)
        if latest is None or not isinstance(latest[1], StageStarted):
            return None
        stage = latest[1]
        return StageRun(stage.stage, stage.percent, stage.at)

    def stage_started(self, stage: int) -> datetime | None:
        """The latest start of `stage` at or before the instant."""
        return max((r.at for _, r in self._events(StageStarted) if r.stage == stage), default=None)

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

    def checkpoint_values(self, criterion: str) -> list[CheckpointValue]:
        """Earlier runs' details for a criterion (measured at or before the instant)."""
        values = []
        for _, record in self._parsed:
            if not isinstance(record, Checkpoint) or record.as_of is None:
                continue
            result = record.result(criterion)
            details = None if result is None else result.details
            if details is not None and record.as_of <= self.as_of:
                values.append(CheckpointValue(record.as_of, record.at, dict(details)))
        return values
