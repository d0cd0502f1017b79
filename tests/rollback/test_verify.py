"""Did the rollback take? Run after `cutover rollback --reason ...`: `pytest -m rollback_verify`."""

from __future__ import annotations

from cutover.measure import Measurement, prereq, rollback
from cutover.pytest_plugin import Gate, gate_table


@gate_table(
    # criterion                             measurement
    ("rollback_verify.percent_zero", prereq.rollout_setting),
    ("rollback_verify.routing_all_v1", rollback.routing_after_rollback),
    ("rollback_verify.in_flight_drained", rollback.in_flight_after_rollback),
    ("rollback_verify.rlm_health", prereq.rlm_health),
)
def test_rollback_took(gate: Gate, criterion: str, measurement: Measurement) -> None:
    gate.decide(criterion, measurement)
