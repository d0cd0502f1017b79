"""`cutover verify`: does the evidence directory still say what the runs wrote?

Three checks, each reported line by line, then a one-line summary:

1. The ledger (`chain`): every record's `prev` is the SHA-256 of the line before it, so a record
   changed, removed or reordered breaks the chain at the line after the change; `ledger.head`,
   when present, still anchors the last record it covered; every checkpoint fits its schema.
2. The JUnit files (`junit`): every criterion a JUnit file records appears in a ledger
   checkpoint of the same instant with the same verdict (and measured value), and the JUnit
   status agrees with it.
3. The query files (`queries`): each `query_sha256` a checkpoint recorded is the SHA-256 of a
   file in `sql/` now (a named hash, `name:sha`, must match `sql/<name>.sql` itself).

The ledger is read through `cutover.ledger.store` (the same chain walker the gates read with),
the JUnit files through `cutover.evidence.junit`; nothing here imports the report.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cutover.evidence.junit import JUnitCase, JUnitFile, read_junit_dir
from cutover.ledger import store as ledger_store
from cutover.ledger.errors import RecordInvalid
from cutover.ledger.records import Checkpoint
from cutover.ledger.store import HEAD_NAME, Chain, Link, Store
from cutover.paths import sql_dir


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the verification: a check that held, failed, or a note."""

    status: str  # ok | FAIL | note
    check: str
    message: str

    def line(self) -> str:
        return f"{self.status:<4} {self.check}: {self.message}"


@dataclass(slots=True)
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


def check_chain(result: Verification, chain: Chain) -> None:
    """Every break of the chain (not just the first), with what most likely happened."""
    name = chain.path.name
    if not chain.links:
        result.add("FAIL", "ledger", f"{name} holds no record")
        return
    digests = {ledger_store.digest(link.line.raw): link.line.number for link in chain.links}
    breaks = 0
    for link in chain.links:
        if link.line.data is None:
            result.add("FAIL", "ledger", f"{name} line {link.line.number}: not a JSON record")
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
    """The anchored line is still there and unchanged; later records are noted, not anchored."""
    last = chain.links[-1].line.number if chain.links else 0
    try:
        head = store.head()
    except ValueError:
        result.add("FAIL", "head", f"{HEAD_NAME} is not a readable anchor")
        return
    if head is None:
        result.add(
            "note",
            "head",
            f"no {HEAD_NAME}: a change to the last record (line {last}) or records removed from "
            "the end cannot be detected",
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
    if ledger_store.digest(anchored.raw) != head.sha256:
        result.add(
            "FAIL",
            "head",
            f"ledger.jsonl line {head.line} does not match {HEAD_NAME}: the anchored record "
            "was changed",
        )
        return
    result.add("ok", "head", f"line {head.line} matches {HEAD_NAME}")
    later = [number for number in by_number if number > head.line]
    if later:
        result.add(
            "note",
            "head",
            f"{len(later)} record(s) after the anchor (lines {later[0]}..{later[-1]}) "
            "are not anchored",
        )


def checkpoints(result: Verification, chain: Chain) -> list[tuple[int, Checkpoint]]:
    """(line, record) of every checkpoint (also past a break); one that does not fit its schema
    fails the ledger check."""
    found: list[tuple[int, Checkpoint]] = []
    for entry in chain.entries:
        if entry.type != "checkpoint":
            continue
        try:
            record = entry.parse()
        except RecordInvalid as exc:
            result.add("FAIL", "ledger", f"{chain.path.name} line {exc.line}: {exc.reason}")
            continue
        if isinstance(record, Checkpoint):
            found.append((entry.line, record))
    return found


_JUNIT_STATUS = {"pass": "passed", "fail": "failed", "inconclusive": "skipped"}


def check_junit(
    result: Verification, files: Sequence[JUnitFile], checkpoints: Sequence[tuple[int, Checkpoint]]
) -> None:
    for junit in files:
        if junit.problem:
            result.add("note", "junit", f"{junit.name}: skipped, {junit.problem}")
            continue
        decided = [c for c in junit.cases if c.criterion]
        problems = [p for case in decided for p in _case_problems(case, checkpoints)]
        for problem in problems:
            result.add("FAIL", "junit", f"{junit.name}: {problem}")
        if not problems:
            result.add("ok", "junit", f"{junit.name}: {len(decided)} criteria match the ledger")


def _case_problems(case: JUnitCase, checkpoints: Sequence[tuple[int, Checkpoint]]) -> list[str]:
    props = case.properties
    criterion, verdict = case.criterion, props.get("verdict", "")
    problems: list[str] = []
    expected_status = _JUNIT_STATUS.get(verdict)
    if expected_status and case.status not in (expected_status, "error"):
        problems.append(f"{criterion} is {verdict} but the test case is {case.status}")
    same_instant = [
        (line, r)
        for line, c in checkpoints
        if (r := c.result(criterion)) is not None and r.text("as_of") == props.get("as_of", "")
    ]
    if not same_instant:
        problems.append(f"{criterion} (as of {props.get('as_of', '?')}) is in no ledger checkpoint")
        return problems
    if any(
        r.text("verdict") == verdict and _same(r.text("measured"), props.get("measured", ""))
        for _, r in same_instant
    ):
        return problems
    line, recorded = same_instant[-1]
    if recorded.text("verdict") != verdict:
        problems.append(
            f"{criterion} is {verdict} here but {recorded.text('verdict')} in the ledger "
            f"(line {line})"
        )
    else:
        problems.append(
            f"{criterion} measured {props.get('measured', '')!r} here but "
            f"{recorded.text('measured')!r} in the ledger (line {line})"
        )
    return problems


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


_SHA = re.compile(r"^[0-9a-f]{64}$")


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


def check_queries(
    result: Verification, checkpoints: Sequence[tuple[int, Checkpoint]], directory: Path
) -> None:
    hashes = _sql_hashes(directory)
    # one finding per changed file (or unknown hash), with every ledger line that recorded it
    changed: dict[str, tuple[str, list[int]]] = {}
    checked = 0
    for line, checkpoint in checkpoints:
        for r in checkpoint.results:
            recorded = _recorded_hashes(r.text("query_sha256"))
            checked += len(recorded)
            for key, message in _query_problems(recorded, r.text("source"), hashes, directory):
                changed.setdefault(key, (message, []))[1].append(line)
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


def verify(evidence_dir: Path) -> Verification:
    """Run every check on an evidence directory."""
    result = Verification(evidence_dir)
    store = Store(evidence_dir)
    recorded: list[tuple[int, Checkpoint]] = []
    if not store.path.exists():
        result.add("FAIL", "ledger", f"no {store.path.name} in {evidence_dir}")
    else:
        chain = store.chain()
        check_chain(result, chain)
        check_head(result, store, chain)
        recorded = checkpoints(result, chain)
    check_junit(result, read_junit_dir(evidence_dir), recorded)
    check_queries(result, recorded, sql_dir())
    return result


def main(evidence_dir: Path) -> int:
    """Print every finding, then the summary; 0 when everything holds, 1 otherwise."""
    result = verify(evidence_dir)
    for finding in result.findings:
        print(finding.line())
    print(result.summary())
    return 0 if result.ok else 1
