"""Measurements from the exported logs and metrics over a stage window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cutover.measure.inputs import Inputs
from cutover.measure.stage import window_of
from cutover.outcome import Window
from cutover.sources.metrics import MetricSeries
from cutover.sources.rlm_logs import RlmLogCounts
from cutover.sources.router_logs import RoutingCounts


@dataclass(frozen=True, slots=True)
class RlmStability:
    window: Window
    logs: RlmLogCounts
    metrics: MetricSeries
    check_cpu: bool


def rlm_stability(inputs: Inputs, criterion: str) -> RlmStability:
    window = window_of(inputs, criterion)
    start = window.start or window.end
    exports = inputs.exports()
    logs = exports.scan_rlm_log(start, window.end, resolution=rlm_log_gap(inputs))
    metrics = exports.read_metrics(start, window.end)
    check_cpu = inputs.plan(criterion).number >= inputs.profile.cpu_trend_from_stage
    return RlmStability(window, logs, metrics, check_cpu=check_cpu)


@dataclass(frozen=True, slots=True)
class RoutingSplit:
    window: Window
    percent: int
    counts: RoutingCounts


def routing_split(inputs: Inputs, criterion: str) -> RoutingSplit:
    window = window_of(inputs, criterion)
    start = window.start or window.end
    counts = inputs.exports().count_routing(start, window.end, resolution=router_log_gap(inputs))
    return RoutingSplit(window, inputs.plan(criterion).percent, counts)


@dataclass(frozen=True, slots=True)
class V1Traffic:
    window: Window
    logs: RlmLogCounts
    required: timedelta  # how long the window must be (24 h in stage 3, 7 days in stage 4)


def v1_quiet_span(inputs: Inputs, criterion: str) -> timedelta:
    """How long v1 must have been quiet: the last 24 h at stage 3, 7 days at stage 4."""
    if inputs.plan(criterion).number == 3:
        return timedelta(hours=inputs.profile.stage3_v1_quiet_hours)
    return timedelta(days=inputs.profile.stage4_v1_quiet_days)


def v1_traffic(inputs: Inputs, criterion: str) -> V1Traffic:
    """The last quiet span of the stage (see `v1_quiet_span`), within the stage."""
    window = window_of(inputs, criterion)
    span = v1_quiet_span(inputs, criterion)
    start = max(window.start or window.end, window.end - span)
    logs = inputs.exports().scan_rlm_log(start, window.end, resolution=rlm_log_gap(inputs))
    return V1Traffic(Window(start, window.end), logs, span)


def rlm_log_gap(inputs: Inputs) -> timedelta:
    """The longest silence the RLM log may have and still cover a window (the profile's)."""
    return timedelta(minutes=inputs.profile.rlm_log_gap_minutes)


def router_log_gap(inputs: Inputs) -> timedelta:
    """The longest silence the router log may have and still cover a window (the profile's)."""
    return timedelta(minutes=inputs.profile.router_log_gap_minutes)
