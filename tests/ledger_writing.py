"""Writing ledger lines the store refuses to write (records that do not fit their schema), the
way a hand edit that re-chains, or an older or newer writer, leaves them: chained and anchored,
so that only the readers' schema checks can catch them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cutover.ledger import Store
from cutover.ledger.store import digest, encode, head_path


def append_unchecked(directory: Path, data: dict[str, Any]) -> None:
    path = directory / "ledger.jsonl"
    raw = path.read_bytes() if path.exists() else b""
    lines = [line for line in raw.split(b"\n") if line.strip()]
    line = encode({**data, "prev": digest(lines[-1]) if lines else ""})
    directory.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw + line)
    head_path(directory).unlink(missing_ok=True)
    Store(directory).write_head()
