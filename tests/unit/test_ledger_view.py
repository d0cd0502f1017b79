"""The ledger view: one current-stage rule (latest at or before the instant, later line on a
tie), live and seeded records kept apart, earlier checkpoints, records that do not fit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover.ledger import LedgerBroken, Store
from cutover.ledger.records import (
    LIVE,
    Checkpoint,
    ComplaintsAttestation,
    CriterionRecord,
    Origin,
    OtherRecord,
    Rollback,
    StageStarted,
)
from cutover.ledger.view import CheckpointValue, LedgerView, StageRun
from ledger_writing import append_unchecked

T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)
SEEDED = Origin.seeded("healthy-rollout")


def live(tmp_path: Path, as_of: datetime) -> LedgerView:
    return LedgerView.load(tmp_path, as_of, target="live", scenario=None)


def seeded(tmp_path: Path, as_of: datetime, scenario: str = "healthy-rollout") -> LedgerView:
    return LedgerView.load(tmp_path, as_of, target="seeded", scenario=scenario)


def test_current_stage_picks_latest_start_or_rollback_at_or_before(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    store.append(ComplaintsAttestation(0, "a", T0, T0 + timedelta(hours=2)))
    store.append(StageStarted(2, 50, T0 + timedelta(hours=24)))
    store.append(Rollback("errors", T0 + timedelta(hours=30)))

    assert live(tmp_path, T0 - timedelta(seconds=1)).current_stage() is None
    assert live(tmp_path, T0).current_stage() == StageRun(1, 10, T0)
    # the attestation is no stage event
    assert live(tmp_path, T0 + timedelta(hours=3)).current_stage() == StageRun(1, 10, T0)
    in_stage2 = live(tmp_path, T0 + timedelta(hours=29)).current_stage()
    assert in_stage2 == StageRun(2, 50, T0 + timedelta(hours=24))
    after = live(tmp_path, T0 + timedelta(hours=30))
    assert after.current_stage() is None  # a rollback ends the stage
    assert after.last_rollback() == (T0 + timedelta(hours=30), "errors")


def test_current_stage_uses_time_not_file_order(tmp_path: Path) -> None:
    # a stage recorded late (with --at in the past) still counts from its own time
    store = Store(tmp_path)
    store.append(StageStarted(2, 50, T0 + timedelta(hours=24)))
    store.append(StageStarted(1, 10, T0))
    current = live(tmp_path, T0 + timedelta(hours=25)).current_stage()
    assert current is not None and current.stage == 2
    current = live(tmp_path, T0 + timedelta(hours=1)).current_stage()
    assert current is not None and current.stage == 1


def test_at_the_same_instant_the_later_line_wins(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    store.append(Rollback("went wrong at once", T0))
    assert live(tmp_path, T0).current_stage() is None
    store.append(StageStarted(1, 10, T0))  # started again, recorded after the rollback
    assert live(tmp_path, T0).current_stage() == StageRun(1, 10, T0)


def test_live_and_seeded_records_never_mix(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0, SEEDED))
    store.append(StageStarted(2, 50, T0 + timedelta(hours=1), Origin.seeded("other")))
    as_of = T0 + timedelta(hours=2)
    assert live(tmp_path, as_of).current_stage() is None
    assert seeded(tmp_path, as_of).current_stage() == StageRun(1, 10, T0)
    other = seeded(tmp_path, as_of, "other").current_stage()
    assert other == StageRun(2, 50, T0 + timedelta(hours=1))
    store.append(StageStarted(3, 100, T0 + timedelta(hours=1)))
    assert live(tmp_path, as_of).current_stage() == StageRun(3, 100, T0 + timedelta(hours=1))
    assert seeded(tmp_path, as_of).current_stage() == StageRun(1, 10, T0)


def test_events_after_the_instant_are_not_read(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.append(StageStarted(1, 10, T0))
    store.append(ComplaintsAttestation(2, "bob", T0, T0 + timedelta(hours=6)))
    store.append(Rollback("errors", T0 + timedelta(hours=8)))
    store.append(StageStarted(1, 10, T0 + timedelta(hours=9)))
    early = live(tmp_path, T0 + timedelta(hours=5))
    assert early.complaint_attestations() == []
    assert early.rollbacks_since(T0) == []
    assert early.stage_started(1) == T0
    later = live(tmp_path, T0 + timedelta(hours=10))
    assert later.complaint_attestations() == [(T0, T0 + timedelta(hours=6), 2, "bob")]
    assert later.rollbacks_since(T0 + timedelta(hours=7)) == [(T0 + timedelta(hours=8), "errors")]
    assert later.stage_started(1) == T0 + timedelta(hours=9)
    assert later.stage_started(2) is None


def test_checkpoint_values_are_those_measured_by_the_instant(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for hours in (1, 6, 24):
        as_of = T0 + timedelta(hours=hours)
        values = {"verdict": "pass", "details": {"rate": hours}}
        result = CriterionRecord("stage1.success_rate", values)
        store.append(Checkpoint("stage1_gate", as_of, as_of, (result,), LIVE))
    view = live(tmp_path, T0 + timedelta(hours=6))
    assert view.checkpoint_values("stage1.success_rate") == [
        CheckpointValue(T0 + timedelta(hours=h), T0 + timedelta(hours=h), {"rate": h})
        for h in (1, 6)
    ]
    assert view.checkpoint_values("stage1.duration") == []


def test_a_record_that_does_not_fit_its_schema_is_a_broken_ledger(tmp_path: Path) -> None:
    """For the readers of its kind: the stage rules cannot be read around a bad stage start."""
    Store(tmp_path).append(StageStarted(1, 10, T0))
    append_unchecked(tmp_path, {"type": "stage_started", "stage": "one", "at": "2026-02-02T10:00Z"})
    view = live(tmp_path, T0 + timedelta(hours=1))
    with pytest.raises(LedgerBroken) as info:
        view.current_stage()
    assert info.value.line == 2
    assert str(tmp_path / "ledger.jsonl") in str(info.value)
    assert "line 2: stage_started record: 'stage' is 'one', expected an integer" in str(info.value)


def test_another_targets_record_that_does_not_fit_is_not_read(tmp_path: Path) -> None:
    Store(tmp_path).append(StageStarted(1, 10, T0))
    bad = {"type": "rollback", "at": "2026-02-02T10:00:00Z", **SEEDED.marks()}
    append_unchecked(tmp_path, bad)
    assert live(tmp_path, T0 + timedelta(hours=1)).current_stage() == StageRun(1, 10, T0)
    with pytest.raises(LedgerBroken, match="line 2: rollback record: 'reason' is missing"):
        seeded(tmp_path, T0 + timedelta(hours=1)).current_stage()


def test_a_bad_record_blinds_only_the_readers_of_its_kind(tmp_path: Path) -> None:
    """A malformed checkpoint leaves the stage rules readable; a record whose target cannot be
    read is nobody's (cutover verify fails both)."""
    Store(tmp_path).append(StageStarted(1, 10, T0))
    append_unchecked(tmp_path, {"type": "checkpoint", "at": "2026-02-02T10:00:00Z", "results": 3})
    append_unchecked(
        tmp_path, {"type": "rollback", "reason": "x", "at": "2026-02-02T10:30:00Z", "target": 5}
    )
    view = live(tmp_path, T0 + timedelta(hours=1))
    assert view.current_stage() == StageRun(1, 10, T0)
    with pytest.raises(LedgerBroken, match="line 2: checkpoint record"):
        view.checkpoint_values("stage1.success_rate")


def test_the_store_refuses_to_write_a_record_no_reader_could_read(tmp_path: Path) -> None:
    with pytest.raises(LedgerBroken, match="'reason' is missing"):
        Store(tmp_path).append(OtherRecord({"type": "rollback", "at": "2026-02-02T10:00:00Z"}))
    assert not (tmp_path / "ledger.jsonl").exists() or Store(tmp_path).read() == []
