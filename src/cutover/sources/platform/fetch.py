"""What a run reads from the platforms itself, for which window, and how the snapshots stand in
for the exported files.

A platform source is read when its settings are set and the file setting it replaces is not
(`wanted`): the router logs from the drain store (`CUTOVER_DRAIN_STORE`), else from `vercel logs`
when the CLI is on PATH and Vercel is configured; the RLM log and metrics from Render; the
rollout percent and the live deployment from Vercel's API. Each is fetched for the window the
run needs (`fetch_window`: from the earliest start a selected gate measures from, to the
instant), kept as a snapshot (`snapshots.keep`), and measured through `Exports` like a file. A
source that fails is recorded with its problem, and every criterion it feeds is inconclusive
with that problem (platform, endpoint, what was missing), never a pass.

A snapshot already recorded for the same source, window and target is used again instead of a
second fetch (`cutover fetch` before a gate run, or xdist workers of one run); the RLM log of a
growing window asks only for what came after the last snapshot of the same start (`render`)."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from cutover.config import Settings
from cutover.errors import SourceUnavailable
from cutover.ledger import LedgerBroken, Store
from cutover.ledger.records import Origin, Snapshot
from cutover.ledger.signing import signer_for
from cutover.ledger.view import LedgerView
from cutover.outcome import Window
from cutover.profile import Profile
from cutover.sources.exports import Exports
from cutover.sources.http import Budget, Pacing
from cutover.sources.platform.drain import DRAIN, read_drain
from cutover.sources.platform.render import (
    EARLIER_OVERLAP_US,
    LOGS,
    Earlier,
    RenderApi,
    fetch_rlm_log,
    rlm_log_params,
)
from cutover.sources.platform.render_metrics import METRICS, fetch_metrics
from cutover.sources.platform.snapshots import (
    Fetched,
    keep,
    masked,
    snapshot_path,
    window_params,
)
from cutover.sources.platform.vercel import ENV, VercelApi, fetch_rollout, read_rollout_snapshot
from cutover.sources.platform.vercel_cli import CLI, VercelCli, fetch_cli_router_logs
from cutover.sources.vercel_env import RolloutSetting
from cutover.timeutil import epoch_us

EXPORTS = ("router_logs", "rlm_logs", "rlm_metrics")


def wanted(settings: Settings) -> dict[str, str]:
    """export -> the source that reads it, for the exports this run fetches itself."""
    found: dict[str, str] = {}
    if settings.router_logs is None:
        if settings.drain_store is not None:
            found["router_logs"] = DRAIN
        elif settings.vercel and shutil.which("vercel") is not None:
            found["router_logs"] = CLI
    if settings.render and settings.rlm_logs is None:
        found["rlm_logs"] = LOGS
    if settings.render and settings.rlm_metrics is None:
        found["rlm_metrics"] = METRICS
    if settings.vercel and settings.rollout_percent is None and settings.vercel_env_file is None:
        found["rollout"] = ENV
    return found


def fetch_window(
    view: LedgerView, profile: Profile, as_of: datetime, stages: Iterable[int] = ()
) -> Window:
    """From the earliest instant a gate measures from to `as_of`: the named stages' starts (none
    named: the current stage's, or the last rollback's), and the rollback triggers' look-back."""
    starts = [as_of - timedelta(minutes=profile.rollback_log_window_minutes)]
    named = list(stages)
    for stage in named:
        started = view.stage_started(stage)
        if started is not None:
            starts.append(started)
    if not named:
        current = view.current_stage()
        rollback = view.last_rollback()
        starts += [current.started] if current is not None else []
        starts += [rollback[0]] if rollback is not None else []
    return Window(min(s for s in starts if s <= as_of), as_of)


