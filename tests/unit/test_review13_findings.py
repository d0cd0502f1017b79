"""Review of issue 13 (platform sources): each test here fails on the code as merged, for a real
defect found by attacking it. See REVIEW13.md for the reproduction and the severity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from cutover.cli import main
from cutover.errors import SourceUnavailable
from cutover.sources.http import Budget, Pacing
from cutover.sources.platform.render import RenderApi, _all_pages
from cutover.timeutil import epoch_us

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
SECRET = "drain-secret-0123456789"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- Vercel: the live deployment -----------------------------------------------------------------


# -- Render metrics ------------------------------------------------------------------------------


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
