"""Every way a stage gate can go red, and the healthy rollout that stays green: each scenario is
run through the real suite on the embedded Postgres at its checkpoints (--as-of, the ledger),
and the exact outcome of every criterion is read back from the JUnit file."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite_runner import SuiteRun, run_checkpoint

STAGE1 = (
    "stage1.elapsed",
    "stage1.success_rate",
    "stage1.stuck_imports",
    "stage1.systemic_errors",
    "stage1.complaints",
    "stage1.rlm_stability",
    "stage1.duration",
    "stage1.traffic",
    "stage1.routing_split",
)
STAGE2 = (
    "stage2.elapsed",
    "stage2.success_rate",
    "stage2.stuck_imports",
    "stage2.duration_vs_stage1",
    "stage2.new_error_patterns",
    "stage2.complaints",
    "stage2.rlm_stability",
    "stage2.routing_split",
)
STAGE3 = (
    "stage3.elapsed",
    "stage3.success_rate",
    "stage3.v1_traffic",
    "stage3.rollbacks",
    "stage3.complaints",
    "stage3.rlm_stability",
    "stage3.duration",
    "stage3.routing_split",
)
STAGE4 = ("stage4.elapsed", "stage4.v1_traffic", "stage4.deprecation_headers")


def outcomes(criteria: tuple[str, ...], **not_passing: str) -> dict[str, str]:
    verdicts = dict.fromkeys(criteria, "pass")
    for name, verdict in not_passing.items():
        stage, _, rest = name.partition("_")
        verdicts[f"{stage}.{rest}"] = verdict
    return verdicts


def drive_stage1(tmp_path: Path, scenario: str) -> SuiteRun:
    """The runbook's stage 1 checkpoints: +1 h and +6 h (recorded), then the gate at +24 h."""
    for hours in (1, 6):
        interim = run_checkpoint(tmp_path, scenario, 1, hours, only="success_rate")
        assert interim.exit_code in (0, 1, 6), interim.output
    return run_checkpoint(tmp_path, scenario, 1, 24)


def drive_stage2(tmp_path: Path, scenario: str, *, interim: bool = True) -> SuiteRun:
    """Stage 1's last checkpoint (the baseline), then stage 2's four 12-hourly checkpoints."""
    run_checkpoint(tmp_path, scenario, 1, 24)
    for hours in (36, 48, 60) if interim else ():
        run_checkpoint(tmp_path, scenario, 2, hours, only="success_rate")
    return run_checkpoint(tmp_path, scenario, 2, 72)


def drive_stage3(tmp_path: Path, scenario: str) -> SuiteRun:
    for hours in range(96, 240, 24):
        run_checkpoint(tmp_path, scenario, 3, hours, only="success_rate")
    return run_checkpoint(tmp_path, scenario, 3, 240)


def assert_run(run: SuiteRun, expected: dict[str, str], verdict: str) -> None:
    assert run.verdicts == expected, run.output
    assert run.verdict_line.startswith(f"cutover verdict: {verdict} — "), run.output
    assert run.exit_code == (0 if verdict == "PROCEED" else 1 if "fail" in expected.values() else 6)


STAGE1_SCENARIOS = {
    "healthy-rollout": (outcomes(STAGE1), "PROCEED"),
    "stage1-low-success": (outcomes(STAGE1, stage1_success_rate="fail"), "ROLLBACK"),
    "stage1-stuck-imports": (outcomes(STAGE1, stage1_stuck_imports="fail"), "ROLLBACK"),
    "stage1-api-key-errors": (outcomes(STAGE1, stage1_systemic_errors="fail"), "ROLLBACK"),
    # +1 h had too few settled imports to decide; the +24 h checkpoint's larger stream supersedes it
    "stage1-slow-imports": (outcomes(STAGE1, stage1_duration="fail"), "ROLLBACK"),
    "stage1-memory-leak": (outcomes(STAGE1, stage1_rlm_stability="fail"), "ROLLBACK"),
    "stage1-oom": (outcomes(STAGE1, stage1_rlm_stability="fail"), "ROLLBACK"),
    "stage1-routing-skew": (outcomes(STAGE1, stage1_routing_split="fail"), "ROLLBACK"),
    "stage1-no-attestation": (outcomes(STAGE1, stage1_complaints="inconclusive"), "HOLD"),
    "stage1-no-traffic": (
        outcomes(
            STAGE1,
            stage1_success_rate="inconclusive",
            stage1_duration="inconclusive",
            stage1_stuck_imports="inconclusive",  # no import at all: nothing to judge
            stage1_systemic_errors="inconclusive",
            stage1_traffic="fail",
            stage1_routing_split="fail",
        ),
        "ROLLBACK",
    ),
}


# Driven through every checkpoint: the green path, and the reds where the success rate matters.
DRIVEN = {"healthy-rollout", "stage1-low-success", "stage1-no-traffic", "stage1-slow-imports"}


@pytest.mark.parametrize("scenario", sorted(STAGE1_SCENARIOS))
def test_stage1_gate(tmp_path: Path, scenario: str) -> None:
    """Scenarios built to break another criterion run only the gate at +24 h: their earlier
    success-rate checkpoints are missing, which is inconclusive, as it must be."""
    expected, verdict = STAGE1_SCENARIOS[scenario]
    if scenario in DRIVEN:
        run = drive_stage1(tmp_path, scenario)
    else:
        run = run_checkpoint(tmp_path, scenario, 1, 24)
        expected = {**expected, "stage1.success_rate": "inconclusive"}
        assert "has no record" in run.properties["stage1.success_rate"]["reason"]
    assert_run(run, expected, verdict)


