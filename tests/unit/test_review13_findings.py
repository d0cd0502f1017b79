"""Review of issue 13 (platform sources): each test here fails on the code as merged, for a real
defect found by attacking it. See REVIEW13.md for the reproduction and the severity."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from cutover.cli import main
from cutover.errors import SourceUnavailable
from cutover.ledger import Store
from cutover.ledger.records import Origin
from cutover.outcome import Window
from cutover.sources.http import Budget, Pacing
from cutover.sources.platform.render import RenderApi, _all_pages
from cutover.sources.platform.render_metrics import fetch_metrics, metric_rows
from cutover.sources.platform.snapshots import Fetched, keep
from cutover.timeutil import epoch_us

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
SECRET = "drain-secret-0123456789"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- Vercel: the live deployment -----------------------------------------------------------------


# -- Render metrics ------------------------------------------------------------------------------


@respx.mock
def test_two_series_for_one_instance_are_not_silently_merged_into_one() -> None:
    """`_series` keys the series by their `instance` label and overwrites: two series without an
    instance label (or with the same one) keep only the last. With Render answering one series
    per instance and a label the reader does not find (the label key is undocumented beyond
    `field`), the memory of every instance but the last is dropped without a word, so a leaking
    instance disappears from the trend test and `rlm_stability` can pass on the flat one. A
    second series for an instance already seen must fail the snapshot (or be kept apart)."""
    base = "https://api.render.test"
    start = T0

    def series(values: list[float], instance: str | None) -> dict[str, object]:
        labels = [{"field": "service", "value": "srv-rlm"}]
        if instance is not None:
            labels.append({"field": "instanceId", "value": instance})
        points = [
            {"timestamp": (start + timedelta(hours=i)).isoformat(), "value": v}
            for i, v in enumerate(values)
        ]
        return {"labels": labels, "unit": "bytes", "values": points}

    leaking = series([2**28 * (1 + i / 4) for i in range(12)], "srv-rlm-a")
    flat = series([2**28] * 12, "srv-rlm-b")
    respx.get(f"{base}/v1/metrics/memory").mock(
        return_value=httpx.Response(200, json=[leaking, flat])
    )
    for name in ("memory-limit", "cpu", "cpu-limit"):
        respx.get(f"{base}/v1/metrics/{name}").mock(return_value=httpx.Response(200, json=[]))
    api = RenderApi(base, "rnd_key_0123456789", "tea-o", "srv-rlm", 1_000_000)
    window = Window(start, start + timedelta(hours=12))
    try:
        fetched = fetch_metrics(api, window, Budget(Pacing(30.0, 5.0, 1, sleep=lambda s: None)))
    except SourceUnavailable:
        return
    rows = fetched.content.decode().splitlines()[1:]
    assert len(rows) == 24, f"{len(rows)} rows: one instance's memory was dropped"


# -- reuse of a recorded snapshot ----------------------------------------------------------------


@respx.mock
def test_a_snapshot_of_another_service_is_not_reused_for_the_same_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fetch_platforms` reuses a recorded snapshot when its source, export and window match,
    without looking at what it asked (`params`: API, owner, service). An operator who ran
    `cutover fetch --as-of T` with the wrong CUTOVER_RENDER_SERVICE (another service, staging)
    and then corrects it gets the wrong service's log and metrics measured for T, silently: the
    RLM's OOM kills are never looked at and `rlm_stability` can pass on staging's quiet log."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    for name, value in {
        "RENDER_API_KEY": "rnd_key_0123456789",
        "CUTOVER_RENDER_OWNER": "tea-o",
        "CUTOVER_RENDER_API_URL": "https://render.test",
    }.items():
        monkeypatch.setenv(name, value)
    respx.get("https://render.test/v1/logs").mock(
        return_value=httpx.Response(200, json={"hasMore": False, "logs": []})
    )
    respx.get(url__regex=r"https://render.test/v1/services/.*/events").mock(
        return_value=httpx.Response(200, json=[])
    )
    respx.get(url__regex=r"https://render.test/v1/metrics/.*").mock(
        return_value=httpx.Response(200, json=[])
    )
    evidence = ["--evidence-dir", str(tmp_path / "ev")]
    monkeypatch.setenv("CUTOVER_RENDER_SERVICE", "srv-staging")
    main([*evidence, "fetch", "--as-of", "2026-03-02T10:00:00Z"])
    monkeypatch.setenv("CUTOVER_RENDER_SERVICE", "srv-rlm")
    before = len(respx.calls)
    main([*evidence, "fetch", "--as-of", "2026-03-02T10:00:00Z"])
    asked = [str(call.request.url) for call in respx.calls[before:]]
    assert any("srv-rlm" in url for url in asked), "the staging snapshot was reused for srv-rlm"


def test_a_memory_limit_in_an_unknown_unit_writes_no_nan_into_the_ledger(tmp_path: Path) -> None:
    """`metric_rows` converts the memory-limit series with `_MEMORY_UNITS.get(unit, math.nan)`:
    a limit in a unit it does not know (Render's units are undocumented: "percent", "MB/s")
    becomes NaN in the snapshot's `details`, and `json.dumps` writes `NaN` into the ledger line.
    That line is not JSON (RFC 8259): `jq`, JavaScript's JSON.parse and any strict reader of the
    evidence refuse the whole ledger. The unit should be recorded and the limit left out."""
    series = {
        "memory": {"srv-rlm-a": ("bytes", {_ms(T0) * 1000: float(2**28)})},
        "memory-limit": {"srv-rlm-a": ("percent", {_ms(T0) * 1000: 50.0})},
        "cpu": {},
        "cpu-limit": {},
    }
    _, details = metric_rows(series)
    window = Window(T0, T0 + timedelta(hours=1))
    fetched = Fetched("render metrics", "rlm_metrics", {}, window, b"x\n", ".csv", 4, 1, details)
    keep(Store(tmp_path), fetched, Origin())
    for line in (tmp_path / "ledger.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} in the ledger"))


def test_a_page_that_sends_the_walk_back_in_time_fails_at_once() -> None:
    """`_all_pages` only refuses a next page equal to the current one. A `nextStartTime` that
    goes back (before the current page's start: a platform bug, or a proxy cache serving an
    older page) makes the reader ask pages A, B, A, B, ... until the deadline (600 s by
    default, hundreds of requests a second without rate-limit headers), and the snapshot's
    problem then says only that the deadline passed, not what went wrong. A next start before
    the current one must fail the snapshot at once, naming it."""
    calls = [0]

    def cycling(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        start = request.url.params["startTime"]
        following = "10:00:00.5" if "T10:30" in start else "10:30:00"  # back, forth
        body = {
            "hasMore": True,
            "logs": [{"id": "o1", "timestamp": "2026-03-02T10:10:00Z", "message": "OOMKilled"}],
            "nextStartTime": f"2026-03-02T{following}Z",
            "nextEndTime": "2026-03-02T12:00:00Z",
        }
        return httpx.Response(200, json=body)

    api = RenderApi(
        "http://render.test", "rnd_key_0123456789", "o", "s", 100_000, httpx.MockTransport(cycling)
    )
    start, end = epoch_us(T0), epoch_us(T0 + timedelta(hours=2))
    with pytest.raises(SourceUnavailable):
        list(_all_pages(api, {"text": "OOMKilled"}, start, end, Budget(Pacing(1.0, 0.5, 1))))
    assert calls[0] <= 3, f"{calls[0]} requests cycling between two pages"
