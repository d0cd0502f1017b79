"""Record what people did in the ledger: a stage started, a rollback, an attestation."""

from __future__ import annotations

import argparse
from typing import Any

from cutover.cli.options import command_group, instant, origin_for
from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.ledger import Store
from cutover.ledger.records import ComplaintsAttestation, Origin, Rollback, StageStarted
from cutover.ledger.signing import store_for
from cutover.ledger.view import LedgerView
from cutover.profile import Profile
from cutover.timeutil import iso, utc_now


def add(commands: Any) -> None:
    stage_commands = command_group(
        commands,
        "stage",
        "record in the ledger that a stage started (after deploying its percent)",
        "Record stage events in the ledger; the gates read when each stage began.",
    )
    start = stage_commands.add_parser(
        "start",
        help="stage N started (percent is the stage's)",
        description=(
            "Append a stage_started record: stage N began at --at (default now) with the "
            "stage's percent (1: 10%%, 2: 50%%, 3 and 4: 100%%). Deploy V2_ROLLOUT_PERCENT "
            "first; this records it, it changes nothing."
        ),
    )
    start.add_argument("number", type=int, choices=(1, 2, 3, 4))
    start.add_argument("--at", type=instant, default=None, help="when (ISO 8601; default now)")
    add_scenario(start)
    start.set_defaults(run=stage_start)

    rollback = commands.add_parser(
        "rollback",
        help="record a rollback (percent 0) in the ledger, after setting the percent to 0",
        description=(
            "Append a rollback record (percent 0, the reason, --at or now). It records the "
            "rollback the operator did; `pytest -m rollback_verify` then checks that it took."
        ),
    )
    rollback.add_argument("--reason", required=True)
    rollback.add_argument("--at", type=instant, default=None)
    add_scenario(rollback)
    rollback.set_defaults(run=record_rollback)

    attest_commands = command_group(
        commands,
        "attest",
        "record what a person counted (user complaints) in the ledger",
        "Record attestations, facts only a person can state, in the ledger.",
    )
    complaints = attest_commands.add_parser(
        "complaints",
        help="import-failure complaints counted over since..at",
        description=(
            "Append a complaints attestation: NAME counted N import-failure complaints over "
            "--since (default: the current stage's start) .. --at (default now). The "
            "complaints criteria read it; without one they are inconclusive."
        ),
    )
    complaints.add_argument("--count", type=int, required=True)
    complaints.add_argument("--by", required=True)
    complaints.add_argument("--at", type=instant, default=None)
    complaints.add_argument(
        "--since", type=instant, default=None, help="default: the current stage's start"
    )
    complaints.add_argument(
        "--scenario",
        default=None,
        help="record it for a seeded scenario's runs instead of the live target",
    )
    complaints.set_defaults(run=attest_complaints)


def _store(settings: Settings) -> Store:
    """The ledger, signing each head it writes as the settings ask (every append verifies the
    chain and the anchor first)."""
    return store_for(settings)


def add_scenario(parser: Any) -> None:
    """`--scenario S`: the record is the seeded scenario's (`cutover status --scenario S`
    suggests it so), never the live rollout's."""
    parser.add_argument(
        "--scenario",
        default=None,
        help="record it for a seeded scenario's timeline instead of the live rollout",
    )


def _where(origin: Origin) -> str:
    return "" if origin.scenario is None else f" (seeded scenario {origin.scenario})"


def stage_start(args: argparse.Namespace, settings: Settings) -> int:
    plan = Profile().stage(args.number)
    origin = origin_for(args.scenario)
    started = StageStarted(plan.number, plan.percent, args.at or utc_now(), origin)
    _store(settings).append(started)
    print(f"stage {plan.number} started at {iso(started.at)} ({plan.percent}%){_where(origin)}")
    return 0


def record_rollback(args: argparse.Namespace, settings: Settings) -> int:
    origin = origin_for(args.scenario)
    rollback = Rollback(args.reason, args.at or utc_now(), origin=origin)
    _store(settings).append(rollback)
    print(f"rollback recorded at {iso(rollback.at)}: {args.reason}{_where(origin)}")
    return 0


def attest_complaints(args: argparse.Namespace, settings: Settings) -> int:
    evidence = settings.evidence_dir
    if args.count < 0:
        raise ConfigError(f"--count is {args.count}; expected 0 or more complaints")
    until = args.at or utc_now()
    since = args.since
    origin = origin_for(args.scenario)
    if since is None:
        # the target's own stage: a seeded scenario's records are not the live rollout's
        current = LedgerView.load(
            evidence, until, target=origin.target, scenario=origin.scenario
        ).current_stage()
        if current is None:
            raise ConfigError(
                "attest complaints: no stage has started in the ledger before --at; "
                "give --since explicitly"
            )
        since = current.started
    if since > until:
        raise ConfigError(f"--since {iso(since)} is after --at {iso(until)}")
    attestation = ComplaintsAttestation(args.count, args.by, since, until, origin)
    _store(settings).append(attestation)
    print(
        f"{args.count} complaints attested by {args.by} for "
        f"{iso(attestation.since)}..{iso(attestation.at)}"
    )
    return 0
