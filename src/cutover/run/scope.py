"""How much of its selection a run holds, and what narrowed it.

The criteria a run *holds* are those its markers select (`-m`), before anything else narrows
them: every gate test collected whose markers satisfy the expression, and every row of a
`gate_table` it collected a row of (so a node id naming one row still holds the rest). What
*narrows* a selection is recorded as given: `-k`, `--deselect`, node ids. A run that was
narrowed, or decided fewer criteria than it holds (`-x`, `--lf`, a crash), is partial."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from cutover.run.gate import criterion_key, table_criteria
from cutover.run.markers import deciding, marker_of, satisfies


def marker_expression(config: pytest.Config) -> str:
    return str(config.getoption("markexpr", "") or "")


def held_criteria(config: pytest.Config, items: Iterable[pytest.Item]) -> set[str]:
    """The criteria (a table row's id, else the test's node id) the `-m` expression holds among
    the collected `items`, read before any deselection."""
    expression = marker_expression(config)
    held: set[str] = set()
    tables: set[tuple[str, ...]] = set()
    for item in items:
        names = {mark.name for mark in item.iter_markers()}
        if not deciding(names):
            continue
        if satisfies(expression, names):
            held.add(criterion_key(item))
        tables.add(table_criteria(item))
    for table in tables:
        held.update(c for c in table if satisfies(expression, {marker_of(c), "parametrize"}))
    return held


def narrowed_by(config: pytest.Config) -> tuple[str, ...]:
    """What narrowed the selection beyond its markers, as the command line said it."""
    found: list[str] = []
    keyword = config.getoption("keyword", "")
    if keyword:
        found.append(f"-k {keyword}")
    found += [f"--deselect {d}" for d in config.getoption("deselect", None) or ()]
    found += [arg for arg in config.args if "::" in arg]
    return tuple(found)
