"""`--replay LINE` in a run: the replayed checkpoint, read once per run (`sources.platform.replay`
reads it; the fixtures measure from its snapshots and instant, the recorder compares verdicts)."""

from __future__ import annotations

import pytest

from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.sources.platform.replay import Replay, load_replay

REPLAY = pytest.StashKey[Replay | None]()


def replay_for(config: pytest.Config, settings: Settings) -> Replay | None:
    """The checkpoint `--replay LINE` names (read once per run), None without the option."""
    if REPLAY not in config.stash:
        line = config.getoption("cutover_replay", None)
        replay = None
        if line is not None:
            try:
                replay = load_replay(settings.evidence_dir, int(line))
            except ConfigError as exc:
                raise pytest.UsageError(f"cutover: {exc}") from None
            origin = replay.checkpoint.origin
            if origin.target != ("live" if settings.live else "seeded") or (
                not settings.live and origin.scenario != settings.scenario
            ):
                raise pytest.UsageError(
                    f"cutover: --replay {line} is a checkpoint of the {origin.target} target"
                    f"{f' (scenario {origin.scenario})' if origin.scenario else ''}; run it "
                    "against the same target (--db-url, or --scenario)"
                )
        config.stash[REPLAY] = replay
    return config.stash[REPLAY]
