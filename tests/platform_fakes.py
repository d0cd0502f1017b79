"""Small fakes of the platforms the suite reads, served over loopback (`cutover.loopback.serve`):
Render's `/v1/logs` (filters, both directions, paging by nextStartTime/nextEndTime), its service
events and metrics, Vercel's env and deployments, and a `vercel` executable for `vercel logs`.
Each fake can be told to misbehave: answer 401, rate-limit with 429 and `Ratelimit-Reset`, fail
with a 5xx, cut a page short, or answer slowly. Data come from a seeded scenario's exports."""

from __future__ import annotations

import asyncio
import csv
import json
import stat
import sys
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cutover.sources.rlm_logs import leading_instant
from cutover.timeutil import from_epoch_us, instant_us

RENDER_KEY = "rnd_FakeRenderKey1234"
VERCEL_TOKEN = "vc_FakeVercelToken5678"
OWNER, SERVICE, PROJECT = "tea-owner", "srv-rlm", "soulprint-landing"


def stamp(instant_us: int) -> str:
    return from_epoch_us(instant_us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def render_logs_from_text(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Render log objects for an RLM text log: its leading instant, the rest as the message."""
    logs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        instant = leading_instant(line)
        if instant is None:
            continue
        message = line.split(" ", 1)[1] if " " in line else ""
        level = "error" if message.startswith("ERROR") else "info"
        labels = [
            {"name": "instance", "value": f"{SERVICE}-abc12"},
            {"name": "level", "value": level},
            {"name": "type", "value": "app"},
        ]
        obj = {"id": f"log-{number}", "timestamp": stamp(instant), "message": message}
        logs.append((instant, {**obj, "labels": labels}))
    return logs


def metric_series(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Render's four series from a metrics CSV: memory in bytes, CPU in cores of a 1-core
    limit (the CSV's percent / 100)."""
    memory: dict[str, list[dict[str, Any]]] = {}
    cpu: dict[str, list[dict[str, Any]]] = {}
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            instance = row.get("instance") or SERVICE
            when = row["timestamp"]
            memory.setdefault(instance, []).append(
                {"timestamp": when, "value": float(row["memory_mb"]) * 2**20}
            )
            if row.get("cpu_percent"):
                cpu.setdefault(instance, []).append(
                    {"timestamp": when, "value": float(row["cpu_percent"]) / 100}
                )

    def series(values: dict[str, list[dict[str, Any]]], unit: str) -> list[dict[str, Any]]:
        return [
            {"labels": [{"field": "instance", "value": i}], "unit": unit, "values": v}
            for i, v in values.items()
        ]

    first = next(iter(memory.values()))[0]["timestamp"] if memory else "2026-01-01T00:00:00Z"
    limit = [{"labels": [], "unit": "cpu", "values": [{"timestamp": first, "value": 1.0}]}]
    memory_limit = [
        {"labels": [], "unit": "bytes", "values": [{"timestamp": first, "value": 2**29}]}
    ]
    return {
        "memory": series(memory, "bytes"),
        "memory-limit": memory_limit,
        "cpu": series(cpu, "cpu"),
        "cpu-limit": limit,
    }


@dataclass
class Misbehaviour:
    """What the fakes do wrong, per path prefix: 'status' answers that status every time;
    'once' answers it the first time only; 'truncate' cuts the body; 'slow' waits seconds."""

    status: dict[str, int] = field(default_factory=dict)
    once: dict[str, int] = field(default_factory=dict)
    truncate: set[str] = field(default_factory=set)
    slow: dict[str, float] = field(default_factory=dict)
    reset_seconds: int = 1
    requests: int = 0

    def matches(self, path: str, table: Any) -> Any:
        return next((key for key in table if path.startswith(key)), None)


@dataclass
class RenderFake:
    logs: list[tuple[int, dict[str, Any]]]
    series: dict[str, list[dict[str, Any]]]
    events: list[dict[str, Any]] = field(default_factory=list)
    wrong: Misbehaviour = field(default_factory=Misbehaviour)
    page_limit: int = 100

    def app(self) -> Starlette:
        # in time order (stable: lines of one instant keep the log's order), for bisecting
        ordered = sorted(self.logs, key=lambda entry: entry[0])
        instants = [t for t, _ in ordered]

        async def logs(request: Request) -> Response:
            problem = await _misbehave(request, self.wrong)
            if problem is not None:
                return problem
            q = request.query_params
            if q.get("ownerId") != OWNER or q.getlist("resource") != [SERVICE]:
                return JSONResponse({"message": "unknown owner or resource"}, status_code=400)
            lo, hi = instant_us(q["startTime"]), instant_us(q["endTime"])
            texts = q.getlist("text")
            labels = [("level", v) for v in q.getlist("level")] + [
                ("type", v) for v in q.getlist("type")
            ]
            limit = min(int(q.get("limit", "20")), self.page_limit)
            forward = q.get("direction", "backward") == "forward"
            # the page and whether one more matches: a walk from the page's end of [lo, hi]
            within = range(bisect_left(instants, lo), bisect_right(instants, hi))
            found = islice(
                (
                    (t, obj)
                    for t, obj in (ordered[i] for i in (within if forward else reversed(within)))
                    if all(text in obj["message"] for text in texts)
                    and all({"name": name, "value": v} in obj["labels"] for name, v in labels)
                ),
                limit + 1,
            )
            chosen = list(found)
            more = len(chosen) > limit
            chosen = chosen[:limit]
            body: dict[str, Any] = {"hasMore": more, "logs": [obj for _, obj in chosen]}
            if more:
                last = chosen[-1][0]
                body["nextStartTime"] = stamp(last + 1) if forward else q["startTime"]
                body["nextEndTime"] = q["endTime"] if forward else stamp(last - 1)
            return _answer(body, request, self.wrong)

        async def events(request: Request) -> Response:
            problem = await _misbehave(request, self.wrong)
            if problem is not None:
                return problem
            q = request.query_params
            lo, hi = instant_us(q["startTime"]), instant_us(q["endTime"])
            found = [e for e in self.events if lo <= instant_us(e["event"]["timestamp"]) <= hi]
            return _answer(found, request, self.wrong)

        async def metrics(request: Request) -> Response:
            problem = await _misbehave(request, self.wrong)
            if problem is not None:
                return problem
            return _answer(self.series.get(request.path_params["name"], []), request, self.wrong)

        return Starlette(
            routes=[
                Route("/v1/logs", logs),
                Route(f"/v1/services/{SERVICE}/events", events),
                Route("/v1/metrics/{name}", metrics),
            ]
        )


@dataclass
class VercelFake:
    value: str | None = "0"
    kind: str = "encrypted"
    updated: datetime | None = None
    deployed: datetime | None = None
    wrong: Misbehaviour = field(default_factory=Misbehaviour)

    def app(self) -> Starlette:
        def entry() -> dict[str, Any]:
            found: dict[str, Any] = {
                "id": "env_rollout",
                "key": "V2_ROLLOUT_PERCENT",
                "type": self.kind,
                "target": ["production"],
                "decrypted": self.kind != "sensitive",
                "updatedAt": int((self.updated or datetime(2026, 1, 1)).timestamp() * 1000),
            }
            if self.value is not None and self.kind != "sensitive":
                found["value"] = self.value
            return found

        async def envs(request: Request) -> Response:
            problem = await _misbehave(request, self.wrong, token=VERCEL_TOKEN)
            if problem is not None:
                return problem
            secret = {"id": "e2", "key": "OTHER_SECRET", "type": "encrypted", "value": "hush"}
            return _answer({"envs": [secret, entry()]}, request, self.wrong)

        async def deployments(request: Request) -> Response:
            problem = await _misbehave(request, self.wrong, token=VERCEL_TOKEN)
            if problem is not None:
                return problem
            found = []
            if self.deployed is not None:
                created = int(self.deployed.timestamp() * 1000)
                found.append(
                    {
                        "uid": "dpl_1",
                        "url": "soulprint-1.vercel.app",
                        "created": created,
                        "ready": created,
                        "state": "READY",
                        "target": "production",
                    }
                )
            return _answer({"deployments": found}, request, self.wrong)

        return Starlette(
            routes=[
                Route(f"/v10/projects/{PROJECT}/env", envs),
                Route("/v7/deployments", deployments),
            ]
        )


async def _misbehave(
    request: Request, wrong: Misbehaviour, token: str = RENDER_KEY
) -> Response | None:
    wrong.requests += 1
    if request.headers.get("authorization") != f"Bearer {token}":
        return JSONResponse({"message": "unauthorized"}, status_code=401)
    path = request.url.path
    slow = wrong.matches(path, wrong.slow)
    if slow is not None:
        await asyncio.sleep(wrong.slow[slow])
    status = wrong.matches(path, wrong.status)
    if status is None:
        status = wrong.matches(path, wrong.once)
        if status is not None:
            code = wrong.once.pop(status)
            return _status(code, wrong)
        return None
    return _status(wrong.status[status], wrong)


def _status(code: int, wrong: Misbehaviour) -> Response:
    headers = {"Ratelimit-Reset": str(wrong.reset_seconds), "Ratelimit-Remaining": "0"}
    return JSONResponse({"message": f"fake {code}"}, status_code=code, headers=headers)


def _answer(body: Any, request: Request, wrong: Misbehaviour) -> Response:
    text = json.dumps(body).encode()
    if wrong.matches(request.url.path, wrong.truncate) is not None:
        text = text[: len(text) // 2]
    return Response(text, media_type="application/json")


FAKE_VERCEL = '''#!{python}
"""A stand-in for `vercel logs --json`: the requests of FAKE_VERCEL_LOGS in --since..--until
holding --query, at most --limit; the token must come in VERCEL_TOKEN, never as an argument."""
import json, os, sys
from datetime import datetime
args = sys.argv[1:]
if args[:2] != ["logs", "--json"] or any("{token}" in a for a in args):
    print("Error: unexpected arguments", file=sys.stderr); sys.exit(2)
if os.environ.get("VERCEL_TOKEN") != "{token}":
    print("Error: The specified token is not valid. Use `vercel login`", file=sys.stderr)
    sys.exit(1)
opts = dict(zip(args[2::2], args[3::2]))
since = datetime.fromisoformat(opts["--since"].replace("Z", "+00:00")).timestamp() * 1000
until = datetime.fromisoformat(opts["--until"].replace("Z", "+00:00")).timestamp() * 1000
with open(os.environ["FAKE_VERCEL_LOGS"], encoding="utf-8") as handle:
    found = [json.loads(line) for line in handle if line.strip()]
found = [r for r in found if since <= r["timestamp"] < until and opts["--query"] in r["message"]]
with open(os.environ["FAKE_VERCEL_CALLS"], "a") as calls:
    calls.write(" ".join(args) + "\\n")
for request in found[: int(opts["--limit"])]:
    print(json.dumps(request))
'''


def install_fake_vercel(directory: Path) -> Path:
    """A `vercel` executable in `directory` (put it first on PATH)."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "vercel"
    script.write_text(FAKE_VERCEL.format(python=sys.executable, token=VERCEL_TOKEN))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def vercel_json_lines(router_log: Path) -> str:
    """`vercel logs --json` requests for a Pino router log: one a line, the line in logs[]."""
    out = []
    for line in router_log.read_text(encoding="utf-8").splitlines():
        pino = json.loads(line)
        request = {
            "timestamp": pino["time"],
            "requestPath": "/api/import/process-server",
            "requestMethod": "POST",
            "responseStatusCode": 200,
            "level": "info",
            "message": pino.get("msg", ""),
            "logs": [{"level": "info", "message": line}],
        }
        out.append(json.dumps(request))
    return "\n".join(out) + "\n"


def drain_objects(router_log: Path) -> list[dict[str, Any]]:
    """Vercel drain objects for a Pino router log: the line as a string in `message`."""
    objects = []
    for number, line in enumerate(router_log.read_text(encoding="utf-8").splitlines()):
        pino = json.loads(line)
        objects.append(
            {
                "id": f"drain-{number}",
                "deploymentId": "dpl_1",
                "source": "lambda",
                "host": "soulprint-landing.vercel.app",
                "timestamp": pino["time"],
                "projectId": "prj_1",
                "level": "info",
                "type": "stdout",
                "message": line,
            }
        )
    return objects


def with_health_every(path: Path, start: datetime, end: datetime, every: timedelta) -> None:
    """Add `INFO GET /health 200` lines every `every` to an RLM text log, kept in time order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    moment = start
    while moment < end:
        lines.append(f"{moment.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z INFO GET /health 200")
        moment += every
    lines.sort(key=lambda line: leading_instant(line) or 0)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def environment_for(tmp_path: Path, render: str | None, vercel: str | None) -> dict[str, str]:
    """The settings a gate run needs to read the fakes."""
    env = {}
    if render is not None:
        env |= {
            "RENDER_API_KEY": RENDER_KEY,
            "CUTOVER_RENDER_SERVICE": SERVICE,
            "CUTOVER_RENDER_OWNER": OWNER,
            "CUTOVER_RENDER_API_URL": render,
        }
    if vercel is not None:
        env |= {
            "VERCEL_TOKEN": VERCEL_TOKEN,
            "CUTOVER_VERCEL_PROJECT": PROJECT,
            "CUTOVER_VERCEL_API_URL": vercel,
        }
    return env
