"""The report's tables as plain data: one header and one row of typed cells per line.

Both renderers show the same tables; what goes in each cell is decided here, once. A cell holds
plain text (never escaped) and a `kind` that tells a renderer how to mark it up:

- `text`: prose or a measured value, shown as it is;
- `code`: an identifier (a criterion, a selection, a file name);
- `verdict`: a criterion's recorded verdict (`pass`, `fail`, `inconclusive`, …);
- `action`: a run verdict's action name (`PROCEED`, `HOLD`, `ROLLBACK`);
- `number`: a count or a size, right-aligned where the renderer can;
- `instant`: a timestamp;
- `window`: a measured window; `parts` holds its ends, `text` them joined by " → ".

A cell's `note` is a remark shown after its text, subdued where the renderer can; a `struck` cell
is shown struck through (a checkpoint set aside).
`checkpoint_where` is the one line of prose both renderers share, marked up by callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cutover.evidence.verdict import SEEDED_NOTE
from cutover.outcome import Outcome
from cutover.report.model import (
    ChainStatus,
    Checkpoint,
    CriterionResult,
    Evidence,
    SelectionVerdict,
)

CellKind = Literal["text", "code", "verdict", "action", "number", "instant", "window"]
AFTER_AS_OF = "(after the latest as-of)"


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell: plain text and how to mark it up (see the module's docstring)."""

    text: str
    kind: CellKind = "text"
    note: str = ""
    parts: tuple[str, ...] = ()
    struck: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def number(value: object) -> Cell:
    return Cell(str(value), "number")


def verdict_table(evidence: Evidence) -> Table:
    """The latest checkpoint of each selection and the verdict it reconstructs; `error` counts
    the criteria recorded as errored and the gate tests that errored deciding none."""
    header: tuple[str, ...] = ("selection", "as of", "verdict", "scope", "pass", "fail")
    header += ("inconclusive", "waived", "error", "line")
    return Table(header, tuple(_verdict_row(s) for s in evidence.latest))


def _verdict_row(selection: SelectionVerdict) -> tuple[Cell, ...]:
    checkpoint = selection.checkpoint
    shown = (Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.WAIVED)
    counts = [checkpoint.count(o) for o in shown]
    return (
        Cell(selection.selection, "code"),
        Cell(checkpoint.as_of),
        Cell(selection.verdict.action.name, "action"),
        Cell(scope_text(checkpoint)),
        *(number(count) for count in counts),
        number(checkpoint.count(Outcome.ERROR) + len(selection.errors)),
        number(checkpoint.line),
    )


def scope_text(checkpoint: Checkpoint) -> str:
    """`all 9 criteria`, `partial: 1 of 9 criteria (-k success_rate)`, or "" (not recorded)."""
    scope = checkpoint.scope
    if scope is None:
        return ""
    return checkpoint.partial[0] if checkpoint.partial else f"all {scope.held} criteria"


def partial_note(checkpoint: Checkpoint) -> str:
    """The sentence a partial checkpoint's section carries; "" for a whole one."""
    if not checkpoint.partial:
        return ""
    return f"A partial run ({checkpoint.partial[0]}): it decides no gate."


def chain_warning(chain: ChainStatus) -> str:
    """Why the ledger's records cannot be trusted; "" when its chain and anchor hold."""
    if not chain.ok:
        return f"The ledger's hash chain is broken at line {chain.line}: {chain.message}."
    if not chain.anchored:
        return f"The ledger's anchor does not vouch for its last record: {chain.message}."
    return ""


RESULT_HEADER = ("criterion", "verdict", "measured", "threshold", "window", "sample size")


def result_table(checkpoint: Checkpoint) -> Table:
    """Every criterion a checkpoint recorded."""
    return Table(RESULT_HEADER, tuple(result_row(r) for r in checkpoint.results))


def result_row(result: CriterionResult) -> tuple[Cell, ...]:
    """criterion, verdict, measured, threshold, window, sample size."""
    return (
        Cell(result.criterion, "code"),
        Cell(result.verdict, "verdict", note=verdict_note(result)),
        Cell(result.measured),
        Cell(result.threshold),
        Cell(result.window, "window", parts=result.window_ends),
        Cell(result.sample_size, "number"),
    )


