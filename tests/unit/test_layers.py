"""The module layering of ARCHITECTURE.md, read from the source: no import cycles (imports inside
functions count too), the ledger imports the configuration layer only, and neither `cutover
verify` nor the evidence layer imports the report."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
CONFIGURATION = {
    f"cutover.{name}"
    for name in (
        "config",
        "profile",
        "profile_limits",
        "errors",
        "timeutil",
        "redact",
        "paths",
        "outcome",
    )
}


@cache
def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    # a compiled module by its stub (it imports nothing of cutover)
    for path in [*(SRC / "cutover").rglob("*.py"), *(SRC / "cutover").rglob("*.pyi")]:
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.setdefault(".".join(parts), path)  # a .py before its stub
    return found


@cache
def imports(module: str) -> frozenset[str]:
    """The cutover modules `module` imports (`from a import b` is `a.b` when that is a module)."""
    known = modules()
    found: set[str] = set()
    for node in ast.walk(ast.parse(known[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return frozenset(name for name in found if name in known and name != module)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, relative ones (`from . import x`) resolved."""
    if not node.level:
        return node.module or ""
    package = module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*parts, node.module] if node.module else parts)


def cycle_from(start: str) -> list[str] | None:
    """An import cycle through `start`, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for imported in imports(module):
            if imported == start:
                return [*path, start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, [*path, imported]))
    return None


def under(package: str) -> list[str]:
    return sorted(m for m in modules() if m == package or m.startswith(package + "."))


def test_no_module_imports_itself_in_a_circle() -> None:
    cycles = [cycle for module in sorted(modules()) if (cycle := cycle_from(module))]
    assert cycles == []


def test_the_ledger_imports_the_configuration_layer_only() -> None:
    ledger = set(under("cutover.ledger"))
    assert "cutover.ledger.view" in ledger
    outside = {m: sorted(imports(m) - ledger - CONFIGURATION) for m in sorted(ledger)}
    assert outside == {m: [] for m in sorted(ledger)}


def test_verify_and_the_evidence_layer_do_not_import_the_report() -> None:
    report = set(under("cutover.report"))
    for module in under("cutover.verify") + under("cutover.evidence"):
        assert not imports(module) & report, module


# What each layer of the flow may import from the others (ARCHITECTURE.md): a source reads and never
# decides, a criterion is pure, the evidence layer never reaches back into a run.
MAY_NOT_IMPORT = {
    "cutover.sources": ("cutover.measure", "cutover.criteria", "cutover.run", "cutover.report"),
    "cutover.measure": ("cutover.criteria", "cutover.run", "cutover.report", "cutover.targets"),
    "cutover.criteria": (
        "cutover.sources",
        "cutover.ledger",
        "cutover.targets",
        "cutover.run",
        "cutover.report",
        "cutover.evidence",
    ),
    "cutover.statistics": ("cutover.sources", "cutover.measure", "cutover.criteria"),
    "cutover.evidence": ("cutover.run", "cutover.criteria", "cutover.sources", "cutover.report"),
    # the status is built from the ledger view it is handed; only `cutover status --db` reads
    "cutover.status": ("cutover.sources", "cutover.targets", "cutover.run", "cutover.cli"),
}


def test_each_layer_imports_only_what_the_flow_allows() -> None:
    crossing = {
        (module, imported)
        for layer, forbidden in MAY_NOT_IMPORT.items()
        for module in under(layer)
        for imported in imports(module)
        if imported.startswith(tuple(f + "." for f in forbidden)) or imported in forbidden
    }
    assert crossing == set()
