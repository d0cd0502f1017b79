"""The container target (--db=docker): a throw-away Postgres in Docker, via testcontainers.

The image is built locally by scripts/build-postgres-image.sh (`make docker-image`): where the
suite runs, no registry image can be pulled, so a missing image is reported, never pulled.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from cutover.errors import ConfigError
from cutover.redact import redact_url

READY_TIMEOUT_S = 30.0
"""How long the server may take, after testcontainers' own wait, to answer `SELECT 1` from here."""

_POLL_INTERVAL_S = 0.25
_PG_PORT = 5432
_USER = "cutover"
_DB = "cutover"
_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1", "0.0.0.0"})

_MISSING_EXTRA = "--db=docker needs the docker extra: pip install 'cutover-gates[docker]'"


def _disable_ryuk() -> None:
    """Turn off testcontainers' reaper (Ryuk) unless the user decided otherwise.

    Ryuk is a sidecar container (testcontainers/ryuk) that removes leftovers when the test process
    dies. Its image comes from a registry, and where this suite runs none can be pulled, so
    starting it would fail (or hang) before our container even starts. We remove our container
    ourselves in `postgres_container`'s `finally`. testcontainers reads the setting lazily, so this
    must run before the first container is started (we also run it before importing).
    """
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")


def _engine_unreachable(exc: BaseException) -> ConfigError:
    where = os.environ.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    return ConfigError(
        f"CUTOVER_DB=docker / --db=docker: no Docker engine is reachable at {where} ({exc}); "
        "run scripts/ci-prepare-docker.sh to install and start one, "
        "or unset CUTOVER_DB / drop --db=docker to use the embedded default"
    )


def _load_postgres_container_class() -> Any:
    """testcontainers' PostgresContainer class, imported on first use (the extra is optional)."""
    _disable_ryuk()
    try:
        import docker.errors  # noqa: F401  (testcontainers' own dependency, checked here too)
        import testcontainers.core.container  # noqa: F401
    except ImportError as exc:
        raise ConfigError(_MISSING_EXTRA) from exc
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers < 4.14 had no `community` package
        try:
            from testcontainers.postgres import PostgresContainer
        except ImportError as exc:
            raise ConfigError(_MISSING_EXTRA) from exc
    return PostgresContainer


def _candidate_dsns(container: Any) -> list[str]:
    """DSNs that may reach the container from here, best first.

    For a local engine: 127.0.0.1 and the mapped port ("localhost" may resolve to ::1, where
    Docker may not publish). testcontainers' own choice comes second: when it finds /.dockerenv
    it assumes Docker-outside-of-Docker (a sibling container) and answers the bridge gateway,
    which is wrong for an engine running in our own network namespace, as in CI here, but right
    for a job container that only has the host's socket mounted. For a remote engine
    (DOCKER_HOST=tcp://...) only testcontainers' choice makes sense.
    """
    tc_dsn = str(container.get_connection_url(driver=None))
    docker_client = container.get_docker_client()
    if str(docker_client.host()) not in _LOCAL_HOSTS:
        return [tc_dsn]
    port = int(docker_client.port(container.get_container_id(), _PG_PORT))
    password = quote(str(container.password), safe="")
    local_dsn = f"postgresql://{_USER}:{password}@127.0.0.1:{port}/{_DB}"
    return [local_dsn] if tc_dsn == local_dsn else [local_dsn, tc_dsn]


def _container_log_tail(container: Any, lines: int = 20) -> str:
    """The last lines of the container's log, for error messages; empty when unavailable."""
    try:
        raw = container.get_wrapped_container().logs(tail=lines)
    except Exception:  # best effort: this only decorates an error that is already on its way
        return ""
    return raw.decode("utf-8", "replace").strip() if isinstance(raw, bytes) else str(raw).strip()


def wait_for_select_1(dsns: Sequence[str], timeout_s: float = READY_TIMEOUT_S) -> str:
    """Retry a real `SELECT 1` on each DSN in turn until one succeeds; return that DSN.

    The idea of testcontainers' ExecWaitStrategy, run from this side of the port mapping: it
    proves that the DSN we hand out works, not only that the server answers inside the container.
    Raises TimeoutError after `timeout_s`, naming the last connection error of each DSN.
    """
    import psycopg

    deadline = time.monotonic() + timeout_s
    last_errors: dict[str, Exception] = {}
    while True:
        for dsn in dsns:
            remaining = deadline - time.monotonic()
            try:
                # libpq rounds connect_timeout up to at least 2 s
                with psycopg.connect(dsn, connect_timeout=max(2, int(remaining))) as conn:
                    conn.execute("SELECT 1").fetchone()
                return dsn
            except psycopg.Error as exc:
                last_errors[dsn] = exc
        if time.monotonic() + _POLL_INTERVAL_S >= deadline:
            tried = "; ".join(f"{redact_url(d)}: {e}" for d, e in last_errors.items())
            raise TimeoutError(
                f"Postgres did not answer SELECT 1 within {timeout_s:.0f} s; last errors: {tried}"
            )
        time.sleep(_POLL_INTERVAL_S)


@contextmanager
def postgres_container(image: str) -> Iterator[str]:
    """Start a PostgresContainer from `image`; yield an admin DSN.

    The DSN is `postgresql://user:pass@127.0.0.1:PORT/db` (no SQLAlchemy driver suffix). The
    container is removed on exit. Raises ConfigError when the docker extra is not installed, no
    Docker engine answers, or `image` is not present locally (it is never pulled).
    """
    postgres_container_class = _load_postgres_container_class()
    from docker.errors import DockerException, ImageNotFound

    try:
        # Creating the container object connects to the engine (docker.from_env).
        container = postgres_container_class(
            image,
            port=_PG_PORT,
            username=_USER,
            password=secrets.token_urlsafe(16),
            dbname=_DB,
            driver=None,
        )
        client = container.get_docker_client().client
        client.ping()
    except (DockerException, OSError) as exc:
        raise _engine_unreachable(exc) from exc

    # testcontainers pulls a missing image, which hangs or fails without a registry: check first.
    try:
        client.images.get(image)
    except ImageNotFound as exc:
        raise ConfigError(
            f"CUTOVER_DB=docker / --db=docker: the image {image!r} (CUTOVER_POSTGRES_IMAGE) is not "
            "present in the local Docker engine; build it with `make docker-image` "
            "(scripts/build-postgres-image.sh); it cannot be pulled"
        ) from exc
    except (DockerException, OSError) as exc:
        raise _engine_unreachable(exc) from exc

    try:
        # start() also waits with testcontainers' own strategy: psql inside the container.
        container.start()
        try:
            dsn = wait_for_select_1(_candidate_dsns(container))
        except TimeoutError as exc:
            logs = _container_log_tail(container)
            raise TimeoutError(f"{exc}\ncontainer log (last lines):\n{logs}") from exc
        yield dsn
    finally:
        # Also after a failed start: Ryuk is off, so nobody else would remove it.
        try:
            container.stop()
        except Exception:  # never mask the body's own exception
            pass
