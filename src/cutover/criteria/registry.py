"""A small registry of criteria by stable id; a duplicate id is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from cutover.outcome import Action, Result
from cutover.profile import Profile


@dataclass(frozen=True, slots=True)
class Context:
    """What every criterion may know besides its measurement."""

    profile: Profile
    as_of: datetime
    target: str  # live | seeded
    criterion: str = ""  # the id being decided (one function may serve several)


CriterionFn = Callable[[Any, Context], Result]
F = TypeVar("F", bound=CriterionFn)


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    fn: CriterionFn
    on_fail: Action
    source: str
    # the runbook's rollback decision table: how bad, and how soon (in the result's details)
    severity: str = ""
    timeframe: str = ""


CRITERIA: dict[str, Criterion] = {}


def criterion(
    id: str, *, on_fail: Action, source: str, severity: str = "", timeframe: str = ""
) -> Callable[[F], F]:
    """Register `fn` under `id`; ids are stable contract names such as `stage1.success_rate`."""

    def register(fn: F) -> F:
        if id in CRITERIA:
            raise ValueError(f"criterion {id!r} is registered twice")
        CRITERIA[id] = Criterion(id, fn, on_fail, source, severity, timeframe)
        return fn

    return register


def get(id: str) -> Criterion:
    try:
        return CRITERIA[id]
    except KeyError:
        raise KeyError(f"no criterion {id!r}; known: {', '.join(sorted(CRITERIA))}") from None
