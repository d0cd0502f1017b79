"""The runbook's stage gates. Run one stage at each checkpoint: `pytest -m stage1_gate`.

Each test wires a measurement to its criterion; the thresholds come from the profile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from cutover import measure
from cutover.fixtures import LazyDatabase, RlmEndpoints
from cutover.measure import Exports
from cutover.profile import StagePlan
from cutover.pytest_plugin import Gate
from cutover.sources import rlm_http
from cutover.sources.ledger_view import LedgerView

Ledger = Callable[[], LedgerView]
MARKS = {
    1: pytest.mark.stage1_gate,
    2: pytest.mark.stage2_gate,
    3: pytest.mark.stage3_gate,
    4: pytest.mark.stage4_gate,
}


def stages(*numbers: int) -> pytest.MarkDecorator:
    """Run the test once for each stage named, under that stage's marker."""
    return pytest.mark.parametrize(
        "stage", [pytest.param(n, marks=MARKS[n], id=f"stage{n}") for n in numbers]
    )


def plan(gate: Gate, stage: int) -> StagePlan:
    return gate.context.profile.stage(stage)


@stages(1, 2, 3, 4)
def test_elapsed(gate: Gate, stage: int, cutover_ledger: Ledger) -> None:
    gate.decide(
        f"stage{stage}.elapsed", lambda: measure.stage_progress(cutover_ledger(), plan(gate, stage))
    )


@stages(1, 2, 3)
def test_success_rate(
    gate: Gate, stage: int, cutover_db: LazyDatabase, cutover_ledger: Ledger
) -> None:
    criterion = f"stage{stage}.success_rate"
    gate.decide(
        criterion,
        lambda: measure.success_series(
            cutover_db.get(), cutover_ledger(), plan(gate, stage), criterion, gate.context.profile
        ),
    )


@stages(1, 2)
def test_stuck_imports(
    gate: Gate, stage: int, cutover_db: LazyDatabase, cutover_ledger: Ledger
) -> None:
    gate.decide(
        f"stage{stage}.stuck_imports",
        lambda: measure.stuck_status(
            cutover_db.get(), cutover_ledger(), plan(gate, stage), gate.context.profile
        ),
    )


@stages(1)
def test_systemic_errors(
    gate: Gate, stage: int, cutover_db: LazyDatabase, cutover_ledger: Ledger
) -> None:
    gate.decide(
        f"stage{stage}.systemic_errors",
        lambda: measure.error_signatures(
            cutover_db.get(), cutover_ledger(), plan(gate, stage), gate.context.profile
        ),
    )


@stages(2)
def test_new_error_patterns(
    gate: Gate, stage: int, cutover_db: LazyDatabase, cutover_ledger: Ledger
) -> None:
    gate.decide(
        f"stage{stage}.new_error_patterns",
        lambda: measure.new_error_patterns(
            cutover_db.get(), cutover_ledger(), plan(gate, stage), gate.context.profile
        ),
    )


@stages(1, 2, 3)
def test_complaints(gate: Gate, stage: int, cutover_ledger: Ledger) -> None:
    gate.decide(
        f"stage{stage}.complaints", lambda: measure.complaints(cutover_ledger(), plan(gate, stage))
    )


@stages(1, 2, 3)
def test_rlm_stability(
    gate: Gate, stage: int, cutover_ledger: Ledger, cutover_exports: Exports
) -> None:
    gate.decide(
        f"stage{stage}.rlm_stability",
        lambda: measure.rlm_stability(cutover_ledger(), plan(gate, stage), cutover_exports),
    )


@stages(1, 3)
def test_duration(gate: Gate, stage: int, cutover_db: LazyDatabase, cutover_ledger: Ledger) -> None:
    hours = gate.context.profile.stage3_duration_every_hours
    every = timedelta(hours=hours) if stage == 3 else None
    gate.decide(
        f"stage{stage}.duration",
        lambda: measure.duration_slices(
            cutover_db.get(), cutover_ledger(), plan(gate, stage), every
        ),
    )


@stages(2)
def test_duration_vs_stage1(
    gate: Gate, stage: int, cutover_db: LazyDatabase, cutover_ledger: Ledger
) -> None:
    gate.decide(
        f"stage{stage}.duration_vs_stage1",
        lambda: measure.duration_comparison(cutover_db.get(), cutover_ledger(), plan(gate, stage)),
    )


@stages(1)
def test_traffic(gate: Gate, stage: int, cutover_db: LazyDatabase, cutover_ledger: Ledger) -> None:
    gate.decide(
        f"stage{stage}.traffic",
        lambda: measure.traffic(cutover_db.get(), cutover_ledger(), plan(gate, stage)),
    )


@stages(1, 2, 3)
def test_routing_split(
    gate: Gate, stage: int, cutover_ledger: Ledger, cutover_exports: Exports
) -> None:
    gate.decide(
        f"stage{stage}.routing_split",
        lambda: measure.routing_split(cutover_ledger(), plan(gate, stage), cutover_exports),
    )


@stages(3, 4)
def test_v1_traffic(
    gate: Gate, stage: int, cutover_ledger: Ledger, cutover_exports: Exports
) -> None:
    span = timedelta(hours=24) if stage == 3 else timedelta(days=7)
    gate.decide(
        f"stage{stage}.v1_traffic",
        lambda: measure.v1_traffic(cutover_ledger(), plan(gate, stage), cutover_exports, span),
    )


@stages(3)
def test_rollbacks(gate: Gate, stage: int, cutover_ledger: Ledger) -> None:
    gate.decide(
        f"stage{stage}.rollbacks", lambda: measure.rollbacks(cutover_ledger(), plan(gate, stage))
    )


@pytest.mark.stage4_gate
def test_deprecation_headers_still_served(gate: Gate, cutover_rlm: RlmEndpoints) -> None:
    timeout = gate.context.profile.http_timeout_seconds
    gate.decide(
        "stage4.deprecation_headers",
        lambda: rlm_http.probe_deprecation(cutover_rlm.local(), timeout=timeout),
    )


@pytest.mark.v1_removal
def test_v1_endpoint_gone(gate: Gate, cutover_rlm: RlmEndpoints) -> None:
    timeout = gate.context.profile.http_timeout_seconds
    gate.decide(
        "v1_removal.endpoint_gone",
        lambda: rlm_http.probe_v1_removed(cutover_rlm.production(), timeout=timeout),
    )
