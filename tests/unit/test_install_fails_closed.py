"""The shipped install fails closed (a hostile review of issue 14): an install missing runbook
queries, a data folder setting that names nothing, an evidence folder that cannot be made, a
GitLab image without git (the durable save that refuses a ledger that does not verify is in
test_durable_store)"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ci_yaml import GITLAB_KEYWORDS, load
from cutover import cli, paths
from cutover.criteria.prereq import validation_queries
from cutover.criteria.registry import Context
from cutover.errors import ConfigError
from cutover.outcome import Outcome
from cutover.profile import Profile
from cutover.sources import database, prereq_db

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 2, 2, 8, tzinfo=UTC)
CTX = Context(profile=Profile(), as_of=AS_OF, target="seeded")


class _AnsweringDatabase:
    """Every query runs and returns no rows; every optional column exists."""

    def has_column(self, *_: str) -> bool:
        return True

    def run(self, name: str, values: dict[str, Any]) -> Any:
        return database.QueryResult(database.load_query(name), [])


def test_validation_queries_do_not_pass_with_runbook_queries_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail-open: `prereq.validation_queries` runs whatever `q*.sql` it globs, so an install
    (or CUTOVER_SQL_DIR) holding only q1 of the runbook's six queries PASSES the prerequisite
    ("1 queries ran read-only"; `pytest -m prereq` exits 0, PROCEED). A missing runbook query is
    a query that did not run: never a pass."""
    sql = tmp_path / "sql"
    sql.mkdir()
    shutil.copy(ROOT / "sql" / "q1_success_rate.sql", sql)
    monkeypatch.setenv("CUTOVER_SQL_DIR", str(sql))
    database.load_query.cache_clear()
    try:
        runs = prereq_db.run_validation_queries(
            _AnsweringDatabase(),  # type: ignore[arg-type]
            AS_OF,
            30,
            window=timedelta(hours=24),
            timeline_window=timedelta(hours=6),
        )
    finally:
        database.load_query.cache_clear()
    decided = validation_queries(runs, CTX)
    assert decided.outcome is not Outcome.PASS, decided.reason


def test_sql_dir_pointing_nowhere_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """House rule "bad configuration: one clear line naming the setting, never a traceback":
    CUTOVER_SQL_DIR=/nonexistent makes every database prerequisite error with a raw
    `FileNotFoundError: ... '/nonexistent/schema.sql'` and its traceback; the setting is never
    named. `paths.sql_dir()` returns the path unchecked."""
    monkeypatch.setenv("CUTOVER_SQL_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="CUTOVER_SQL_DIR"):
        paths.sql_dir()


def test_demo_with_an_unwritable_evidence_dir_says_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README "What the suite does with bad input": a `cutover` command given a read-only
    evidence directory exits 2 with one line. `cutover demo` from a read-only directory (or with
    an evidence path it cannot create) dies with an OSError traceback from
    `evidence.mkdir` (cli/demo.py:42), exit 1."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    status = cli.main(["--evidence-dir", str(blocker / "evidence"), "demo"])
    assert status == 2
    assert "evidence" in capsys.readouterr().err


def test_gitlab_image_has_git_for_the_evidence_branch() -> None:
    """ci-templates/gitlab/.gitlab-ci.yml runs every job in `python:3.11-slim`, which has no
    `git` (docker-library/python ships git only in the full images), yet each job's
    before_script calls `cutover evidence restore` and its script `cutover evidence save`, both
    git subprocesses: on a stock GitLab runner every job fails before the gate runs. The local
    template runner of tests/shipping uses the host's git, so it cannot see this."""
    template = load(ROOT / "ci-templates" / "gitlab" / ".gitlab-ci.yml")
    for name, job in template.items():
        if name in GITLAB_KEYWORDS or name.startswith(".") or not isinstance(job, dict):
            continue
        image = str(job.get("image", template.get("image", "")))
        before = "\n".join(str(line) for line in job.get("before_script", []))
        slim = "slim" in image or "alpine" in image
        installs_git = "install" in before and " git" in before
        assert not slim or installs_git, f"{name}: image {image} has no git"
