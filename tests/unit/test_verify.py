"""`cutover verify` on evidence from a real seeded run, then on copies edited by hand: a ledger
record changed, removed or reordered, the last record changed (caught only with `ledger.head`),
a JUnit file that disagrees with the ledger, and a query file changed since it ran."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_report import shared_evidence

from cutover.cli import main
from cutover.config import Settings
from cutover.ledger import HEAD_NAME, LedgerBroken, Store
from cutover.ledger.records import Rollback, StageStarted
from cutover.ledger.signing import signer_for
from cutover.ledger.store import Head, digest
from cutover.paths import sql_dir
from cutover.verify import verify
from ledger_writing import append_unchecked

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stage 1 on `stage1-low-success` (shared with test_report); tests edit copies only."""
    return shared_evidence(tmp_path_factory, "low")["low"]


@pytest.fixture
def evidence(pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CUTOVER_EVIDENCE_DIR", raising=False)
    monkeypatch.delenv("CUTOVER_SQL_DIR", raising=False)
    copy = tmp_path / "evidence"
    shutil.copytree(pristine, copy)
    return copy


def run_verify(evidence: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["verify", "--evidence-dir", str(evidence)])
    return code, capsys.readouterr().out.rstrip().splitlines()


def ledger_lines(evidence: Path) -> list[str]:
    return (evidence / "ledger.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(evidence: Path, lines: list[str]) -> None:
    (evidence / "ledger.jsonl").write_text("".join(lines), encoding="utf-8")


def test_untouched_evidence_verifies(evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_verify(evidence, capsys)
    assert code == 0, out
    assert out[-1].startswith("cutover verify: OK — head, junit, ledger, queries hold")
    assert any(re.match(r"ok +junit: junit-stage1_gate-24h\.xml: 9 criteria match", o) for o in out)
    assert any("records, hash chain intact" in o for o in out)
    # every checkpoint the suite records is anchored in ledger.head
    assert any(re.match(r"ok +head: line \d+ matches ledger.head", o) for o in out), out


def test_a_changed_record_breaks_the_chain_at_the_next_line(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ledger_lines(evidence)
    index = next(i for i, line in enumerate(lines) if '"count": 0' in line)  # an attestation
    lines[index] = lines[index].replace('"count": 0', '"count": 5')
    write_lines(evidence, lines)
    code, out = run_verify(evidence, capsys)
    assert code == 1
    changed, broken = index + 1, index + 2
    assert out[-1].startswith(
        f"cutover verify: FAILED — ledger: ledger.jsonl line {broken}: hash chain broken"
    )
    assert f"line {changed} was changed" in out[-1]


def test_a_removed_record_is_caught(evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ledger_lines(evidence)
    del lines[1]
    write_lines(evidence, lines)
    code, out = run_verify(evidence, capsys)
    assert code == 1
    assert "ledger.jsonl line 2: hash chain broken" in out[-1]


def test_reordered_records_are_caught(evidence: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ledger_lines(evidence)
    lines[1], lines[2] = lines[2], lines[1]
    write_lines(evidence, lines)
    code, out = run_verify(evidence, capsys)
    assert code == 1
    assert "line 2: hash chain broken: it follows line 3, not line 1 (reordered)" in out[-1]


def test_the_last_record_needs_the_head_anchor(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ledger_lines(evidence)
    last = len(lines)
    record = json.loads(lines[-1])
    assert record["type"] == "checkpoint"
    record["results"]["stage1.success_rate"]["verdict"] = "pass"
    changed = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"

    # without an anchor the chain cannot see it (nothing follows the last record)...
    write_lines(evidence, [*lines[:-1], changed])
    _, out = run_verify(evidence, capsys)
    assert not any(f"line {last}:" in o and o.startswith("FAIL ledger") for o in out)

    # ...with one, it can
    write_lines(evidence, lines)
    assert Store(evidence).write_head() == evidence / HEAD_NAME
    assert json.loads((evidence / HEAD_NAME).read_text())["line"] == last
    assert run_verify(evidence, capsys)[0] == 0
    write_lines(evidence, [*lines[:-1], changed])
    code, out = run_verify(evidence, capsys)
    assert code == 1
    assert f"head: ledger.jsonl line {last} does not match ledger.head" in "\n".join(out)


def test_records_removed_from_the_end_are_caught_by_the_head(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Store(evidence).write_head()
    lines = ledger_lines(evidence)
    write_lines(evidence, lines[:-1])
    code, out = run_verify(evidence, capsys)
    assert code == 1
    assert any("records were removed from the end" in o for o in out)


def test_records_appended_after_the_anchor_fail(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every append anchors its record: one after the anchor was written by hand."""
    lines = ledger_lines(evidence)
    note = {"type": "note", "at": "2026-02-03T10:00:00Z", "prev": digest(lines[-1].encode())}
    write_lines(evidence, [*lines, json.dumps(note) + "\n"])
    code, out = run_verify(evidence, capsys)
    assert code == 1
    assert any(o.startswith("FAIL head:") and "anchored by nobody" in o for o in out), out


def test_write_head_refuses_a_broken_chain(evidence: Path) -> None:
    lines = ledger_lines(evidence)
    del lines[1]
    write_lines(evidence, lines)
    before = (evidence / HEAD_NAME).read_bytes()  # the suite anchored its last checkpoint
    with pytest.raises(LedgerBroken):
        Store(evidence).write_head()
    assert (evidence / HEAD_NAME).read_bytes() == before


def test_a_junit_file_that_disagrees_with_the_ledger(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = evidence / "junit-stage1_gate-24h.xml"
    text = junit.read_text(encoding="utf-8")
    edited = re.sub(
        r'(name="criterion" value="stage1.success_rate" /><property name="verdict" value=")fail',
        r"\1pass",
        text,
    )
    assert edited != text
    junit.write_text(edited, encoding="utf-8")
    code, out = run_verify(evidence, capsys)
    assert code == 1
    text_out = "\n".join(out)
    line = len(ledger_lines(evidence))  # the checkpoint is the last record
    assert f"stage1.success_rate is pass here but fail in the ledger (line {line})" in text_out
    assert "stage1.success_rate is pass but the test case is failed" in text_out


def test_a_junit_criterion_missing_from_the_ledger(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = evidence / "junit-stage1_gate-24h.xml"
    text = junit.read_text(encoding="utf-8")
    junit.write_text(text.replace("stage1.traffic", "stage1.invented"), encoding="utf-8")
    code, out = run_verify(evidence, capsys)
    assert code == 1
    assert any("stage1.invented (as of 2026-02-03T09:00:00Z) is in no ledger" in o for o in out)


def test_a_changed_query_file_is_reported(
    evidence: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    queries = tmp_path / "sql"
    shutil.copytree(sql_dir(), queries)
    with (queries / "q1_success_rate.sql").open("a", encoding="utf-8") as handle:
        handle.write("-- edited after the run\n")
    monkeypatch.setenv("CUTOVER_SQL_DIR", str(queries))
    code, out = run_verify(evidence, capsys)
    assert code == 1
    [finding] = [o for o in out if o.startswith("FAIL queries")]
    assert "sql/q1_success_rate.sql changed since it ran" in finding
    assert f"ledger line {len(ledger_lines(evidence))}" in finding
    assert "q1_success_rate.sql" in out[-1]


def test_verify_without_a_ledger_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_verify(tmp_path, capsys)
    assert code == 1
    assert out[-1].startswith("cutover verify: FAILED — ledger: no ledger.jsonl")


def test_verify_function_reports_findings(evidence: Path) -> None:
    result = verify(evidence)
    assert result.ok
    assert {f.check for f in result.findings} >= {"ledger", "junit", "queries", "head"}


def test_a_checkpoint_that_does_not_fit_its_schema_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {"type": "checkpoint", "selection": "x", "at": "2026-02-03T10:00:00Z", "results": "oops"}
    append_unchecked(tmp_path, bad)
    code, out = run_verify(tmp_path, capsys)
    assert code == 1
    expected = "ledger.jsonl line 1: checkpoint record: 'results' is 'oops', expected an object"
    assert f"FAIL ledger: {expected}" in out
    assert "ok   ledger: ledger.jsonl: 1 records, hash chain intact" in out


# -- the heads the runs recorded, and signed heads ----------------------------------------------


def test_an_edited_last_record_is_caught_by_the_junit_files_though_the_head_was_rewritten(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The laundering of the issue: the failing checkpoint "corrected" to passing and
    `ledger.head` rewritten to anchor the edit; the run's JUnit file still holds the head."""
    lines = ledger_lines(evidence)
    record = json.loads(lines[-1])
    record["results"]["stage1.success_rate"]["verdict"] = "pass"
    edited = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    write_lines(evidence, [*lines[:-1], edited])
    forged = Head(len(lines), digest(edited.encode()), len(lines), "2026-02-03T10:00:00Z")
    (evidence / HEAD_NAME).write_text(forged.text(), encoding="utf-8")
    code, out = run_verify(evidence, capsys)
    assert code == 1
    assert any(re.match(r"ok +head: line \d+ matches ledger.head", o) for o in out)  # forged
    [finding] = [o for o in out if "ledger_head_after" in o]
    assert finding.startswith("FAIL junit: junit-stage1_gate-24h.xml: ledger_head_after is line")
    assert "the record was changed after the run" in finding


def test_every_junit_file_of_a_run_records_the_heads(evidence: Path) -> None:
    result = verify(evidence)
    unchanged = "the ledger heads it recorded are unchanged"
    heads = [f for f in result.findings if unchanged in f.message]
    assert len(heads) == len(list(evidence.glob("junit-*.xml"))) >= 1


def _ssh_key(tmp_path: Path, name: str = "signer") -> tuple[Path, Path]:
    key = tmp_path / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    public = key.with_suffix(".pub").read_text().strip()
    allowed = tmp_path / f"{name}.allowed"
    allowed.write_text(f'{name}@example.org namespaces="cutover-ledger" {public}\n')
    return key, allowed


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")
def test_an_ssh_signed_head_verifies_and_a_rewritten_one_fails(tmp_path: Path) -> None:
    key, allowed = _ssh_key(tmp_path)
    evidence = tmp_path / "evidence"
    signs = Settings(evidence_dir=evidence, ledger_ssh_key=key)
    store = Store(evidence, sign=signer_for(signs))
    store.append(StageStarted(1, 10, T0))
    store.append(Rollback("drill", T0 + timedelta(hours=1)))
    checks = Settings(evidence_dir=evidence, ledger_allowed_signers=allowed)
    [finding] = [f for f in verify(evidence, checks).findings if f.check == "signature"]
    assert (finding.status, finding.message) == (
        "ok",
        "ledger.head is signed by signer@example.org",
    )

    _, other = _ssh_key(tmp_path, "stranger")  # a key that is not allowed
    [finding] = [
        f
        for f in verify(evidence, Settings(ledger_allowed_signers=other)).findings
        if f.check == "signature"
    ]
    assert finding.status == "FAIL"

    # the last record removed, and the head rewritten to fit: the signature no longer matches
    lines = ledger_lines(evidence)
    write_lines(evidence, lines[:-1])
    forged = Head(1, digest(lines[0].encode()), 1, "2026-02-03T10:00:00Z")
    (evidence / HEAD_NAME).write_text(forged.text(), encoding="utf-8")
    result = verify(evidence, checks)
    [finding] = [f for f in result.findings if f.check == "signature"]
    assert finding.status == "FAIL"
    assert "does not verify ledger.head" in finding.message
    assert not result.ok
    # without the allowed signers the signature is there but not checked: said so
    [note] = [f for f in verify(evidence).findings if f.check == "signature"]
    assert note.status == "note" and "CUTOVER_LEDGER_ALLOWED_SIGNERS" in note.message


def test_an_hmac_signed_head_is_checked_with_the_key_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "evidence"
    key = "k3y-only-the-release-manager-has"
    store = Store(evidence, sign=signer_for(Settings(evidence_dir=evidence, ledger_hmac_key=key)))
    store.append(StageStarted(1, 10, T0))
    monkeypatch.setenv("CUTOVER_LEDGER_HMAC_KEY", key)
    code, out = run_verify(evidence, capsys)
    assert "ok   signature: ledger.head carries a valid HMAC (ledger.head.hmac)" in out
    head = Store(evidence).head()
    assert head is not None
    (evidence / HEAD_NAME).write_text(Head(1, head.sha256, 1, "2030-01-01T00:00:00Z").text())
    code, out = run_verify(evidence, capsys)
    assert code == 1
    assert "FAIL signature: ledger.head.hmac does not match ledger.head" in "\n".join(out)
    monkeypatch.setenv("CUTOVER_LEDGER_HMAC_KEY", "another-key-entirely")
    assert run_verify(evidence, capsys)[0] == 1
    assert key not in (evidence / "ledger.head.hmac").read_text()


def test_a_signature_asked_for_but_missing_fails(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    Store(evidence).append(StageStarted(1, 10, T0))
    result = verify(evidence, Settings(ledger_hmac_key="some-key-here"))
    [finding] = [f for f in result.findings if f.check == "signature"]
    assert finding.status == "FAIL"
    assert "not signed (no ledger.head.hmac)" in finding.message


def test_a_failed_test_case_without_a_criterion_is_noted(
    evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = evidence / "junit-stage1_gate-24h.xml"
    text = junit.read_text(encoding="utf-8")
    case = (
        '<testcase classname="tests.router.test_x" name="test_y"><failure message="m"/></testcase>'
    )
    junit.write_text(text.replace("</testsuite>", case + "</testsuite>"), encoding="utf-8")
    code, out = run_verify(evidence, capsys)
    assert code == 0
    note = "junit-stage1_gate-24h.xml: tests.router.test_x::test_y failed and decided no criterion"
    assert any(o.startswith("note junit: " + note) for o in out), out
