"""A scenario's ledger: its stage starts, rollbacks and attestations as typed records, marked
seeded with the scenario's name so they never mix with live records."""

from __future__ import annotations

from pathlib import Path

from cutover.ledger.errors import LedgerBroken
from cutover.ledger.records import ComplaintsAttestation, Origin, Rollback, StageStarted
from cutover.ledger.store import HeadSigner, Store
from cutover.profile import Profile
from cutover.scenarios.model import Scenario
from cutover.timeutil import iso

ScenarioRecord = StageStarted | Rollback | ComplaintsAttestation


def scenario_records(scenario: Scenario) -> list[ScenarioRecord]:
    """The scenario's records in the order they happened (the stage's percent is the plan's)."""
    origin = Origin.seeded(scenario.name)
    percents = {plan.number: plan.percent for plan in Profile().stages}
    records: list[ScenarioRecord] = [
        StageStarted(e.stage, percents[e.stage], scenario.at(e.at), origin) for e in scenario.stages
    ]
    records += [Rollback(r.reason, scenario.at(r.at), origin=origin) for r in scenario.rollbacks]
    records += [
        ComplaintsAttestation(a.count, a.by, scenario.at(a.since), scenario.at(a.at), origin)
        for a in scenario.attestations
    ]
    return sorted(records, key=lambda r: iso(r.at))


def seed_ledger(evidence_dir: Path, scenario: Scenario, sign: HeadSigner | None = None) -> None:
    """Append the scenario's records that the ledger does not hold yet (each anchored, and
    signed by `sign` when given). Not safe to run twice at once: see `cutover.fixtures`."""
    store = Store(evidence_dir, sign=sign)
    try:
        entries = store.read()
        origin = Origin.seeded(scenario.name)
        existing = {(e.type, e.data.get("at")) for e in entries if e.origin == origin}
    except LedgerBroken:
        return  # appending would hide the break; every gate reading the ledger says where it is
    for record in scenario_records(scenario):
        if (record.type, iso(record.at)) not in existing:
            store.append(record)
