"""The container target (--db=docker) against a real Docker engine and the locally built image.

Without a Docker engine the real-container tests are skipped, except under CI (env CI set), where
they fail: CI must prove the container target (scripts/ci-prepare-docker.sh prepares it).
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from cutover.errors import ConfigError
from cutover.targets.docker import postgres_container
from suite_runner import run_suite

IMAGE = os.environ.get("CUTOVER_POSTGRES_IMAGE", "cutover-postgres:15")


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _engine_problem() -> str | None:
    """Why no Docker engine can be used here, or None when one answers."""
    try:
        import docker
    except ImportError:
        return "the docker extra is not installed (pip install 'cutover-gates[docker]')"
    try:
        client = docker.from_env()
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # docker.errors.DockerException, requests' ConnectionError, ...
        return f"no Docker engine answers ({type(exc).__name__}: {exc})"
    return None


def _require_docker_engine() -> None:
    """Skip without a Docker engine, or fail when CI is set (CI must prove this target)."""
    problem = _engine_problem()
    if problem is None:
        return
    hint = "run scripts/ci-prepare-docker.sh to install/start dockerd and build the image"
    if _ci():
        pytest.fail(f"CI is set, so the docker target must be tested, but {problem}; {hint}")
    pytest.skip(f"{problem}; {hint} (under CI this fails instead of skipping)")


def test_container_runs_real_queries() -> None:
    _require_docker_engine()
    with postgres_container(IMAGE) as dsn:
        assert dsn.startswith("postgresql://")
        assert "@127.0.0.1:" in dsn
        with psycopg.connect(dsn) as conn:
            conn.execute("CREATE TABLE gate_probe (id int PRIMARY KEY, label text NOT NULL)")
            conn.execute(
                "INSERT INTO gate_probe (id, label) VALUES (%s, %s), (%s, %s)",
                (1, "v1", 2, "v2"),
            )
            conn.commit()
        # a second connection sees the committed rows
        with psycopg.connect(dsn) as conn:
            rows = conn.execute("SELECT id, label FROM gate_probe ORDER BY id").fetchall()
            server_version = conn.info.server_version
    assert rows == [(1, "v1"), (2, "v2")]
    assert server_version // 10000 == 15
    # the container is gone afterwards
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2).close()


def test_missing_image_is_a_config_error_not_a_pull() -> None:
    _require_docker_engine()
    with pytest.raises(ConfigError, match="make docker-image"):
        with postgres_container("cutover-postgres:no-such-tag"):
            pass  # pragma: no cover


def test_unreachable_engine_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Always runs: a dead DOCKER_HOST (or a missing extra) is a ConfigError naming --db=docker."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    with pytest.raises(ConfigError) as excinfo:
        with postgres_container(IMAGE):
            pass  # pragma: no cover
    message = str(excinfo.value)
    assert "--db=docker" in message
    try:
        import testcontainers  # noqa: F401
    except ImportError:  # without the extra, the message says how to install it
        assert "pip install 'cutover-gates[docker]'" in message
    else:
        assert "no Docker engine is reachable" in message
        assert "scripts/ci-prepare-docker.sh" in message


def test_prerequisites_pass_on_a_seeded_container(tmp_path: Path) -> None:
    """The same suite, seeded the same way, in a testcontainers PostgresContainer."""
    _require_docker_engine()
    run = run_suite(
        tmp_path, "--db=docker", "--scenario=healthy-rollout", env={"CUTOVER_POSTGRES_IMAGE": IMAGE}
    )
    assert run.exit_code == 0, run.output
    assert set(run.verdicts.values()) == {"pass"}, run.output
    assert len(run.verdicts) == 6
    assert {props["target"] for props in run.properties.values()} == {"seeded"}
