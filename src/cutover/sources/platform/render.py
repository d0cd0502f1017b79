"""Render's API, read only: the RLM service's logs (`/v1/logs`) and its service events, fetched
for a window into a snapshot the RLM log reader reads (`snapshots`; metrics: `render_metrics`).

The RLM log snapshot holds JSON lines in time order, as Render gives them: the log objects
(`id`, `timestamp`, `message`, `labels`) that match a search term of the criteria, the lines
that prove the log's continuity (`heartbeats`: a subset of the log with exactly its gaps, about
a request per tolerance where the log is dense), and the service's events
(`{"event": {...}}`: `server_failed` with `oomKilled`, restarts, `deploy_ended`), which the RLM
reader matches like log lines, so an OOM kill shows up whether Render logged it or only raised
the event; an event proves nothing of the log's continuity (Render raises it whether or not the
service logs), so the reader chains no coverage through it. The filters are pushed to Render,
one query per search term (`SEARCH_TERMS`): what a query returns is a superset of the lines the
reader counts, never a sample.

* Each term is a literal piece of a pattern the reader counts (`[DEPRECATED] /process-full
  called` is searched as `/process-full called`): Render's `text` filter takes wildcards and
  regular expressions, so a term holds none of their special characters; one term per query,
  because whether several values of one filter are OR-ed is not documented. `level=error` is a
  query of its own.
* Log objects that two queries both return are kept once (by `id`).
* The continuity walk asks for the health checks (`HEALTH_CHECKS`, Render's probe of `/health`
  every few seconds, logged by the RLM): one kind of line at a steady cadence, so a page of them
  spans more of the window than a page of every line. Where they leave a gap (health checks not
  logged, sparser than the tolerance, or a real silence), the walk asks for any line there
  (`EVERY_LINE`): the coverage rule chains every timestamped entry, so the snapshot shows
  exactly the gaps of the whole log (`heartbeats.prove`). Both ask for `type=app`, the service's
  own lines (the label Render's log objects carry): Render's proxy logs requests (`type=request`,
  an uptime monitor's `GET /health 502` among them) and builds whether or not the RLM is alive,
  and those would cover its silence.
* A scheduled gate asks for a growing window (stage 3: from its start, each day): the lines of
  the last whole snapshot of the same window start are kept, and only what came after it (less
  `EARLIER_OVERLAP_US`, for lines that reach Render's API late) is asked for: a day's requests,
  not the window's.
* Pages: `hasMore`, then `nextStartTime` / `nextEndTime` passed back; a page that says there is
  more but gives no way on (or a next start before its own), a log without a timestamp, or a
  body that is not JSON (a truncated page) fails the whole snapshot: zero OOM lines from a
  half-read log mean nothing."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from cutover.errors import SourceUnavailable
from cutover.outcome import Window
from cutover.sources.http import Budget, bearer_get
from cutover.sources.platform import heartbeats
from cutover.sources.platform.snapshots import Fetched, window_params
from cutover.sources.rlm_entries import render_event
from cutover.sources.rlm_logs import (
    CRASH_PATTERNS,
    DEPRECATED_CALL,
    OOM_PATTERNS,
    PROCESSORS_UNAVAILABLE_TEXT,
)
from cutover.timeutil import epoch_us, from_epoch_us, instant_us

LOGS = "render logs"
_REGEX_SPECIAL = set("[](){}.*+?^$|\\")


def literal_term(pattern: str) -> str:
    """The longest piece of `pattern` without a wildcard or regular-expression character."""
    pieces: list[str] = []
    piece: list[str] = []
    for char in pattern:
        if char in _REGEX_SPECIAL:
            pieces.append("".join(piece))
            piece = []
        else:
            piece.append(char)
    pieces.append("".join(piece))
    return max((p.strip() for p in pieces), key=len)


#: one query each: every line the RLM reader counts holds one of these (or has level error)
SEARCH_TERMS: tuple[str, ...] = tuple(
    dict.fromkeys(
        literal_term(p)
        for p in (
            DEPRECATED_CALL,
            *OOM_PATTERNS,
            *CRASH_PATTERNS,
            PROCESSORS_UNAVAILABLE_TEXT,
            "processors_available",
            "ERROR",
        )
    )
)
QUERIES: tuple[Mapping[str, str], ...] = (
    *({"text": term} for term in SEARCH_TERMS),
    {"level": "error"},
)


@dataclass(frozen=True, slots=True)
class RenderApi:
    """Where Render's API is, and the one service (of one owner) this suite reads."""

    base_url: str
    key: str
    owner: str
    service: str
    max_bytes: int
    transport: httpx.AsyncBaseTransport | None = None

    def get(self, path: str, params: Mapping[str, Any], budget: Budget, source: str) -> Any:
        cap, transport = self.max_bytes, self.transport
        return bearer_get(self.base_url, path, self.key, params, budget, source, cap, transport)

    def params(self) -> dict[str, Any]:
        """What a snapshot records of the request (the key is a header, never recorded)."""
        return {"api": self.base_url, "ownerId": self.owner, "resource": self.service}


