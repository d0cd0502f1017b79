"""The GitHub workflows of ci-templates/, run step by step (ci_github) in the order a rollout
chains them, against a "live" target (embedded Postgres, the RLM simulator, a Render fake and
a drain store the gate fetches from):
each installs the project, calls the suite, reports, verifies and keeps the evidence on its
branch. The last checkpoint runs after the Actions cache was evicted: the ledger comes back
from the branch. Two runs started at once both land, one after the other, and the chain
verifies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ci_github import GitHub, JobRun, WorkflowRun
from ci_machine import Machine

from conftest import Live, evidence_branch
from cutover.ledger import Store
from cutover.verify import verify

pytestmark = pytest.mark.templates


@pytest.fixture
def github(machine: Machine, live: Live) -> GitHub:
    workflows = machine.root / "project" / ".github" / "workflows"
    secrets = {
        "CUTOVER_DATABASE_URL": live.dsn,
        "CUTOVER_RLM_URL": live.rlm_url,
        **live.platform_secrets,
    }
    # V2_ROLLOUT_PERCENT is 0 before the rollout: the operator says so in a variable
    variables = {
        "CUTOVER_RLM_LOCAL_URL": live.rlm_url,
        "CUTOVER_ROLLOUT_PERCENT": "0",
        **live.platform_variables,
    }
    return GitHub(machine, workflows, secrets, variables)


def verdict(job: JobRun) -> str:
    output = job.step("Run the gate").output
    lines = [line for line in output.splitlines() if line.startswith("cutover verdict:")]
    assert lines, output[-3000:]
    return lines[-1]


def assert_gate_ran(job: JobRun, marker: str, expected: str, live: Live) -> None:
    """Installed, called, reported, verified and kept: whatever the verdict."""
    assert job.step("Install cutover-gates").outcome == "success", job.log[-4000:]
    assert verdict(job).startswith(f"cutover verdict: {expected} — {marker}"), job.log[-4000:]
    assert job.status == ("success" if expected == "PROCEED" else "failure"), job.log[-4000:]
    for step in ("Report into the job summary", "Verify the evidence"):
        assert job.step(step).outcome == "success", job.log[-4000:]
    assert "## Criteria" in job.summary or "criterion" in job.summary, job.summary[:2000]
    assert job.step("Keep the evidence on its branch").outcome == "success", job.log[-4000:]
    assert job.workspace is not None
    assert list((job.workspace / "evidence").glob(f"junit-{marker}-*.xml"))
    assert live.dsn.split("password=")[-1].split()[0] not in job.log  # the secret's password
    assert all(secret not in job.log for secret in live.platform_secrets.values())


#: the ledger of the rollout both platforms' tests walk, in order
ROLLOUT = [
    "checkpoint:prereq",
    "stage_started:",
    "checkpoint:stage1_gate",
    "checkpoint:stage1_gate",
    "attestation:complaints",
    "checkpoint:stage1_gate",
]


def ledger(machine: Machine, into: Path) -> list[str]:
    """The evidence branch's records, but the snapshots the gates took of the platforms (each
    run's checkpoint names its own)."""
    evidence = evidence_branch(machine, into)
    assert verify(evidence).ok
    entries = Store(evidence).read()
    assert any(e.type == "snapshot" for e in entries)  # the gates fetched, the branch kept it
    return [
        f"{e.data['type']}:{e.data.get('selection', e.data.get('kind', ''))}"
        for e in entries
        if e.type != "snapshot"
    ]


