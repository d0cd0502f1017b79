"""The JUnit properties every gate test carries (DESIGN.md contract), secrets removed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cutover.outcome import Action, Outcome, Result, action_for
from cutover.redact import redact_text
from cutover.timeutil import iso

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
    return [(name, redact_text(_text(value))) for name, value in values]


@dataclass(frozen=True, slots=True)
class RecordedResult:
    """A result as read back from properties (what crosses xdist and the JUnit file)."""

    criterion: str
    outcome: Outcome
    on_fail: Action
    reason: str
    properties: Mapping[str, str]

    @property
    def action(self) -> Action:
        return action_for(self.outcome, self.on_fail)


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
