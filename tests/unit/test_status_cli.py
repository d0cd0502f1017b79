"""`cutover status` through the CLI on ledgers it must refuse or databases it cannot read
(review 16s): a head signature that fails as `cutover verify` checks it, `--db` on a closed port
or with no database named: one line, exit 2, naming the setting.

Each test's docstring says what status did wrong before (review 16s, with its severity) and
why that matters."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_status import STAGE1, whole_gate

from cutover.cli import main
from cutover.ledger import Store


def test_status_db_on_a_closed_port_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """LOW. `cutover status --db` against a closed port prints psycopg's two-line message
    ("... Connection refused" then "\\tIs the server running ..."), not one line naming the
    setting (CUTOVER_DATABASE_URL) as the house rule asks for bad input."""
    evidence = tmp_path / "evidence"
    monkeypatch.setenv("CUTOVER_EVIDENCE_DIR", str(evidence))
    monkeypatch.setenv("CUTOVER_DATABASE_URL", "postgresql://admin:s3cretPW@127.0.0.1:1/prod")
    monkeypatch.delenv("CUTOVER_AS_OF", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["stage", "start", "1", "--at", "2026-03-02T09:00:00Z"]) == 0
    capsys.readouterr()
    code = main(["status", "--as-of", "2026-03-02T10:30:00Z", "--db"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert "s3cretPW" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert "CUTOVER_DATABASE_URL" in err, err


def test_a_ledger_whose_signature_fails_is_no_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """MEDIUM. README: "A ledger that is absent or does not verify is one line and exit 2:
    status never reports on evidence it cannot verify". With signing configured
    (CUTOVER_LEDGER_HMAC_KEY), a ledger and anchor rewritten without the key (a forged PROCEED
    gate) fail `cutover verify` ("ledger.head.hmac does not match"), yet `cutover status` checks
    only chain and anchor (`Store.read`) and says `next: cutover stage start 2`, exit 0."""
    signed, forged = tmp_path / "evidence", tmp_path / "forged"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUTOVER_AS_OF", raising=False)
    monkeypatch.setenv("CUTOVER_EVIDENCE_DIR", str(signed))
    monkeypatch.setenv("CUTOVER_LEDGER_HMAC_KEY", "k3y-for-review")
    assert main(["stage", "start", "1", "--at", "2026-03-02T09:00:00Z"]) == 0
    assert (signed / "ledger.head.hmac").exists()
    store = Store(forged)  # no signer: whoever forges has no key
    for record in (STAGE1, whole_gate(1.0), whole_gate(6.0), whole_gate(24.2)):
        store.append(record)
    for name in ("ledger.jsonl", "ledger.head"):
        (signed / name).write_bytes((forged / name).read_bytes())
    capsys.readouterr()
    assert main(["verify"]) != 0 or "FAILED" in capsys.readouterr().out
    capsys.readouterr()
    code = main(["status", "--as-of", "2026-03-03T10:00:00Z"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), out.splitlines()[-1:]


def test_the_db_error_names_only_options_status_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """LOW. `cutover status --db` with no database says "CUTOVER_DATABASE_URL / --db-url is not
    set", but `cutover status` has no `--db-url` (argparse: "unrecognized arguments"): the one
    line sends the operator to an option that does not exist there."""
    monkeypatch.setenv("CUTOVER_EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.delenv("CUTOVER_DATABASE_URL", raising=False)
    monkeypatch.delenv("CUTOVER_AS_OF", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["stage", "start", "1", "--at", "2026-03-02T09:00:00Z"]) == 0
    capsys.readouterr()
    assert main(["status", "--as-of", "2026-03-02T10:30:00Z", "--db"]) == 2
    err = capsys.readouterr().err
    assert "--db-url" in err
    url = "postgresql://reader@127.0.0.1:1/x"
    try:
        main(["status", "--as-of", "2026-03-02T10:30:00Z", "--db", "--db-url", url])
    except SystemExit as exc:
        pytest.fail(f"the error names --db-url, which status rejects (exit {exc.code})")
