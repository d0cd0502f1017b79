"""Checkpoint records a person set aside (`cutover invalidate`), as the measurements that span
checkpoints report them: each ignores them (`LedgerView.checkpoint_values` leaves them out) and
its criterion says so in its evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cutover.ledger.view import LedgerView
from cutover.timeutil import iso


@dataclass(frozen=True, slots=True)
class SetAside:
    """An earlier checkpoint record of the criterion a person set aside (`cutover invalidate`):
    the measurement ignored it."""

    line: int
    as_of: datetime
    by: str
    reason: str

    def text(self) -> str:
        return (
            f"checkpoint line {self.line} ({iso(self.as_of)}) set aside by {self.by}: {self.reason}"
        )

    def record(self) -> dict[str, Any]:
        return {"line": self.line, "as_of": iso(self.as_of), "by": self.by, "reason": self.reason}


def set_aside(
    view: LedgerView, criterion: str, since: datetime | None = None
) -> tuple[SetAside, ...]:
    """The checkpoints of `criterion` set aside, measured at or before the instant (and from
    `since`): what `LedgerView.checkpoint_values` left out."""
    return tuple(
        SetAside(line, as_of, invalidation.by, invalidation.reason)
        for line, as_of, invalidation in view.set_aside(criterion)
        if since is None or as_of >= since
    )
