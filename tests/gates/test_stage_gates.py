"""The runbook's stage gates and the v1 removal. Run one stage at each checkpoint:
`pytest -m stage1_gate`. Each row wires a criterion to its measurement; thresholds come from
the profile."""

from __future__ import annotations

from cutover.measure import Measurement, logs, prereq, stage
from cutover.measure.checkpoints import success_series
from cutover.pytest_plugin import Gate, gate_table


@gate_table(
    # criterion                        measurement
    ("stage1.elapsed", stage.stage_progress),
    ("stage1.success_rate", success_series),
    ("stage1.stuck_imports", stage.stuck_status),
    ("stage1.systemic_errors", stage.error_patterns),
    ("stage1.complaints", stage.complaints),
    ("stage1.rlm_stability", logs.rlm_stability),
    ("stage1.duration", stage.duration_slices),
    ("stage1.traffic", stage.traffic),
    ("stage1.routing_split", logs.routing_split),
    ("stage2.elapsed", stage.stage_progress),
    ("stage2.success_rate", success_series),
    ("stage2.stuck_imports", stage.stuck_status),
    ("stage2.duration_vs_stage1", stage.duration_comparison),
    ("stage2.new_error_patterns", stage.new_error_patterns),
    ("stage2.complaints", stage.complaints),
    ("stage2.rlm_stability", logs.rlm_stability),
    ("stage2.routing_split", logs.routing_split),
    ("stage3.elapsed", stage.stage_progress),
    ("stage3.success_rate", success_series),
    ("stage3.v1_traffic", logs.v1_traffic),
    ("stage3.rollbacks", stage.rollbacks),
    ("stage3.complaints", stage.complaints),
    ("stage3.rlm_stability", logs.rlm_stability),
    ("stage3.duration", stage.duration_slices),
    ("stage3.routing_split", logs.routing_split),
    ("stage4.elapsed", stage.stage_progress),
    ("stage4.v1_traffic", logs.v1_traffic),
    ("stage4.deprecation_headers", prereq.deprecation_headers),
    ("v1_removal.endpoint_gone", prereq.v1_removed),
)
def test_stage_gate(gate: Gate, criterion: str, measurement: Measurement) -> None:
    gate.decide(criterion, measurement)
