"""Why the ledger cannot be read or written as it stands.

`LedgerBroken` (and `RecordInvalid`) are a `SourceUnavailable`: a gate that meets one is
inconclusive and says where, never a pass. `LedgerUnwritable` is a `ConfigError`: the evidence
directory cannot take a record (read-only, not a directory, a full disk), which a run reports as
an error and a command as one line, exit 2."""

from __future__ import annotations

from pathlib import Path

from cutover.errors import ConfigError, SourceUnavailable


class LedgerBroken(SourceUnavailable):
    """The ledger does not read as written (its chain or its anchor does not verify, a record
    does not fit its schema, or the file cannot be read): a gate must not read it, and nothing
    is appended to it. `line` 0: the file as a whole."""

    def __init__(self, path: Path | None, line: int, message: str) -> None:
        super().__init__(
            f"ledger {path}" if path is not None else "ledger",
            f"line {line}: {message}" if line else message,
        )
        self.line = line


class RecordInvalid(LedgerBroken):
    """A ledger line that does not fit its record's schema (`reason` says how)."""

    def __init__(self, line: int, reason: str, path: Path | None = None) -> None:
        super().__init__(path, line, reason)
        self.reason = reason


class LedgerUnwritable(ConfigError):
    """A record could not be written (the file named, and why)."""

    def __init__(self, path: Path, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        super().__init__(
            f"ledger {path}: cannot be written ({reason}); expected a writable evidence "
            "directory (CUTOVER_EVIDENCE_DIR or --evidence-dir)"
        )
        self.path = path
