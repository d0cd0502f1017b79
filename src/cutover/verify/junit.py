"""The JUnit check of `cutover verify`: every criterion a JUnit file records is in a ledger
checkpoint of the same instant with the same verdict (and measured value), and the test case's
status agrees with its verdict."""

from __future__ import annotations

from collections.abc import Sequence

from cutover.evidence.junit import JUnitCase, JUnitFile
from cutover.ledger.records import Checkpoint
from cutover.verify.findings import Verification

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
