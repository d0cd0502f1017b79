"""Every way a gate run can end, through pytester: the exit status is decided after the evidence
is written, and the verdict line and the exit status agree on every path (PROCEED exactly when
the exit is 0). A partial run, an errored criterion, a ledger that cannot take the checkpoint
and a broken chain are never exit 0; a run that selects no gate test is left alone."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import xmlschema

from cutover.ledger import Store
from cutover.ledger.records import Rollback, StageStarted
from cutover.ledger.signing import check_hmac
from zygote import run_pytester

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"
T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)

# Two criteria in one gate table (as tests/gates has), and a router test beside them.
GATES = """
import pytest
from cutover.criteria.registry import criterion
from cutover.errors import ConfigError, SourceUnavailable
from cutover.outcome import Action, Outcome, Result
from cutover.pytest_plugin import Gate, gate_table


@criterion("stage1.demo_rate", on_fail=Action.ROLLBACK, source="demo")
def rate(measured, ctx):
    ok = measured >= 95
    return Result("stage1.demo_rate", Outcome.PASS if ok else Outcome.FAIL, reason=f"{measured}%",
                  measured=measured, threshold=">= 95")


@criterion("stage1.demo_volume", on_fail=Action.ROLLBACK, source="demo")
def volume(measured, ctx):
    return Result("stage1.demo_volume", Outcome.PASS, reason="enough", measured=measured)


def measured_rate(inputs, criterion):
    return RATE


def measured_volume(inputs, criterion):
    VOLUME


@gate_table(("stage1.demo_rate", measured_rate), ("stage1.demo_volume", measured_volume))
def test_gate(gate: Gate, criterion, measurement):
    gate.decide(criterion, measurement)


@pytest.mark.router
def test_router_model():
    assert ROUTER_OK
