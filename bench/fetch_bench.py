"""The Render log fetch against a simulated Render API at its documented limits.

The simulated API serves a 7-day stage-3 window of 1M RLM lines (`/v1/logs` with the `text` and
`level` filters, both directions, 100 logs a page, paged by nextStartTime/nextEndTime; the
service's events; the four metric series) and allows ~100 requests a minute: a fixed one-minute
window, `Ratelimit-Limit` / `-Remaining` / `-Reset` on every answer and a 429 past the limit.
Time is simulated: each request costs `--latency` seconds, and the client's waits (the rate
limit) advance the same clock, so the bench takes seconds, not minutes.

It runs the suite's own fetch (`fetch_rlm_log` and `fetch_metrics`, over httpx to the app in
process; the log has a health check every `--health-every` seconds among its lines, 5 s by
default: Render probes every few seconds and the RLM logs each), and prints the requests made,
the lines downloaded and the simulated minutes against a naive full download (every line, 100
a page, at the same rate), for two cases: the 7-day window fetched cold, and the day-7 fetch of
a stage run with daily checkpoints (each fetch keeps the one before and asks only for the new
day, as the CI templates do with the evidence they keep). Then the cold fetch again at sparser
health checks (`--sweep`). Targets: <= 1% of the window's lines downloaded, < 5 simulated
minutes. Each cold row prints its floor: proving a dense log has no gap costs a request per
coverage tolerance plus the span of the health checks it returns (`heartbeats`), so no client
that downloads at most 1% of the lines can take less (`floor_minutes`): ~19 minutes at a
5-minute tolerance and a health check every 5 s. It also checks that each snapshot counts what
the whole log holds (exit 1 if not).

    .venv/bin/python bench/fetch_bench.py [--lines 1000000] [--health-every 5] [--sweep 15,60]
        [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cutover.outcome import Window
from cutover.profile import Profile
from cutover.sources.http import Budget, Pacing
from cutover.sources.platform.fetch import health_check_tolerance_us
from cutover.sources.platform.render import EARLIER_OVERLAP_US, Earlier, RenderApi, fetch_rlm_log
from cutover.sources.platform.render_metrics import fetch_metrics
from cutover.sources.rlm_logs import count_lines, scan_rlm_log
from cutover.timeutil import epoch_us, from_epoch_us, instant_us

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import Row, format_rows  # noqa: E402

START = datetime(2026, 3, 9, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(days=7))
PAGE = 100
PER_MINUTE = 100
MAX_LINES_PCT = 1.0
MAX_MINUTES = 5.0
OWNER, SERVICE = "tea-sim", "srv-sim"


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class RlmLog:
    """The window's lines: instants (epoch us, sorted) and messages."""

    instants: np.ndarray
    messages: list[str]
    _matches: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def matching(self, name: str, value: str) -> np.ndarray:
        """Indices of the lines a filter value keeps (text: substring; level: error lines)."""
        key = (name, value)
        if key not in self._matches:
            if name == "text":
                found = [i for i, m in enumerate(self.messages) if value in m]
            else:
                found = [i for i, m in enumerate(self.messages) if m.startswith("ERROR")]
            self._matches[key] = np.asarray(found, dtype=np.int64)
        return self._matches[key]

    def text(self) -> str:
        """The whole log as RLM text lines (for the reference counts)."""
        return "".join(
            f"{from_epoch_us(int(t)).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z {m}\n"
            for t, m in zip(self.instants.tolist(), self.messages, strict=True)
        )


