"""The evidence report as one self-contained HTML page: inline CSS, charts as embedded PNGs.

Charts are drawn by matplotlib (Agg, no display) from the same model the Markdown report uses;
every piece of text is escaped. Without matplotlib the page says so instead of the charts.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from cutover.errors import ConfigError, SourceUnavailable
from cutover.evidence.verdict import SEEDED_NOTE
from cutover.report import tables
from cutover.report.charts import (
    duration_histograms,
    metrics_source,
    split_points,
    success_points,
)
from cutover.report.model import Evidence, SelectionVerdict
from cutover.report.tables import Cell, Table
from cutover.timeutil import parse_instant

COLORS = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700"}
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


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart for the page: the PNG as a data URI, or a note saying why there is none."""

    title: str
    data_uri: str = ""
    note: str = ""
    caption: str = ""
    wide: bool = False  # spans both columns of the chart grid


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
    parts += _verdict(evidence)
    parts += _chain(evidence)
    for selection in evidence.latest:
        parts += _selection(selection)
    parts += _not_passed(evidence)
    parts += _charts(evidence)
    parts += _timeline(evidence)
    parts += _files(evidence)
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
    chain = evidence.chain
    if chain.ok:
        return []
    text = (
        f"The ledger's hash chain is broken at line {chain.line}: {chain.message}. "
        "These records cannot be trusted; run `cutover verify`."
    )
    return [f'<div class="broken">{escape(text)}</div>']


def _selection(selection: SelectionVerdict) -> list[str]:
    checkpoint = selection.checkpoint
    where = tables.checkpoint_where(checkpoint, escape, escape)  # escapes char by char
    parts = [
        f"<h2><code>{escape(selection.selection)}</code> as of {escape(checkpoint.as_of)} "
        f"{action_badge(selection.verdict.action.name)}</h2>",
        f'<p class="muted">{where}</p>',
        _table(tables.result_table(checkpoint)),
    ]
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


def _png(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure_axes(ncols: int = 1, width: float = 6.4, height: float = 3.4) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False)
    return figure, axes[0]


def _time_axis(ax: Any) -> None:
    """A few readable UTC ticks (the default crowds a 6 inch axis with long labels)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("UTC")


def success_chart(evidence: Evidence) -> Chart:
    """Settled success rate per checkpoint against the profile's minimum."""
    title = "Success rate per checkpoint"
    points = success_points(evidence)
    if not points:
        return Chart(title, note="No success-rate checkpoint is recorded in the ledger.")
    minimum = evidence.profile.success_rate_min_pct
    figure, (ax,) = _figure_axes()
    for criterion in sorted({p.criterion for p in points}):
        series = [p for p in points if p.criterion == criterion]
        ax.plot([p.as_of for p in series], [p.rate_pct for p in series], "-", label=criterion)
        ax.scatter(
            [p.as_of for p in series],
            [p.rate_pct for p in series],
            c=[COLORS.get(p.verdict, "#59636e") for p in series],
            zorder=3,
            s=36,
        )
    ax.axhline(minimum, color=COLORS["fail"], linestyle="--", label=f"{minimum:g}% minimum")
    instants = sorted({p.as_of for p in points})
    if len(instants) == 1:  # one instant: matplotlib would spread the axis over years
        ax.set_xlim(instants[0] - timedelta(hours=12), instants[0] + timedelta(hours=12))
    low = min(min(p.rate_pct for p in points), minimum)
    ax.set_ylim(max(0.0, low - 3.0), 100.5)
    ax.set_ylabel("settled success rate (%)")
    _time_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    caption = (
        "Each point is one checkpoint's settled rate (details.current.settled_rate_pct), "
        "coloured by that run's verdict of the criterion."
    )
    return Chart(title, _png(figure), caption=caption)


