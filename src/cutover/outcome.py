"""The outcomes of a criterion, the run verdicts they map to (DESIGN.md contract), and how much
of its selection a run decided."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cutover.timeutil import iso


class Outcome(enum.StrEnum):
    """What a criterion decided: measured and within, measured and outside, or undecidable; or
    `error`: measuring it raised (bad input, a bug) instead of giving a decided result; or
    `waived`: measured and outside, and a person accepted that (`cutover waive`): never a pass,
    and it does not stop the run."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
    WAIVED = "waived"


class Action(enum.IntEnum):
    """Run verdicts, ordered so that the worst one wins."""

    PROCEED = 0
    HOLD = 1
    ROLLBACK = 2


def action_for(outcome: Outcome, on_fail: Action | None) -> Action:
    """What one criterion's outcome asks of the run: a pass proceeds, a failure asks for its
    consequence (HOLD when none is given), and an undecided or errored criterion holds."""
    if outcome in (Outcome.PASS, Outcome.WAIVED):
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
class Waived:
    """The waiver a result was waived by (ledger line `line`), and what it had decided."""

    by: str
    reason: str
    line: int
    decided: Outcome  # what the criterion decided before the waiver: fail
    until: datetime | None = None
    checkpoint: int | None = None
    forced: bool = False

    def summary(self, criterion: str) -> str:
        """`stage1.duration by alice until <ISO>` (`, forced` for a rollback trigger): the
        verdict line's words."""
        until = "" if self.until is None else f" until {iso(self.until)}"
        scope = "" if self.checkpoint is None else f" for checkpoint line {self.checkpoint}"
        return f"{criterion} by {self.by}{until}{scope}{', forced' if self.forced else ''}"


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
    waived: Waived | None = None  # outcome `waived`: by which waiver
    advisory: bool = False  # the profile's `advisory`: reported, never changes the run's action

    @property
    def action(self) -> Action:
        """The run verdict this result alone asks for (an advisory one: none)."""
        return Action.PROCEED if self.advisory else action_for(self.outcome, self.on_fail)


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
