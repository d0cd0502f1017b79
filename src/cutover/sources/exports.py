"""Where the exported router log, RLM log and metrics are: a source setting or a platform
snapshot, read by the measurements that need one (None: not configured, and those criteria say
so; `unavailable`: a platform fetch that failed, and they say why)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from cutover.errors import SourceUnavailable
from cutover.sources.metrics import MetricSeries, read_metrics_csv
from cutover.sources.rlm_logs import RlmLogCounts, scan_rlm_log
from cutover.sources.router_logs import RoutingCounts, count_routing


@dataclass(frozen=True, slots=True)
class Exports:
    """The exported files (None: not configured)."""

    router_logs: Path | None
    rlm_logs: Path | None
    rlm_metrics: Path | None
    router_log_date: date | None = None  # for `vercel logs` text exports (no year, no zone)
    router_log_tz: tzinfo | None = None
    unavailable: Mapping[str, str] = field(default_factory=dict)  # export -> why (a fetch failed)

    def count_routing(
        self, start: datetime, end: datetime, *, resolution: timedelta
    ) -> RoutingCounts:
        """`resolution`: the longest silence coverage bridges (the profile's tolerance)."""
        return count_routing(
            self.need("router_logs"),
            start,
            end,
            text_date=self.router_log_date,
            text_tz=self.router_log_tz,
            resolution=resolution,
        )

    def scan_rlm_log(
        self, start: datetime, end: datetime, *, resolution: timedelta
    ) -> RlmLogCounts:
        """`resolution`: the longest silence coverage bridges (the profile's tolerance)."""
        return scan_rlm_log(self.need("rlm_logs"), start, end, resolution=resolution)

    def read_metrics(self, start: datetime, end: datetime) -> MetricSeries:
        return read_metrics_csv(self.need("rlm_metrics"), start, end)

    def need(self, name: str) -> Path:
        if name in self.unavailable:
            raise SourceUnavailable(name.replace("_", " "), self.unavailable[name])
        path: Path | None = getattr(self, name)
        if path is None:
            setting = name.replace("_", "-")
            raise SourceUnavailable(
                name.replace("_", " "),
                f"CUTOVER_{name.upper()} / --{setting} is not set: this criterion reads it",
            )
        return path
