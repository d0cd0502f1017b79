"""The ledger: roundtrip, a hash chain that catches edits, concurrent appends, current stage."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover import ledger
from cutover.ledger import LedgerBroken

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)


def lines(tmp_path: Path) -> list[str]:
    return ledger.ledger_path(tmp_path).read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(tmp_path: Path, new_lines: list[str]) -> None:
    ledger.ledger_path(tmp_path).write_text("".join(new_lines), encoding="utf-8")


def three_records(tmp_path: Path) -> None:
    ledger.append(tmp_path, ledger.stage_started(1, 10, T0))
    ledger.append(tmp_path, ledger.complaints_attested(0, "alice", T0, T0 + timedelta(hours=1)))
    ledger.append(tmp_path, ledger.stage_started(2, 50, T0 + timedelta(hours=24)))


def test_missing_ledger_reads_empty(tmp_path: Path) -> None:
    assert ledger.read(tmp_path / "nowhere") == []


def test_append_read_roundtrip(tmp_path: Path) -> None:
    first = ledger.append(tmp_path, ledger.stage_started(1, 10, T0, note="go"))
    second = ledger.append(tmp_path, ledger.rollback("errors", T0 + timedelta(hours=2)))
    assert first["prev"] == ""
    assert second["prev"] != ""
    records = ledger.read(tmp_path)
    assert [r.line for r in records] == [1, 2]
    assert dict(records[0].data) == first
    assert dict(records[1].data) == second
    assert records[0].type == "stage_started"
    assert records[0].data["percent"] == 10
    assert records[0].data["note"] == "go"
    assert records[0].at == T0
    assert records[1].type == "rollback"
    assert records[1].data["percent"] == 0
    assert records[1].data["reason"] == "errors"
    assert records[1].at == T0 + timedelta(hours=2)


def test_attestation_record_shape(tmp_path: Path) -> None:
    written = ledger.append(
        tmp_path, ledger.complaints_attested(3, "bob", T0, T0 + timedelta(hours=6))
    )
    assert written["type"] == "attestation"
    assert written["kind"] == "complaints"
    assert written["count"] == 3
    assert written["since"] == "2026-02-02T09:00:00Z"
    assert written["at"] == "2026-02-02T15:00:00Z"


def test_non_ascii_survives(tmp_path: Path) -> None:
    ledger.append(tmp_path, ledger.rollback("Fehler: zu langsam — ünd", T0))
    assert ledger.read(tmp_path)[0].data["reason"] == "Fehler: zu langsam — ünd"


def test_changed_record_breaks_the_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    record = json.loads(content[1])
    record["count"] = 7
    content[1] = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    rewrite(tmp_path, content)
    with pytest.raises(LedgerBroken) as info:
        ledger.read(tmp_path)
    assert info.value.line == 3
    assert "line 3" in str(info.value)


def test_removed_record_breaks_the_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    rewrite(tmp_path, [content[0], content[2]])
    with pytest.raises(LedgerBroken) as info:
        ledger.read(tmp_path)
    assert info.value.line == 2


def test_removed_first_record_breaks_the_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    rewrite(tmp_path, lines(tmp_path)[1:])
    with pytest.raises(LedgerBroken) as info:
        ledger.read(tmp_path)
    assert info.value.line == 1


def test_swapped_records_break_the_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    rewrite(tmp_path, [content[0], content[2], content[1]])
    with pytest.raises(LedgerBroken) as info:
        ledger.read(tmp_path)
    assert info.value.line == 2
    assert "hash chain broken" in str(info.value)


def test_garbage_line_is_reported_with_its_number(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    rewrite(tmp_path, [content[0], "{not json\n", *content[1:]])
    with pytest.raises(LedgerBroken, match="line 2: not a JSON record") as info:
        ledger.read(tmp_path)
    assert info.value.line == 2


def test_append_after_a_long_record_chains_to_it(tmp_path: Path) -> None:
    # the tail reader works in 4 KiB blocks: a record longer than that must still be chained
    ledger.append(tmp_path, ledger.rollback("x" * 10_000, T0))
    ledger.append(tmp_path, ledger.stage_started(1, 10, T0 + timedelta(hours=1)))
    assert len(ledger.read(tmp_path)) == 2


def _append_many(evidence_dir: str, worker: int, count: int) -> None:
    for index in range(count):
        ledger.append(Path(evidence_dir), {"type": "checkpoint", "worker": worker, "i": index})


def test_concurrent_appends_keep_every_record_and_the_chain(tmp_path: Path) -> None:
    workers, per_worker = 8, 1000  # the issue: 8 appenders x 1,000 records
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_append_many, args=(str(tmp_path), w, per_worker))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * workers
    records = ledger.read(tmp_path)  # raises if the chain or a line is broken
    assert len(records) == workers * per_worker
    assert len(lines(tmp_path)) == workers * per_worker
    seen = {(r.data["worker"], r.data["i"]) for r in records}
    assert seen == {(w, i) for w in range(workers) for i in range(per_worker)}
    for worker in range(workers):
        order = [r.data["i"] for r in records if r.data["worker"] == worker]
        assert order == list(range(per_worker))


def test_current_stage_picks_latest_start_or_rollback_at_or_before(tmp_path: Path) -> None:
    ledger.append(tmp_path, ledger.stage_started(1, 10, T0))
    ledger.append(tmp_path, ledger.complaints_attested(0, "a", T0, T0 + timedelta(hours=2)))
    ledger.append(tmp_path, ledger.stage_started(2, 50, T0 + timedelta(hours=24)))
    ledger.append(tmp_path, ledger.rollback("errors", T0 + timedelta(hours=30)))
    records = ledger.read(tmp_path)

    assert ledger.current_stage(records, T0 - timedelta(seconds=1)) is None
    at_start = ledger.current_stage(records, T0)
    assert at_start is not None and at_start.data["stage"] == 1
    in_stage1 = ledger.current_stage(records, T0 + timedelta(hours=3))
    assert in_stage1 is not None and in_stage1.data["stage"] == 1  # attestation ignored
    in_stage2 = ledger.current_stage(records, T0 + timedelta(hours=29))
    assert in_stage2 is not None and in_stage2.data["stage"] == 2
    after = ledger.current_stage(records, T0 + timedelta(hours=30))
    assert after is not None and after.type == "rollback"


def test_current_stage_uses_time_not_file_order(tmp_path: Path) -> None:
    # a stage recorded late (with --at in the past) still counts from its own time
    ledger.append(tmp_path, ledger.stage_started(2, 50, T0 + timedelta(hours=24)))
    ledger.append(tmp_path, ledger.stage_started(1, 10, T0))
    records = ledger.read(tmp_path)
    current = ledger.current_stage(records, T0 + timedelta(hours=25))
    assert current is not None and current.data["stage"] == 2
    current = ledger.current_stage(records, T0 + timedelta(hours=1))
    assert current is not None and current.data["stage"] == 1
