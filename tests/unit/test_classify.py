"""`cutover classify`: the attestation it writes, and later runs reading it through the view."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover.cli import main
from cutover.ledger import Store
from cutover.ledger.records import SignatureClassification
from cutover.ledger.view import LedgerView
from cutover.timeutil import parse_instant

AT = "2026-02-02T20:00:00Z"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CUTOVER_CONFIG", "CUTOVER_EVIDENCE_DIR", "CUTOVER_SCENARIOS_DIR"):
        monkeypatch.delenv(name, raising=False)


def run(tmp_path: Path, *args: str) -> int:
    return main(["--evidence-dir", str(tmp_path / "evidence"), *args])


def view(tmp_path: Path, *, scenario: str | None = None) -> LedgerView:
    target = "live" if scenario is None else "seeded"
    instant = parse_instant("2026-02-03T00:00:00Z", what="as_of")
    return LedgerView.load(tmp_path / "evidence", instant, target=target, scenario=scenario)


def test_classify_records_the_normalised_signature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = "Pipeline failed: ValueError: conversation tree has a cycle at node 12"
    assert run(tmp_path, "classify", raw, "--as", "user", "--by", "alice", "--at", AT) == 0
    [entry] = Store(tmp_path / "evidence").read()
    record = entry.parse()
    assert isinstance(record, SignatureClassification)
    text = "ValueError: conversation tree has a cycle at node <n>"
    assert record.signature == text and record.classified_as == "user"
    assert dict(entry.data)["kind"] == "signature"
    assert view(tmp_path).signature_classifications() == {
        text: ("user", "alice", parse_instant(AT, what="at"))
    }
    assert f"classified {text!r} as user by alice" in capsys.readouterr().out


def test_a_later_classification_wins_and_the_signature_form_is_accepted(tmp_path: Path) -> None:
    text = "KeyError: <str>"
    assert run(tmp_path, "classify", text, "--as", "user", "--by", "a", "--at", AT) == 0
    later = "2026-02-02T21:00:00Z"
    assert run(tmp_path, "classify", text, "--as", "systemic", "--by", "b", "--at", later) == 0
    assert view(tmp_path).signature_classifications()[text][:2] == ("systemic", "b")


def test_a_seeded_scenario_reads_only_its_own_classifications(tmp_path: Path) -> None:
    args = ("classify", "KeyError: <str>", "--as", "user", "--by", "a", "--at", AT)
    assert run(tmp_path, *args, "--scenario", "healthy-rollout") == 0
    assert view(tmp_path).signature_classifications() == {}
    assert (
        "KeyError: <str>" in view(tmp_path, scenario="healthy-rollout").signature_classifications()
    )


def test_classify_refuses_an_unknown_kind_and_an_empty_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(tmp_path, "classify", "x", "--as", "maybe", "--by", "a")
    assert exited.value.code == 2
    assert run(tmp_path, "classify", "x", "--as", "user", "--by", " ") == 2
    assert "--by is empty" in capsys.readouterr().err
    assert not (tmp_path / "evidence" / "ledger.jsonl").exists()
