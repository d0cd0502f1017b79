"""`cutover verify`: does the evidence directory still say what the runs wrote?

Three checks, each reported line by line, then a one-line summary:

1. The ledger's hash chain: every record's `prev` is the SHA-256 of the line before it, so a
   record changed, removed or reordered breaks the chain at the line after the change.
2. The JUnit files: every criterion a JUnit file records appears in a ledger checkpoint of the
   same instant with the same verdict (and measured value), and the JUnit status agrees with it.
3. The query files: each `query_sha256` a checkpoint recorded is the SHA-256 of a file in
   `sql/` now (a named hash, `name:sha`, must match `sql/<name>.sql` itself).

The chain cannot catch a change to the *last* record or the removal of records from the end:
nothing after them carries their hash. `write_head` writes `ledger.head`, an anchor holding the
last record's line and hash, and `verify` compares it when present. The anchor lives beside the
ledger, so anyone who can rewrite both can still forge them together: keep the head hash
somewhere else too (the report prints it, so a CI job summary keeps a copy).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover import ledger
from cutover.evidence.junit import JUnitFile, read_junit_dir
from cutover.paths import sql_dir
from cutover.report.model import Checkpoint, criterion_result
from cutover.timeutil import iso, utc_now

HEAD_NAME = "ledger.head"
_SHA = re.compile(r"^[0-9a-f]{64}$")
_JUNIT_STATUS = {"pass": "passed", "fail": "failed", "inconclusive": "skipped"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the verification: a check that held, failed, or a note."""

    status: str  # ok | FAIL | note
    check: str
    message: str

    def line(self) -> str:
        return f"{self.status:<4} {self.check}: {self.message}"


@dataclass
class Verification:
    """All findings for an evidence directory; it holds when none failed."""

    evidence_dir: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and any(f.status == "ok" for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "FAIL"]

    def add(self, status: str, check: str, message: str) -> None:
        self.findings.append(Finding(status, check, message))

    def summary(self) -> str:
        """The last line `cutover verify` prints."""
        if self.ok:
            checks = sorted({f.check for f in self.findings if f.status == "ok"})
            return f"cutover verify: OK — {', '.join(checks)} hold for {self.evidence_dir}"
        failures = self.failures
        if not failures:
            return f"cutover verify: FAILED — nothing to verify in {self.evidence_dir}"
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"cutover verify: FAILED — {first.check}: {first.message}{more}"


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    raw: bytes
    data: dict[str, Any] | None  # None: not a JSON object


def _digest(raw: bytes) -> str:
    # the same digest the ledger chains with (ledger._digest): the line without its newline
    return hashlib.sha256(raw.rstrip(b"\n")).hexdigest()


def _lines(path: Path) -> list[_Line]:
    lines: list[_Line] = []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            data = None
        lines.append(_Line(number, raw, data if isinstance(data, dict) else None))
    return lines


def verify(evidence_dir: Path) -> Verification:
    """Run every check on an evidence directory."""
    result = Verification(evidence_dir)
    path = ledger.ledger_path(evidence_dir)
    if not path.exists():
        result.add("FAIL", "ledger", f"no {path.name} in {evidence_dir}")
        checkpoints: list[Checkpoint] = []
    else:
        lines = _lines(path)
        _check_chain(result, path, lines)
        _check_head(result, evidence_dir, lines)
        checkpoints = _checkpoints(lines)
    _check_junit(result, read_junit_dir(evidence_dir), checkpoints)
    _check_queries(result, checkpoints, sql_dir())
    return result


def _check_chain(result: Verification, path: Path, lines: Sequence[_Line]) -> None:
    if not lines:
        result.add("FAIL", "ledger", f"{path.name} holds no record")
        return
    digests = {_digest(line.raw): line.number for line in lines}
    previous: _Line | None = None
    breaks = 0
    for line in lines:
        if line.data is None:
            result.add("FAIL", "ledger", f"{path.name} line {line.number}: not a JSON record")
            breaks += 1
        else:
            expected = _digest(previous.raw) if previous is not None else ""
            prev = line.data.get("prev")
            if prev != expected:
                result.add("FAIL", "ledger", _break_message(path, line, previous, prev, digests))
                breaks += 1
        previous = line
    if not breaks:
        result.add("ok", "ledger", f"{path.name}: {len(lines)} records, hash chain intact")


def _break_message(
    path: Path, line: _Line, previous: _Line | None, prev: Any, digests: dict[str, int]
) -> str:
    where = f"{path.name} line {line.number}: hash chain broken"
    if previous is None:
        return f"{where}: the first record names a predecessor (records removed before it?)"
    elsewhere = digests.get(str(prev)) if prev else None
    if elsewhere is not None and elsewhere != previous.number:
        return f"{where}: it follows line {elsewhere}, not line {previous.number} (reordered)"
    return (
        f"{where}: it does not follow line {previous.number} "
        f"(line {previous.number} was changed, or a record before line {line.number} "
        "was removed or reordered)"
    )