def fetch_platforms(
    settings: Settings,
    window: Window,
    origin: Origin,
    *,
    pacing: Pacing | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[Snapshot, ...]:
    """Fetch every wanted source for `window` (or use the snapshot already recorded for it) and
    record each; a failure is recorded, never raised."""
    profile = settings.profile
    pacing = pacing or Pacing(profile.platform_deadline_seconds, profile.http_timeout_seconds)
    recorded = _recorded(settings.evidence_dir, origin)
    store = Store(settings.evidence_dir, sign=signer_for(settings))
    taken: list[Snapshot] = []
    for export, source in wanted(settings).items():
        same = [r for r in recorded if (r.source, r.export) == (source, export)]
        again = next((r for r in same if r.window == window), None)
        if again is not None:
            taken.append(again)
            continue
        budget = Budget(pacing)
        try:
            fetched = _fetch(settings, export, window, budget, transport, same)
        except SourceUnavailable as exc:
            params = {"window": window_params(window)}
            fetched = Fetched.failed(source, export, params, window, str(exc))
        taken.append(keep(store, fetched, origin))
    return tuple(taken)


def _fetch(
    settings: Settings,
    export: str,
    window: Window,
    budget: Budget,
    transport: httpx.AsyncBaseTransport | None,
    recorded: list[Snapshot],
) -> Fetched:
    page_cap = settings.profile.platform_max_page_bytes
    if export == "router_logs":
        if settings.drain_store is not None:
            return read_drain(settings.drain_store, window)
        assert settings.vercel_token is not None and settings.vercel_project is not None
        cli = VercelCli.on_path(
            settings.vercel_token, settings.vercel_project, settings.vercel_team
        )
        if cli is None:
            raise SourceUnavailable(CLI, "the `vercel` CLI is no longer on PATH")
        return fetch_cli_router_logs(cli, window, budget)
    if export == "rollout":
        assert settings.vercel_token is not None and settings.vercel_project is not None
        vercel = VercelApi(
            settings.vercel_api_url,
            settings.vercel_token,
            settings.vercel_project,
            settings.vercel_team,
            page_cap,
            transport,
        )
        return fetch_rollout(vercel, window.end, budget)
    assert settings.render_api_key and settings.render_owner and settings.render_service
    render = RenderApi(
        settings.render_api_url,
        settings.render_api_key,
        settings.render_owner,
        settings.render_service,
        page_cap,
        transport,
    )
    if export == "rlm_metrics":
        return fetch_metrics(render, window, budget)
    tolerance = health_check_tolerance_us(settings.profile)
    earlier = _earlier(settings.evidence_dir, recorded, rlm_log_params(render, window, tolerance))
    return fetch_rlm_log(render, window, tolerance, budget, earlier)


def _earlier(
    evidence_dir: Path, recorded: list[Snapshot], params: dict[str, Any]
) -> Earlier | None:
    """The latest whole snapshot asked with the same parameters for a window with the same
    start and an earlier end, if its file is intact."""

    def asked(record: Snapshot) -> dict[str, Any]:
        return {k: v for k, v in record.params.items() if k != "window"}

    wanted_params = {k: v for k, v in masked(params).items() if k != "window"}
    start, end = params["window"]["start"], params["window"]["end"]
    fitting = [
        r
        for r in recorded
        if asked(r) == wanted_params
        and window_params(r.window)["start"] == start
        and window_params(r.window)["end"] < end
    ]
    for record in sorted(fitting, key=lambda r: r.window.end, reverse=True):
        try:
            content = snapshot_path(evidence_dir, record).read_bytes()
        except SourceUnavailable:
            continue
        until = epoch_us(record.window.end) - EARLIER_OVERLAP_US
        return Earlier(record.sha256, content, until)
    return None


def health_check_tolerance_us(profile: Profile) -> int:
    """The longest silence the RLM log's coverage bridges (`rlm_log_gap_minutes`): the lines
    kept to prove continuity are at most this far apart where the log has lines (`heartbeats`)."""
    return int(timedelta(minutes=profile.rlm_log_gap_minutes) / timedelta(microseconds=1))


def _recorded(evidence_dir: Path, origin: Origin) -> list[Snapshot]:
    """The whole snapshots already recorded for this target."""
    try:
        entries = Store(evidence_dir).read()
    except LedgerBroken:
        return []  # the gates say where the chain breaks; nothing recorded is reused from it
    found: list[Snapshot] = []
    for entry in entries:
        if entry.type != "snapshot" or not entry.origin.matches(origin.target, origin.scenario):
            continue
        record = entry.parse()
        if isinstance(record, Snapshot) and not record.problem:
            found.append(record)
    return found


def apply_snapshots(exports: Exports, snapshots: Iterable[Snapshot], evidence_dir: Path) -> Exports:
    """`exports` with each export a snapshot stands for read from it (or unavailable, and why)."""
    paths: dict[str, Path] = {}
    unavailable: dict[str, str] = dict(exports.unavailable)
    for record in snapshots:
        if record.export not in EXPORTS:
            continue
        try:
            paths[record.export] = snapshot_path(evidence_dir, record)
        except SourceUnavailable as exc:
            unavailable[record.export] = str(exc)
    return dataclasses.replace(exports, **paths, unavailable=unavailable)  # type: ignore[arg-type]


def rollout_snapshot(snapshots: Iterable[Snapshot], evidence_dir: Path) -> RolloutSetting | None:
    """The rollout setting a `vercel env` snapshot holds (None: no such snapshot); a failed or
    changed one raises SourceUnavailable."""
    for record in snapshots:
        if record.export == "rollout":
            return read_rollout_snapshot(snapshot_path(evidence_dir, record), record.sha256)
    return None


def snapshot_refs(snapshots: Iterable[Snapshot]) -> list[Mapping[str, str]]:
    """How a checkpoint names the snapshots it measured."""
    return [{"source": s.source, "export": s.export, "sha256": s.sha256} for s in snapshots]
