"""One seeded target (and one set of exports, one ledger seeding) for all xdist workers of a run.

Under `pytest -n N` every worker runs the session fixtures: N servers started and seeded with
the same scenario. Instead, the first worker to need a resource makes it and publishes a small
JSON description in a directory all workers of the run share (pytest's base temporary
directory); the others read it. Each worker registers (with its process id) while it uses the
resource; the maker tears it down only when no other running worker is registered (a crashed
worker never leaves), and a worker that comes after that makes its own. The description may
hold the seeded server's throw-away reader password: it is written owner-only (0600) into
pytest's per-user temporary directory, never printed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

WAIT_SECONDS = 1800.0  # at most, the maker waits this long for the other workers
_POLL_SECONDS = 0.05
_VALUE = "value.json"


def once_per_run(
    base: Path,
    name: str,
    make: Callable[[], AbstractContextManager[dict[str, Any]]],
    *identity: object,
) -> AbstractContextManager[dict[str, Any]]:
    """`make()`, or under xdist the one description all workers of the run share. `base` is
    the directory all of them share (pytest's base temporary directory's parent); `identity`
    (the scenario, the instant...) is part of the shared name: only the same thing is shared."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return make()
    digest = hashlib.sha256(repr(identity).encode()).hexdigest()[:12]
    return shared_by_workers(base / f"cutover-{name}-{digest}", worker, make)


@contextmanager
def shared_by_workers(
    directory: Path,
    worker: str,
    make: Callable[[], AbstractContextManager[dict[str, Any]]],
) -> Iterator[dict[str, Any]]:
    """Yield the resource `make` describes, made once among the workers that share `directory`.

    `make` is a context manager factory yielding a JSON-serialisable description; it runs in the
    first worker that asks, and its exit runs once no other worker uses the resource."""
    users = directory / "users"
    users.mkdir(parents=True, exist_ok=True)
    me = users / worker
    with ExitStack() as owned:
        with _locked(directory):
            value_file = directory / _VALUE
            if value_file.exists():
                description = json.loads(value_file.read_text(encoding="utf-8"))
            else:
                description = owned.enter_context(make())
                owned.callback(_wait_for_others, directory, users)  # runs before make's exit
                _write_private(value_file, json.dumps(description))
            me.write_text(str(os.getpid()), encoding="utf-8")
        try:
            yield description
        finally:
            me.unlink(missing_ok=True)


def _wait_for_others(directory: Path, users: Path) -> None:
    """Until no other running worker is registered; then withdraw the description (under the
    lock, so a late worker either registered before or makes its own)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with _locked(directory):
            if not any(_alive(user) for user in users.iterdir()) or time.monotonic() > deadline:
                (directory / _VALUE).unlink(missing_ok=True)
                return
        time.sleep(_POLL_SECONDS)


def _alive(user: Path) -> bool:
    """Whether the worker that registered as `user` still runs (a crashed one never leaves)."""
    try:
        pid = int(user.read_text(encoding="utf-8"))
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError):
        return True  # gone meanwhile, being written, or not ours to signal: wait for it
    return True


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / "lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
