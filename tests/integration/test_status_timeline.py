"""`cutover status` through the CLI on rollout timelines: a live one recorded with the commands
an operator runs (stage starts, an attestation), and a seeded scenario whose checkpoints are real
gate runs, the status's own `next:` command among them. The exact `next:` line at each instant;
the Markdown and JSON forms; a ledger that is absent or does not verify is one line, exit 2."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import jsonschema
import pytest

from cutover.cli import main
from cutover.status import SCHEMA_PATH
from suite_runner import at_hour, run_checkpoint, run_suite

SCENARIO = "healthy-rollout"


@pytest.fixture(autouse=True)
def evidence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh evidence directory the commands find through CUTOVER_EVIDENCE_DIR, and no other
    setting of the caller's."""
    monkeypatch.chdir(tmp_path)
    for name in ("CUTOVER_CONFIG", "CUTOVER_DATABASE_URL", "CUTOVER_AS_OF", "CUTOVER_ROUTER_LOGS"):
        monkeypatch.delenv(name, raising=False)
    for name in ("CUTOVER_RLM_LOGS", "CUTOVER_RLM_METRICS", "CUTOVER_RLM_LOCAL_URL"):
        monkeypatch.delenv(name, raising=False)
    directory = tmp_path / "evidence"
    monkeypatch.setenv("CUTOVER_EVIDENCE_DIR", str(directory))
    return directory


def status(capsys: pytest.CaptureFixture[str], hours: float, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["status", "--as-of", at_hour(hours), *args])
    out, err = capsys.readouterr()
    return code, out, err


def next_line(capsys: pytest.CaptureFixture[str], hours: float, *args: str) -> str:
    code, out, err = status(capsys, hours, *args)
    assert code == 0, err
    return out.splitlines()[-1]


def cli(*args: str) -> None:
    assert main(list(args)) == 0


