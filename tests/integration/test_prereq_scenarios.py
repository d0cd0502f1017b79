"""Each prerequisite passes on healthy-rollout and goes red on the scenario built to break it,
proved by running the suite as a user does and reading the JUnit file it wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite_runner import run_suite

PREREQS = (
    "prereq.migration_columns",
    "prereq.rlm_health",
    "prereq.rollout_percent_zero",
    "prereq.validation_queries",
    "prereq.deprecation_headers",
    "prereq.read_only_access",
)


def expect(**not_passing: str) -> dict[str, str]:
    """Every prerequisite passes except those named (criterion id with '.' written as '__')."""
    verdicts = dict.fromkeys(PREREQS, "pass")
    verdicts.update({name.replace("__", "."): v for name, v in not_passing.items()})
    return verdicts


SCENARIOS = {
    "healthy-rollout": (expect(), 0),
    "missing-migration": (
        expect(prereq__migration_columns="fail", prereq__validation_queries="fail"),
        1,
    ),
    "rlm-unavailable": (expect(prereq__rlm_health="fail"), 1),
    "rlm-processors-false": (expect(prereq__rlm_health="fail"), 1),
    "rollout-not-zero": (expect(prereq__rollout_percent_zero="fail"), 1),
    "rollout-unset": (expect(prereq__rollout_percent_zero="fail"), 1),
    "rollout-sensitive": (expect(prereq__rollout_percent_zero="inconclusive"), 6),
    "wrong-sunset": (expect(prereq__deprecation_headers="fail"), 1),
    "no-deprecation-headers": (expect(prereq__deprecation_headers="fail"), 1),
    "no-read-grant": (
        expect(
            prereq__migration_columns="fail",
            prereq__validation_queries="fail",
            prereq__read_only_access="fail",
        ),
        1,
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_prerequisites_on_scenario(tmp_path: Path, scenario: str) -> None:
    expected, exit_code = SCENARIOS[scenario]
    run = run_suite(tmp_path, f"--scenario={scenario}")
    assert run.verdicts == expected, run.output
    assert run.exit_code == exit_code, run.output
    verdict = "PROCEED" if exit_code == 0 else "HOLD"
    assert run.verdict_line.startswith(f"cutover verdict: {verdict} — prereq — "), run.output
    assert run.verdict_line.endswith("(seeded data: not production evidence)")
    for criterion, props in run.properties.items():
        assert props["target"] == "seeded", criterion
        assert props["as_of"] == "2026-02-02T08:00:00Z", criterion


def test_reasons_name_what_broke(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--scenario=rollout-not-zero")
    props = run.properties["prereq.rollout_percent_zero"]
    assert props["measured"] == "'10%' (router reads 10 -> 10)"
    assert "10% of imports" in props["reason"]
    assert ".env.local, line" in props["source"]
