"""`cutover seed` against a running local Postgres that refuses the credentials: one line
naming the URL (password masked) and what was expected, exit 2, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cutover.cli import main
from cutover.targets.embedded import embedded_postgres


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with embedded_postgres() as dsn:
        yield dsn


def test_seed_with_credentials_the_server_refuses(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = psycopg.conninfo.conninfo_to_dict(server)["host"]
    url = f"postgresql://nobody:Wr0ngPassw0rd@/postgres?host={host}"
    code = main(
        ["--evidence-dir", str(tmp_path), "seed", "--db-url", url, "--scenario", "healthy-rollout"]
    )
    assert code == 2
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert line.startswith("cutover: seed: --db-url postgresql://nobody:***@/postgres")
    assert 'role "nobody" does not exist' in line
    assert "expected a running local Postgres that accepts this role and password" in line
    assert "Wr0ngPassw0rd" not in captured.err + captured.out
