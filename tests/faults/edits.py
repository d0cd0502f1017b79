"""How faults are made: edits of the exports, the ledger and the settings of one case."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cutover.ledger.store import digest
from suite_runner import T0

ROUTER, RLM, METRICS = "router.log", "rlm.log", "metrics.csv"
JUNK = bytes(range(256)) * 4  # not text, not a line of any export


def _rlm_instant(line: bytes) -> datetime | None:
    try:
        return datetime.fromisoformat(line[:24].decode().replace("Z", "+00:00"))
    except ValueError:
        return None


def _router_instant(line: bytes) -> datetime | None:
    try:
        return datetime.fromtimestamp(json.loads(line)["time"] / 1000, tz=UTC)
    except (ValueError, KeyError):
        return None


def _metrics_instant(line: bytes) -> datetime | None:
    return _rlm_instant(line.split(b",", 1)[0].ljust(24))


INSTANT = {RLM: _rlm_instant, ROUTER: _router_instant, METRICS: _metrics_instant}


def hours_after_start(name: str, line: bytes) -> float | None:
    """Where a line of an export lies, in hours after stage 1 started (None: no instant)."""
    at = INSTANT[name](line)
    return None if at is None else (at - T0) / timedelta(hours=1)


def edit_lines(path: Path, edit: Callable[[list[bytes]], list[bytes]]) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(edit(lines)))


def span_edit(
    path: Path, start: float, end: float, replace: bytes | None = None
) -> Callable[[list[bytes]], list[bytes]]:
    """Remove the lines dated in [start, end) hours after stage 1 started (the CSV header and
    lines without an instant stay); with `replace`, that text stands where they were."""
    name = path.name

    def edit(lines: list[bytes]) -> list[bytes]:
        kept: list[bytes] = []
        replaced = False
        for line in lines:
            hours = hours_after_start(name, line)
            if hours is None or not start <= hours < end:
                kept.append(line)
            elif replace is not None and not replaced:
                kept.append(replace)
                replaced = True
        return kept

    return edit


def last_dated_line(path: Path) -> bytes:
    return next(
        line
        for line in reversed(path.read_bytes().splitlines(keepends=True))
        if hours_after_start(path.name, line) is not None
    )


def shifted(name: str, line: bytes, hours: float) -> bytes:
    """A dated line of export `name`, moved `hours` later (a line without an instant as is)."""
    at = INSTANT[name](line)
    if at is None:
        return line
    later = at + timedelta(hours=hours)
    if name == ROUTER:
        record = json.loads(line)
        record["time"] = int(later.timestamp() * 1000)
        return json.dumps(record).encode() + b"\n"
    stamp = later.strftime("%Y-%m-%dT%H:%M:%S.") + f"{later.microsecond // 1000:03d}Z"
    return stamp.encode() + line[24:]


def ledger_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def rechained(lines: list[str]) -> list[str]:
    """The records re-linked as a forger would: each `prev` the digest of the line before."""
    out: list[str] = []
    for index, line in enumerate(lines):
        record = json.loads(line)
        record["prev"] = digest(out[-1].rstrip("\n").encode("utf-8")) if index else ""
        out.append(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
    return out
