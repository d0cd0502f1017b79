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
  scenario's ``rlm_event`` entries, and ``INFO GET /health 200`` every 10 minutes.
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

import heapq
import json
import math
import os
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError
from cutover.scenarios.generate import ImportRow, RoutedRequest, import_rows, routed_requests
from cutover.scenarios.model import Scenario
from cutover.timeutil import as_utc

ROUTER_LOG = "router.log"
RLM_LOG = "rlm.log"
RLM_METRICS = "metrics.csv"

METRICS_INSTANCE = "srv-soulprint-landing-1"
RLM_SERVICE = "soulprint-landing"
RLM_INSTANCE_SUFFIX = "abc12"
ROUTER_PATH = "/api/import/process-server"
ROUTING_MESSAGE = "Routing import request to RLM pipeline"
ACCEPTED_MESSAGE = "RLM accepted job"
DEFAULT_RLM_ERROR = "Unhandled exception in request handler"
HEALTH_EVERY = timedelta(minutes=10)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_HOUR_MS = 3_600_000
_V1_ENDPOINT = "/process-full"
_V2_ENDPOINT = "/process-full-v2"
_HOST = "soulprint-landing.vercel.app"
_REGION = "iad1"

# Tie-breaks between streams at the same millisecond (lower first).
_RANK_EVENT = 0
_RANK_REQUEST = 1
_RANK_HEALTH = 2

_Line = tuple[int, int, int, str]  # (epoch ms, stream rank, sequence, text)
_Pair = tuple[RoutedRequest, ImportRow | None]


@dataclass(frozen=True, slots=True)
class ScenarioFiles:
    """Paths of the exports written for a scenario."""

    router_logs: Path
    rlm_logs: Path
    rlm_metrics: Path


@dataclass(frozen=True, slots=True)
class _Span:
    """[lo, hi) in epoch milliseconds: a line at millisecond t is written when lo <= t < hi."""

    lo: int
    hi: int

    def __contains__(self, ms: int) -> bool:
        return self.lo <= ms < self.hi


def write_artifacts(scenario: Scenario, directory: Path, *, until: datetime) -> ScenarioFiles:
    """Write the exports an operator would have at `until`: router log, RLM log, metrics CSV."""
    directory.mkdir(parents=True, exist_ok=True)
    span = export_span(scenario, until)
    window = _Span(_ceil_ms(span[0]), _ceil_ms(span[1]))
    files = ScenarioFiles(
        router_logs=directory / ROUTER_LOG,
        rlm_logs=directory / RLM_LOG,
        rlm_metrics=directory / RLM_METRICS,
    )
    _write_lines(files.router_logs, _router_lines(scenario, window))
    _write_lines(files.rlm_logs, _rlm_lines(scenario, window))
    _write_lines(files.rlm_metrics, _metric_lines(scenario, window))
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


