"""The platforms read by the suite itself, over real HTTP on loopback: small fakes of Render's
and Vercel's APIs serve a seeded scenario's logs and metrics, the drain receiver takes signed
deliveries, and a `vercel` executable answers `vercel logs`. A gate run that fetches measures
the same verdicts as one given the exported files; a platform that misbehaves leaves what it
feeds inconclusive, naming the platform and the endpoint; `--replay` of the checkpoint gives the
recorded verdicts without asking any platform; no token is written anywhere."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cutover.config import resolve_settings
from cutover.ledger import Store
from cutover.ledger.records import Checkpoint, Origin, Snapshot
from cutover.loopback import free_port, serve
from cutover.outcome import Window
from cutover.scenarios.artifacts import write_artifacts
from cutover.scenarios.model import load_scenario
from cutover.sources.platform.drain import DrainStore, drain_app, read_drain, signature
from cutover.sources.platform.fetch import fetch_platforms
from cutover.sources.router_logs import count_routing
from platform_fakes import (
    RENDER_KEY,
    VERCEL_TOKEN,
    Misbehaviour,
    RenderFake,
    VercelFake,
    drain_objects,
    environment_for,
    install_fake_vercel,
    metric_series,
    render_logs_from_text,
    vercel_json_lines,
    with_health_every,
)
from suite_runner import T0, SuiteRun, at_hour, run_suite

AS_OF = T0 + timedelta(hours=24)
SECRET = "drain-secret-0123456789"
STAGE1 = ("tests/gates",)


@dataclass
class World:
    directory: Path
    router_log: Path
    rlm_log: Path
    metrics: Path
    drain_store: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """healthy-rollout's exports at stage 1 + 24 h, the RLM log with a health check a minute
    (as Render's probes make it), and the router log delivered to a drain store over HTTP."""
    directory = tmp_path_factory.mktemp("world")
    files = write_artifacts(load_scenario("healthy-rollout"), directory / "exports", until=AS_OF)
    with_health_every(files.rlm_logs, T0 - timedelta(hours=2), AS_OF, timedelta(minutes=1))
    store = directory / "drain"
    objects = drain_objects(files.router_logs)
    with serve(drain_app(DrainStore(store), SECRET), name="drain") as url:
        for start in range(0, len(objects), 5000):
            body = json.dumps(objects[start : start + 5000]).encode()
            answer = httpx.post(
                url, content=body, headers={"x-vercel-signature": signature(body, SECRET)}
            )
            assert answer.status_code == 200, answer.text
    return World(directory, files.router_logs, files.rlm_logs, files.rlm_metrics, store)


@pytest.fixture(scope="module")
def render(world: World) -> Iterator[tuple[str, RenderFake]]:
    fake = RenderFake(render_logs_from_text(world.rlm_log), metric_series(world.metrics))
    with serve(fake.app(), name="render-fake") as url:
        yield url, fake


def gate(tmp_path: Path, env: dict[str, str], *args: str, name: str = "junit.xml") -> SuiteRun:
    return run_suite(
        tmp_path,
        f"--as-of={at_hour(24)}",
        "--scenario=healthy-rollout",
        *args,
        marker="stage1_gate",
        paths=STAGE1,
        env=env,
        junit_name=name,
    )


def no_secret_written(run: SuiteRun) -> None:
    for secret in (RENDER_KEY, VERCEL_TOKEN, SECRET):
        assert secret not in run.output
        for path in run.evidence_dir.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def test_a_gate_run_that_fetches_measures_what_the_exported_files_measure(
    tmp_path: Path, world: World, render: tuple[str, RenderFake]
) -> None:
    files = gate(
        tmp_path / "files",
        {
            "CUTOVER_ROUTER_LOGS": str(world.router_log),
            "CUTOVER_RLM_LOGS": str(world.rlm_log),
            "CUTOVER_RLM_METRICS": str(world.metrics),
        },
    )
    env = environment_for(tmp_path, render[0], None) | {
        "CUTOVER_DRAIN_STORE": str(world.drain_store)
    }
    fetched = gate(tmp_path / "platform", env)
    assert fetched.verdicts == files.verdicts, fetched.output
    assert fetched.verdicts["stage1.rlm_stability"] == "pass"
    assert fetched.verdicts["stage1.routing_split"] == "pass"
    assert fetched.exit_code == files.exit_code
    props = fetched.properties["stage1.rlm_stability"]
    assert "/snapshots/" in props["source"]
    entries = Store(fetched.evidence_dir).read()
    snapshots = [e.parse() for e in entries if e.type == "snapshot"]
    assert {s.export for s in snapshots if isinstance(s, Snapshot)} == {
        "router_logs",
        "rlm_logs",
        "rlm_metrics",
    }
    checkpoint = [e.parse() for e in entries if e.type == "checkpoint"][-1]
    assert isinstance(checkpoint, Checkpoint)
    assert {s["export"] for s in checkpoint.snapshots} == {"router_logs", "rlm_logs", "rlm_metrics"}
    assert "snapshots" not in fetched.properties["stage1.elapsed"]  # it read no platform
    no_secret_written(fetched)

    # Replay: the same verdicts from the snapshots, with every platform out of reach.
    line = max(e.line for e in entries if e.type == "checkpoint")
    dead = f"http://127.0.0.1:{free_port()}"
    again_env = environment_for(tmp_path, dead, None) | {"CUTOVER_DRAIN_STORE": str(tmp_path)}
    again = gate(tmp_path / "platform", again_env, f"--replay={line}", name="junit-replay.xml")
    assert again.verdicts == fetched.verdicts, again.output
    assert again.exit_code == fetched.exit_code
    assert f"replay of ledger line {line}" in again.output
    assert "verdicts are the recorded ones" in again.output
    assert len(Store(fetched.evidence_dir).read()) == len(entries)  # nothing appended
    verified = subprocess.run(
        [sys.executable, "-m", "cutover", "verify", "--evidence-dir", str(fetched.evidence_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_platform_that_refuses_the_key_leaves_its_criteria_inconclusive(
    tmp_path: Path, world: World
) -> None:
    fake = RenderFake(render_logs_from_text(world.rlm_log), metric_series(world.metrics))
    with serve(fake.app(), name="render-refusing") as url:
        env = environment_for(tmp_path, url, None)
        env["RENDER_API_KEY"] = "rnd_NotTheRightKey999"
        run = gate(
            tmp_path, env | {"CUTOVER_ROUTER_LOGS": str(world.router_log)}, "-k", "rlm_stability"
        )
    props = run.properties["stage1.rlm_stability"]
    assert props["verdict"] == "inconclusive"
    assert f"render logs: GET {url}/v1/logs answered 401: unauthorized" in props["reason"]
    assert run.exit_code == 6
    assert "rnd_NotTheRightKey999" not in run.output


def settings_for(tmp_path: Path, url: str, **profile: float) -> object:
    config = tmp_path / "cutover.toml"
    config.write_text(
        "[profile]\n" + "".join(f"{k} = {v}\n" for k, v in profile.items()), encoding="utf-8"
    )
    env = environment_for(tmp_path, url, None) | {"CUTOVER_EVIDENCE_DIR": str(tmp_path / "ev")}
    return resolve_settings({}, env=env, config_file=config)


def fetch_once(
    tmp_path: Path, world: World, wrong: Misbehaviour, **profile: float
) -> list[Snapshot]:
    fake = RenderFake(
        render_logs_from_text(world.rlm_log), metric_series(world.metrics), wrong=wrong
    )
    with serve(fake.app(), name="render-wrong") as url:
        settings = settings_for(tmp_path, url, **profile)
        window = Window(AS_OF - timedelta(hours=3), AS_OF)
        return list(fetch_platforms(settings, window, Origin.seeded("healthy-rollout")))  # type: ignore[arg-type]


def by_export(snapshots: list[Snapshot]) -> dict[str, Snapshot]:
    return {s.export: s for s in snapshots}


def test_a_429_with_ratelimit_reset_is_waited_out_and_a_5xx_retried(
    tmp_path: Path, world: World
) -> None:
    wrong = Misbehaviour(once={"/v1/logs": 429, "/v1/metrics/cpu": 503}, reset_seconds=1)
    taken = by_export(fetch_once(tmp_path, world, wrong))
    assert not taken["rlm_logs"].problem and not taken["rlm_metrics"].problem
    assert taken["rlm_logs"].lines > 100


def test_rate_limited_past_the_deadline_is_inconclusive_naming_the_endpoint(
    tmp_path: Path, world: World
) -> None:
    wrong = Misbehaviour(status={"/v1/logs": 429}, reset_seconds=120)
    taken = by_export(fetch_once(tmp_path, world, wrong, platform_deadline_seconds=30))
    problem = taken["rlm_logs"].problem
    assert "/v1/logs: 429: waiting 120 s more would pass the 30 s deadline" in problem
    assert not taken["rlm_metrics"].problem  # its own budget, its own endpoint


def test_a_truncated_page_fails_the_snapshot(tmp_path: Path, world: World) -> None:
    taken = by_export(fetch_once(tmp_path, world, Misbehaviour(truncate={"/v1/services"})))
    assert "/events: body is not JSON (first bytes" in taken["rlm_logs"].problem
    assert taken["rlm_logs"].path == ""


def test_a_page_slower_than_the_deadline_is_cut(tmp_path: Path, world: World) -> None:
    # memory is the first series asked: its budget is spent on this page alone; the fake's
    # server waits out its slow answer on stopping, so the page is not slower than it must be
    wrong = Misbehaviour(slow={"/v1/metrics/memory": 1.5})
    taken = by_export(
        fetch_once(tmp_path, world, wrong, platform_deadline_seconds=1, http_timeout_seconds=0.5)
    )
    assert "/v1/metrics/memory" in taken["rlm_metrics"].problem
    assert (
        "deadline" in taken["rlm_metrics"].problem
        or "no whole answer" in taken["rlm_metrics"].problem
    )


def test_the_drain_refuses_a_wrong_signature_and_counts_it(tmp_path: Path) -> None:
    store = DrainStore(tmp_path / "drain")
    line = {
        "id": "d1",
        "timestamp": int((AS_OF - timedelta(minutes=5)).timestamp() * 1000),
        "message": "x",
    }
    ndjson = (json.dumps(line) + "\n" + json.dumps({**line, "id": "d2"}) + "\n").encode()
    with serve(drain_app(store, SECRET, verify="vrfy-123"), name="drain-test") as url:
        refused = httpx.post(url, content=ndjson, headers={"x-vercel-signature": "0" * 40})
        unsigned = httpx.post(url, content=ndjson)
        taken = httpx.post(
            url, content=ndjson, headers={"x-vercel-signature": signature(ndjson, SECRET)}
        )
        array = json.dumps([{**line, "id": "d3"}]).encode()
        httpx.post(url, content=array, headers={"x-vercel-signature": signature(array, SECRET)})
        junk = b"not json"
        bad = httpx.post(url, content=junk, headers={"x-vercel-signature": signature(junk, SECRET)})
        verification = httpx.get(url)
        health = httpx.get(f"{url}/health").json()
    assert (refused.status_code, unsigned.status_code, taken.status_code) == (403, 403, 200)
    assert bad.status_code == 400
    assert verification.headers["x-vercel-verify"] == "vrfy-123"
    assert (health["rejected_signatures"], health["lines"], health["deliveries"]) == (2, 3, 2)
    snapshot = read_drain(store.directory, Window(AS_OF - timedelta(hours=1), AS_OF))
    assert [json.loads(raw)["id"] for raw in snapshot.content.splitlines()] == ["d1", "d2", "d3"]
    hour_files = sorted(p.name for p in store.directory.iterdir())
    assert hour_files == [f"{AS_OF - timedelta(minutes=5):%Y%m%dT%H}.ndjson"]
    outside = read_drain(store.directory, Window(AS_OF, AS_OF + timedelta(hours=1)))
    assert outside.lines == 0


def test_the_drain_refuses_a_body_declared_too_large_before_reading_it(tmp_path: Path) -> None:
    """Review 13 #6: the receiver read the whole body before anything else, so any client of
    the internet-facing receiver that declared (or streamed) gigabytes made it wait for, then
    hold, all of it. A declared length over the profile's cap is answered 413 at once."""
    store = DrainStore(tmp_path / "drain")
    with serve(drain_app(store, SECRET), name="drain-cap") as url:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
            conn.sendall(
                b"POST / HTTP/1.1\r\nHost: drain\r\nContent-Type: application/json\r\n"
                b"x-vercel-signature: 00\r\nContent-Length: 1073741824\r\n\r\n["
            )
            try:
                answer = conn.recv(200)
            except TimeoutError:
                answer = b"(no answer within 5 s: the receiver waits for the whole GiB)"
        health = httpx.get(f"{url}/health").json()
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert (health["rejected_oversize"], health["rejected_signatures"]) == (1, 0)
    assert not store.directory.exists()


def test_vercel_logs_on_path_is_read_with_the_token_in_its_environment(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    install_fake_vercel(bin_dir)
    logs = tmp_path / "vercel.jsonl"
    logs.write_text(vercel_json_lines(world.router_log), encoding="utf-8")
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_VERCEL_LOGS", str(logs))
    monkeypatch.setenv("FAKE_VERCEL_CALLS", str(calls))
    monkeypatch.setattr("cutover.sources.platform.vercel_cli.LIMIT", 300)
    env = environment_for(tmp_path, None, f"http://127.0.0.1:{free_port()}")
    env["CUTOVER_EVIDENCE_DIR"] = str(tmp_path / "ev")
    env["CUTOVER_ROLLOUT_PERCENT"] = "0"  # the env API is not what this test reads
    settings = resolve_settings({}, env=env)
    window = Window(AS_OF - timedelta(hours=1), AS_OF)  # ~400 routed requests
    (taken,) = fetch_platforms(settings, window, Origin.seeded("healthy-rollout"))
    assert taken.export == "router_logs" and not taken.problem, taken.problem
    made = calls.read_text().splitlines()
    assert len(made) > 1  # a range that filled the limit was split
    assert all(
        "--environment production" in call and "--query Routing import request" in call
        for call in made
    )
    assert all(
        call.startswith("logs --json") and "--since 20" in call and "--until 20" in call
        for call in made
    ), made
    assert all(VERCEL_TOKEN not in call for call in made)  # the token is in its environment
    path = settings.evidence_dir / taken.path
    from_cli = count_routing(path, window.start, window.end)  # type: ignore[arg-type]
    from_file = count_routing(world.router_log, window.start, window.end)  # type: ignore[arg-type]
    assert (from_cli.v1, from_cli.v2) == (from_file.v1, from_file.v2)
    assert from_cli.v1 + from_cli.v2 > 300


def test_a_vercel_cli_that_refuses_the_token_fails_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_vercel(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    env = environment_for(tmp_path, None, "http://127.0.0.1:9") | {
        "VERCEL_TOKEN": "vc_WrongToken000",
        "CUTOVER_ROLLOUT_PERCENT": "0",
        "CUTOVER_EVIDENCE_DIR": str(tmp_path / "ev"),
    }
    (taken,) = fetch_platforms(
        resolve_settings({}, env=env), Window(AS_OF - timedelta(hours=1), AS_OF), Origin()
    )
    assert (
        "vercel logs: exited with status 1: Error: The specified token is not valid"
        in taken.problem
    )


def test_the_rollout_from_vercel_says_when_the_deploy_did_not_take(tmp_path: Path) -> None:
    fake = VercelFake(value="0", updated=T0 - timedelta(hours=2), deployed=T0 - timedelta(hours=3))
    with serve(fake.app(), name="vercel-fake") as url:
        env = environment_for(tmp_path, None, url)
        run = run_suite(
            tmp_path,
            f"--as-of={at_hour(-1)}",
            "--scenario=healthy-rollout",
            "-k",
            "rollout_percent or rlm_health",
            marker="prereq",
            env=env,
        )
    props = run.properties["prereq.rollout_percent_zero"]
    assert props["verdict"] == "fail", run.output
    assert "no deploy since, the deploy did not take" in props["reason"]
    assert "hush" not in "".join(
        p.read_text(errors="replace") for p in run.evidence_dir.rglob("*.json")
    )

    # Replayed, narrower, with Vercel out of reach and a percent configured now: the snapshot
    # it measured decides, as it did then, not today's setting.
    entries = Store(run.evidence_dir).read()
    line = max(e.line for e in entries if e.type == "checkpoint")
    dead = f"http://127.0.0.1:{free_port()}"
    again = run_suite(
        tmp_path,
        f"--as-of={at_hour(-1)}",
        "--scenario=healthy-rollout",
        "-k",
        "rollout_percent",
        f"--replay={line}",
        marker="prereq",
        env=environment_for(tmp_path, None, dead) | {"CUTOVER_ROLLOUT_PERCENT": "0"},
        junit_name="junit-replay.xml",
    )
    assert set(run.verdicts) == {"prereq.rollout_percent_zero", "prereq.rlm_health"}
    assert again.verdicts == {"prereq.rollout_percent_zero": "fail"}, again.output
    assert "no deploy since" in again.properties["prereq.rollout_percent_zero"]["reason"]
    assert "1 verdict is the recorded one (of the 2 it recorded)" in again.output


def test_a_platform_down_during_a_gate_run_leaves_its_criteria_inconclusive(
    tmp_path: Path, world: World
) -> None:
    """Render unreachable (nothing listens on its port) while a stage gate runs: the criteria it
    feeds are inconclusive, naming the endpoint and that there was no answer, the failed
    snapshots are recorded and listed by the checkpoint, and the run does not exit 0."""
    dead = f"http://127.0.0.1:{free_port()}"
    config = tmp_path / "cutover.toml"
    config.write_text("[profile]\nplatform_deadline_seconds = 1\n", encoding="utf-8")
    env = environment_for(tmp_path, dead, None) | {
        "CUTOVER_CONFIG": str(config),
        "CUTOVER_ROUTER_LOGS": str(world.router_log),
    }
    run = gate(tmp_path, env)
    props = run.properties["stage1.rlm_stability"]
    assert props["verdict"] == "inconclusive", run.output
    assert f"GET {dead}/v1/" in props["reason"] and "no answer" in props["reason"]
    assert run.exit_code == 6
    assert run.verdict_line.startswith("cutover verdict: HOLD — stage1_gate —")
    assert "stage1.rlm_stability (inconclusive)" in run.verdict_line
    entries = Store(run.evidence_dir).read()
    failed = [e.parse() for e in entries if e.type == "snapshot"]
    assert {s.export for s in failed if isinstance(s, Snapshot) and s.problem} == {
        "rlm_logs",
        "rlm_metrics",
    }
    checkpoint = [e.parse() for e in entries if e.type == "checkpoint"][-1]
    assert isinstance(checkpoint, Checkpoint)
    assert {s["export"] for s in checkpoint.snapshots} == {"rlm_logs", "rlm_metrics"}
    no_secret_written(run)


def test_a_seeded_run_with_no_token_set_fetches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's stage 1 checkpoints (+1 h and +6 h success rate, then the whole gate at
    +24 h, on healthy-rollout) with no token set: the API URLs point at a server that counts
    what it is asked and a `vercel` on PATH notes any call, and neither is used; no snapshot is
    recorded, the seeded files are measured, and the gate proceeds as the demo does."""
    for name in ("RENDER_API_KEY", "VERCEL_TOKEN", "VERCEL_DRAIN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    asked: list[str] = []

    async def anything(request: Request) -> Response:
        asked.append(str(request.url))
        return Response(status_code=500)

    listening = Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])
    called = tmp_path / "vercel-was-called"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vercel").write_text(f"#!/bin/sh\ntouch {called}\nexit 1\n", encoding="utf-8")
    (bin_dir / "vercel").chmod(0o755)
    with serve(listening, name="platform-counter") as url:
        env = {
            "CUTOVER_RENDER_API_URL": url,
            "CUTOVER_VERCEL_API_URL": url,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        for hours in (1, 6):
            interim = run_suite(
                tmp_path,
                f"--as-of={at_hour(hours)}",
                "--scenario=healthy-rollout",
                "-k",
                "success_rate",
                marker="stage1_gate",
                paths=STAGE1,
                env=env,
                junit_name=f"junit-{hours}h.xml",
            )
            assert set(interim.verdicts) == {"stage1.success_rate"}, interim.output
        run = gate(tmp_path, env)
    assert run.exit_code == 0, run.output
    assert run.verdict_line.startswith("cutover verdict: PROCEED — stage1_gate —")
    assert asked == [] and not called.exists()
    entries = Store(run.evidence_dir).read()
    assert not [e for e in entries if e.type == "snapshot"]
    checkpoint = [e.parse() for e in entries if e.type == "checkpoint"][-1]
    assert isinstance(checkpoint, Checkpoint) and not checkpoint.snapshots
    assert not (run.evidence_dir / "snapshots").exists()
    assert "/snapshots/" not in run.properties["stage1.rlm_stability"]["source"]
