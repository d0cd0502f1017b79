"""`cutover status [--as-of T] [--db] [--format text|markdown|json] [--scenario S]`: where the
rollout stands, from the ledger and the profile. It reads the live target's records, or with
`--scenario` a seeded scenario's (like `cutover classify`). The ledger is verified first, every
record of the target parsed, its head's signatures checked as `cutover verify` checks them when
the settings give a key: a ledger that is absent or does not verify is one line and exit 2, never
a status. Exit 1: the status was printed and its next step is a rollback (any run of the stage
asked for one); 0: any other next step."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from cutover.cli.options import instant
from cutover.config import Settings
from cutover.errors import ConfigError, SourceUnavailable
from cutover.gate import one_line
from cutover.ledger import Store
from cutover.ledger.signing import checker_for
from cutover.ledger.view import LedgerView
from cutover.outcome import Window
from cutover.redact import dsn_secrets, redact_url, register_secrets
from cutover.status import FORMATS, LiveStream, StatusInputs, build_status, render
from cutover.timeutil import iso, utc_now


def add(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="where the rollout stands, what is due, missing, and the next step",
        description=(
            "Read the ledger as of --as-of (default now) and say where the rollout stands: the "
            "stage, its checkpoints done, due, missed or upcoming, what the gate still lacks "
            "(attestations, unclassified signatures, unset sources, samples) and the one next "
            "step. It records nothing; --db adds the database's live counts."
        ),
    )
    status.add_argument(
        "--as-of", type=instant, default=None, help="the instant (ISO 8601; default now)"
    )
    status.add_argument(
        "--db", action="store_true", help="add live counts from the database (the gate's)"
    )
    status.add_argument(
        "--db-url", default=None, help="the database --db reads [env CUTOVER_DATABASE_URL]"
    )
    status.add_argument("--format", choices=FORMATS, default="text")
    status.add_argument(
        "--scenario", default=None, help="a seeded scenario's records instead of the live ones"
    )
    status.set_defaults(run=status_command)


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    as_of = args.as_of or settings.as_of or utc_now()
    explicit = args.as_of is not None or settings.as_of is not None
    skew = timedelta(minutes=settings.profile.clock_skew_minutes)
    if as_of > utc_now() + skew:
        raise ConfigError(
            f"status: --as-of {iso(as_of)} is after the clock's {iso(utc_now())}; expected an "
            "instant that has passed"
        )
    target = "live" if args.scenario is None else "seeded"
    store = Store(settings.evidence_dir)
    if not store.path.exists():
        raise ConfigError(
            f"status: no ledger at {store.path}: nothing is recorded yet (or "
            "CUTOVER_EVIDENCE_DIR names another directory); start with `pytest -m prereq`"
        )
    # the store checks the head's signature, as for every reader: a failing one is no status
    check = checker_for(settings)
    view = LedgerView.load(
        settings.evidence_dir, as_of, target=target, scenario=args.scenario, check=check
    )
    for entry in view.records:
        entry.parse()  # a record that does not fit its schema: RecordInvalid, never a status
    live = _live_stream(settings, view, args) if args.db else None
    inputs = StatusInputs(
        view,
        settings.profile,
        target,
        args.scenario,
        explicit_as_of=explicit,
        sources=source_problems(settings) if target == "live" else {},
        live=live,
    )
    status = build_status(inputs)
    sys.stdout.write(render(status, args.format))
    return 1 if status.asks_rollback else 0


def source_problems(settings: Settings) -> dict[str, str]:
    """What is wrong with each source setting a live gate run reads: unset, or naming an export
    that does not exist. A seeded run has all of them from its scenario. An export a gate run
    fetches from a platform (`sources.platform.fetch.wanted`) is supplied."""
    from cutover.sources.platform.fetch import wanted

    fetched = wanted(settings)
    problems = {}
    for name in ("database_url", "router_logs", "rlm_logs", "rlm_metrics", "rlm_local_url"):
        value = getattr(settings, name)
        if value is None and name in fetched:
            continue
        if value is None:
            problems[name] = "is not set"
        elif isinstance(value, Path) and not value.exists():
            problems[name] = f"names {value}, which does not exist"
    return problems


def _live_stream(settings: Settings, view: LedgerView, args: argparse.Namespace) -> LiveStream:
    """`--db`: the stage's settled imports to the instant, read through the gates' query."""
    from cutover.sources import imports
    from cutover.sources.database import Database, connect

    current = view.current_stage()
    if current is None:
        raise ConfigError("status --db: no stage is in force at the instant: nothing to count")
    window = Window(current.started, view.as_of)
    profile = settings.profile
    with _database_dsn(settings, args, view) as (dsn, named):
        try:
            session = connect(
                dsn,
                statement_timeout_ms=profile.statement_timeout_ms,
                connect_timeout_seconds=profile.connect_timeout_seconds,
            )
            with session:
                database = Database(session)
                counts = imports.read_success(database, window, profile.stuck_after_minutes)
        except SourceUnavailable as exc:
            raise ConfigError(
                f"status --db: {named}: {one_line(exc)}; expected a reachable database that "
                "accepts this role"
            ) from None
    return LiveStream(counts.settled, current.started, view.as_of)


@contextmanager
def _database_dsn(
    settings: Settings, args: argparse.Namespace, view: LedgerView
) -> Iterator[tuple[str, str]]:
    """The database a gate run would read, and how a message names it: the live one
    (`--db-url`, else CUTOVER_DATABASE_URL), or the seeded scenario's (started and seeded here
    as of the instant, then removed)."""
    if args.scenario is None:
        if args.db_url is not None:
            register_secrets(dsn_secrets(args.db_url))  # before any message can show it
            yield args.db_url, f"--db-url {redact_url(args.db_url)}"
            return
        if settings.database_url is None:
            raise ConfigError(
                "status --db: neither --db-url nor CUTOVER_DATABASE_URL is set; expected the "
                "live database (or --scenario S for a seeded one)"
            )
        url = settings.database_url
        yield url, f"CUTOVER_DATABASE_URL {redact_url(url)}"
        return
    from cutover.scenarios.model import load_scenario
    from cutover.targets.select import open_database_target

    with open_database_target(settings, load_scenario(args.scenario), until=view.as_of) as target:
        yield target.dsn, f"the seeded scenario {args.scenario}'s database"
