"""Router logs from `vercel logs --json`, when the CLI is on PATH (and no drain is configured).

One call per time range: `vercel logs --json --project P [--scope TEAM] --environment
production --since S --until U --limit N --query "Routing import request"`, the token in the
child's environment (`VERCEL_TOKEN`), never on its command line. Each stdout line is one
request (`timestamp` in ms, `requestPath`, `logs[]` with every application line of it), which
the router log reader reads from `logs[]`. A call that returns `LIMIT` lines may have been cut
at the limit, so its range is split in two and each half asked again, down to `MIN_SPAN`; a
range that still fills the limit, an exit status other than 0, a line that is not a JSON object,
or the deadline fail the snapshot (the CLI's own message, secrets masked, says why).

Only routing requests are asked for, so the snapshot's coverage is the routing traffic's: hours
without an import are silences longer than the router's gap tolerance, and the criteria over
them are inconclusive. A drain, which keeps every request (uptime probes included), covers a
quiet night; for a stage-long window it is the source to use."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta

from cutover.errors import SourceUnavailable
from cutover.outcome import Window
from cutover.redact import redact_text
from cutover.sources.http import Budget
from cutover.sources.platform.snapshots import Fetched, window_params
from cutover.sources.router_logs import ROUTING_MESSAGE
from cutover.timeutil import instant_us, iso

CLI = "vercel logs"
LIMIT = 1000
MIN_SPAN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class VercelCli:
    """The `vercel` executable and what to ask it for."""

    executable: str
    token: str
    project: str
    team: str | None

    @classmethod
    def on_path(cls, token: str, project: str, team: str | None) -> VercelCli | None:
        found = shutil.which("vercel")
        return None if found is None else cls(found, token, project, team)


def fetch_cli_router_logs(cli: VercelCli, window: Window, budget: Budget) -> Fetched:
    """The routing requests of `window`, as `vercel logs --json` prints them, in time order."""
    start = window.start or window.end
    lines: list[tuple[int, str]] = []
    pending = [(start, window.end)]
    calls = 0
    while pending:
        since, until = pending.pop()
        found = _call(cli, since, until, budget)
        calls += 1
        budget.requests += 1
        if len(found) >= LIMIT:
            if until - since <= MIN_SPAN:
                raise SourceUnavailable(
                    CLI, f"{iso(since)}..{iso(until)} still holds {LIMIT} requests or more"
                )
            middle = since + (until - since) / 2
            pending += [(since, middle), (middle, until)]
            continue
        lines += found
    lines = sorted(set(lines))  # a request at the second two halves share is asked twice
    params = {
        "command": "vercel logs --json",
        "project": cli.project,
        "team": cli.team,
        "environment": "production",
        "query": ROUTING_QUERY,
        "window": window_params(window),
        "limit": LIMIT,
    }
    content = "".join(text + "\n" for _, text in lines).encode()
    return Fetched(CLI, "router_logs", params, window, content, ".jsonl", calls, len(lines))


ROUTING_QUERY = ROUTING_MESSAGE.rsplit(" to ", 1)[0]  # "Routing import request"


def _call(
    cli: VercelCli, since: datetime, until: datetime, budget: Budget
) -> list[tuple[int, str]]:
    argv = [cli.executable, "logs", "--json", "--project", cli.project]
    if cli.team is not None:
        argv += ["--scope", cli.team]
    argv += ["--environment", "production", "--since", iso(since), "--until", iso(until)]
    argv += ["--limit", str(LIMIT), "--query", ROUTING_QUERY]
    timeout = budget.left()
    if timeout <= 0:
        raise SourceUnavailable(CLI, f"the {budget.pacing.deadline:g} s deadline has passed")
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            env={**os.environ, "VERCEL_TOKEN": cli.token},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceUnavailable(CLI, f"no whole answer within the {timeout:g} s left") from None
    except OSError as exc:
        raise SourceUnavailable(CLI, f"cannot run {cli.executable} ({exc.strerror})") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = redact_text(said[-1][:200]) if said else "no message"
        raise SourceUnavailable(CLI, f"exited with status {done.returncode}: {last}")
    found: list[tuple[int, str]] = []
    for number, raw in enumerate(done.stdout.decode("utf-8", "replace").splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        instant = instant_us(obj.get("timestamp")) if isinstance(obj, dict) else None
        if instant is None:
            raise SourceUnavailable(
                CLI, f"line {number} of its output is not a request with a timestamp: {text[:60]!r}"
            )
        found.append((instant, text))
    return found
