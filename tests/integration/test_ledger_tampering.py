"""A ledger edited by hand is refused by the gates (inconclusive, saying where it broke), not
read as if it were whole, never appended to or re-anchored; an edit the anchor was rewritten to
fit is caught by `cutover verify` from the JUnit files; a run that cannot record its checkpoint
is never exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cutover.cli import main
from cutover.ledger.store import digest
from suite_runner import SuiteRun, at_hour, run_checkpoint, run_suite


def test_gates_refuse_a_ledger_whose_chain_is_broken(tmp_path: Path) -> None:
    first = run_checkpoint(tmp_path, "healthy-rollout", 1, 24, only="complaints")
    assert first.verdicts == {"stage1.complaints": "pass"}, first.output
    ledger = first.evidence_dir / "ledger.jsonl"
    lines = ledger.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if json.loads(line)["type"] == "attestation")
    record = json.loads(lines[index])
    record["count"] = 0 if record["count"] else 3  # someone "corrects" an attestation
    lines[index] = json.dumps(record, sort_keys=True)
    ledger.write_text("\n".join(lines) + "\n")

    second = run_checkpoint(tmp_path, "healthy-rollout", 1, 24, only="complaints")

    assert second.verdicts == {"stage1.complaints": "inconclusive"}, second.output
    reason = second.properties["stage1.complaints"]["reason"]
    assert f"line {index + 2}" in reason and "hash chain broken" in reason
    # nothing is appended to a broken chain: the run says so, and exits 1, not 6
    assert second.exit_code == 1
    assert "checkpoint not recorded" in second.verdict_line
    assert len(ledger.read_text().splitlines()) == len(lines)


def _failing_interim(tmp_path: Path) -> tuple[SuiteRun, Path, list[str]]:
    """stage1-low-success at +6 h: the success rate fails, and is recorded as the last line."""
    run = run_checkpoint(tmp_path, "stage1-low-success", 1, 6, only="success_rate")
    assert run.verdicts == {"stage1.success_rate": "fail"}, run.output
    ledger = run.evidence_dir / "ledger.jsonl"
    return run, ledger, ledger.read_text(encoding="utf-8").splitlines(keepends=True)


def _as_passing(line: str) -> str:
    record = json.loads(line)
    assert record["type"] == "checkpoint"
    record["results"]["stage1.success_rate"]["verdict"] = "pass"
    return json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("edit", ["changed", "deleted"])
def test_an_edited_or_deleted_last_record_is_not_used_nor_re_anchored(
    tmp_path: Path, edit: str
) -> None:
    """Finding 7: the failing +6 h checkpoint "corrected" to passing (or removed)."""
    _, ledger, lines = _failing_interim(tmp_path)
    head = ledger.with_name("ledger.head")
    anchor = head.read_bytes()
    kept = [*lines[:-1], _as_passing(lines[-1])] if edit == "changed" else lines[:-1]
    ledger.write_text("".join(kept), encoding="utf-8")

    gate = run_checkpoint(tmp_path, "stage1-low-success", 1, 24)

    assert gate.exit_code == 1, gate.output
    assert not gate.verdict_line.startswith("cutover verdict: PROCEED")
    reason = gate.properties["stage1.success_rate"]["reason"]
    expected = "anchored record was changed" if edit == "changed" else "removed from the end"
    assert expected in reason and "cutover verify" in reason, reason
    assert "checkpoint not recorded" in gate.verdict_line
    assert ledger.read_text(encoding="utf-8") == "".join(kept)  # nothing appended
    assert head.read_bytes() == anchor  # and nothing re-anchored


def test_an_edit_with_a_rewritten_anchor_is_caught_from_the_junit_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, ledger, lines = _failing_interim(tmp_path)
    edited = _as_passing(lines[-1])
    ledger.write_text("".join([*lines[:-1], edited]), encoding="utf-8")
    head = json.loads(ledger.with_name("ledger.head").read_text())
    head["sha256"] = digest(edited.encode())
    ledger.with_name("ledger.head").write_text(json.dumps(head) + "\n")

    assert main(["verify", "--evidence-dir", str(run.evidence_dir)]) == 1
    out = capsys.readouterr().out
    assert "ok   head:" in out  # the forged anchor fits the edited record...
    assert f"FAIL junit: {run.junit_path.name}: ledger_head_after is line {len(lines)}" in out


def test_a_prereq_run_on_a_broken_chain_is_never_exit_0(tmp_path: Path) -> None:
    """Finding 6: the prerequisites read no ledger, so they all pass; the checkpoint cannot be
    recorded on the broken chain, and the exit status says so."""
    first = run_suite(tmp_path, f"--as-of={at_hour(-1)}")
    assert first.exit_code == 0, first.output
    ledger = first.evidence_dir / "ledger.jsonl"
    lines = ledger.read_text().splitlines(keepends=True)
    ledger.write_text("".join(lines[1:]))  # the first record removed
    second = run_suite(tmp_path, f"--as-of={at_hour(-1)}")
    assert set(second.verdicts.values()) == {"pass"}, second.output
    assert second.exit_code == 1
    assert second.verdict_line.startswith("cutover verdict: HOLD — prereq — checkpoint not")
    assert "line 1: hash chain broken" in second.verdict_line


def test_a_prereq_run_into_an_evidence_dir_that_cannot_be_written(tmp_path: Path) -> None:
    """Finding 6: the JUnit file goes elsewhere; the ledger cannot be written."""
    blocker = tmp_path / "read-only"
    blocker.write_text("a file, not a directory")
    run = run_suite(
        tmp_path,
        f"--as-of={at_hour(-1)}",
        f"--evidence-dir={blocker / 'evidence'}",
        f"--junitxml={tmp_path / 'junit.xml'}",
    )
    assert run.exit_code == 1, run.output
    assert run.verdict_line.startswith("cutover verdict: HOLD — prereq — checkpoint not recorded")
    assert "cannot be written (Not a directory)" in run.verdict_line
