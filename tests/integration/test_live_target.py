"""A live-DSN run against a second real Postgres standing in for production: read-only, no
password in the evidence, and an unreachable database is inconclusive, never a pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cutover.loopback import free_port
from cutover.profile import Profile
from cutover.scenarios.model import Rlm, load_scenario
from cutover.scenarios.seed import seed_database
from cutover.simulator import serve_simulator
from cutover.sources.database import connect
from cutover.targets.embedded import embedded_postgres
from suite_runner import run_suite

TIMEOUTS = {
    "statement_timeout_ms": Profile().statement_timeout_ms,
    "connect_timeout_seconds": Profile().connect_timeout_seconds,
}

AS_OF = "2026-02-02T08:00:00Z"
CHECKSUM = "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY user_id)) FROM user_profiles t"


@pytest.fixture(scope="module")
def production() -> Iterator[tuple[str, str]]:
    """(admin DSN, the suite's read-only DSN with a password) of a seeded 'production' server."""
    with embedded_postgres() as admin_dsn:
        seeded = seed_database(admin_dsn, load_scenario("healthy-rollout"))
        yield admin_dsn, seeded.reader_dsn


@pytest.fixture(scope="module")
def rlm_url() -> Iterator[str]:
    with serve_simulator(Rlm()) as simulator:
        yield simulator.url


def _live_env(dsn: str, rlm: str) -> dict[str, str]:
    return {
        "CUTOVER_DATABASE_URL": dsn,
        "CUTOVER_RLM_URL": rlm,
        "CUTOVER_RLM_LOCAL_URL": rlm,
        "CUTOVER_ROLLOUT_PERCENT": "0",
        "CUTOVER_AS_OF": AS_OF,
    }


def _password(dsn: str) -> str:
    password = psycopg.conninfo.conninfo_to_dict(dsn)["password"]
    assert isinstance(password, str) and len(password) >= 16
    return password


def _evidence_text(run_dir: Path) -> str:
    return "\n".join(p.read_text() for p in run_dir.rglob("*") if p.is_file())


def test_live_run_passes_read_only_and_keeps_the_password_out(
    tmp_path: Path, production: tuple[str, str], rlm_url: str
) -> None:
    admin_dsn, reader_dsn = production
    with psycopg.connect(admin_dsn) as conn:
        before = conn.execute(CHECKSUM).fetchone()

    run = run_suite(tmp_path, env=_live_env(reader_dsn, rlm_url))

    assert run.exit_code == 0, run.output
    assert set(run.verdicts.values()) == {"pass"} and len(run.verdicts) == 6, run.output
    assert {p["target"] for p in run.properties.values()} == {"live"}
    assert run.verdict_line == "cutover verdict: PROCEED — prereq — none"
    password = _password(reader_dsn)
    assert password not in run.output
    assert password not in _evidence_text(tmp_path)
    with psycopg.connect(admin_dsn) as conn:
        assert conn.execute(CHECKSUM).fetchone() == before


def test_live_sessions_reject_writes(production: tuple[str, str]) -> None:
    _, reader_dsn = production
    with (
        connect(reader_dsn, **TIMEOUTS) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("UPDATE user_profiles SET display_name = 'x'")


def test_unreachable_database_is_inconclusive_not_a_pass(tmp_path: Path, rlm_url: str) -> None:
    dsn = f"postgresql://cutover:Sup3rS3cretPassw0rd@127.0.0.1:{free_port()}/postgres"
    run = run_suite(tmp_path, env=_live_env(dsn, rlm_url))

    database_criteria = (
        "prereq.migration_columns",
        "prereq.validation_queries",
        "prereq.read_only_access",
    )
    for criterion in database_criteria:
        assert run.verdicts[criterion] == "inconclusive", run.output
    assert run.exit_code == 6, run.output
    assert run.verdict_line.startswith("cutover verdict: HOLD — prereq — ")
    assert "Sup3rS3cretPassw0rd" not in run.output
    assert "Sup3rS3cretPassw0rd" not in _evidence_text(tmp_path)


def test_xdist_workers_keep_a_live_password_off_the_disk(tmp_path: Path, rlm_url: str) -> None:
    """Workers share a seeded target through pytest's temporary directory; a live one is not
    shared, so its DSN is written nowhere."""
    dsn = f"postgresql://cutover:Sup3rS3cretPassw0rd@127.0.0.1:{free_port()}/postgres"
    basetemp = tmp_path / "basetemp"
    run = run_suite(tmp_path, f"--basetemp={basetemp}", env=_live_env(dsn, rlm_url), workers=2)

    assert run.verdicts["prereq.validation_queries"] == "inconclusive", run.output
    assert "bringing up nodes" in run.output  # xdist ran
    assert "Sup3rS3cretPassw0rd" not in run.output
    assert "Sup3rS3cretPassw0rd" not in _evidence_text(tmp_path)


def test_without_a_vercel_source_the_percent_comes_from_the_ledger(
    tmp_path: Path, production: tuple[str, str], rlm_url: str
) -> None:
    """The contract's default: the ledger's current stage, said plainly in the evidence."""
    from cutover.cli import main

    evidence = tmp_path / "evidence"
    assert (
        main(
            [
                "--evidence-dir",
                str(evidence),
                "rollback",
                "--reason",
                "drill",
                "--at",
                "2026-02-02T07:00:00Z",
            ]
        )
        == 0
    )
    env = _live_env(production[1], rlm_url)
    del env["CUTOVER_ROLLOUT_PERCENT"]
    run = run_suite(
        tmp_path, "-k", "percent_zero", marker="rollback_verify", paths=("tests/rollback",), env=env
    )
    props = run.properties["rollback_verify.percent_zero"]
    assert props["verdict"] == "pass", run.output
    assert props["source"].startswith("ledger: rollback recorded 2026-02-02T07:00:00Z")
    assert "not read from Vercel" in props["source"]
