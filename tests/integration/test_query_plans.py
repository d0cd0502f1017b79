"""EXPLAIN every query the suite runs on a table big enough for the planner to prefer an index:
each reads user_profiles through an index of sql/indexes.sql, never by a sequential scan, so its
cost follows the window it measures and not the size of the table.

The queries run through the suite's own readers (`prereq_db`, `imports`, `measure.rollback`) on a
recording `Database` that also EXPLAINs each statement with the parameters it was given.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from cutover.ledger.records import Entry, Origin, StageStarted
from cutover.ledger.view import LedgerView
from cutover.measure import Inputs, rollback
from cutover.outcome import Window
from cutover.paths import sql_dir
from cutover.profile import Profile
from cutover.sources import imports, prereq_db
from cutover.sources.database import Database, QueryResult, connect, load_query
from cutover.targets.embedded import embedded_postgres

TIMEOUTS = {
    "statement_timeout_ms": Profile().statement_timeout_ms,
    "connect_timeout_seconds": Profile().connect_timeout_seconds,
}

AS_OF = datetime(2026, 2, 3, 9, tzinfo=UTC)
# one year of imports, ~23 an hour: a 24 h window is ~0.3% of the table; bench/plans_bench.py
# runs this file with a million rows and prints every plan
ROWS = int(os.environ.get("CUTOVER_PLAN_ROWS", "200000"))
YEAR = timedelta(days=365)

# Rows i = 1..ROWS evenly over the year up to AS_OF: one in 67 failed, one in 4,001 still
# processing, the rest complete in 4 minutes (so the last few minutes' end after AS_OF).
# Plus 300 users v2 never touched (pending, no timestamps).
ROWS_SQL = """
INSERT INTO public.user_profiles (id, user_id, full_pass_status, full_pass_started_at,
    full_pass_completed_at, full_pass_error, memory_md, pipeline_version)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('00000001-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       status, started,
       CASE WHEN status = 'complete' THEN started + interval '4 minutes' END,
       CASE WHEN status = 'failed' THEN 'Pipeline failed: ValueError: bad export' END,
       CASE WHEN status = 'complete' THEN '# Memory' END,
       CASE WHEN i %% 3 = 0 THEN 'v1' ELSE 'v2' END
FROM generate_series(1, %(rows)s) AS i,
     LATERAL (SELECT %(as_of)s::timestamptz - %(year)s::interval * (1 - i::float8 / %(rows)s),
                     CASE WHEN i %% 67 = 0 THEN 'failed'
                          WHEN i %% 4001 = 0 THEN 'processing'
                          ELSE 'complete' END) AS r(started, status)
"""
PENDING_SQL = """
INSERT INTO public.user_profiles (user_id, full_pass_status)
SELECT ('00000002-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'pending'
FROM generate_series(1, 300) AS i
"""

# Statements that cannot use an index on user_profiles, and why. Their plans are still checked
# for a sequential scan of user_profiles (there is none: they do not read it).
NO_INDEX = {
    "migration_columns": "reads information_schema.columns (a catalog), not user_profiles",
    "status_check": "reads pg_constraint, pg_class, pg_namespace (catalogs)",
    "table_access": "reads pg_class, pg_roles, pg_policies (catalogs) and settings",
}
# Files in sql/ the suite never EXPLAINs here, and why.
NOT_EXPLAINED = {
    "schema": "DDL: creates the table (seeding only)",
    "indexes": "DDL: creates the indexes (seeding only)",
    "write_probe": (
        "UPDATE ... WHERE false, run only to see a read-only session reject it; the planner "
        "proves it empty (One-Time Filter: false) and it reads no row"
    ),
}
SCANS = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}
INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


class ExplainingDatabase(Database):
    """Runs each query file as the suite does, and keeps its plan for the same parameters."""

    def __init__(self, connection: psycopg.Connection[dict[str, Any]]) -> None:
        super().__init__(connection)
        self.plans: dict[str, list[dict[str, Any]]] = {}

    def run(self, name: str, params: Any = None) -> QueryResult:
        result = super().run(name, params)
        text = b"EXPLAIN (FORMAT JSON) " + load_query(name).text.encode()
        row = self.connection.execute(text, params).fetchone()
        assert row is not None
        self.plans.setdefault(name, []).append(row["QUERY PLAN"][0]["Plan"])
        return result


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A year of imports, the project's indexes, statistics; pipeline_version for Query 5."""
    with embedded_postgres() as dsn:
        with psycopg.connect(dsn, autocommit=True, options="-c TimeZone=UTC") as conn:
            conn.execute(load_query("schema").text.encode())
            conn.execute("ALTER TABLE public.user_profiles ADD COLUMN pipeline_version text")
            conn.execute(ROWS_SQL.encode(), {"rows": ROWS, "as_of": AS_OF, "year": YEAR})
            conn.execute(PENDING_SQL.encode())
            conn.execute(load_query("indexes").text.encode())
            conn.execute("VACUUM (ANALYZE) public.user_profiles")
        yield dsn


@pytest.fixture(scope="module")
def plans(server: str) -> dict[str, list[dict[str, Any]]]:
    """Every query the prerequisites, the stage gates and the rollback triggers run."""
    profile = Profile()
    stuck = profile.stuck_after_minutes
    stage = Window(AS_OF - timedelta(hours=24), AS_OF)
    with connect(server, **TIMEOUTS) as connection:
        db = ExplainingDatabase(connection)
        # prerequisites (an hour before stage 1 starts, as the demo runs them)
        runs = prereq_db.run_validation_queries(
            db,
            AS_OF - timedelta(hours=1),
            stuck,
            window=timedelta(hours=profile.query_window_hours),
            timeline_window=timedelta(hours=profile.timeline_window_hours),
        )
        assert [run.error for run in runs] == [None] * len(runs), runs
        prereq_db.read_migration_columns(db)
        prereq_db.read_table_access(db)
        # stage gates (a stage window of 24 h; the measure functions read through these)
        imports.read_success(db, stage, stuck)
        imports.read_stuck(db, AS_OF, stuck)
        imports.read_durations(db, stage, profile.slow_import_minutes)
        imports.read_error_patterns(db, stage, 1000)
        imports.read_error_hours(db, stage)
        imports.read_timeline(db, stage)
        # rollback triggers and the rollback check
        # a ledger with stage 1 started a day ago: the rates' stream is the stage to date
        started = StageStarted(1, 10, AS_OF - timedelta(hours=30), Origin.seeded("plans"))
        ledger = LedgerView([Entry(1, started.to_json())], AS_OF)
        inputs = Inputs(profile, AS_OF, database=lambda: db, ledger=lambda: ledger)
        for measurement in (
            rollback.recent_success,
            rollback.stuck_now,
            rollback.slow_history,
            rollback.integrity,
        ):
            measurement(inputs, "rollback")
        rolled_back = AS_OF - timedelta(hours=1)
        lookback = Window(rolled_back - timedelta(hours=profile.in_flight_lookback_hours), AS_OF)
        imports.read_in_flight(db, lookback, rolled_back)
        if os.environ.get("CUTOVER_PLAN_PRINT"):
            for name, found in sorted(db.plans.items()):
                print(f"\n== {name} ({ROWS:,} rows)\n" + "\n".join(describe(p) for p in found))
        return db.plans


@pytest.fixture(scope="module")
def window_indexes(server: str) -> set[str]:
    """The indexes of sql/indexes.sql (not the primary key or the unique user_id)."""
    with psycopg.connect(server) as conn:
        rows = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename = 'user_profiles' AND indexdef LIKE '%full_pass_%'"
        ).fetchall()
    return {row[0] for row in rows}


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def describe(plan: dict[str, Any], depth: int = 0) -> str:
    """The plan's shape, one node a line, for failure messages."""
    what = plan["Node Type"]
    if "Relation Name" in plan:
        what += f" on {plan['Relation Name']}"
    if "Index Name" in plan:
        what += f" using {plan['Index Name']}"
    lines = ["  " * depth + what]
    lines += [describe(child, depth + 1) for child in plan.get("Plans", [])]
    return "\n".join(lines)


def table_scans(plan: dict[str, Any]) -> list[str]:
    return [n["Node Type"] for n in nodes(plan) if n.get("Relation Name") == "user_profiles"]


def has_completed_at_index(server: str) -> bool:
    with psycopg.connect(server) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'user_profiles' "
            "AND indexdef LIKE '%(full_pass_completed_at)%'"
        ).fetchone()
    return row is not None and row[0] > 0


