"""What a run fetches from the platforms and for which window; nothing without platform
settings; a half-configured platform is a usage error; the snapshots stand in for the files,
a failed one says why; `cutover fetch` and `cutover drain serve` from the command line;
`--replay` refuses what is not a checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from cutover.cli import main
from cutover.config import resolve_settings
from cutover.errors import ConfigError, SourceUnavailable
from cutover.ledger import Store
from cutover.ledger.records import (
    Checkpoint,
    CriterionRecord,
    Entry,
    Origin,
    Rollback,
    StageStarted,
)
from cutover.ledger.view import LedgerView
from cutover.outcome import Window
from cutover.profile import Profile
from cutover.sources.exports import Exports
from cutover.sources.platform.fetch import apply_snapshots, fetch_platforms, fetch_window, wanted
from cutover.sources.platform.replay import load_replay
from cutover.sources.platform.snapshots import Fetched, keep

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
RENDER = {"RENDER_API_KEY": "rnd_k", "CUTOVER_RENDER_SERVICE": "srv-1", "CUTOVER_RENDER_OWNER": "o"}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CUTOVER_CONFIG", "CUTOVER_EVIDENCE_DIR", "PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `vercel` here


def test_nothing_is_fetched_without_platform_settings() -> None:
    assert wanted(resolve_settings({}, env={})) == {}


def test_each_platform_setting_feeds_its_exports_unless_a_file_is_given(tmp_path: Path) -> None:
    env = {**RENDER, "VERCEL_TOKEN": "vc_t", "CUTOVER_VERCEL_PROJECT": "p"}
    assert wanted(resolve_settings({}, env=env)) == {
        "rlm_logs": "render logs",
        "rlm_metrics": "render metrics",
        "rollout": "vercel env",
    }
    env |= {"CUTOVER_RLM_LOGS": "x.log", "CUTOVER_ROLLOUT_PERCENT": "0"}
    env |= {"CUTOVER_DRAIN_STORE": str(tmp_path)}
    assert wanted(resolve_settings({}, env=env)) == {
        "router_logs": "log drain",
        "rlm_metrics": "render metrics",
    }


def test_a_platform_half_configured_is_a_usage_error_naming_what_is_missing() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings({}, env={"RENDER_API_KEY": "rnd_k", "CUTOVER_RENDER_OWNER": "o"})
    assert "RENDER_API_KEY is set but CUTOVER_RENDER_SERVICE is not" in str(info.value)
    assert "rnd_k" not in str(info.value)


def view(*records: object, as_of: datetime) -> LedgerView:
    entries = [Entry(i + 1, r.to_json()) for i, r in enumerate(records)]  # type: ignore[attr-defined]
    return LedgerView(entries, as_of)


def test_the_window_reaches_back_to_the_stage_a_gate_measures() -> None:
    as_of = T0 + timedelta(days=3)
    ledger = view(StageStarted(1, 10, T0), StageStarted(2, 50, T0 + timedelta(days=1)), as_of=as_of)
    assert fetch_window(ledger, Profile(), as_of, (1,)) == Window(T0, as_of)
    assert fetch_window(ledger, Profile(), as_of) == Window(T0 + timedelta(days=1), as_of)
    lookback = timedelta(minutes=Profile().rollback_log_window_minutes)
    assert fetch_window(view(as_of=as_of), Profile(), as_of) == Window(as_of - lookback, as_of)
    rolled = view(StageStarted(1, 10, T0), Rollback("r", T0 + timedelta(hours=5)), as_of=as_of)
    assert fetch_window(rolled, Profile(), as_of).start == T0 + timedelta(hours=5)


def test_a_failed_fetch_is_recorded_and_its_exports_say_why(tmp_path: Path) -> None:
    window = Window(T0, T0 + timedelta(hours=1))
    failed = Fetched.failed("render logs", "rlm_logs", {}, window, "render logs: GET x: 401")
    good = Fetched("render metrics", "rlm_metrics", {}, window, b"timestamp,memory_mb\n", ".csv")
    records = [keep(Store(tmp_path), f, Origin()) for f in (failed, good)]
    assert records[0].path == "" and records[0].problem
    exports = apply_snapshots(Exports(None, Path("given.log"), None), records, tmp_path)
    assert exports.rlm_metrics == tmp_path / records[1].path
    with pytest.raises(SourceUnavailable, match=r"render logs: GET x: 401"):
        exports.need("rlm_logs")
    (tmp_path / records[1].path).write_bytes(b"changed")
    changed = apply_snapshots(Exports(None, None, None), records, tmp_path)
    with pytest.raises(SourceUnavailable, match=r"no longer has the sha256"):
        changed.need("rlm_metrics")


@respx.mock
def test_cutover_fetch_records_snapshots_and_reuses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in RENDER.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CUTOVER_RENDER_API_URL", "https://render.test")
    respx.get("https://render.test/v1/logs").mock(
        return_value=httpx.Response(200, json={"hasMore": False, "logs": []})
    )
    respx.get("https://render.test/v1/services/srv-1/events").mock(
        return_value=httpx.Response(200, json=[])
    )
    respx.get(url__regex=r"https://render.test/v1/metrics/.*").mock(
        return_value=httpx.Response(401, json={"message": "bad key"})
    )
    evidence = ["--evidence-dir", str(tmp_path / "ev")]
    assert main([*evidence, "fetch", "--as-of", "2026-03-02T10:00:00Z"]) == 6
    out = capsys.readouterr().out
    assert "render logs: 0 lines" in out
    assert "render metrics: unavailable: render metrics: GET https://render.test/v1/metrics/" in out
    calls = len(respx.calls)
    assert main([*evidence, "fetch", "--as-of", "2026-03-02T10:00:00Z"]) == 6
    assert len(respx.calls) - calls == 1  # the logs were reused; the failed metrics asked again
    snapshots = [e for e in Store(tmp_path / "ev").read() if e.type == "snapshot"]
    assert len(snapshots) == 3
    assert Store(tmp_path / "ev").head() is not None


def test_cutover_fetch_without_platform_settings_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--evidence-dir", str(tmp_path), "fetch"]) == 2
    assert "no platform source is configured: set RENDER_API_KEY" in capsys.readouterr().err


def test_the_drain_receiver_refuses_to_start_without_its_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUTOVER_DRAIN_STORE", str(tmp_path))
    assert main(["drain", "serve"]) == 2
    assert "VERCEL_DRAIN_SECRET is not set" in capsys.readouterr().err


def test_replay_refuses_a_line_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    with pytest.raises(ConfigError, match=r"line 1 of .* is a stage_started record"):
        load_replay(tmp_path, 1)
    with pytest.raises(ConfigError, match=r"line 9 .* is no record"):
        load_replay(tmp_path, 9)


def test_replay_of_a_checkpoint_whose_snapshot_is_gone_is_inconclusive_there(
    tmp_path: Path,
) -> None:
    refs = ({"source": "render logs", "export": "rlm_logs", "sha256": "ab" * 32},)
    result = CriterionRecord("stage1.rlm_stability", {"verdict": "pass"})
    Store(tmp_path).append(Checkpoint("stage1_gate", T0, T0, (result,), snapshots=refs))
    replay = load_replay(tmp_path, 1)
    assert replay.as_of == T0
    [stand_in] = replay.snapshots
    assert "is not in the ledger" in stand_in.problem
    assert replay.differences({"stage1.rlm_stability": "inconclusive"}) == [
        "stage1.rlm_stability: inconclusive now, pass at line 1"
    ]


def test_no_fetch_is_attempted_when_nothing_is_wanted(tmp_path: Path) -> None:
    settings = resolve_settings({}, env={"CUTOVER_EVIDENCE_DIR": str(tmp_path)})
    assert fetch_platforms(settings, Window(T0, T0 + timedelta(hours=1)), Origin()) == ()
    assert not (tmp_path / "snapshots").exists()
