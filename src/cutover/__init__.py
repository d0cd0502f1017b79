"""cutover-gates: executable, evidence-producing gates for a gradual cutover runbook."""

from __future__ import annotations

__version__ = "0.1.0"
