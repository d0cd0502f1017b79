"""One runner for pytest and the CLI: measure, decide, record. Sources never decide; criteria
never do I/O; this wires them, turns an unreadable source into an inconclusive result and bad
input (a ConfigError while measuring) into an `error` result with its one-line message."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

import cutover.criteria  # noqa: F401  (registers the criteria)
from cutover.criteria.registry import Context, Criterion, get
from cutover.errors import ConfigError, SourceUnavailable
from cutover.outcome import Outcome, Result
from cutover.redact import redact_text

M = TypeVar("M")


def decide(criterion_id: str, measure: Callable[[], M], context: Context) -> Result:
    """Measure, then evaluate; a SourceUnavailable while measuring is inconclusive and a
    ConfigError an error, never a pass."""
    registered = get(criterion_id)
    try:
        measurement = measure()
    except SourceUnavailable as exc:
        result = Result(
            criterion=criterion_id,
            outcome=Outcome.INCONCLUSIVE,
            reason=f"source unavailable: {redact_text(str(exc))}",
            source=redact_text(exc.source),
        )
    except ConfigError as exc:
        result = Result(criterion=criterion_id, outcome=Outcome.ERROR, reason=one_line(exc))
    else:
        evaluated = registered.fn(measurement, dataclasses.replace(context, criterion=criterion_id))
        result = _with_decision_table(evaluated, registered)
    # one function may serve several ids (stage1.success_rate, stage2.success_rate, ...)
    return dataclasses.replace(
        result,
        criterion=criterion_id,
        on_fail=registered.on_fail if result.on_fail is None else result.on_fail,
        source=result.source or registered.source,
    )


def _with_decision_table(result: Result, registered: Criterion) -> Result:
    """A rollback trigger's evidence carries its row of the runbook's decision table."""
    if not registered.severity:
        return result
    table = {"severity": registered.severity, "timeframe": registered.timeframe}
    return dataclasses.replace(result, details={**table, **result.details})


def one_line(exc: BaseException) -> str:
    """An exception as one line of evidence, secrets masked: its first line (a ConfigError's
    message already names the file, line or setting)."""
    text = str(exc).strip().splitlines()
    return redact_text(text[0] if text else type(exc).__name__)
