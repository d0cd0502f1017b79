"""What a gate test uses: `gate_table` (one test per criterion) and `Gate.decide` (decide one
criterion and record its evidence on the test), and what a gate test that ended without
deciding its criterion records instead (inconclusive, or `error` with its one-line message)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pytest

from cutover.criteria.registry import CRITERIA, Context
from cutover.errors import SourceUnavailable
from cutover.evidence.properties import result_properties
from cutover.gate import decide, one_line
from cutover.ledger.records import Snapshot
from cutover.measure.inputs import Inputs, Measurement
from cutover.outcome import Outcome, Result
from cutover.overrides import apply_advisory, apply_waiver
from cutover.redact import redact_text
from cutover.run.markers import marker_of
from cutover.run.state import STATE
from cutover.timeutil import utc_now

#: the attribute a `gate_table` test function carries: every criterion id of its table
TABLE_CRITERIA = "cutover_gate_criteria"
F = TypeVar("F", bound=Callable[..., Any])


class CriterionFailed(AssertionError):
    """A criterion was measured and is outside its threshold (reported as a JUnit failure)."""


def gate_table(*rows: tuple[str, Measurement]) -> Callable[[F], F]:
    """A gate test per (criterion, measurement) row, each under its gate's marker, with the
    criterion id as the test id (so `-k success_rate` selects by criterion). The function keeps
    its table's criteria, so a run narrowed to some rows knows how many it left out."""
    parametrize = pytest.mark.parametrize(
        ("criterion", "measurement"),
        [
            pytest.param(
                criterion, fn, marks=getattr(pytest.mark, marker_of(criterion)), id=criterion
            )
            for criterion, fn in rows
        ],
    )
    criteria = tuple(criterion for criterion, _ in rows)

    def table(test: F) -> F:
        marked = parametrize(test)
        setattr(marked, TABLE_CRITERIA, criteria)
        return marked

    return table


def table_criteria(item: pytest.Item) -> tuple[str, ...]:
    """Every criterion of the table an item belongs to (none for a test outside a table)."""
    criteria = getattr(getattr(item, "function", None), TABLE_CRITERIA, ())
    return tuple(c for c in criteria if isinstance(c, str))


def criterion_key(item: pytest.Item) -> str:
    """The criterion a gate test decides: a table row's `criterion`, else the test's node id."""
    callspec = getattr(item, "callspec", None)
    criterion = callspec.params.get("criterion") if callspec is not None else None
    return criterion if isinstance(criterion, str) else item.nodeid


@dataclass
class Gate:
    """What a gate test uses: decide one criterion and record its evidence on the test (with
    the platform snapshots behind the sources it read: `snapshots`, a property)."""

    item: pytest.Item
    context: Context
    inputs: Inputs
    read: set[str] = field(default_factory=set)  # "exports", "rollout": what it read
    snapshots: Callable[[], tuple[Snapshot, ...]] | None = None

    def decide(self, criterion_id: str, measurement: Measurement) -> Result:
        result = decide(criterion_id, lambda: measurement(self.inputs, criterion_id), self.context)
        result = apply_advisory(self._waived(result), self.context.profile)
        for name, value in result_properties(
            result, as_of=self.context.as_of, target=self.context.target
        ):
            self.item.user_properties.append((name, value))
        measured = [
            {"source": s.source, "export": s.export, "sha256": s.sha256}
            for s in (self.snapshots() if self.read and self.snapshots else ())
            if ("rollout" if s.export == "rollout" else "exports") in self.read
        ]
        if measured:
            self.item.user_properties.append(("snapshots", json.dumps(measured, sort_keys=True)))
        said = f"{result.criterion}: {redact_text(result.reason)}"
        if result.outcome is Outcome.WAIVED:
            pytest.skip(f"waived: {said}")  # never a pass, and it does not fail the run
        if result.advisory and result.outcome is not Outcome.PASS:
            pytest.skip(f"advisory, {result.outcome.value}: {said}")
        if result.outcome is Outcome.FAIL:
            raise CriterionFailed(said)
        if result.outcome is Outcome.ERROR:
            pytest.fail(f"error: {said}", pytrace=False)  # bad input: its line, no traceback
        if result.outcome is Outcome.INCONCLUSIVE:
            pytest.skip(f"inconclusive: {said}")
        return result

    def _waived(self, result: Result) -> Result:
        """The result under the waiver in force, if any. A ledger that cannot be read leaves
        the result as decided (a failure stays a failure)."""
        if result.outcome is Outcome.PASS:
            return result
        try:
            waivers = self.inputs.ledger().waivers(result.criterion)
        except SourceUnavailable:
            return result
        return apply_waiver(result, waivers, self.context.as_of)


def undecided(item: pytest.Item, call: pytest.CallInfo[None]) -> list[tuple[str, str]]:
    """The properties a gate test records when a phase ended without deciding its criterion
    (none when it decided one): no decision at all or a skip is inconclusive; anything raised
    is an `error` with its one-line message."""
    if any(name == "criterion" for name, _ in item.user_properties):
        return []
    excinfo = call.excinfo
    if excinfo is None:
        if call.when != "call":
            return []
        outcome, reason = Outcome.INCONCLUSIVE, "the test decided no criterion"
    elif excinfo.errisinstance((pytest.skip.Exception, pytest.xfail.Exception)):
        outcome = Outcome.INCONCLUSIVE
        reason = f"skipped without deciding its criterion: {one_line(excinfo.value)}"
    elif call.when == "teardown":
        return []  # decided or not, the run lists a teardown error itself
    else:
        outcome, reason = Outcome.ERROR, f"{excinfo.typename}: {one_line(excinfo.value)}"
    criterion = criterion_key(item)
    registered = CRITERIA.get(criterion)
    result = Result(
        criterion=criterion,
        outcome=outcome,
        reason=reason,
        source=registered.source if registered is not None else "",
        on_fail=registered.on_fail if registered is not None else None,
    )
    as_of = _as_of(item)
    properties = result_properties(result, as_of=as_of or utc_now(), target=_target(item))
    # an instant the run did not measure at must not become its checkpoint's `as_of`
    return [(k, v) for k, v in properties if as_of is not None or k not in _INSTANTS]


_INSTANTS = ("as_of", "window_end")


def _as_of(item: pytest.Item) -> datetime | None:
    """The instant the test measured at: its `cutover_as_of`, else the one the settings name."""
    as_of = getattr(item, "funcargs", {}).get("cutover_as_of")
    if isinstance(as_of, datetime):
        return as_of
    settings = item.config.stash[STATE].settings
    return settings.as_of if settings is not None else None


def _target(item: pytest.Item) -> str:
    settings = item.config.stash[STATE].settings
    if settings is None:
        return ""
    return "live" if settings.live else "seeded"
