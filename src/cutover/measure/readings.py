"""What the sources read, as the criteria see it. The record types are defined beside the source
that fills them; criteria import them from here, never from `cutover.sources` (whose modules open
files, sockets and database sessions). Grouping a series by instance is measurement, so it lives
here too."""

from __future__ import annotations

from cutover.sources.imports import Durations, SuccessCounts
from cutover.sources.logs.continuity import Continuity, Span
from cutover.sources.metrics import MetricPoint, MetricSeries
from cutover.sources.prereq_db import MigrationColumns, QueryRun, TableAccess
from cutover.sources.rlm_http import HeaderProbe, HealthProbe, RemovalProbe
from cutover.sources.rlm_logs import RlmLogCounts
from cutover.sources.router_logs import RoutingCounts
from cutover.sources.vercel_env import RolloutSetting

__all__ = [
    "Continuity",
    "Durations",
    "HeaderProbe",
    "HealthProbe",
    "MetricPoint",
    "MetricSeries",
    "MigrationColumns",
    "QueryRun",
    "RemovalProbe",
    "RlmLogCounts",
    "RolloutSetting",
    "RoutingCounts",
    "Span",
    "SuccessCounts",
    "TableAccess",
    "series_by_instance",
]


def series_by_instance(series: MetricSeries) -> dict[str, list[MetricPoint]]:
    """Points per instance (key "" for points without one), each list in time order."""
    grouped: dict[str, list[MetricPoint]] = {}
    for point in series.points:
        grouped.setdefault(point.instance or "", []).append(point)
    return {name: sorted(grouped[name], key=lambda p: p.timestamp) for name in sorted(grouped)}
