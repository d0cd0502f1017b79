"""Hostile review of `cutover status` (issue 16, the status part): each test states a defect
found on main and fails on it. The next step (`next:`) is the one line an operator acts on; a
wrong one either waits through a rollback the runbook says to run now, or starts the next stage
on evidence that asked for a rollback."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest
from test_status import STAGE1, T0, h, run, status_at, success, whole_gate

from cutover.cli import main
from cutover.ledger import Store
from cutover.ledger.fields import Origin
from cutover.ledger.records import LIVE, Checkpoint, CriterionRecord, StageStarted
from cutover.ledger.view import LedgerView
from cutover.outcome import Scope
from cutover.status import render

TRIGGERS = (
    "success_rate",
    "error_rate",
    "stuck_per_hour",
    "stuck_multiple_users",
    "slow_imports",
    "rlm_crash",
    "complaints",
    "data_corruption",
)


def trigger_run(hours: float, fired: str = "stuck_per_hour") -> Checkpoint:
    """A whole `pytest -m rollback` run `hours` after T0 in which one trigger failed."""
    results = tuple(
        CriterionRecord(
            f"rollback.{name}",
            {"verdict": "fail" if name == fired else "pass", "on_fail": "ROLLBACK"},
        )
        for name in TRIGGERS
    )
    return Checkpoint("rollback", h(hours), h(hours), results, LIVE, Scope(8, 8, ()))


def is_rollback(step: str) -> bool:
    return step.startswith("cutover rollback ")


def test_a_fired_rollback_trigger_is_acted_on_not_waited_through() -> None:
    """HIGH. `pytest -m rollback` runs "any time, e.g. every 15 minutes" (README) and a failed
    trigger means roll back now (runbook: "Immediate rollback | Now"). status reads only the
    stage gate's runs (`schedule.runs_of(f"stage{N}_gate")`), so a fired trigger at +3 h leaves
    `next: wait until <+6 h>`: five more hours of a broken pipeline at 10%."""
    status = status_at(3.5, STAGE1, whole_gate(1.0), trigger_run(3))
    assert is_rollback(status.next), status.next


def test_a_fired_trigger_is_not_followed_by_starting_the_next_stage() -> None:
    """HIGH. A trigger fired at +12 h (nobody rolled back), then the +24 h gate passed: status
    says `cutover stage start 2`: it widens the rollout to 50% over a rollback the evidence
    asked for."""
    records = (STAGE1, whole_gate(1.0), whole_gate(6.0), trigger_run(12), whole_gate(24.2))
    status = status_at(25, *records)
    assert not status.next.startswith("cutover stage start"), status.next


def test_a_whole_gate_run_that_asked_for_rollback_between_checkpoints_counts() -> None:
    """HIGH. An operator runs the whole stage 1 gate at +3 h (not a scheduled instant) and it
    fails stuck_imports: its verdict is ROLLBACK. status keeps only runs inside a checkpoint's
    tolerance (`schedule.checkpoint_states`) and the gate's run after the bound, so this
    recorded ROLLBACK is invisible: `next: wait until +6h`."""
    status = status_at(3.5, STAGE1, whole_gate(1.0), whole_gate(3, stuck_imports="fail"))
    assert is_rollback(status.next), status.next


def test_a_second_run_in_one_checkpoint_slot_that_asked_for_rollback_counts() -> None:
    """HIGH. Two runs of the +1 h checkpoint (10:00 PROCEED-like, 10:30 a stuck-imports
    failure, ROLLBACK), both within the tolerance: `schedule.checkpoint_states` shows only the
    earliest (`min(measured, ...)`) and `next_step` looks at that one, so the later ROLLBACK is
    dropped and status says wait."""
    status = status_at(3.5, STAGE1, whole_gate(1.0), whole_gate(1.5, stuck_imports="fail"))
    assert is_rollback(status.next), status.next


def test_a_gate_rollback_is_not_erased_by_a_later_passing_rerun() -> None:
    """HIGH. The +24 h gate ran whole and asked for ROLLBACK (stage1.traffic failed); one
    hour later a re-run passed. `schedule.gate_run` keeps only the latest whole run, so status
    says `cutover stage start 2`: re-running until green turns a ROLLBACK into PROCEED. The
    runbook: "If ANY criterion fails: Run Emergency Rollback"."""
    records = (
        STAGE1,
        whole_gate(1.0),
        whole_gate(6.0),
        whole_gate(24.2, traffic="fail"),
        whole_gate(25),
    )
    status = status_at(26, *records)
    assert not status.next.startswith("cutover stage start"), status.next


def test_a_checkpoint_run_whose_success_rate_errored_still_rolls_back_on_a_failure() -> None:
    """MEDIUM. The +1 h run failed stuck_imports (ROLLBACK) but its success rate errored (no
    `current` recorded): `schedule._reads` then does not count the run as the checkpoint, so
    its ROLLBACK is ignored and status asks to run the gate again instead of rolling back."""
    failed = whole_gate(1.0, stuck_imports="fail")
    results = tuple(
        CriterionRecord(r.criterion, {"verdict": "error"})
        if r.criterion == "stage1.success_rate"
        else r
        for r in failed.results
    )
    status = status_at(1.5, STAGE1, dataclasses.replace(failed, results=results))
    assert is_rollback(status.next), status.next


SEEDED = Origin("seeded", "stage1-low-success")


def _seeded_ledger(evidence: Path, *records: object) -> None:
    store = Store(evidence)
    for record in records:
        store.append(record)  # type: ignore[arg-type]


def test_a_seeded_status_never_suggests_a_command_that_writes_the_live_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """MEDIUM. On a seeded scenario whose +1 h checkpoint asked for ROLLBACK, status (with
    `--scenario`) says `next: cutover rollback --reason ... --at T`: `commands.rollback` (and
    `stage_start`) carry no `--scenario` (the CLI has none), so following it records a LIVE
    rollback in the shared ledger (the real rollout's evidence) and changes nothing in the
    seeded timeline, whose status then suggests the same command again."""
    evidence = tmp_path / "evidence"
    monkeypatch.setenv("CUTOVER_EVIDENCE_DIR", str(evidence))
    monkeypatch.delenv("CUTOVER_AS_OF", raising=False)
    start = StageStarted(1, 10, T0, origin=SEEDED)
    failed = run(1, {"stage1.success_rate": success(40, 1, rate=70.0, verdict="fail")})
    _seeded_ledger(evidence, start, dataclasses.replace(failed, origin=SEEDED))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(["status", "--as-of", "2026-03-02T12:00:00Z", "--scenario", "stage1-low-success"])
    assert code == 1  # printed, and its next step is a rollback
    step = capsys.readouterr().out.splitlines()[-1].removeprefix("next: ")
    assert step.startswith("cutover ")
    assert main(shlex.split(step)[1:]) == 0
    live = LedgerView.load(evidence, h(48), target="live", scenario=None)
    assert live.records == [], f"{step!r} wrote to the live ledger"


def test_the_classify_step_runs_as_printed_in_a_shell() -> None:
    """LOW. The next step for an unclassified signature is the recorded template
    `cutover classify "…" --as user|systemic --by NAME --at T`. Pasted into a shell the `|` is a
    pipe: `cutover classify … --as user` fails (no --by) and a command `systemic` is run with
    `--by NAME --scenario … --at T` — the issue asks for "one command to run"."""
    step = _unclassified_status().next  # type: ignore[attr-defined]
    assert step.startswith("cutover classify")
    words = shlex.split(step, posix=True)
    assert "|" not in step.replace('"KeyError: <str>"', ""), step
    assert "user|systemic" not in words


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


def test_a_partial_run_is_not_the_checkpoint_the_runbook_asks_for() -> None:
    """MEDIUM. Runbook 1.3: at +1 h and +6 h run Query 1, Query 6 (traffic) and Query 3
    (durations). A `-k success_rate` run measured 1 of 9 criteria, yet `schedule._reads` (only
    the success rate's `current`) marks +1 h **done**, so status never asks for the rest: the
    stuck imports, traffic and duration checks of +1 h are silently skipped and `next:` waits
    for +6 h."""
    partial = run(1.1, {"stage1.success_rate": success(26, 1.1)})  # Scope: "-k success_rate"
    status = status_at(1.5, STAGE1, partial)
    assert status.checkpoints[0].state != "done", status.checkpoints[0]
    assert status.next.startswith("pytest -m stage1_gate"), status.next


def _unclassified_status() -> object:
    unclassified = {
        "signature": "KeyError: <str>",
        "count": 4,
        "command": 'cutover classify "KeyError: <str>" --as user|systemic --by NAME',
    }
    errors = {"verdict": "inconclusive", "details": {"unclassified": [unclassified]}}
    record = run(1, {"stage1.success_rate": success(30, 1), "stage1.systemic_errors": errors})
    return status_at(2, STAGE1, record)


def test_markdown_keeps_a_signature_text_that_looks_like_html() -> None:
    """LOW. In `--format markdown` (a CI job summary) the signature `KeyError: <str>` is written
    raw in the "missing" list item and in the last `next:` line (outside a code span); GitHub
    drops `<str>` as an unknown HTML tag, so the summary shows `KeyError: ` and a next command
    that is not the one to run. Every such text needs a code span or escaping."""
    markdown = render(_unclassified_status(), "markdown")  # type: ignore[arg-type]
    outside_code = [re.sub(r"`[^`]*`", "", line) for line in markdown.splitlines()]
    raw = [line for line in outside_code if "<str>" in line]
    assert raw == [], raw


def test_the_earliest_pass_is_never_an_instant_already_past() -> None:
    """LOW. Six hours after stage 1's +24 h, with no gate run yet, `earliest pass` prints the
    elapsed bound (+24 h), a time already past: the gate cannot pass before it is run, so the
    earliest instant is the status's own instant (or later)."""
    done = [run(x, {"stage1.success_rate": success(30 * x, x)}) for x in (1, 6)]
    status = status_at(30, STAGE1, *done)
    assert status.earliest is not None
    assert status.earliest.at >= h(30), status.earliest.at


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
