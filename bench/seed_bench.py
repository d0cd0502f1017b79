"""Seeding a scenario of 1M imports: `seed_database` time against its 10 s target.

Writes a scenario into a temporary directory: one year of traffic at the rate that makes
`--rows` imports (every request routed to v2, 1.5% failed, ~4 minute imports), loads it with
`load_scenario(name, directory=...)` and seeds a fresh embedded Postgres with
`seed_database(admin_dsn, scenario)`: schema, rows generated in Python and sent by COPY,
`sql/indexes.sql`, ANALYZE and the read-only role. Server start-up is not counted.

Also printed: drawing the imports alone (`import_outcomes`, no database: the random draws
that seeding then formats as COPY text), to show how much of the seeding is Python. One
server per run; the median of `--runs` runs is compared to the target.

    .venv/bin/python bench/seed_bench.py [--rows 1000000] [--runs 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run_all import Row, format_rows  # noqa: E402

SCENARIO = "seed-bench"
T0 = datetime(2026, 2, 2, 9, tzinfo=UTC)
HOURS = 365 * 24
LIMIT_S = 10.0

SCENARIO_TOML = """\
description = "seed bench: one year of imports before stage 1, every request routed to v2"
t0 = "{t0}"
as_of = "0h"
seed = 4242

[database]
background_users = 0

[[stage]]
stage = 1
at = "0h"

[[traffic]]
from = "-{hours}h"
to = "0h"
requests_per_hour = {rate!r}
v2_share_pct = 100
failure_pct = 1.5
errors = [
  "Pipeline failed: ValueError: Unsupported export format in user-imports/{{user}}/raw.json",
  "Pipeline failed: JSONDecodeError: Invalid JSON in conversations file",
]
duration_minutes = 4.0
duration_sigma = 0.45
"""


def write_scenario(directory: Path, rows: int) -> Path:
    """The scenario file; its rate makes `rows` imports over the year."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{SCENARIO}.toml"
    text = SCENARIO_TOML.format(
        t0=T0.strftime("%Y-%m-%dT%H:%M:%SZ"), hours=HOURS, rate=rows / HOURS
    )
    path.write_text(text)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="imports to seed")
    parser.add_argument("--runs", type=int, default=3, help="seedings, one server each")
    parser.add_argument("--json", type=Path, help="write the result rows here")
    args = parser.parse_args(argv)

    from cutover.scenarios.generate import import_outcomes
    from cutover.scenarios.model import load_scenario
    from cutover.scenarios.seed import seed_database
    from cutover.targets.embedded import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="seed-bench-") as workdir:
        directory = write_scenario(Path(workdir) / "scenarios", args.rows).parent
        scenario = load_scenario(SCENARIO, directory=directory)

        began = time.perf_counter()
        generated = sum(1 for _ in import_outcomes(scenario))
        generate_s = time.perf_counter() - began

        seeds: list[float] = []
        counted = 0
        for _ in range(args.runs):
            with embedded_postgres(Path(workdir)) as admin_dsn:
                began = time.perf_counter()
                result = seed_database(admin_dsn, scenario, until=scenario.t0)
                seeds.append(time.perf_counter() - began)
                counted = result.rows

    seed_s = statistics.median(seeds)
    print(
        f"scenario {SCENARIO}: {counted:,} rows over {HOURS // 24} days "
        f"({args.rows / HOURS:.2f} imports/hour, all v2)"
    )
    print(f"seed_database: {', '.join(f'{s:.2f}' for s in seeds)} s (median {seed_s:.2f} s)")
    print(
        f"drawing the imports alone (import_outcomes, no database): {generate_s:.2f} s "
        f"for {generated:,} imports ({generate_s / seed_s:.0%} of the seeding)"
    )
    print()
    rows = [
        Row(f"seed: seed_database, {counted / 1e6:.3g}M rows", seed_s, LIMIT_S, "s"),
        Row("seed: drawing the imports alone (no database)", generate_s, None, "s"),
    ]
    print("\n".join(format_rows(rows)))
    if args.json is not None:
        args.json.write_text(json.dumps([row.as_json() for row in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
