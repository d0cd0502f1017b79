"""Waivers, checkpoints set aside and advisory criteria (issue 16), unit by unit: the records
and the ledger view, when a waiver is in force and what it covers, the verdict line and exit
status, the profile's checks, and the `waive` / `invalidate` commands' refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover.cli import main
from cutover.config import resolve_settings
from cutover.errors import ConfigError
from cutover.evidence.properties import RecordedResult, recorded, result_properties
from cutover.evidence.verdict import conclude
from cutover.ledger import Store
from cutover.ledger.errors import RecordInvalid
from cutover.ledger.records import (
    LIVE,
    Checkpoint,
    CriterionRecord,
    Invalidation,
    Origin,
    Waiver,
    parse,
)
from cutover.ledger.signing import HMAC_NAME, hmac_of
from cutover.ledger.view import LedgerView
from cutover.measure.set_aside import SetAside
from cutover.outcome import Action, Outcome, Result
from cutover.overrides import apply_advisory, apply_waiver, in_force, known_criteria
from cutover.profile import Profile, profile_from_mapping
from cutover.timeutil import iso

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
DURATION = "stage1.duration"


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def failed(criterion: str = DURATION, outcome: Outcome = Outcome.FAIL) -> Result:
    return Result(criterion, outcome, "32.9% take 30 min or more", on_fail=Action.ROLLBACK)


def waiver(**fields: object) -> Waiver:
    values: dict[str, object] = {
        "criterion": DURATION,
        "reason": "big exports",
        "by": "alice",
        "at": hours(23),
    }
    values.update(fields)
    return Waiver(**values)  # type: ignore[arg-type]


# -- records and the view -----------------------------------------------------------------------


def test_waivers_and_invalidations_round_trip_through_their_schema() -> None:
    forced = waiver(
        criterion="rollback.error_rate",
        until=hours(30),
        checkpoint=7,
        forced=True,
        origin=Origin.seeded("healthy-rollout"),
    )
    assert parse(3, forced.to_json()) == forced
    assert parse(3, waiver().to_json()) == waiver()  # no end, no scope: nulls
    aside = Invalidation(7, "wrong database", "bob", hours(25))
    assert aside.to_json()["kind"] == "invalidation"
    assert parse(4, aside.to_json()) == aside


def test_a_waiver_whose_forced_is_not_a_boolean_does_not_fit() -> None:
    data = {**waiver().to_json(), "forced": "yes"}
    with pytest.raises(RecordInvalid, match="'forced' is 'yes', expected true or false"):
        parse(5, data)


def _checkpoint(store: Store, as_of: datetime, criterion: str = DURATION) -> int:
    result = CriterionRecord(criterion, {"verdict": "pass", "details": {"bins": {"5": 1}}})
    store.append(Checkpoint("stage1_gate", as_of, as_of, (result,), LIVE))
    head = store.head()
    assert head is not None
    return head.line


def test_a_checkpoint_set_aside_is_left_out_and_listed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first, second = _checkpoint(store, hours(6)), _checkpoint(store, hours(24))
    # made after the instant a backfill measures: set aside all the same
    store.append(Invalidation(second, "wrong database", "bob", hours(40)))
    view = LedgerView.load(tmp_path, hours(30), target="live", scenario=None)
    assert [v.as_of for v in view.checkpoint_values(DURATION)] == [hours(6)]
    assert [(line, as_of) for line, as_of, _ in view.set_aside(DURATION)] == [(second, hours(24))]
    assert view.set_aside("stage1.success_rate") == []
    earlier = LedgerView.load(tmp_path, hours(10), target="live", scenario=None)
    assert earlier.set_aside(DURATION) == []  # measured after the instant: never read anyway
    assert [v.as_of for v in earlier.checkpoint_values(DURATION)] == [hours(6)]
    assert first < second


def test_the_view_gives_a_scoped_waiver_its_checkpoints_instant(tmp_path: Path) -> None:
    store = Store(tmp_path)
    line = _checkpoint(store, hours(6))
    store.append(waiver(checkpoint=line, at=hours(30)))
    store.append(waiver(criterion="stage1.traffic"))
    view = LedgerView.load(tmp_path, hours(6), target="live", scenario=None)
    assert [(w.checkpoint, as_of) for _, w, as_of in view.waivers(DURATION)] == [(line, hours(6))]


# -- when a waiver is in force, and what it covers ----------------------------------------------


def test_a_waiver_is_in_force_from_its_making_until_its_end() -> None:
    waivers = [(9, waiver(until=hours(25)), None)]
    assert in_force(waivers, hours(22)) is None  # not made yet
    assert in_force(waivers, hours(23)) == (9, waivers[0][1])
    assert in_force(waivers, hours(24.99)) is not None
    assert in_force(waivers, hours(25)) is None  # expired


def test_a_scoped_waiver_applies_only_to_its_checkpoints_instant() -> None:
    scoped = waiver(checkpoint=4, at=hours(40))  # made long after the checkpoint it re-decides
    assert in_force([(9, scoped, hours(6))], hours(6)) == (9, scoped)
    assert in_force([(9, scoped, hours(6))], hours(24)) is None
    assert in_force([(9, scoped, None)], hours(6)) is None  # its checkpoint is not in the view


def test_the_latest_waiver_wins_and_an_unforced_trigger_waiver_never_applies() -> None:
    older, newer = waiver(by="alice"), waiver(by="carol", at=hours(23.5))
    assert in_force([(9, newer, None), (8, older, None)], hours(24)) == (9, newer)
    unforced = waiver(criterion="rollback.error_rate")
    assert in_force([(9, unforced, None)], hours(24)) is None


def test_a_waiver_turns_a_failure_into_waived_never_a_pass() -> None:
    result = apply_waiver(failed(), [(9, waiver(until=hours(25)), None)], hours(24))
    assert result.outcome is Outcome.WAIVED
    assert result.action is Action.PROCEED
    assert result.waived is not None
    assert result.waived.decided is Outcome.FAIL
    assert result.reason == (
        "32.9% take 30 min or more — waived by alice until 2026-02-03T10:00:00Z, "
        "ledger line 9: big exports"
    )
    properties = dict(result_properties(result, as_of=hours(24), target="seeded"))
    assert properties["verdict"] == "waived"
    assert json.loads(properties["waiver"])["until"] == iso(hours(25))


@pytest.mark.parametrize("outcome", [Outcome.INCONCLUSIVE, Outcome.ERROR])
def test_a_waiver_never_covers_an_undecided_or_errored_result(outcome: Outcome) -> None:
    result = apply_waiver(failed(outcome=outcome), [(9, waiver(), None)], hours(24))
    assert result.outcome is outcome
    assert result.waived is None
    assert "not waived by alice" in result.reason
    assert "(a waiver covers a measured failure only)" in result.reason


def test_a_pass_stays_a_pass_under_a_waiver() -> None:
    passed = Result(DURATION, Outcome.PASS, "fine")
    assert apply_waiver(passed, [(9, waiver(), None)], hours(24)) == passed


def test_advisory_results_change_no_action() -> None:
    profile = Profile(advisory=(DURATION,))
    marked = apply_advisory(failed(), profile)
    assert marked.advisory and marked.outcome is Outcome.FAIL
    assert marked.action is Action.PROCEED
    other = apply_advisory(failed("stage1.traffic"), profile)
    assert not other.advisory and other.action is Action.ROLLBACK


# -- the verdict line and the exit status -------------------------------------------------------


def _recorded(result: Result) -> RecordedResult:
    found = recorded(result_properties(result, as_of=hours(24), target="seeded"))
    assert found is not None
    return found


def _passed(criterion: str) -> RecordedResult:
    return _recorded(Result(criterion, Outcome.PASS, "fine"))


def _conclude(*results: RecordedResult) -> tuple[str, int]:
    verdict, status = conclude(
        results, selection="stage1_gate", seeded=False, errors=[], partial=[], pytest_status=0
    )
    return verdict.line(), status


def test_the_verdict_line_names_each_waiver_after_the_action() -> None:
    duration = apply_waiver(failed(), [(9, waiver(until=hours(25)), None)], hours(24))
    forced = waiver(criterion="rollback.error_rate", by="bob", forced=True)
    trigger = apply_waiver(failed("rollback.error_rate"), [(10, forced, None)], hours(24))
    line, status = _conclude(_recorded(duration), _recorded(trigger), _passed("stage1.traffic"))
    assert line == (
        "cutover verdict: PROCEED (2 waived: rollback.error_rate by bob, forced; "
        "stage1.duration by alice until 2026-02-03T10:00:00Z) — stage1_gate — "
        "rollback.error_rate (waived), stage1.duration (waived)"
    )
    assert status == 0


def test_without_waivers_the_line_keeps_its_form() -> None:
    line, status = _conclude(_recorded(failed()), _passed("stage1.traffic"))
    assert line.startswith("cutover verdict: ROLLBACK — stage1_gate — stage1.duration (fail) — ")
    assert status == 1


@pytest.mark.parametrize("outcome", [Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.ERROR])
def test_an_advisory_verdict_of_any_kind_leaves_proceed(outcome: Outcome) -> None:
    advisory = apply_advisory(failed(outcome=outcome), Profile(advisory=(DURATION,)))
    line, status = _conclude(_recorded(advisory), _passed("stage1.traffic"))
    assert line == (
        f"cutover verdict: PROCEED — stage1_gate — stage1.duration ({outcome.value}, advisory)"
    )
    assert status == 0


def test_an_advisory_criterion_does_not_hide_a_gating_one() -> None:
    advisory = apply_advisory(failed(), Profile(advisory=(DURATION,)))
    undecided = _recorded(Result("stage1.traffic", Outcome.INCONCLUSIVE, "no data"))
    line, status = _conclude(_recorded(advisory), undecided)
    assert line.startswith("cutover verdict: HOLD — stage1_gate — ")
    assert status == 6


# -- the profile --------------------------------------------------------------------------------


def test_advisory_names_known_criteria_only() -> None:
    with pytest.raises(ConfigError) as info:
        profile_from_mapping(
            {"advisory": ["stage1.durashun"]},
            origin=lambda key: f"cutover.toml, line 3 ({key})",
            criteria=known_criteria(),
        )
    assert str(info.value).startswith(
        "cutover.toml, line 3 (advisory): profile setting 'advisory' names no criterion: "
        "'stage1.durashun'; known: prereq.deprecation_headers, "
    )


def test_a_trigger_is_advisory_only_when_the_profile_accepts_it() -> None:
    with pytest.raises(ConfigError) as info:
        profile_from_mapping({"advisory": ["rollback.slow_imports"]}, criteria=known_criteria())
    assert str(info.value) == (
        "profile: profile setting 'advisory' names rollback trigger(s) rollback.slow_imports; a "
        "trigger may be advisory only when the profile also sets advisory_triggers_accepted = true"
    )
    accepted = profile_from_mapping(
        {"advisory": ["rollback.slow_imports"], "advisory_triggers_accepted": True}
    )
    assert accepted.advisory == ("rollback.slow_imports",)


def test_settings_name_the_line_of_a_bad_advisory_entry(tmp_path: Path) -> None:
    config = tmp_path / "cutover.toml"
    config.write_text('[profile]\nmax_slow_pct = 12\nadvisory = ["nope"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^config file {config}, line 3: profile setting"):
        resolve_settings({}, env={}, config_file=config, criteria=known_criteria())


# -- the commands -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CUTOVER_CONFIG", "CUTOVER_EVIDENCE_DIR", "CUTOVER_LEDGER_HMAC_KEY"):
        monkeypatch.delenv(name, raising=False)


def cutover(tmp_path: Path, *args: str) -> int:
    return main(["--evidence-dir", str(tmp_path / "evidence"), *args])


def test_waive_refuses_an_unknown_criterion_and_an_end_before_its_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--reason", "x", "--by", "alice", "--at", iso(hours(5)))
    assert cutover(tmp_path, "waive", "stage1.nope", *args) == 2
    assert "waive: no criterion 'stage1.nope'; known: " in capsys.readouterr().err
    assert cutover(tmp_path, "waive", DURATION, *args, "--until", iso(hours(4))) == 2
    assert capsys.readouterr().err.strip() == (
        f"cutover: waive: --until {iso(hours(4))} is not after {iso(hours(5))}"
    )
    assert cutover(tmp_path, "waive", DURATION, "--reason", " ", "--by", "alice") == 2
    assert not (tmp_path / "evidence" / "ledger.jsonl").exists()


def test_waive_for_a_checkpoint_takes_its_target_and_needs_its_criterion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path / "evidence")
    result = CriterionRecord(DURATION, {"verdict": "fail"})
    seeded = Origin.seeded("stage1-slow-imports")
    store.append(Checkpoint("stage1_gate", hours(24), hours(24), (result,), seeded))
    assert (
        cutover(
            tmp_path, "waive", "stage1.traffic", "--reason", "x", "--by", "a", "--checkpoint", "1"
        )
        == 2
    )
    assert "the checkpoint at line 1 holds no result of stage1.traffic" in capsys.readouterr().err
    assert (
        cutover(tmp_path, "waive", DURATION, "--reason", "x", "--by", "a", "--checkpoint", "1") == 0
    )
    record = store.read()[-1].parse()
    assert isinstance(record, Waiver)
    assert (record.checkpoint, record.origin) == (1, seeded)


def test_waivers_and_invalidations_are_signed_like_every_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUTOVER_LEDGER_HMAC_KEY", "hm4c-key-for-the-test")
    store = Store(tmp_path / "evidence")
    _checkpoint(store, hours(24))
    evidence = tmp_path / "evidence"
    for command in (
        ("waive", DURATION, "--reason", "x", "--by", "alice"),
        ("invalidate", "1", "--reason", "x", "--by", "bob"),
        ("classify", "KeyError: <str>", "--as", "user", "--by", "carol"),
    ):
        assert cutover(tmp_path, *command) == 0
        head = (evidence / "ledger.head").read_bytes()
        signed = (evidence / HMAC_NAME).read_text(encoding="utf-8").strip()
        assert signed == hmac_of("hm4c-key-for-the-test", head)
    kinds = [e.data.get("kind") for e in store.read()]
    assert kinds == [None, "waiver", "invalidation", "signature"]


def test_a_set_aside_note_names_line_instant_person_and_reason() -> None:
    aside = SetAside(7, hours(6), "bob", "wrong database")
    assert aside.text() == f"checkpoint line 7 ({iso(hours(6))}) set aside by bob: wrong database"
