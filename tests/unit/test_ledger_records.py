"""The ledger's record schema: what each record writes (the same keys as ever), what reads back,
versions, and records that do not fit, named by their line."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover.evidence.properties import recorded
from cutover.ledger import RecordInvalid, Store
from cutover.ledger.records import (
    LIVE,
    Checkpoint,
    ComplaintsAttestation,
    CriterionRecord,
    Entry,
    Origin,
    OtherRecord,
    Rollback,
    Snapshot,
    StageStarted,
    checkpoint,
    parse,
)
from cutover.outcome import Scope, Window
from cutover.scenarios.ledger import scenario_records, seed_ledger
from cutover.scenarios.model import load_scenario

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)
SEEDED = Origin.seeded("stage3-rollback")
SHA = "ab" * 32


def test_stage_events_and_attestations_write_the_keys_they_always_did() -> None:
    assert StageStarted(1, 10, T0).to_json() == {
        "type": "stage_started",
        "stage": 1,
        "percent": 10,
        "at": "2026-02-02T09:00:00Z",
    }
    assert Rollback("errors", T0).to_json() == {
        "type": "rollback",
        "reason": "errors",
        "percent": 0,
        "at": "2026-02-02T09:00:00Z",
    }
    attestation = ComplaintsAttestation(0, "alice", T0, T0 + timedelta(hours=6), SEEDED)
    assert attestation.to_json() == {
        "type": "attestation",
        "kind": "complaints",
        "count": 0,
        "by": "alice",
        "since": "2026-02-02T09:00:00Z",
        "at": "2026-02-02T15:00:00Z",
        "target": "seeded",
        "scenario": "stage3-rollback",
    }


def test_the_line_written_is_sorted_utf8_json_chained_by_prev(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    rollback = Rollback("zu langsam — ünd", T0 + timedelta(hours=1))
    store.append(rollback)
    first, second = store.path.read_bytes().splitlines()
    assert first == (
        b'{"at": "2026-02-02T09:00:00Z", "percent": 10, "prev": "", "stage": 1, '
        b'"type": "stage_started"}'
    )
    expected = {**rollback.to_json(), "prev": hashlib.sha256(first).hexdigest()}
    assert second == json.dumps(expected, sort_keys=True, ensure_ascii=False).encode()


def test_the_checkpoint_record_of_a_run() -> None:
    results = [
        recorded(
            [
                ("criterion", "stage1.success_rate"),
                ("verdict", "pass"),
                ("measured", "98.5% of 1000"),
                ("as_of", "2026-02-03T09:00:00Z"),
                ("details", '{"current": {"settled_rate_pct": 98.5}}'),
            ]
        ),
        recorded([("criterion", "stage1.elapsed"), ("verdict", "inconclusive"), ("reason", "x")]),
        recorded([("criterion", "stage1.odd"), ("verdict", "fail"), ("details", "{not json")]),
    ]
    record = checkpoint(
        [r for r in results if r is not None],
        selection="stage1_gate",
        target="seeded",
        scenario="healthy-rollout",
        scope=Scope(held=9, decided=3, narrowed_by=("-k success_rate or elapsed or odd",)),
        at=T0 + timedelta(days=1, minutes=5),
    )
    assert record.partial
    assert record.to_json() == {
        "type": "checkpoint",
        "v": 2,
        "selection": "stage1_gate",
        "as_of": "2026-02-03T09:00:00Z",
        "at": "2026-02-03T09:05:00Z",
        "target": "seeded",
        "scenario": "healthy-rollout",
        "scope": {"held": 9, "decided": 3, "narrowed_by": ["-k success_rate or elapsed or odd"]},
        "results": {
            "stage1.success_rate": {
                "verdict": "pass",
                "measured": "98.5% of 1000",
                "as_of": "2026-02-03T09:00:00Z",
                "details": {"current": {"settled_rate_pct": 98.5}},
            },
            "stage1.elapsed": {"verdict": "inconclusive", "reason": "x"},
            "stage1.odd": {"verdict": "fail", "details": "{not json"},  # kept as text
        },
    }
    assert parse(7, record.to_json()) == record


def test_a_version_1_checkpoint_reads_without_a_scope() -> None:
    """Written before runs recorded their scope: read as it was, neither partial nor whole."""
    written = {
        "type": "checkpoint",
        "selection": "stage1_gate",
        "as_of": "2026-02-03T09:00:00Z",
        "at": "2026-02-03T09:05:00Z",
        "target": "live",
        "scenario": None,
        "results": {"stage1.elapsed": {"verdict": "pass"}},
    }
    record = parse(3, written)
    assert isinstance(record, Checkpoint)
    assert record.scope is None and not record.partial


@pytest.mark.parametrize(
    "scope",
    [{"held": "9", "decided": 1, "narrowed_by": []}, {"held": 9, "decided": 1, "narrowed_by": "x"}],
)
def test_a_checkpoint_scope_that_does_not_fit_names_its_line(scope: dict[str, object]) -> None:
    written = {
        "type": "checkpoint",
        "v": 2,
        "selection": "stage1_gate",
        "as_of": None,
        "at": "2026-02-03T09:05:00Z",
        "target": "live",
        "scope": scope,
        "results": {},
    }
    with pytest.raises(RecordInvalid, match="line 4: checkpoint record: 'scope': "):
        parse(4, written)


def test_a_live_checkpoint_without_an_instant() -> None:
    results = [recorded([("criterion", "prereq.x"), ("verdict", "inconclusive")])]
    record = checkpoint(
        [r for r in results if r is not None], selection="prereq", target="live", scenario=None
    )
    data = record.to_json()
    assert (data["as_of"], data["target"], data["scenario"]) == ("", "live", None)
    assert parse(1, data).as_of is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "record",
    [
        StageStarted(2, 50, T0),
        StageStarted(2, 50, T0, SEEDED),
        Rollback("errors", T0, origin=SEEDED),
        ComplaintsAttestation(3, "bob", T0, T0 + timedelta(hours=1)),
        Checkpoint("stage1_gate", T0, T0, (CriterionRecord("a.b", {"verdict": "pass"}),), LIVE),
        Snapshot(
            source="router_logs",
            params={"project": "soulprint"},
            window=Window(T0, T0 + timedelta(hours=1)),
            pages=3,
            lines=1200,
            sha256=SHA,
            path=f"snapshots/{SHA}.jsonl",
            at=T0 + timedelta(hours=1),
        ),
    ],
    ids=lambda r: type(r).__name__,
)
def test_every_record_reads_back_as_written(record: object) -> None:
    data = record.to_json()  # type: ignore[attr-defined]
    if isinstance(record, Checkpoint):
        assert data["v"] == 2  # version 2: the run's scope
        assert parse(3, data) == record
        with pytest.raises(RecordInvalid, match="written with version 3"):
            parse(3, {**data, "v": 3})
        return
    assert "v" not in data  # version 1 writes no version
    assert parse(3, data) == record
    assert parse(3, {**data, "v": 1}) == record


def test_a_newer_version_is_refused_naming_the_line() -> None:
    data = {**StageStarted(1, 10, T0).to_json(), "v": 2}
    with pytest.raises(RecordInvalid) as info:
        parse(12, data)
    assert info.value.line == 12
    assert "line 12: stage_started record: written with version 2 of its schema" in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "stage_started", "percent": 10, "at": "2026-02-02T09:00:00Z"}, "'stage' is miss"),
        ({"type": "stage_started", "stage": True, "percent": 10, "at": "x"}, "'stage' is True"),
        ({"type": "rollback", "reason": "r", "percent": 0, "at": "soon"}, "'soon' is not an ISO"),
        ({"type": "checkpoint", "selection": "s", "at": "2026-02-02T09:00:00Z"}, "'results' is"),
        (
            {
                "type": "checkpoint",
                "selection": "s",
                "as_of": "",
                "at": "2026-02-02T09:00:00Z",
                "results": {"a.b": "pass"},
            },
            "result 'a.b' is 'pass', expected an object",
        ),
        ({"type": "attestation", "kind": "complaints", "count": 1}, "'by' is missing"),
        ({"type": "stage_started", "v": "2"}, "'v' is '2'"),
        ({"stage": 1}, "a record needs a 'type'"),
        (
            {"type": "snapshot", "source": "router_logs", "params": {}, "window": {"start": ""}},
            "snapshot record: 'window': 'end' is missing",
        ),
        ({**StageStarted(1, 10, T0).to_json(), "target": 1}, "'target' is 1"),
    ],
)
def test_a_record_that_does_not_fit_names_its_line(data: dict, message: str) -> None:
    with pytest.raises(RecordInvalid, match="line 5: ") as info:
        parse(5, data)
    assert message in str(info.value)


def test_types_and_kinds_without_a_schema_are_kept_as_written() -> None:
    note = {"type": "note", "at": "2026-02-02T09:00:00Z", "text": "hello"}
    assert parse(1, note) == OtherRecord(note)
    waiver = {"type": "attestation", "kind": "waive", "criterion": "stage1.x"}
    assert parse(2, waiver) == OtherRecord(waiver)


def test_an_entry_reads_its_instant_and_origin() -> None:
    entry = Entry(4, StageStarted(1, 10, T0, SEEDED).to_json())
    assert (entry.type, entry.at, entry.origin) == ("stage_started", T0, SEEDED)
    assert Entry(5, {"type": "note"}).origin == LIVE
    with pytest.raises(RecordInvalid, match="line 5: note record: 'at' is missing"):
        _ = Entry(5, {"type": "note"}).at


def test_criterion_values_as_text_are_redacted() -> None:
    values = {"source": "postgresql://u:secret@db/x", "sample_size": 12, "details": {"a": 1}}
    result = CriterionRecord("c", values)
    assert result.text("source") == "postgresql://u:***@db/x"
    assert result.text("sample_size") == "12"
    assert result.text("missing") == ""
    assert result.details == {"a": 1}
    assert CriterionRecord("c", {"details": '{"a": 2}'}).details == {"a": 2}
    assert CriterionRecord("c", {"details": "{nope"}).details is None


# -- a scenario's records -----------------------------------------------------------------------


def test_a_scenarios_records_are_seeded_in_time_order() -> None:
    scenario = load_scenario("stage3-rollback")
    records = scenario_records(scenario)
    assert {r.origin for r in records} == {SEEDED}
    assert [r.at for r in records] == sorted(r.at for r in records)
    stages = [(r.stage, r.percent) for r in records if isinstance(r, StageStarted)]
    assert stages == [(1, 10), (2, 50), (3, 100), (4, 100)]
    [rollback] = [r for r in records if isinstance(r, Rollback)]
    assert rollback.at == scenario.at(timedelta(hours=120))
    assert len([r for r in records if isinstance(r, ComplaintsAttestation)]) == len(
        scenario.attestations
    )


def test_seeding_twice_appends_nothing_more(tmp_path: Path) -> None:
    scenario = load_scenario("stage3-rollback")
    seed_ledger(tmp_path, scenario)
    written = Store(tmp_path).read()
    assert [e.data for e in written] == [
        {**r.to_json(), "prev": e.data["prev"]}
        for r, e in zip(scenario_records(scenario), written, strict=True)
    ]
    seed_ledger(tmp_path, scenario)
    assert Store(tmp_path).read() == written
    head = Store(tmp_path).head()  # each record is anchored as it is appended
    assert head is not None and head.line == len(written)
