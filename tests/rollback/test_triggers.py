"""Must we roll back right now? The runbook's decision table, run often (e.g. every 15 minutes)
during any stage: `pytest -m rollback`. A failed trigger means ROLLBACK."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cutover import measure_rollback as measure
from cutover.fixtures import LazyDatabase, RlmEndpoints
from cutover.measure import Exports
from cutover.pytest_plugin import Gate
from cutover.sources.ledger_view import LedgerView

pytestmark = pytest.mark.rollback


def test_success_rate(gate: Gate, cutover_db: LazyDatabase) -> None:
    ctx = gate.context
    gate.decide(
        "rollback.success_rate",
        lambda: measure.recent_success(cutover_db.get(), ctx.as_of, ctx.profile),
    )


def test_error_rate(gate: Gate, cutover_db: LazyDatabase) -> None:
    ctx = gate.context
    gate.decide(
        "rollback.error_rate",
        lambda: measure.recent_success(cutover_db.get(), ctx.as_of, ctx.profile),
    )


def test_stuck_per_hour(gate: Gate, cutover_db: LazyDatabase) -> None:
    ctx = gate.context
    gate.decide(
        "rollback.stuck_per_hour",
        lambda: measure.stuck_now(cutover_db.get(), ctx.as_of, ctx.profile),
    )


def test_stuck_multiple_users(gate: Gate, cutover_db: LazyDatabase) -> None:
    ctx = gate.context
    gate.decide(
        "rollback.stuck_multiple_users",
        lambda: measure.stuck_now(cutover_db.get(), ctx.as_of, ctx.profile),
    )


def test_slow_imports(gate: Gate, cutover_db: LazyDatabase) -> None:
    ctx = gate.context
    gate.decide(
        "rollback.slow_imports",
        lambda: measure.slow_history(cutover_db.get(), ctx.as_of, ctx.profile),
    )


def test_rlm_crash(gate: Gate, cutover_exports: Exports, cutover_rlm: RlmEndpoints) -> None:
    ctx = gate.context
    gate.decide(
        "rollback.rlm_crash",
        lambda: measure.rlm_crash_signals(cutover_exports, cutover_rlm.url, ctx.as_of, ctx.profile),
    )


def test_complaints(gate: Gate, cutover_ledger: Callable[[], LedgerView]) -> None:
    gate.decide(
        "rollback.complaints",
        lambda: measure.recent_complaints(cutover_ledger(), gate.context.profile),
    )


def test_data_corruption(gate: Gate, cutover_db: LazyDatabase) -> None:
    ctx = gate.context
    gate.decide(
        "rollback.data_corruption",
        lambda: measure.integrity(cutover_db.get(), ctx.as_of, ctx.profile),
    )
