"""Measurements for the prerequisites and the RLM endpoint checks (stage 4, v1 removal)."""

from __future__ import annotations

from datetime import timedelta

from cutover.measure.inputs import Inputs
from cutover.sources import prereq_db, rlm_http
from cutover.sources.vercel_env import RolloutSetting


def migration_columns(inputs: Inputs, criterion: str) -> prereq_db.MigrationColumns:
    return prereq_db.read_migration_columns(inputs.database())


def table_access(inputs: Inputs, criterion: str) -> prereq_db.TableAccess:
    return prereq_db.read_table_access(inputs.database())


def validation_queries(inputs: Inputs, criterion: str) -> list[prereq_db.QueryRun]:
    profile = inputs.profile
    return prereq_db.run_validation_queries(
        inputs.database(),
        inputs.as_of,
        profile.stuck_after_minutes,
        window=timedelta(hours=profile.query_window_hours),
        timeline_window=timedelta(hours=profile.timeline_window_hours),
    )


def rollout_setting(inputs: Inputs, criterion: str) -> RolloutSetting:
    return inputs.rollout()


def rlm_health(inputs: Inputs, criterion: str) -> rlm_http.HealthProbe:
    timeout = inputs.profile.http_timeout_seconds
    return rlm_http.probe_health(
        inputs.rlm().production(), timeout=timeout, max_bytes=inputs.profile.http_max_body_bytes
    )


def deprecation_headers(inputs: Inputs, criterion: str) -> rlm_http.HeaderProbe:
    timeout = inputs.profile.http_timeout_seconds
    return rlm_http.probe_deprecation(
        inputs.rlm().local(), timeout=timeout, max_bytes=inputs.profile.http_max_body_bytes
    )


def v1_removed(inputs: Inputs, criterion: str) -> rlm_http.RemovalProbe:
    timeout = inputs.profile.http_timeout_seconds
    return rlm_http.probe_v1_removed(
        inputs.rlm().production(), timeout=timeout, max_bytes=inputs.profile.http_max_body_bytes
    )