# --- shared ------------------------------------------------------------------------------------


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    """Stream `lines` into `path` (via a temporary file, so readers never see half a file)."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")
    os.replace(partial, path)


def _rng(scenario: Scenario, purpose: str) -> random.Random:
    """A random source per file, so one file's draws never shift another's."""
    return random.Random(f"cutover-artifacts:{purpose}:{scenario.seed}")


def _ms(moment: datetime) -> int:
    """Epoch milliseconds, rounded down."""
    return (as_utc(moment) - _EPOCH) // _MS


def _ceil_ms(moment: datetime) -> int:
    return -((_EPOCH - as_utc(moment)) // _MS)


def _iso_ms(ms: int) -> str:
    """ISO 8601 UTC with milliseconds and Z."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ticks(window: _Span, every_ms: int, offset_ms: int = 0) -> range:
    """Instants on a grid of `every_ms` (aligned to the epoch, plus `offset_ms`) in the window."""
    first = -((offset_ms - window.lo) // every_ms) * every_ms + offset_ms
    return range(first, window.hi, every_ms)


def _pairs(scenario: Scenario) -> Iterator[_Pair]:
    """Each request of `routed_requests` with its user_profiles row (v2 only), in that order.

    `import_rows` yields one row per v2 request, in the order of `routed_requests`, from its own
    random source: walking both side by side pairs them.
    """
    rows = import_rows(scenario)
    for request in routed_requests(scenario):
        if not request.v2:
            yield request, None
            continue
        row = next(rows, None)
        if row is None or row.user_id != request.user_id:
            raise RuntimeError(
                f"scenario {scenario.name}: import_rows no longer pairs with routed_requests "
                f"(request for user {request.user_id})"
            )
        yield request, row


def _ordered(scenario: Scenario, source: Callable[[], Iterator[_Pair]]) -> Iterator[_Pair]:
    """`source()` in time order.

    Segments are generated one after the other, so overlapping traffic segments break the order.
    Then the stream is cut into its ascending runs and these are merged, each run read from a
    fresh `source()` (deterministic), so memory stays small.
    """
    segments = sorted(scenario.traffic, key=lambda t: t.start)
    overlapping = any(b.start < a.end for a, b in zip(segments, segments[1:], strict=False))
    if not overlapping:
        yield from source()
        return
    starts = [0]
    previous: datetime | None = None
    count = 0
    for request, _ in source():
        if previous is not None and request.at < previous:
            starts.append(count)
        previous = request.at
        count += 1
    bounds = [*starts, count]
    runs = [islice(source(), start, stop) for start, stop in zip(bounds, bounds[1:], strict=False)]
    yield from heapq.merge(*runs, key=lambda pair: pair[0].at)


def _until_end(pairs: Iterator[_Pair], window: _Span) -> Iterator[_Pair]:
    """Requests before the window's end (the stream is in time order)."""
    for pair in pairs:
        if _ms(pair[0].at) >= window.hi:
            return
        yield pair


def _requests_only(scenario: Scenario) -> Iterator[_Pair]:
    return ((request, None) for request in routed_requests(scenario))


# --- router log --------------------------------------------------------------------------------


class _RouterFormat:
    """Renders router lines in one of the three export forms."""

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.form = scenario.logs.router_format
        self.rng = rng
        self.deployment = "dpl_" + _token(rng, 24)
        self.project = "prj_" + _token(rng, 24)
        self.sequence = 0

    def _id(self) -> str:
        self.sequence += 1
        return f"{self.deployment[4:12]}{self.sequence:012d}"

    def request_id(self, ms: int) -> str:
        return f"{_REGION}::{_token(self.rng, 5)}-{ms}-{_token(self.rng, 12)}"

    def drain(self, ms: int, message: str, request_id: str, path: str, status: int) -> str:
        """One Vercel log-drain object for an application stdout line."""
        return _json(
            {
                "id": self._id(),
                "deploymentId": self.deployment,
                "source": "lambda",
                "host": _HOST,
                "timestamp": ms,
                "projectId": self.project,
                "level": "info",
                "type": "stdout",
                "message": message,
                "path": path,
                "statusCode": status,
                "requestId": request_id,
                "environment": "production",
            }
        )

    def drain_request(self, ms: int, method: str, path: str, status: int) -> str:
        """A drain's request record (no application output): the proxy fields only."""
        return _json(
            {
                "id": self._id(),
                "deploymentId": self.deployment,
                "source": "lambda",
                "host": _HOST,
                "timestamp": ms,
                "projectId": self.project,
                "level": "info",
                "path": path,
                "statusCode": status,
                "requestId": f"{_REGION}::health-{ms}",
                "environment": "production",
                "proxy": {
                    "timestamp": ms,
                    "method": method,
                    "path": path,
                    "statusCode": status,
                    "region": _REGION,
                },
            }
        )


def _token(rng: random.Random, length: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))


def _pino(ms: int, msg: str, **fields: object) -> str:
    return _json({"level": 30, "time": ms, "pid": 1, "hostname": "vercel", **fields, "msg": msg})


def _routing_pino(ms: int, request: RoutedRequest, correlation: str, conversations: int) -> str:
    return _json(
        {
            "level": 30,
            "time": ms,
            "pid": 1,
            "hostname": "vercel",
            "correlationId": correlation,
            "msg": ROUTING_MESSAGE,
            "endpoint": _V2_ENDPOINT if request.v2 else _V1_ENDPOINT,
            "v2RolloutPercent": request.percent,
            "userId": str(request.user_id),
            "conversationCount": conversations,
        }
    )