def test_the_github_workflows_run_a_rollout_and_keep_its_evidence(
    github: GitHub, machine: Machine, live: Live, tmp_path: Path
) -> None:
    prereq = github.dispatch("cutover-gate.yml", gate="prereq", as_of=live.at(-1)).ran
    assert_gate_ran(prereq, "prereq", "PROCEED", live)
    assert "no ledger yet" in prereq.step("Verify the restored evidence").output

    record = github.dispatch("cutover-record.yml", event="stage-start", stage="1", at=live.at(0))
    assert record.ran.status == "success", record.ran.log[-4000:]
    assert "restored evidence from branch cutover-evidence" in record.ran.log

    # nothing is scheduled while no stage is live, and only the live stage's cadence runs
    for cron in ("7 * * * *", "37 */12 * * *"):
        idle = github.schedule("cutover-checkpoints.yml", cron)
        assert {job.status for job in idle.jobs.values()} == {"skipped"}
    assert {
        j.status
        for j in github.schedule("cutover-rollback-triggers.yml", "*/15 * * * *").jobs.values()
    } == {"skipped"}

    github.variables["CUTOVER_STAGE"] = "1"
    # emptied, not deleted: it reaches the job as "", which is unset: the ledger's stage decides
    github.variables["CUTOVER_ROLLOUT_PERCENT"] = ""
    for hours in (1, 6):  # the checkpoints a later run reads back; the gate holds until +24 h
        checkpoint = github.dispatch("cutover-checkpoints.yml", stage="1", as_of=live.at(hours))
        assert_gate_ran(checkpoint.ran, "stage1_gate", "HOLD", live)
    attest = github.dispatch(
        "cutover-record.yml", event="attest-complaints", count="0", at=live.at(24)
    )
    assert attest.ran.status == "success", attest.ran.log[-4000:]

    machine.evict_caches()  # 7 days without a run, say: the branch still holds the ledger
    final = github.dispatch("cutover-checkpoints.yml", stage="1", as_of=live.at(24)).ran
    assert "cache not found" in final.step("Restore the cached copy of the evidence").output
    assert "cutover verify: OK" in final.step("Verify the restored evidence").output
    assert_gate_ran(final, "stage1_gate", "PROCEED", live)
    # the gate fetched its window itself: Render's RLM log and metrics, the drain's router log
    assert final.step("Install the Vercel CLI").outcome == "skipped"  # a drain store is set
    assert final.workspace is not None
    assert list((final.workspace / "evidence" / "snapshots").iterdir())

    # two runs at once: the concurrency group queues the second, which appends after the first
    with ThreadPoolExecutor(max_workers=2) as pool:
        at_once = [
            pool.submit(github.dispatch, "cutover-rollback-triggers.yml", as_of=live.at(24)),
            pool.submit(github.dispatch, "cutover-gate.yml", gate="stage1_gate", as_of=live.at(24)),
        ]
    runs: list[WorkflowRun] = [future.result() for future in at_once]
    for run in runs:
        marker = "rollback" if run.name == "cutover-rollback-triggers.yml" else "stage1_gate"
        assert_gate_ran(run.ran, marker, "PROCEED", live)

    records = ledger(machine, tmp_path / "reader")
    assert records[:6] == ROLLOUT
    assert sorted(records[6:]) == ["checkpoint:rollback", "checkpoint:stage1_gate"]
    assert len(list((machine.artifacts).glob("cutover-evidence-*"))) == 8


#: a template broken where it installs, calls or reports the suite: (the text, the step that fails)
BROKEN = {
    "install": ("run: python -m pip install .", "run: python -m pip install ./no-such-project"),
    "call": ('python -m pytest -m "$MARKER"', 'python -m pytest -m "$MARKER" --no-such-option'),
    "report": ("cutover report --evidence-dir evidence", "cutover report --no-such-option"),
}
FAILING_STEP = {
    "install": "Install cutover-gates",
    "call": "Run the gate",
    "report": "Report into the job summary",
}


@pytest.mark.parametrize("part", sorted(BROKEN))
def test_a_workflow_that_cannot_install_call_or_report_the_suite_fails(
    part: str, github: GitHub, live: Live
) -> None:
    """The runner is no rubber stamp: the same run as above, with the template broken in one
    place, fails that step, the job, and the checks a working template passes."""
    template = github.workflows / "cutover-run.yml"
    old, new = BROKEN[part]
    assert template.read_text().count(old) == 1
    template.write_text(template.read_text().replace(old, new))
    job = github.dispatch("cutover-gate.yml", gate="prereq", as_of=live.at(-1)).ran
    assert job.status == "failure", job.log[-4000:]
    assert job.step(FAILING_STEP[part]).outcome == "failure", job.log[-4000:]
    with pytest.raises(AssertionError):
        assert_gate_ran(job, "prereq", "PROCEED", live)
