"""`--replay <ledger line>`: a past checkpoint measured again from the snapshots it measured, the
ledger as it stood before that line, and the database as of its instant. The verdicts must be
the ones recorded; the run compares them and says so."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cutover.errors import ConfigError
from cutover.ledger import LedgerBroken, Store
from cutover.ledger.records import Checkpoint, Snapshot
from cutover.outcome import Window


@dataclass(frozen=True, slots=True)
class Replay:
    """The checkpoint at ledger line `line` and the snapshot records it names."""

    line: int
    checkpoint: Checkpoint
    snapshots: tuple[Snapshot, ...]

    @property
    def as_of(self) -> datetime:
        assert self.checkpoint.as_of is not None
        return self.checkpoint.as_of

    def differences(self, verdicts: Mapping[str, str]) -> list[str]:
        """Criteria whose verdict now differs from the recorded one (or was not recorded)."""
        found = []
        for criterion, verdict in sorted(verdicts.items()):
            recorded = self.checkpoint.result(criterion)
            was = "not recorded" if recorded is None else recorded.text("verdict")
            if was != verdict:
                found.append(f"{criterion}: {verdict} now, {was} at line {self.line}")
        return found


def load_replay(evidence_dir: Path, line: int) -> Replay:
    """The replay of ledger line `line`; a usage error when it is not a checkpoint with an
    instant, or the ledger does not verify. A snapshot it names that the ledger does not hold
    stands in as a failed one: its criteria are inconclusive, not measured from something
    else."""
    try:
        entries = Store(evidence_dir).read()
    except LedgerBroken as exc:
        raise ConfigError(f"--replay {line}: {exc}") from None
    entry = next((e for e in entries if e.line == line), None)
    record = None if entry is None else entry.parse()
    if not isinstance(record, Checkpoint) or record.as_of is None:
        what = "no record" if entry is None else f"a {entry.type} record"
        raise ConfigError(
            f"--replay {line}: line {line} of {Store(evidence_dir).path} is {what}; expected a "
            "checkpoint with an instant (see `cutover report`)"
        )
    by_sha = {
        parsed.sha256: parsed
        for e in entries
        if e.line < line and isinstance(parsed := e.parse(), Snapshot)
    }
    return Replay(line, record, tuple(_named(ref, by_sha, record) for ref in record.snapshots))


def _named(
    ref: Mapping[str, str], by_sha: Mapping[str, Snapshot], checkpoint: Checkpoint
) -> Snapshot:
    sha = ref.get("sha256", "")
    found = by_sha.get(sha)
    if found is not None:
        return found
    assert checkpoint.as_of is not None
    return Snapshot(
        source=ref.get("source", "snapshot"),
        params={},
        window=Window(None, checkpoint.as_of),
        pages=0,
        lines=0,
        sha256=sha,
        path="",
        at=checkpoint.at,
        origin=checkpoint.origin,
        export=ref.get("export", ""),
        problem=f"the snapshot {sha[:12]} the checkpoint measured is not in the ledger",
    )
