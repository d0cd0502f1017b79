"""Moved to `cutover.ledger.view`. This name stays only while tests/gates and tests/rollback
import it from here; new code imports `cutover.ledger.view`."""

from __future__ import annotations

from cutover.ledger.view import CheckpointValue, LedgerView, StageRun

__all__ = ["CheckpointValue", "LedgerView", "StageRun"]
