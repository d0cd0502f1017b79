"""The `cutover` command: ledger records, attestation defaults, refusals with exit 2."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from cutover.cli import main
from cutover.ledger import Store
from cutover.ledger.records import Origin, SignatureClassification, StageStarted
from cutover.ledger.view import LedgerView
from cutover.timeutil import parse_instant


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No cutover.toml or CUTOVER_* variable of the caller's may leak into the command."""
    monkeypatch.chdir(tmp_path)
    for name in ("CUTOVER_CONFIG", "CUTOVER_EVIDENCE_DIR", "CUTOVER_SCENARIOS_DIR"):
        monkeypatch.delenv(name, raising=False)


def run(tmp_path: Path, *args: str) -> int:
    return main(["--evidence-dir", str(tmp_path / "evidence"), *args])


def records(tmp_path: Path) -> list[dict]:
    return [dict(r.data) for r in Store(tmp_path / "evidence").read()]


def test_stage_start_records_the_stage_percent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "stage", "start", "1", "--at", "2026-02-02T09:00:00Z") == 0
    [record] = records(tmp_path)
    assert record["type"] == "stage_started"
    assert record["stage"] == 1
    assert record["percent"] == 10
    assert record["at"] == "2026-02-02T09:00:00Z"
    assert "stage 1 started at 2026-02-02T09:00:00Z (10%)" in capsys.readouterr().out


@pytest.mark.parametrize(("stage", "percent"), [("2", 50), ("3", 100), ("4", 100)])
def test_later_stages_take_their_percent(tmp_path: Path, stage: str, percent: int) -> None:
    assert run(tmp_path, "stage", "start", stage, "--at", "2026-02-03T09:00:00Z") == 0
    assert records(tmp_path)[0]["percent"] == percent


def test_rollback_records_reason_and_zero(tmp_path: Path) -> None:
    assert run(tmp_path, "rollback", "--reason", "x", "--at", "2026-02-02T12:00:00+01:00") == 0
    [record] = records(tmp_path)
    assert record["type"] == "rollback"
    assert record["reason"] == "x"
    assert record["percent"] == 0
    assert record["at"] == "2026-02-02T11:00:00Z"


def test_attest_since_defaults_to_current_stage_start(tmp_path: Path) -> None:
    assert run(tmp_path, "stage", "start", "1", "--at", "2026-02-02T09:00:00Z") == 0
    args = ("attest", "complaints", "--count", "0", "--by", "alice")
    assert run(tmp_path, *args, "--at", "2026-02-02T15:00:00Z") == 0
    attestation = records(tmp_path)[1]
    assert attestation["type"] == "attestation"
    assert attestation["kind"] == "complaints"
    assert attestation["count"] == 0
    assert attestation["by"] == "alice"
    assert attestation["since"] == "2026-02-02T09:00:00Z"
    assert attestation["at"] == "2026-02-02T15:00:00Z"


def test_attest_never_starts_at_a_seeded_stage(tmp_path: Path) -> None:
    """A seeded scenario's records in the same ledger are not this rollout's stage."""
    evidence = tmp_path / "evidence"
    seeded = Origin.seeded("healthy-rollout")
    Store(evidence).append(StageStarted(1, 10, parse_instant("2026-02-02T09:00:00Z"), seeded))
    args = ("attest", "complaints", "--count", "0", "--by", "alice")
    assert run(tmp_path, *args, "--at", "2026-02-02T15:00:00Z") == 2
    assert run(tmp_path, "stage", "start", "1", "--at", "2026-02-02T10:00:00Z") == 0
    later = parse_instant("2026-02-02T12:00:00Z")
    Store(evidence).append(StageStarted(2, 50, later, seeded))
    assert run(tmp_path, *args, "--at", "2026-02-02T15:00:00Z") == 0
    assert records(tmp_path)[-1]["since"] == "2026-02-02T10:00:00Z"


def test_attest_for_a_seeded_scenario_marks_it_and_starts_at_its_stage(tmp_path: Path) -> None:
    """`--scenario`: the record is the scenario's (its gate runs read it, live ones never), and
    `--since` defaults to the scenario's stage, not the live one."""
    evidence = tmp_path / "evidence"
    seeded = Origin.seeded("healthy-rollout")
    Store(evidence).append(StageStarted(1, 10, parse_instant("2026-02-02T09:00:00Z"), seeded))
    args = (
        "attest",
        "complaints",
        "--count",
        "0",
        "--by",
        "alice",
        "--scenario",
        "healthy-rollout",
    )
    assert run(tmp_path, *args, "--at", "2026-02-02T15:00:00Z") == 0
    attestation = records(tmp_path)[-1]
    assert (attestation["target"], attestation["scenario"]) == ("seeded", "healthy-rollout")
    assert attestation["since"] == "2026-02-02T09:00:00Z"
    at = parse_instant("2026-02-02T16:00:00Z")
    assert (
        LedgerView.load(evidence, at, target="live", scenario=None).complaint_attestations() == []
    )


def test_attest_explicit_since(tmp_path: Path) -> None:
    args = ("attest", "complaints", "--count", "2", "--by", "bob")
    times = ("--since", "2026-02-01T00:00:00Z", "--at", "2026-02-02T00:00:00Z")
    assert run(tmp_path, *args, *times) == 0
    assert records(tmp_path)[0]["since"] == "2026-02-01T00:00:00Z"


