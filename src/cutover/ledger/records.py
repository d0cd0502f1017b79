"""The ledger's records: one schema for every kind of line the ledger holds.

- stage events: `stage_started` (stage, percent) and `rollback` (reason, percent 0);
- attestations: what a person states, by kind (`complaints`; `signature`: an error signature
  classified user-side or systemic; `waiver`: a criterion's failure accepted; `invalidation`: a
  checkpoint record set aside, which stays in the chain);
- `checkpoint`: one run of a selection, with each criterion's recorded values and (version 2)
  its scope: how many criteria the selection holds, how many were decided, what narrowed it;
  and the platform snapshots it measured;
- `snapshot`: a platform source's read, kept in the evidence directory (or why it failed).

Every record has `type` and `at` (ISO 8601, UTC), and says which target it concerns: a live
record carries no mark (a checkpoint says `target` "live"); a seeded one carries `target`
"seeded" and its `scenario`, so the two never mix.

Versions: a record written today carries no `v` key, which means version 1. A change to a
record's fields adds `"v": 2`; a reader refuses a version newer than it knows, naming the line,
instead of misreading it. A record of a type this version has no schema for reads as
`OtherRecord`, kept as written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeAlias

from cutover.ledger.attestations import (
    ComplaintsAttestation,
    Invalidation,
    SignatureClassification,
    Waiver,
)
from cutover.ledger.errors import RecordInvalid
from cutover.ledger.fields import LIVE, FieldReader, Origin, TypedRecord
from cutover.outcome import Scope, Window
from cutover.redact import redact_text
from cutover.timeutil import iso, parse_instant, utc_now

__all__ = [
    "LIVE",
    "Checkpoint",
    "ComplaintsAttestation",
    "CriterionRecord",
    "Entry",
    "Invalidation",
    "LedgerRecord",
    "Origin",
    "OtherRecord",
    "Recorded",
    "Rollback",
    "SignatureClassification",
    "Snapshot",
    "StageStarted",
    "Waiver",
    "as_text",
    "checkpoint",
    "parse",
]

# -- stage events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageStarted(TypedRecord):
    """Stage `stage` started at `percent` (V2_ROLLOUT_PERCENT deployed)."""

    stage: int
    percent: int
    at: datetime
    origin: Origin = LIVE
    type: ClassVar[str] = "stage_started"


@dataclass(frozen=True, slots=True)
class Rollback(TypedRecord):
    """Traffic went back to v1 (percent 0), for `reason`; it ends the stage in force."""

    reason: str
    at: datetime
    percent: int = 0
    origin: Origin = LIVE
    type: ClassVar[str] = "rollback"


# -- checkpoints --------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    """A recorded value as evidence text (JSON for objects and lists), secrets masked."""
    if value is None:
        return ""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping | list):
        return redact_text(json.dumps(value, sort_keys=True))
    return redact_text(str(value))


@dataclass(frozen=True, slots=True)
class CriterionRecord:
    """One criterion in a checkpoint: its JUnit properties but `criterion`, `details` as JSON."""

    criterion: str
    values: Mapping[str, Any]

    def text(self, key: str) -> str:
        """A value as text, secrets masked ("" when it was not recorded)."""
        return as_text(self.values.get(key))

    @property
    def details(self) -> Mapping[str, Any] | None:
        """What the criterion measured beyond its properties; None when absent or unreadable."""
        details = self.values.get("details")
        if isinstance(details, str):  # kept as the JSON text when it did not parse
            try:
                details = json.loads(details)
            except ValueError:
                return None
        return details if isinstance(details, Mapping) else None


class Recorded(Protocol):
    """A result as a run recorded it (`cutover.evidence.properties.RecordedResult`)."""

    @property
    def criterion(self) -> str: ...

    @property
    def properties(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class Checkpoint(TypedRecord):
    """One run of a selection, as of an instant: each criterion's recorded values. Unlike the
    events, it always says its target (and scenario, null when live).

    Version 2 adds `scope` (`cutover.outcome.Scope`): a partial run (narrowed by `-k`,
    `--deselect` or node ids, or one that decided fewer criteria than its markers hold) says so,
    and a reader never takes it for the whole gate. A version 1 record has none (None). A run
    that measured platform snapshots lists them (`snapshots`: source, export, sha256; the key is
    written only when there are some)."""

    selection: str
    as_of: datetime | None  # None: no result recorded the instant
    at: datetime  # when the run recorded it
    results: tuple[CriterionRecord, ...]
    origin: Origin = LIVE
    scope: Scope | None = None
    snapshots: tuple[Mapping[str, str], ...] = ()
    type: ClassVar[str] = "checkpoint"
    version: ClassVar[int] = 2

    def result(self, criterion: str) -> CriterionRecord | None:
        return next((r for r in self.results if r.criterion == criterion), None)

    @property
    def partial(self) -> bool:
        return self.scope is not None and self.scope.partial

    def to_json(self) -> dict[str, Any]:
        scope = self.scope
        return {
            "type": self.type,
            "v": self.version,
            "selection": self.selection,
            "as_of": iso(self.as_of),
            "at": iso(self.at),
            "target": self.origin.target,
            "scenario": self.origin.scenario,
            "scope": None
            if scope is None
            else {
                "held": scope.held,
                "decided": scope.decided,
                "narrowed_by": list(scope.narrowed_by),
            },
            "results": {r.criterion: dict(r.values) for r in self.results},
        } | ({"snapshots": [dict(s) for s in self.snapshots]} if self.snapshots else {})

    @classmethod
    def read(cls, f: FieldReader) -> Checkpoint:
        results = []
        for criterion, values in sorted(f.mapping("results").items()):
            if not isinstance(values, Mapping):
                raise f.invalid(f"result {criterion!r} is {values!r}, expected an object")
            results.append(CriterionRecord(str(criterion), values))
        snapshots = f.data.get("snapshots", [])
        if not isinstance(snapshots, list) or not all(isinstance(s, Mapping) for s in snapshots):
            raise f.invalid(f"'snapshots' is {snapshots!r}, expected a list of objects")
        return cls(
            f.text("selection"),
            f.optional_instant("as_of"),
            f.instant("at"),
            tuple(results),
            f.origin(),
            _scope(f) if f.data.get("scope") is not None else None,
            tuple({str(k): str(v) for k, v in s.items()} for s in snapshots),
        )


def _scope(f: FieldReader) -> Scope:
    scope = FieldReader(f.line, f.record_type, f.mapping("scope"), "'scope': ")
    narrowed = scope.data.get("narrowed_by", [])
    if not isinstance(narrowed, list) or not all(isinstance(n, str) for n in narrowed):
        raise scope.invalid(f"'narrowed_by' is {narrowed!r}, expected a list of text")
    return Scope(scope.integer("held"), scope.integer("decided"), tuple(narrowed))


def checkpoint(
    results: Iterable[Recorded],
    *,
    selection: str,
    target: str,
    scenario: str | None,
    scope: Scope | None = None,
    at: datetime | None = None,
) -> Checkpoint:
    """The checkpoint record of a run: its results (as of the instant they recorded), now."""
    recorded = list(results)
    as_of = next((r.properties["as_of"] for r in recorded if "as_of" in r.properties), "")
    values = {r.criterion: _ledger_values(r.properties) for r in recorded}
    return Checkpoint(
        selection=selection,
        as_of=parse_instant(as_of, what="as_of") if as_of else None,
        at=at or utc_now(),
        results=tuple(CriterionRecord(c, v) for c, v in sorted(values.items())),
        origin=Origin(target, scenario),
        scope=scope,
        snapshots=measured_snapshots(values.values()),
    )


def measured_snapshots(values: Iterable[Mapping[str, Any]]) -> tuple[Mapping[str, str], ...]:
    """The snapshots the results name (their `snapshots` value), each once, by sha256."""
    found: dict[str, Mapping[str, str]] = {}
    for value in values:
        named = value.get("snapshots")
        for ref in named if isinstance(named, list) else []:
            if isinstance(ref, Mapping) and isinstance(ref.get("sha256"), str):
                found.setdefault(ref["sha256"], {str(k): str(v) for k, v in ref.items()})
    return tuple(found[sha] for sha in sorted(found))


def _ledger_values(properties: Mapping[str, str]) -> dict[str, Any]:
    """A result for the ledger: its properties, with `details`, `waiver` and `snapshots` kept as
    structured JSON."""
    values: dict[str, Any] = {k: v for k, v in properties.items() if k != "criterion"}
    for key in ("details", "waiver", "snapshots"):
        if key in values:
            try:
                values[key] = json.loads(values[key])
            except ValueError:
                pass
    return values


# -- snapshots ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot(TypedRecord):
    """A source's read kept under `<evidence>/snapshots/`, content-addressed by `sha256`: what
    was asked of the source (`params`, secrets masked), the window it covers, its size in pages
    and lines, where it lies (`path`, relative to the evidence directory), which export it
    stands for (`export`: router_logs, rlm_logs, rlm_metrics, rollout), what the source said
    beyond its lines (`details`: units, limits, the live deployment...), and `problem` when it
    could not be read whole (then no file: `path` is "" and `sha256` that of the request and
    the problem). Written by `cutover.sources.platform.snapshots`."""

    source: str
    params: Mapping[str, Any]
    window: Window
    pages: int
    lines: int
    sha256: str
    path: str
    at: datetime
    origin: Origin = LIVE
    export: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""
    type: ClassVar[str] = "snapshot"


# -- any record ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OtherRecord:
    """A record of a type (or attestation kind) this version has no schema for, as written."""

    data: Mapping[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)


LedgerRecord: TypeAlias = (
    StageStarted
    | Rollback
    | ComplaintsAttestation
    | SignatureClassification
    | Waiver
    | Invalidation
    | Checkpoint
    | Snapshot
    | OtherRecord
)
_Schema: TypeAlias = (
    type[StageStarted]
    | type[Rollback]
    | type[ComplaintsAttestation]
    | type[SignatureClassification]
    | type[Waiver]
    | type[Invalidation]
    | type[Checkpoint]
    | type[Snapshot]
)
# (type, attestation kind) -> the record's schema
_SCHEMAS: dict[tuple[str, str | None], _Schema] = {
    (schema.type, schema.kind): schema
    for schema in (
        StageStarted,
        Rollback,
        ComplaintsAttestation,
        SignatureClassification,
        Waiver,
        Invalidation,
        Checkpoint,
        Snapshot,
    )
}


def parse(line: int, data: Mapping[str, Any]) -> LedgerRecord:
    """The typed record of ledger line `line`; RecordInvalid (naming the line) if it does not
    fit its schema or was written with a newer version of it."""
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise RecordInvalid(line, f"a record needs a 'type', this one has {kind!r}")
    f = FieldReader(line, kind, data)
    sub = f.optional_text("kind") if kind == "attestation" else None
    schema = _SCHEMAS.get((kind, sub))
    if schema is None:
        return OtherRecord(data)
    version = data.get("v", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise f.invalid(f"'v' is {version!r}, expected a schema version (1, 2, ...)")
    if version > schema.version:
        raise f.invalid(
            f"written with version {version} of its schema; this reader knows up to version "
            f"{schema.version} (upgrade cutover-gates to read it)"
        )
    record: LedgerRecord = schema.read(f)
    return record


@dataclass(frozen=True, slots=True)
class Entry:
    """A ledger line as read: its number and its JSON object. `parse()` gives the typed record."""

    line: int
    data: Mapping[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def at(self) -> datetime:
        return FieldReader(self.line, self.type, self.data).instant("at")

    @property
    def origin(self) -> Origin:
        return FieldReader(self.line, self.type, self.data).origin()

    def parse(self) -> LedgerRecord:
        return parse(self.line, self.data)