def head_path(evidence_dir: Path) -> Path:
    return evidence_dir / HEAD_NAME


def write_head(evidence_dir: Path) -> Path:
    """Anchor the ledger's last record in `ledger.head` (line, SHA-256); returns its path.

    Refuses (LedgerBroken) to anchor a chain that does not verify: an anchor must not make a
    changed ledger look whole. Written atomically; a later append leaves the anchor valid for
    the records it covers."""
    path = ledger.ledger_path(evidence_dir)
    with open(path, "rb") as handle:
        # a shared lock: appends (exclusive) wait, so the last line read is a whole record
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        try:
            content = handle.read()
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    numbered = [(n, raw) for n, raw in enumerate(content.split(b"\n"), start=1) if raw.strip()]
    if not numbered:
        raise ledger.LedgerBroken(path, 0, "no record to anchor")
    previous = ""
    for number, raw in numbered:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise ledger.LedgerBroken(path, number, "not a JSON record") from None
        if not isinstance(data, dict) or data.get("prev") != previous:
            raise ledger.LedgerBroken(path, number, "hash chain broken: not anchoring it")
        previous = _digest(raw)
    number, raw = numbered[-1]
    anchor = {
        "line": number,
        "sha256": _digest(raw),
        "records": len(numbered),
        "at": iso(utc_now()),
    }
    target = head_path(evidence_dir)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(anchor, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, target)
    return target


def _check_head(result: Verification, evidence_dir: Path, lines: Sequence[_Line]) -> None:
    target = head_path(evidence_dir)
    last = lines[-1].number if lines else 0
    if not target.exists():
        result.add(
            "note",
            "head",
            f"no {HEAD_NAME}: a change to the last record (line {last}) or records removed from "
            "the end cannot be detected",
        )
        return
    try:
        anchor = json.loads(target.read_text(encoding="utf-8"))
        number, sha = int(anchor["line"]), str(anchor["sha256"])
    except (ValueError, KeyError, TypeError):
        result.add("FAIL", "head", f"{HEAD_NAME} is not a readable anchor")
        return
    by_number = {line.number: line for line in lines}
    anchored = by_number.get(number)
    if anchored is None:
        result.add(
            "FAIL",
            "head",
            f"{HEAD_NAME} anchors line {number}, but the ledger ends at line {last}: "
            "records were removed from the end",
        )
        return
    if _digest(anchored.raw) != sha:
        result.add(
            "FAIL",
            "head",
            f"ledger.jsonl line {number} does not match {HEAD_NAME}: the anchored record "
            "was changed",
        )
        return
    result.add("ok", "head", f"line {number} matches {HEAD_NAME}")
    later = [line.number for line in lines if line.number > number]
    if later:
        result.add(
            "note",
            "head",
            f"{len(later)} record(s) after the anchor (lines {later[0]}..{later[-1]}) "
            "are not anchored",
        )


def _checkpoints(lines: Iterable[_Line]) -> list[Checkpoint]:
    found: list[Checkpoint] = []
    for line in lines:
        data = line.data
        if data is None or data.get("type") != "checkpoint":
            continue
        raw = data.get("results")
        results = (
            tuple(
                criterion_result(str(name), values)
                for name, values in sorted(raw.items())
                if isinstance(values, dict)
            )
            if isinstance(raw, dict)
            else ()
        )
        found.append(
            Checkpoint(
                line=line.number,
                selection=str(data.get("selection", "")),
                as_of=str(data.get("as_of", "")),
                at=str(data.get("at", "")),
                target=str(data.get("target", "")),
                scenario=data.get("scenario"),
                results=results,
            )
        )
    return found


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _check_junit(
    result: Verification, files: Sequence[JUnitFile], checkpoints: Sequence[Checkpoint]
) -> None:
    for junit in files:
        if junit.problem:
            result.add("note", "junit", f"{junit.name}: skipped, {junit.problem}")
            continue
        decided = [c for c in junit.cases if c.criterion]
        problems: list[str] = []
        for case in decided:
            props = case.properties
            criterion, verdict = case.criterion, props.get("verdict", "")
            expected_status = _JUNIT_STATUS.get(verdict)
            if expected_status and case.status not in (expected_status, "error"):
                problems.append(f"{criterion} is {verdict} but the test case is {case.status}")
            same_instant = [
                (c, r)
                for c in checkpoints
                if (r := c.result(criterion)) is not None and r.as_of == props.get("as_of", "")
            ]
            if not same_instant:
                problems.append(
                    f"{criterion} (as of {props.get('as_of', '?')}) is in no ledger checkpoint"
                )
                continue
            if any(
                r.verdict == verdict and _same(r.measured, props.get("measured", ""))
                for _, r in same_instant
            ):
                continue
            checkpoint, recorded = same_instant[-1]
            if recorded.verdict != verdict:
                problems.append(
                    f"{criterion} is {verdict} here but {recorded.verdict} in the ledger "
                    f"(line {checkpoint.line})"
                )
            else:
                problems.append(
                    f"{criterion} measured {props.get('measured', '')!r} here but "
                    f"{recorded.measured!r} in the ledger (line {checkpoint.line})"
                )
        for problem in problems:
            result.add("FAIL", "junit", f"{junit.name}: {problem}")
        if not problems:
            result.add("ok", "junit", f"{junit.name}: {len(decided)} criteria match the ledger")


