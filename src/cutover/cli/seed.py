"""Load a scenario into a local Postgres (never a remote one)."""

from __future__ import annotations

import argparse
from typing import Any

import psycopg

from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.gate import one_line
from cutover.redact import dsn_secrets, redact_url, register_secrets
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
    register_secrets(dsn_secrets(args.db_url))  # before any message can show the password
    scenario = load_scenario(args.scenario)
    try:
        result = seed_database(args.db_url, scenario)
    except psycopg.OperationalError as exc:
        raise ConfigError(
            f"seed: --db-url {redact_url(args.db_url)}: cannot connect ({one_line(exc)}); "
            "expected a running local Postgres that accepts this role and password"
        ) from None
    print(f"seeded {scenario.name}: {result.rows} rows into {redact_url(args.db_url)}")
    return 0