def test_a_live_stage_1_and_2_recorded_by_the_operator(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("stage", "start", "1", "--at", at_hour(0))
    assert next_line(capsys, 0.5) == "next: wait until 2026-02-02T10:00:00Z"
    assert next_line(capsys, 1.5) == "next: pytest -m stage1_gate --as-of 2026-02-02T10:30:00Z"
    # +1 h was never run: missed, and the backfill is named
    code, out, _ = status(capsys, 3)
    assert "+1h 2026-02-02T10:00:00Z: missed: backfill with pytest -m stage1_gate --as-of " in out
    assert out.splitlines()[-1] == "next: pytest -m stage1_gate --as-of 2026-02-02T10:00:00Z"
    # a live gate run would read sources nobody configured: status says which
    assert "source: CUTOVER_DATABASE_URL is not set: stage1.success_rate" in out
    assert "source: CUTOVER_ROUTER_LOGS is not set: stage1.routing_split read it" in out
    monkeypatch.setenv("CUTOVER_RLM_LOGS", "exports/rlm.log")
    code, out, _ = status(capsys, 3)
    assert "source: CUTOVER_RLM_LOGS names exports/rlm.log, which does not exist: " in out
    monkeypatch.delenv("CUTOVER_RLM_LOGS")
    # at the gate: nobody attested the complaints, so that comes before the gate run
    code, out, _ = status(capsys, 24.5)
    assert (
        "attestation: complaints not attested over 2026-02-02T09:00:00Z..2026-02-03T09:00:00Z"
        in out
    )
    assert out.splitlines()[-1] == (
        "next: cutover attest complaints --count N --by NAME --at 2026-02-03T09:30:00Z"
    )
    cli("attest", "complaints", "--count", "0", "--by", "alice", "--at", at_hour(24.5))
    assert next_line(capsys, 24.5) == "next: pytest -m stage1_gate --as-of 2026-02-03T09:30:00Z"
    # stage 2 at 50%: every 12 hours
    cli("stage", "start", "2", "--at", at_hour(25))
    code, out, _ = status(capsys, 30)
    assert "stage 2 at 50% since 2026-02-03T10:00:00Z (5.0 h); rollbacks so far: 0" in out
    assert out.splitlines()[-1] == "next: wait until 2026-02-03T22:00:00Z"
    assert next_line(capsys, 49.5) == "next: pytest -m stage2_gate --as-of 2026-02-04T10:30:00Z"
    assert next_line(capsys, 52) == "next: pytest -m stage2_gate --as-of 2026-02-03T22:00:00Z"
    cli("rollback", "--reason", "success rate 91%", "--at", at_hour(53))
    code, out, _ = status(capsys, 54)
    assert "rolled back at 2026-02-04T14:00:00Z: success rate 91%" in out
    assert "rollbacks so far: 1" in out
    assert out.splitlines()[-1] == "next: pytest -m rollback_verify --as-of 2026-02-04T15:00:00Z"


def run_next(tmp_path: Path, line: str, hours: float) -> None:
    """Run the gate command a `next:` line names, as a user would."""
    command = shlex.split(line.removeprefix("next: "))
    assert command[:2] == ["pytest", "-m"], line
    marker, options = command[2], command[3:]
    run = run_suite(
        tmp_path, *options, marker=marker, paths=("tests/gates",), junit_name=f"j-{hours:g}.xml"
    )
    assert run.exit_code == 6, run.output  # stage 1 before +24 h: HOLD, not elapsed


def test_a_seeded_stage_1_and_2_with_real_checkpoints(
    tmp_path: Path, evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = status(capsys, 0.5, "--scenario", SCENARIO)
    assert (code, out) == (2, "")
    assert err.startswith(f"cutover: status: no ledger at {evidence / 'ledger.jsonl'}")
    assert len(err.splitlines()) == 1
    # +1 h, recorded by a real (partial) run: the seeded ledger now holds the scenario's events
    run_checkpoint(tmp_path, SCENARIO, 1, 1, only="success_rate")
    seeded = ("--scenario", SCENARIO)
    assert next_line(capsys, 0.5, *seeded) == "next: wait until 2026-02-02T10:00:00Z"
    code, out, _ = status(capsys, 3, *seeded)
    assert "+1h 2026-02-02T10:00:00Z: done as of 2026-02-02T10:00:00Z, HOLD (partial" in out
    assert "stage1.success_rate: about 33 more settled imports (26 of 59)" in out
    assert out.splitlines()[-1] == "next: wait until 2026-02-02T15:00:00Z"
    # +6 h was missed: the status names the backfill, and running it records the checkpoint
    line = next_line(capsys, 7.5, *seeded)
    assert line == (
        "next: pytest -m stage1_gate --scenario healthy-rollout --as-of 2026-02-02T15:00:00Z"
    )
    run_next(tmp_path, line, 6)
    code, out, _ = status(capsys, 7.5, *seeded)
    assert "+6h 2026-02-02T15:00:00Z: done as of 2026-02-02T15:00:00Z, HOLD" in out
    assert "stage1.success_rate: 222 settled imports, enough (59 needed)" in out
    assert "stage1.routing_split: 2400 routed requests, enough (664 needed)" in out
    assert out.splitlines()[-1] == "next: wait until 2026-02-03T09:00:00Z"
    # stage 2, as the scenario recorded it: a missed +12 h with +24 h due now
    code, out, _ = status(capsys, 48.5, *seeded)
    assert "stage 2 at 50% since 2026-02-03T09:00:00Z (24.5 h)" in out
    assert "+12h 2026-02-03T21:00:00Z: missed: backfill with" in out
    assert out.splitlines()[-1] == (
        "next: pytest -m stage2_gate --scenario healthy-rollout --as-of 2026-02-04T09:30:00Z"
    )
    # the same instant for CI job summaries and for tools
    code, markdown, _ = status(capsys, 48.5, *seeded, "--format", "markdown")
    assert markdown.startswith("### cutover status as of 2026-02-04T09:30:00Z")
    assert "| +12h | 2026-02-03T21:00:00Z | missed | `pytest -m stage2_gate" in markdown
    assert markdown.splitlines()[-1] == out.splitlines()[-1]
    code, text, _ = status(capsys, 48.5, *seeded, "--format", "json")
    document = json.loads(text)
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert [c["state"] for c in document["checkpoints"]] == [
        "missed",
        "due",
        "upcoming",
        "upcoming",
    ]
    assert "next: " + document["next"] == out.splitlines()[-1]


def test_status_with_db_counts_the_stage_so_far(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_checkpoint(tmp_path, SCENARIO, 1, 1, only="success_rate")
    code, out, err = status(capsys, 2, "--scenario", SCENARIO, "--db")
    assert code == 0, err
    # the database's two hours, not the ledger's one (26 settled at +1 h)
    assert (
        "stage1.success_rate: about 7 more settled imports (52 of 59), at the current rate "
        "(26.0/h) about 0.3 hours; from database"
    ) in out


def test_a_ledger_that_does_not_verify_is_one_line_and_no_status(
    tmp_path: Path, evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli("stage", "start", "1", "--at", at_hour(0))
    cli("attest", "complaints", "--count", "0", "--by", "alice", "--at", at_hour(2))
    ledger = evidence / "ledger.jsonl"
    ledger.write_text(ledger.read_text().replace('"alice"', '"mallory"'))
    code, out, err = status(capsys, 3)
    assert (code, out) == (2, "")
    assert err.startswith(f"cutover: ledger {ledger}: line 2: the record does not match")
    assert "cutover verify" in err and len(err.splitlines()) == 1


def test_an_instant_after_the_clock_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    cli("stage", "start", "1", "--at", at_hour(0))
    code, out, err = status(capsys, 24 * 365 * 2)
    assert (code, out) == (2, "")
    assert "is after the clock's" in err and len(err.splitlines()) == 1
