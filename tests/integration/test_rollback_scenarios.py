"""Each rollback trigger fires on a scenario built for it, and none fires on the healthy rollout;
run through the real suite (`pytest -m rollback`) on the embedded Postgres, read from JUnit."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite_runner import run_checkpoint

TRIGGERS = (
    "rollback.success_rate",
    "rollback.error_rate",
    "rollback.stuck_per_hour",
    "rollback.stuck_multiple_users",
    "rollback.slow_imports",
    "rollback.rlm_crash",
    "rollback.complaints",
    "rollback.data_corruption",
)


def firing(*triggers: str) -> dict[str, str]:
    verdicts = dict.fromkeys(TRIGGERS, "pass")
    verdicts.update({f"rollback.{t}": "fail" for t in triggers})
    return verdicts


SCENARIOS = {
    "healthy-rollout": (firing(), "PROCEED"),
    "rollback-failures": (firing("success_rate", "error_rate"), "ROLLBACK"),
    "rollback-stuck-burst": (firing("stuck_per_hour", "stuck_multiple_users"), "ROLLBACK"),
    "rollback-stuck-users": (firing("stuck_multiple_users"), "ROLLBACK"),
    "rollback-slow-recent": (firing("slow_imports"), "HOLD"),
    "rollback-slow-persistent": (firing("slow_imports"), "ROLLBACK"),
    "rollback-oom": (firing("rlm_crash"), "ROLLBACK"),
    "rlm-unavailable": (firing("rlm_crash"), "ROLLBACK"),
    "rollback-complaints": (firing("complaints"), "ROLLBACK"),
    "rollback-corruption": (firing("data_corruption"), "ROLLBACK"),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_triggers(tmp_path: Path, scenario: str) -> None:
    expected, verdict = SCENARIOS[scenario]
    run = run_checkpoint(tmp_path, scenario, 1, 20, marker="rollback")
    assert run.verdicts == expected, run.output
    assert run.verdict_line.startswith(f"cutover verdict: {verdict} — rollback — "), run.output
    assert run.exit_code == (0 if verdict == "PROCEED" else 1), run.output
    for criterion, props in run.properties.items():
        assert '"severity"' in props["details"], criterion


def test_corruption_lists_the_offending_users_and_asks_for_an_incident(tmp_path: Path) -> None:
    run = run_checkpoint(tmp_path, "rollback-corruption", 1, 20, marker="rollback")
    props = run.properties["rollback.data_corruption"]
    for invariant in (
        "complete_without_completed_at",
        "completed_before_started",
        "complete_without_memory_md",
        "failed_without_error",
        "processing_without_started_at",
        "status_not_allowed",
        "started_in_future",
    ):
        assert invariant in props["reason"], invariant
    assert "00000000-0000-4000-8000-" in props["details"]
    assert "open an incident" in run.verdict_line


def test_slow_imports_say_how_long_the_condition_has_lasted(tmp_path: Path) -> None:
    recent = run_checkpoint(tmp_path / "recent", "rollback-slow-recent", 1, 20, marker="rollback")
    persistent = run_checkpoint(
        tmp_path / "persistent", "rollback-slow-persistent", 1, 20, marker="rollback"
    )
    assert recent.properties["rollback.slow_imports"]["on_fail"] == "HOLD"
    assert persistent.properties["rollback.slow_imports"]["on_fail"] == "ROLLBACK"
    # slow since hour 17; at hour 20 the hours up to 19:00 are known (19:00-20:00 is not yet)
    assert "2.0 h of known hours" in recent.properties["rollback.slow_imports"]["measured"]


@pytest.mark.parametrize(
    ("minutes", "verdict"), [(20, "inconclusive"), (35, "fail"), (180, "pass")]
)
def test_in_flight_imports_drain_after_a_rollback(
    tmp_path: Path, minutes: int, verdict: str
) -> None:
    """Rolled back at hour 10 with hour-long v2 imports running: wait, then fail, then pass."""
    run = run_checkpoint(
        tmp_path, "rollback-in-flight", 1, 10 + minutes / 60, marker="rollback_verify"
    )
    assert run.verdicts == {
        "rollback_verify.percent_zero": "pass",
        "rollback_verify.routing_all_v1": "pass",
        "rollback_verify.in_flight_drained": verdict,
        "rollback_verify.rlm_health": "pass",
    }, run.output
    if verdict == "pass":
        assert "restart from stage 1" in run.verdict_line
