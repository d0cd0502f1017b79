"""The router log a scenario implies: one line per routed request, an accepted-job line after
each v2 one, a health check every 10 minutes; in the scenario's ``logs.router_format``."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from typing import BinaryIO

from cutover.scenarios.artifacts.common import (
    FLUSH_LINES,
    HEALTH_EVERY,
    MS,
    Pending,
    Span,
    flush,
    quote,
    random_source,
    ticks,
    token,
)
from cutover.scenarios.generate import uuid4_bits, uuid_text
from cutover.scenarios.model import Scenario

ROUTER_PATH = "/api/import/process-server"
ROUTING_MESSAGE = "Routing import request to RLM pipeline"
ACCEPTED_MESSAGE = "RLM accepted job"

_V1_ENDPOINT = "/process-full"
_V2_ENDPOINT = "/process-full-v2"
_HOST = "soulprint-landing.vercel.app"
_REGION = "iad1"
_LOG_180 = math.log(180)
_TOKEN_CHARACTERS = range(17)  # a request id's two tokens (5 and 12 characters)
_UUID_KEEP, _UUID_SET = uuid4_bits(-1), uuid4_bits(0)  # (bits & keep) | set: uuid4_bits

_Line = tuple[int, str]  # (epoch ms, text)


class RouterFormat:
    """Renders router lines in one of the three export forms."""

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.form = scenario.logs.router_format
        self.rng = rng
        self.deployment = "dpl_" + token(rng, 24)
        self.project = "prj_" + token(rng, 24)
        self.sequence = 0

    def _id(self) -> str:
        self.sequence += 1
        return f"{self.deployment[4:12]}{self.sequence:012d}"

    def drain(self, ms: int, message: str, request_id: str, path: str, status: int) -> str:
        """One Vercel log-drain object for an application stdout line."""
        return (
            f'{{"id":"{self._id()}","deploymentId":"{self.deployment}","source":"lambda",'
            f'"host":"{_HOST}","timestamp":{ms},"projectId":"{self.project}","level":"info",'
            f'"type":"stdout","message":{quote(message)},"path":{quote(path)},'
            f'"statusCode":{status},"requestId":{quote(request_id)},"environment":"production"}}'
        )

    def drain_request(self, ms: int, method: str, path: str, status: int) -> str:
        """A drain's request record (no application output): the proxy fields only."""
        return (
            f'{{"id":"{self._id()}","deploymentId":"{self.deployment}","source":"lambda",'
            f'"host":"{_HOST}","timestamp":{ms},"projectId":"{self.project}","level":"info",'
            f'"path":{quote(path)},"statusCode":{status},"requestId":"{_REGION}::health-{ms}",'
            f'"environment":"production","proxy":{{"timestamp":{ms},"method":{quote(method)},'
            f'"path":{quote(path)},"statusCode":{status},"region":"{_REGION}"}}}}'
        )


