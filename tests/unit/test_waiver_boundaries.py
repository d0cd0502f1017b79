"""Where a person's decision about the evidence must not reach (issue 16; the review's findings
F1-F6 in REVIEW16W.md): setting aside a checkpoint in which a rollback trigger failed, waiving
or making advisory a check that the rollback took, a waiver scoped to a checkpoint set aside, a
decision naming no earlier checkpoint, a back-dated live waiver, and stage 2's baseline from a
rolled-back rollout. Each finding's test first, then what still has to work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cutover.cli import main
from cutover.evidence.properties import RecordedResult, recorded, result_properties
from cutover.evidence.verdict import conclude
from cutover.ledger import Store
from cutover.ledger.records import LIVE, Checkpoint, CriterionRecord, Invalidation, Waiver
from cutover.ledger.view import LedgerView
from cutover.outcome import Action, Outcome, Result
from cutover.overrides import apply_advisory, apply_waiver
from cutover.profile import Profile
from cutover.report.load import load_evidence
from cutover.timeutil import iso
from ledger_writing import append_unchecked

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
DURATION = "stage1.duration"
ROUTING = "rollback_verify.routing_all_v1"


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CUTOVER_CONFIG", "CUTOVER_EVIDENCE_DIR", "CUTOVER_LEDGER_HMAC_KEY"):
        monkeypatch.delenv(name, raising=False)


def cutover(evidence: Path, *args: str) -> int:
    return main(["--evidence-dir", str(evidence), *args])


def _checkpoint(store: Store, selection: str, as_of: datetime, *results: CriterionRecord) -> int:
    store.append(Checkpoint(selection, as_of, as_of, results, LIVE))
    head = store.head()
    assert head is not None
    return head.line


def _failed(criterion: str) -> CriterionRecord:
    return CriterionRecord(criterion, {"verdict": "fail", "on_fail": "ROLLBACK"})


def _recorded(result: Result, as_of: datetime) -> RecordedResult:
    found = recorded(result_properties(result, as_of=as_of, target="live"))
    assert found is not None
    return found


# -- F1 -----------------------------------------------------------------------------------------


def test_invalidating_a_tripped_rollback_trigger_does_not_turn_the_report_into_proceed(
    tmp_path: Path,
) -> None:
    """F1 (high): `cutover invalidate` silences a tripped rollback trigger without --force.

    The latest `rollback` monitor run found data corruption (ROLLBACK). Setting that checkpoint
    aside is accepted with no --force, and `cutover report` then takes its verdict from the
    earlier passing run: `PROCEED — rollback — none`. A waiver of the same trigger needs --force
    and shows as `waived, forced`; an invalidation launders it with no mark at all in the
    verdict. Either the invalidation of a checkpoint whose trigger tripped must need --force, or
    the report must not proceed on it."""
    evidence = tmp_path / "evidence"
    store = Store(evidence)
    passed = CriterionRecord("rollback.data_corruption", {"verdict": "pass", "on_fail": "ROLLBACK"})
    _checkpoint(store, "rollback", hours(1), passed)
    tripped = _checkpoint(store, "rollback", hours(2), _failed("rollback.data_corruption"))
    assert load_evidence(evidence).verdict.action is Action.ROLLBACK

    cutover(evidence, "invalidate", str(tripped), "--reason", "wrong database", "--by", "mallory")
    verdict = load_evidence(evidence).verdict
    assert verdict.action is not Action.PROCEED, verdict.line()


# -- F2 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["waived", "advisory"])
def test_the_verdict_never_says_the_rollback_took_when_its_check_did_not_pass(how: str) -> None:
    """F2 (medium): `rollback_verify.routing_all_v1` (requests still reach v2 after the
    rollback; on_fail ROLLBACK) waived (no --force needed: it is not `rollback.*`) or advisory
    leaves PROCEED, and the verdict line then states as fact `the rollback took: fix the root
    cause, then restart from stage 1` although the one check that shows it took did not pass.
    The next step must not claim what the evidence did not show."""
    failed = Result(ROUTING, Outcome.FAIL, "12% of requests still v2", on_fail=Action.ROLLBACK)
    if how == "waived":
        result = apply_waiver(
            failed, [(3, Waiver(ROUTING, "x", "alice", hours(0)), None)], hours(1)
        )
    else:
        result = apply_advisory(failed, Profile(advisory=(ROUTING,)))
    zero = Result("rollback_verify.percent_zero", Outcome.PASS, "0%")
    verdict, _ = conclude(
        [_recorded(result, hours(1)), _recorded(zero, hours(1))],
        selection="rollback_verify",
        seeded=False,
        errors=[],
        partial=[],
        pytest_status=0,
    )
    assert "the rollback took" not in verdict.line(), verdict.line()


# -- F3 -----------------------------------------------------------------------------------------


def test_a_waiver_scoped_to_a_checkpoint_set_aside_does_not_cover_its_remeasurement(
    tmp_path: Path,
) -> None:
    """F3 (medium): a waiver scoped (`--checkpoint LINE`) to a checkpoint that is then set aside
    as measured wrongly still applies to every later run at that instant. Alice accepted the
    failure she saw in line 1; bob then declared line 1 measured against the wrong database;
    the re-measurement (the backfill `cutover invalidate` asks for) is a different measurement,
    yet its failure shows as `waived` and the run PROCEEDs: a waiver of evidence nobody trusts
    launders the evidence that replaced it."""
    evidence = tmp_path / "evidence"
    line = _checkpoint(Store(evidence), "stage1_gate", hours(24), _failed(DURATION))
    waive = ("waive", DURATION, "--reason", "big exports", "--by", "alice")
    assert cutover(evidence, *waive, "--checkpoint", str(line)) == 0
    assert cutover(evidence, "invalidate", str(line), "--reason", "wrong db", "--by", "bob") == 0

    view = LedgerView.load(evidence, hours(24), target="live", scenario=None)
    remeasured = Result(DURATION, Outcome.FAIL, "41% take 30 min or more", on_fail=Action.ROLLBACK)
    result = apply_waiver(remeasured, view.waivers(DURATION), hours(24))
    assert result.outcome is Outcome.FAIL, result.reason


# -- F4 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(Invalidation(9, "pre-emptive", "mallory", hours(3), LIVE), id="later-line"),
        pytest.param(Invalidation(1, "not a checkpoint", "mallory", hours(3), LIVE), id="stage"),
        pytest.param(
            Waiver(DURATION, "x", "mallory", hours(3), None, 42, False, LIVE), id="waiver-line"
        ),
    ],
)
def test_verify_fails_a_decision_naming_no_earlier_checkpoint(
    tmp_path: Path, record: Invalidation | Waiver, capsys: pytest.CaptureFixture[str]
) -> None:
    """F4 (medium): `cutover verify` checks each waiver and invalidation against its schema only.
    One that names a line that is not an earlier checkpoint record (a line not written yet, a
    stage start, a line the ledger never had) is `OK`. The CLI refuses all of these, so such a
    record was written by hand; and an invalidation naming a future line silently sets aside the
    checkpoint a later run will append there (the gates and the report both honour it)."""
    evidence = tmp_path / "evidence"
    assert cutover(evidence, "stage", "start", "1", "--at", iso(hours(0))) == 0
    _checkpoint(Store(evidence), "stage1_gate", hours(1), _failed(DURATION))
    append_unchecked(evidence, record.to_json())
    capsys.readouterr()
    assert cutover(evidence, "verify") != 0, capsys.readouterr().out


# -- F5 -----------------------------------------------------------------------------------------


def test_a_backdated_live_waiver_does_not_cover_an_instant_already_recorded_as_failed(
    tmp_path: Path,
) -> None:
    """F5 (medium): `cutover waive --at` takes any past instant and the ledger keeps no other
    time for a waiver, so a waiver written now but dated before a checkpoint the ledger already
    holds as failed covers a backfill of that checkpoint: the failure recorded two hours ago
    becomes `waived` and the backfill PROCEEDs, as if the waiver had been in force then. On the
    live target, a waiver dated before a record already in the ledger must be refused (or not
    apply to instants measured before it was written)."""
    evidence = tmp_path / "evidence"
    now = datetime.now(UTC).replace(microsecond=0)
    measured = now - timedelta(hours=2)
    _checkpoint(Store(evidence), "stage1_gate", measured, _failed(DURATION))
    backdated = iso(now - timedelta(hours=3))
    cutover(evidence, "waive", DURATION, "--reason", "big exports", "--by", "a", "--at", backdated)

    view = LedgerView.load(evidence, measured, target="live", scenario=None)
    backfill = Result(DURATION, Outcome.FAIL, "40% take 30 min or more", on_fail=Action.ROLLBACK)
    result = apply_waiver(backfill, view.waivers(DURATION), measured)
    assert result.outcome is Outcome.FAIL, result.reason


# -- F6 -----------------------------------------------------------------------------------------


def test_stage2_never_baselines_on_a_rolled_back_rollouts_stage1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F6 (medium): setting aside the stage 1 +24 h checkpoint that stage 2's
    `duration_vs_stage1` reads makes the baseline fall back to the latest stage 1 duration record
    left, with no bound on which rollout wrote it: here the stage 1 of a rollout that was rolled
    back (and restarted from stage 1) two days earlier. Stage 2 is then judged against another
    rollout's durations; the reason only says a checkpoint was ignored. With the current
    rollout's stage 1 set aside there is no baseline: the criterion must be inconclusive."""
    evidence = tmp_path / "evidence"
    current = _rolled_back_then_restarted(evidence)
    assert cutover(evidence, "invalidate", str(current), "--reason", "wrong db", "--by", "bob") == 0
    # read_durations is replaced: the stage 2 side is never read from a database
    comparison = _stage2_baseline(evidence, monkeypatch)
    assert comparison.baseline_bins is None, comparison.baseline_bins


