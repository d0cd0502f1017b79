"""The evidence report as GitHub-flavoured Markdown: fit for a CI job summary or a PR comment."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from cutover.evidence.verdict import SEEDED_NOTE
from cutover.outcome import Outcome
from cutover.report.model import CriterionResult, Evidence, SelectionVerdict

ICONS = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️"}
ACTION_ICONS = {"PROCEED": "✅", "HOLD": "⏸️", "ROLLBACK": "⛔"}
# Markdown that could format, link or end a table cell; HTML tags would vanish on GitHub.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def escape(text: str) -> str:
    """Text for a Markdown table cell: specials backslash-escaped, lines joined."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def code(text: str) -> str:
    """An identifier as a code span (identifiers carry no backticks or pipes)."""
    cleaned = " ".join(str(text).split()).replace("`", "'").replace("|", "/")
    return f"`{cleaned}`" if cleaned else ""


def verdict_cell(verdict: str) -> str:
    return f"{ICONS.get(verdict, '❔')} {escape(verdict)}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A GFM table; cells must already be escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def seeded_banner(evidence: Evidence) -> list[str]:
    scenarios = sorted(
        {c.scenario for c in evidence.checkpoints if c.seeded and c.scenario}
        | {str(e.data.get("scenario")) for e in evidence.events if e.target == "seeded"}
    )
    named = f" (scenario {', '.join(code(s) for s in scenarios)})" if scenarios else ""
    return [
        f"> ⚠️ **{SEEDED_NOTE.upper()}.** These records were measured on seeded data{named}, "
        "not on the live system.",
        "",
    ]


def render_markdown(evidence: Evidence) -> str:
    """The whole report: verdict first, then one table per selection, problems, timeline."""
    lines = ["# Cutover evidence report", ""]
    if evidence.seeded:
        lines += seeded_banner(evidence)
    lines += _verdict(evidence)
    lines += _chain(evidence)
    for selection in evidence.latest:
        lines += _selection(selection)
    lines += _not_passed(evidence)
    lines += _timeline(evidence)
    lines += _files(evidence)
    if evidence.seeded:
        lines += ["", f"*{SEEDED_NOTE}*"]
    return "\n".join(lines).rstrip() + "\n"


def _verdict(evidence: Evidence) -> list[str]:
    verdict = evidence.verdict
    action = verdict.action.name
    lines = [f"## Verdict: {ACTION_ICONS[action]} {action}", ""]
    if verdict.next_step:
        lines += [f"**Next:** {escape(verdict.next_step)}", ""]
    lines += ["```text", verdict.line(), "```", ""]
    if not evidence.latest:
        lines += ["No checkpoint is recorded in the ledger: nothing was decided.", ""]
        return lines
    lines.append(
        "Reconstructed from the latest checkpoint of each selection in the ledger "
        f"(measured as of {escape(evidence.as_of)}):"
    )
    lines.append("")
    rows = [
        [
            code(s.selection),
            escape(s.checkpoint.as_of),
            f"{ACTION_ICONS[s.verdict.action.name]} {s.verdict.action.name}",
            *(str(s.checkpoint.count(o)) for o in Outcome),
            str(len(s.errors)),
            str(s.checkpoint.line),
        ]
        for s in evidence.latest
    ]
    header = ["selection", "as of", "verdict", "pass", "fail", "inconclusive", "errors", "line"]
    return [*lines, *table(header, rows), ""]


def _chain(evidence: Evidence) -> list[str]:
    chain = evidence.chain
    if chain.ok:
        return []
    return [
        f"> ❌ **The ledger's hash chain is broken at line {chain.line}:** "
        f"{escape(chain.message)}. These records cannot be trusted; run `cutover verify`.",
        "",
    ]


def result_row(result: CriterionResult) -> list[str]:
    """criterion, verdict, measured, threshold, window, sample size."""
    return [
        code(result.criterion),
        verdict_cell(result.verdict),
        escape(result.measured),
        escape(result.threshold),
        escape(result.window),
        escape(result.sample_size),
    ]


RESULT_HEADER = ("criterion", "verdict", "measured", "threshold", "window", "sample size")


def _selection(selection: SelectionVerdict) -> list[str]:
    checkpoint = selection.checkpoint
    action = selection.verdict.action.name
    where = f"target {escape(checkpoint.target or 'unknown')}"
    if checkpoint.scenario:
        where += f", scenario {code(checkpoint.scenario)}"
    if checkpoint.seeded:
        where += f" — {SEEDED_NOTE}"
    lines = [
        f"## {code(selection.selection)} as of {escape(checkpoint.as_of)}: "
        f"{ACTION_ICONS[action]} {action}",
        "",
        f"{where}; ledger line {checkpoint.line}, recorded {escape(checkpoint.at)}.",
        "",
    ]
    lines += table(RESULT_HEADER, (result_row(r) for r in checkpoint.results))
    if selection.errors:
        lines += ["", "Gate tests that errored (no criterion decided):", ""]
        lines += [f"- {code(e)}" for e in selection.errors]
    return [*lines, ""]


def _not_passed(evidence: Evidence) -> list[str]:
    failed = [(s, r) for s in evidence.latest for r in s.checkpoint.results if r.verdict == "fail"]
    undecided = [
        (s, r)
        for s in evidence.latest
        for r in s.checkpoint.results
        if r.outcome is Outcome.INCONCLUSIVE
    ]
    if not failed and not undecided:
        return ["## Criteria that did not pass", "", "None: every criterion passed.", ""]
    lines = ["## Criteria that did not pass", ""]
    if failed:
        lines += [f"### Failed ({len(failed)})", ""]
        rows = [
            [code(r.criterion), code(s.selection), escape(r.on_fail), escape(r.reason)]
            for s, r in failed
        ]
        lines += [*table(("criterion", "selection", "on fail", "reason"), rows), ""]
    if undecided:
        lines += [f"### Inconclusive ({len(undecided)})", ""]
        rows = [[code(r.criterion), code(s.selection), escape(r.reason)] for s, r in undecided]
        lines += [*table(("criterion", "selection", "reason"), rows), ""]
    return lines


def _timeline(evidence: Evidence) -> list[str]:
    entries = evidence.timeline()
    lines = ["## Timeline", ""]
    if not entries:
        return [*lines, "The ledger holds no records.", ""]
    rows = [
        [
            escape(e.at) + (" (after the latest as-of)" if e.after_as_of else ""),
            escape(e.kind),
            escape(e.summary),
            str(e.line),
        ]
        for e in entries
    ]
    return [*lines, *table(("when (UTC)", "event", "detail", "line"), rows), ""]


def _files(evidence: Evidence) -> list[str]:
    chain = evidence.chain
    state = "chain verified" if chain.ok else f"chain BROKEN at line {chain.line}"
    lines = ["## Evidence files", ""]
    head = f", last record sha256 {code(chain.head_sha256)}" if chain.head_sha256 else ""
    lines += [f"- {code('ledger.jsonl')}: {chain.records} records, {state}{head}"]
    lines += [f"- {escape(p)}" for p in evidence.problems]
    if evidence.junit:
        rows = [
            [
                code(f.name),
                escape(f.as_of),
                str(len(f.cases)),
                str(f.count("passed")),
                str(f.count("failed")),
                str(f.count("skipped")),
                str(f.count("error")),
                escape(f.problem),
            ]
            for f in evidence.junit
        ]
        header = ("JUnit file", "as of", "tests", "passed", "failed", "skipped", "errors", "note")
        lines += ["", *table(header, rows)]
    return [*lines, ""]
