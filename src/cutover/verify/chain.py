"""The ledger checks of `cutover verify`: the hash chain line by line, the anchor in
`ledger.head` (and its signatures, when the settings give a key to check them), and each
checkpoint record against its schema."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cutover.config import Settings
from cutover.ledger import signing
from cutover.ledger.errors import RecordInvalid
from cutover.ledger.records import Checkpoint
from cutover.ledger.store import HEAD_NAME, Chain, Link, Store, digest
from cutover.verify.findings import Verification


def check_chain(result: Verification, chain: Chain) -> None:
    """Every break of the chain (not just the first), with what most likely happened."""
    name = chain.path.name
    if not chain.links:
        result.add("FAIL", "ledger", f"{name} holds no record")
        return
    digests = {digest(link.line.raw): link.line.number for link in chain.links}
    breaks = 0
    for link in chain.links:
        if link.line.data is None:
            result.add("FAIL", "ledger", f"{name} line {link.line.number}: {link.problem()}")
            breaks += 1
        elif not link.intact:
            result.add("FAIL", "ledger", _break_message(name, link, digests))
            breaks += 1
    if not breaks:
        result.add("ok", "ledger", f"{name}: {len(chain.links)} records, hash chain intact")


def _break_message(name: str, link: Link, digests: Mapping[str, int]) -> str:
    line, previous = link.line, link.previous
    where = f"{name} line {line.number}: hash chain broken"
    if previous is None:
        return f"{where}: the first record names a predecessor (records removed before it?)"
    prev = line.data.get("prev") if line.data is not None else None
    elsewhere = digests.get(str(prev)) if prev else None
    if elsewhere is not None and elsewhere != previous.number:
        return f"{where}: it follows line {elsewhere}, not line {previous.number} (reordered)"
    return (
        f"{where}: it does not follow line {previous.number} "
        f"(line {previous.number} was changed, or a record before line {line.number} "
        "was removed or reordered)"
    )


def check_head(result: Verification, store: Store, chain: Chain) -> None:
    """The anchor names the last record as it is: not changed, nothing removed from the end,
    nothing appended after it (every append anchors its record, so anything else was written
    by hand, or a run stopped between a record and its anchor)."""
    last = chain.links[-1].line.number if chain.links else 0
    try:
        head = store.head()
    except (ValueError, OSError):
        result.add("FAIL", "head", f"{HEAD_NAME} is not a readable anchor")
        return
    if head is None:
        result.add(
            "FAIL",
            "head",
            f"no {HEAD_NAME}: a change to the last record (line {last}) or records removed from "
            "the end cannot be detected (every append writes one: was it deleted?)",
        )
        return
    by_number = {link.line.number: link.line for link in chain.links}
    anchored = by_number.get(head.line)
    if anchored is None:
        result.add(
            "FAIL",
            "head",
            f"{HEAD_NAME} anchors line {head.line}, but the ledger ends at line {last}: "
            "records were removed from the end",
        )
        return
    if digest(anchored.raw) != head.sha256:
        result.add(
            "FAIL",
            "head",
            f"ledger.jsonl line {head.line} does not match {HEAD_NAME}: the anchored record "
            "was changed",
        )
        return
    later = [number for number in by_number if number > head.line]
    if later:
        result.add(
            "FAIL",
            "head",
            f"{len(later)} record(s) after the anchor (lines {later[0]}..{later[-1]}) are "
            "anchored by nobody: written by hand, or a run stopped between a record and its "
            "anchor",
        )
        return
    result.add("ok", "head", f"line {head.line} matches {HEAD_NAME}")


def check_signatures(result: Verification, evidence_dir: Path, settings: Settings) -> None:
    """The head's signatures the settings can check (`cutover.ledger.signing`)."""
    for check in signing.check_signatures(evidence_dir, settings):
        result.add(check.status, "signature", check.message)


def checkpoints(result: Verification, chain: Chain) -> list[tuple[int, Checkpoint]]:
    """(line, record) of every checkpoint (also past a break). Every record is read against its
    schema, as the gates read it: one that does not fit fails the ledger check."""
    found: list[tuple[int, Checkpoint]] = []
    for entry in chain.entries:
        try:
            record = entry.parse()
        except RecordInvalid as exc:
            result.add("FAIL", "ledger", f"{chain.path.name} line {exc.line}: {exc.reason}")
            continue
        if isinstance(record, Checkpoint):
            found.append((entry.line, record))
    return found