def _router_lines(scenario: Scenario, window: _Span) -> Iterator[str]:
    rng = _rng(scenario, "router")
    render = _RouterFormat(scenario, rng)
    requests = _router_request_lines(scenario, window, render)
    health = _router_health_lines(window, render)
    for _, _, _, text in heapq.merge(requests, health):
        yield text


def _router_request_lines(
    scenario: Scenario, window: _Span, render: _RouterFormat
) -> Iterator[_Line]:
    rng = render.rng
    pending: list[_Line] = []  # lines due later than the request being written
    sequence = 0
    pairs = _until_end(_ordered(scenario, lambda: _requests_only(scenario)), window)
    for request, _ in pairs:
        if request.direct:
            continue
        ms = _ms(request.at)
        correlation = _uuid(rng)
        conversations = _conversation_count(rng)
        accepted_ms = ms + rng.randint(150, 650)
        job = _uuid(rng)
        request_id = render.request_id(ms)
        while pending and pending[0][0] <= ms:
            yield heapq.heappop(pending)
        if ms not in window:
            continue
        routing = _routing_pino(ms, request, correlation, conversations)
        accepted: str | None = None
        if request.v2 and accepted_ms in window:
            accepted = _pino(
                accepted_ms,
                ACCEPTED_MESSAGE,
                correlationId=correlation,
                userId=str(request.user_id),
                jobId=job,
                status=200,
            )
        sequence += 1
        if render.form == "vercel-json":
            logs = [{"level": "info", "message": routing}]
            if accepted is not None:
                logs.append({"level": "info", "message": accepted})
            record = {
                "timestamp": ms,
                "requestPath": ROUTER_PATH,
                "requestMethod": "POST",
                "responseStatusCode": 200,
                "level": "info",
                "message": routing,
                "logs": logs,
            }
            yield ms, _RANK_REQUEST, sequence, _json(record)
            continue
        if render.form == "drain":
            yield (
                ms,
                _RANK_REQUEST,
                sequence,
                render.drain(ms, routing, request_id, ROUTER_PATH, 200),
            )
            if accepted is not None:
                sequence += 1
                text = render.drain(accepted_ms, accepted, request_id, ROUTER_PATH, 200)
                heapq.heappush(pending, (accepted_ms, _RANK_REQUEST, sequence, text))
            continue
        yield ms, _RANK_REQUEST, sequence, routing
        if accepted is not None:
            sequence += 1
            heapq.heappush(pending, (accepted_ms, _RANK_REQUEST, sequence, accepted))
    while pending:  # only lines inside the window were queued
        yield heapq.heappop(pending)


def _router_health_lines(window: _Span, render: _RouterFormat) -> Iterator[_Line]:
    """An uptime probe's `GET /api/health` every 10 minutes (7 s past the grid)."""
    every = HEALTH_EVERY // _MS
    for sequence, ms in enumerate(_ticks(window, every, offset_ms=7_000)):
        if render.form == "vercel-json":
            record = {
                "timestamp": ms,
                "requestPath": "/api/health",
                "requestMethod": "GET",
                "responseStatusCode": 200,
                "level": "info",
                "message": "",
                "logs": [],
            }
            text = _json(record)
        elif render.form == "drain":
            text = render.drain_request(ms, "GET", "/api/health", 200)
        else:
            text = _pino(ms, "GET /api/health 200", path="/api/health", statusCode=200)
        yield ms, _RANK_HEALTH, sequence, text


def _conversation_count(rng: random.Random) -> int:
    return max(1, round(math.exp(rng.gauss(math.log(180), 1.0))))


# --- RLM log -----------------------------------------------------------------------------------


def _rlm_lines(scenario: Scenario, window: _Span) -> Iterator[str]:
    rng = _rng(scenario, "rlm")
    streams = (
        _rlm_request_lines(scenario, window, rng),
        _rlm_event_lines(scenario, window),
        _rlm_health_lines(window),
    )
    for ms, _, _, text in heapq.merge(*streams):
        yield f"{_iso_ms(ms)} {text}"