def duration_chart(evidence: Evidence) -> Chart:
    """Import durations of the current stage beside stage 1's, as shares of imports."""
    title = "Import durations"
    histograms = duration_histograms(evidence)
    if not histograms:
        return Chart(title, note="No duration checkpoint with bins is recorded in the ledger.")
    top = max(max(h.bins) for h in histograms)
    edges = list(range(0, int(max(35.0, top + 1.0)) + 1))
    figure, axes = _figure_axes(len(histograms), width=6.4 * len(histograms))
    for ax, histogram in zip(axes, histograms, strict=True):
        total = sum(histogram.bins.values()) or 1
        ax.hist(
            list(histogram.bins),
            bins=edges,
            weights=[100.0 * n / total for n in histogram.bins.values()],
            color="#0969da",
        )
        ax.axvline(10, color=COLORS["inconclusive"], linestyle="--", label="10 min")
        ax.axvline(30, color=COLORS["fail"], linestyle="--", label="30 min")
        ax.set_title(f"{histogram.label}: {total} imports", fontsize=9)
        ax.set_xlabel("minutes")
        ax.set_ylabel("share of imports (%)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    caption = "1-minute bins of the recorded duration details; stage 1 is the baseline."
    if not histograms[0].label.startswith("stage 1 "):
        caption += " No stage 1 duration record is in the ledger to compare with."
    return Chart(title, _png(figure), caption=caption, wide=len(histograms) > 1)


def split_chart(evidence: Evidence) -> Chart:
    """Observed v2 share with its confidence interval against the configured percent."""
    title = "Routing split: observed v2 share"
    points = split_points(evidence)
    if not points:
        return Chart(title, note="No routing-split result with counts is recorded in the ledger.")
    figure, (ax,) = _figure_axes()
    xs = list(range(len(points)))
    for x, p in zip(xs, points, strict=True):
        low = 100 * p.ci_low if p.ci_low is not None else p.share_pct
        high = 100 * p.ci_high if p.ci_high is not None else p.share_pct
        ax.errorbar(
            [x],
            [p.share_pct],
            yerr=[[p.share_pct - low], [high - p.share_pct]],
            fmt="o",
            color="#0969da",
            capsize=6,
            label="observed v2 share (CI)" if x == 0 else None,
        )
        if p.configured_pct is not None:
            ax.hlines(
                p.configured_pct,
                x - 0.3,
                x + 0.3,
                colors=COLORS["fail"],
                linestyles="--",
                label="configured percent" if x == 0 else None,
            )
    ax.set_xticks(xs, [f"{p.criterion}\n{p.as_of}" for p in points], fontsize=8)
    ax.set_xlim(-0.6, len(points) - 0.4)
    ax.set_ylabel("v2 share (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return Chart(
        title,
        _png(figure),
        caption="Error bars: the interval recorded with the split test (ci_low..ci_high).",
    )


def memory_chart(evidence: Evidence) -> Chart:
    """RLM memory over the measured window with a Theil-Sen trend per instance."""
    title = "RLM memory"
    source = metrics_source(evidence)
    if source is None:
        return Chart(title, note="No result names a metrics CSV in its source: no memory chart.")
    if source.path is None:
        return Chart(
            title,
            note=f"The metrics file recorded by {source.criterion} ({source.missing}): "
            "no memory chart. Keep the exported CSV beside the evidence to chart it.",
        )
    from scipy import stats

    from cutover.sources.metrics import read_metrics_csv

    try:
        end = parse_instant(source.window_end)
        start = parse_instant(source.window_start) if source.window_start else datetime.min
        series = read_metrics_csv(source.path, start, end)
    except (ValueError, ConfigError, SourceUnavailable) as exc:
        return Chart(title, note=f"{source.path} could not be read: {exc}")
    if len(series.points) < 2:
        return Chart(title, note=f"{source.path} has fewer than 2 points in the window.")
    figure, (ax,) = _figure_axes()
    instances = sorted({p.instance or "" for p in series.points})
    origin = series.points[0].timestamp
    for instance in instances:
        mine = [p for p in series.points if (p.instance or "") == instance]
        times = [p.timestamp for p in mine]
        values = [p.memory_mb for p in mine]
        label = instance or "memory"
        (line,) = ax.plot(times, values, linewidth=1, alpha=0.8, label=label)
        if len(mine) >= 3:
            hours = [(t - origin).total_seconds() / 3600 for t in times]
            fit = stats.theilslopes(values, hours)
            fitted = [fit.intercept + fit.slope * h for h in hours]
            ax.plot(
                times,
                fitted,
                "--",
                color=line.get_color(),
                linewidth=2,
                label=f"{label} trend ({fit.slope:+.2f} MB/h)",
            )
    ax.set_ylabel("memory (MB)")
    _time_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    caption = (
        f"{source.path.name}, window of {source.criterion} ({source.verdict}); "
        "dashed: Theil-Sen fit."
    )
    return Chart(title, _png(figure), caption=caption)