def _no_database() -> Any:
    return None


# -- F1: the forced path and what the report shows -----------------------------------------------


def _passed(criterion: str) -> CriterionRecord:
    return CriterionRecord(criterion, {"verdict": "pass", "on_fail": "ROLLBACK"})


def test_invalidating_a_tripped_trigger_is_refused_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "evidence"
    tripped = _checkpoint(
        Store(evidence), "rollback", hours(2), _failed("rollback.data_corruption")
    )
    capsys.readouterr()
    assert cutover(evidence, "invalidate", str(tripped), "--reason", "x", "--by", "mallory") == 2
    assert capsys.readouterr().err.strip() == (
        "cutover: invalidate: rollback trigger(s) rollback.data_corruption failed in the "
        "checkpoint at line 1: setting it aside is refused unless --force is given (as for a "
        "waiver of a trigger; the report then holds until the selection is measured again)"
    )
    assert len(Store(evidence).read()) == 1


def test_a_forced_set_aside_of_a_tripped_trigger_holds_the_report_until_measured_again(
    tmp_path: Path,
) -> None:
    evidence = tmp_path / "evidence"
    store = Store(evidence)
    _checkpoint(store, "rollback", hours(1), _passed("rollback.data_corruption"))
    tripped = _checkpoint(store, "rollback", hours(2), _failed("rollback.data_corruption"))
    args = ("invalidate", str(tripped), "--reason", "wrong database", "--by", "mallory", "--force")
    assert cutover(evidence, *args) == 0
    aside = store.read()[-1].parse()
    assert isinstance(aside, Invalidation) and aside.forced

    loaded = load_evidence(evidence)
    assert loaded.verdict.line() == (
        "cutover verdict: HOLD — rollback — rollback.data_corruption (fail in checkpoint line 2, "
        "set aside by mallory (forced): wrong database) — hold: a rollback trigger failed in a "
        "checkpoint set aside; measure the selection again to decide it"
    )
    (selection,) = loaded.latest
    assert (selection.verdict.action, selection.checkpoint.line) == (Action.HOLD, 1)
    assert loaded.set_aside[tripped] == (
        "set aside by mallory (forced): wrong database; rollback trigger(s) had failed: "
        "rollback.data_corruption"
    )

    # a later run of the selection decides it again; the set-aside line stays in the timeline
    _checkpoint(store, "rollback", hours(3), _passed("rollback.data_corruption"))
    again = load_evidence(evidence)
    assert again.verdict.action is Action.PROCEED, again.verdict.line()
    assert tripped in again.set_aside


