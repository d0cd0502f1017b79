"""The three outcomes of a criterion and the run verdicts they map to (DESIGN.md contract)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Outcome(enum.StrEnum):
    """What a criterion decided: measured and within, measured and outside, or undecidable."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Action(enum.IntEnum):
    """Run verdicts, ordered so that the worst one wins."""

    PROCEED = 0
    HOLD = 1
    ROLLBACK = 2


@dataclass(frozen=True, slots=True)
class Window:
    """The span a measurement covers, both ends in UTC."""

    start: datetime | None
    end: datetime


@dataclass(frozen=True, slots=True)
class Result:
    """A criterion's verdict with everything a reviewer needs to trust it."""

    criterion: str
    outcome: Outcome
    reason: str
    measured: Any = None
    threshold: str = ""
    window: Window | None = None
    sample_size: int | None = None
    source: str = ""
    on_fail: Action | None = None  # None: the registered criterion's consequence
    query_sha256: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> Action:
        """The run verdict this result alone asks for."""
        if self.outcome is Outcome.PASS:
            return Action.PROCEED
        if self.outcome is Outcome.FAIL:
            return Action.HOLD if self.on_fail is None else self.on_fail
        return Action.HOLD


def overall_action(results: Iterable[Result]) -> Action:
    """The worst action any result asks for; PROCEED only when every one passed."""
    return max((r.action for r in results), default=Action.PROCEED)
