"""The ledger: an append-only, hash-chained JSON-lines file of stage events, attestations and
checkpoint records. `user_profiles` keeps no history, so gates that span checkpoints read it here.

Each record carries `prev` (the SHA-256 of the line before it, or "" for the first) so an edit,
removal or reordering is caught. Appends take an exclusive lock so concurrent runs never
interleave or lose records.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cutover.errors import SourceUnavailable
from cutover.timeutil import iso, parse_instant

LEDGER_NAME = "ledger.jsonl"


class LedgerBroken(SourceUnavailable):
    """The chain does not verify: a gate must not read it."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"ledger {path}", f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    data: Mapping[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def at(self) -> datetime:
        return parse_instant(str(self.data["at"]), what=f"ledger line {self.line} 'at'")


def ledger_path(evidence_dir: Path) -> Path:
    return evidence_dir / LEDGER_NAME


def _digest(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _last_line(fd: int) -> bytes:
    size = os.lseek(fd, 0, os.SEEK_END)
    block = 4096
    tail = b""
    position = size
    while position > 0:
        step = min(block, position)
        position -= step
        tail = os.pread(fd, step, position) + tail
        lines = tail.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or position == 0:
            return lines[-1]
    return b""


def append(evidence_dir: Path, record: Mapping[str, Any]) -> dict[str, Any]:
    """Append one record, chained to the last; returns what was written."""
    path = ledger_path(evidence_dir)
    with _locked(path) as fd:
        last = _last_line(fd)
        written = {**record, "prev": _digest(last) if last else ""}
        line = json.dumps(written, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        os.write(fd, line.encode())
    return written


def append_anchored(evidence_dir: Path, record: Mapping[str, Any]) -> dict[str, Any]:
    """Append, then anchor the new last record in `ledger.head` (see cutover.verify): without
    an anchor, a change to the last record would go unnoticed."""
    from cutover.verify import write_head

    written = append(evidence_dir, record)
    write_head(evidence_dir)
    return written


def read(evidence_dir: Path) -> list[Record]:
    """Every record, after verifying the chain; a broken chain raises LedgerBroken."""
    path = ledger_path(evidence_dir)
    if not path.exists():
        return []
    records: list[Record] = []
    previous = ""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise LedgerBroken(path, number, f"not a JSON record ({exc.msg})") from None
            if not isinstance(data, dict) or data.get("prev") != previous:
                raise LedgerBroken(
                    path,
                    number,
                    "hash chain broken: the record before it was changed, removed or reordered",
                )
            previous = _digest(raw)
            records.append(Record(line=number, data=data))
    return records


def stage_started(stage: int, percent: int, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"type": "stage_started", "stage": stage, "percent": percent, "at": iso(at), **extra}


def rollback(reason: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"type": "rollback", "reason": reason, "percent": 0, "at": iso(at), **extra}


def complaints_attested(
    count: int, by: str, since: datetime, until: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "attestation",
        "kind": "complaints",
        "count": count,
        "by": by,
        "since": iso(since),
        "at": iso(until),
        **extra,
    }


def current_stage(records: list[Record], as_of: datetime) -> Record | None:
    """The latest stage start or rollback at or before `as_of` (a rollback ends the stage)."""
    current: Record | None = None
    for record in records:
        if record.type in ("stage_started", "rollback") and record.at <= as_of:
            if current is None or record.at >= current.at:
                current = record
    return current