def test_a_selection_whose_only_checkpoint_is_a_tripped_set_aside_still_holds(
    tmp_path: Path,
) -> None:
    """With no other checkpoint of its selection, the report would otherwise drop it and take
    the verdict from the other selections alone."""
    evidence = tmp_path / "evidence"
    store = Store(evidence)
    _checkpoint(store, "stage1_gate", hours(1), _passed(DURATION))
    tripped = _checkpoint(store, "rollback", hours(2), _failed("rollback.error_rate"))
    force = ("--reason", "wrong database", "--by", "mallory", "--force")
    assert cutover(evidence, "invalidate", str(tripped), *force) == 0

    loaded = load_evidence(evidence)
    assert loaded.verdict.action is Action.HOLD, loaded.verdict.line()
    by_selection = {s.selection: s for s in loaded.latest}
    rollback = by_selection["rollback"]
    assert (rollback.decided, rollback.checkpoint.line) == (False, tripped)
    assert "no criterion was decided" not in rollback.verdict.not_passed
    assert by_selection["stage1_gate"].verdict.action is Action.PROCEED


def test_setting_aside_a_checkpoint_without_a_tripped_trigger_needs_no_force(
    tmp_path: Path,
) -> None:
    evidence = tmp_path / "evidence"
    store = Store(evidence)
    _checkpoint(store, "rollback", hours(1), _passed("rollback.data_corruption"))
    line = _checkpoint(store, "rollback", hours(2), _passed("rollback.data_corruption"))
    assert cutover(evidence, "invalidate", str(line), "--reason", "x", "--by", "bob") == 0
    aside = store.read()[-1].parse()
    assert isinstance(aside, Invalidation) and not aside.forced
    assert load_evidence(evidence).verdict.action is Action.PROCEED


