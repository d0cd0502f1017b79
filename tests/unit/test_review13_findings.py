"""Review of issue 13 (platform sources): each test here fails on the code as merged, for a real
defect found by attacking it. See REVIEW13.md for the reproduction and the severity."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from cutover.cli import main

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
