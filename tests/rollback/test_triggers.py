"""Must we roll back right now? The runbook's decision table, run often (e.g. every 15 minutes)
during any stage: `pytest -m rollback`. A failed trigger means ROLLBACK."""

from __future__ import annotations

from cutover.measure import Measurement, rollback
from cutover.pytest_plugin import Gate, gate_table


@gate_table(
    # criterion                        measurement
    ("rollback.success_rate", rollback.recent_success),
    ("rollback.error_rate", rollback.recent_success),
    ("rollback.stuck_per_hour", rollback.stuck_now),
    ("rollback.stuck_multiple_users", rollback.stuck_now),
    ("rollback.slow_imports", rollback.slow_history),
    ("rollback.rlm_crash", rollback.rlm_crash_signals),
    ("rollback.complaints", rollback.recent_complaints),
    ("rollback.data_corruption", rollback.integrity),
)
def test_trigger(gate: Gate, criterion: str, measurement: Measurement) -> None:
    gate.decide(criterion, measurement)