# -- logs ---------------------------------------------------------------------------------------


#: the continuity walk's filters: the health checks first, then any line in the gaps they leave
HEALTH_CHECKS: Mapping[str, str] = {"text": "GET /health", "type": "app"}
EVERY_LINE: Mapping[str, str] = {"type": "app"}
#: an earlier snapshot's last minutes are asked again: a line can reach Render's API late
EARLIER_OVERLAP_US = 10 * 60 * 1_000_000


@dataclass(frozen=True, slots=True)
class Earlier:
    """A whole earlier snapshot of the same log and window start: its lines before `until`
    (epoch microseconds) are kept instead of asked for again."""

    sha256: str
    content: bytes
    until: int


def rlm_log_params(api: RenderApi, window: Window, tolerance_us: int) -> dict[str, Any]:
    """What an RLM log snapshot records of its requests."""
    return {
        **api.params(),
        "window": window_params(window),
        "queries": [dict(q) for q in QUERIES],
        "continuity": {
            "filter": dict(HEALTH_CHECKS),
            "in_its_gaps": dict(EVERY_LINE),
            "tolerance_seconds": tolerance_us / 1e6,
        },
        "events": f"/v1/services/{api.service}/events",
    }


def fetch_rlm_log(
    api: RenderApi,
    window: Window,
    tolerance_us: int,
    budget: Budget,
    earlier: Earlier | None = None,
) -> Fetched:
    """The RLM log snapshot of `window`: the search terms' lines, the lines that prove its
    continuity (`heartbeats`: at most `tolerance_us` apart where the log has lines) and the
    service's events, in time order. With `earlier`, only what lies after its `until` is asked
    for (the continuity walk resumes from its last line before that)."""
    start, end = epoch_us(window.start or window.end), epoch_us(window.end)
    kept: dict[str, tuple[int, Any]] = {}
    resume = start
    if earlier is not None and start < earlier.until <= end:
        resume = earlier.until
        for line in snapshot_lines(earlier.content):
            if start <= line[0] < resume:
                kept.setdefault(_identity(line[1]), line)
    for query in QUERIES:
        for line in _all_pages(api, query, resume, end, budget):
            kept.setdefault(_identity(line[1]), line)
    events = list(_events(api, Window(from_epoch_us(resume), window.end), budget))

    # from the earlier snapshot's last line of the log (an event is none: the reader chains no
    # coverage through it, so a walk from it would leave the stretch before it unproven)
    logged = (t for t, obj in kept.values() if t < resume and render_event(obj) is None)
    walk_from = max(logged, default=start)
    proof = heartbeats.prove(
        _walk(api, HEALTH_CHECKS, budget),
        _walk(api, EVERY_LINE, budget),
        walk_from if resume > start else start,
        end,
        tolerance_us,
    )
    for line in [*proof, *events]:
        kept.setdefault(_identity(line[1]), line)
    lines = sorted(kept.values(), key=lambda line: line[0])
    content = "".join(_json_line(obj) for _, obj in lines).encode()
    details: dict[str, Any] = {
        "continuity_lines": len({_identity(obj) for _, obj in proof}),  # both walks: once
        "events": len(events),
        "event_summary": event_summary(obj["event"] for _, obj in events),
    }
    if resume > start and earlier is not None:
        details["earlier"] = {"sha256": earlier.sha256, "until": rfc3339(resume)}
    return Fetched(
        LOGS,
        "rlm_logs",
        rlm_log_params(api, window, tolerance_us),
        window,
        content,
        ".jsonl",
        budget.requests,
        len(lines),
        details,
    )


