"""The outcomes of a criterion, the run verdicts they map to (DESIGN.md contract), and how much
of its selection a run decided."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Outcome(enum.StrEnum):
    """What a criterion decided: measured and within, measured and outside, or undecidable; or
    `error`: measuring it raised (bad input, a bug) instead of giving a decided result."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


class Action(enum.IntEnum):
    """Run verdicts, ordered so that the worst one wins."""

    PROCEED = 0
    HOLD = 1
    ROLLBACK = 2


def action_for(outcome: Outcome, on_fail: Action | None) -> Action:
    """What one criterion's outcome asks of the run: a pass proceeds, a failure asks for its
    consequence (HOLD when none is given), and an undecided or errored criterion holds."""
    if outcome is Outcome.PASS:
        return Action.PROCEED
    if outcome is Outcome.FAIL and on_fail is not None:
        return on_fail
    return Action.HOLD


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
        return action_for(self.outcome, self.on_fail)


def overall_action(results: Iterable[Result]) -> Action:
    """The worst action any result asks for; PROCEED only when every one passed."""
    return max((r.action for r in results), default=Action.PROCEED)


@dataclass(frozen=True, slots=True)
class Scope:
    """How much of its selection a run decided: `held` gate tests the selected markers hold,
    `decided` of them recorded a result, and what narrowed the selection (`-k ...`,
    `--deselect ...`, node ids). A partial run never proceeds."""

    held: int
    decided: int
    narrowed_by: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return bool(self.narrowed_by) or self.decided < self.held

    def text(self) -> str:
        """`partial: N of M criteria` (the verdict line's and the report's words)."""
        return f"partial: {self.decided} of {self.held} criteria"
