"""The one way a criterion builds its result: the runner fills in the id (one function may
serve several criteria, `stage1.success_rate` and `stage2.success_rate`), the consequence of
a failure and the source from the registration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cutover.outcome import Outcome, Result

PASS, FAIL, UNDECIDED = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE


def result(outcome: Outcome, reason: str, **fields: Any) -> Result:
    """A result for the criterion being decided; `fields` are Result's other fields."""
    return Result("", outcome, reason, **fields)


def hours(delta: timedelta) -> str:
    """`6.0 h`: how durations read in reasons and measured values."""
    return f"{delta.total_seconds() / 3600:.1f} h"