def snapshot_lines(content: bytes) -> list[heartbeats.Line]:
    """(instant, object) of each line of an RLM log snapshot (log objects and events)."""
    lines = []
    for raw in content.splitlines():
        obj = json.loads(raw)
        event = obj.get("event") if isinstance(obj, dict) else None
        stamp = event.get("timestamp") if isinstance(event, dict) else obj.get("timestamp")
        instant = instant_us(stamp)
        if instant is not None:
            lines.append((instant, obj))
    return lines


def _walk(api: RenderApi, query: Mapping[str, str], budget: Budget) -> heartbeats.Query:
    """One page of `query`'s logs in a range, as the continuity walk asks for it."""

    def page(lo: int, hi: int, direction: str, limit: int) -> tuple[list[heartbeats.Line], bool]:
        params = _log_params(api, query, lo, hi, direction, limit)
        lines, more, _ = _log_page(api.get("/v1/logs", params, budget, LOGS))
        return lines, more

    return page


def _log_params(
    api: RenderApi, query: Mapping[str, str], start: int, end: int, direction: str, limit: int
) -> dict[str, Any]:
    return {
        "ownerId": api.owner,
        "resource": [api.service],
        "startTime": rfc3339(start),
        "endTime": rfc3339(end),
        "direction": direction,
        "limit": limit,
        **{key: [value] for key, value in query.items()},
    }


def _all_pages(
    api: RenderApi, query: Mapping[str, str], start: int, end: int, budget: Budget
) -> Iterator[heartbeats.Line]:
    """Every log of the query in [start, end], page after page."""
    params = _log_params(api, query, start, end, heartbeats.FORWARD, heartbeats.PAGE)
    while True:
        lines, more, following = _log_page(api.get("/v1/logs", params, budget, LOGS))
        yield from lines
        if not more:
            return
        where = f"GET {api.base_url}/v1/logs ({_term(query)})"
        if following is None or following == (params["startTime"], params["endTime"]):
            raise SourceUnavailable(
                LOGS,
                f"{where}: the page says hasMore but gives no next nextStartTime/nextEndTime: "
                "the rest of the window is missing",
            )
        after, before = instant_us(following[0]), instant_us(params["startTime"]) or 0
        if after is None or after < before:
            back = "not a time" if after is None else "back in time: the walk would not end"
            raise SourceUnavailable(  # else it cycles between pages until the deadline
                LOGS,
                f"{where}: the page from {params['startTime']} gives nextStartTime "
                f"{following[0]!r}, {back}; the rest of the window is not read",
            )
        params = {**params, "startTime": following[0], "endTime": following[1]}