def test_attest_without_stage_exits_2_naming_since(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("attest", "complaints", "--count", "0", "--by", "alice")
    assert run(tmp_path, *args, "--at", "2026-02-02T15:00:00Z") == 2
    assert "--since" in capsys.readouterr().err
    assert records(tmp_path) == []


def test_attest_after_rollback_needs_since(tmp_path: Path) -> None:
    assert run(tmp_path, "stage", "start", "1", "--at", "2026-02-02T09:00:00Z") == 0
    assert run(tmp_path, "rollback", "--reason", "x", "--at", "2026-02-02T10:00:00Z") == 0
    args = ("attest", "complaints", "--count", "0", "--by", "alice")
    assert run(tmp_path, *args, "--at", "2026-02-02T11:00:00Z") == 2


def test_attest_since_after_at_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("attest", "complaints", "--count", "0", "--by", "a")
    times = ("--since", "2026-02-03T00:00:00Z", "--at", "2026-02-02T00:00:00Z")
    assert run(tmp_path, *args, *times) == 2
    assert "is after --at" in capsys.readouterr().err


def test_attest_negative_count_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("attest", "complaints", "--count", "-1", "--by", "a")
    assert run(tmp_path, *args, "--since", "2026-02-01T00:00:00Z") == 2
    assert "--count is -1" in capsys.readouterr().err


def test_bad_at_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        run(tmp_path, "stage", "start", "1", "--at", "tomorrow")
    assert info.value.code == 2
    assert "'tomorrow' is not an ISO 8601 instant" in capsys.readouterr().err
    assert not (tmp_path / "evidence" / "ledger.jsonl").exists()


def test_seed_refuses_a_non_local_host_without_printing_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://u:pw@db.example.com/x"
    assert run(tmp_path, "seed", "--db-url", url, "--scenario", "healthy-rollout") == 2
    captured = capsys.readouterr()
    assert "refusing" in captured.err
    assert "db.example.com" in captured.err and "not local" in captured.err
    assert "pw" not in captured.err
    assert "pw" not in captured.out


# -- cutover classify ---------------------------------------------------------------------------

AT = "2026-02-02T20:00:00Z"


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


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_classify_refuses_an_empty_signature_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """Review 12: `cutover classify "$SIG"` with SIG unset classified `<empty>` and exited 0."""
    assert run(tmp_path, "classify", text, "--as", "user", "--by", "alice") == 2
    err = capsys.readouterr().err
    assert "classify: the signature is empty" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "evidence" / "ledger.jsonl").exists()


# -- bad input: one line naming the file or setting, exit 2, never a traceback -------------------


def _one_line(captured: pytest.CaptureResult[str]) -> str:
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_seed_on_a_closed_port_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://admin:S3cretPw@127.0.0.1:{port}/postgres"
    assert run(tmp_path, "seed", "--db-url", url, "--scenario", "healthy-rollout") == 2
    line = _one_line(capsys.readouterr())
    assert line.startswith(f"cutover: seed: --db-url postgresql://admin:***@127.0.0.1:{port}/")
    assert "cannot connect" in line and "Connection refused" in line
    assert "S3cretPw" not in line


def test_stage_start_into_a_directory_that_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    code = main(["--evidence-dir", str(blocker / "evidence"), "stage", "start", "1"])
    assert code == 2
    line = _one_line(capsys.readouterr())
    assert line == (
        f"cutover: ledger {blocker / 'evidence'}: cannot be written (Not a directory); "
        "expected a writable evidence directory (CUTOVER_EVIDENCE_DIR or --evidence-dir)"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_stage_start_into_a_read_only_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    evidence.chmod(0o555)
    try:
        assert run(tmp_path, "stage", "start", "1") == 2
    finally:
        evidence.chmod(0o755)
    assert "cannot be written (Permission denied)" in _one_line(capsys.readouterr())


def test_an_unreadable_ledger_is_one_line_for_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "evidence" / "ledger.jsonl").mkdir(parents=True)
    assert run(tmp_path, "attest", "complaints", "--count", "0", "--by", "a") == 2
    assert _one_line(capsys.readouterr()).endswith(
        "ledger.jsonl: cannot be read (Is a directory); expected a ledger file"
    )
    assert run(tmp_path, "report") == 2
    assert "cannot be read (Is a directory)" in _one_line(capsys.readouterr())


def test_a_command_refuses_to_append_to_a_broken_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "stage", "start", "1", "--at", "2026-02-02T09:00:00Z") == 0
    assert run(tmp_path, "rollback", "--reason", "drill", "--at", "2026-02-02T10:00:00Z") == 0
    ledger = tmp_path / "evidence" / "ledger.jsonl"
    ledger.write_text(ledger.read_text().replace("drill", "nothing happened"))  # the last one
    capsys.readouterr()
    assert run(tmp_path, "stage", "start", "2", "--at", "2026-02-03T09:00:00Z") == 2
    line = _one_line(capsys.readouterr())
    assert "line 2: the record does not match ledger.head" in line
    assert "run `cutover verify`" in line
    assert len(ledger.read_text().splitlines()) == 2


@pytest.mark.parametrize(
    "command",
    [
        ("classify", "KeyError: <str>", "--as", "user", "--by", "a"),
        ("attest", "complaints", "--count", "0", "--by", "a"),
        ("stage", "start", "1"),
        ("waive", "stage1.success_rate", "--reason", "r", "--by", "a"),
    ],
    ids=lambda command: command[0],
)
def test_a_misspelt_scenario_is_refused_in_one_line_and_records_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """A record for a scenario that does not exist belongs to no timeline a gate reads."""
    assert run(tmp_path, *command, "--scenario", "healthy-rolout") == 2
    err = capsys.readouterr().err.strip()
    assert "--scenario 'healthy-rolout': no such seeded scenario" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "evidence" / "ledger.jsonl").exists()
