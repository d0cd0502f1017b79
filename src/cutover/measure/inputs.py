"""What every measurement reads from: one object per run, each source opened on first use.

A measurement is `fn(inputs, criterion) -> measurement`: it reads the sources it needs for
the criterion it serves (`stage2.success_rate` names its stage) and returns plain values for
the criterion to judge. A source that cannot be read raises SourceUnavailable, which the
runner turns into an inconclusive result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cutover.errors import SourceUnavailable
from cutover.ledger.view import LedgerView
from cutover.profile import Profile, StagePlan
from cutover.sources.database import Database
from cutover.sources.exports import Exports
from cutover.sources.rlm_http import RlmEndpoints
from cutover.sources.vercel_env import RolloutSetting


def unset(what: str) -> Callable[[], Any]:
    """A source nobody configured: reading it is a SourceUnavailable naming it."""

    def read() -> Any:
        raise SourceUnavailable(what, "not available to this run")

    return read


@dataclass(frozen=True, slots=True)
class Inputs:
    """The instant measured, the profile, and a getter per source (called when first needed)."""

    profile: Profile
    as_of: datetime
    database: Callable[[], Database] = unset("database")
    ledger: Callable[[], LedgerView] = unset("ledger")
    exports: Callable[[], Exports] = unset("exports")
    rlm: Callable[[], RlmEndpoints] = unset("RLM")
    rollout: Callable[[], RolloutSetting] = unset("V2_ROLLOUT_PERCENT")

    def plan(self, criterion: str) -> StagePlan:
        """The stage a criterion id names (`stage2.success_rate` -> stage 2)."""
        return self.profile.stage(stage_of(criterion))


Measurement = Callable[[Inputs, str], Any]


def stage_of(criterion: str) -> int:
    """`stage3.duration` -> 3."""
    head = criterion.split(".", 1)[0]
    if not (head.startswith("stage") and head[5:].isdigit()):
        raise ValueError(f"{criterion!r} names no stage")
    return int(head[5:])