# -- F2: rollback_verify criteria are waived and made advisory loudly only ---------------------


def test_a_rollback_verify_waiver_needs_force_and_is_marked_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "evidence"
    args = ("waive", ROUTING, "--reason", "12% is the CDN", "--by", "alice")
    assert cutover(evidence, *args) == 2
    assert f"waive: {ROUTING} is a rollback trigger" in capsys.readouterr().err
    assert cutover(evidence, *args, "--force") == 0
    record = Store(evidence).read()[-1].parse()
    assert isinstance(record, Waiver) and record.forced


def test_a_rollback_verify_criterion_is_advisory_only_when_triggers_are_accepted() -> None:
    from cutover.profile import advisory_problem

    assert "rollback trigger(s) rollback_verify.routing_all_v1" in advisory_problem(
        Profile(advisory=(ROUTING,)), None
    )
    assert (
        advisory_problem(Profile(advisory=(ROUTING,), advisory_triggers_accepted=True), None) == ""
    )


def test_the_verdict_says_the_rollback_took_when_every_check_passed() -> None:
    passed = [
        _recorded(Result(ROUTING, Outcome.PASS, "0% still v2"), hours(1)),
        _recorded(Result("rollback_verify.percent_zero", Outcome.PASS, "0%"), hours(1)),
    ]
    verdict, status = conclude(
        passed, selection="rollback_verify", seeded=False, errors=[], partial=[], pytest_status=0
    )
    assert status == 0
    assert verdict.next_step == (
        "the rollback took: fix the root cause, then restart from stage 1 without skipping"
    )


