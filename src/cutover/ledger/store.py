"""The ledger file and its anchor `ledger.head`: the only module that reads or writes either.

The ledger is an append-only, hash-chained JSON-lines file in the evidence directory
(`cutover.ledger.chain`); `ledger.head` anchors its last record (`cutover.ledger.anchor`).
The store refuses what it cannot vouch for: every read verifies the chain and the anchor, and
every append verifies them again under its exclusive lock, refuses a broken chain (naming the
line and `cutover verify`), a last record that is not the anchored one, and a last line without
its newline (it would write onto it); then it writes the record and anchors it, under the same
lock, so that no reader ever sees a record that is not anchored. Reads take a shared lock, so
they never see half an append.

A process remembers the bytes of the ledger it verified (their length and SHA-256): an append
that finds them unchanged walks only the lines added since, so many appends stay linear.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.ledger.anchor import (
    HEAD_NAME,
    Head,
    HeadSigner,
    anchor_problem,
    anchors_last,
    head_path,
)
from cutover.ledger.chain import (
    LEDGER_NAME,
    VERIFY_HINT,
    Chain,
    Line,
    Link,
    digest,
    encode,
    walk,
)
from cutover.ledger.errors import LedgerBroken, LedgerUnwritable
from cutover.ledger.records import Entry, LedgerRecord, parse
from cutover.timeutil import iso, utc_now

__all__ = [
    "HEAD_NAME",
    "LEDGER_NAME",
    "Chain",
    "Head",
    "HeadSigner",
    "Line",
    "Link",
    "Store",
    "digest",
    "encode",
    "head_path",
    "ledger_path",
    "walk",
]


def ledger_path(evidence_dir: Path) -> Path:
    return evidence_dir / LEDGER_NAME


@dataclass(frozen=True, slots=True)
class _Verified:
    """What this process verified of a ledger file: its first `size` bytes (their SHA-256),
    `lines` lines of them, `records` records, the last of them `last`."""

    size: int
    sha256: str
    lines: int
    records: int
    last: Line | None


_VERIFIED: dict[Path, _Verified] = {}


@dataclass(frozen=True, slots=True)
class Store:
    """The ledger of one evidence directory."""

    evidence_dir: Path
    sign: HeadSigner | None = None
    # what is wrong with the head's signature (None: nothing), when the settings can check one
    check: Callable[[Path], str | None] | None = None

    @property
    def path(self) -> Path:
        return ledger_path(self.evidence_dir)

    @property
    def head_path(self) -> Path:
        return head_path(self.evidence_dir)

    def append(self, record: LedgerRecord) -> dict[str, Any]:
        """Append one record, chained to the last line, and anchor it in `ledger.head`.

        LedgerBroken, before anything is written, when the chain or the anchor does not verify
        or the last line is truncated; RecordInvalid when the record does not fit its own
        schema (an `OtherRecord` of a type that has one); LedgerUnwritable when the file cannot
        be written (what was written of the record is then taken back, the anchor left as it
        was). Returns what was written."""
        try:
            with _locked(self.path, fcntl.LOCK_EX, os.O_RDWR | os.O_CREAT | os.O_APPEND) as fd:
                content = _read_all(fd)
                verified, hashed = self._verified(content)
                prev = digest(verified.last.raw) if verified.last else ""
                written = {**record.to_json(), "prev": prev}
                parse(verified.lines + 1, written)  # never write a line no reader could read
                line = encode(written)
                hashed.update(line)
                after = _Verified(
                    size=len(content) + len(line),
                    sha256=hashed.hexdigest(),
                    lines=verified.lines + 1,
                    records=verified.records + 1,
                    last=Line(verified.lines + 1, line.rstrip(b"\n"), written),
                )
                head = Head(after.lines, digest(line), after.records, iso(utc_now()))
                self._write_anchored(fd, len(content), line, head)
                _VERIFIED[self.path.resolve()] = after
        except OSError as exc:
            raise LedgerUnwritable(Path(exc.filename or self.path), exc) from None
        return written

    def _write_anchored(self, fd: int, size: int, line: bytes, head: Head) -> None:
        """Write the line, then its anchor (and signature); on any failure take both back."""
        before = self._head_bytes()
        try:
            _write_all(fd, line)
            self._write_head(head)
        except BaseException:
            os.ftruncate(fd, size)
            if before is None:
                self.head_path.unlink(missing_ok=True)
            else:
                self._replace_head(before)
            raise

    def _verified(self, content: bytes) -> tuple[_Verified, Any]:
        """`content` verified for an append (see the module's docstring), with the running
        SHA-256 of it; LedgerBroken if it does not verify."""
        if content and not content.endswith(b"\n"):
            raise LedgerBroken(
                self.path,
                content.count(b"\n") + 1,
                "the last line has no newline at its end (truncated, or edited by hand): "
                f"refusing to write onto it; {VERIFY_HINT}",
            )
        known = _VERIFIED.get(self.path.resolve())
        hashed = hashlib.sha256()
        if known is not None and known.size <= len(content):
            hashed.update(content[: known.size])
            if hashed.hexdigest() != known.sha256:
                known, hashed = None, hashlib.sha256()
        else:
            known = None
        start = known or _Verified(0, "", 0, 0, None)
        added = content[start.size :]
        hashed.update(added)
        links = walk(added, first_number=start.lines + 1, previous=start.last)
        broken = Chain(self.path, tuple(links)).broken()
        if broken is not None:
            raise broken
        last = links[-1].line if links else start.last
        head = self._head_or_broken()
        if not anchors_last(head, last):
            # the whole file, to say what happened (the anchored line changed, removed, ...)
            problem = anchor_problem(head, Chain(self.path, tuple(walk(content))))
            if problem is not None:
                raise problem
        if last is not None:
            self._check_signature()
        lines = start.lines + added.count(b"\n")
        verified = _Verified(len(content), "", lines, start.records + len(links), last)
        return verified, hashed

    def _write_head(self, head: Head) -> None:
        self._replace_head(head.text().encode())
        if self.sign is not None:
            self.sign(head)

    def _replace_head(self, text: bytes) -> None:
        """Written atomically: a reader sees the old anchor or the new one."""
        partial = self.head_path.with_name(HEAD_NAME + ".partial")
        partial.write_bytes(text)
        os.replace(partial, self.head_path)

    def _head_bytes(self) -> bytes | None:
        try:
            return self.head_path.read_bytes()
        except FileNotFoundError:
            return None

    def chain(self) -> Chain:
        """The file walked line by line (empty when there is no ledger); never raises on a break.
        LedgerBroken (line 0) when the file is there but cannot be read."""
        return self._walk() if self.path.exists() else Chain(self.path, ())

    def _walk(self) -> Chain:
        try:
            with _locked(self.path, fcntl.LOCK_SH, os.O_RDONLY) as fd:
                content = _read_all(fd)
        except OSError as exc:
            raise LedgerBroken(
                self.path, 0, f"cannot be read ({exc.strerror or exc}); expected a ledger file"
            ) from None
        return Chain(self.path, tuple(walk(content)))

    def verify(self) -> Chain:
        """The chain, verified with its anchor: LedgerBroken, naming the line, when a record
        was changed, removed, reordered or appended by hand, or the anchor does not fit."""
        chain = self.chain()
        broken = chain.broken()
        if broken is not None:
            raise broken
        problem = anchor_problem(self._head_or_broken(), chain)
        if problem is not None:
            raise problem
        if chain.links:
            self._check_signature()
        return chain

    def _check_signature(self) -> None:
        """A head whose signature the settings can check and that does not verify is a broken
        ledger: rewriting the anchor without the key must not let a run use or extend it."""
        problem = None if self.check is None else self.check(self.evidence_dir)
        if problem is not None:
            raise LedgerBroken(self.path, 0, f"{problem}; {VERIFY_HINT}")

    def read(self) -> list[Entry]:
        """Every record, after verifying the chain and the anchor (LedgerBroken if they fail)."""
        return self.verify().entries

    def head(self) -> Head | None:
        """The anchor, None when there is none; ValueError when it is not readable."""
        try:
            text = self.head_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return Head.parse(text)

    def _head_or_broken(self) -> Head | None:
        try:
            return self.head()
        except (ValueError, OSError) as exc:
            raise LedgerBroken(
                self.path, 0, f"{HEAD_NAME} is not a readable anchor ({exc}); {VERIFY_HINT}"
            ) from None

    def write_head(self) -> Path:
        """Anchor the last record in `ledger.head` anew; returns its path.

        For a ledger whose chain verifies and whose anchor, if it has one, names its last
        record: it never re-anchors a last record that was changed, nor records that were
        appended after the anchor or removed from the end (LedgerBroken)."""
        if not self.path.exists():
            raise LedgerBroken(self.path, 0, "no record to anchor")
        with _locked(self.path, fcntl.LOCK_EX, os.O_RDONLY) as fd:
            chain = Chain(self.path, tuple(walk(_read_all(fd))))
            _refuse_to_anchor(chain)
            head = self._head_or_broken()
            if head is not None:
                problem = anchor_problem(head, chain)
                if problem is not None:
                    raise problem
            last = chain.links[-1].line
            self._write_head(Head(last.number, digest(last.raw), len(chain.links), iso(utc_now())))
        return self.head_path


def _refuse_to_anchor(chain: Chain) -> None:
    if not chain.links:
        raise LedgerBroken(chain.path, 0, "no record to anchor")
    link = chain.first_break()
    if link is not None:
        raise LedgerBroken(chain.path, link.line.number, f"{link.problem()}: not anchoring it")


#: how long a read or an append waits for another process's lock on the ledger (an append
#: holds it for milliseconds): past it, a stuck holder is reported instead of hanging the job
LOCK_WAIT_SECONDS = 120.0


@contextmanager
def _locked(path: Path, operation: int, flags: int) -> Iterator[int]:
    if flags & os.O_CREAT:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, flags, 0o644)
    try:
        _wait_for_lock(fd, operation, path)
        yield fd
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _wait_for_lock(fd: int, operation: int, path: Path) -> None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LedgerBroken(
                    path,
                    0,
                    f"another process has held its lock for over {LOCK_WAIT_SECONDS:g} s (a "
                    "cutover command still running, or stuck?); nothing was read or written",
                ) from None
            time.sleep(0.01)


def _read_all(fd: int) -> bytes:
    chunks = []
    os.lseek(fd, 0, os.SEEK_SET)
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
