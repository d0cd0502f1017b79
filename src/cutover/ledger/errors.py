"""Why the ledger cannot be read as it stands. Both are a `SourceUnavailable`: a gate that meets
one is inconclusive and says where, never a pass."""

from __future__ import annotations

from pathlib import Path

from cutover.errors import SourceUnavailable


class LedgerBroken(SourceUnavailable):
    """The ledger does not read as written (its chain does not verify, or a record does not fit
    its schema): a gate must not read it."""

    def __init__(self, path: Path | None, line: int, message: str) -> None:
        super().__init__(
            f"ledger {path}" if path is not None else "ledger", f"line {line}: {message}"
        )
        self.line = line


class RecordInvalid(LedgerBroken):
    """A ledger line that does not fit its record's schema (`reason` says how)."""

    def __init__(self, line: int, reason: str, path: Path | None = None) -> None:
        super().__init__(path, line, reason)
        self.reason = reason
