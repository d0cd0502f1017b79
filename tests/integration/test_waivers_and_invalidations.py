"""Waivers, checkpoints set aside and advisory criteria, through the CLI and the real suite on a
scenario timeline (issue 16): a waiver applied, then expired; a checkpoint set aside and the
criteria that then skip it, saying so; an advisory failure that leaves PROCEED; the refusal to
waive a rollback trigger without --force."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cutover.cli import main
from cutover.ledger import Store
from suite_runner import SuiteRun, at_hour, run_checkpoint, run_suite

SLOW = "stage1-slow-imports"  # stage 1 whose only failure at +24 h is stage1.duration
HEALTHY = "healthy-rollout"


def cutover(evidence: Path, *args: str) -> int:
    return main(["--evidence-dir", str(evidence), *args])


def checkpoint_lines(evidence: Path) -> list[tuple[int, dict[str, object]]]:
    return [(e.line, dict(e.data)) for e in Store(evidence).read() if e.type == "checkpoint"]


def interim_checkpoints(tmp_path: Path, scenario: str) -> Path:
    """The +1 h and +6 h success-rate checkpoints a +24 h gate reads."""
    for hours in (1, 6):
        run = run_checkpoint(tmp_path, scenario, 1, hours, only="success_rate")
        assert run.exit_code == 6, run.output
    return tmp_path / "evidence"


@pytest.fixture(scope="module")
def slow_stage1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return interim_checkpoints(tmp_path_factory.mktemp("slow"), SLOW)


@pytest.fixture
def slow_evidence(slow_stage1: Path, tmp_path: Path) -> Path:
    """A copy of the slow scenario's ledger after its interim checkpoints, for one test."""
    shutil.copytree(slow_stage1, tmp_path / "evidence")
    return tmp_path / "evidence"


def test_a_waiver_applies_then_expires(slow_evidence: Path, tmp_path: Path) -> None:
    failed = run_checkpoint(tmp_path, SLOW, 1, 24)
    assert failed.verdicts["stage1.duration"] == "fail", failed.output
    assert failed.verdict_line.startswith("cutover verdict: ROLLBACK — stage1_gate — ")

    code = cutover(
        slow_evidence,
        *("waive", "stage1.duration", "--reason", "imports of 2 GB exports take 25 min"),
        *("--by", "alice", "--at", at_hour(23.5), "--until", at_hour(25)),
        *("--scenario", SLOW),
    )
    assert code == 0
    waived = run_checkpoint(tmp_path, SLOW, 1, 24)
    props = waived.properties["stage1.duration"]
    assert props["verdict"] == "waived", waived.output
    assert json.loads(props["waiver"]) == {
        "by": "alice",
        "reason": "imports of 2 GB exports take 25 min",
        "line": len(Store(slow_evidence).read()) - 1,  # the waiver, just before this checkpoint
        "decided": "fail",
        "until": at_hour(25),
        "checkpoint": None,
        "forced": False,
    }
    assert waived.exit_code == 0
    assert waived.verdict_line.startswith(
        f"cutover verdict: PROCEED (1 waived: stage1.duration by alice until {at_hour(25)}) — "
        "stage1_gate — stage1.duration (waived) "
    ), waived.verdict_line
    assert "WAIVED" in waived.output  # the criteria table
    _, recorded = checkpoint_lines(slow_evidence)[-1]
    results = recorded["results"]
    assert isinstance(results, dict)
    assert results["stage1.duration"]["verdict"] == "waived"
    assert results["stage1.duration"]["waiver"]["by"] == "alice"

    # +26 h re-decides stage 1 (ended by stage 2's start at +24 h): the waiver expired at +25 h
    expired = run_checkpoint(tmp_path, SLOW, 1, 26)
    assert expired.verdicts["stage1.duration"] == "fail", expired.output
    assert "waiver" not in expired.properties["stage1.duration"]
    assert expired.exit_code == 1
    assert expired.verdict_line.startswith("cutover verdict: ROLLBACK — stage1_gate — ")

    assert cutover(slow_evidence, "report") == 0
    report = (slow_evidence / "report.md").read_text(encoding="utf-8")
    assert "## Waivers and checkpoints set aside" in report
    assert "imports of 2 GB exports take 25 min" in report
    assert cutover(slow_evidence, "verify") == 0


def test_an_advisory_failure_leaves_proceed(slow_evidence: Path, tmp_path: Path) -> None:
    config = tmp_path / "cutover.toml"
    config.write_text('[profile]\nadvisory = ["stage1.duration"]\n', encoding="utf-8")
    run = run_suite(
        tmp_path,
        f"--scenario={SLOW}",
        f"--as-of={at_hour(24)}",
        marker="stage1_gate",
        paths=("tests/gates",),
        env={"CUTOVER_CONFIG": str(config)},
    )
    props = run.properties["stage1.duration"]
    assert (props["verdict"], props["advisory"]) == ("fail", "true"), run.output
    assert all(v == "pass" for c, v in run.verdicts.items() if c != "stage1.duration")
    assert "stage1.duration [fail, advisory]: " in run.output  # the criteria table
    assert run.exit_code == 0, run.output
    assert run.verdict_line.startswith(
        "cutover verdict: PROCEED — stage1_gate — stage1.duration (fail, advisory) "
    ), run.verdict_line
    _, recorded = checkpoint_lines(slow_evidence)[-1]
    results = recorded["results"]
    assert isinstance(results, dict)
    assert results["stage1.duration"]["advisory"] == "true"
    assert cutover(slow_evidence, "report") == 0
    report = (slow_evidence / "report.md").read_text(encoding="utf-8")
    assert "❌ fail advisory" in report
    assert "## Verdict: ✅ PROCEED" in report


