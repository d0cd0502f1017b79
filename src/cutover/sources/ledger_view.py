"""The ledger as the gates read it: the records of this target (live, or one seeded scenario),
up to the instant measured. Reads; never decides."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cutover import ledger
from cutover.timeutil import parse_instant


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
    def __init__(self, records: list[ledger.Record], as_of: datetime) -> None:
        self.records = records
        self.as_of = as_of

    @classmethod
    def load(
        cls, evidence_dir: Path, as_of: datetime, *, target: str, scenario: str | None
    ) -> LedgerView:
        """Verify the chain (a broken one is a SourceUnavailable), keep this target's records."""
        mine = [
            r
            for r in ledger.read(evidence_dir)
            if r.data.get("target", "live") == target
            and (target == "live" or r.data.get("scenario") == scenario)
        ]
        return cls(mine, as_of)

    def _events(self, *types: str) -> Iterator[ledger.Record]:
        for record in self.records:
            if record.type in types and record.at <= self.as_of:
                yield record

    def current_stage(self) -> StageRun | None:
        """The latest stage start at or before the instant, unless a rollback came after it."""
        latest = max(self._events("stage_started", "rollback"), key=lambda r: r.at, default=None)
        if latest is None or latest.type == "rollback":
            return None
        return StageRun(int(latest.data["stage"]), int(latest.data["percent"]), latest.at)

    def stage_started(self, stage: int) -> datetime | None:
        """The latest start of `stage` at or before the instant."""
        starts = [r.at for r in self._events("stage_started") if r.data.get("stage") == stage]
        return max(starts, default=None)

    def rollbacks_since(self, start: datetime) -> list[tuple[datetime, str]]:
        return [
            (r.at, str(r.data.get("reason", ""))) for r in self._events("rollback") if r.at >= start
        ]

    def last_rollback(self) -> tuple[datetime, str] | None:
        found = [(r.at, str(r.data.get("reason", ""))) for r in self._events("rollback")]
        return max(found, default=None)

    def complaint_attestations(self) -> list[tuple[datetime, datetime, int, str]]:
        """(since, until, count, by) of every complaints attestation made by the instant."""
        return [
            (
                parse_instant(str(r.data["since"]), what=f"ledger line {r.line} since"),
                r.at,
                int(r.data.get("count", 0)),
                str(r.data.get("by", "")),
            )
            for r in self._events("attestation")
            if r.data.get("kind") == "complaints"
        ]

    def checkpoint_values(self, criterion: str) -> list[CheckpointValue]:
        """Earlier runs' details for a criterion (measured at or before the instant)."""
        values = []
        for record in self.records:
            if record.type != "checkpoint" or not record.data.get("as_of"):
                continue
            result = record.data.get("results", {}).get(criterion)
            if not isinstance(result, dict) or not isinstance(result.get("details"), dict):
                continue
            as_of = parse_instant(str(record.data["as_of"]), what=f"ledger line {record.line}")
            if as_of <= self.as_of:
                values.append(CheckpointValue(as_of, record.at, result["details"]))
        return values
