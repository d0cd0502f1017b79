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
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

from cutover.errors import ConfigError
from cutover.scenarios.generate import RequestOutcome, request_outcomes, uuid4_bits, uuid_text
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
_LOG_180 = math.log(180)

# Tie-breaks between streams at the same millisecond (lower first).
_RANK_EVENT = 0
_RANK_REQUEST = 1
_RANK_HEALTH = 2

_Ranked = tuple[int, int, int, str]  # (epoch ms, stream rank, sequence, text)
_Line = tuple[int, str]  # (epoch ms, text)
_Pending = tuple[int, int, str]  # (epoch ms, sequence, text): a request's later line, queued

_FLUSH_LINES = 20_000  # lines kept before a write
_TOKEN_CHARACTERS = range(17)  # a request id's two tokens (5 and 12 characters)


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
    with ExitStack() as stack:
        router, rlm = (
            stack.enter_context(open(_partial(path), "wb"))
            for path in (files.router_logs, files.rlm_logs)
        )
        _write_logs(scenario, window, router, rlm)
    os.replace(_partial(files.router_logs), files.router_logs)
    os.replace(_partial(files.rlm_logs), files.rlm_logs)
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


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write `lines` into `path` (via a temporary file, so readers never see half a file)."""
    text = "\n".join(lines)
    with open(_partial(path), "w", encoding="utf-8", newline="\n") as handle:
        if text:
            handle.write(text)
            handle.write("\n")
    os.replace(_partial(path), path)


def _flush(handle: BinaryIO, lines: list[str]) -> None:
    """Write `lines` (UTF-8, each ended by a newline) and forget them."""
    if lines:
        lines.append("")  # the last line's newline
        handle.write("\n".join(lines).encode("utf-8"))
        lines.clear()


def _rng(scenario: Scenario, purpose: str) -> random.Random:
    """A random source per file, so one file's draws never shift another's."""
    return random.Random(f"cutover-artifacts:{purpose}:{scenario.seed}")


def _ms(moment: datetime) -> int:
    """Epoch milliseconds, rounded down."""
    return (as_utc(moment) - _EPOCH) // _MS


def _ceil_ms(moment: datetime) -> int:
    return -((_EPOCH - as_utc(moment)) // _MS)


@lru_cache(maxsize=64)
def _hour_prefix(hour: int) -> str:
    """`YYYY-MM-DDTHH:` of the `hour`-th hour since the epoch."""
    return (_EPOCH + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:")


def _iso_ms(ms: int) -> str:
    """ISO 8601 UTC with milliseconds and Z."""
    hour, rest = divmod(ms, _HOUR_MS)
    minute, rest = divmod(rest, 60_000)
    second, milli = divmod(rest, 1000)
    return f"{_hour_prefix(hour)}{minute:02d}:{second:02d}.{milli:03d}Z"


def _quote(text: str) -> str:
    """`text` as a JSON string (as json.dumps writes it)."""
    return json.dumps(text)


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _token(rng: random.Random, length: int) -> str:
    """`"".join(rng.choice(_ALPHABET) for _ in range(length))`, with the same draws."""
    bits = rng.getrandbits
    chars: list[str] = []
    for _ in range(length):
        index = bits(6)  # rng._randbelow(36)
        while index >= 36:
            index = bits(6)
        chars.append(_ALPHABET[index])
    return "".join(chars)


def _ticks(window: _Span, every_ms: int, offset_ms: int = 0) -> range:
    """Instants on a grid of `every_ms` (aligned to the epoch, plus `offset_ms`) in the window."""
    first = -((offset_ms - window.lo) // every_ms) * every_ms + offset_ms
    return range(first, window.hi, every_ms)


def _ordered(
    scenario: Scenario, source: Callable[[], Iterator[RequestOutcome]]
) -> Iterator[RequestOutcome]:
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
    previous: int | None = None
    count = 0
    for request in source():
        if previous is not None and request[0] < previous:
            starts.append(count)
        previous = request[0]
        count += 1
    bounds = [*starts, count]
    runs = [islice(source(), start, stop) for start, stop in zip(bounds, bounds[1:], strict=False)]
    yield from heapq.merge(*runs, key=itemgetter(0))


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

    def drain(self, ms: int, message: str, request_id: str, path: str, status: int) -> str:
        """One Vercel log-drain object for an application stdout line."""
        return (
            f'{{"id":"{self._id()}","deploymentId":"{self.deployment}","source":"lambda",'
            f'"host":"{_HOST}","timestamp":{ms},"projectId":"{self.project}","level":"info",'
            f'"type":"stdout","message":{_quote(message)},"path":{_quote(path)},'
            f'"statusCode":{status},"requestId":{_quote(request_id)},"environment":"production"}}'
        )

    def drain_request(self, ms: int, method: str, path: str, status: int) -> str:
        """A drain's request record (no application output): the proxy fields only."""
        return (
            f'{{"id":"{self._id()}","deploymentId":"{self.deployment}","source":"lambda",'
            f'"host":"{_HOST}","timestamp":{ms},"projectId":"{self.project}","level":"info",'
            f'"path":{_quote(path)},"statusCode":{status},"requestId":"{_REGION}::health-{ms}",'
            f'"environment":"production","proxy":{{"timestamp":{ms},"method":{_quote(method)},'
            f'"path":{_quote(path)},"statusCode":{status},"region":"{_REGION}"}}}}'
        )


