"""The ledger store: roundtrip, a hash chain that catches edits, concurrent appends, the anchor."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover.ledger import LedgerBroken, Store, ledger_path
from cutover.ledger.records import (
    ComplaintsAttestation,
    OtherRecord,
    Rollback,
    StageStarted,
)
from cutover.ledger.store import Head, digest

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)


def lines(tmp_path: Path) -> list[str]:
    return ledger_path(tmp_path).read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(tmp_path: Path, new_lines: list[str]) -> None:
    ledger_path(tmp_path).write_text("".join(new_lines), encoding="utf-8")


def three_records(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    store.append(ComplaintsAttestation(0, "alice", T0, T0 + timedelta(hours=1)))
    store.append(StageStarted(2, 50, T0 + timedelta(hours=24)))


def test_missing_ledger_reads_empty(tmp_path: Path) -> None:
    assert Store(tmp_path / "nowhere").read() == []


def test_append_read_roundtrip(tmp_path: Path) -> None:
    store = Store(tmp_path)
    # a key this version has no field for is kept as written, and the record still reads
    started = OtherRecord({**StageStarted(1, 10, T0).to_json(), "note": "go"})
    first = store.append(started)
    second = store.append(Rollback("errors", T0 + timedelta(hours=2)))
    assert first["prev"] == ""
    assert second["prev"] != ""
    records = store.read()
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
    assert records[0].parse() == StageStarted(1, 10, T0)
    assert records[1].parse() == Rollback("errors", T0 + timedelta(hours=2))


def test_attestation_record_shape(tmp_path: Path) -> None:
    written = Store(tmp_path).append(ComplaintsAttestation(3, "bob", T0, T0 + timedelta(hours=6)))
    assert written["type"] == "attestation"
    assert written["kind"] == "complaints"
    assert written["count"] == 3
    assert written["since"] == "2026-02-02T09:00:00Z"
    assert written["at"] == "2026-02-02T15:00:00Z"


def test_non_ascii_survives(tmp_path: Path) -> None:
    Store(tmp_path).append(Rollback("Fehler: zu langsam — ünd", T0))
    assert "Fehler: zu langsam — ünd" in lines(tmp_path)[0]  # written as UTF-8, not \u escapes
    assert Store(tmp_path).read()[0].data["reason"] == "Fehler: zu langsam — ünd"


def test_changed_record_breaks_the_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    record = json.loads(content[1])
    record["count"] = 7
    content[1] = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    rewrite(tmp_path, content)
    with pytest.raises(LedgerBroken) as info:
        Store(tmp_path).read()
    assert info.value.line == 3
    assert "line 3" in str(info.value)


def test_removed_record_breaks_the_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    rewrite(tmp_path, [content[0], content[2]])
    with pytest.raises(LedgerBroken) as info:
        Store(tmp_path).read()
    assert info.value.line == 2


def test_removed_first_record_breaks_the_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    rewrite(tmp_path, lines(tmp_path)[1:])
    with pytest.raises(LedgerBroken) as info:
        Store(tmp_path).read()
    assert info.value.line == 1


def test_swapped_records_break_the_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    rewrite(tmp_path, [content[0], content[2], content[1]])
    with pytest.raises(LedgerBroken) as info:
        Store(tmp_path).read()
    assert info.value.line == 2
    assert "hash chain broken" in str(info.value)


def test_garbage_line_is_reported_with_its_number(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    rewrite(tmp_path, [content[0], "{not json\n", *content[1:]])
    with pytest.raises(LedgerBroken, match="line 2: not a JSON record") as info:
        Store(tmp_path).read()
    assert info.value.line == 2


def test_append_after_a_long_record_chains_to_it(tmp_path: Path) -> None:
    # the tail reader works in 4 KiB blocks: a record longer than that must still be chained
    store = Store(tmp_path)
    store.append(Rollback("x" * 10_000, T0))
    store.append(StageStarted(1, 10, T0 + timedelta(hours=1)))
    assert len(store.read()) == 2


def _append_many(evidence_dir: str, worker: int, count: int) -> None:
    store = Store(Path(evidence_dir))
    for index in range(count):
        store.append(OtherRecord({"type": "note", "worker": worker, "i": index}), anchor=False)


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
    records = Store(tmp_path).read()  # raises if the chain or a line is broken
    assert len(records) == workers * per_worker
    assert len(lines(tmp_path)) == workers * per_worker
    seen = {(r.data["worker"], r.data["i"]) for r in records}
    assert seen == {(w, i) for w in range(workers) for i in range(per_worker)}
    for worker in range(workers):
        order = [r.data["i"] for r in records if r.data["worker"] == worker]
        assert order == list(range(per_worker))


# -- the anchor -----------------------------------------------------------------------------------


def test_append_anchors_the_new_last_record(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    store.append(Rollback("errors", T0 + timedelta(hours=1)))
    head = store.head()
    assert head is not None
    assert (head.line, head.records) == (2, 2)
    assert head.sha256 == digest(lines(tmp_path)[1].encode())
    anchor = json.loads(store.head_path.read_text(encoding="utf-8"))
    assert sorted(anchor) == ["at", "line", "records", "sha256"]


def test_an_unanchored_append_leaves_the_head_where_it_was(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    store.append(StageStarted(2, 50, T0 + timedelta(hours=24)), anchor=False)
    head = store.head()
    assert head is not None and head.line == 1
    assert Store(tmp_path / "elsewhere").head() is None


def test_the_sign_hook_gets_every_new_head(tmp_path: Path) -> None:
    signed: list[Head] = []
    store = Store(tmp_path, sign=signed.append)
    store.append(StageStarted(1, 10, T0))
    store.append(StageStarted(2, 50, T0 + timedelta(hours=24)), anchor=False)
    store.append(Rollback("errors", T0 + timedelta(hours=30)))
    assert [h.line for h in signed] == [1, 3]
    assert signed[-1] == store.head()


def test_an_anchor_is_refused_for_a_broken_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    rewrite(tmp_path, lines(tmp_path)[1:])
    with pytest.raises(LedgerBroken, match="line 1: hash chain broken: not anchoring it"):
        Store(tmp_path).write_head()


def test_an_unreadable_anchor_raises_value_error(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    store.head_path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a ledger anchor"):
        store.head()


def test_the_chain_walk_goes_on_past_a_break(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    rewrite(tmp_path, [content[0], "{not json\n", *content[1:]])
    chain = Store(tmp_path).chain()
    assert [link.line.number for link in chain.links] == [1, 2, 3, 4]
    assert [link.intact for link in chain.links] == [True, False, False, True]
    assert [e.line for e in chain.entries] == [1, 3, 4]
    broken = chain.broken()
    assert broken is not None and broken.line == 2
