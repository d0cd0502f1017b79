"""The runbook's prerequisites (one criterion each). If any fails: STOP and fix before stage 1."""

from __future__ import annotations

from cutover.measure import Measurement, prereq
from cutover.pytest_plugin import Gate, gate_table


@gate_table(
    # criterion                        measurement
    ("prereq.migration_columns", prereq.migration_columns),
    ("prereq.rlm_health", prereq.rlm_health),
    ("prereq.rollout_percent_zero", prereq.rollout_setting),
    ("prereq.validation_queries", prereq.validation_queries),
    ("prereq.deprecation_headers", prereq.deprecation_headers),
    ("prereq.read_only_access", prereq.table_access),
)
def test_prerequisite(gate: Gate, criterion: str, measurement: Measurement) -> None:
    gate.decide(criterion, measurement)
