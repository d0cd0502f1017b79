"""The gate markers, the gate each criterion runs under, and whether a set of markers satisfies
a `-m` expression (read without pytest's private parser)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Set

GATE_MARKERS = {
    "prereq": "runbook prerequisites, before stage 1",
    "stage1_gate": "gate criteria for moving from stage 1 (10%) to stage 2",
    "stage2_gate": "gate criteria for moving from stage 2 (50%) to stage 3",
    "stage3_gate": "gate criteria for moving from stage 3 (100%) to stage 4 (deprecation)",
    "stage4_gate": "gate criteria for removing v1 after the deprecation period",
    "v1_removal": "checks that v1 is gone after its removal",
    "rollback": "emergency rollback triggers: must we roll back now?",
    "rollback_verify": "checks that a rollback took",
    "router": "the router model and its split test",
}
#: the markers whose tests decide criteria (the router's tests are ordinary tests)
DECIDING = frozenset(name for name in GATE_MARKERS if name != "router")


def marker_of(criterion_id: str) -> str:
    """The gate marker a criterion runs under: `stage2.x` -> stage2_gate, `rollback.x` ->
    rollback, `prereq.x` -> prereq."""
    group = criterion_id.split(".", 1)[0]
    marker = f"{group}_gate" if group.startswith("stage") else group
    if marker not in GATE_MARKERS:
        raise ValueError(f"criterion {criterion_id!r} belongs to no gate marker")
    return marker


def deciding(names: Iterable[str]) -> bool:
    """Whether a test with these markers decides a criterion (carries a gate marker)."""
    return any(name in DECIDING for name in names)


class _Unreadable(Exception):
    pass


def satisfies(expression: str, names: Set[str]) -> bool:
    """Whether markers `names` satisfy the `-m` expression (`and`, `or`, `not`, parentheses,
    marker names). An expression this cannot follow counts as satisfied: a row it might hold is
    then counted as held, so a run is rather called partial than whole."""
    if not expression.strip():
        return True
    try:
        return _evaluate(ast.parse(expression.strip(), mode="eval").body, names)
    except (SyntaxError, _Unreadable):
        return True


def _evaluate(node: ast.expr, names: Set[str]) -> bool:
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(value, names) for value in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _evaluate(node.operand, names)
    if isinstance(node, ast.Name):
        return node.id in names
    raise _Unreadable(ast.dump(node))
