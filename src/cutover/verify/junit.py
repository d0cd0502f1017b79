"""The JUnit checks of `cutover verify`: every criterion a JUnit file records is in a ledger
checkpoint of the same instant with the same verdict (and measured value), and the test case's
status agrees with its verdict (an `error` criterion is a <failure> or an <error>); and the
ledger's head before and after each run, as its JUnit file recorded them, is still in the
ledger as it was, so an edit of the last record is caught even when `ledger.head` was
rewritten to fit it."""

from __future__ import annotations

from collections.abc import Sequence

from cutover.evidence.junit import JUnitCase, JUnitFile
from cutover.ledger.anchor import parse_label
from cutover.ledger.chain import Chain, digest
from cutover.ledger.records import Checkpoint
from cutover.verify.findings import Verification

# the JUnit status a verdict is written with (pytest writes a gate test's error as <failure>
# when it raised in the test, as <error> when it raised in a fixture)
_JUNIT_STATUS = {
    "pass": ("passed",),
    "fail": ("failed", "error"),
    "inconclusive": ("skipped",),
    "error": ("failed", "error"),
}
HEAD_PROPERTIES = ("ledger_head_before", "ledger_head_after")


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
        for case in junit.cases:
            if case.status in ("failed", "error") and not case.criterion:
                result.add(
                    "note",
                    "junit",
                    f"{junit.name}: {case.classname}::{case.name} {case.status} and decided no "
                    "criterion (its run did not proceed)",
                )
        if not problems:
            result.add("ok", "junit", f"{junit.name}: {len(decided)} criteria match the ledger")


def _case_problems(case: JUnitCase, checkpoints: Sequence[tuple[int, Checkpoint]]) -> list[str]:
    props = case.properties
    criterion, verdict = case.criterion, props.get("verdict", "")
    problems: list[str] = []
    expected_status = _JUNIT_STATUS.get(verdict)
    if expected_status and case.status not in (*expected_status, "error"):
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


def check_junit_heads(result: Verification, files: Sequence[JUnitFile], chain: Chain) -> None:
    """Each head a run recorded (`line:sha256`) is that line of the ledger now, unchanged."""
    lines = {link.line.number: link.line for link in chain.links}
    for junit in files:
        recorded = [(n, junit.properties[n]) for n in HEAD_PROPERTIES if n in junit.properties]
        problems = []
        for name, label in recorded:
            head = parse_label(label)
            if head is None:
                continue  # "none": the run found no ledger
            number, sha256 = head
            line = lines.get(number)
            if line is None:
                problems.append(
                    f"{name} is line {number}, which the ledger no longer has (records were "
                    "removed)"
                )
            elif digest(line.raw) != sha256:
                problems.append(
                    f"{name} is line {number} as {sha256[:12]}…, but that line is now "
                    f"{digest(line.raw)[:12]}… (the record was changed after the run)"
                )
        for problem in problems:
            result.add("FAIL", "junit", f"{junit.name}: {problem}")
        if recorded and not problems:
            result.add("ok", "junit", f"{junit.name}: the ledger heads it recorded are unchanged")
