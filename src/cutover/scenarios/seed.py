"""Load a scenario into a local Postgres: schema, the scenario's rows by COPY, a read-only role."""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cutover.errors import ConfigError
from cutover.redact import redact_url
from cutover.scenarios.generate import import_rows
from cutover.scenarios.model import Scenario
from cutover.sources.database import load_query, session_options

READER_ROLE = "cutover_reader"
_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
_COLUMNS = (
    "user_id",
    "created_at",
    "updated_at",
    "display_name",
    "import_status",
    "total_conversations",
    "full_pass_status",
    "full_pass_started_at",
    "full_pass_completed_at",
    "full_pass_error",
    "memory_md",
)


@dataclass(frozen=True, slots=True)
class SeedResult:
    rows: int
    reader_dsn: str


def ensure_local(dsn: str) -> None:
    """Seeding writes: refuse anything but a local socket or loopback server."""
    params = conninfo_to_dict(dsn)
    hosts = str(params.get("host") or "").split(",")
    for host in hosts:
        if host.startswith("/") or host in _LOCAL_HOSTS:
            continue
        raise ConfigError(
            f"seed: refusing to write to {redact_url(dsn)}: host {host!r} is not local; "
            "seeding is only for an embedded, container or loopback Postgres"
        )


def seed_database(admin_dsn: str, scenario: Scenario, *, with_indexes: bool = True) -> SeedResult:
    """Create the schema, load the scenario's rows and a read-only role; return the role's DSN."""
    ensure_local(admin_dsn)
    password = secrets.token_urlsafe(18)
    options = session_options(read_only=False, statement_timeout_ms=0)
    with psycopg.connect(admin_dsn, options=options, autocommit=True) as conn:
        conn.execute(load_query("schema").text.encode())
        _apply_database_faults(conn, scenario)
        rows = _copy_rows(conn, scenario)
        if with_indexes and not scenario.database.missing_columns:
            conn.execute(load_query("indexes").text.encode())
        conn.execute("ANALYZE public.user_profiles")
        _create_reader(conn, scenario, password)
    reader_dsn = make_conninfo(admin_dsn, user=READER_ROLE, password=password)
    return SeedResult(rows=rows, reader_dsn=reader_dsn)


def _apply_database_faults(
    conn: psycopg.Connection[tuple[object, ...]], scenario: Scenario
) -> None:
    for column in scenario.database.missing_columns:
        conn.execute(
            psycopg.sql.SQL("ALTER TABLE public.user_profiles DROP COLUMN IF EXISTS {}").format(
                psycopg.sql.Identifier(column)
            )
        )
    if not scenario.database.status_check:
        conn.execute(
            "ALTER TABLE public.user_profiles "
            "DROP CONSTRAINT IF EXISTS user_profiles_full_pass_status_check"
        )


def _copy_rows(conn: psycopg.Connection[tuple[object, ...]], scenario: Scenario) -> int:
    present = {
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = 'user_profiles'"
        )
    }
    columns = [c for c in _COLUMNS if c in present]
    statement = psycopg.sql.SQL("COPY public.user_profiles ({}) FROM STDIN").format(
        psycopg.sql.SQL(", ").join(psycopg.sql.Identifier(c) for c in columns)
    )
    background = random.Random(scenario.seed + 104729)
    created = scenario.t0.replace(tzinfo=None) - timedelta(days=30)
    count = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for _ in range(scenario.database.background_users):
            values = {
                "user_id": uuid.UUID(int=background.getrandbits(128), version=4),
                "created_at": created,
                "updated_at": created,
                "display_name": "background user",
                "import_status": "complete",
                "total_conversations": background.randrange(1, 500),
                "full_pass_status": "pending",
            }
            copy.write_row([values.get(c) for c in columns])
            count += 1
        for row in import_rows(scenario):
            values = {
                "user_id": row.user_id,
                "created_at": row.started_at,
                "updated_at": row.completed_at or row.started_at,
                "display_name": "seeded user",
                "import_status": "processing" if row.status == "processing" else "complete",
                "total_conversations": 42,
                "full_pass_status": row.status,
                "full_pass_started_at": row.started_at,
                "full_pass_completed_at": row.completed_at,
                "full_pass_error": row.error,
                "memory_md": row.memory_md,
            }
            copy.write_row([values.get(c) for c in columns])
            count += 1
    return count


def _create_reader(
    conn: psycopg.Connection[tuple[object, ...]], scenario: Scenario, password: str
) -> None:
    sql = psycopg.sql
    role = sql.Identifier(READER_ROLE)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password)))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
    if scenario.database.grant_select:
        conn.execute(sql.SQL("GRANT SELECT ON public.user_profiles TO {}").format(role))
    else:
        conn.execute(sql.SQL("REVOKE ALL ON public.user_profiles FROM {}").format(role))
