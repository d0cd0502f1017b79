"""Review of issue 15 (review15): checks that demonstrate findings. Each test here FAILS on the
reviewed main (9941a13) and names the claim it tests; delete a test once its finding is fixed
(or turn it into a check of the fix)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
import test_layers
import test_structure

from cutover.errors import SourceUnavailable
from cutover.ledger.records import Entry, Rollback, StageStarted
from cutover.ledger.store import Store
from cutover.ledger.view import LedgerView
from cutover.measure.stage import progress_of
from cutover.profile import Profile
from cutover.sources import http
from cutover.verify import verify
from ledger_writing import append_unchecked

T = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def test_criteria_import_no_source_module() -> None:
    """ARCHITECTURE.md: a criterion may import "measurement types, profile", never I/O. Six
    criteria modules import `cutover.sources.*` (the modules that open files, sockets and
    database sessions) for their types, and `criteria.stability` calls a source function."""
    reaching = {
        module: sorted(i for i in test_layers.imports(module) if i.startswith("cutover.sources"))
        for module in test_layers.under("cutover.criteria")
    }
    assert {m: s for m, s in reaching.items() if s} == {}


def test_the_cycle_check_sees_relative_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """test_layers.imports() skips `from . import x` (node.level > 0), so a cycle written with
    relative imports passes test_no_module_imports_itself_in_a_circle."""
    package = tmp_path / "cutover" / "pkg"
    package.mkdir(parents=True)
    (tmp_path / "cutover" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("from .a import thing\n")
    monkeypatch.setattr(test_layers, "SRC", tmp_path)
    test_layers.modules.cache_clear()
    test_layers.imports.cache_clear()
    try:
        assert test_layers.cycle_from("cutover.pkg.a") is not None
    finally:
        test_layers.modules.cache_clear()
        test_layers.imports.cache_clear()


def test_the_twin_check_sees_a_six_line_twin_of_multi_line_statements() -> None:
    """The issue: "no block of six or more lines repeated with only names and values changed".
    test_structure counts logical lines, so two 7-line functions made of 3 statements each (the
    shape of criteria/rollout.py:13-27, which `duplicates` reports) are not a twin to it."""
    body = """
@criterion("{id}", on_fail=Action.HOLD, source="V2_ROLLOUT_PERCENT")
def {name}(setting: RolloutSetting, ctx: Context) -> Result:
    return _reads_as_zero(
        setting,
        threshold="{threshold}",
        when_unset="{unset}",
    )
"""
    a = body.format(id="prereq.x", name="f", threshold="configured", unset="set it")
    b = body.format(id="rollback_verify.x", name="g", threshold="set to 0", unset="deploy")
    assert test_structure.twins({"a.py": a + a.replace("f(", "h("), "b.py": b + b})


def test_a_rollback_at_the_stage_start_ends_the_stage_for_every_reader() -> None:
    """One `current_stage` rule: at the same instant the later line wins, so a rollback recorded
    after a stage start at the same instant means no stage runs. measure.stage.progress_of reads
    the raw records itself (`started < r.at`) and finds the stage still running, not ended."""
    view = LedgerView(
        [
            Entry(1, StageStarted(1, 10, T).to_json()),
            Entry(2, Rollback("bad deploy", T).to_json()),
        ],
        T,
    )
    assert view.current_stage() is None
    progress = progress_of(view, Profile().stage(1))
    assert progress.ended == T and progress.ended_by == "rollback"


def test_one_owner_of_the_http_body_cap() -> None:
    """The body cap has one owner, the profile: the HTTP source has no default of its own."""
    import inspect

    cap = inspect.signature(http.fetch).parameters["max_bytes"]
    assert cap.default is inspect.Parameter.empty
    assert not hasattr(http, "DEFAULT_MAX_BYTES")


def test_measurement_reads_no_threshold() -> None:
    """ARCHITECTURE.md: measurement never holds thresholds. measure.stage.stuck_status adds
    stuck_after_minutes + stuck_resolved_within_minutes (the criterion's allowance) and returns
    only the count past it; criteria.imports.stuck_imports computes the same allowance again."""
    tree = ast.parse(test_layers.modules()["cutover.measure.stage"].read_text(encoding="utf-8"))
    read = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.endswith("_within_minutes")
    }
    assert read == set()


def test_cutover_verify_fails_a_ledger_the_gates_refuse(tmp_path: Path) -> None:
    """A rollback record without its `reason` makes LedgerView.load refuse the whole ledger (every
    ledger-reading criterion is inconclusive), but `cutover verify` schema-checks checkpoints
    only (verify/chain.py `checkpoints`) and says OK."""
    Store(tmp_path).append(StageStarted(1, 10, T))
    append_unchecked(tmp_path, {"type": "rollback", "percent": 0, "at": "2026-02-02T11:00:00Z"})
    with pytest.raises(SourceUnavailable):
        LedgerView.load(tmp_path, T, target="live", scenario=None).current_stage()
    assert not verify(tmp_path).ok
