"""Two copies of one evidence directory made one: the durable store's and the job's own.

A job restores the evidence, runs, and saves it. When another job saved in between (the store
moved on), or the job's cache held records the store never got, both copies share a prefix of
the ledger and then part. The merge keeps the store's records as they are and appends the
job's own after them, through `cutover.ledger.Store`, so the chain verifies and nothing is lost.
A record already in the store (the same record but for its `prev`) is not appended twice.

Other files (JUnit files, snapshots) are named by the run that wrote them: the union is kept;
when both copies hold one name with different bytes, the store's is kept and the name reported.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover.ledger import HEAD_NAME, LEDGER_NAME, Store
from cutover.ledger.records import Entry
from cutover.ledger.store import Chain

#: files the ledger owns: merged record by record, never copied over one another
LEDGER_FILES = frozenset({LEDGER_NAME, HEAD_NAME, HEAD_NAME + ".partial"})


@dataclass(slots=True)
class Merged:
    """What a merge did."""

    records: int = 0  # records in the merged ledger
    appended: int = 0  # the job's own records appended after the store's
    duplicates: int = 0  # the job's records the store already held
    files: int = 0  # other files the job added
    conflicts: list[str] = field(default_factory=list)  # names both held, with other bytes


def merge_evidence(store_copy: Path, ours: Path) -> Merged:
    """Merge `ours` into `store_copy` (the durable store's evidence, checked out). The result
    is in `store_copy`. A chain that does not verify on either side raises LedgerBroken."""
    merged = Merged()
    theirs_chain = _verified(Store(store_copy))
    ours_chain = _verified(Store(ours))
    theirs_lines = [link.line.raw for link in theirs_chain.links]
    ours_lines = [link.line.raw for link in ours_chain.links]
    shared = _shared_prefix(theirs_lines, ours_lines)
    if shared == len(theirs_lines) and ours_lines:
        # the store holds a prefix of ours: our ledger is the continuation, byte for byte
        for name in (LEDGER_NAME, HEAD_NAME):
            if (ours / name).exists():
                shutil.copy2(ours / name, store_copy / name)
        merged.appended = len(ours_lines) - shared
    else:
        _append_after(Store(store_copy), theirs_chain, ours_chain, shared, merged)
    merged.records = len(Store(store_copy).chain().links)
    _merge_files(store_copy, ours, merged)
    return merged


def _verified(store: Store) -> Chain:
    chain = store.chain()
    broken = chain.broken()
    if broken is not None:
        raise broken
    return chain


def _shared_prefix(theirs: list[bytes], ours: list[bytes]) -> int:
    shared = 0
    for mine, other in zip(ours, theirs, strict=False):
        if mine != other:
            break
        shared += 1
    return shared


def _without_prev(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "prev"}


def _append_after(store: Store, theirs: Chain, ours: Chain, shared: int, merged: Merged) -> None:
    already = [_without_prev(entry.data) for entry in theirs.entries[shared:]]
    for entry in ours.entries[shared:]:
        if _without_prev(entry.data) in already:
            merged.duplicates += 1
            continue
        store.append(Entry(entry.line, entry.data).parse(), anchor=False)
        merged.appended += 1
    if merged.appended:
        store.write_head()


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.as_posix() not in LEDGER_FILES:
            yield relative


def _merge_files(store_copy: Path, ours: Path, merged: Merged) -> None:
    for relative in _files(ours):
        target = store_copy / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ours / relative, target)
            merged.files += 1
        elif target.read_bytes() != (ours / relative).read_bytes():
            merged.conflicts.append(relative.as_posix())
