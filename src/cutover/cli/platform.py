"""Read the platforms without measuring: `fetch` (snapshots for a window, as a gate run would
take them) and `drain serve` (the Vercel log-drain receiver)."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from typing import Any

import uvicorn

from cutover.cli.options import command_group, instant
from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.evidence.verdict import EXIT_INCONCLUSIVE
from cutover.ledger import LedgerBroken
from cutover.ledger.records import Origin
from cutover.ledger.view import LedgerView
from cutover.redact import redact_text
from cutover.sources.platform.drain import DrainStore, drain_app
from cutover.sources.platform.fetch import fetch_platforms, fetch_window, wanted
from cutover.timeutil import iso, utc_now

NOTHING_CONFIGURED = (
    "no platform source is configured: set RENDER_API_KEY, CUTOVER_RENDER_SERVICE and "
    "CUTOVER_RENDER_OWNER (RLM logs, metrics), VERCEL_TOKEN and CUTOVER_VERCEL_PROJECT (the "
    "rollout percent; router logs with the `vercel` CLI), or CUTOVER_DRAIN_STORE (router logs); "
    "see README, 'Pointing it at a live system'"
)


def add(commands: Any) -> None:
    fetch = commands.add_parser(
        "fetch",
        help="read the platforms for a window into snapshots, without measuring",
        description=(
            "Read what a gate run's window needs from the configured platforms (Render, Vercel, "
            "the drain store) into the evidence directory's snapshots, with a snapshot record "
            "in the ledger each; no criterion is decided. Exit 6 when a source was unavailable."
        ),
    )
    fetch.add_argument("--as-of", type=instant, default=None, help="the instant (default now)")
    fetch.add_argument(
        "--stage", type=int, choices=(1, 2, 3, 4), default=None, help="the stage whose window"
    )
    fetch.set_defaults(run=run_fetch)
    drain_commands = command_group(
        commands,
        "drain",
        "the Vercel log-drain receiver",
        "The receiver a Vercel log drain delivers the router's logs to.",
    )
    serve = drain_commands.add_parser(
        "serve",
        help="receive signed drain deliveries into CUTOVER_DRAIN_STORE",
        description=(
            "Serve the drain endpoint over HTTP: each delivery whose x-vercel-signature matches "
            "VERCEL_DRAIN_SECRET is stored in CUTOVER_DRAIN_STORE, where gate runs read the "
            "router's logs; unsigned deliveries are refused."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument(
        "--verify",
        default=None,
        help="the endpoint verification code Vercel shows [env VERCEL_DRAIN_VERIFY]",
    )
    serve.set_defaults(run=run_drain)


def run_fetch(args: argparse.Namespace, settings: Settings) -> int:
    if not wanted(settings):
        raise ConfigError(NOTHING_CONFIGURED)
    as_of = args.as_of or settings.as_of or utc_now()
    skew = timedelta(minutes=settings.profile.clock_skew_minutes)
    if as_of > utc_now() + skew:
        raise ConfigError(f"--as-of {iso(as_of)} is after the clock; expected a past instant")
    origin = Origin() if settings.live else Origin.seeded(settings.scenario)
    try:
        view = LedgerView.load(
            settings.evidence_dir, as_of, target=origin.target, scenario=origin.scenario
        )
    except LedgerBroken as exc:
        raise ConfigError(f"the ledger does not verify ({exc}); run `cutover verify`") from None
    stages = () if args.stage is None else (args.stage,)
    window = fetch_window(view, settings.profile, as_of, stages)
    print(f"cutover fetch: {iso(window.start)}..{iso(window.end)} ({origin.target})")
    snapshots = fetch_platforms(settings, window, origin)
    for record in snapshots:
        if record.problem:
            print(f"  {record.source}: unavailable: {redact_text(record.problem)}")
        else:
            print(
                f"  {record.source}: {record.lines} lines in {record.pages} requests: {record.path}"
            )
    return EXIT_INCONCLUSIVE if any(record.problem for record in snapshots) else 0


def run_drain(args: argparse.Namespace, settings: Settings) -> int:
    if settings.drain_secret is None:
        raise ConfigError(
            "VERCEL_DRAIN_SECRET is not set: the receiver checks each delivery's "
            "x-vercel-signature with the drain's secret, and stores nothing unsigned"
        )
    if settings.drain_store is None:
        raise ConfigError("CUTOVER_DRAIN_STORE is not set: the directory the receiver writes")
    verify = args.verify if args.verify is not None else os.environ.get("VERCEL_DRAIN_VERIFY")
    store = DrainStore(settings.drain_store)
    print(
        f"cutover drain: receiving on http://{args.host}:{args.port}, storing into "
        f"{settings.drain_store} (GET /health)"
    )
    cap = settings.profile.drain_max_body_bytes
    app = drain_app(store, settings.drain_secret, verify or None, max_body=cap)
    uvicorn.run(app, host=args.host, port=args.port)
    return 0
