"""How the commands `cutover status` suggests are spelled: for the target it reads (a seeded
scenario's commands name it) and, when the status was asked as of an instant (`--as-of`), at that
instant, so that following them replays the timeline."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime

from cutover.timeutil import iso


@dataclass(frozen=True, slots=True)
class Commands:
    target: str  # live | seeded
    scenario: str | None
    as_of: datetime
    explicit: bool  # the status was asked with --as-of

    @property
    def _scenario(self) -> str:
        return f" --scenario {shlex.quote(self.scenario)}" if self.scenario is not None else ""

    def _now(self, flag: str) -> str:
        return f" {flag} {iso(self.as_of)}" if self.explicit else ""

    def gate(self, marker: str, at: datetime | None = None) -> str:
        """A gate run now (or as of the status's instant), or as of `at` (a backfill)."""
        when = f" --as-of {iso(at)}" if at is not None else self._now("--as-of")
        return f"pytest -m {marker}{self._scenario}{when}"

    def attest_complaints(self) -> str:
        return f"cutover attest complaints --count N --by NAME{self._scenario}{self._now('--at')}"

    def classify(self, suggested: str) -> str:
        """The classify command a gate recorded for a signature, for this target."""
        return f"{suggested}{self._scenario}{self._now('--at')}"

    def stage_start(self, number: int) -> str:
        return f"cutover stage start {number}{self._now('--at')}"

    def rollback(self, reason: str) -> str:
        return f"cutover rollback --reason {shlex.quote(reason)}{self._now('--at')}"
