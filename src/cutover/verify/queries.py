"""The query check of `cutover verify`: each `query_sha256` a checkpoint recorded is the SHA-256
of a file in `sql/` now (a named hash, `name:sha`, must match `sql/<name>.sql` itself)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from cutover.ledger.records import Checkpoint
from cutover.verify.findings import Verification

_SHA = re.compile(r"^[0-9a-f]{64}$")


def _sql_hashes(directory: Path) -> dict[str, dict[str, str]]:
    """File name -> its digests: of the bytes, and of the text as the query loader hashes it."""
    hashes: dict[str, dict[str, str]] = {}
    if not directory.is_dir():
        return hashes
    for path in sorted(directory.glob("*.sql")):
        data = path.read_bytes()
        text = path.read_text(encoding="utf-8", errors="replace")
        hashes[path.name] = {
            hashlib.sha256(data).hexdigest(): "bytes",
            hashlib.sha256(text.encode()).hexdigest(): "text",
        }
    return hashes


def check_queries(
    result: Verification, checkpoints: Sequence[tuple[int, Checkpoint]], directory: Path
) -> None:
    hashes = _sql_hashes(directory)
    # one finding per changed file (or unknown hash), with every ledger line that recorded it
    changed: dict[str, tuple[str, list[int]]] = {}
    checked = 0
    for line, checkpoint in checkpoints:
        for r in checkpoint.results:
            recorded = _recorded_hashes(r.text("query_sha256"))
            checked += len(recorded)
            for key, message in _query_problems(recorded, r.text("source"), hashes, directory):
                changed.setdefault(key, (message, []))[1].append(line)
    for _, (message, lines) in sorted(changed.items()):
        shown = ", ".join(str(n) for n in sorted(set(lines))[:8])
        result.add("FAIL", "queries", f"{message} (recorded at ledger line {shown})")
    if checked and not changed:
        result.add("ok", "queries", f"{checked} recorded query hashes match files in {directory}")
    if not checked:
        result.add("note", "queries", "no checkpoint recorded a query hash")


def _recorded_hashes(value: str) -> list[tuple[str, str]]:
    """`sha`, `sha,sha` or `name:sha,name:sha` -> [(name or "", sha)]."""
    pairs: list[tuple[str, str]] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, digest = part.rpartition(":")
        pairs.append((name.strip(), digest.strip().lower()))
    return pairs


def _query_problems(
    recorded: Sequence[tuple[str, str]],
    source: str,
    hashes: dict[str, dict[str, str]],
    directory: Path,
) -> list[tuple[str, str]]:
    """(grouping key, message) for each recorded hash that no file in sql/ has now."""
    folder = directory.name
    known = {digest for digests in hashes.values() for digest in digests}
    problems: list[tuple[str, str]] = []
    unnamed: list[str] = []
    for name, digest in recorded:
        if not _SHA.match(digest):
            problems.append((digest, f"{digest!r} is not a SHA-256"))
        elif name:
            file = f"{name}.sql"
            if file not in hashes:
                problems.append((file, f"{folder}/{file} is gone (its hash was recorded)"))
            elif digest not in hashes[file]:
                problems.append((file, f"{folder}/{file} changed since it ran"))
        elif digest not in known:
            unnamed.append(digest)
    if unnamed:
        # the source names the files; those matching no recorded hash are the changed ones
        digests = {d for _, d in recorded}
        named = [f for f in re.findall(r"sql/([\w.-]+\.sql)", source) if f in hashes]
        suspects = [f for f in named if not digests & set(hashes[f])]
        if suspects and len(suspects) <= len(unnamed):
            problems += [(f, f"{folder}/{f} changed since it ran") for f in suspects]
        else:
            problems += [
                (d, f"no file in {folder}/ has the recorded hash {d[:12]}… (a query changed)")
                for d in unnamed
            ]
    return problems
