"""The run's typed state (a `pytest.StashKey`) and its settings, resolved once per run."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from cutover.config import SETTINGS, Settings, resolve_settings
from cutover.errors import ConfigError
from cutover.evidence.properties import RecordedResult
from cutover.evidence.verdict import RunVerdict
from cutover.overrides import known_criteria


@dataclass
class RunState:
    """Plugin state for one run (on the xdist controller: built from the workers' reports)."""

    settings: Settings | None = None
    results: list[RecordedResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what failed without a criterion to say so
    held: set[str] = field(default_factory=set)  # gate tests the selected markers hold
    selected: int = 0  # gate tests selected to run
    seeded: bool = False
    head_before: str = ""  # the ledger's head as the run found it (`line:sha256`, or "none")
    head_after: str = ""
    pytest_status: int | None = None  # the exit status pytest chose, before the verdict's
    verdict: RunVerdict | None = None
    replay_differences: list[str] = field(default_factory=list)  # --replay: verdicts that differ


STATE = pytest.StashKey[RunState]()


def settings_for(config: pytest.Config) -> Settings:
    """Resolve once per run; a bad setting is a usage error naming it."""
    state = config.stash[STATE]
    if state.settings is None:
        options = {s.name: config.getoption(f"cutover_{s.name}") for s in SETTINGS}
        try:
            state.settings = resolve_settings(options, criteria=known_criteria())
        except ConfigError as exc:
            raise pytest.UsageError(f"cutover: {exc}") from None
    return state.settings