class RouterLogWriter:
    """Writes the router log line by line in time order, given the routed requests in order.

    Every routed request draws from the router's random source, in order, even before the
    window. Its line and its health checks are written as they are made; an accepted job, due
    a few hundred ms later, is queued until due. The drain form numbers lines in the order they
    are made: a request line before the health lines written ahead of it.
    """

    def __init__(self, scenario: Scenario, window: Span, file: BinaryIO) -> None:
        self._rng = random_source(scenario, "router")
        self._render = RouterFormat(scenario, self._rng)
        self._drain = self._render.form == "drain"
        self._vercel = self._render.form == "vercel-json"
        self._window = window
        self._file = file
        self._out: list[str] = []
        self._pending: list[Pending] = []  # accepted-job lines, due after their request
        self._sequence = 0
        # The health lines, made one at a time: the first when the first request line is made,
        # the next once one is written. Every line is in [lo, hi): (lo - 1, None) is "none made
        # yet", (hi, None) "no more".
        self._health = _health_lines(window, self._render)
        self._no_more: tuple[int, str | None] = (window.hi, None)
        self._tick: tuple[int, str | None] = (window.lo - 1, None)

    def request(self, ms: int, user: str, v2: bool, percent: int) -> None:
        """A routed request at `ms` (epoch ms, before the window's end)."""
        if len(self._out) >= FLUSH_LINES:
            flush(self._file, self._out)
        correlation, conversations, accepted_ms, job, tokens = self._draws(ms)
        self._write_due(ms)
        if ms < self._window.lo:
            return
        routing = _routing_line(ms, correlation, user, v2, percent, conversations)
        accepted: str | None = None
        if v2 and accepted_ms < self._window.hi:
            accepted = _accepted_line(accepted_ms, correlation, user, job)
        request_id = f"{_REGION}::{tokens[:5]}-{ms}-{tokens[5:]}" if self._drain else ""
        if self._vercel:
            line = _vercel_request(ms, routing, accepted)
            accepted = None  # inside the request's line
        elif self._drain:
            line = self._render.drain(ms, routing, request_id, ROUTER_PATH, 200)
        else:
            line = routing
        self._write_health_before(ms)
        self._out.append(line)
        if accepted is not None:
            if self._drain:
                accepted = self._render.drain(accepted_ms, accepted, request_id, ROUTER_PATH, 200)
            self._sequence += 1
            heapq.heappush(self._pending, (accepted_ms, self._sequence, accepted))

    def finish(self) -> None:
        """The queued lines and the health lines left, then the last write."""
        for due, _, text in sorted(self._pending):
            self._write_health_before(due)
            self._out.append(text)
        self._write_health_before(self._window.hi)
        flush(self._file, self._out)

    def _draws(self, ms: int) -> tuple[str, int, int, int, str]:
        """A request's draws, in order: correlation id, conversation count, acceptance delay,
        job id and the request id's two tokens (5 and 12 characters)."""
        bits = self._rng.getrandbits
        correlation = uuid_text((bits(128) & _UUID_KEEP) | _UUID_SET)
        conversations = round(math.exp(self._rng.gauss(_LOG_180, 1.0)))  # at least 1
        if conversations < 1:
            conversations = 1
        delay = bits(9)  # rng.randint(150, 650)
        while delay >= 501:
            delay = bits(9)
        job = bits(128)
        tokens = ""
        if self._drain:
            tokens = token(self._rng, 17)
        else:  # the same draws, the characters unused
            for _ in _TOKEN_CHARACTERS:
                while bits(6) >= 36:
                    pass
        return correlation, conversations, ms + 150 + delay, job, tokens

    def _write_due(self, ms: int) -> None:
        """The queued lines due by `ms`, each after the health lines before it."""
        pending = self._pending
        while pending and pending[0][0] <= ms:
            due, _, text = heapq.heappop(pending)
            self._write_health_before(due)
            self._out.append(text)

    def _write_health_before(self, ms: int) -> None:
        """The health lines before `ms` (made one at a time, see __init__)."""
        tick = self._tick
        while tick[0] < ms:
            if tick[1] is not None:
                self._out.append(tick[1])
            tick = next(self._health, self._no_more)
        self._tick = tick


def _routing_line(
    ms: int, correlation: str, user: str, v2: bool, percent: int, conversations: int
) -> str:
    return (
        f'{{"level":30,"time":{ms},"pid":1,"hostname":"vercel",'
        f'"correlationId":"{correlation}","msg":"{ROUTING_MESSAGE}",'
        f'"endpoint":"{_V2_ENDPOINT if v2 else _V1_ENDPOINT}","v2RolloutPercent":{percent},'
        f'"userId":"{user}","conversationCount":{conversations}}}'
    )


def _accepted_line(ms: int, correlation: str, user: str, job: int) -> str:
    return (
        f'{{"level":30,"time":{ms},"pid":1,"hostname":"vercel",'
        f'"correlationId":"{correlation}","userId":"{user}",'
        f'"jobId":"{uuid_text(uuid4_bits(job))}","status":200,"msg":"{ACCEPTED_MESSAGE}"}}'
    )


def _vercel_request(ms: int, routing: str, accepted: str | None) -> str:
    """A `vercel logs --json` request: its application lines in logs[]."""
    message = quote(routing)
    logs = f'{{"level":"info","message":{message}}}'
    if accepted is not None:
        logs += f',{{"level":"info","message":{quote(accepted)}}}'
    return (
        f'{{"timestamp":{ms},"requestPath":"{ROUTER_PATH}","requestMethod":"POST",'
        f'"responseStatusCode":200,"level":"info","message":{message},"logs":[{logs}]}}'
    )


def _health_lines(window: Span, render: RouterFormat) -> Iterator[_Line]:
    """An uptime probe's `GET /api/health` every 10 minutes (7 s past the grid)."""
    every = HEALTH_EVERY // MS
    for ms in ticks(window, every, offset_ms=7_000):
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


def _pino_health(ms: int) -> str:
    return (
        f'{{"level":30,"time":{ms},"pid":1,"hostname":"vercel","path":"/api/health",'
        f'"statusCode":200,"msg":"GET /api/health 200"}}'
    )
