"""Measurements: read the sources for one criterion and return plain values (with the window
and sample size) for the criterion to judge. Every measurement has one signature,
`fn(inputs, criterion)`, so a gate test is one row of a table; see `inputs`."""

from __future__ import annotations

from cutover.measure import logs, prereq, rollback, stage
from cutover.measure.inputs import Inputs, Measurement

__all__ = ["Inputs", "Measurement", "logs", "prereq", "rollback", "stage"]
