"""`cutover waive` and `cutover invalidate`: a person's decision about the evidence, kept in the
ledger (signed like every record when signing is configured).

- `waive CRITERION`: later runs report that criterion's failure as `waived` (`cutover.overrides`
  says exactly when a waiver is in force). A rollback trigger needs --force; an unknown id is
  refused.
- `invalidate LINE`: the checkpoint record at that ledger line is set aside (it stays in the
  chain); criteria that span checkpoints ignore it and say so. Only a checkpoint record can be
  set aside, and only once; one in which a rollback trigger failed needs --force.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from cutover.cli.options import instant, origin_for
from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.ledger import Store
from cutover.ledger.records import Checkpoint, Entry, Invalidation, Waiver
from cutover.ledger.signing import store_for
from cutover.outcome import is_rollback_trigger
from cutover.overrides import tripped_triggers, waiver_problem
from cutover.timeutil import iso, utc_now


def add(commands: Any) -> None:
    waive = commands.add_parser(
        "waive",
        help="accept a criterion's failure: later runs report it as waived",
        description=(
            "Append a waiver record: later runs measuring an instant while it is in force "
            "report the criterion's measured failure as waived (never a pass; an inconclusive "
            "result stays inconclusive). A rollback trigger needs --force."
        ),
    )
    waive.add_argument("criterion", help="the criterion id, e.g. stage1.duration")
    waive.add_argument("--reason", required=True, help="why the failure is accepted")
    waive.add_argument("--by", required=True, help="who accepts it")
    waive.add_argument("--until", type=instant, default=None, help="when it expires (ISO 8601)")
    waive.add_argument(
        "--checkpoint",
        type=int,
        default=None,
        metavar="LINE",
        help="only for runs re-deciding the checkpoint record at this ledger line",
    )
    waive.add_argument(
        "--force", action="store_true", help="waive a rollback trigger (marked as forced)"
    )
    waive.add_argument(
        "--at",
        type=instant,
        default=None,
        help="when (ISO 8601; default now; live: not before now, beyond the clock skew allowance)",
    )
    waive.add_argument(
        "--scenario", default=None, help="for a seeded scenario's runs instead of the live target"
    )
    waive.set_defaults(run=record_waiver)

    invalidate = commands.add_parser(
        "invalidate",
        help="set a checkpoint record aside (it stays in the chain)",
        description=(
            "Append an invalidation record: the checkpoint record at ledger line LINE stays in "
            "the chain, but the criteria that read earlier checkpoints ignore it from then on."
        ),
    )
    invalidate.add_argument("line", type=int, help="the checkpoint record's ledger line")
    invalidate.add_argument("--reason", required=True, help="why it cannot be trusted")
    invalidate.add_argument("--by", required=True, help="who sets it aside")
    invalidate.add_argument("--at", type=instant, default=None, help="when (ISO 8601)")
    invalidate.add_argument(
        "--force",
        action="store_true",
        help="set aside a checkpoint in which a rollback trigger failed (marked as forced)",
    )
    invalidate.set_defaults(run=record_invalidation)


def _required(command: str, **values: str) -> None:
    for name, value in values.items():
        if not value.strip():
            raise ConfigError(f"{command}: --{name} is empty; expected text")


def _checkpoint(store: Store, line: int, command: str) -> tuple[Checkpoint, list[Entry]]:
    """The checkpoint record at ledger line `line` (and every record); anything else refused."""
    entries = store.read()
    entry = next((e for e in entries if e.line == line), None)
    if entry is None:
        raise ConfigError(
            f"{command}: {store.path} has no line {line} (it holds {len(entries)} records)"
        )
    record = entry.parse()
    if not isinstance(record, Checkpoint):
        kind = "/".join(filter(None, (entry.type, str(entry.data.get("kind") or ""))))
        raise ConfigError(
            f"{command}: line {line} of {store.path} is a {kind} record, not a checkpoint"
        )
    return record, entries


def record_waiver(args: argparse.Namespace, settings: Settings) -> int:
    _required("waive", reason=args.reason, by=args.by)
    problem = waiver_problem(args.criterion, force=args.force)
    if problem:
        raise ConfigError(f"waive: {problem}")
    at = args.at or utc_now()
    if args.until is not None and args.until <= at:
        raise ConfigError(f"waive: --until {iso(args.until)} is not after {iso(at)}")
    store = store_for(settings)
    origin = origin_for(args.scenario)
    if args.checkpoint is not None:
        checkpoint, _ = _checkpoint(store, args.checkpoint, "waive")
        if checkpoint.result(args.criterion) is None:
            raise ConfigError(
                f"waive: the checkpoint at line {args.checkpoint} holds no result of "
                f"{args.criterion}"
            )
        origin = checkpoint.origin
    if origin.live and args.at is not None:
        _check_not_backdated(args.at, settings)
    forced = args.force and is_rollback_trigger(args.criterion)
    waiver = Waiver(
        args.criterion, args.reason, args.by, at, args.until, args.checkpoint, forced, origin
    )
    store.append(waiver)
    head = store.head()
    until = f" until {iso(args.until)}" if args.until is not None else ""
    scope = f" for checkpoint line {args.checkpoint}" if args.checkpoint is not None else ""
    print(
        f"waived {args.criterion} by {args.by}{until}{scope}{' (forced)' if forced else ''}: "
        f"{args.reason} (from {iso(at)}, ledger line {head.line if head else '?'})"
    )
    return 0


def _check_not_backdated(at: datetime, settings: Settings) -> None:
    """A live waiver dated before now would cover backfills of instants measured before anybody
    accepted the failure (seeded scenarios keep `--at`: their timelines are made up)."""
    allowance = timedelta(minutes=settings.profile.clock_skew_minutes)
    now = utc_now()
    if at < now - allowance:
        raise ConfigError(
            f"waive: --at {iso(at)} is before the clock's {iso(now)} (allowance "
            f"{settings.profile.clock_skew_minutes:g} min); a live waiver is in force from when "
            "it is recorded: leave --at out"
        )


def record_invalidation(args: argparse.Namespace, settings: Settings) -> int:
    _required("invalidate", reason=args.reason, by=args.by)
    store = store_for(settings)
    checkpoint, entries = _checkpoint(store, args.line, "invalidate")
    for entry in entries:
        earlier = entry.parse()
        if isinstance(earlier, Invalidation) and earlier.checkpoint == args.line:
            raise ConfigError(
                f"invalidate: line {args.line} was set aside already (line {entry.line}, by "
                f"{earlier.by}: {earlier.reason})"
            )
    tripped = tripped_triggers(checkpoint)
    if tripped and not args.force:
        raise ConfigError(
            f"invalidate: rollback trigger(s) {', '.join(tripped)} failed in the checkpoint at "
            f"line {args.line}: setting it aside is refused unless --force is given (as for a "
            "waiver of a trigger; the report then holds until the selection is measured again)"
        )
    at = args.at or utc_now()
    forced = bool(tripped)
    store.append(Invalidation(args.line, args.reason, args.by, at, checkpoint.origin, forced))
    print(
        f"set aside checkpoint line {args.line} ({checkpoint.selection} as of "
        f"{iso(checkpoint.as_of)}) by {args.by}{' (forced)' if forced else ''}: {args.reason}"
    )
    return 0
