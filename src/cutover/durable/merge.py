"""Two copies of one evidence directory made one: the durable store's and the job's own.

The ledger is never rewritten: a record's hash and line are what the JUnit files of its run
recorded (`ledger_head_before`/`_after`), so moving a record would make the evidence disagree
with itself. So:

- the store holds a prefix of the job's ledger (the job ran after it): the job's ledger, byte
  for byte, is the continuation;
- the job's ledger is a prefix of the store's (a stale cache): the store's stays;
- they parted (another job saved in between, outside the concurrency group): the store's
  ledger stays, and the job's own files (its ledger, its anchor, its JUnit files) are kept under
  `diverged/<the job's last record's digest>/`, where no gate and no `cutover verify` reads them:
  nothing is lost, the chain verifies, and the checkpoints only that copy holds are missing from
  the store's ledger (a gate that needs them is inconclusive and names the run to repeat).

Other files (JUnit files, snapshots) are named by the run that wrote them: the union is kept;
when both copies hold one name with different bytes, the store's is kept and the name reported.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cutover.ledger import HEAD_NAME, LEDGER_NAME, Store
from cutover.ledger.chain import Chain, digest
from cutover.ledger.signing import HMAC_NAME, SSH_SIGNATURE_NAME

#: the ledger and its anchor (with its signatures): they go together, never one over another
LEDGER_FILES = (LEDGER_NAME, HEAD_NAME, SSH_SIGNATURE_NAME, HMAC_NAME)
DIVERGED = "diverged"


@dataclass(slots=True)
class Merged:
    """What a merge did."""

    records: int = 0  # records in the merged ledger
    appended: int = 0  # the job's records after the store's (its continuation)
    files: int = 0  # other files the job added
    conflicts: list[str] = field(default_factory=list)  # names both held, with other bytes
    diverged: Path | None = None  # where the job's own copy was kept, when the ledgers parted


def merge_evidence(store_copy: Path, ours: Path) -> Merged:
    """Merge `ours` into `store_copy` (the durable store's evidence, checked out). The result
    is in `store_copy`. A ledger that does not verify on either side raises LedgerBroken."""
    merged = Merged()
    theirs_lines = _lines(Store(store_copy))
    ours_lines = _lines(Store(ours))
    if ours_lines[: len(theirs_lines)] == theirs_lines:
        _copy_ledger(ours, store_copy)
        merged.appended = len(ours_lines) - len(theirs_lines)
        _merge_files(store_copy, ours, store_copy, merged)
    elif theirs_lines[: len(ours_lines)] == ours_lines:
        _merge_files(store_copy, ours, store_copy, merged)
    else:
        kept = store_copy / DIVERGED / digest(ours_lines[-1])[:16]
        kept.mkdir(parents=True, exist_ok=True)
        _copy_ledger(ours, kept)
        _merge_files(store_copy, ours, kept, merged)
        merged.diverged = kept
    merged.records = len(_lines(Store(store_copy)))
    return merged


def _lines(store: Store) -> list[bytes]:
    chain: Chain = store.verify() if store.path.exists() else store.chain()
    return [link.line.raw for link in chain.links]


def _copy_ledger(source: Path, target: Path) -> None:
    for name in LEDGER_FILES:
        if (target / name).exists():
            (target / name).unlink()
        if (source / name).exists():
            shutil.copy2(source / name, target / name)


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.as_posix() not in LEDGER_FILES:
            if not path.name.endswith(".partial"):
                yield relative


def _merge_files(store_copy: Path, ours: Path, into: Path, merged: Merged) -> None:
    """Our files the store lacks, copied into `into` (the store's directory, or the diverged
    copy; copies kept aside earlier stay where they are); a name both hold with other bytes
    keeps the store's."""
    for relative in _files(ours):
        theirs = store_copy / relative
        if theirs.exists():
            if theirs.read_bytes() != (ours / relative).read_bytes():
                merged.conflicts.append(relative.as_posix())
            continue
        target = (store_copy if relative.parts[0] == DIVERGED else into) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ours / relative, target)
        merged.files += 1
