"""The runbook's prerequisites (one criterion each). If any fails: STOP and fix before stage 1."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cutover.fixtures import LazyDatabase, RlmEndpoints
from cutover.pytest_plugin import Gate
from cutover.sources import prereq_db, rlm_http
from cutover.sources.vercel_env import RolloutSetting

pytestmark = pytest.mark.prereq


def test_migration_columns(gate: Gate, cutover_db: LazyDatabase) -> None:
    gate.decide(
        "prereq.migration_columns", lambda: prereq_db.read_migration_columns(cutover_db.get())
    )


def test_rlm_health(gate: Gate, cutover_rlm: RlmEndpoints) -> None:
    timeout = gate.context.profile.http_timeout_seconds
    gate.decide(
        "prereq.rlm_health",
        lambda: rlm_http.probe_health(cutover_rlm.production(), timeout=timeout),
    )


def test_rollout_percent_zero(
    gate: Gate, cutover_rollout_setting: Callable[[], RolloutSetting]
) -> None:
    gate.decide("prereq.rollout_percent_zero", cutover_rollout_setting)


def test_validation_queries(gate: Gate, cutover_db: LazyDatabase) -> None:
    stuck_after = gate.context.profile.stuck_after_minutes
    gate.decide(
        "prereq.validation_queries",
        lambda: prereq_db.run_validation_queries(cutover_db.get(), gate.context.as_of, stuck_after),
    )


def test_deprecation_headers(gate: Gate, cutover_rlm: RlmEndpoints) -> None:
    timeout = gate.context.profile.http_timeout_seconds
    gate.decide(
        "prereq.deprecation_headers",
        lambda: rlm_http.probe_deprecation(cutover_rlm.local(), timeout=timeout),
    )


def test_read_only_access(gate: Gate, cutover_db: LazyDatabase) -> None:
    gate.decide("prereq.read_only_access", lambda: prereq_db.read_table_access(cutover_db.get()))
