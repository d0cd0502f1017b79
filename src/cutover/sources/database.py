"""SQL source: the validation queries, loaded from `sql/`, run in read-only UTC sessions."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from cutover.errors import SourceUnavailable
from cutover.paths import sql_dir
from cutover.redact import redact_text


@dataclass(frozen=True, slots=True)
class Query:
    """A query file: its name (file stem), text and the SHA-256 of that text (evidence)."""

    name: str
    text: str
    sha256: str


@dataclass(frozen=True, slots=True)
class QueryResult:
    query: Query
    rows: list[dict[str, Any]]


@cache
def load_query(name: str, directory: Path | None = None) -> Query:
    """Load `sql/<name>.sql`; queries live in files, never in Python strings."""
    path = (directory or sql_dir()) / f"{name}.sql"
    text = path.read_text(encoding="utf-8")
    return Query(name=name, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())


def session_options(*, read_only: bool, statement_timeout_ms: int) -> str:
    """libpq `options`: UTC (timestamps are naive UTC), a timeout, and read-only by default."""
    parts = ["-c TimeZone=UTC", f"-c statement_timeout={int(statement_timeout_ms)}"]
    if read_only:
        parts.append("-c default_transaction_read_only=on")
    return " ".join(parts)


def connect(
    dsn: str, *, statement_timeout_ms: int, connect_timeout_seconds: float, read_only: bool = True
) -> psycopg.Connection[dict[str, Any]]:
    """Open a session; failures become SourceUnavailable with the password kept out of the text."""
    try:
        return psycopg.connect(
            dsn,
            options=session_options(read_only=read_only, statement_timeout_ms=statement_timeout_ms),
            connect_timeout=max(1, round(connect_timeout_seconds)),
            autocommit=True,
            row_factory=dict_row,
        )
    except psycopg.Error as exc:
        raise SourceUnavailable("database", f"cannot connect: {redact_text(str(exc))}") from None


class Database:
    """A read-only session against the target, running the project's query files."""

    def __init__(self, connection: psycopg.Connection[dict[str, Any]]) -> None:
        self._connection = connection

    @property
    def connection(self) -> psycopg.Connection[dict[str, Any]]:
        return self._connection

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run a query file; any database error makes the source unavailable, never a pass."""
        query = load_query(name)
        try:
            # autocommit in a read-only session: each query is its own transaction, and an
            # explicit one would cost two more round trips per query
            with self._connection.cursor() as cursor:
                cursor.execute(query.text.encode(), params)
                rows = cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise SourceUnavailable(
                f"sql/{name}.sql", redact_text(str(exc)).strip().splitlines()[0]
            ) from None
        return QueryResult(query=query, rows=list(rows))

    def rejects_writes(self) -> tuple[bool, str]:
        """Try a write that changes nothing (WHERE false) in a transaction that is rolled back."""
        query = load_query("write_probe")
        try:
            with self._connection.transaction(force_rollback=True), self._connection.cursor() as c:
                c.execute(query.text.encode())
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            return True, str(exc).strip().splitlines()[0]
        except psycopg.errors.InsufficientPrivilege as exc:
            return True, str(exc).strip().splitlines()[0]
        except psycopg.Error as exc:
            raise SourceUnavailable("sql/write_probe.sql", redact_text(str(exc))) from None
        return False, "the write was accepted (and rolled back)"

    def has_column(self, table: str, column: str) -> bool:
        row = self._connection.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = %s AND column_name = %s",
            (table, column),
        ).fetchone()
        return row is not None


class LazyDatabase:
    """Connects on first use, so an unreachable database makes each criterion inconclusive
    (the same failure for each, without trying again)."""

    def __init__(
        self, dsn: str, *, statement_timeout_ms: int, connect_timeout_seconds: float
    ) -> None:
        self._dsn = dsn
        self._statement_timeout_ms = statement_timeout_ms
        self._connect_timeout_seconds = connect_timeout_seconds
        self._database: Database | None = None
        self._failure: SourceUnavailable | None = None

    def get(self) -> Database:
        if self._failure is not None:
            raise self._failure
        if self._database is None:
            try:
                connection = connect(
                    self._dsn,
                    statement_timeout_ms=self._statement_timeout_ms,
                    connect_timeout_seconds=self._connect_timeout_seconds,
                )
                self._database = Database(connection)
            except SourceUnavailable as exc:
                self._failure = exc
                raise
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.connection.close()
