"""Snapshots: what a platform fetch read, kept under `<evidence>/snapshots/` in the form the file
readers read, named by its sha256, with a `snapshot` ledger record saying what was asked, for
which window, in how many pages and lines. A fetch that could not read the whole of what it was
asked is recorded too, with its problem and no file: the criteria it feeds are inconclusive, in
the run that fetched and in any replay of it.

A gate measures a snapshot through the same readers as a hand-exported file (one reading path),
which is also what makes a replay exact: `snapshot_path` reads the file back and refuses it when
its content no longer has its sha256."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError, SourceUnavailable
from cutover.ledger import LedgerBroken, Store
from cutover.ledger.records import Origin, Snapshot
from cutover.outcome import Window
from cutover.redact import mask_registered
from cutover.timeutil import iso, utc_now

SNAPSHOTS = "snapshots"


@dataclass(frozen=True, slots=True)
class Fetched:
    """One source's read: `content` in a form its file reader reads (`suffix` names the form),
    or, when `problem` is set, why the source could not be read whole."""

    source: str  # "render logs", "render metrics", "vercel env", "vercel logs", "log drain"
    export: str  # what it stands for: router_logs, rlm_logs, rlm_metrics or rollout
    params: Mapping[str, Any]
    window: Window
    content: bytes = b""
    suffix: str = ".jsonl"
    pages: int = 0
    lines: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""

    @classmethod
    def failed(
        cls, source: str, export: str, params: Mapping[str, Any], window: Window, problem: str
    ) -> Fetched:
        return cls(source, export, params, window, problem=problem)


def keep(store: Store, fetched: Fetched, origin: Origin, at: datetime | None = None) -> Snapshot:
    """Write the content (once: the file is named by its sha256) and append the snapshot record.
    A failed fetch gets a record (its sha256 that of what was asked and the problem) and no file.
    A ledger that refuses the record (broken, unwritable) leaves it unrecorded: the run's own
    checkpoint is refused the same way, and the run says so."""
    evidence_dir = store.evidence_dir
    params = masked(fetched.params)
    if fetched.problem:
        statement = {"source": fetched.source, "params": params, "problem": fetched.problem}
        sha = hashlib.sha256(json.dumps(statement, sort_keys=True).encode()).hexdigest()
        path = ""
    else:
        sha = hashlib.sha256(fetched.content).hexdigest()
        path = f"{SNAPSHOTS}/{sha}{fetched.suffix}"
        _write_once(evidence_dir / path, fetched.content)
    record = Snapshot(
        source=fetched.source,
        params=params,
        window=fetched.window,
        pages=fetched.pages,
        lines=fetched.lines,
        sha256=sha,
        path=path,
        at=at or utc_now(),
        origin=origin,
        export=fetched.export,
        details=masked(fetched.details),
        problem=mask_registered(fetched.problem),
    )
    try:
        store.append(record)
    except (LedgerBroken, ConfigError):
        pass
    return record


def snapshot_path(evidence_dir: Path, record: Snapshot) -> Path:
    """The snapshot's file, after checking it still holds what was written; a failed fetch, a
    missing or a changed file is a SourceUnavailable naming the snapshot."""
    what = f"{record.source} snapshot {record.sha256[:12]}"
    if record.problem:
        raise SourceUnavailable(record.source, record.problem)
    path = evidence_dir / record.path
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise SourceUnavailable(what, f"{path} cannot be read ({exc.strerror})") from None
    if hashlib.sha256(content).hexdigest() != record.sha256:
        raise SourceUnavailable(what, f"{path} no longer has the sha256 its record gives")
    return path


def masked(value: Any) -> Any:
    """`value` with every registered secret masked in its strings (keys included)."""
    if isinstance(value, str):
        return mask_registered(value)
    if isinstance(value, Mapping):
        return {masked(str(k)): masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def window_params(window: Window) -> dict[str, str]:
    return {"start": iso(window.start), "end": iso(window.end)}


def _write_once(path: Path, content: bytes) -> None:
    """Content-addressed: a file that exists already holds these bytes."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with open(partial, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
