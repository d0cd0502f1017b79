"""Rows that break the integrity invariants, for scenarios that must make the
`rollback.data_corruption` trigger fire (one row per requested invariant)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg

from cutover.errors import ConfigError
from cutover.scenarios.model import CorruptRow, Scenario


def _row(invariant: str, started: datetime, user_id: uuid.UUID) -> dict[str, Any]:
    complete = {
        "full_pass_status": "complete",
        "full_pass_started_at": started,
        "full_pass_completed_at": started + timedelta(minutes=4),
        "memory_md": "# Memory\\n",
    }
    rows: dict[str, dict[str, Any]] = {
        "complete_without_completed_at": {**complete, "full_pass_completed_at": None},
        "completed_before_started": {
            **complete,
            "full_pass_completed_at": started - timedelta(minutes=3),
        },
        "complete_without_memory_md": {**complete, "memory_md": "  "},
        "failed_without_error": {
            "full_pass_status": "failed",
            "full_pass_started_at": started,
            "full_pass_error": "",
        },
        "processing_without_started_at": {"full_pass_status": "processing"},
        "status_not_allowed": {"full_pass_status": "done", "full_pass_started_at": started},
        "started_in_future": {
            "full_pass_status": "processing",
            "full_pass_started_at": datetime(2099, 1, 1),
        },
    }
    return {"user_id": user_id, **rows[invariant]}


def insert_corrupt_rows(conn: psycopg.Connection[Any], scenario: Scenario) -> int:
    """Insert the scenario's corrupt rows (after the generated ones); returns how many."""
    needs_check_dropped = any(r.invariant == "status_not_allowed" for r in scenario.corrupt_rows)
    if needs_check_dropped and scenario.database.status_check:
        raise ConfigError(
            f"scenario file {scenario.path}: a corrupt_row with invariant status_not_allowed "
            "needs [database] status_check = false (the CHECK constraint forbids it)"
        )
    for number, corrupt in enumerate(scenario.corrupt_rows):
        row = _row(corrupt.invariant, _naive(scenario, corrupt), _user(scenario, number))
        columns = psycopg.sql.SQL(", ").join(psycopg.sql.Identifier(c) for c in row)
        values = psycopg.sql.SQL(", ").join(psycopg.sql.Placeholder() for _ in row)
        conn.execute(
            psycopg.sql.SQL("INSERT INTO public.user_profiles ({}) VALUES ({})").format(
                columns, values
            ),
            list(row.values()),
        )
    return len(scenario.corrupt_rows)


def _naive(scenario: Scenario, corrupt: CorruptRow) -> datetime:
    return scenario.at(corrupt.at).replace(tzinfo=None)


def _user(scenario: Scenario, number: int) -> uuid.UUID:
    # deterministic and recognisable in evidence: 00000000-0000-4000-8000-<scenario><n>
    return uuid.UUID(f"00000000-0000-4000-8000-{scenario.seed % 10**8:08d}{number:04d}")
