"""What a target gives the rest of the suite: a read-only DSN and where it came from."""

from __future__ import annotations

from dataclasses import dataclass

from cutover.redact import redact_url


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """A database to measure. `kind` is the evidence's `target` property: live or seeded."""

    kind: str  # "live" | "seeded"
    dsn: str  # the suite's (read-only) role
    where: str  # embedded | docker | live
    scenario: str | None = None

    @property
    def description(self) -> str:
        """Safe to print: no password."""
        return f"{self.where} ({redact_url(self.dsn)})"