def verdict_note(result: CriterionResult) -> str:
    """`advisory` (it changed no action), `forced` (a waived rollback trigger), or ""."""
    waived = result.recorded().waived
    notes = ["advisory"] if result.advisory else []
    notes += ["forced"] if waived is not None and waived.forced else []
    return ", ".join(notes)


def failed_table(evidence: Evidence) -> Table:
    """The criteria the latest checkpoints failed, with what a failure asks for."""
    rows = (
        (Cell(r.criterion, "code"), Cell(s.selection, "code"), Cell(r.on_fail), Cell(r.reason))
        for s in evidence.latest
        for r in s.checkpoint.results
        if r.verdict == "fail"
    )
    return Table(("criterion", "selection", "on fail", "reason"), tuple(rows))


def outcome_table(evidence: Evidence, outcome: Outcome) -> Table:
    """The criteria the latest checkpoints ended with `outcome` (inconclusive: unknown verdicts
    too), and why."""
    rows = (
        (Cell(r.criterion, "code"), Cell(s.selection, "code"), Cell(r.reason))
        for s in evidence.latest
        for r in s.checkpoint.results
        if r.outcome is outcome
    )
    return Table(("criterion", "selection", "reason"), tuple(rows))


def not_passed_tables(evidence: Evidence) -> list[tuple[str, Table]]:
    """The failed, errored, then inconclusive criteria, each under its heading; empty ones left
    out."""
    found = (
        ("Failed", failed_table(evidence)),
        ("Errored", outcome_table(evidence, Outcome.ERROR)),
        ("Inconclusive", outcome_table(evidence, Outcome.INCONCLUSIVE)),
        ("Waived", outcome_table(evidence, Outcome.WAIVED)),
    )
    return [(f"{title} ({len(table.rows)})", table) for title, table in found if table.rows]


def timeline_table(evidence: Evidence) -> Table:
    """Stage events, rollbacks, attestations and checkpoints, in the order they concern."""
    rows = (
        (
            Cell(e.at, "instant", note=AFTER_AS_OF if e.after_as_of else ""),
            Cell(e.kind),
            Cell(e.summary, struck=bool(e.set_aside), note=e.set_aside),
            number(e.line),
        )
        for e in evidence.timeline()
    )
    return Table(("when (UTC)", "event", "detail", "line"), tuple(rows))


def decisions_table(evidence: Evidence) -> Table:
    """Every waiver (with its reason) and every checkpoint set aside, in ledger order."""
    rows = (
        (number(e.line), Cell(e.at, "instant"), Cell(e.data.get("kind", "")), Cell(e.summary))
        for e in evidence.decisions
    )
    return Table(("line", "when (UTC)", "decision", "detail"), tuple(rows))


def junit_table(evidence: Evidence) -> Table:
    """The JUnit files of the evidence directory, their counts, and why one could not be read."""
    rows = (
        (
            Cell(f.name, "code"),
            Cell(f.as_of),
            number(len(f.cases)),
            *(number(f.count(status)) for status in ("passed", "failed", "skipped", "error")),
            Cell(f.problem),
        )
        for f in evidence.junit
    )
    header = ("JUnit file", "as of", "tests", "passed", "failed", "skipped", "errors", "note")
    return Table(header, tuple(rows))


def checkpoint_where(
    checkpoint: Checkpoint, text: Callable[[str], str], code: Callable[[str], str]
) -> str:
    """Where and when a checkpoint was recorded, one sentence; `text` and `code` mark values up."""
    where = f"target {text(checkpoint.target or 'unknown')}"
    if checkpoint.scenario:
        where += f", scenario {code(checkpoint.scenario)}"
    if checkpoint.seeded:
        where += f" — {SEEDED_NOTE}"
    return f"{where}; ledger line {checkpoint.line}, recorded {text(checkpoint.at)}."
