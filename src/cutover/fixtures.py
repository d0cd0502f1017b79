"""Session fixtures: one place decides the target, starts what a seeded run needs, and stops it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cutover.config import Settings
from cutover.errors import ConfigError, SourceUnavailable
from cutover.ledger.records import Origin, Snapshot, parse
from cutover.ledger.signing import checker_for, signer_for
from cutover.ledger.view import LedgerView
from cutover.run.replay import replay_for
from cutover.scenarios.artifacts import ScenarioFiles, write_artifacts
from cutover.scenarios.ledger import seed_ledger
from cutover.scenarios.model import Scenario, load_scenario
from cutover.simulator import serve_simulator
from cutover.sources.database import LazyDatabase
from cutover.sources.exports import Exports
from cutover.sources.platform.fetch import (
    apply_snapshots,
    fetch_platforms,
    fetch_window,
    rollout_snapshot,
    wanted,
)
from cutover.sources.rlm_http import RlmEndpoints
from cutover.sources.vercel_env import (
    VARIABLE,
    RolloutSetting,
    percent_from_ledger,
    read_env_pull_file,
    write_env_pull_file,
)
from cutover.targets.base import DatabaseTarget
from cutover.targets.select import open_database_target
from cutover.targets.shared import once_per_run
from cutover.timeutil import utc_now


@pytest.fixture(scope="session")
def cutover_scenario(cutover_settings: Settings) -> Scenario | None:
    if cutover_settings.live:
        return None
    try:
        return load_scenario(cutover_settings.scenario)
    except ConfigError as exc:
        raise pytest.UsageError(f"cutover: {exc}") from None


def _once_per_run(
    factory: pytest.TempPathFactory,
    name: str,
    make: Callable[[], AbstractContextManager[dict[str, Any]]],
    *identity: object,
) -> AbstractContextManager[dict[str, Any]]:
    return once_per_run(factory.getbasetemp().parent, name, make, *identity)


@pytest.fixture(scope="session")
def cutover_target(
    cutover_settings: Settings,
    cutover_scenario: Scenario | None,
    cutover_as_of: datetime,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DatabaseTarget]:
    try:
        with database_target(
            cutover_settings, cutover_scenario, cutover_as_of, tmp_path_factory
        ) as target:
            yield target
    except ConfigError as exc:
        pytest.fail(f"cutover: {exc}", pytrace=False)


@contextmanager
def database_target(
    settings: Settings,
    scenario: Scenario | None,
    as_of: datetime,
    factory: pytest.TempPathFactory,
) -> Iterator[DatabaseTarget]:
    """The database measured; a seeded one is started and seeded once per run (under xdist,
    by the first worker that needs it). A live one is not shared: there is nothing to start,
    and its DSN's password stays off the disk."""
    if settings.live:
        with open_database_target(settings) as live:
            yield live
        return

    @contextmanager
    def seeded() -> Iterator[dict[str, Any]]:
        with open_database_target(settings, scenario, until=as_of) as target:
            yield asdict(target)

    identity = (settings.db, settings.postgres_image, scenario and scenario.name, as_of)
    with _once_per_run(factory, "target", seeded, *identity) as description:
        yield DatabaseTarget(**description)


@pytest.fixture(scope="session")
def cutover_db(
    cutover_target: DatabaseTarget, cutover_settings: Settings
) -> Iterator[LazyDatabase]:
    profile = cutover_settings.profile
    database = LazyDatabase(
        cutover_target.dsn,
        statement_timeout_ms=profile.statement_timeout_ms,
        connect_timeout_seconds=profile.connect_timeout_seconds,
    )
    yield database
    database.close()


def stages_named(config: pytest.Config) -> tuple[int, ...]:
    """The stages a `-m` expression names (`stage2_gate` -> 2)."""
    expression = str(config.getoption("markexpr", "") or "")
    return tuple(sorted({int(n) for n in re.findall(r"\bstage([1-4])_gate\b", expression)}))


