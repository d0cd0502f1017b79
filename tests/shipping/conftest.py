"""Fixtures for the project as shipped: the wheel and sdist built from the repository's files, a
virtualenv with the wheel installed, and a CI machine (ci_machine) whose forge holds the
repository with the templates copied where a user puts them, against a "live" target: an
embedded Postgres seeded with healthy-rollout, the RLM simulator, and the platforms the gate
fetches from itself (no export script): a fake of Render's API serving the scenario's RLM log
and metrics, and a drain store holding its router log as `cutover drain serve` writes it.

Under xdist the build and the installs are made once per run (cutover.targets.shared)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ci_machine import Machine

from cutover.loopback import serve
from cutover.scenarios.artifacts import write_artifacts
from cutover.scenarios.model import load_scenario
from cutover.scenarios.seed import seed_database
from cutover.simulator import serve_simulator
from cutover.sources.platform.drain import DrainStore
from cutover.targets.embedded import embedded_postgres
from cutover.targets.shared import once_per_run
from platform_fakes import (
    OWNER,
    RENDER_KEY,
    SERVICE,
    RenderFake,
    drain_objects,
    metric_series,
    render_logs_from_text,
    with_health_every,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "healthy-rollout"


def repository_files() -> list[str]:
    """What a clone holds: the tracked files, and new ones not ignored (uncommitted work)."""
    done = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in done.stdout.splitlines() if (ROOT / name).is_file()]


def copy_repository(target: Path) -> Path:
    for name in repository_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def runner_env() -> dict[str, str]:
    """This machine's environment as a runner's: no project virtualenv, no suite settings."""
    venv = str(ROOT / ".venv")
    path = [p for p in os.environ["PATH"].split(":") if p and not p.startswith(venv)]
    dropped = ("CUTOVER_", "PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "GIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**env, "PATH": ":".join(path)}


def _shared(factory: pytest.TempPathFactory, name: str, make: Any) -> Any:
    return once_per_run(factory.getbasetemp().parent, name, make, name, str(ROOT))


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A directory outside pytest's: each pytest run (the suite runs inside the tests are pytest
    runs) resets its base directory to 0700, and the embedded Postgres server, which runs as
    another user, would lose its way to the binaries and time zone files of a virtualenv there."""
    directory = Path(tempfile.mkdtemp(prefix=f"cutover-{name}-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The wheel and the sdist, built as a release is: `python -m build` (the wheel from the
    sdist) on a copy of the repository's files."""

    @contextmanager
    def build() -> Iterator[dict[str, Any]]:
        work = tmp_path_factory.mktemp("build")
        source = copy_repository(work / "source")
        dist = work / "dist"
        done = subprocess.run(
            [sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
            capture_output=True,
            text=True,
            env=runner_env(),
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        [wheel] = dist.glob("*.whl")
        [sdist] = dist.glob("*.tar.gz")
        yield {"wheel": str(wheel), "sdist": str(sdist)}

    with _shared(tmp_path_factory, "built", build) as paths:
        yield {name: Path(path) for name, path in paths.items()}


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, built: dict[str, Path]) -> Iterator[Path]:
    """A new virtualenv with the wheel installed, dependencies and all, as a user gets it."""

    @contextmanager
    def install() -> Iterator[dict[str, Any]]:
        with scratch("installed") as directory:
            yield from _install(directory / "v", built["wheel"])

    with _shared(tmp_path_factory, "installed", install) as paths:
        yield Path(paths["venv"])


def _install(venv: Path, wheel: Path) -> Iterator[dict[str, Any]]:
    """A new virtualenv at `venv` with the wheel installed (its dependencies from PyPI)."""
    env = runner_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    yield {"venv": str(venv)}


@pytest.fixture(scope="session")
def dependencies(tmp_path_factory: pytest.TempPathFactory, installed: Path) -> Iterator[Path]:
    """The installed virtualenv without cutover-gates itself: what each job's Python starts as."""

    @contextmanager
    def strip() -> Iterator[dict[str, Any]]:
        with scratch("dependencies") as directory:
            venv = directory / "v"
            subprocess.run(["cp", "-al", str(installed), str(venv)], check=True)
            python = str(venv / "bin" / "python")
            uninstall = [python, "-m", "pip", "uninstall", "--quiet", "--yes", "cutover-gates"]
            subprocess.run(uninstall, check=True, env=runner_env())
            yield {"venv": str(venv)}

    with _shared(tmp_path_factory, "dependencies", strip) as paths:
        yield Path(paths["venv"])


@dataclass(frozen=True)
class Live:
    """The target the jobs measure as production."""

    dsn: str  # the read-only role's, with its password: a secret
    rlm_url: str
    render_url: str  # the Render API fake: the runner reaches it as api.render.com
    drain_store: Path  # the folder a drain receiver fills, readable by the runner
    t0: datetime  # stage 1 starts

    def at(self, hours: float) -> str:
        return (self.t0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def platform_secrets(self) -> dict[str, str]:
        return {"RENDER_API_KEY": RENDER_KEY}

    @property
    def platform_variables(self) -> dict[str, str]:
        """Render for the RLM's logs and metrics, the drain store for the router's logs; no
        Vercel project (the rollout percent is the operator's variable or the ledger's stage)."""
        return {
            "CUTOVER_RENDER_SERVICE": SERVICE,
            "CUTOVER_RENDER_OWNER": OWNER,
            "CUTOVER_DRAIN_STORE": str(self.drain_store),
        }


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One target for the whole run, under xdist too: the jobs only read it (each job's ledger
    is its own evidence directory's), so every test of every worker can share it."""

    @contextmanager
    def start() -> Iterator[dict[str, Any]]:
        scenario = load_scenario(SCENARIO)
        t0 = scenario.at(scenario.stages[0].at)
        until = t0 + timedelta(hours=25)
        with scratch("platforms") as directory:
            files = write_artifacts(scenario, directory / "exports", until=until)
            # Render's probes leave a health check a minute: the log's gaps are proven by them
            with_health_every(files.rlm_logs, t0 - timedelta(hours=2), until, timedelta(minutes=1))
            drain = directory / "drain"
            DrainStore(drain).append(drain_objects(files.router_logs))
            render = RenderFake(
                render_logs_from_text(files.rlm_logs), metric_series(files.rlm_metrics)
            )
            with (
                embedded_postgres() as admin,
                serve_simulator(scenario.rlm) as rlm,
                serve(render.app(), name="render-fake") as render_url,
            ):
                seeded = seed_database(admin, scenario)
                yield {
                    "dsn": seeded.reader_dsn,
                    "rlm_url": rlm.url,
                    "render_url": render_url,
                    "drain_store": str(drain),
                    "t0": t0.isoformat(),
                }

    with _shared(tmp_path_factory, "live", start) as found:
        yield Live(
            found["dsn"],
            found["rlm_url"],
            found["render_url"],
            Path(found["drain_store"]),
            datetime.fromisoformat(found["t0"]),
        )


def _forge(root: Path) -> Path:
    """The repository as a user of the templates has it, pushed to a bare "forge" repository:
    the project, the workflows in .github/workflows, .gitlab-ci.yml."""
    work = copy_repository(root / "project")
    workflows = work / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for template in (ROOT / "ci-templates" / "github").glob("*.yml"):
        shutil.copy2(template, workflows / template.name)
    shutil.copy2(ROOT / "ci-templates" / "gitlab" / ".gitlab-ci.yml", work / ".gitlab-ci.yml")
    identity = ["-c", "user.name=operator", "-c", "user.email=operator@example.com"]
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        [*identity, "commit", "--quiet", "-m", "cutover-gates with the CI templates"],
        ["init", "--quiet", "--bare", "--initial-branch=main", str(root / "forge.git")],
        ["push", "--quiet", str(root / "forge.git"), "main"],
    ):
        subprocess.run(["git", *command], cwd=work, check=True, capture_output=True)
    return root / "forge.git"


@pytest.fixture
def machine(live: Live, dependencies: Path) -> Iterator[Machine]:
    with scratch("ci") as root:
        remote = _forge(root)
        (root / "pip-cache").mkdir()
        # where this runner reaches Render's API (the fake, not api.render.com)
        env = {**runner_env(), "CUTOVER_RENDER_API_URL": live.render_url}
        yield Machine(root, remote, dependencies, root / "pip-cache", env)


def evidence_branch(machine: Machine, into: Path) -> Path:
    """The evidence branch as a reader clones it (a new directory, no cache)."""
    subprocess.run(
        ["git", "clone", "--quiet", "--branch", "cutover-evidence", str(machine.remote), str(into)],
        check=True,
        capture_output=True,
    )
    return into
