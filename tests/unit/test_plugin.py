"""The plugin's contract, through pytester: three outcomes, exit codes, the verdict line last,
fail-closed handling of tests that decide nothing, and results that survive xdist."""

from __future__ import annotations

import pytest

from zygote import run_pytester

GATES = """
import pytest
from cutover.criteria.registry import criterion
from cutover.errors import SourceUnavailable
from cutover.outcome import Action, Outcome, Result


@criterion("demo.rate", on_fail=Action.ROLLBACK, source="demo")
def rate(measured, ctx):
    ok = measured >= ctx.profile.success_rate_min_pct
    return Result("demo.rate", Outcome.PASS if ok else Outcome.FAIL, reason=f"{measured}%",
                  measured=measured, threshold=">= 95")


def unreachable(inputs, criterion):
    raise SourceUnavailable("demo source", "connection refused for password=hunter2")


@pytest.mark.stage1_gate
def test_rate(gate):
    gate.decide("demo.rate", lambda inputs, criterion: RATE)
"""


def _write(pytester: pytest.Pytester, body: str, rate: float = 96.0) -> None:
    pytester.makepyfile(test_gates=GATES.replace("RATE", repr(rate)) + body)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return run_pytester(
        pytester,
        "-m",
        "stage1_gate",
        "-p",
        "no:cacheprovider",
        f"--evidence-dir={pytester.path}",
        *args,
    )


def test_all_pass_proceeds_with_exit_0(pytester: pytest.Pytester) -> None:
    _write(pytester, "")
    result = _run(pytester)
    assert result.ret == 0
    assert result.outlines[-1] == (
        "cutover verdict: PROCEED — stage1_gate — none (seeded data: not production evidence)"
    )


def test_a_failed_stage_criterion_means_rollback(pytester: pytest.Pytester) -> None:
    _write(pytester, "", rate=94.99)
    result = _run(pytester)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*CriterionFailed: demo.rate: 94.99%*"])
    assert result.outlines[-1].startswith(
        "cutover verdict: ROLLBACK — stage1_gate — demo.rate (fail) — run the Emergency Rollback"
    )


def test_an_unreachable_source_is_inconclusive_and_exits_6(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
@pytest.mark.stage1_gate
def test_blind(gate):
    gate.decide("demo.rate", unreachable)
""",
    )
    result = _run(pytester, "--junitxml=out.xml")
    assert result.ret == 6
    result.assert_outcomes(passed=1, skipped=1)
    assert "demo.rate (inconclusive)" in result.outlines[-1]
    assert "hunter2" not in result.stdout.str()
    junit = (pytester.path / "out.xml").read_text()
    assert 'name="verdict" value="inconclusive"' in junit
    assert "hunter2" not in junit


def test_a_gate_test_that_decides_nothing_is_not_a_pass(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
@pytest.mark.stage1_gate
def test_forgot_to_decide(gate):
    pass
""",
    )
    result = _run(pytester)
    assert result.ret == 6
    assert "test_forgot_to_decide (inconclusive)" in result.outlines[-1]


def test_a_gate_test_that_errors_holds(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
@pytest.mark.stage1_gate
def test_bug(gate):
    raise KeyError("oops")
""",
    )
    result = _run(pytester)
    assert result.ret == 1
    assert "test_bug (error)" in result.outlines[-1]
    assert result.outlines[-1].startswith("cutover verdict: HOLD")


def test_results_survive_xdist(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
@pytest.mark.stage1_gate
def test_blind(gate):
    gate.decide("demo.rate", unreachable)
""",
    )
    result = _run(pytester, "-n", "2", "--junitxml=out.xml")
    assert result.ret == 6
    assert "demo.rate (inconclusive)" in result.outlines[-1]
    assert (pytester.path / "ledger.jsonl").read_text().count('"type": "checkpoint"') == 1


def test_a_bad_setting_is_a_usage_error_naming_it(pytester: pytest.Pytester) -> None:
    _write(pytester, "")
    result = _run(pytester, "--as-of=yesterday")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*option --as-of*'yesterday' is not an ISO 8601 instant*"])


def test_non_gate_runs_are_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    result = run_pytester(pytester, "-p", "no:cacheprovider")
    assert result.ret == 0
    assert "cutover verdict" not in result.stdout.str()


def test_a_gate_run_without_junitxml_still_leaves_its_junit_evidence(
    pytester: pytest.Pytester,
) -> None:
    _write(pytester, "")
    result = _run(pytester)
    assert result.ret == 0
    [junit] = pytester.path.glob("junit-stage1_gate-*.xml")
    assert 'name="criterion" value="demo.rate"' in junit.read_text()