def test_stage1_before_24_hours_holds(tmp_path: Path) -> None:
    run = run_checkpoint(tmp_path, "healthy-rollout", 1, 6)
    assert run.verdicts["stage1.elapsed"] == "inconclusive"
    assert run.properties["stage1.elapsed"]["measured"] == "6.0 h"
    assert run.exit_code == 6


def test_stage1_missing_checkpoint_says_how_to_backfill(tmp_path: Path) -> None:
    run = run_checkpoint(tmp_path, "healthy-rollout", 1, 24)
    assert run.verdicts["stage1.success_rate"] == "inconclusive"
    reason = run.properties["stage1.success_rate"]["reason"]
    assert "pytest -m stage1_gate --as-of 2026-02-02T10:00:00Z" in reason
    assert "pytest -m stage1_gate --as-of 2026-02-02T15:00:00Z" in reason


def test_stage2_gate_healthy(tmp_path: Path) -> None:
    assert_run(drive_stage2(tmp_path, "healthy-rollout"), outcomes(STAGE2), "PROCEED")


def test_stage2_gate_new_error_pattern(tmp_path: Path) -> None:
    expected = outcomes(
        STAGE2, stage2_new_error_patterns="fail", stage2_success_rate="inconclusive"
    )
    assert_run(drive_stage2(tmp_path, "stage2-new-error", interim=False), expected, "ROLLBACK")


def test_stage3_gate_healthy(tmp_path: Path) -> None:
    assert_run(drive_stage3(tmp_path, "healthy-rollout"), outcomes(STAGE3), "PROCEED")


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (
            "stage3-v1-traffic",
            outcomes(STAGE3, stage3_v1_traffic="fail", stage3_success_rate="inconclusive"),
        ),
        (
            "stage3-rollback",
            outcomes(
                STAGE3,
                stage3_elapsed="fail",
                stage3_rollbacks="fail",
                stage3_success_rate="inconclusive",
            ),
        ),
    ],
)
def test_stage3_gate_goes_red(tmp_path: Path, scenario: str, expected: dict[str, str]) -> None:
    """Only the last checkpoint is run: the daily success records are missing (inconclusive)."""
    run = run_checkpoint(tmp_path, scenario, 3, 240)
    assert_run(run, expected, "HOLD")


@pytest.mark.parametrize(
    ("scenario", "expected", "verdict"),
    [
        ("healthy-rollout", outcomes(STAGE4), "PROCEED"),
        ("stage3-v1-traffic", outcomes(STAGE4, stage4_v1_traffic="fail"), "HOLD"),
        (
            "no-deprecation-headers",
            outcomes(STAGE4, stage4_deprecation_headers="fail"),
            "HOLD",
        ),
    ],
)
def test_stage4_gate(tmp_path: Path, scenario: str, expected: dict[str, str], verdict: str) -> None:
    assert_run(run_checkpoint(tmp_path, scenario, 4, 408), expected, verdict)


@pytest.mark.parametrize(
    ("scenario", "verdict"), [("v1-removed", "pass"), ("healthy-rollout", "fail")]
)
def test_v1_removal(tmp_path: Path, scenario: str, verdict: str) -> None:
    run = run_checkpoint(tmp_path, scenario, 4, 600, marker="v1_removal")
    assert run.verdicts == {"v1_removal.endpoint_gone": verdict}, run.output


def test_routing_split_is_inconclusive_on_too_few_requests(tmp_path: Path) -> None:
    run = run_checkpoint(tmp_path, "stage1-low-volume", 1, 24, only="routing_split")
    assert run.verdicts == {"stage1.routing_split": "inconclusive"}, run.output
    reason = run.properties["stage1.routing_split"]["reason"]
    # the power to see a router 5 points off 10% (alpha 0.001, power 0.8) needs 664 requests
    assert "fewer than the 664 needed" in reason and "more decide" in reason


def test_a_deploy_that_did_not_take_fails_the_split(tmp_path: Path) -> None:
    """The ledger says stage 2 (50%), the router still logs v2RolloutPercent=10."""
    run = run_checkpoint(tmp_path, "stage2-deploy-not-taken", 2, 72, only="routing_split")
    assert run.verdicts == {"stage2.routing_split": "fail"}, run.output
    assert "the deploy did not take" in run.properties["stage2.routing_split"]["reason"]


def test_stage2_gate_degraded(tmp_path: Path) -> None:
    """More failures, stuck imports, slower than stage 1, climbing CPU, complaints."""
    expected = outcomes(
        STAGE2,
        stage2_success_rate="fail",
        stage2_stuck_imports="fail",
        stage2_duration_vs_stage1="fail",
        stage2_complaints="fail",
        stage2_rlm_stability="fail",
    )
    run = drive_stage2(tmp_path, "stage2-degraded", interim=False)
    assert_run(run, expected, "ROLLBACK")
    assert "cpu rises" in run.properties["stage2.rlm_stability"]["reason"]


def test_stage3_gate_degraded(tmp_path: Path) -> None:
    """At 100%: failures, slow imports, a leak, complaints, 1% still routed to v1: HOLD."""
    expected = outcomes(
        STAGE3,
        stage3_success_rate="fail",
        stage3_duration="fail",
        stage3_rlm_stability="fail",
        stage3_complaints="fail",
        stage3_routing_split="fail",
        stage3_v1_traffic="fail",
    )
    assert_run(run_checkpoint(tmp_path, "stage3-degraded", 3, 240), expected, "HOLD")


def test_stage4_before_14_days_at_100_percent_holds(tmp_path: Path) -> None:
    run = run_checkpoint(tmp_path, "healthy-rollout", 4, 300, only="elapsed")
    assert run.verdicts == {"stage4.elapsed": "inconclusive"}, run.output
    assert "wait until" in run.properties["stage4.elapsed"]["reason"]
