"""`ledger.head`, the anchor of the ledger's last record.

The chain cannot catch a change to the *last* record, or records removed from the end: nothing
after them carries their hash. Every append therefore anchors its record in `ledger.head` (its
line, digest and the number of records), and every reader and writer checks that the anchor
names the last line as it is now: a last record edited or deleted by hand, a record appended by
hand, or an anchor rewritten to fit one of those, is refused.

The anchor lives beside the ledger, so whoever can rewrite both can forge them together: the
runs record the head before and after them in their JUnit files, and a signer (`HeadSigner`,
`cutover.ledger.signing`) may sign each new head with a key kept elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cutover.ledger.chain import VERIFY_HINT, Chain, Line, digest
from cutover.ledger.errors import LedgerBroken

HEAD_NAME = "ledger.head"


@dataclass(frozen=True, slots=True)
class Head:
    """`ledger.head`: the last record's line and digest, how many records, when anchored."""

    line: int
    sha256: str
    records: int
    at: str

    @classmethod
    def parse(cls, text: str) -> Head:
        """ValueError when it is not an anchor (`line` and `sha256` are what it must hold)."""
        try:
            anchor = json.loads(text)
            line, sha256 = int(anchor["line"]), str(anchor["sha256"])
            return cls(line, sha256, int(anchor.get("records", 0)), str(anchor.get("at", "")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a ledger anchor ({exc})") from None

    def text(self) -> str:
        anchor = {"line": self.line, "sha256": self.sha256, "records": self.records, "at": self.at}
        return json.dumps(anchor, sort_keys=True) + "\n"

    @property
    def label(self) -> str:
        """`<line>:<sha256>`, as a JUnit file records the head before and after its run."""
        return f"{self.line}:{self.sha256}"


def parse_label(label: str) -> tuple[int, str] | None:
    """(line, sha256) of a head label; None for "none" or anything that is not one."""
    line, _, sha256 = label.strip().partition(":")
    if not line.isdigit() or len(sha256) != 64:
        return None
    return int(line), sha256


class HeadSigner(Protocol):
    """Called with every new head once it is written (to sign it, or keep it elsewhere)."""

    def __call__(self, head: Head) -> None: ...


def anchors_last(head: Head | None, last: Line | None) -> bool:
    """Whether `head` anchors the last line as it is (no head and no record: also)."""
    if last is None or head is None:
        return last is None and head is None
    return head.line == last.number and head.sha256 == digest(last.raw)


def anchor_problem(head: Head | None, chain: Chain) -> LedgerBroken | None:
    """Why `head` does not vouch for the ledger as it is now; None when it anchors the last
    line. Say what most likely happened: the anchored record changed, records removed from the
    end, records after the anchor that nobody anchored, or no anchor at all."""
    path, last = chain.path, chain.last
    if anchors_last(head, last):
        return None
    ends = f"the ledger ends at line {last.number}" if last is not None else "the ledger is empty"
    if head is None:
        assert last is not None  # anchors_last holds for no head and no record
        message = (
            f"no {HEAD_NAME} anchors the last record, so a change to it or records removed "
            f"from the end could not be seen"
        )
        return LedgerBroken(path, last.number, f"{message}; {VERIFY_HINT}")
    anchored = chain.line(head.line)
    if anchored is None:
        message = (
            f"{HEAD_NAME} anchors line {head.line}, but {ends}: records were removed from the end"
        )
    elif digest(anchored.raw) != head.sha256:
        message = f"the record does not match {HEAD_NAME}: the anchored record was changed"
        return LedgerBroken(path, head.line, f"{message}; {VERIFY_HINT}")
    else:
        message = (
            f"{HEAD_NAME} anchors line {head.line}, but {ends}: the records after it are "
            "anchored by nobody (written by hand, or a run stopped between writing a record "
            "and anchoring it)"
        )
    return LedgerBroken(path, last.number if last is not None else 0, f"{message}; {VERIFY_HINT}")


def head_path(evidence_dir: Path) -> Path:
    return evidence_dir / HEAD_NAME
