"""The hash chain of the ledger file: each record carries `prev`, the SHA-256 of the line before
it (without its newline; "" for the first), so a record changed, removed or reordered breaks the
chain at the line after it. `walk` is the one chain walker: the store, `cutover verify`, the
report and the gates all read the file with it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.ledger.errors import LedgerBroken
from cutover.ledger.records import Entry

LEDGER_NAME = "ledger.jsonl"
VERIFY_HINT = "run `cutover verify` to see what changed"


def digest(line: bytes) -> str:
    """What `prev` and the anchor hold: the SHA-256 of a line without its newline."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def encode(written: dict[str, Any]) -> bytes:
    """A record as its ledger line: keys sorted, text as UTF-8, one line."""
    return (json.dumps(written, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode()


@dataclass(frozen=True, slots=True)
class Line:
    """A non-blank line of the ledger file."""

    number: int
    raw: bytes  # without its newline
    data: dict[str, Any] | None  # None: not a JSON object
    json_error: str | None = None  # the JSON parser's message when it is not JSON at all


@dataclass(frozen=True, slots=True)
class Link:
    """A line and the one before it: intact when its `prev` is that line's digest."""

    line: Line
    previous: Line | None

    @property
    def expected(self) -> str:
        return digest(self.previous.raw) if self.previous is not None else ""

    @property
    def intact(self) -> bool:
        return self.line.data is not None and self.line.data.get("prev") == self.expected

    def problem(self) -> str:
        """Why this link does not hold, in the words every reader of the chain uses."""
        if self.line.json_error is not None:
            return f"not a JSON record ({self.line.json_error})"
        if self.line.data is None:
            return "not a JSON object (a record is one JSON object per line)"
        return "hash chain broken: the record before it was changed, removed or reordered"


def walk(content: bytes, *, first_number: int = 1, previous: Line | None = None) -> list[Link]:
    """The chain walker: every non-blank line with the line before it, in file order. A walk may
    go on from a point already walked: `content` then starts at line `first_number`, after
    `previous`."""
    links: list[Link] = []
    for number, raw in enumerate(content.split(b"\n"), start=first_number):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            line = Line(number, raw, data if isinstance(data, dict) else None)
        except json.JSONDecodeError as exc:
            line = Line(number, raw, None, exc.msg)
        links.append(Link(line, previous))
        previous = line
    return links


@dataclass(frozen=True, slots=True)
class Chain:
    """The ledger file as walked, whether or not its chain verifies."""

    path: Path
    links: tuple[Link, ...]

    @property
    def entries(self) -> list[Entry]:
        """Every line that is a JSON object, in order (also past a break)."""
        return [Entry(k.line.number, k.line.data) for k in self.links if k.line.data is not None]

    @property
    def last(self) -> Line | None:
        return self.links[-1].line if self.links else None

    @property
    def last_digest(self) -> str:
        return digest(self.links[-1].line.raw) if self.links else ""

    def line(self, number: int) -> Line | None:
        return next((k.line for k in self.links if k.line.number == number), None)

    def first_break(self) -> Link | None:
        return next((link for link in self.links if not link.intact), None)

    def broken(self) -> LedgerBroken | None:
        """Where the chain first fails to verify, as `Store.read` refuses it; None: it holds."""
        link = self.first_break()
        if link is None:
            return None
        return LedgerBroken(self.path, link.line.number, f"{link.problem()}; {VERIFY_HINT}")
