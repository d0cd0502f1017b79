"""The evidence report as one self-contained HTML page: inline CSS, charts as embedded PNGs.

Charts are drawn by matplotlib (`cutover.report.figures`) from the same model the Markdown report
uses; every piece of text is escaped. Without matplotlib the page says so instead of the charts.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from cutover.evidence.verdict import SEEDED_NOTE
from cutover.report import tables
from cutover.report.figures import (
    COLORS,
    Chart,
    duration_chart,
    memory_chart,
    split_chart,
    success_chart,
)
from cutover.report.model import Evidence, SelectionVerdict
from cutover.report.sections import Renderer, body
from cutover.report.tables import Cell, Table

ACTION_COLORS = {"PROCEED": "#1a7f37", "HOLD": "#9a6700", "ROLLBACK": "#cf222e"}

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;
margin:0;background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:24px 28px;background:#fff}
h1{font-size:26px;margin:0 0 12px}h2{font-size:20px;margin:28px 0 8px;
border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;width:100%;margin:8px 0 4px;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
code,.mono{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;
font-size:12px;white-space:nowrap}
.verdict{font-size:30px;font-weight:700;padding:10px 18px;border-radius:8px;color:#fff;
display:inline-block;margin:4px 0 10px}
.line{font:12px ui-monospace,Menlo,monospace;background:#f6f8fa;border:1px solid #d0d7de;
padding:8px;border-radius:6px;white-space:pre-wrap;word-break:break-word}
.seeded{background:#fff8c5;border:2px solid #d4a72c;color:#4d2d00;padding:10px 14px;
border-radius:6px;font-weight:600;margin:8px 0 14px}
.broken{background:#ffebe9;border:2px solid #cf222e;color:#82071e;padding:10px 14px;
border-radius:6px;font-weight:600;margin:8px 0 14px}
.muted{color:#59636e}.later{color:#59636e;font-style:italic}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:12px}.charts .wide{grid-column:1/-1}
figure{margin:0;padding:8px;border:1px solid #d0d7de;border-radius:6px}
.nowrap{white-space:nowrap}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{color:#59636e;font-size:12px;margin-top:4px}
.note{color:#59636e;font-style:italic}
.mark{display:none}
@media print{.mark{display:block;position:fixed;top:0;right:0;background:#fff8c5;
border:1px solid #d4a72c;padding:2px 6px;font-weight:700}}
"""


def render_html(evidence: Evidence) -> str:
    """The whole page; the same sections as the Markdown report, plus charts."""
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(_title(evidence))}</title>",
        f"<style>{CSS}</style></head><body><main>",
    ]
    if evidence.seeded:
        parts.append(f'<div class="mark">{escape(SEEDED_NOTE.upper())}</div>')
    parts.append("<h1>Cutover evidence report</h1>")
    if evidence.seeded:
        parts.append(_seeded_banner(evidence))
    parts += body(evidence, HTML)
    if evidence.seeded:
        parts.append(_seeded_banner(evidence))
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _title(evidence: Evidence) -> str:
    title = f"Cutover evidence: {evidence.verdict.action.name}"
    return f"{title} ({SEEDED_NOTE})" if evidence.seeded else title


def _seeded_banner(evidence: Evidence) -> str:
    scenarios = sorted({c.scenario for c in evidence.checkpoints if c.seeded and c.scenario})
    named = f" (scenario {', '.join(scenarios)})" if scenarios else ""
    text = (
        f"⚠ {SEEDED_NOTE.upper()}. These records were measured on seeded data{named}, "
        "not on the live system."
    )
    return f'<div class="seeded">{escape(text)}</div>'


def _badge(text: str, color: str) -> str:
    return f'<span class="badge" style="background:{color}">{escape(text)}</span>'


def verdict_badge(verdict: str) -> str:
    return _badge(verdict, COLORS.get(verdict, "#59636e"))


def action_badge(action: str) -> str:
    return _badge(action, ACTION_COLORS.get(action, "#59636e"))


def cell(value: Cell) -> str:
    """A table cell's content as escaped HTML, marked up as its kind asks."""
    if value.kind == "code":
        html = f"<code>{escape(value.text)}</code>"
    elif value.kind == "verdict":
        html = verdict_badge(value.text)
    elif value.kind == "action":
        html = action_badge(value.text)
    elif value.kind == "instant":
        html = f'<span class="mono">{escape(value.text)}</span>'
    elif value.kind == "window":
        html = " → ".join(f'<span class="mono nowrap">{escape(end)}</span>' for end in value.parts)
    else:
        html = escape(value.text)
    if value.struck:
        html = f"<s>{html}</s>"
    return f'{html} <span class="later">{escape(value.note)}</span>' if value.note else html


def _td(value: Cell) -> str:
    # numbers are right-aligned
    opening = '<td class="num">' if value.kind == "number" else "<td>"
    return f"{opening}{cell(value)}</td>"


