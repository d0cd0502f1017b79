"""Load a scenario into a local Postgres (never a remote one)."""

from __future__ import annotations

import argparse
from typing import Any

from cutover.config import Settings
from cutover.redact import redact_url
from cutover.scenarios.model import load_scenario
from cutover.scenarios.seed import seed_database


def add(commands: Any) -> None:
    seed = commands.add_parser(
        "seed",
        help="load a scenario into a local Postgres",
        description=(
            "Create the schema and load a scenario's rows (fixtures/scenarios) into the "
            "Postgres at --db-url with an admin role. Refuses any database that is not local."
        ),
    )
    seed.add_argument("--scenario", required=True)
    seed.add_argument("--db-url", required=True, help="a local or embedded Postgres (admin role)")
    seed.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    scenario = load_scenario(args.scenario)
    result = seed_database(args.db_url, scenario)
    print(f"seeded {scenario.name}: {result.rows} rows into {redact_url(args.db_url)}")
    return 0
