"""The JUnit properties every gate test carries (DESIGN.md contract), secrets removed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cutover.outcome import Action, Outcome, Result, Waived, action_for
from cutover.redact import redact_text
from cutover.timeutil import iso, parse_instant

CONTRACT_PROPERTIES = (
    "criterion",
    "verdict",
    "measured",
    "threshold",
    "window_start",
    "window_end",
    "as_of",
    "sample_size",
    "source",
    "target",
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def result_properties(result: Result, *, as_of: datetime, target: str) -> list[tuple[str, str]]:
    """Properties for one result, in contract order, every value redacted."""
    window = result.window
    values: list[tuple[str, Any]] = [
        ("criterion", result.criterion),
        ("verdict", result.outcome.value),
        ("measured", result.measured),
        ("threshold", result.threshold),
        ("window_start", iso(window.start) if window else ""),
        ("window_end", iso(window.end) if window else iso(as_of)),
        ("as_of", iso(as_of)),
        ("sample_size", result.sample_size),
        ("source", result.source),
        ("target", target),
        ("reason", result.reason),
        ("on_fail", (result.on_fail or Action.HOLD).name),
    ]
    if result.query_sha256:
        values.append(("query_sha256", result.query_sha256))
    if result.details:
        values.append(("details", result.details))
    if result.waived is not None:
        values.append(("waiver", waiver_record(result.waived)))
    if result.advisory:
        values.append(("advisory", "true"))
    return [(name, redact_text(_text(value))) for name, value in values]


def waiver_record(waived: Waived) -> dict[str, Any]:
    """The `waiver` property (JSON): who waived the result, why, what it had decided."""
    return {
        "by": waived.by,
        "reason": waived.reason,
        "line": waived.line,
        "decided": waived.decided.value,
        "until": iso(waived.until) if waived.until is not None else None,
        "checkpoint": waived.checkpoint,
        "forced": waived.forced,
    }


def waived_of(value: object) -> Waived | None:
    """A `waiver` property (JSON text, or the object a ledger record keeps) read back; None when
    absent or unreadable."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else None
        except ValueError:
            return None
    if not isinstance(value, Mapping):
        return None
    try:
        until, checkpoint = value.get("until"), value.get("checkpoint")
        return Waived(
            by=str(value["by"]),
            reason=str(value["reason"]),
            line=int(value["line"]),
            decided=Outcome(value.get("decided", "fail")),
            until=parse_instant(until) if isinstance(until, str) and until else None,
            checkpoint=checkpoint if isinstance(checkpoint, int) else None,
            forced=value.get("forced") is True,
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class RecordedResult:
    """A result as read back from properties (what crosses xdist and the JUnit file)."""

    criterion: str
    outcome: Outcome
    on_fail: Action
    reason: str
    properties: Mapping[str, str]

    @property
    def advisory(self) -> bool:
        """The profile made it advisory: reported, never changing the run's action."""
        return self.properties.get("advisory") == "true"

    @property
    def waived(self) -> Waived | None:
        return waived_of(self.properties.get("waiver")) if self.outcome is Outcome.WAIVED else None

    @property
    def action(self) -> Action:
        return Action.PROCEED if self.advisory else action_for(self.outcome, self.on_fail)

    @property
    def label(self) -> str:
        """How the verdict line names it when it did not pass: `id (fail)`, `id (fail,
        advisory)`, `id (waived)`."""
        advisory = ", advisory" if self.advisory else ""
        return f"{self.criterion} ({self.outcome.value}{advisory})"


def recorded(properties: Iterable[tuple[str, object]]) -> RecordedResult | None:
    """Read a result back from a test's properties; None when it carries no criterion."""
    props = {str(k): str(v) for k, v in properties}
    if "criterion" not in props or "verdict" not in props:
        return None
    return RecordedResult(
        criterion=props["criterion"],
        outcome=Outcome(props["verdict"]),
        on_fail=Action[props.get("on_fail", "HOLD")],
        reason=props.get("reason", ""),
        properties=props,
    )