def _table(data: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in data.header)
    body = "".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in data.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdict(evidence: Evidence) -> list[str]:
    verdict = evidence.verdict
    action = verdict.action.name
    parts = [
        '<h2 id="verdict">Verdict</h2>',
        f'<div class="verdict" style="background:{ACTION_COLORS[action]}">{escape(action)}</div>',
    ]
    if verdict.next_step:
        parts.append(f"<p><strong>Next:</strong> {escape(verdict.next_step)}</p>")
    parts.append(f'<div class="line">{escape(verdict.line())}</div>')
    if not evidence.latest:
        parts.append("<p>No checkpoint is recorded in the ledger: nothing was decided.</p>")
        return parts
    parts.append(
        "<p>Reconstructed from the latest checkpoint of each selection in the ledger "
        f"(measured as of {escape(evidence.as_of)}).</p>"
    )
    parts.append(_table(tables.verdict_table(evidence)))
    return parts


def _chain(evidence: Evidence) -> list[str]:
    warning = tables.chain_warning(evidence.chain)
    if not warning:
        return []
    text = f"{warning} These records cannot be trusted; run `cutover verify`."
    return [f'<div class="broken">{escape(text)}</div>']


def _selection(selection: SelectionVerdict) -> list[str]:
    checkpoint = selection.checkpoint
    where = tables.checkpoint_where(checkpoint, escape, escape)  # escapes char by char
    parts = [
        f"<h2><code>{escape(selection.selection)}</code> as of {escape(checkpoint.as_of)} "
        f"{action_badge(selection.verdict.action.name)}</h2>",
        f'<p class="muted">{where}</p>',
    ]
    if checkpoint.partial:
        parts.append(f"<p><strong>{escape(tables.partial_note(checkpoint))}</strong></p>")
    parts.append(_table(tables.result_table(checkpoint)))
    if selection.errors:
        items = "".join(f"<li><code>{escape(e)}</code></li>" for e in selection.errors)
        parts.append(f"<p>Gate tests that errored (no criterion decided):</p><ul>{items}</ul>")
    return parts


def _not_passed(evidence: Evidence) -> list[str]:
    parts = ["<h2>Criteria that did not pass</h2>"]
    found = tables.not_passed_tables(evidence)
    if not found:
        return [*parts, "<p>None: every criterion passed.</p>"]
    for title, data in found:
        parts += [f"<h3>{escape(title)}</h3>", _table(data)]
    return parts


def _decisions(evidence: Evidence) -> list[str]:
    if not evidence.decisions:
        return []
    return ["<h2>Waivers and checkpoints set aside</h2>", _table(tables.decisions_table(evidence))]


def _timeline(evidence: Evidence) -> list[str]:
    data = tables.timeline_table(evidence)
    parts = ["<h2>Timeline</h2>"]
    if not data.rows:
        return [*parts, "<p>The ledger holds no records.</p>"]
    return [*parts, _table(data)]


def _files(evidence: Evidence) -> list[str]:
    chain = evidence.chain
    items = [f"<code>ledger.jsonl</code>: {chain.records} records, {escape(chain.state)}"]
    if chain.head_sha256:
        items[0] += f", last record sha256 <code>{escape(chain.head_sha256)}</code>"
    items += [escape(p) for p in evidence.problems]
    parts = ["<h2>Evidence files</h2>", "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"]
    if evidence.junit:
        parts.append(_table(tables.junit_table(evidence)))
    return parts


# -- charts -------------------------------------------------------------------------------------


def _charts(evidence: Evidence) -> list[str]:
    parts = ["<h2>Charts</h2>"]
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display; must precede pyplot
    except ImportError:
        return [*parts, '<p class="note">Charts need matplotlib, which is not installed.</p>']
    builders: list[Callable[[Evidence], Chart]] = [
        success_chart,
        duration_chart,
        split_chart,
        memory_chart,
    ]
    charts = [build(evidence) for build in builders]
    parts.append('<div class="charts">' + "".join(_figure(c) for c in charts) + "</div>")
    return parts


def _figure(chart: Chart) -> str:
    opening = '<figure class="wide">' if chart.wide else "<figure>"
    if not chart.data_uri:
        return (
            f"{opening}<h3>{escape(chart.title)}</h3>"
            f'<p class="note">{escape(chart.note)}</p></figure>'
        )
    caption = f"<figcaption>{escape(chart.caption)}</figcaption>" if chart.caption else ""
    return (
        f"{opening}<h3>{escape(chart.title)}</h3>"
        f'<img alt="{escape(chart.title)}" src="{chart.data_uri}">{caption}</figure>'
    )


HTML = Renderer(
    _verdict,
    _chain,
    _selection,
    _not_passed,
    _timeline,
    _files,
    charts=_charts,
    decisions=_decisions,
)
