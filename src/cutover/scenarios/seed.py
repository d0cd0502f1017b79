"""Load a scenario into a local Postgres: schema, the scenario's rows by COPY, a read-only role."""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cutover.errors import ConfigError
from cutover.redact import redact_url
from cutover.scenarios.corruption import insert_corrupt_rows
from cutover.scenarios.generate import import_outcomes, memory_md, uuid4_bits, uuid_text
from cutover.scenarios.model import Scenario
from cutover.sources.database import load_query, session_options

READER_ROLE = "cutover_reader"
_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
_COLUMNS = (
    "id",
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


# COPY's text format: in a field, backslash, tab, newline and carriage return are escaped (and
# \b \f \v, as psycopg's write_row does); NULL is \N. The backslash goes first.
_COPY_ESCAPES = (
    ("\\", "\\\\"),
    ("\t", "\\t"),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\b", "\\b"),
    ("\f", "\\f"),
    ("\v", "\\v"),
)
_NULL = "\\N"
# Rows per write: small writes (~32 KiB) let the server parse one while the next is made.
_COPY_LINES = 200
_US = timedelta(microseconds=1)
_HOUR_US = 3_600_000_000
_NAIVE_EPOCH = datetime(1970, 1, 1)
_CLOCK_CACHE = 4096  # hours
_MINUTE_SECOND = [f"{m:02d}:{s:02d}." for m in range(60) for s in range(60)]  # "MM:SS." by second


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


def seed_database(
    admin_dsn: str,
    scenario: Scenario,
    *,
    with_indexes: bool = True,
    until: datetime | None = None,
) -> SeedResult:
    """Create the schema, load the scenario's rows and a read-only role; return the role's DSN.

    With `until` (the instant measured), imports that start later are left out: no query sees
    them, and a checkpoint early in a long scenario seeds in a fraction of the time."""
    ensure_local(admin_dsn)
    password = secrets.token_urlsafe(18)
    options = session_options(read_only=False, statement_timeout_ms=0)
    with psycopg.connect(admin_dsn, options=options, autocommit=True) as conn:
        conn.execute(load_query("schema").text.encode())
        _apply_database_faults(conn, scenario)
        # keys are built once after the load: inserting into them row by row in random order
        # was half of COPY's cost
        conn.execute(_DROP_KEYS)
        rows = _copy_rows(conn, scenario, until) + insert_corrupt_rows(conn, scenario)
        conn.execute(_ADD_KEYS)
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


def _copy_rows(
    conn: psycopg.Connection[tuple[object, ...]], scenario: Scenario, until: datetime | None
) -> int:
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
    keep = [_COLUMNS.index(c) for c in columns]
    everything = keep == list(range(len(_COLUMNS)))
    count = 0
    lines: list[str] = []
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for values in _row_values(scenario, until):
            lines.append("\t".join(values if everything else [values[i] for i in keep]))
            count += 1
            if len(lines) >= _COPY_LINES:
                copy.write(_copy_chunk(lines))
        if lines:
            copy.write(_copy_chunk(lines))
    return count


_DROP_KEYS = (
    "ALTER TABLE public.user_profiles DROP CONSTRAINT user_profiles_pkey, "
    "DROP CONSTRAINT user_profiles_user_id_key"
)
_ADD_KEYS = (
    "ALTER TABLE public.user_profiles ADD CONSTRAINT user_profiles_pkey PRIMARY KEY (id), "
    "ADD CONSTRAINT user_profiles_user_id_key UNIQUE (user_id)"
)
_ID_SALT = 0x5EED_1D5_C0FFEE  # the row id is derived from the user id (one row per user)


def _row_id(user: int) -> str:
    """A v4-shaped id computed here: the server's gen_random_uuid() cost ~3.5 µs a row."""
    return uuid_text(uuid4_bits(user ^ _ID_SALT))


def _row_values(scenario: Scenario, until: datetime | None) -> Iterator[tuple[str, ...]]:
    """Each row's values for `_COLUMNS`, as COPY text fields (escaped; NULL as \\N)."""
    background = random.Random(scenario.seed + 104729)
    created = str(scenario.t0.replace(tzinfo=None) - timedelta(days=30))
    for _ in range(scenario.database.background_users):
        user_bits = uuid4_bits(background.getrandbits(128))
        conversations = str(background.randrange(1, 500))
        yield (
            _row_id(user_bits),
            uuid_text(user_bits),
            created,
            created,
            "background user",
            "complete",
            conversations,
            "pending",
            _NULL,
            _NULL,
            _NULL,
            _NULL,
        )
    text = CopyClock(scenario.t0).text
    memory_template = copy_text(memory_md("{user}"))  # a user id needs no escaping
    for us, user, user_text, status, minutes, error in import_outcomes(scenario, until=until):
        started = text(us)
        if status == "complete":
            completed = text(us + timedelta(minutes=minutes) // _US)
            updated, memory = completed, memory_template.replace("{user}", user_text)
        else:
            completed = memory = _NULL
            updated = started
        yield (
            _row_id(user),
            user_text,
            started,
            updated,
            "seeded user",
            "processing" if status == "processing" else "complete",
            "42",
            status,
            started,
            completed,
            _NULL if error is None else copy_text(error),
            memory,
        )


class CopyClock:
    """Instants in µs since t0 as COPY text of a naive timestamp (as psycopg dumps a naive
    datetime; read as UTC by the session), the date and hour cached: a timestamp a row."""

    __slots__ = ("_base", "_hours")

    def __init__(self, t0: datetime) -> None:
        self._base = (t0.replace(tzinfo=None) - _NAIVE_EPOCH) // _US
        self._hours: dict[int, str] = {}

    def text(self, us: int) -> str:
        hour, rest = divmod(self._base + us, _HOUR_US)
        prefix = self._hours.get(hour)
        if prefix is None:
            if len(self._hours) >= _CLOCK_CACHE:
                self._hours.clear()
            moment = _NAIVE_EPOCH + timedelta(hours=hour)
            prefix = self._hours[hour] = moment.isoformat(" ")[:14]  # "YYYY-MM-DD HH:"
        second, micro = divmod(rest, 1_000_000)
        return prefix + _MINUTE_SECOND[second] + str(1_000_000 + micro)[1:]


def copy_text(value: str) -> str:
    """A text value as a field of COPY's text format: backslash and control characters escaped."""
    for char, escaped in _COPY_ESCAPES:
        if char in value:
            value = value.replace(char, escaped)
    return value


def _copy_chunk(lines: list[str]) -> str:
    """`lines` as COPY text data (one row a line), the list emptied."""
    lines.append("")  # the last row's newline
    chunk = "\n".join(lines)
    lines.clear()
    return chunk


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
