"""A ledger edited by hand is refused by the gates (inconclusive, saying where it broke), not
read as if it were whole."""

from __future__ import annotations

import json
from pathlib import Path

from suite_runner import run_checkpoint


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
    assert second.exit_code == 6
