"""The runbook's prerequisites from the database: if any fails, STOP and fix before stage 1
(verdict HOLD). The RLM's and V2_ROLLOUT_PERCENT's are in `rlm` and `rollout`."""

from __future__ import annotations

from cutover.criteria.registry import Context, criterion
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.readings import MigrationColumns, QueryRun, TableAccess
from cutover.outcome import Action, Result

EXPECTED_COLUMNS = {
    "full_pass_status": "text",
    "full_pass_started_at": "timestamp with time zone",
    "full_pass_completed_at": "timestamp with time zone",
    "full_pass_error": "text",
}
STATUSES = ("pending", "processing", "complete", "failed")


@criterion("prereq.migration_columns", on_fail=Action.HOLD, source="sql/migration_columns.sql")
def migration_columns(m: MigrationColumns, ctx: Context) -> Result:
    if not m.columns:
        problems = [
            "none of the 4 full_pass_* columns is visible: the migration is not deployed, or "
            "this role cannot read user_profiles (see prereq.read_only_access)"
        ]
    else:
        problems = [f"{name} missing" for name in EXPECTED_COLUMNS if name not in m.columns]
    problems += [
        f"{name} is {m.columns[name]}, expected {expected}"
        for name, expected in EXPECTED_COLUMNS.items()
        if name in m.columns and m.columns[name] != expected
    ]
    if m.status_check is None:
        problems.append("no CHECK constraint on full_pass_status")
    else:
        missing = [s for s in STATUSES if f"'{s}'" not in m.status_check]
        if missing:
            problems.append(f"the status CHECK does not allow {', '.join(missing)}")
    measured = f"{len(m.columns)} of 4 columns"
    ok = not problems
    return result(
        PASS if ok else FAIL,
        "the four full_pass_* columns exist with the expected types and status check"
        if ok
        else "; ".join(problems),
        measured=measured,
        threshold="4 columns (text, timestamptz, timestamptz, text) and CHECK of 4 statuses",
        details={"columns": m.columns, "status_check": m.status_check or ""},
        query_sha256=m.query_sha256,
    )


@criterion("prereq.validation_queries", on_fail=Action.HOLD, source="sql/q*.sql")
def validation_queries(runs: list[QueryRun], ctx: Context) -> Result:
    failed = [r for r in runs if r.error is not None and not r.error.startswith("skipped")]
    ran = [r for r in runs if r.error is None]
    skipped = [f"{r.name} ({r.error})" for r in runs if r.error and r.error.startswith("skip")]
    if not runs:
        outcome, reason = UNDECIDED, "no query files found in sql/"
    elif failed:
        outcome = FAIL
        reason = "; ".join(f"{r.name}: {r.error}" for r in failed)
    else:
        outcome = PASS
        reason = f"{len(ran)} queries ran read-only" + (
            f"; {', '.join(skipped)}" if skipped else ""
        )
    return result(
        outcome,
        reason,
        measured=f"{len(ran)} ran, {len(failed)} failed, {len(skipped)} skipped",
        threshold="every validation query runs",
        query_sha256=",".join(f"{r.name}:{r.sha256}" for r in runs),
    )


@criterion("prereq.read_only_access", on_fail=Action.HOLD, source="sql/table_access.sql")
def read_only_access(a: TableAccess, ctx: Context) -> Result:
    problems: list[str] = []
    if not a.can_select:
        problems.append(f"role {a.role} cannot SELECT from user_profiles")
    if a.rls_enabled and not a.bypasses_rls and not a.has_select_policy:
        problems.append(
            f"row-level security is on and no policy lets {a.role} read: queries would see no rows"
        )
    if not a.default_read_only:
        problems.append("the session is not read-only (default_transaction_read_only is off)")
    if not a.rejects_writes:
        problems.append(f"a write was not rejected: {a.write_detail}")
    return result(
        FAIL if problems else PASS,
        "; ".join(problems) or f"{a.role} reads user_profiles; the session rejects writes",
        measured=f"select={a.can_select} rls={a.rls_enabled} read_only={a.default_read_only} "
        f"write_rejected={a.rejects_writes}",
        threshold="SELECT granted, rows visible, writes rejected",
        query_sha256=a.query_sha256,
    )