def _pino_health(ms: int) -> str:
    return (
        f'{{"level":30,"time":{ms},"pid":1,"hostname":"vercel","path":"/api/health",'
        f'"statusCode":200,"msg":"GET /api/health 200"}}'
    )


# --- both logs --------------------------------------------------------------------------------


def _write_logs(
    scenario: Scenario, window: _Span, router_file: BinaryIO, rlm_file: BinaryIO
) -> None:
    """Write the router log and the RLM log in one pass over the requests in time order.

    Each log draws from its own random source, per request in order. Each is the merge, on
    (ms, stream rank, sequence), of its request lines (lines a request implies for later, such as
    an accepted job or a failure, queued until due) and its other lines (health checks, RLM
    events): those go before a request line when earlier, or as early and ranked lower. Lines are
    appended as they are made; the drain form numbers router lines in the order they are made,
    which is the order a lazy heapq.merge of the two streams would make them in.
    """
    lo, hi = window.lo, window.hi

    router_rng = _rng(scenario, "router")
    render = _RouterFormat(scenario, router_rng)
    bits = router_rng.getrandbits
    gauss = router_rng.gauss
    exp = math.exp
    uuid_keep, uuid_set = uuid4_bits(-1), uuid4_bits(0)  # (bits & keep) | set: uuid4_bits
    drain = render.form == "drain"
    vercel = render.form == "vercel-json"
    tokens = ""
    router_out: list[str] = []
    router_pending: list[_Pending] = []  # accepted-job lines, due after their request
    router_sequence = 0
    # The health lines, made one at a time: the first when the first request line is made, the
    # next once one is written. Every line is in [lo, hi): (lo - 1, None) is "none made yet",
    # (hi, None) "no more".
    health = _router_health_lines(window, render)
    no_more: tuple[int, str | None] = (hi, None)
    tick: tuple[int, str | None] = (lo - 1, None)

    rlm_rng = _rng(scenario, "rlm")
    rlm_draw = rlm_rng.random
    rlm_out: list[str] = []
    rlm_pending: list[_Pending] = []  # failure lines, minutes after their request
    rlm_sequence = 0
    others = list(heapq.merge(_rlm_event_lines(scenario, window), _rlm_health_lines(window)))
    others_text = [f"{_iso_ms(ms)} {text}" for ms, _, _, text in others]
    # another line goes before a request line at ms when limit < ms (hi: never)
    limits = [ms - (rank < _RANK_REQUEST) for ms, rank, _, _ in others] + [hi]
    done = 0
    hour = None
    prefix = ""

    for at_us, user, v2, percent, direct, error in _ordered(
        scenario, lambda: request_outcomes(scenario)
    ):
        ms = at_us // 1000  # _ms(at)
        if ms >= hi:
            break
        if len(router_out) >= _FLUSH_LINES or len(rlm_out) >= _FLUSH_LINES:
            _flush(router_file, router_out)
            _flush(rlm_file, rlm_out)

        # RLM: every request is received (direct v1 calls too); a failure is logged later.
        failed_ms = ms + round((1.0 + 7.0 * rlm_draw()) * 60_000)  # rng.uniform(1.0, 8.0)
        while rlm_pending and rlm_pending[0][0] <= ms:
            due, _, text = heapq.heappop(rlm_pending)
            while limits[done] < due:
                rlm_out.append(others_text[done])
                done += 1
            rlm_out.append(f"{_iso_ms(due)} {text}")
        if lo <= ms:
            while limits[done] < ms:
                rlm_out.append(others_text[done])
                done += 1
            hours, rest = divmod(ms, _HOUR_MS)  # _iso_ms(ms), the hour's prefix kept
            if hours != hour:
                hour = hours
                prefix = _hour_prefix(hours)
            minute, rest = divmod(rest, 60_000)
            second, milli = divmod(rest, 1000)
            if v2:
                rlm_out.append(
                    f"{prefix}{minute:02d}:{second:02d}.{milli:03d}Z "
                    f"INFO [v2] Received process-full-v2 request for user {user}"
                )
            else:
                rlm_out.append(
                    f"{prefix}{minute:02d}:{second:02d}.{milli:03d}Z "
                    f"[DEPRECATED] /process-full called by user {user}"
                )
        if error is not None and lo <= failed_ms < hi:
            rlm_sequence += 1
            text = f"ERROR [v2] user_id={user} step=pipeline status=failed error={error}"
            heapq.heappush(rlm_pending, (failed_ms, rlm_sequence, text))

        # Router: routed requests only. The draws, in order: correlation id, conversation count,
        # acceptance delay, job id and the request id's two tokens (5 and 12 characters).
        if direct:
            continue
        correlation = uuid_text((bits(128) & uuid_keep) | uuid_set)
        conversations = round(exp(gauss(_LOG_180, 1.0)))  # at least 1
        if conversations < 1:
            conversations = 1
        delay = bits(9)  # rng.randint(150, 650)
        while delay >= 501:
            delay = bits(9)
        accepted_ms = ms + 150 + delay
        job = bits(128)
        if drain:
            tokens = _token(router_rng, 17)
        else:  # the same draws, the characters unused
            for _ in _TOKEN_CHARACTERS:
                while bits(6) >= 36:
                    pass
        while router_pending and router_pending[0][0] <= ms:
            due, _, text = heapq.heappop(router_pending)
            while tick[0] < due:
                if tick[1] is not None:
                    router_out.append(tick[1])
                tick = next(health, no_more)
            router_out.append(text)
        if ms < lo:
            continue
        routing = (
            f'{{"level":30,"time":{ms},"pid":1,"hostname":"vercel",'
            f'"correlationId":"{correlation}","msg":"{ROUTING_MESSAGE}",'
            f'"endpoint":"{_V2_ENDPOINT if v2 else _V1_ENDPOINT}","v2RolloutPercent":{percent},'
            f'"userId":"{user}","conversationCount":{conversations}}}'
        )
        accepted: str | None = None
        if v2 and accepted_ms < hi:
            accepted = (
                f'{{"level":30,"time":{accepted_ms},"pid":1,"hostname":"vercel",'
                f'"correlationId":"{correlation}","userId":"{user}",'
                f'"jobId":"{uuid_text(uuid4_bits(job))}","status":200,"msg":"{ACCEPTED_MESSAGE}"}}'
            )
        if vercel:
            message = _quote(routing)
            logs = f'{{"level":"info","message":{message}}}'
            if accepted is not None:
                logs += f',{{"level":"info","message":{_quote(accepted)}}}'
            line = (
                f'{{"timestamp":{ms},"requestPath":"{ROUTER_PATH}","requestMethod":"POST",'
                f'"responseStatusCode":200,"level":"info","message":{message},"logs":[{logs}]}}'
            )
            accepted = None  # inside the request's line
        elif drain:
            request_id = f"{_REGION}::{tokens[:5]}-{ms}-{tokens[5:]}"
            line = render.drain(ms, routing, request_id, ROUTER_PATH, 200)
        else:
            line = routing
        while tick[0] < ms:
            if tick[1] is not None:
                router_out.append(tick[1])
            tick = next(health, no_more)
        router_out.append(line)
        if accepted is not None:
            if drain:
                accepted = render.drain(accepted_ms, accepted, request_id, ROUTER_PATH, 200)
            router_sequence += 1
            heapq.heappush(router_pending, (accepted_ms, router_sequence, accepted))

    # Only lines inside the window were queued; then the other lines left.
    for due, _, text in sorted(rlm_pending):
        while limits[done] < due:
            rlm_out.append(others_text[done])
            done += 1
        rlm_out.append(f"{_iso_ms(due)} {text}")
    rlm_out.extend(others_text[done:])
    for due, _, text in sorted(router_pending):
        while tick[0] < due:
            if tick[1] is not None:
                router_out.append(tick[1])
            tick = next(health, no_more)
        router_out.append(text)
    while tick[0] < hi:
        if tick[1] is not None:
            router_out.append(tick[1])
        tick = next(health, no_more)
    _flush(router_file, router_out)
    _flush(rlm_file, rlm_out)


def _router_health_lines(window: _Span, render: _RouterFormat) -> Iterator[_Line]:
    """An uptime probe's `GET /api/health` every 10 minutes (7 s past the grid)."""
    every = HEALTH_EVERY // _MS
    for ms in _ticks(window, every, offset_ms=7_000):
        if render.form == "vercel-json":
            text = (
                f'{{"timestamp":{ms},"requestPath":"/api/health","requestMethod":"GET",'
                f'"responseStatusCode":200,"level":"info","message":"","logs":[]}}'
            )
        elif render.form == "drain":
            text = render.drain_request(ms, "GET", "/api/health", 200)
        else:
            text = _pino_health(ms)
        yield ms, text


# --- RLM log: other lines ---------------------------------------------------------------------


def _rlm_event_lines(scenario: Scenario, window: _Span) -> Iterator[_Ranked]:
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


def _rlm_health_lines(window: _Span) -> Iterator[_Ranked]:
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
