"""Did the rollback take? Run after `cutover rollback --reason ...`: `pytest -m rollback_verify`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cutover import measure_rollback as measure
from cutover.fixtures import LazyDatabase, RlmEndpoints
from cutover.measure import Exports
from cutover.pytest_plugin import Gate
from cutover.sources import rlm_http
from cutover.sources.ledger_view import LedgerView
from cutover.sources.vercel_env import RolloutSetting

pytestmark = pytest.mark.rollback_verify
Ledger = Callable[[], LedgerView]


def test_percent_zero(gate: Gate, cutover_rollout_setting: Callable[[], RolloutSetting]) -> None:
    gate.decide("rollback_verify.percent_zero", cutover_rollout_setting)


def test_routing_all_v1(gate: Gate, cutover_ledger: Ledger, cutover_exports: Exports) -> None:
    gate.decide(
        "rollback_verify.routing_all_v1",
        lambda: measure.routing_after_rollback(cutover_ledger(), cutover_exports),
    )


def test_in_flight_drained(gate: Gate, cutover_db: LazyDatabase, cutover_ledger: Ledger) -> None:
    gate.decide(
        "rollback_verify.in_flight_drained",
        lambda: measure.in_flight_after_rollback(
            cutover_db.get(), cutover_ledger(), gate.context.profile
        ),
    )


def test_rlm_health(gate: Gate, cutover_rlm: RlmEndpoints) -> None:
    timeout = gate.context.profile.http_timeout_seconds
    gate.decide(
        "rollback_verify.rlm_health",
        lambda: rlm_http.probe_health(cutover_rlm.production(), timeout=timeout),
    )