def test_a_rollback_trigger_is_waived_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "evidence"
    waive = ("waive", "rollback.data_corruption", "--reason", "a known test row", "--by", "alice")
    seeded = ("--at", "2026-01-01T00:00:00Z", "--scenario", "rollback-corruption")
    assert cutover(evidence, *waive, *seeded) == 2
    said = capsys.readouterr().err.strip().splitlines()
    assert said == [
        "cutover: waive: rollback.data_corruption is a rollback trigger: a waiver of it is "
        "refused unless --force is given (the waiver is then marked forced everywhere it shows)"
    ]
    assert not (evidence / "ledger.jsonl").exists()

    assert cutover(evidence, *waive, *seeded, "--force") == 0
    run = run_suite(
        tmp_path, "--scenario=rollback-corruption", marker="rollback", paths=("tests/rollback",)
    )
    props = run.properties["rollback.data_corruption"]
    assert props["verdict"] == "waived", run.output
    assert json.loads(props["waiver"])["forced"] is True
    assert "(1 waived: rollback.data_corruption by alice, forced)" in run.verdict_line
    assert cutover(evidence, "report") == 0
    report = (evidence / "report.md").read_text(encoding="utf-8")
    assert "📝 waived forced" in report
    assert "(forced: a rollback trigger)" in report


def _run_stage1_through_24h(tmp_path: Path) -> tuple[Path, SuiteRun]:
    evidence = interim_checkpoints(tmp_path, HEALTHY)
    return evidence, run_checkpoint(tmp_path, HEALTHY, 1, 24)


def test_a_checkpoint_set_aside_is_skipped_and_said(tmp_path: Path) -> None:
    evidence, gate = _run_stage1_through_24h(tmp_path)
    assert gate.exit_code == 0, gate.output
    lines = checkpoint_lines(evidence)
    six_hours = next(line for line, data in lines if data["as_of"] == at_hour(6))

    reason = "measured against the staging database"
    assert cutover(evidence, "invalidate", str(six_hours), "--reason", reason, "--by", "bob") == 0
    again = run_checkpoint(tmp_path, HEALTHY, 1, 24)
    props = again.properties["stage1.success_rate"]
    assert props["verdict"] == "inconclusive", again.output
    assert f"checkpoint +6h ({at_hour(6)}) has no record" in props["reason"]
    assert (
        f"ignored checkpoint line {six_hours} ({at_hour(6)}) set aside by bob: {reason}"
        in (props["reason"])
    )
    assert json.loads(props["details"])["set_aside"] == [
        {"line": six_hours, "as_of": at_hour(6), "by": "bob", "reason": reason}
    ]
    assert again.exit_code == 6

    # stage 2 compares with stage 1's latest duration checkpoint: both +24 h runs set aside
    for line, data in checkpoint_lines(evidence):
        if data["as_of"] == at_hour(24):
            assert (
                cutover(evidence, "invalidate", str(line), "--reason", "wrong db", "--by", "bob")
                == 0
            )
    stage2 = run_checkpoint(tmp_path, HEALTHY, 2, 72, only="duration_vs_stage1")
    props = stage2.properties["stage2.duration_vs_stage1"]
    assert props["verdict"] == "inconclusive", stage2.output
    assert props["reason"].startswith("no stage 1 duration checkpoint in the ledger")
    assert "set aside by bob: wrong db" in props["reason"]

    # it stays in the chain; the report strikes it through, with the reason
    assert cutover(evidence, "verify") == 0
    assert cutover(evidence, "invalidate", str(six_hours), "--reason", "again", "--by", "eve") == 2
    assert cutover(evidence, "report") == 0
    report = (evidence / "report.md").read_text(encoding="utf-8")
    assert f"~~stage1\\_gate checkpoint: 1 pass → HOLD~~ set aside by bob: {reason}" in report
    html = (evidence / "report.html").read_text(encoding="utf-8")
    assert "<s>stage1_gate checkpoint: 1 pass → HOLD</s>" in html


def test_only_a_checkpoint_record_can_be_set_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "evidence"
    assert cutover(evidence, "stage", "start", "1") == 0
    assert cutover(evidence, "invalidate", "1", "--reason", "x", "--by", "bob") == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "invalidate: line 1 of "
            f"{evidence / 'ledger.jsonl'} is a stage_started record, not a checkpoint"
        )
    )
    assert cutover(evidence, "invalidate", "9", "--reason", "x", "--by", "bob") == 2
    assert "has no line 9 (it holds 1 records)" in capsys.readouterr().err
    assert len(Store(evidence).read()) == 1
