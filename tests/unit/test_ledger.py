"""The ledger store: roundtrip, a hash chain that catches edits, concurrent appends, the anchor,
and what it refuses: a broken chain, a last record that is not the anchored one, a truncated
line; a record that could not be anchored is taken back."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover.errors import ConfigError
from cutover.ledger import LedgerBroken, LedgerUnwritable, Store, ledger_path
from cutover.ledger import store as store_module
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
        store.append(OtherRecord({"type": "note", "worker": worker, "i": index}))


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
    records = Store(tmp_path).read()  # raises if the chain, the anchor or a line is broken
    assert len(records) == workers * per_worker
    head = Store(tmp_path).head()
    assert head is not None and (head.line, head.records) == (workers * per_worker,) * 2
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


def test_every_append_anchors_its_record(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    store.append(StageStarted(2, 50, T0 + timedelta(hours=24)))
    head = store.head()
    assert head is not None and head.line == 2
    assert head.sha256 == digest(lines(tmp_path)[1].encode())
    assert Store(tmp_path / "elsewhere").head() is None


def test_the_sign_hook_gets_every_new_head(tmp_path: Path) -> None:
    signed: list[Head] = []
    store = Store(tmp_path, sign=signed.append)
    store.append(StageStarted(1, 10, T0))
    store.append(StageStarted(2, 50, T0 + timedelta(hours=24)))
    store.append(Rollback("errors", T0 + timedelta(hours=30)))
    assert [h.line for h in signed] == [1, 2, 3]
    assert signed[-1] == store.head()


def test_an_anchor_is_refused_for_a_broken_chain(tmp_path: Path) -> None:
    three_records(tmp_path)
    rewrite(tmp_path, lines(tmp_path)[1:])
    with pytest.raises(
        LedgerBroken,
        match="line 1: hash chain broken: .*: not anchoring it",
    ):
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


# -- what the store refuses ---------------------------------------------------------------------


def _edit_last(tmp_path: Path, **changes: object) -> None:
    content = lines(tmp_path)
    record = json.loads(content[-1])
    record.update(changes)
    content[-1] = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    rewrite(tmp_path, content)


def test_an_append_to_a_broken_chain_is_refused_naming_the_line(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    rewrite(tmp_path, [content[0], content[2]])  # line 2 removed
    before = ledger_path(tmp_path).read_bytes(), Store(tmp_path).head_path.read_bytes()
    with pytest.raises(LedgerBroken, match=r"line 2: hash chain broken.*cutover verify") as info:
        Store(tmp_path).append(Rollback("late", T0 + timedelta(hours=30)))
    assert info.value.line == 2
    after = ledger_path(tmp_path).read_bytes(), Store(tmp_path).head_path.read_bytes()
    assert after == before  # nothing written, nothing re-anchored


def test_an_edited_last_record_is_neither_read_nor_appended_to_nor_re_anchored(
    tmp_path: Path,
) -> None:
    three_records(tmp_path)
    _edit_last(tmp_path, percent=100)  # the chain alone cannot see this one
    assert Store(tmp_path).chain().broken() is None
    store = Store(tmp_path)
    with pytest.raises(LedgerBroken, match="line 3: the record does not match ledger.head"):
        store.read()
    with pytest.raises(LedgerBroken, match="the anchored record was changed"):
        store.append(Rollback("late", T0 + timedelta(hours=30)))
    with pytest.raises(LedgerBroken, match="the anchored record was changed"):
        store.write_head()
    assert len(lines(tmp_path)) == 3


def test_an_edit_in_this_process_is_caught_by_its_next_append(tmp_path: Path) -> None:
    """The store remembers what it verified by content, not by size: an edit of the same length
    made since its last append is walked again."""
    store = Store(tmp_path)
    store.append(ComplaintsAttestation(0, "alice", T0, T0 + timedelta(hours=1)))
    store.append(StageStarted(1, 10, T0))
    content = lines(tmp_path)
    content[0] = content[0].replace('"count": 0', '"count": 7')
    rewrite(tmp_path, content)
    with pytest.raises(LedgerBroken, match="line 2: hash chain broken"):
        store.append(Rollback("late", T0 + timedelta(hours=30)))


def test_a_deleted_last_record_is_caught(tmp_path: Path) -> None:
    three_records(tmp_path)
    rewrite(tmp_path, lines(tmp_path)[:-1])
    with pytest.raises(LedgerBroken, match="records were removed from the end"):
        Store(tmp_path).read()
    with pytest.raises(LedgerBroken, match="records were removed from the end"):
        Store(tmp_path).append(Rollback("late", T0 + timedelta(hours=30)))


def test_a_record_appended_by_hand_is_anchored_by_nobody(tmp_path: Path) -> None:
    three_records(tmp_path)
    content = lines(tmp_path)
    forged = {"type": "note", "at": "2026-02-03T10:00:00Z", "prev": digest(content[-1].encode())}
    rewrite(tmp_path, [*content, json.dumps(forged) + "\n"])
    with pytest.raises(LedgerBroken, match="line 4: .*anchored by nobody"):
        Store(tmp_path).read()
    with pytest.raises(LedgerBroken, match="anchored by nobody"):
        Store(tmp_path).write_head()


def test_a_ledger_without_its_anchor_is_refused(tmp_path: Path) -> None:
    three_records(tmp_path)
    Store(tmp_path).head_path.unlink()
    with pytest.raises(LedgerBroken, match="line 3: no ledger.head anchors the last record"):
        Store(tmp_path).read()
    with pytest.raises(LedgerBroken, match="no ledger.head"):
        Store(tmp_path).append(Rollback("late", T0 + timedelta(hours=30)))


def test_a_truncated_last_line_is_never_written_onto(tmp_path: Path) -> None:
    three_records(tmp_path)
    whole = ledger_path(tmp_path).read_bytes()
    ledger_path(tmp_path).write_bytes(whole.rstrip(b"\n"))  # still JSON, still anchored
    with pytest.raises(LedgerBroken, match="line 3: the last line has no newline") as info:
        Store(tmp_path).append(Rollback("late", T0 + timedelta(hours=30)))
    assert "cutover verify" in str(info.value)
    assert ledger_path(tmp_path).read_bytes() == whole.rstrip(b"\n")


def test_a_record_that_could_not_be_anchored_is_taken_back(tmp_path: Path) -> None:
    three_records(tmp_path)
    before = ledger_path(tmp_path).read_bytes(), Store(tmp_path).head_path.read_bytes()
    (tmp_path / "ledger.head.partial").mkdir()  # the anchor cannot be written
    with pytest.raises(LedgerUnwritable, match="cannot be written"):
        Store(tmp_path).append(Rollback("late", T0 + timedelta(hours=30)))
    assert (ledger_path(tmp_path).read_bytes(), Store(tmp_path).head_path.read_bytes()) == before
    assert len(Store(tmp_path).read()) == 3


def test_a_head_that_could_not_be_signed_takes_its_record_back(tmp_path: Path) -> None:
    three_records(tmp_path)
    before = ledger_path(tmp_path).read_bytes(), Store(tmp_path).head_path.read_bytes()

    def refuse(head: Head) -> None:
        raise ConfigError("CUTOVER_LEDGER_SSH_KEY /nowhere: cannot sign")

    with pytest.raises(ConfigError, match="cannot sign"):
        Store(tmp_path, sign=refuse).append(Rollback("late", T0 + timedelta(hours=30)))
    assert (ledger_path(tmp_path).read_bytes(), Store(tmp_path).head_path.read_bytes()) == before
    Store(tmp_path).append(Rollback("late", T0 + timedelta(hours=30)))  # and the ledger goes on


def test_an_unwritable_evidence_directory_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LedgerUnwritable, match=r"file/evidence: cannot be written \(Not a dir"):
        Store(blocker / "evidence").append(StageStarted(1, 10, T0))


def test_an_unreadable_ledger_is_broken_as_a_whole(tmp_path: Path) -> None:
    ledger_path(tmp_path).mkdir()
    with pytest.raises(LedgerBroken, match=r"ledger.jsonl: cannot be read \(Is a directory\)"):
        Store(tmp_path).read()


def test_a_head_whose_signature_does_not_verify_is_neither_read_nor_extended(
    tmp_path: Path,
) -> None:
    """Given the key, the store checks the head's HMAC before every read and append: an anchor
    re-written without the key (a forged, re-chained ledger) is refused, not used or re-signed.
    Without a check (no key in the settings) the same ledger reads."""
    from cutover.config import resolve_settings
    from cutover.ledger.signing import HMAC_NAME, store_for

    settings = resolve_settings(
        {"evidence_dir": str(tmp_path)}, env={"CUTOVER_LEDGER_HMAC_KEY": "k3y-for-the-test"}
    )
    signed = store_for(settings)
    signed.append(StageStarted(1, 10, T0))
    assert len(signed.read()) == 1
    (tmp_path / HMAC_NAME).write_text("0" * 64 + "\n")
    with pytest.raises(LedgerBroken, match="does not match"):
        signed.read()
    with pytest.raises(LedgerBroken, match="does not match"):
        signed.append(StageStarted(2, 50, T0 + timedelta(days=1)))
    assert (tmp_path / HMAC_NAME).read_text() == "0" * 64 + "\n"  # not re-signed
    assert len(Store(tmp_path).read()) == 1


def test_a_lock_held_past_the_wait_is_reported_not_waited_on_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_records(tmp_path)
    monkeypatch.setattr(store_module, "LOCK_WAIT_SECONDS", 0.2)
    holder = os.open(ledger_path(tmp_path), os.O_RDONLY)  # another open file: another lock
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        for action in (Store(tmp_path).read, lambda: Store(tmp_path).append(Rollback("x", T0))):
            with pytest.raises(LedgerBroken, match=r"held its lock for over 0.2 s"):
                action()
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)
    assert len(Store(tmp_path).read()) == 3  # released: read again, and nothing was appended