def _rlm_request_lines(scenario: Scenario, window: _Span, rng: random.Random) -> Iterator[_Line]:
    pending: list[_Line] = []  # failure lines, minutes after their request
    sequence = 0
    for request, row in _until_end(_ordered(scenario, lambda: _pairs(scenario)), window):
        ms = _ms(request.at)
        failed_ms = ms + round(rng.uniform(1.0, 8.0) * 60_000)
        while pending and pending[0][0] <= ms:
            yield heapq.heappop(pending)
        user = request.user_id
        if request.v2:
            text = f"INFO [v2] Received process-full-v2 request for user {user}"
        else:
            text = f"[DEPRECATED] /process-full called by user {user}"
        if ms in window:
            sequence += 1
            yield ms, _RANK_REQUEST, sequence, text
        if row is not None and row.status == "failed" and failed_ms in window:
            sequence += 1
            error = f"ERROR [v2] user_id={user} step=pipeline status=failed error={row.error}"
            heapq.heappush(pending, (failed_ms, _RANK_REQUEST, sequence, error))
    while pending:  # only lines inside the window were queued
        yield heapq.heappop(pending)


def _rlm_event_lines(scenario: Scenario, window: _Span) -> Iterator[_Line]:
    instance = f"{RLM_SERVICE}-{RLM_INSTANCE_SUFFIX}"
    events = sorted(scenario.rlm_events, key=lambda e: e.at)
    sequence = 0
    for event in events:
        ms = _ms(scenario.at(event.at))
        if ms not in window:
            continue
        texts: list[str]
        if event.kind == "oom":
            texts = [
                f"Instance failed: {instance}. Ran out of memory (used over 512MB) "
                "while running your code.",
                f"Container {instance} terminated: reason=OOMKilled exit_code=137",
            ]
        elif event.kind == "crash":
            texts = [f"Instance failed: {instance}. Exited with status 1 while running your code."]
        elif event.kind == "processors-unavailable":
            texts = [
                "WARNING processors_available: false "
                "(Processor modules unavailable: No module named 'processors')"
            ]
        else:
            texts = [f"ERROR {event.message or DEFAULT_RLM_ERROR}"]
        for text in texts:
            sequence += 1
            yield ms, _RANK_EVENT, sequence, text


def _rlm_health_lines(window: _Span) -> Iterator[_Line]:
    every = HEALTH_EVERY // _MS
    for sequence, ms in enumerate(_ticks(window, every, offset_ms=3_000)):
        yield ms, _RANK_HEALTH, sequence, "INFO GET /health 200"


# --- metrics -----------------------------------------------------------------------------------


def _metric_lines(scenario: Scenario, window: _Span) -> Iterator[str]:
    """The CSV: a header, then one row per `metrics.every` from the span start."""
    metrics = scenario.metrics
    every = metrics.every // _MS
    if every <= 0:
        raise ConfigError(
            f"scenario file {scenario.path}: metrics.every is {metrics.every}; "
            "expected a positive duration such as '5m'"
        )
    rng = _rng(scenario, "metrics")
    restarts = sorted(
        ms
        for ms in (
            _ms(scenario.at(e.at)) for e in scenario.rlm_events if e.kind in ("oom", "crash")
        )
        if ms in window
    )
    yield "timestamp,memory_mb,cpu_percent,instance"
    since = window.lo  # the process start the growth is measured from
    upcoming = 0
    for ms in range(window.lo, window.hi, every):
        while upcoming < len(restarts) and restarts[upcoming] <= ms:
            since = restarts[upcoming]
            upcoming += 1
        hours = (ms - since) / _HOUR_MS
        memory = metrics.memory_mb + metrics.memory_leak_mb_per_hour * hours
        memory += rng.gauss(0.0, metrics.memory_noise_mb) if metrics.memory_noise_mb > 0 else 0.0
        cpu = metrics.cpu_percent + metrics.cpu_growth_per_hour * hours
        cpu += rng.gauss(0.0, metrics.cpu_noise) if metrics.cpu_noise > 0 else 0.0
        yield f"{_iso_ms(ms)},{max(0.0, memory):.1f},{max(0.0, cpu):.1f},{METRICS_INSTANCE}"