def _log_page(body: Any) -> tuple[list[heartbeats.Line], bool, tuple[str, str] | None]:
    """(lines, hasMore, the next page's (startTime, endTime)) of a `/v1/logs` answer."""
    if not isinstance(body, dict) or not isinstance(body.get("logs"), list):
        raise SourceUnavailable(LOGS, f"GET /v1/logs: not a logs page ({shape(body)})")
    more = body.get("hasMore")
    if not isinstance(more, bool):
        raise SourceUnavailable(LOGS, f"GET /v1/logs: hasMore is {more!r}, expected true/false")
    lines: list[heartbeats.Line] = []
    for item in body["logs"]:
        instant = instant_us(item.get("timestamp")) if isinstance(item, dict) else None
        if instant is None:
            raise SourceUnavailable(
                LOGS, f"GET /v1/logs: a log without a timestamp ({json.dumps(item)[:80]})"
            )
        lines.append((instant, item))
    start, end = body.get("nextStartTime"), body.get("nextEndTime")
    following = (start, end) if isinstance(start, str) and isinstance(end, str) else None
    return lines, more, following


def _events(api: RenderApi, window: Window, budget: Budget) -> Iterator[heartbeats.Line]:
    """The service's events in the window, following `cursor` while pages are full."""
    path = f"/v1/services/{api.service}/events"
    params: dict[str, Any] = {
        "startTime": rfc3339(epoch_us(window.start or window.end)),
        "endTime": rfc3339(epoch_us(window.end)),
        "limit": heartbeats.PAGE,
    }
    while True:
        body = api.get(path, params, budget, LOGS)
        if not isinstance(body, list):
            raise SourceUnavailable(LOGS, f"GET {path}: not a list of events ({shape(body)})")
        for item in body:
            event = item.get("event") if isinstance(item, dict) else None
            instant = instant_us(event.get("timestamp")) if isinstance(event, dict) else None
            if instant is None:
                raise SourceUnavailable(LOGS, f"GET {path}: an event without a timestamp")
            yield instant, {"event": event}
        if len(body) < heartbeats.PAGE:
            return
        cursor = body[-1].get("cursor")
        if not isinstance(cursor, str) or not cursor or cursor == params.get("cursor"):
            raise SourceUnavailable(LOGS, f"GET {path}: a full page of events and no cursor on")
        params = {**params, "cursor": cursor}


def event_summary(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What the service's events say beside its log lines: how many of each type, the failures
    by reason (an OOM kill is a `server_failed` whose reason is `oomKilled`), and each
    `deploy_ended` with its status. The RLM log reader counts the OOM kills and crashes from the
    events themselves; this is their summary in the snapshot's record."""
    by_type: dict[str, int] = {}
    failures: dict[str, int] = {}
    deploys: list[dict[str, Any]] = []
    for event in events:
        kind = str(event.get("type", ""))
        by_type[kind] = by_type.get(kind, 0) + 1
        details = event.get("details")
        details = details if isinstance(details, dict) else {}
        if kind == "server_failed":
            reason = details.get("reason")
            named = sorted(reason) if isinstance(reason, dict) and reason else ["unknown"]
            for name in named:
                failures[name] = failures.get(name, 0) + 1
        elif kind == "deploy_ended":
            status = details.get("deployStatus", details.get("status"))
            deploys.append({"at": event.get("timestamp"), "status": status})
    return {
        "by_type": dict(sorted(by_type.items())),
        "failures": dict(sorted(failures.items())),
        "oom_kills": failures.get("oomKilled", 0),
        "restarts": by_type.get("server_restarted", 0),
        "deploys": deploys,
    }


# -- shared -------------------------------------------------------------------------------------


def rfc3339(instant: int) -> str:
    """Epoch microseconds as RFC 3339 UTC with microseconds."""
    return from_epoch_us(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _identity(obj: Any) -> str:
    identity = obj.get("id") if isinstance(obj, dict) else None
    return identity if isinstance(identity, str) and identity else _json_line(obj)


def _json_line(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _term(query: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in query.items())


def shape(body: Any) -> str:
    """What an answer that is not the expected JSON looks like, briefly."""
    return f"got {type(body).__name__} {json.dumps(body)[:60]}"