@pytest.fixture(scope="session")
def cutover_as_of(
    cutover_settings: Settings, cutover_scenario: Scenario | None, pytestconfig: pytest.Config
) -> datetime:
    """The instant measured: a replayed checkpoint's, the setting, else the seeded scenario's
    own instant, else now."""
    replay = replay_for(pytestconfig, cutover_settings)
    if replay is not None:
        return replay.as_of
    if cutover_settings.as_of is not None:
        return cutover_settings.as_of
    if cutover_scenario is not None:
        return cutover_scenario.default_as_of
    return utc_now()


@pytest.fixture(scope="session")
def cutover_rlm(
    cutover_settings: Settings, cutover_scenario: Scenario | None
) -> Iterator[RlmEndpoints]:
    """Configured URLs win; a seeded run without them gets the local simulator for both."""
    url, local_url = cutover_settings.rlm_url, cutover_settings.rlm_local_url
    if cutover_scenario is None or (url is not None and local_url is not None):
        yield RlmEndpoints(url, local_url)
        return
    with serve_simulator(cutover_scenario.rlm) as simulator:
        yield RlmEndpoints(url or simulator.url, local_url or simulator.url)


@pytest.fixture(scope="session")
def cutover_rollout_setting(
    cutover_settings: Settings,
    cutover_scenario: Scenario | None,
    cutover_ledger: Callable[[], LedgerView],
    cutover_snapshots: tuple[Snapshot, ...],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[], RolloutSetting]:
    """How the configured V2_ROLLOUT_PERCENT is read: Vercel's API (a snapshot: fetched only
    when neither setting below is set, or the one a replayed checkpoint measured, whatever is
    configured now), the setting, a `vercel env pull` file, the seeded scenario's own env file,
    else the ledger's current stage (the contract's default: what was recorded, not what Vercel
    holds, and the evidence says so)."""
    env_file: Path | None = cutover_settings.vercel_env_file
    platform = any(s.export == "rollout" for s in cutover_snapshots)
    evidence = cutover_settings.evidence_dir
    if cutover_settings.rollout_percent is None and env_file is None and cutover_scenario:
        env_file = tmp_path_factory.mktemp("vercel") / ".env.local"
        values = {"RLM_API_URL": "http://127.0.0.1:8000"}
        if cutover_scenario.rollout_percent is not None:
            values[VARIABLE] = cutover_scenario.rollout_percent
        write_env_pull_file(env_file, values)

    def read() -> RolloutSetting:
        if platform:
            setting = rollout_snapshot(cutover_snapshots, evidence)
            assert setting is not None
            return setting
        if cutover_settings.rollout_percent is not None:
            origin = cutover_settings.origins.get("rollout_percent", "CUTOVER_ROLLOUT_PERCENT")
            return RolloutSetting(cutover_settings.rollout_percent, origin)
        if cutover_settings.vercel_env_file is not None:
            return read_env_pull_file(cutover_settings.vercel_env_file)
        if env_file is not None:
            return read_env_pull_file(env_file)
        return percent_from_ledger(cutover_ledger())

    return read


