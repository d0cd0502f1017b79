"""Criteria: pure functions `(measurement, Context) -> Result`, registered by stable id.

Importing the package registers every criterion of the runbook."""

from __future__ import annotations

from cutover.criteria import prereq, rlm, rollback, rollback_verify, rollout, stage

__all__ = ["prereq", "rlm", "rollback", "rollback_verify", "rollout", "stage"]
