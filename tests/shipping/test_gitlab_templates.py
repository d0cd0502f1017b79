"""The GitLab template of ci-templates/, every job of it run (ci_gitlab) in the order a rollout
chains them, against a "live" target: each installs the project, calls the suite, reports,
verifies and keeps the evidence on its branch, pushed to CI_REPOSITORY_URL (a job-token URL,
rewritten to the local forge). The last stage 1 checkpoint runs after the cache was cleared:
the ledger comes back from the branch. Two pipelines started at once both land."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ci_gitlab import GitLab, GitLabJob
from ci_machine import Machine
from test_github_templates import ROLLOUT, ledger

from conftest import Live

pytestmark = pytest.mark.templates

TOKEN = "glcbt-64_j0bT0kenNeverPrinted"


@pytest.fixture
def gitlab(machine: Machine, live: Live) -> GitLab:
    url = f"https://gitlab-ci-token:{TOKEN}@gitlab.example.com/example/cutover-gates.git"
    # the forge's address, as the job token's URL reaches it
    machine.env.update(
        {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.file://{machine.remote}.insteadOf",
            "GIT_CONFIG_VALUE_0": url,
        }
    )
    variables = {
        "CUTOVER_DATABASE_URL": live.dsn,
        "CUTOVER_RLM_URL": live.rlm_url,
        "CUTOVER_RLM_LOCAL_URL": live.rlm_url,
        "CUTOVER_ROLLOUT_PERCENT": "0",  # before the rollout
        **live.platform_secrets,
        **live.platform_variables,
    }
    return GitLab(machine, machine.root / "project" / ".gitlab-ci.yml", variables, url)


def gate_verdict(job: GitLabJob, marker: str) -> str:
    lines = [
        line
        for line in job.output.splitlines()
        if line.startswith("cutover verdict:") and f"— {marker} —" in line
    ]
    assert lines, job.output[-4000:]
    return lines[0]  # the run's own; `cutover report` repeats it


def assert_gate_ran(job: GitLabJob, marker: str, expected: tuple[str, ...], live: Live) -> None:
    assert gate_verdict(job, marker).split(" — ")[0].split()[-1] in expected, job.output[-4000:]
    assert job.status == ("success" if expected == ("PROCEED",) else "failed"), job.output[-4000:]
    assert "cutover verify: OK" in job.output, job.output[-4000:]
    assert "saved evidence to branch cutover-evidence" in job.output, job.output[-4000:]
    assert job.junit_report is not None  # the job's test report for merge requests
    assert job.workspace is not None and (job.workspace / "report" / "report.md").is_file()
    assert TOKEN not in job.output
    assert live.dsn.split("password=")[-1].split()[0] not in job.output


def test_every_gitlab_job_runs_and_keeps_its_evidence(
    gitlab: GitLab, machine: Machine, live: Live, tmp_path: Path
) -> None:
    assert gitlab.pipeline("push").jobs == {}  # only schedules and "Run pipeline"
    prereq = gitlab.pipeline("web", CUTOVER_GATE="prereq", CUTOVER_AS_OF=live.at(-1)).ran
    assert prereq.name == "gate"
    assert_gate_ran(prereq, "prereq", ("PROCEED",), live)
    record = gitlab.pipeline(
        "web", CUTOVER_RECORD="stage-start", CUTOVER_STAGE="1", CUTOVER_AT=live.at(0)
    ).ran
    assert (record.name, record.status) == ("record", "success"), record.output[-4000:]
    assert TOKEN not in record.output

    # emptied, not deleted: "" is unset, so the percent is the ledger's current stage's
    gitlab.project_variables["CUTOVER_ROLLOUT_PERCENT"] = ""
    for hours in (1, 6):
        checkpoint = gitlab.pipeline(
            "schedule", CUTOVER_SCHEDULE="stage1", CUTOVER_AS_OF=live.at(hours)
        ).ran
        assert checkpoint.name == "stage1-checkpoint"
        assert_gate_ran(checkpoint, "stage1_gate", ("HOLD",), live)
    attest = gitlab.pipeline(
        "web", CUTOVER_RECORD="attest-complaints", CUTOVER_COUNT="0", CUTOVER_AT=live.at(24)
    ).ran
    assert attest.status == "success", attest.output[-4000:]

    machine.evict_caches()  # a cleared runner cache: the branch still holds the ledger
    final = gitlab.pipeline("schedule", CUTOVER_SCHEDULE="stage1", CUTOVER_AS_OF=live.at(24)).ran
    assert "restored evidence from branch cutover-evidence" in final.output
    assert_gate_ran(final, "stage1_gate", ("PROCEED",), live)

    # the later stages' jobs run too: stage 2 has not started, so neither passes
    for schedule, marker in (("stage2", "stage2_gate"), ("stage3", "stage3_gate")):
        later = gitlab.pipeline("schedule", CUTOVER_SCHEDULE=schedule, CUTOVER_AS_OF=live.at(24))
        assert later.ran.name == f"{schedule}-checkpoint"
        assert_gate_ran(later.ran, marker, ("HOLD", "ROLLBACK"), live)

    with ThreadPoolExecutor(max_workers=2) as pool:
        at_once = [
            pool.submit(
                gitlab.pipeline, "schedule", CUTOVER_SCHEDULE="rollback", CUTOVER_AS_OF=live.at(24)
            ),
            pool.submit(
                gitlab.pipeline, "web", CUTOVER_GATE="stage1_gate", CUTOVER_AS_OF=live.at(24)
            ),
        ]
    triggers, gate = (future.result().ran for future in at_once)
    assert triggers.name == "rollback-triggers"
    assert_gate_ran(triggers, "rollback", ("PROCEED",), live)
    assert_gate_ran(gate, "stage1_gate", ("PROCEED",), live)

    records = ledger(machine, tmp_path / "reader")
    assert records[:6] == ROLLOUT
    assert records[6:8] == ["checkpoint:stage2_gate", "checkpoint:stage3_gate"]
    assert sorted(records[8:]) == ["checkpoint:rollback", "checkpoint:stage1_gate"]


#: the GitLab template broken where it installs, calls or reports the suite
BROKEN = {
    "install": ("- python -m pip install .", "- python -m pip install ./no-such-project"),
    "call": ('python -m pytest -m "$MARKER"', 'python -m pytest -m "$MARKER" --no-such-option'),
    "report": ("cutover report --evidence-dir evidence", "cutover report --no-such-option"),
}


@pytest.mark.parametrize("part", sorted(BROKEN))
def test_a_gitlab_job_that_cannot_install_call_or_report_the_suite_fails(
    part: str, gitlab: GitLab, live: Live
) -> None:
    old, new = BROKEN[part]
    text = gitlab.config.read_text()
    assert old in text
    gitlab.config.write_text(text.replace(old, new, 1))  # the gate jobs' (the record job's stays)
    job = gitlab.pipeline("web", CUTOVER_GATE="prereq", CUTOVER_AS_OF=live.at(-1)).ran
    assert job.status == "failed", job.output[-4000:]
    with pytest.raises(AssertionError):
        assert_gate_ran(job, "prereq", ("PROCEED",), live)