"""
VOLUMES = {
    "ok": "return 1000",
    "blind": 'raise SourceUnavailable("demo source", "connection refused")',
    "bad input": "raise ConfigError(\"metrics.csv, line 3: memory_mb is ''; expected a number\")",
    "bug": 'raise KeyError("oops")',
}


def _write(
    pytester: pytest.Pytester, *, rate: float = 96.0, volume: str = "ok", router_ok: bool = True
) -> None:
    body = GATES.replace("RATE", repr(rate)).replace("VOLUME", VOLUMES[volume])
    pytester.makepyfile(test_gates=body.replace("ROUTER_OK", repr(router_ok)))


def _run(pytester: pytest.Pytester, *args: str, evidence: Path | None = None) -> pytest.RunResult:
    where = evidence or pytester.path / "evidence"
    return run_pytester(
        pytester, "-p", "no:cacheprovider", f"--evidence-dir={where}", "--junitxml=out.xml", *args
    )


def _verdict(result: pytest.RunResult) -> str:
    return result.outlines[-1] if result.outlines else ""


def _agree(result: pytest.RunResult) -> str:
    """The verdict line is the last line, and says PROCEED exactly when the exit status is 0."""
    line = _verdict(result)
    assert line.startswith("cutover verdict: "), result.outlines[-15:]
    assert ("cutover verdict: PROCEED" in line) == (result.ret == 0), (result.ret, line)
    return line


def _checkpoints(evidence: Path) -> list[dict[str, object]]:
    return [dict(e.data) for e in Store(evidence).read() if e.type == "checkpoint"]


# -- the paths ----------------------------------------------------------------------------------


def test_all_pass_proceeds(pytester: pytest.Pytester) -> None:
    _write(pytester)
    result = _run(pytester, "-m", "stage1_gate")
    assert result.ret == 0
    assert _agree(result).startswith("cutover verdict: PROCEED — stage1_gate — none")
    [record] = _checkpoints(pytester.path / "evidence")
    assert record["scope"] == {"held": 2, "decided": 2, "narrowed_by": []}


def test_a_failure_rolls_back(pytester: pytest.Pytester) -> None:
    _write(pytester, rate=90.0)
    result = _run(pytester, "-m", "stage1_gate")
    assert result.ret == 1
    assert "ROLLBACK — stage1_gate — stage1.demo_rate (fail)" in _agree(result)


def test_inconclusive_only_holds_with_6(pytester: pytest.Pytester) -> None:
    _write(pytester, volume="blind")
    result = _run(pytester, "-m", "stage1_gate")
    assert result.ret == 6
    assert "HOLD — stage1_gate — stage1.demo_volume (inconclusive)" in _agree(result)


def test_bad_input_is_an_error_criterion_without_a_traceback(pytester: pytest.Pytester) -> None:
    _write(pytester, volume="bad input")
    result = _run(pytester, "-m", "stage1_gate")
    assert result.ret == 1
    assert "HOLD — stage1_gate — stage1.demo_volume (error)" in _agree(result)
    output = result.stdout.str()
    assert "error: stage1.demo_volume: metrics.csv, line 3: memory_mb is ''" in output
    assert "Traceback" not in output and "raise ConfigError" not in output
    [record] = _checkpoints(pytester.path / "evidence")
    volume = record["results"]["stage1.demo_volume"]  # type: ignore[index]
    assert volume["verdict"] == "error"
    assert volume["reason"] == "metrics.csv, line 3: memory_mb is ''; expected a number"
    junit = ET.parse(pytester.path / "out.xml").getroot()
    [case] = [c for c in junit.iter("testcase") if "demo_volume" in c.get("name", "")]
    assert case.find("failure") is not None  # pytest's <failure>, read as the error it is


def test_a_gate_test_that_raises_records_its_criterion_as_error(pytester: pytest.Pytester) -> None:
    _write(pytester, volume="bug")
    result = _run(pytester, "-m", "stage1_gate")
    assert result.ret == 1
    line = _agree(result)
    assert line.startswith("cutover verdict: HOLD — stage1_gate — stage1.demo_volume (error)")
    [record] = _checkpoints(pytester.path / "evidence")
    volume = record["results"]["stage1.demo_volume"]  # type: ignore[index]
    assert (volume["verdict"], volume["reason"]) == ("error", "KeyError: 'oops'")


def test_a_ledger_that_cannot_be_written_is_never_exit_0(pytester: pytest.Pytester) -> None:
    _write(pytester)
    blocker = pytester.path / "not-a-directory"
    blocker.write_text("a file where the evidence directory should be")
    result = _run(pytester, "-m", "stage1_gate", evidence=blocker / "evidence")
    assert result.ret == 1
    line = _agree(result)
    assert line.startswith("cutover verdict: HOLD — stage1_gate — checkpoint not recorded: ")
    assert "cannot be written (Not a directory)" in line


def test_a_broken_chain_is_not_appended_to_and_never_exit_0(pytester: pytest.Pytester) -> None:
    _write(pytester)
    evidence = pytester.path / "evidence"
    Store(evidence).append(StageStarted(1, 10, T0))
    Store(evidence).append(Rollback("drill", T0 + timedelta(hours=1)))
    ledger = evidence / "ledger.jsonl"
    ledger.write_text(ledger.read_text().splitlines(keepends=True)[1])  # line 1 removed
    before = ledger.read_bytes()
    result = _run(pytester, "-m", "stage1_gate")
    assert result.ret == 1
    line = _agree(result)
    assert "checkpoint not recorded: ledger " in line
    assert "line 1: hash chain broken" in line and "cutover verify" in line
    assert ledger.read_bytes() == before


@pytest.mark.parametrize(
    "narrowing",
    [
        ("-k", "demo_rate"),
        ("--deselect", "test_gates.py::test_gate[stage1.demo_volume]"),
        ("test_gates.py::test_gate[stage1.demo_rate]",),
    ],
    ids=["keyword", "deselect", "node id"],
)
def test_a_partial_run_holds_and_says_so(
    pytester: pytest.Pytester, narrowing: tuple[str, ...]
) -> None:
    _write(pytester)
    result = _run(pytester, "-m", "stage1_gate", *narrowing)
    assert result.ret == 6
    line = _agree(result)
    assert line.startswith("cutover verdict: HOLD — stage1_gate — partial: 1 of 2 criteria — ")
    [record] = _checkpoints(pytester.path / "evidence")
    assert record["scope"] == {"held": 2, "decided": 1, "narrowed_by": [" ".join(narrowing)]}


def test_a_partial_run_with_a_failure_still_rolls_back(pytester: pytest.Pytester) -> None:
    _write(pytester, rate=90.0)
    result = _run(pytester, "-m", "stage1_gate", "-k", "demo_rate")
    assert result.ret == 1
    line = _agree(result)
    assert "ROLLBACK — stage1_gate — partial: 1 of 2 criteria, stage1.demo_rate (fail)" in line


def test_a_run_stopped_early_is_partial(pytester: pytest.Pytester) -> None:
    _write(pytester, rate=90.0)
    result = _run(pytester, "-m", "stage1_gate", "-x")
    assert result.ret == 1
    assert "partial: 1 of 2 criteria" in _agree(result)


def test_under_xdist_the_controller_knows_the_scope(pytester: pytest.Pytester) -> None:
    _write(pytester)
    result = _run(pytester, "-m", "stage1_gate", "-k", "demo_rate", "-n", "2")
    assert result.ret == 6
    assert "partial: 1 of 2 criteria" in _agree(result)


@pytest.mark.parametrize("router_ok", [True, False])
def test_a_run_that_selects_no_gate_keeps_pytests_status_and_prints_no_verdict(
    pytester: pytest.Pytester, router_ok: bool
) -> None:
    _write(pytester, router_ok=router_ok)
    result = _run(pytester, "-m", "router")
    assert result.ret == (0 if router_ok else 1)
    assert "cutover verdict" not in result.stdout.str()
    assert not (pytester.path / "evidence" / "ledger.jsonl").exists()


def test_a_failing_non_gate_test_in_a_gate_run_holds(pytester: pytest.Pytester) -> None:
    _write(pytester, router_ok=False)
    result = _run(pytester, "-m", "stage1_gate or router")
    assert result.ret == 1
    assert "test_gates.py::test_router_model (error)" in _agree(result)


# -- the ledger's head in the JUnit file --------------------------------------------------------


def test_the_junit_file_records_the_head_before_and_after(pytester: pytest.Pytester) -> None:
    _write(pytester)
    evidence = pytester.path / "evidence"
    Store(evidence).append(StageStarted(1, 10, T0))
    before = Store(evidence).head()
    assert _run(pytester, "-m", "stage1_gate").ret == 0
    after = Store(evidence).head()
    assert before is not None and after is not None and after.line == before.line + 1
    root = ET.parse(pytester.path / "out.xml").getroot()
    [suite] = root.iter("testsuite")
    properties = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert properties == {"ledger_head_before": before.label, "ledger_head_after": after.label}
    # still junit-10 (which allows suite properties) apart from xunit1's per-test properties
    for case in root.iter("testcase"):
        for name in ("file", "line"):
            case.attrib.pop(name, None)
        for block in case.findall("properties"):
            case.remove(block)
    xmlschema.XMLSchema(str(SCHEMA)).validate(root)


def test_the_checkpoint_names_what_narrowed_it_in_the_ledger(pytester: pytest.Pytester) -> None:
    _write(pytester)
    _run(pytester, "-m", "stage1_gate", "-k", "demo_rate")
    lines = (pytester.path / "evidence" / "ledger.jsonl").read_text().splitlines()
    record = json.loads(lines[-1])
    assert (record["v"], record["selection"]) == (2, "stage1_gate")
    assert record["scope"]["narrowed_by"] == ["-k demo_rate"]


def test_a_run_signs_the_head_it_writes_with_the_hmac_key(pytester: pytest.Pytester) -> None:
    _write(pytester)
    key = "hm4c-k3y-of-the-release-manager"
    result = _run(pytester, "-m", "stage1_gate", f"--ledger-hmac-key={key}")
    assert result.ret == 0
    evidence = pytester.path / "evidence"
    assert check_hmac(evidence, key).status == "ok"
    assert check_hmac(evidence, "not-the-key").status == "FAIL"
    written = [result.stdout.str(), (pytester.path / "out.xml").read_text()]
    written += [p.read_text() for p in evidence.iterdir() if p.is_file()]
    assert not any(key in text for text in written)
