"""Database reads for the prerequisites: migration columns, table access, the queries themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cutover.errors import SourceUnavailable
from cutover.outcome import Window
from cutover.paths import sql_dir
from cutover.sources.database import Database, load_query
from cutover.sources.imports import window_params

# the runbook's validation queries: every one must run (a missing file is a query that did not)
RUNBOOK_QUERIES = (
    "q1_success_rate",
    "q2_stuck_imports",
    "q3_duration_histogram",
    "q4_error_patterns",
    "q5_v1_vs_v2",
    "q6_recent_timeline",
)
OPTIONAL_QUERIES = {"q5_v1_vs_v2": ("user_profiles", "pipeline_version")}


@dataclass(frozen=True, slots=True)
class MigrationColumns:
    columns: dict[str, str]  # column name -> data type
    status_check: str | None  # the CHECK definition on full_pass_status, if any
    query_sha256: str


@dataclass(frozen=True, slots=True)
class TableAccess:
    role: str
    can_select: bool
    rls_enabled: bool
    bypasses_rls: bool
    has_select_policy: bool
    default_read_only: bool
    rejects_writes: bool
    write_detail: str
    query_sha256: str


@dataclass(frozen=True, slots=True)
class QueryRun:
    name: str
    sha256: str
    rows: int | None
    error: str | None  # None: ran; "skipped: ..." for an optional query that does not apply


def read_migration_columns(db: Database) -> MigrationColumns:
    columns = db.run("migration_columns")
    check = db.run("status_check")
    return MigrationColumns(
        columns={str(r["column_name"]): str(r["data_type"]) for r in columns.rows},
        status_check=str(check.rows[0]["definition"]) if check.rows else None,
        query_sha256=f"{columns.query.sha256},{check.query.sha256}",
    )


def read_table_access(db: Database) -> TableAccess:
    result = db.run("table_access")
    if not result.rows:
        raise SourceUnavailable("sql/table_access.sql", "public.user_profiles does not exist")
    row = result.rows[0]
    rejects, detail = db.rejects_writes()
    return TableAccess(
        role=str(row["role_name"]),
        can_select=bool(row["can_select"]),
        rls_enabled=bool(row["rls_enabled"]),
        bypasses_rls=bool(row["bypasses_rls"]),
        has_select_policy=bool(row["has_select_policy"]),
        default_read_only=row["default_read_only"] == "on",
        rejects_writes=rejects,
        write_detail=detail,
        query_sha256=result.query.sha256,
    )


def run_validation_queries(
    db: Database,
    as_of: datetime,
    stuck_after_minutes: int,
    *,
    window: timedelta,
    timeline_window: timedelta,
) -> list[QueryRun]:
    """Run each of the runbook's queries (`RUNBOOK_QUERIES`), over the queries' windows (the
    runbook's 24 h; 6 h for Query 6, the timeline); each error is kept, not raised."""
    params = window_params(Window(as_of - window, as_of), stuck_after_minutes)
    directory = sql_dir()
    runs: list[QueryRun] = []
    for name in RUNBOOK_QUERIES:
        if not (directory / f"{name}.sql").is_file():
            missing = f"no {name}.sql in {directory}: the install is incomplete"
            runs.append(QueryRun(name, "", None, missing))
            continue
        query = load_query(name)
        needs = OPTIONAL_QUERIES.get(name)
        if needs is not None and not db.has_column(*needs):
            runs.append(QueryRun(name, query.sha256, None, f"skipped: no {needs[1]} column"))
            continue
        values = dict(params)
        if name == "q6_recent_timeline":
            values["window_start"] = as_of - timeline_window
        try:
            result = db.run(name, values)
        except SourceUnavailable as exc:
            runs.append(QueryRun(name, query.sha256, None, exc.message))
            continue
        runs.append(QueryRun(name, query.sha256, len(result.rows), None))
    return runs