def _sql_hashes(directory: Path) -> dict[str, dict[str, str]]:
    """File name -> its digests: of the bytes, and of the text as the query loader hashes it."""
    hashes: dict[str, dict[str, str]] = {}
    if not directory.is_dir():
        return hashes
    for path in sorted(directory.glob("*.sql")):
        data = path.read_bytes()
        text = path.read_text(encoding="utf-8", errors="replace")
        hashes[path.name] = {
            hashlib.sha256(data).hexdigest(): "bytes",
            hashlib.sha256(text.encode()).hexdigest(): "text",
        }
    return hashes


def _check_queries(
    result: Verification, checkpoints: Sequence[Checkpoint], directory: Path
) -> None:
    hashes = _sql_hashes(directory)
    # one finding per changed file (or unknown hash), with every ledger line that recorded it
    changed: dict[str, tuple[str, list[int]]] = {}
    checked = 0
    for checkpoint in checkpoints:
        for r in checkpoint.results:
            recorded = _recorded_hashes(r.query_sha256)
            checked += len(recorded)
            for key, message in _query_problems(recorded, r.source, hashes, directory):
                changed.setdefault(key, (message, []))[1].append(checkpoint.line)
    for _, (message, lines) in sorted(changed.items()):
        shown = ", ".join(str(n) for n in sorted(set(lines))[:8])
        result.add("FAIL", "queries", f"{message} (recorded at ledger line {shown})")
    if checked and not changed:
        result.add("ok", "queries", f"{checked} recorded query hashes match files in {directory}")
    if not checked:
        result.add("note", "queries", "no checkpoint recorded a query hash")


def _recorded_hashes(value: str) -> list[tuple[str, str]]:
    """`sha`, `sha,sha` or `name:sha,name:sha` -> [(name or "", sha)]."""
    pairs: list[tuple[str, str]] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, digest = part.rpartition(":")
        pairs.append((name.strip(), digest.strip().lower()))
    return pairs


def _query_problems(
    recorded: Sequence[tuple[str, str]],
    source: str,
    hashes: dict[str, dict[str, str]],
    directory: Path,
) -> list[tuple[str, str]]:
    """(grouping key, message) for each recorded hash that no file in sql/ has now."""
    folder = directory.name
    known = {digest for digests in hashes.values() for digest in digests}
    problems: list[tuple[str, str]] = []
    unnamed: list[str] = []
    for name, digest in recorded:
        if not _SHA.match(digest):
            problems.append((digest, f"{digest!r} is not a SHA-256"))
        elif name:
            file = f"{name}.sql"
            if file not in hashes:
                problems.append((file, f"{folder}/{file} is gone (its hash was recorded)"))
            elif digest not in hashes[file]:
                problems.append((file, f"{folder}/{file} changed since it ran"))
        elif digest not in known:
            unnamed.append(digest)
    if unnamed:
        # the source names the files; those matching no recorded hash are the changed ones
        digests = {d for _, d in recorded}
        named = [f for f in re.findall(r"sql/([\w.-]+\.sql)", source) if f in hashes]
        suspects = [f for f in named if not digests & set(hashes[f])]
        if suspects and len(suspects) <= len(unnamed):
            problems += [(f, f"{folder}/{f} changed since it ran") for f in suspects]
        else:
            problems += [
                (d, f"no file in {folder}/ has the recorded hash {d[:12]}… (a query changed)")
                for d in unnamed
            ]
    return problems


def main(evidence_dir: Path) -> int:
    """Print every finding, then the summary; 0 when everything holds, 1 otherwise."""
    result = verify(evidence_dir)
    for finding in result.findings:
        print(finding.line())
    print(result.summary())
    return 0 if result.ok else 1
