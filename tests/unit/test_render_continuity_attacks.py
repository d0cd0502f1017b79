"""Render's continuity walk (health checks first, every line in the gaps they leave) attacked
through the fetch: what the reader finds in the snapshot is what it finds in the whole log,
whatever the service's events, a short window, a resumed snapshot or a failing request in the
gap-fill walk."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from test_platform_render import API, BASE, T0, WINDOW, budget, log, page, stamp

from cutover.criteria.coverage import log_coverage
from cutover.errors import SourceUnavailable
from cutover.outcome import Window
from cutover.sources.platform.render import Earlier, fetch_rlm_log
from cutover.sources.rlm_logs import scan_rlm_log
from cutover.timeutil import epoch_us

TOLERANCE = timedelta(minutes=10)
TOL_US = int(TOLERANCE.total_seconds() * 1e6)
Handler = Callable[[httpx.Request], httpx.Response]


def serving(logs: Sequence[dict[str, Any]]) -> Handler:
    """/v1/logs over `logs` as Render answers: every `text` a part of the message, `level` and
    `type` labels, the range's oldest or newest `limit` lines (one page: the walk asks no
    more)."""

    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        lo, hi = params["startTime"], params["endTime"]
        found = [
            obj
            for obj in logs
            if lo <= obj["timestamp"].replace("Z", ".000000Z") <= hi
            and all(text in obj["message"] for text in params.get_list("text"))
            and all(
                {"name": label, "value": v} in obj["labels"]
                for label in ("level", "type")
                for v in params.get_list(label)
            )
        ]
        limit = int(params["limit"])
        chosen = found[:limit] if params["direction"] == "forward" else found[-limit:][::-1]
        return httpx.Response(200, json=page(chosen, len(found) > limit))

    return answer


def in_time_order(*logs: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(logs, key=lambda obj: obj["timestamp"])


def gaps_read(content: bytes | str, tmp_path: Path, window: Window) -> list[tuple[datetime, ...]]:
    """The gaps criteria.coverage finds in what the RLM reader reads of `content`."""
    path = tmp_path / f"read-{abs(hash(content))}.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert window.start is not None
    counts = scan_rlm_log(path, window.start, window.end, resolution=TOLERANCE)
    return [
        (g.start, g.end) for g in log_coverage(counts.coverage, window, TOLERANCE, 1.0, "").gaps
    ]


def whole(logs: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(obj) + "\n" for obj in logs)


def event(ident: str, minutes: float, kind: str) -> dict[str, Any]:
    body = {"id": ident, "timestamp": stamp(minutes), "serviceId": "srv-rlm", "type": kind}
    return {"cursor": ident, "event": {**body, "details": {}}}


# the RLM's own lines every 30 s, but for 12 minutes (50..62) in which it logged nothing
QUIET = [log(f"q{n}", n / 2, "INFO import step done") for n in range(241) if not 100 < n < 124]


@respx.mock
def test_a_service_event_in_a_silence_of_the_log_does_not_hide_the_gap(tmp_path: Path) -> None:
    """Render raised `deploy_ended` at minute 56 of a 12-minute silence of the log: the event is
    not a line of the log, yet the reader takes its instant as one, so the snapshot shows two
    6-minute silences (no gap at a 10-minute tolerance) where the log has one of 12: a false
    pass of coverage."""
    respx.get(f"{BASE}/v1/logs").mock(side_effect=serving(QUIET))
    respx.get(f"{BASE}/v1/services/srv-rlm/events").mock(
        return_value=httpx.Response(200, json=[event("ev-deploy", 56, "deploy_ended")])
    )
    fetched = fetch_rlm_log(API, WINDOW, TOL_US, budget())
    silence = [(T0 + timedelta(minutes=50), T0 + timedelta(minutes=62))]
    assert gaps_read(whole(QUIET), tmp_path, WINDOW) == silence
    assert gaps_read(fetched.content, tmp_path, WINDOW) == silence


@respx.mock
def test_a_window_shorter_than_the_tolerance_without_health_checks_is_covered(
    tmp_path: Path,
) -> None:
    """A 6-minute window at a 10-minute tolerance in which the RLM logged only its own lines:
    no stretch is over the tolerance, so no line but the health checks was asked for, and the
    reader saw a window without a line (a gap, however short)."""
    respx.get(f"{BASE}/v1/logs").mock(side_effect=serving(QUIET))
    respx.get(f"{BASE}/v1/services/srv-rlm/events").mock(return_value=httpx.Response(200, json=[]))
    short = Window(T0 + timedelta(minutes=20), T0 + timedelta(minutes=26))
    fetched = fetch_rlm_log(API, short, TOL_US, budget())
    assert gaps_read(whole(QUIET), tmp_path, short) == []
    assert gaps_read(fetched.content, tmp_path, short) == []


# health checks every 4 minutes for the first half hour, then only the RLM's other lines
HALF_HEALTHY = in_time_order(
    *(log(f"h{m}", m, "INFO GET /health 200") for m in range(0, 31, 4)),
    *(log(f"i{m}", m + 0.5, "INFO import step done") for m in range(0, 120, 3)),
)


@respx.mock
def test_resuming_from_a_snapshot_whose_last_line_is_no_health_check(tmp_path: Path) -> None:
    """The earlier snapshot's last line before `until` is one of the RLM's own lines and the
    health checks stopped long before: the resumed snapshot reads as the whole log does."""
    respx.get(f"{BASE}/v1/logs").mock(side_effect=serving(HALF_HEALTHY))
    respx.get(f"{BASE}/v1/services/srv-rlm/events").mock(return_value=httpx.Response(200, json=[]))
    first = fetch_rlm_log(API, Window(T0, T0 + timedelta(hours=1)), TOL_US, budget())
    earlier = Earlier("e" * 64, first.content, epoch_us(T0 + timedelta(minutes=50)))
    resumed = fetch_rlm_log(API, WINDOW, TOL_US, budget(), earlier)
    cold = fetch_rlm_log(API, WINDOW, TOL_US, budget())
    assert gaps_read(resumed.content, tmp_path, WINDOW) == gaps_read(
        whole(HALF_HEALTHY), tmp_path, WINDOW
    )
    assert gaps_read(resumed.content, tmp_path, WINDOW) == gaps_read(cold.content, tmp_path, WINDOW)


def failing_gap_fill(status: int, from_call: int, times: int) -> tuple[Handler, list[int]]:
    """`serving(QUIET)`, but the gap-fill walk's (no filter) `from_call`-th request and the
    `times - 1` after it answer `status`; and how many the walk asked for."""
    inner, calls = serving(QUIET), [0]

    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if "text" not in params and "level" not in params:
            calls[0] += 1
            if from_call <= calls[0] < from_call + times:
                return httpx.Response(status, json={"message": "busy"})
        return inner(request)

    return answer, calls


@respx.mock
def test_a_5xx_in_the_middle_of_the_gap_fill_walk_is_retried_to_the_same_snapshot() -> None:
    respx.get(f"{BASE}/v1/services/srv-rlm/events").mock(return_value=httpx.Response(200, json=[]))
    route = respx.get(f"{BASE}/v1/logs").mock(side_effect=serving(QUIET))
    clean = fetch_rlm_log(API, WINDOW, TOL_US, budget())
    route.side_effect, calls = failing_gap_fill(503, 2, 1)
    retried = fetch_rlm_log(API, WINDOW, TOL_US, budget())
    assert calls[0] >= 3  # the failed request and its retry
    assert retried.content == clean.content


@respx.mock
def test_a_gap_fill_walk_that_keeps_failing_fails_the_snapshot() -> None:
    respx.get(f"{BASE}/v1/services/srv-rlm/events").mock(return_value=httpx.Response(200, json=[]))
    handler, calls = failing_gap_fill(500, 2, 1_000)
    respx.get(f"{BASE}/v1/logs").mock(side_effect=handler)
    with pytest.raises(SourceUnavailable, match=r"500"):
        fetch_rlm_log(API, WINDOW, TOL_US, budget())
    assert calls[0] >= 2


# the RLM's lines every 20 s for two hours; health checks only from minute 57, every 4 minutes
BUSY = in_time_order(
    *(log(f"b{n}", n / 3, "INFO import step done") for n in range(360)),
    *(log(f"h{m}", m, "INFO GET /health 200") for m in range(57, 120, 4)),
)


@respx.mock
def test_resuming_where_the_earlier_snapshots_last_line_is_an_event(tmp_path: Path) -> None:
    """The earlier snapshot's last entry before `until` (minute 50) is a `server_available`
    event at minute 49, its last line of the log one at ~43: a walk resumed from the event
    found the health check at 57 within the tolerance of it and asked for nothing else, leaving
    43..57 (over the tolerance, lines all along it) unproven once the event extends no
    coverage."""
    respx.get(f"{BASE}/v1/logs").mock(side_effect=serving(BUSY))
    respx.get(f"{BASE}/v1/services/srv-rlm/events").mock(
        return_value=httpx.Response(200, json=[event("ev-up", 49, "server_available")])
    )
    first = fetch_rlm_log(API, Window(T0, T0 + timedelta(hours=1)), TOL_US, budget())
    earlier = Earlier("e" * 64, first.content, epoch_us(T0 + timedelta(minutes=50)))
    resumed = fetch_rlm_log(API, WINDOW, TOL_US, budget(), earlier)
    assert gaps_read(whole(BUSY), tmp_path, WINDOW) == []
    assert gaps_read(resumed.content, tmp_path, WINDOW) == []


# the RLM's own lines (type app) every 30 s but for 50..62, and Render's request log of an
# uptime monitor's `GET /health` every 30 s all along (the proxy logs the 502s of the outage)
PROXIED = in_time_order(
    *QUIET,
    *(log(f"r{n}", n / 2 + 0.25, "GET /health 502", kind="request") for n in range(240)),
)


@respx.mock
def test_lines_render_writes_itself_do_not_cover_a_silence_of_the_rlm(tmp_path: Path) -> None:
    """While the RLM logged nothing (12 minutes), Render's proxy kept logging the requests it
    answered 502 for it: those lines are Render's, not the RLM's (`type=request`): the walk
    asks for the service's own (`type=app`), so the snapshot shows the silence."""
    respx.get(f"{BASE}/v1/logs").mock(side_effect=serving(PROXIED))
    respx.get(f"{BASE}/v1/services/srv-rlm/events").mock(return_value=httpx.Response(200, json=[]))
    fetched = fetch_rlm_log(API, WINDOW, TOL_US, budget())
    silence = [(T0 + timedelta(minutes=50), T0 + timedelta(minutes=62))]
    assert gaps_read(whole(QUIET), tmp_path, WINDOW) == silence
    assert gaps_read(fetched.content, tmp_path, WINDOW) == silence