def build_log(lines: int, health_every: float, seed: int = 13) -> RlmLog:
    """`lines` lines over the window: health checks every `health_every` s (jittered), import
    lines, ~1.5k error lines, 3 crash lines, 2 v1 calls; the rest the RLM's own info lines."""
    rng = random.Random(seed)
    start, end = epoch_us(WINDOW.start or WINDOW.end), epoch_us(WINDOW.end)
    step = int(health_every * 1e6)
    health = [t + rng.randint(0, step // 10) for t in range(start + 3_000_000, end, step)]
    special = [
        *(
            f"ERROR [v2] user_id=u{i} step=pipeline status=failed error=Timeout"
            for i in range(1500)
        ),
        *("Instance failed: srv-sim-x1. Exited with status 1 while running your code.",) * 3,
        "[DEPRECATED] /process-full called by user u-legacy-1",
        "[DEPRECATED] /process-full called by user u-legacy-2",
    ]
    filler = lines - len(health) - len(special)
    if filler < 0:
        raise SystemExit(f"--lines {lines} is fewer than the health checks alone ({len(health)})")
    templates = (
        "INFO [v2] Received process-full-v2 request for user u{}",
        "INFO [FullPass] user_id=u{} step=embed status=ok",
        "INFO [FullPass] user_id=u{} step=summarize status=ok",
        "INFO [FullPass] user_id=u{} step=write status=complete",
    )
    rows = [(t, "INFO GET /health 200") for t in health]
    rows += [(rng.randrange(start, end), m) for m in special]
    rows += [(rng.randrange(start, end), templates[i % 4].format(i // 4)) for i in range(filler)]
    rows.sort(key=lambda row: row[0])
    return RlmLog(np.asarray([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows])


@dataclass
class SimulatedRender:
    """Render's API over `log`, rate limited, on the simulated clock."""

    log: RlmLog
    clock: Clock
    latency: float
    requests: int = 0
    lines_sent: int = 0
    throttled: int = 0
    _window: int = -1
    _used: int = 0

    def limited(self) -> Response | dict[str, str]:
        """The rate-limit headers, or the 429 answer past the limit."""
        self.clock.now += self.latency
        self.requests += 1
        minute = int(self.clock.now // 60)
        if minute != self._window:
            self._window, self._used = minute, 0
        self._used += 1
        reset = str(math.ceil((minute + 1) * 60 - self.clock.now))
        headers = {
            "Ratelimit-Limit": str(PER_MINUTE),
            "Ratelimit-Remaining": str(max(PER_MINUTE - self._used, 0)),
            "Ratelimit-Reset": reset,
        }
        if self._used > PER_MINUTE:
            self.throttled += 1
            return JSONResponse({"message": "rate limited"}, status_code=429, headers=headers)
        return headers

    def app(self) -> Starlette:
        async def logs(request: Request) -> Response:
            headers = self.limited()
            if isinstance(headers, Response):
                return headers
            q = request.query_params
            lo, hi = instant_us(q["startTime"]), instant_us(q["endTime"])
            chosen: np.ndarray | None = None
            if any(kind != "app" for kind in q.getlist("type")):
                chosen = np.arange(0)  # every line of this log is the service's own (type app)
            for name in ("text", "level"):
                for value in q.getlist(name):
                    found = self.log.matching(name, value)
                    chosen = found if chosen is None else np.intersect1d(chosen, found, True)
            if chosen is None:
                chosen = np.arange(len(self.log.messages))
            times = self.log.instants[chosen]
            inside = chosen[np.searchsorted(times, lo) : np.searchsorted(times, hi, "right")]
            limit = min(int(q.get("limit", "20")), PAGE)
            forward = q.get("direction", "backward") == "forward"
            page = inside[:limit] if forward else inside[::-1][:limit]
            more = len(inside) > limit
            body: dict[str, Any] = {"hasMore": more, "logs": [self._object(int(i)) for i in page]}
            if more:
                last = int(self.log.instants[page[-1]])
                body["nextStartTime"] = _stamp(last + 1) if forward else q["startTime"]
                body["nextEndTime"] = q["endTime"] if forward else _stamp(last - 1)
            self.lines_sent += len(page)
            return JSONResponse(body, headers=headers)

        async def events(request: Request) -> Response:
            headers = self.limited()
            return headers if isinstance(headers, Response) else JSONResponse([], headers=headers)

        async def metrics(request: Request) -> Response:
            headers = self.limited()
            if isinstance(headers, Response):
                return headers
            points = [
                {"timestamp": _stamp(epoch_us(START) + i * 300_000_000), "value": 3e8 + 1e5 * i}
                for i in range(2016)
            ]
            unit = "cpu" if "cpu" in request.url.path else "bytes"
            series = [
                {
                    "labels": [{"field": "instance", "value": "srv-sim-x1"}],
                    "unit": unit,
                    "values": points,
                }
            ]
            return JSONResponse(series, headers=headers)

        return Starlette(
            routes=[
                Route("/v1/logs", logs),
                Route(f"/v1/services/{SERVICE}/events", events),
                Route("/v1/metrics/{name}", metrics),
            ]
        )

    def _object(self, index: int) -> dict[str, Any]:
        message = self.log.messages[index]
        level = "error" if message.startswith("ERROR") else "info"
        return {
            "id": f"l{index}",
            "timestamp": _stamp(int(self.log.instants[index])),
            "message": message,
            "labels": [
                {"name": "level", "value": level},
                {"name": "instance", "value": "x1"},
                {"name": "type", "value": "app"},  # the RLM's own lines, all of them
            ],
        }


def _stamp(instant: int) -> str:
    return from_epoch_us(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Case:
    health_every: float
    requests: int
    lines_sent: int
    minutes: float
    throttled: int
    exact: bool

    def lines_pct(self, total: int) -> float:
        return 100.0 * self.lines_sent / total


def run_case(
    log: RlmLog, health_every: float, tolerance_us: int, latency: float, *, daily: bool
) -> Case:
    """The fetch of the 7-day window: cold (nothing fetched before), or the seventh of the
    daily checkpoints' fetches, each of which keeps the one before (`Earlier`)."""
    clock = Clock()
    render = SimulatedRender(log, clock, latency)
    api = RenderApi(
        "http://render.sim",
        "rnd_sim",
        OWNER,
        SERVICE,
        8_000_000,
        httpx.ASGITransport(app=render.app()),
    )
    earlier: Earlier | None = None
    for day in range(1, 8) if daily else (7,):
        window = Window(START, START + timedelta(days=day))
        clock.now, render.requests, render.lines_sent, render.throttled = 0.0, 0, 0, 0
        budget = Budget(Pacing(3600.0, 30.0, clock=clock, sleep=clock.sleep))
        fetched = fetch_rlm_log(api, window, tolerance_us, budget, earlier)
        fetch_metrics(api, window, budget)
        until = epoch_us(window.end) - EARLIER_OVERLAP_US
        earlier = Earlier("sha", fetched.content, until)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "rlm.jsonl"
        path.write_bytes(fetched.content)
        got = scan_rlm_log(path, START, WINDOW.end)
    whole = count_lines(log.text().splitlines(), START, WINDOW.end)
    same = (got.deprecated_calls, got.errors, got.crashes, got.oom_kills) == (
        whole.deprecated_calls,
        whole.errors,
        whole.crashes,
        whole.oom_kills,
    )
    return Case(
        health_every, render.requests, render.lines_sent, clock.now / 60, render.throttled, same
    )


def floor_minutes(tolerance_us: int, cadence_s: float, max_lines: float) -> float | None:
    """The fewest simulated minutes in which any client proves the window has no gap while
    downloading at most `max_lines`: a request proves at most the tolerance before its oldest
    line plus its k lines' span, (k - 1) cadences of the health checks (the log's sparsest
    steady lines), so N requests with sum(k) <= max_lines prove at most N (tol - c) + c max_lines
    of the window. None when the health checks are sparser than the tolerance."""
    cadence = cadence_s * 1e6
    if cadence >= tolerance_us:
        return None
    span = epoch_us(WINDOW.end) - epoch_us(WINDOW.start or WINDOW.end)
    return max(span - cadence * max_lines, 0.0) / (tolerance_us - cadence) / PER_MINUTE


def floor_note(tolerance_us: int, cadence_s: float, lines: int) -> str:
    floor = floor_minutes(tolerance_us, cadence_s, lines * MAX_LINES_PCT / 100)
    if floor is None:
        return f"health checks every {cadence_s:g} s"
    return (
        f"health checks every {cadence_s:g} s: floor {floor:.1f} min at <= {MAX_LINES_PCT:g}% lines"
    )


def show(case: Case, what: str, lines: int, naive_requests: int, naive_minutes: float) -> None:
    print(
        f"  {what}: {case.requests:,} requests, "
        f"{case.lines_sent:,} lines ({case.lines_pct(lines):.2f}%), {case.minutes:.2f} "
        f"simulated minutes, {case.throttled} throttled; counts "
        f"{'as' if case.exact else 'NOT as'} the whole log's; vs naive: "
        f"{case.requests / naive_requests:.3f} of the requests, "
        f"{case.minutes / naive_minutes:.3f} of the time"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--health-every", type=float, default=5.0, help="seconds (the targets)")
    parser.add_argument(
        "--sweep", default="15,60", help="sparser health checks (s, comma-separated), cold only"
    )
    parser.add_argument("--latency", type=float, default=0.2, help="simulated s per request")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    tolerance = health_check_tolerance_us(Profile())
    naive_requests = math.ceil(args.lines / PAGE)
    naive_minutes = max(naive_requests / PER_MINUTE, naive_requests * args.latency / 60)
    print(
        f"fetch bench: 7-day window, {args.lines:,} RLM lines, {PAGE} logs a page, "
        f"{PER_MINUTE} requests a minute, health-check tolerance {tolerance / 6e7:g} min"
    )
    print(
        f"  naive full download: {naive_requests:,} requests, {args.lines:,} lines (100%), "
        f"{naive_minutes:.1f} simulated minutes"
    )
    log = build_log(args.lines, args.health_every)
    cold = run_case(log, args.health_every, tolerance, args.latency, daily=False)
    daily = run_case(log, args.health_every, tolerance, args.latency, daily=True)
    show(cold, "cold 7-day fetch", args.lines, naive_requests, naive_minutes)
    show(daily, "day-7 fetch of the daily checkpoints", args.lines, naive_requests, naive_minutes)
    cases = [cold, daily]
    rows = [
        Row(
            "fetch: % of the window's lines, cold 7-day fetch",
            cold.lines_pct(args.lines),
            MAX_LINES_PCT,
            "%",
        ),
        Row(
            "fetch: simulated minutes, cold 7-day fetch",
            cold.minutes,
            MAX_MINUTES,
            "m",
            floor_note(tolerance, args.health_every, args.lines),
        ),
        Row(
            "fetch: % of the window's lines, day 7 of daily fetches",
            daily.lines_pct(args.lines),
            MAX_LINES_PCT,
            "%",
        ),
        Row("fetch: simulated minutes, day 7 of daily fetches", daily.minutes, MAX_MINUTES, "m"),
    ]
    for every in (float(v) for v in args.sweep.split(",") if v.strip()):
        sparse = run_case(build_log(args.lines, every), every, tolerance, args.latency, daily=False)
        show(
            sparse,
            f"cold, health checks every {every:g} s",
            args.lines,
            naive_requests,
            naive_minutes,
        )
        cases.append(sparse)
        note = floor_note(tolerance, every, args.lines)
        rows += [
            Row(
                f"fetch: % of lines, cold, health every {every:g} s",
                sparse.lines_pct(args.lines),
                MAX_LINES_PCT,
                "%",
            ),
            Row(
                f"fetch: simulated minutes, cold, health every {every:g} s",
                sparse.minutes,
                MAX_MINUTES,
                "m",
                note,
            ),
        ]
    failed = not all(case.exact for case in cases)
    print("\n".join(format_rows(rows)))
    if args.json is not None:
        args.json.write_text(json.dumps([row.as_json() for row in rows]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
