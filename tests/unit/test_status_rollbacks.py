"""What `cutover status` does with a recorded ROLLBACK (review 16s): any run of the stage that
asked for one (a `pytest -m rollback` trigger, a gate run between checkpoints, a later run in a
slot, a run whose success rate errored) makes the next step a rollback, and a later passing run
never takes it back; on a seeded target that command records the scenario's rollback, never a
live one.

Each test's docstring says what status did wrong before (review 16s, with its severity) and
why that matters."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest
from test_status import STAGE1, T0, h, run, status_at, success, whole_gate

from cutover.cli import main
from cutover.criteria.registry import CRITERIA
from cutover.ledger import Store
from cutover.ledger.fields import Origin
from cutover.ledger.records import LIVE, Checkpoint, CriterionRecord, Rollback, StageStarted
from cutover.ledger.view import LedgerView
from cutover.outcome import Scope

#: every rollback trigger the registry holds (`pytest -m rollback` runs them all)
TRIGGERS = tuple(sorted(c.removeprefix("rollback.") for c in CRITERIA if c.startswith("rollback.")))


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
    # the seeded timeline took it: its status now asks to verify the rollback
    capsys.readouterr()
    assert main(["status", "--as-of", "2026-03-02T12:00:00Z", "--scenario", SEEDED.scenario]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "next: pytest -m rollback_verify --scenario stage1-low-success --as-of 2026-03-02T12:00:00Z"
    )


def test_the_rollback_names_the_earliest_run_that_asked_and_counts_the_later_ones() -> None:
    records = (STAGE1, whole_gate(1.0), trigger_run(3), whole_gate(3.2, stuck_imports="fail"))
    assert status_at(3.5, *records).next == (
        "cutover rollback --reason 'stage 1 rollback triggers as of 2026-03-02T12:00:00Z "
        "(ledger line 3): rollback.stuck_per_hour (fail); 1 later run(s) asked too' "
        "--at 2026-03-02T12:30:00Z"
    )
    # a trigger that did not fire (HOLD, PROCEED) asks for nothing
    quiet = dataclasses.replace(
        trigger_run(3),
        results=tuple(
            CriterionRecord(r.criterion, {"verdict": "pass", "on_fail": "ROLLBACK"})
            for r in trigger_run(3).results
        ),
    )
    assert status_at(3.5, STAGE1, whole_gate(1.0), quiet).next == "wait until 2026-03-02T15:00:00Z"


def test_a_recorded_rollback_ends_the_asks_of_its_stage() -> None:
    records = (STAGE1, whole_gate(1.0), trigger_run(3), Rollback("stuck imports", h(3.2)))
    assert status_at(3.5, *records).next == "pytest -m rollback_verify --as-of 2026-03-02T12:30:00Z"
    restarted = (*records, StageStarted(1, 10, h(4)))
    assert status_at(4.5, *restarted).next == "wait until 2026-03-02T14:00:00Z"