def test_the_verdict_names_the_rollback_check_that_did_not_pass() -> None:
    failed = Result(ROUTING, Outcome.FAIL, "12% of requests still v2", on_fail=Action.ROLLBACK)
    advisory = apply_advisory(failed, Profile(advisory=(ROUTING,), advisory_triggers_accepted=True))
    verdict, _ = conclude(
        [_recorded(advisory, hours(1))],
        selection="rollback_verify",
        seeded=False,
        errors=[],
        partial=[],
        pytest_status=0,
    )
    assert verdict.action is Action.PROCEED
    assert verdict.next_step == (
        f"the rollback is not shown to have taken ({ROUTING} did not pass): confirm it before "
        "restarting from stage 1"
    )


# -- F3: a scoped waiver of a checkpoint still trusted still applies ---------------------------


def test_a_scoped_waiver_applies_to_its_checkpoint_while_it_is_not_set_aside(
    tmp_path: Path,
) -> None:
    evidence = tmp_path / "evidence"
    line = _checkpoint(Store(evidence), "stage1_gate", hours(24), _failed(DURATION))
    waive = ("waive", DURATION, "--reason", "big exports", "--by", "alice")
    assert cutover(evidence, *waive, "--checkpoint", str(line)) == 0
    view = LedgerView.load(evidence, hours(24), target="live", scenario=None)
    remeasured = Result(DURATION, Outcome.FAIL, "41% take 30 min or more", on_fail=Action.ROLLBACK)
    assert apply_waiver(remeasured, view.waivers(DURATION), hours(24)).outcome is Outcome.WAIVED


# -- F4: what verify accepts, and what the gates ignore ------------------------------------------


def test_verify_accepts_decisions_naming_an_earlier_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "evidence"
    assert cutover(evidence, "stage", "start", "1", "--at", iso(hours(0))) == 0
    line = _checkpoint(Store(evidence), "stage1_gate", hours(1), _failed(DURATION))
    waive = ("waive", DURATION, "--reason", "x", "--by", "alice", "--checkpoint", str(line))
    assert cutover(evidence, *waive) == 0
    assert cutover(evidence, "invalidate", str(line), "--reason", "x", "--by", "bob") == 0
    capsys.readouterr()
    assert cutover(evidence, "verify") == 0, capsys.readouterr().out


def test_verify_fails_a_decision_naming_a_checkpoint_of_another_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cutover.ledger.records import Origin

    evidence = tmp_path / "evidence"
    line = _checkpoint(Store(evidence), "stage1_gate", hours(1), _failed(DURATION))
    seeded = Invalidation(line, "x", "mallory", hours(2), Origin.seeded("healthy-rollout"))
    append_unchecked(evidence, seeded.to_json())
    capsys.readouterr()
    assert cutover(evidence, "verify") == 1
    assert (
        "ledger.jsonl line 2: an invalidation names line 1, a checkpoint of another target"
        in capsys.readouterr().out
    )


