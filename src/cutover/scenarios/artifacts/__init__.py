"""The log and metrics exports a scenario implies, as an operator would have them at an instant.

Three files are written into a directory (see DESIGN.md "Input files"):

* ``router.log``: the router's (Vercel) lines, in the scenario's ``logs.router_format``:
  ``pino`` (raw Pino JSON lines), ``drain`` (Vercel log-drain NDJSON, the Pino line as a string in
  ``message``) or ``vercel-json`` (``vercel logs --json``: one object per request, its
  application lines in ``logs[]``). One ``Routing import request to RLM pipeline`` line per routed
  request (direct v1 calls bypass the router), a ``RLM accepted job`` line a few hundred ms after
  each v2 one, and a ``GET /api/health`` request every 10 minutes.
* ``rlm.log``: the RLM's (Render) text lines, each starting with an ISO 8601 UTC instant with
  milliseconds: ``[DEPRECATED] /process-full called by user <id>`` per v1 request (routed or
  direct), ``INFO [v2] Received process-full-v2 request for user <id>`` per v2 request, an
  ``ERROR [v2] ... status=failed error=<error>`` line a few minutes after each failed v2 import, the
  scenario's ``rlm_event`` entries, and ``INFO GET /health 200`` every minute (Render's probe).
* ``metrics.csv``: ``timestamp,memory_mb,cpu_percent,instance`` every ``metrics.every``; memory
  and CPU grow linearly (leak / growth per hour) from the span start, with Gaussian noise, and
  drop back to their base after an ``oom`` or ``crash`` event (a restart).

The span is [since, end): ``since`` is ``logs.since`` (default: the start of the earliest traffic
segment), ``end`` is ``min(until, logs.until)`` (default: ``until``). Every line's instant, written
to the millisecond, lies in the span: an export cannot hold the future. The router line and the
RLM's receipt of a request share the request's instant, so both logs count the same requests over
any window. Files are written line by line in time order, and are the same for the same scenario
(every random draw is seeded from ``scenario.seed``).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cutover.scenarios.artifacts.common import (
    HEALTH_EVERY,
    RLM_HEALTH_EVERY,
    Span,
    ceil_epoch_ms,
    ordered,
    partial,
    write_lines,
)
from cutover.scenarios.artifacts.metrics_csv import METRICS_INSTANCE, metric_lines
from cutover.scenarios.artifacts.rlm_log import (
    DEFAULT_RLM_ERROR,
    RLM_INSTANCE_SUFFIX,
    RLM_SERVICE,
    RlmLogWriter,
)
from cutover.scenarios.artifacts.router_log import (
    ACCEPTED_MESSAGE,
    ROUTER_PATH,
    ROUTING_MESSAGE,
    RouterLogWriter,
)
from cutover.scenarios.generate import request_outcomes
from cutover.scenarios.model import Scenario
from cutover.timeutil import as_utc

__all__ = [
    "ACCEPTED_MESSAGE",
    "DEFAULT_RLM_ERROR",
    "HEALTH_EVERY",
    "METRICS_INSTANCE",
    "RLM_HEALTH_EVERY",
    "RLM_INSTANCE_SUFFIX",
    "RLM_LOG",
    "RLM_METRICS",
    "RLM_SERVICE",
    "ROUTER_LOG",
    "ROUTER_PATH",
    "ROUTING_MESSAGE",
    "ScenarioFiles",
    "export_span",
    "write_artifacts",
]

ROUTER_LOG = "router.log"
RLM_LOG = "rlm.log"
RLM_METRICS = "metrics.csv"


@dataclass(frozen=True, slots=True)
class ScenarioFiles:
    """Paths of the exports written for a scenario."""

    router_logs: Path
    rlm_logs: Path
    rlm_metrics: Path


def write_artifacts(scenario: Scenario, directory: Path, *, until: datetime) -> ScenarioFiles:
    """Write the exports an operator would have at `until`: router log, RLM log, metrics CSV."""
    directory.mkdir(parents=True, exist_ok=True)
    span = export_span(scenario, until)
    window = Span(ceil_epoch_ms(span[0]), ceil_epoch_ms(span[1]))
    files = ScenarioFiles(
        router_logs=directory / ROUTER_LOG,
        rlm_logs=directory / RLM_LOG,
        rlm_metrics=directory / RLM_METRICS,
    )
    with ExitStack() as stack:
        router, rlm = (
            stack.enter_context(open(partial(path), "wb"))
            for path in (files.router_logs, files.rlm_logs)
        )
        _write_logs(scenario, window, router, rlm)
    os.replace(partial(files.router_logs), files.router_logs)
    os.replace(partial(files.rlm_logs), files.rlm_logs)
    write_lines(files.rlm_metrics, metric_lines(scenario, window))
    return files


def export_span(scenario: Scenario, until: datetime) -> tuple[datetime, datetime]:
    """The [start, end) the exports cover at `until` (end may not be after `until`)."""
    end = as_utc(until)
    if scenario.logs.until is not None:
        end = min(end, scenario.at(scenario.logs.until))
    if scenario.logs.since is not None:
        start = scenario.at(scenario.logs.since)
    elif scenario.traffic:
        start = scenario.at(min(segment.start for segment in scenario.traffic))
    else:
        start = min(end, scenario.t0)
    return as_utc(start), end


def _write_logs(
    scenario: Scenario, window: Span, router_file: BinaryIO, rlm_file: BinaryIO
) -> None:
    """Write the router log and the RLM log in one pass over the requests in time order: the
    RLM receives every request, the router logs the routed ones (direct v1 calls bypass it)."""
    router = RouterLogWriter(scenario, window, router_file)
    rlm = RlmLogWriter(scenario, window, rlm_file)
    for at_us, user, v2, percent, direct, error in ordered(
        scenario, lambda: request_outcomes(scenario)
    ):
        ms = at_us // 1000  # epoch_ms(at)
        if ms >= window.hi:
            break
        rlm.request(ms, user, v2, error)
        if not direct:
            router.request(ms, user, v2, percent)
    rlm.finish()
    router.finish()
