"""The attestations: what a person states, one record of type "attestation" per kind
(`complaints`, `signature`, `waiver`, `invalidation`). `records` parses them with the rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from cutover.ledger.fields import LIVE, Origin, TypedRecord


@dataclass(frozen=True, slots=True)
class ComplaintsAttestation(TypedRecord):
    """`by` counted `count` import-failure complaints over since..at."""

    count: int
    by: str
    since: datetime
    at: datetime
    origin: Origin = LIVE
    type: ClassVar[str] = "attestation"
    kind: ClassVar[str | None] = "complaints"


@dataclass(frozen=True, slots=True)
class SignatureClassification(TypedRecord):
    """`by` classified the error signature `signature` as `classified_as` (user | systemic);
    later runs read it (`cutover classify`)."""

    signature: str
    classified_as: str
    by: str
    at: datetime
    origin: Origin = LIVE
    type: ClassVar[str] = "attestation"
    kind: ClassVar[str | None] = "signature"


@dataclass(frozen=True, slots=True)
class Waiver(TypedRecord):
    """`by` accepted a failure of `criterion` for `reason` (`cutover waive`): from `at` until
    `until` (None: no end), or, with `checkpoint`, only in runs re-deciding that checkpoint
    record (ledger line). `forced`: a rollback trigger, waived with --force."""

    criterion: str
    reason: str
    by: str
    at: datetime
    until: datetime | None = None
    checkpoint: int | None = None
    forced: bool = False
    origin: Origin = LIVE
    type: ClassVar[str] = "attestation"
    kind: ClassVar[str | None] = "waiver"


@dataclass(frozen=True, slots=True)
class Invalidation(TypedRecord):
    """`by` set the checkpoint record at ledger line `checkpoint` aside for `reason` (`cutover
    invalidate`); criteria that span checkpoints ignore it. Its origin is the checkpoint's."""

    checkpoint: int
    reason: str
    by: str
    at: datetime
    origin: Origin = LIVE
    type: ClassVar[str] = "attestation"
    kind: ClassVar[str | None] = "invalidation"
