"""Scenario artifacts: router log, RLM log and metrics CSV, read back with the real readers."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cutover.scenarios.artifacts import (
    RLM_HEALTH_EVERY,
    ScenarioFiles,
    export_span,
    write_artifacts,
)
from cutover.scenarios.generate import RoutedRequest, import_rows, routed_requests
from cutover.scenarios.model import Scenario, load_scenario
from cutover.sources.metrics import read_metrics_csv
from cutover.sources.rlm_logs import scan_rlm_log
from cutover.sources.router_logs import count_routing

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
FORMATS = ("pino", "drain", "vercel-json")

BASE = """
t0 = "2026-03-02T09:00:00Z"
seed = 7

[[stage]]
stage = 1
at = "0h"

[[stage]]
stage = 2
at = "3h"

[[traffic]]
from = "-2h"
to = "8h"
requests_per_hour = 60
direct_v1_per_hour = 6
failure_pct = 20
"""

EVENTS = """
[[rlm_event]]
at = "1h"
kind = "oom"

[[rlm_event]]
at = "150m"
kind = "crash"

[[rlm_event]]
at = "3h"
kind = "processors-unavailable"

[[rlm_event]]
at = "4h"
kind = "error"
message = "Bedrock client timed out"

[[rlm_event]]
at = "250m"
kind = "error"