def test_the_gates_ignore_an_invalidation_naming_a_later_line(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    append_unchecked(evidence, Invalidation(2, "pre-emptive", "mallory", hours(0), LIVE).to_json())
    line = _checkpoint(Store(evidence), "stage1_gate", hours(1), _failed(DURATION))
    assert line == 2
    view = LedgerView.load(evidence, hours(2), target="live", scenario=None)
    assert view.invalidations() == {}
    assert [n for n, _ in view.checkpoints()] == [2]
    assert load_evidence(evidence).set_aside == {}


# -- F5: live waivers are dated now; seeded ones keep their timeline -----------------------------


def test_a_live_waiver_may_be_dated_within_the_clock_skew_allowance(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    recent = iso(datetime.now(UTC) - timedelta(minutes=1))
    args = ("waive", DURATION, "--reason", "x", "--by", "a", "--at", recent)
    assert cutover(evidence, *args) == 0


def test_a_backdated_live_waiver_is_refused_naming_the_allowance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = tmp_path / "evidence"
    args = ("waive", DURATION, "--reason", "x", "--by", "a", "--at", iso(hours(0)))
    assert cutover(evidence, *args) == 2
    err = capsys.readouterr().err
    assert f"waive: --at {iso(hours(0))} is before the clock's " in err
    assert "(allowance 5 min); a live waiver is in force from when it is recorded" in err
    assert not (evidence / "ledger.jsonl").exists()


def test_a_seeded_waiver_keeps_its_timeline(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    args = ("waive", DURATION, "--reason", "x", "--by", "a", "--at", iso(hours(0)))
    assert cutover(evidence, *args, "--scenario", "stage1-slow-imports") == 0
    record = Store(evidence).read()[-1].parse()
    assert isinstance(record, Waiver) and record.at == hours(0)


# -- F6: the current rollout's stage 1 is the baseline -------------------------------------------


def _stage2_baseline(evidence: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from cutover.measure import stage as stage_measure
    from cutover.measure.inputs import Inputs

    monkeypatch.setattr(stage_measure.imports, "read_durations", lambda *a, **k: None)
    view = LedgerView.load(evidence, hours(100), target="live", scenario=None)
    inputs = Inputs(Profile(), hours(100), database=_no_database, ledger=lambda: view)
    return stage_measure.duration_comparison(inputs, "stage2.duration_vs_stage1")


def _duration_record(bins: dict[str, int]) -> CriterionRecord:
    return CriterionRecord(DURATION, {"verdict": "pass", "details": {"bins": bins}})


def _rolled_back_then_restarted(evidence: Path) -> int:
    """Stage 1 from h0 (+24 h: bins {5: 100}), rolled back at h30, restarted at h40 (+24 h at
    h64: bins {6: 100}), stage 2 from h64; the current stage 1 checkpoint's line."""
    store = Store(evidence)
    for args in (
        ("stage", "start", "1", "--at", iso(hours(0))),
        ("rollback", "--reason", "error rate", "--at", iso(hours(30))),
        ("stage", "start", "1", "--at", iso(hours(40))),
    ):
        assert cutover(evidence, *args) == 0
    _checkpoint(store, "stage1_gate", hours(24), _duration_record({"5": 100}))  # rolled back
    current = _checkpoint(store, "stage1_gate", hours(64), _duration_record({"6": 100}))
    assert cutover(evidence, "stage", "start", "2", "--at", iso(hours(64))) == 0
    return current


def test_stage2_baselines_on_the_restarted_rollouts_stage1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evidence = tmp_path / "evidence"
    _rolled_back_then_restarted(evidence)
    comparison = _stage2_baseline(evidence, monkeypatch)
    assert (comparison.baseline_bins, comparison.set_aside) == ({6.0: 100}, ())


def test_a_stage1_rolled_back_and_not_restarted_is_no_baseline(tmp_path: Path) -> None:
    from cutover.measure.stage import latest_details

    evidence = tmp_path / "evidence"
    store = Store(evidence)
    assert cutover(evidence, "stage", "start", "1", "--at", iso(hours(0))) == 0
    _checkpoint(store, "stage1_gate", hours(24), _duration_record({"5": 100}))
    assert cutover(evidence, "rollback", "--reason", "x", "--at", iso(hours(30))) == 0
    view = LedgerView.load(evidence, hours(40), target="live", scenario=None)
    assert latest_details(view, DURATION, "bins") is None
    before = LedgerView.load(evidence, hours(25), target="live", scenario=None)
    assert latest_details(before, DURATION, "bins") == {"5": 100}
