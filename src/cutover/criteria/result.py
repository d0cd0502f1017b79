"""The one way a criterion builds its result: the runner fills in the id (one function may
serve several criteria, `stage1.success_rate` and `stage2.success_rate`), the consequence of
a failure and the source from the registration."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from cutover.measure.set_aside import SetAside
from cutover.outcome import Outcome, Result

PASS, FAIL, UNDECIDED = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE


def result(outcome: Outcome, reason: str, **fields: Any) -> Result:
    """A result for the criterion being decided; `fields` are Result's other fields."""
    return Result("", outcome, reason, **fields)


def hours(delta: timedelta) -> str:
    """`6.0 h`: how durations read in reasons and measured values."""
    return f"{delta.total_seconds() / 3600:.1f} h"


def noting_set_aside(decided: Result, set_aside: Sequence[SetAside]) -> Result:
    """A result that ignored checkpoints set aside (`cutover invalidate`) says so: in its reason
    and, as `set_aside`, in its details."""
    if not set_aside:
        return decided
    ignored = "; ".join(s.text() for s in set_aside)
    return dataclasses.replace(
        decided,
        reason=f"{decided.reason}; ignored {ignored}",
        details={**decided.details, "set_aside": [s.record() for s in set_aside]},
    )