@pytest.fixture(scope="session")
def cutover_ledger(
    cutover_settings: Settings,
    cutover_scenario: Scenario | None,
    cutover_as_of: datetime,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Iterator[Callable[[], LedgerView]]:
    """A reader of this target's ledger as of the instant (replaying: as it stood before the
    replayed line); a broken chain makes it unavailable.

    A seeded run first writes the scenario's records, once per run: under xdist, two workers
    checking for them at the same time would both append them."""
    evidence = cutover_settings.evidence_dir
    scenario = cutover_scenario
    target = "live" if cutover_settings.live else "seeded"
    name = None if scenario is None else scenario.name
    replay = replay_for(pytestconfig, cutover_settings)
    before = None if replay is None else replay.line

    loaded: list[LedgerView | SourceUnavailable] = []

    def view() -> LedgerView:
        # The ledger does not change while the gates run (the checkpoint is appended after
        # them, and fetched snapshots are not read through the view), so it is read and
        # verified once per run; a broken one fails every reader.
        if not loaded:
            try:
                loaded.append(
                    LedgerView.load(
                        evidence,
                        cutover_as_of,
                        target=target,
                        scenario=name,
                        before_line=before,
                        check=checker_for(cutover_settings),
                    )
                )
            except SourceUnavailable as exc:
                loaded.append(exc)
        if isinstance(loaded[0], SourceUnavailable):
            raise loaded[0]
        return loaded[0]

    if scenario is None:
        yield view
        return

    @contextmanager
    def seeded() -> Iterator[dict[str, Any]]:
        seed_ledger(evidence, scenario, sign=signer_for(cutover_settings))
        yield {}

    with _once_per_run(tmp_path_factory, "ledger", seeded, str(evidence), scenario.name):
        yield view


@pytest.fixture(scope="session")
def cutover_exports(
    cutover_settings: Settings,
    cutover_scenario: Scenario | None,
    cutover_as_of: datetime,
    cutover_snapshots: tuple[Snapshot, ...],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Exports]:
    """Configured exports win, then the platform snapshots; a seeded run gets the scenario's
    for the rest, as exported at the instant (once per run: under xdist, the first worker that
    needs them writes them)."""
    settings = cutover_settings
    evidence = settings.evidence_dir
    if cutover_scenario is None:
        exports = Exports(
            settings.router_logs,
            settings.rlm_logs,
            settings.rlm_metrics,
            settings.router_log_date,
            settings.router_log_tz,
        )
        yield apply_snapshots(exports, cutover_snapshots, evidence)
        return
    scenario = cutover_scenario

    @contextmanager
    def written() -> Iterator[dict[str, Any]]:
        directory = tmp_path_factory.mktemp("exports")
        files = write_artifacts(scenario, directory, until=cutover_as_of)
        yield {name: str(path) for name, path in asdict(files).items()}

    with _once_per_run(tmp_path_factory, "exports", written, scenario.name, cutover_as_of) as paths:
        files = ScenarioFiles(**{name: Path(path) for name, path in paths.items()})
        exports = Exports(
            router_logs=_first(settings.router_logs, files.router_logs),
            rlm_logs=_first(settings.rlm_logs, files.rlm_logs),
            rlm_metrics=_first(settings.rlm_metrics, files.rlm_metrics),
            router_log_date=settings.router_log_date,
            router_log_tz=settings.router_log_tz,
        )
        yield apply_snapshots(exports, cutover_snapshots, evidence)


@pytest.fixture(scope="session")
def cutover_snapshots(
    request: pytest.FixtureRequest,
    cutover_settings: Settings,
    cutover_as_of: datetime,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Snapshot, ...]]:
    """The platform snapshots this run measures: fetched once per run for the window its gates
    need, when platform settings are set and the file settings they replace are not; replaying,
    the ones the replayed checkpoint measured."""
    replay = replay_for(request.config, cutover_settings)
    settings = cutover_settings
    if replay is not None or not wanted(settings):
        yield () if replay is None else replay.snapshots
        return
    origin = Origin() if settings.live else Origin.seeded(settings.scenario)
    stages = stages_named(request.config)

    @contextmanager
    def fetched() -> Iterator[dict[str, Any]]:
        try:
            view = request.getfixturevalue("cutover_ledger")()
        except SourceUnavailable:  # a broken ledger: the look-back alone (its gates say why)
            view = LedgerView([], cutover_as_of)
        window = fetch_window(view, settings.profile, cutover_as_of, stages)
        taken = fetch_platforms(settings, window, origin)
        yield {"snapshots": [record.to_json() for record in taken]}

    identity = (str(settings.evidence_dir), cutover_as_of, stages)
    with _once_per_run(tmp_path_factory, "platform", fetched, *identity) as description:
        taken = tuple(parse(0, data) for data in description["snapshots"])
        yield tuple(s for s in taken if isinstance(s, Snapshot))


def _first(*paths: Path | None) -> Path | None:
    return next((p for p in paths if p is not None), None)
