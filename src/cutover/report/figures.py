"""The HTML report's charts, drawn by matplotlib (Agg, no display) as embedded PNGs from the
chart data (`cutover.report.charts`): success rate per checkpoint, import durations, the
routing split and RLM memory. A chart that cannot be drawn says why instead."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cutover.errors import ConfigError, SourceUnavailable
from cutover.report.charts import (
    duration_histograms,
    metrics_source,
    split_points,
    success_points,
)
from cutover.report.model import Evidence
from cutover.timeutil import parse_instant

# verdict colours, shared with the page (`cutover.report.html`)
COLORS = {"pass": "#1a7f37", "fail": "#cf222e", "inconclusive": "#9a6700", "error": "#8250df"}


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart for the page: the PNG as a data URI, or a note saying why there is none."""

    title: str
    data_uri: str = ""
    note: str = ""
    caption: str = ""
    wide: bool = False  # spans both columns of the chart grid


def _png(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    # the tight layout as an engine runs within savefig's one draw; tight_layout() before it
    # drew the figure once more (the same PNG, ~20% of a report's time)
    figure.set_layout_engine("tight")
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
