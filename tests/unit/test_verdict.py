"""Evidence properties, the exit status and the run verdict line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cutover.evidence.properties import (
    CONTRACT_PROPERTIES,
    RecordedResult,
    recorded,
    result_properties,
)
from cutover.evidence.verdict import (
    EXIT_INCONCLUSIVE,
    SEEDED_NOTE,
    conclude,
    exit_status,
    run_verdict,
)
from cutover.outcome import Action, Outcome, Result, Scope, Window, overall_action
from cutover.run.markers import satisfies

AS_OF = datetime(2026, 2, 3, 9, tzinfo=UTC)


def result(
    criterion: str = "stage1.success_rate",
    outcome: Outcome = Outcome.PASS,
    on_fail: Action = Action.ROLLBACK,
    **kwargs: object,
) -> Result:
    return Result(criterion=criterion, outcome=outcome, reason="r", on_fail=on_fail, **kwargs)


def rec(
    criterion: str = "stage1.success_rate",
    outcome: Outcome = Outcome.PASS,
    on_fail: Action = Action.ROLLBACK,
) -> RecordedResult:
    props = result_properties(result(criterion, outcome, on_fail), as_of=AS_OF, target="seeded")
    read = recorded(props)
    assert read is not None
    return read


def test_properties_carry_every_contract_name_in_order() -> None:
    full = result(
        measured=97.25,
        threshold=">= 95%",
        window=Window(AS_OF - timedelta(hours=24), AS_OF),
        sample_size=812,
        source="sql/q1_success_rate.sql",
        query_sha256="abc",
        details={"b": 1, "a": [1, 2]},
    )
    props = result_properties(full, as_of=AS_OF, target="live")
    names = [name for name, _ in props]
    assert tuple(names[: len(CONTRACT_PROPERTIES)]) == CONTRACT_PROPERTIES
    values = dict(props)
    assert values["criterion"] == "stage1.success_rate"
    assert values["verdict"] == "pass"
    assert values["measured"] == "97.25"
    assert values["window_start"] == "2026-02-02T09:00:00Z"
    assert values["window_end"] == "2026-02-03T09:00:00Z"
    assert values["as_of"] == "2026-02-03T09:00:00Z"
    assert values["sample_size"] == "812"
    assert values["target"] == "live"
    assert values["on_fail"] == "ROLLBACK"
    assert values["query_sha256"] == "abc"
    assert values["details"] == '{"a": [1, 2], "b": 1}'
    assert all(isinstance(v, str) for _, v in props)


def test_properties_without_window_or_sample() -> None:
    props = dict(result_properties(result(), as_of=AS_OF, target="seeded"))
    assert props["window_start"] == ""
    assert props["window_end"] == "2026-02-03T09:00:00Z"
    assert props["sample_size"] == ""
    assert props["measured"] == ""
    assert "query_sha256" not in props
    assert "details" not in props


def test_properties_redact_secrets() -> None:
    leaky = Result(
        criterion="prereq.rlm_health",
        outcome=Outcome.FAIL,
        reason="connect to postgresql://reader:hunter2@db:5432/x failed",
        measured="password=sekrit99 host=db",
        source="https://rlm.example.com/health?token=tok123 Authorization: Bearer bear456",
        details={"dsn": "postgresql://u:deets77@h/db"},
    )
    props = result_properties(leaky, as_of=AS_OF, target="live")
    text = repr(props)
    for secret in ("hunter2", "sekrit99", "tok123", "bear456", "deets77"):
        assert secret not in text
    values = dict(props)
    assert "postgresql://reader:***@db:5432/x" in values["reason"]
    assert values["measured"] == "password=*** host=db"


def test_recorded_reads_properties_back() -> None:
    read = rec("stage2.stuck", Outcome.FAIL, Action.HOLD)
    assert read.criterion == "stage2.stuck"
    assert read.outcome is Outcome.FAIL
    assert read.on_fail is Action.HOLD
    assert read.reason == "r"
    assert read.action is Action.HOLD
    assert recorded([("foo", "bar")]) is None


@pytest.mark.parametrize(
    ("outcome", "on_fail", "action"),
    [
        (Outcome.PASS, Action.ROLLBACK, Action.PROCEED),
        (Outcome.FAIL, Action.ROLLBACK, Action.ROLLBACK),
        (Outcome.FAIL, Action.HOLD, Action.HOLD),
        (Outcome.INCONCLUSIVE, Action.ROLLBACK, Action.HOLD),
    ],
)
def test_result_action(outcome: Outcome, on_fail: Action, action: Action) -> None:
    assert result(outcome=outcome, on_fail=on_fail).action is action
    assert rec(outcome=outcome, on_fail=on_fail).action is action


def test_overall_action_is_the_worst() -> None:
    assert overall_action([]) is Action.PROCEED
    assert (
        overall_action(
            [
                result(outcome=Outcome.PASS),
                result(outcome=Outcome.INCONCLUSIVE),
                result(outcome=Outcome.FAIL, on_fail=Action.ROLLBACK),
            ]
        )
        is Action.ROLLBACK
    )


def test_exit_all_pass_is_zero() -> None:
    assert exit_status([rec(), rec("b")], [], 0) == 0


def test_exit_any_fail_is_one() -> None:
    results = [rec(), rec("b", Outcome.INCONCLUSIVE), rec("c", Outcome.FAIL)]
    assert exit_status(results, [], 0) == 1


def test_exit_error_is_one() -> None:
    assert exit_status([rec()], ["tests/gates/test_x.py::test_y"], 0) == 1


def test_exit_inconclusive_only_is_six() -> None:
    assert EXIT_INCONCLUSIVE == 6
    assert exit_status([rec(), rec("b", Outcome.INCONCLUSIVE)], [], 0) == 6


def test_exit_no_results_is_six() -> None:
    assert exit_status([], [], 0) == 6


@pytest.mark.parametrize("current", [1, 2, 4, 5])
def test_exit_keeps_a_non_zero_pytest_status(current: int) -> None:
    assert exit_status([rec()], [], current) == current
    assert exit_status([rec(outcome=Outcome.FAIL)], [], current) == current


def test_stage_failure_with_rollback_asks_for_rollback() -> None:
    verdict = run_verdict(
        [rec(), rec("stage1.stuck", Outcome.FAIL, Action.ROLLBACK), rec("x", Outcome.INCONCLUSIVE)],
        selection="stage1_gate",
        seeded=False,
    )
    assert verdict.action is Action.ROLLBACK
    assert verdict.not_passed == ("stage1.stuck (fail)", "x (inconclusive)")
    assert "Emergency Rollback" in verdict.next_step


def test_inconclusive_asks_for_hold() -> None:
    verdict = run_verdict(
        [rec(), rec("stage1.success_rate", Outcome.INCONCLUSIVE)],
        selection="stage1_gate",
        seeded=False,
    )
    assert verdict.action is Action.HOLD
    assert verdict.next_step == "hold: the evidence is incomplete"


def test_stage3_failure_holds_and_investigates() -> None:
    verdict = run_verdict(
        [rec("stage3.x", Outcome.FAIL, Action.HOLD)], selection="stage3_gate", seeded=False
    )
    assert verdict.action is Action.HOLD
    assert verdict.next_step == "hold and investigate"


def test_all_pass_proceeds() -> None:
    verdict = run_verdict([rec(), rec("b")], selection="prereq", seeded=False)
    assert verdict.action is Action.PROCEED
    assert verdict.not_passed == ()
    assert verdict.line() == "cutover verdict: PROCEED — prereq — none"


def test_nothing_decided_holds() -> None:
    verdict = run_verdict([], selection="stage2_gate", seeded=False)
    assert verdict.action is Action.HOLD
    assert "no criterion was decided" in verdict.not_passed
    assert "no criterion was decided" in verdict.line()


def test_errors_make_at_least_hold() -> None:
    verdict = run_verdict([rec()], selection="prereq", seeded=False, errors=["test_a"])
    assert verdict.action is Action.HOLD
    assert verdict.not_passed == ("test_a (error)",)
    assert "no criterion was decided" not in verdict.line()


def test_verdict_line_format() -> None:
    verdict = run_verdict(
        [rec("stage1.stuck", Outcome.FAIL, Action.ROLLBACK), rec("stage1.errors", Outcome.FAIL)],
        selection="stage1_gate",
        seeded=False,
    )
    assert verdict.line() == (
        "cutover verdict: ROLLBACK — stage1_gate — stage1.errors (fail), stage1.stuck (fail)"
        " — run the Emergency Rollback now, then restart from stage 1 without skipping stages"
    )


def test_verdict_line_seeded_note() -> None:
    seeded = run_verdict([rec()], selection="prereq", seeded=True).line()
    assert seeded == f"cutover verdict: PROCEED — prereq — none ({SEEDED_NOTE})"
    assert "not production evidence" in seeded
    assert "not production evidence" not in run_verdict([rec()], selection="p", seeded=False).line()


def test_the_verdict_line_does_not_depend_on_completion_order() -> None:
    """Under xdist results arrive as workers finish; the line lists them by criterion id."""
    a = rec("stage1.traffic", Outcome.INCONCLUSIVE)
    b = rec("stage1.complaints", Outcome.FAIL)
    first = run_verdict([a, b], selection="stage1_gate", seeded=False).line()
    second = run_verdict([b, a], selection="stage1_gate", seeded=False).line()
    assert first == second
    assert "stage1.complaints (fail), stage1.traffic (inconclusive)" in first


# -- errors, partial runs, and a verdict that agrees with the exit status ------------------------


def test_an_errored_criterion_holds_and_exits_1() -> None:
    results = [rec(), rec("stage1.volume", Outcome.ERROR)]
    verdict = run_verdict(results, selection="stage1_gate", seeded=False)
    assert verdict.action is Action.HOLD
    assert verdict.not_passed == ("stage1.volume (error)",)
    assert exit_status(results, [], 0) == 1


def test_a_partial_run_is_at_best_hold_and_exits_6() -> None:
    partial = [Scope(held=9, decided=1, narrowed_by=("-k success_rate",)).text()]
    verdict = run_verdict([rec()], selection="stage1_gate", seeded=False, partial=partial)
    assert verdict.action is Action.HOLD
    assert verdict.line().startswith(
        "cutover verdict: HOLD — stage1_gate — partial: 1 of 9 criteria — hold: a partial run"
    )
    assert exit_status([rec()], [], 0, partial=True) == 6
    failed = [rec(outcome=Outcome.FAIL)]
    assert run_verdict(failed, selection="s", seeded=False, partial=partial).action is (
        Action.ROLLBACK
    )
    assert exit_status(failed, [], 0, partial=True) == 1


def test_scope_is_partial_when_narrowed_or_short() -> None:
    assert not Scope(9, 9).partial
    assert Scope(9, 9, ("-k x",)).partial  # narrowed, even if nothing was left out
    assert Scope(9, 8).partial  # stopped early (-x), or a test lost
    assert Scope(9, 1).text() == "partial: 1 of 9 criteria"


@pytest.mark.parametrize(
    ("results", "errors", "partial", "pytest_status"),
    [
        ([rec()], [], [], 0),
        ([rec(outcome=Outcome.FAIL)], [], [], 1),
        ([rec(outcome=Outcome.INCONCLUSIVE)], [], [], 0),
        ([rec(outcome=Outcome.ERROR)], [], [], 1),
        ([rec()], ["checkpoint not recorded: ledger x: cannot be written"], [], 0),
        ([rec()], [], ["partial: 1 of 9 criteria"], 0),
        ([rec()], [], [], 2),  # interrupted
        ([rec()], [], [], 3),  # an internal error after every criterion passed
        ([], [], [], 0),
    ],
)
def test_the_verdict_and_the_exit_status_agree(
    results: list[RecordedResult], errors: list[str], partial: list[str], pytest_status: int
) -> None:
    verdict, status = conclude(
        results,
        selection="stage1_gate",
        seeded=False,
        errors=errors,
        partial=partial,
        pytest_status=pytest_status,
    )
    assert (verdict.action is Action.PROCEED) == (status == 0)
    if pytest_status:
        assert status == pytest_status
    if pytest_status in (2, 3):  # every criterion passed: the verdict says why it is not 0
        assert f"pytest exit status {pytest_status} (error)" in verdict.line()


@pytest.mark.parametrize(
    ("expression", "names", "expected"),
    [
        ("stage1_gate", {"stage1_gate"}, True),
        ("stage1_gate", {"stage2_gate"}, False),
        ("prereq or stage1_gate", {"stage1_gate", "parametrize"}, True),
        ("not router", {"router"}, False),
        ("stage1_gate and not slow", {"stage1_gate"}, True),
        ("(prereq or rollback) and not stage1_gate", {"rollback"}, True),
        ("", {"anything"}, True),
        ("stage1_gate(flavour=1)", {"stage2_gate"}, True),  # unread: counted as held
        ("stage1-gate", set(), True),
    ],
)
def test_a_marker_expression_is_read_without_pytest(
    expression: str, names: set[str], expected: bool
) -> None:
    assert satisfies(expression, names) is expected
