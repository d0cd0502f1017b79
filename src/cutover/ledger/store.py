"""The ledger file: an append-only, hash-chained JSON-lines file in the evidence directory, and
its anchor `ledger.head`. The only module that reads or writes either.

Each record carries `prev`, the SHA-256 of the line before it (without its newline; "" for the
first), so a record changed, removed or reordered breaks the chain at the line after it. Appends
take an exclusive lock, so concurrent runs never interleave or lose records; reads take a shared
one, so they never see half an append.

The chain cannot catch a change to the *last* record, or records removed from the end: nothing
after them carries their hash. `ledger.head` anchors the last record (its line and hash) after
an append; `cutover verify` compares it. It lives beside the ledger, so whoever can rewrite both
can forge them together: `sign`, when given, is called with each new head, to keep it elsewhere
or sign it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cutover.ledger.errors import LedgerBroken
from cutover.ledger.records import Entry, LedgerRecord
from cutover.timeutil import iso, utc_now

LEDGER_NAME = "ledger.jsonl"
HEAD_NAME = "ledger.head"


def ledger_path(evidence_dir: Path) -> Path:
    return evidence_dir / LEDGER_NAME


def head_path(evidence_dir: Path) -> Path:
    return evidence_dir / HEAD_NAME


def digest(line: bytes) -> str:
    """What `prev` and the anchor hold: the SHA-256 of a line without its newline."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def encode(written: dict[str, Any]) -> bytes:
    """A record as its ledger line: keys sorted, text as UTF-8, one line."""
    return (json.dumps(written, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode()


# -- the chain ----------------------------------------------------------------------------------


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


def walk(content: bytes) -> list[Link]:
    """The chain walker: every non-blank line with the line before it, in file order."""
    links: list[Link] = []
    previous: Line | None = None
    for number, raw in enumerate(content.split(b"\n"), start=1):
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
    def last_digest(self) -> str:
        return digest(self.links[-1].line.raw) if self.links else ""

    def first_break(self) -> Link | None:
        return next((link for link in self.links if not link.intact), None)

    def broken(self) -> LedgerBroken | None:
        """Where the chain first fails to verify, as `Store.read` refuses it; None: it holds."""
        link = self.first_break()
        if link is None:
            return None
        if link.line.json_error is not None:
            message = f"not a JSON record ({link.line.json_error})"
        else:
            message = "hash chain broken: the record before it was changed, removed or reordered"
        return LedgerBroken(self.path, link.line.number, message)


# -- the anchor ---------------------------------------------------------------------------------


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


class HeadSigner(Protocol):
    """Called with every new head once it is written (to sign it, or keep it elsewhere)."""

    def __call__(self, head: Head) -> None: ...


# -- the store ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Store:
    """The ledger of one evidence directory."""

    evidence_dir: Path
    sign: HeadSigner | None = None

    @property
    def path(self) -> Path:
        return ledger_path(self.evidence_dir)

    @property
    def head_path(self) -> Path:
        return head_path(self.evidence_dir)

    def append(self, record: LedgerRecord, *, anchor: bool = True) -> dict[str, Any]:
        """Append one record, chained to the last line; then, unless told not to, anchor it in
        `ledger.head` (LedgerBroken if the chain does not verify). Returns what was written."""
        with _locked(self.path, fcntl.LOCK_EX, os.O_RDWR | os.O_CREAT | os.O_APPEND) as fd:
            last = _last_line(fd)
            written = {**record.to_json(), "prev": digest(last) if last else ""}
            os.write(fd, encode(written))
        if anchor:
            self.write_head()
        return written

    def chain(self) -> Chain:
        """The file walked line by line (empty when there is no ledger); never raises on a break."""
        return self._walk() if self.path.exists() else Chain(self.path, ())

    def _walk(self) -> Chain:
        with _locked(self.path, fcntl.LOCK_SH, os.O_RDONLY) as fd:
            content = _read_all(fd)
        return Chain(self.path, tuple(walk(content)))

    def read(self) -> list[Entry]:
        """Every record, after verifying the chain; a broken chain raises LedgerBroken."""
        chain = self.chain()
        broken = chain.broken()
        if broken is not None:
            raise broken
        return chain.entries

    def head(self) -> Head | None:
        """The anchor, None when there is none; ValueError when it is not readable."""
        try:
            text = self.head_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return Head.parse(text)

    def write_head(self) -> Path:
        """Anchor the last record in `ledger.head`; returns its path.

        Refuses (LedgerBroken) to anchor a chain that does not verify: an anchor must not make a
        changed ledger look whole. Written atomically; a later append leaves the anchor valid for
        the records it covers."""
        chain = self._walk()  # a shared lock: appends wait, so the last line is a whole record
        _refuse_to_anchor(chain)
        last = chain.links[-1].line
        head = Head(last.number, digest(last.raw), len(chain.links), iso(utc_now()))
        partial = self.head_path.with_name(HEAD_NAME + ".partial")
        partial.write_text(head.text(), encoding="utf-8")
        os.replace(partial, self.head_path)
        if self.sign is not None:
            self.sign(head)
        return self.head_path


def _refuse_to_anchor(chain: Chain) -> None:
    if not chain.links:
        raise LedgerBroken(chain.path, 0, "no record to anchor")
    link = chain.first_break()
    if link is not None and link.line.json_error is not None:
        raise LedgerBroken(chain.path, link.line.number, "not a JSON record")
    if link is not None:
        raise LedgerBroken(chain.path, link.line.number, "hash chain broken: not anchoring it")


@contextmanager
def _locked(path: Path, operation: int, flags: int) -> Iterator[int]:
    if flags & os.O_CREAT:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, flags, 0o644)
    try:
        fcntl.flock(fd, operation)
        yield fd
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


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
