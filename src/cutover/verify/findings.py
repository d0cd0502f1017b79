"""What `cutover verify` found: one line per check that held, failed, or a note."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the verification: a check that held, failed, or a note."""

    status: str  # ok | FAIL | note
    check: str
    message: str

    def line(self) -> str:
        return f"{self.status:<4} {self.check}: {self.message}"


@dataclass(slots=True)
class Verification:
    """All findings for an evidence directory; it holds when none failed."""

    evidence_dir: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and any(f.status == "ok" for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "FAIL"]

    def add(self, status: str, check: str, message: str) -> None:
        self.findings.append(Finding(status, check, message))

    def summary(self) -> str:
        """The last line `cutover verify` prints."""
        if self.ok:
            checks = sorted({f.check for f in self.findings if f.status == "ok"})
            return f"cutover verify: OK — {', '.join(checks)} hold for {self.evidence_dir}"
        failures = self.failures
        if not failures:
            return f"cutover verify: FAILED — nothing to verify in {self.evidence_dir}"
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"cutover verify: FAILED — {first.check}: {first.message}{more}"