QUERIES = sorted(p.stem for p in sql_dir().glob("*.sql") if p.stem not in NOT_EXPLAINED)


def test_every_query_file_is_explained_or_excluded(plans: dict[str, list[dict[str, Any]]]) -> None:
    files = {p.stem for p in sql_dir().glob("*.sql")}
    assert set(plans) == files - set(NOT_EXPLAINED), "a query file the suite runs is not explained"


@pytest.mark.parametrize("name", QUERIES)
def test_no_sequential_scan_of_user_profiles(
    name: str, plans: dict[str, list[dict[str, Any]]], window_indexes: set[str], server: str
) -> None:
    for plan in plans[name]:
        scans = table_scans(plan)
        if name in NO_INDEX:
            assert scans == [], f"{name} reads user_profiles:\n{describe(plan)}"
            continue
        used = {n["Index Name"] for n in nodes(plan) if n["Node Type"] in INDEX_NODES}
        fine = bool(scans) and set(scans) <= SCANS and bool(used & window_indexes)
        if not fine and name == "q2_stuck_imports" and not has_completed_at_index(server):
            pytest.xfail(
                "Query 2's `complete AND full_pass_completed_at > as_of` branch has no index: "
                "it needs one on (full_pass_completed_at) WHERE full_pass_status = 'complete' "
                "in sql/indexes.sql"
            )
        assert scans, f"{name} does not read user_profiles:\n{describe(plan)}"
        assert set(scans) <= SCANS, f"{name} scans user_profiles sequentially:\n{describe(plan)}"
        assert used & window_indexes, (
            f"{name} uses none of {sorted(window_indexes)}:\n{describe(plan)}"
        )