[[rlm_event]]
at = "7h"
kind = "oom"
"""


def scenario(tmp_path: Path, extra: str = "", *, base: str = BASE, name: str = "s") -> Scenario:
    (tmp_path / f"{name}.toml").write_text(base + extra, encoding="utf-8")
    return load_scenario(name, directory=tmp_path)


def in_span(requests: list[RoutedRequest], start: datetime, end: datetime) -> list[RoutedRequest]:
    return [r for r in requests if start <= r.at < end]


def instants(value: Any) -> list[int]:
    """Every epoch-ms `time` / `timestamp` in a decoded line, embedded Pino lines included."""
    found: list[int] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("time", "timestamp") and isinstance(item, int):
                found.append(item)
            elif key == "message" and isinstance(item, str) and item.startswith("{"):
                found.extend(instants(json.loads(item)))
            else:
                found.extend(instants(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(instants(item))
    return found


def line_times(files: ScenarioFiles) -> dict[str, list[datetime]]:
    """The leading instant of each line of each file (for JSON: the line's own timestamp)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    router: list[datetime] = []
    every_router: list[datetime] = []
    for line in files.router_logs.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        own = record.get("timestamp", record.get("time"))
        router.append(epoch + timedelta(milliseconds=own))
        every_router.extend(epoch + timedelta(milliseconds=ms) for ms in instants(record))
    rlm = [
        datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
        for line in files.rlm_logs.read_text(encoding="utf-8").splitlines()
    ]
    metrics = [
        datetime.fromisoformat(line.split(",", 1)[0].replace("Z", "+00:00"))
        for line in files.rlm_metrics.read_text(encoding="utf-8").splitlines()[1:]
    ]
    return {"router": router, "router-any": every_router, "rlm": rlm, "metrics": metrics}


@pytest.mark.parametrize("form", FORMATS)
def test_router_log_counts_routed_requests_in_span(tmp_path: Path, form: str) -> None:
    s = scenario(tmp_path, f'[logs]\nrouter_format = "{form}"\n')
    until = T0 + timedelta(hours=5)
    files = write_artifacts(s, tmp_path / "out", until=until)
    start, end = export_span(s, until)
    assert (start, end) == (T0 - timedelta(hours=2), until)

    routed = [r for r in in_span(list(routed_requests(s)), start, end) if not r.direct]
    counts = count_routing(files.router_logs, start, end)
    assert counts.v2 == sum(r.v2 for r in routed) > 0
    assert counts.v1 == sum(not r.v2 for r in routed) > 0
    assert counts.percent_seen == dict(sorted(Counter(r.percent for r in routed).items()))
    assert set(counts.percent_seen) == {0, 10, 50}
    assert (counts.unparsed, counts.out_of_order) == (0, 0)
    assert counts.first_seen is not None and counts.last_seen is not None
    assert start <= counts.first_seen and counts.last_seen < end

    # A sub-window counts the requests in it, too.
    mid = (T0, T0 + timedelta(hours=3))
    part = count_routing(files.router_logs, *mid)
    assert part.routed == len(in_span(routed, *mid))


@pytest.mark.parametrize("form", FORMATS)
def test_router_log_holds_other_lines_and_accepted_jobs(tmp_path: Path, form: str) -> None:
    s = scenario(tmp_path, f'[logs]\nrouter_format = "{form}"\n')
    files = write_artifacts(s, tmp_path / "out", until=T0 + timedelta(hours=2))
    text = files.router_logs.read_text(encoding="utf-8")
    assert "/api/health" in text
    assert "RLM accepted job" in text
    lines = text.splitlines()
    routing = sum("Routing import request" in line for line in lines)
    assert len(lines) > routing  # not only routing lines
    records = [json.loads(line) for line in lines]
    if form == "vercel-json":
        posts = [r for r in records if r["requestMethod"] == "POST"]
        assert len(posts) == routing
        assert all(r["logs"] and r["message"] == r["logs"][0]["message"] for r in posts)
        assert all(r["responseStatusCode"] == 200 for r in records)
    elif form == "drain":
        assert all(r["source"] == "lambda" and isinstance(r["timestamp"], int) for r in records)
        stdout = [r for r in records if "message" in r]
        assert all(r["type"] == "stdout" and r["requestId"] for r in stdout)
        assert len({r["id"] for r in records}) == len(records)
    else:
        assert all(r["level"] == 30 and isinstance(r["time"], int) for r in records)


def test_direct_v1_calls_reach_only_the_rlm_log(tmp_path: Path) -> None:
    s = scenario(tmp_path)
    until = T0 + timedelta(hours=5)
    files = write_artifacts(s, tmp_path / "out", until=until)
    start, end = export_span(s, until)
    requests = in_span(list(routed_requests(s)), start, end)
    v1 = [r for r in requests if not r.v2]
    direct = [r for r in v1 if r.direct]
    assert direct

    rlm = scan_rlm_log(files.rlm_logs, start, end)
    assert rlm.deprecated_calls == len(v1)
    assert rlm.deprecated_users == frozenset(str(r.user_id) for r in v1)
    router = count_routing(files.router_logs, start, end)
    assert router.v1 == len(v1) - len(direct)
    received = files.rlm_logs.read_text(encoding="utf-8").count("Received process-full-v2")
    assert received == router.v2


def test_rlm_log_events_failures_and_health(tmp_path: Path) -> None:
    s = scenario(tmp_path, EVENTS)
    until = T0 + timedelta(hours=5)  # the 7h OOM is in the future: not written
    files = write_artifacts(s, tmp_path / "out", until=until)
    start, end = export_span(s, until)
    rlm = scan_rlm_log(files.rlm_logs, start, end)

    # The reader counts lines: an OOM is logged as Render's "Instance failed: ... Ran out of
    # memory" (an OOM and a crash) plus the runtime's OOMKilled line (an OOM).
    oom, crash = 1, 1
    assert rlm.oom_kills == 2 * oom
    assert rlm.crashes == oom + crash
    assert rlm.processors_unavailable == 1
    text = files.rlm_logs.read_text(encoding="utf-8")
    assert "ERROR Bedrock client timed out" in text
    assert text.count("OOMKilled") == 1

    # ERROR lines: the two error events plus one per failed v2 import, minutes after its start.
    requests = {r.user_id: r.at for r in routed_requests(s) if r.v2}
    failed = [requests[row.user_id] for row in import_rows(s) if row.status == "failed"]
    surely = sum(start <= at < end - timedelta(minutes=8) for at in failed)
    maybe = sum(start - timedelta(minutes=8) <= at < end for at in failed)
    assert 0 < surely <= rlm.errors - 2 <= maybe
    assert text.count("status=failed error=Pipeline failed: ValueError") == rlm.errors - 2

    health = text.count("INFO GET /health 200")
    assert health == (end - start) // RLM_HEALTH_EVERY
    assert rlm.unparsed == 0


def test_metrics_points_leak_and_restart(tmp_path: Path) -> None:
    metrics = """
[metrics]
memory_mb = 300
memory_leak_mb_per_hour = 20
memory_noise_mb = 0
cpu_percent = 10
cpu_growth_per_hour = 2
cpu_noise = 0
every = "10m"

[[rlm_event]]
at = "2h"
kind = "oom"
"""
    s = scenario(tmp_path, metrics)
    until = T0 + timedelta(hours=5)
    files = write_artifacts(s, tmp_path / "out", until=until)
    start, end = export_span(s, until)
    series = read_metrics_csv(files.rlm_metrics, start, end)
    assert len(series.points) == math.ceil((end - start) / timedelta(minutes=10)) == 42
    assert series.instances == ("srv-soulprint-landing-1",)
    points = {p.timestamp: p for p in series.points}
    assert points[start].memory_mb == 300.0 and points[start].cpu_percent == 10.0
    before = points[T0 + timedelta(hours=2) - timedelta(minutes=10)]
    restart = points[T0 + timedelta(hours=2)]
    assert before.memory_mb == pytest.approx(300 + 20 * (4 - 1 / 6), abs=0.1)
    assert restart.memory_mb == 300.0 and restart.cpu_percent == 10.0
    last = series.points[-1]
    assert last.memory_mb == pytest.approx(300 + 20 * (3 - 1 / 6), abs=0.1)


def test_metrics_noise_and_clamp(tmp_path: Path) -> None:
    leak = (
        '[metrics]\nmemory_leak_mb_per_hour = 15\ncpu_percent = 0.5\ncpu_noise = 5\nevery = "5m"\n'
    )
    s = scenario(tmp_path, leak)
    until = T0 + timedelta(hours=6)
    files = write_artifacts(s, tmp_path / "out", until=until)
    series = read_metrics_csv(files.rlm_metrics, *export_span(s, until))
    assert len(series.points) == 8 * 12
    assert series.points[-1].memory_mb > series.points[0].memory_mb
    cpus = [p.cpu_percent for p in series.points]
    assert all(c is not None and c >= 0 for c in cpus)
    assert 0.0 in cpus and len(set(cpus)) > 10  # noisy, clamped at zero


@pytest.mark.parametrize("form", FORMATS)
def test_nothing_after_until_and_lines_in_time_order(tmp_path: Path, form: str) -> None:
    s = scenario(tmp_path, f'[logs]\nrouter_format = "{form}"\n{EVENTS}')
    until = T0 + timedelta(hours=1, minutes=7, seconds=30, milliseconds=250)
    files = write_artifacts(s, tmp_path / "out", until=until)
    start, _ = export_span(s, until)
    times = line_times(files)
    for name, values in times.items():
        assert values, name
        assert all(start <= t < until for t in values), name
        if name != "router-any":
            assert values == sorted(values), name
    assert count_routing(files.router_logs, start, until).routed > 0
    rlm = scan_rlm_log(files.rlm_logs, start, until)
    assert rlm.last_seen is not None and rlm.last_seen < until


def test_logs_until_truncates_the_exports(tmp_path: Path) -> None:
    s = scenario(tmp_path, f'[logs]\nuntil = "2h"\nrouter_format = "drain"\n{EVENTS}')
    until = T0 + timedelta(hours=6)
    cut = T0 + timedelta(hours=2)
    assert export_span(s, until) == (T0 - timedelta(hours=2), cut)
    files = write_artifacts(s, tmp_path / "out", until=until)
    for name, values in line_times(files).items():
        assert max(values) < cut, name

    wide = (T0 - timedelta(hours=3), until)  # a window wider than the files
    routed = [r for r in in_span(list(routed_requests(s)), T0 - timedelta(hours=2), cut)]
    counts = count_routing(files.router_logs, *wide)
    assert counts.routed == sum(not r.direct for r in routed)
    assert counts.last_seen is not None and counts.last_seen < cut
    rlm = scan_rlm_log(files.rlm_logs, *wide)
    assert rlm.deprecated_calls == sum(not r.v2 for r in routed)
    assert (rlm.oom_kills, rlm.crashes, rlm.processors_unavailable) == (2, 1, 0)
    series = read_metrics_csv(files.rlm_metrics, *wide)
    assert len(series.points) == 4 * 12
    assert series.last_seen is not None and series.last_seen < cut

    # `until` earlier than logs.until wins.
    early = T0 + timedelta(hours=1)
    assert export_span(s, early)[1] == early


def test_logs_since_starts_the_exports(tmp_path: Path) -> None:
    s = scenario(tmp_path, '[logs]\nsince = "1h"\n')
    until = T0 + timedelta(hours=3)
    files = write_artifacts(s, tmp_path / "out", until=until)
    start = T0 + timedelta(hours=1)
    assert export_span(s, until) == (start, until)
    for name, values in line_times(files).items():
        assert min(values) >= start, name
    before = count_routing(files.router_logs, T0 - timedelta(hours=2), start)
    assert before.routed == 0
    assert read_metrics_csv(files.rlm_metrics, start, until).points[0].timestamp == start


def test_overlapping_segments_are_written_in_time_order(tmp_path: Path) -> None:
    overlap = BASE + '\n[[traffic]]\nfrom = "1h"\nto = "3h"\nrequests_per_hour = 40\n'
    s = scenario(tmp_path, base=overlap)
    until = T0 + timedelta(hours=4)
    files = write_artifacts(s, tmp_path / "out", until=until)
    start, end = export_span(s, until)
    times = line_times(files)
    assert times["router"] == sorted(times["router"])
    assert times["rlm"] == sorted(times["rlm"])
    requests = in_span(list(routed_requests(s)), start, end)
    counts = count_routing(files.router_logs, start, end)
    assert counts.out_of_order == 0
    assert counts.routed == sum(not r.direct for r in requests)
    rlm = scan_rlm_log(files.rlm_logs, start, end)
    assert rlm.deprecated_calls == sum(not r.v2 for r in requests)


def test_deterministic_and_empty_span(tmp_path: Path) -> None:
    s = scenario(tmp_path, EVENTS)
    until = T0 + timedelta(hours=2)
    first = write_artifacts(s, tmp_path / "a", until=until)
    second = write_artifacts(s, tmp_path / "b", until=until)
    for a, b in zip(
        (first.router_logs, first.rlm_logs, first.rlm_metrics),
        (second.router_logs, second.rlm_logs, second.rlm_metrics),
        strict=True,
    ):
        assert a.read_bytes() == b.read_bytes()
    assert first.router_logs.name == "router.log"
    assert (first.rlm_logs.name, first.rlm_metrics.name) == ("rlm.log", "metrics.csv")

    empty = write_artifacts(s, tmp_path / "c", until=T0 - timedelta(hours=3))
    assert empty.router_logs.read_text() == "" and empty.rlm_logs.read_text() == ""
    assert empty.rlm_metrics.read_text() == "timestamp,memory_mb,cpu_percent,instance\n"
    assert not list((tmp_path / "c").glob("*.partial"))


def test_healthy_rollout_round_trip(tmp_path: Path) -> None:
    s = load_scenario("healthy-rollout")
    until = s.t0 + timedelta(hours=26)
    files = write_artifacts(s, tmp_path, until=until)
    start, end = export_span(s, until)
    assert start == s.t0 - timedelta(hours=48)
    requests = in_span(list(routed_requests(s)), start, end)
    routed = [r for r in requests if not r.direct]

    counts = count_routing(files.router_logs, start, end)
    assert (counts.v1, counts.v2) == (
        sum(not r.v2 for r in routed),
        sum(r.v2 for r in routed),
    )
    assert counts.percent_seen == dict(sorted(Counter(r.percent for r in routed).items()))
    assert set(counts.percent_seen) == {0, 10, 50}
    stage1 = count_routing(files.router_logs, s.t0, s.t0 + timedelta(hours=24))
    assert 5 < 100 * stage1.v2 / stage1.routed < 15

    rlm = scan_rlm_log(files.rlm_logs, start, end)
    assert rlm.deprecated_calls == sum(not r.v2 for r in requests)
    assert (rlm.oom_kills, rlm.crashes, rlm.processors_unavailable) == (0, 0, 0)
    assert rlm.errors > 0

    series = read_metrics_csv(files.rlm_metrics, start, end)
    assert len(series.points) == (end - start) // timedelta(minutes=5)
    assert series.last_seen is not None and series.last_seen < until
