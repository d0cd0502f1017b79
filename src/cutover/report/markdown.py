"""The evidence report as GitHub-flavoured Markdown: fit for a CI job summary or a PR comment."""

from __future__ import annotations

import re

from cutover.evidence.verdict import SEEDED_NOTE
from cutover.report import tables
from cutover.report.model import Evidence, SelectionVerdict
from cutover.report.sections import Renderer, body
from cutover.report.tables import Cell, Table

ICONS = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️", "error": "💥", "waived": "📝"}
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


def action_cell(action: str) -> str:
    return f"{ACTION_ICONS[action]} {escape(action)}"


def cell(value: Cell) -> str:
    """A table cell as Markdown: escaped, identifiers as code spans, verdicts with an icon."""
    if value.kind == "code":
        text = code(value.text)
    elif value.kind == "verdict":
        text = verdict_cell(value.text)
    elif value.kind == "action":
        text = action_cell(value.text)
    else:  # text, number, instant, window: GFM has nothing better than plain text
        text = escape(value.text)
    if value.struck and text:
        text = f"~~{text}~~"
    return f"{text} {escape(value.note)}" if value.note else text


def table(data: Table) -> list[str]:
    """A GFM table (the header alone when there are no rows)."""
    header = [escape(h) for h in data.header]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in data.rows]
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
    lines += body(evidence, MARKDOWN)
    if evidence.seeded:
        lines += ["", f"*{SEEDED_NOTE}*"]
    return "\n".join(lines).rstrip() + "\n"


def _verdict(evidence: Evidence) -> list[str]:
    verdict = evidence.verdict
    lines = [f"## Verdict: {action_cell(verdict.action.name)}", ""]
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
    return [*lines, *table(tables.verdict_table(evidence)), ""]


def _chain(evidence: Evidence) -> list[str]:
    warning = tables.chain_warning(evidence.chain)
    if not warning:
        return []
    return [
        f"> ❌ **{escape(warning)}** These records cannot be trusted; run `cutover verify`.",
        "",
    ]


def _selection(selection: SelectionVerdict) -> list[str]:
    checkpoint = selection.checkpoint
    lines = [
        f"## {code(selection.selection)} as of {escape(checkpoint.as_of)}: "
        f"{action_cell(selection.verdict.action.name)}",
        "",
        tables.checkpoint_where(checkpoint, escape, code),
        "",
    ]
    if checkpoint.partial:
        lines += [f"**{escape(tables.partial_note(checkpoint))}**", ""]
    lines += table(tables.result_table(checkpoint))
    if selection.errors:
        lines += ["", "Gate tests that errored (no criterion decided):", ""]
        lines += [f"- {code(e)}" for e in selection.errors]
    return [*lines, ""]


def _not_passed(evidence: Evidence) -> list[str]:
    lines = ["## Criteria that did not pass", ""]
    found = tables.not_passed_tables(evidence)
    if not found:
        return [*lines, "None: every criterion passed.", ""]
    for title, data in found:
        lines += [f"### {escape(title)}", "", *table(data), ""]
    return lines


def _decisions(evidence: Evidence) -> list[str]:
    if not evidence.decisions:
        return []
    lines = ["## Waivers and checkpoints set aside", ""]
    return [*lines, *table(tables.decisions_table(evidence)), ""]


def _timeline(evidence: Evidence) -> list[str]:
    data = tables.timeline_table(evidence)
    lines = ["## Timeline", ""]
    if not data.rows:
        return [*lines, "The ledger holds no records.", ""]
    return [*lines, *table(data), ""]


def _files(evidence: Evidence) -> list[str]:
    chain = evidence.chain
    lines = ["## Evidence files", ""]
    head = f", last record sha256 {code(chain.head_sha256)}" if chain.head_sha256 else ""
    lines += [f"- {code('ledger.jsonl')}: {chain.records} records, {chain.state}{head}"]
    lines += [f"- {escape(p)}" for p in evidence.problems]
    if evidence.junit:
        lines += ["", *table(tables.junit_table(evidence))]
    return [*lines, ""]


MARKDOWN = Renderer(
    _verdict, _chain, _selection, _not_passed, _timeline, _files, decisions=_decisions
)
