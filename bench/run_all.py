"""Run every performance bench and print one table of ratios and bounds against their targets.

Each bench runs in its own process (`--json` collects its rows); their own tables and
breakdowns are printed as they go, and the summary comes last:

    .venv/bin/python bench/run_all.py [--only router_log,gate,seed,suite,fetch] [--quick]
        [--make-test]

`--quick` runs smaller cases (256 MB router logs, no 10M-row table) for a fast look;
`--make-test` also times `make test` (several minutes; its target is 3 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BENCHES = ("router_log", "gate", "seed", "suite", "fetch")
MAKE_TEST_LIMIT_S = 180.0


@dataclass(frozen=True)
class Row:
    """One line of a results table: a measured value against its target (None: no target)."""

    name: str
    value: float
    limit: float | None
    unit: str
    note: str = ""

    @property
    def ok(self) -> bool | None:
        return None if self.limit is None else self.value <= self.limit

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        return cls(data["name"], data["value"], data["limit"], data["unit"], data.get("note", ""))


def format_rows(rows: list[Row]) -> list[str]:
    """The table: measure, value, target, PASS / OVER TARGET (or nothing without a target)."""
    width = max([62, *(len(row.name) for row in rows)])
    header = f"{'measure':<{width}} {'value':>9} {'target':>9}  result"
    lines = [header, "-" * len(header)]
    for row in rows:
        value = f"{row.value:.2f}{row.unit}"
        limit = "-" if row.limit is None else f"<={row.limit:g}{row.unit}"
        mark = "" if row.ok is None else ("PASS" if row.ok else "OVER TARGET")
        note = f"  ({row.note})" if row.note else ""
        lines.append(f"{row.name:<{width}} {value:>9} {limit:>9}  {mark}{note}")
    return lines


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_bench(name: str, quick: bool, out: Path) -> list[Row] | None:
    """The bench's rows; None when it failed."""
    command = [sys.executable, str(BENCH / f"{name}_bench.py"), "--json", str(out)]
    if quick and name == "gate":
        command += ["--large-rows", "0", "--log-mb", "256"]
    if quick and name == "suite":
        command += ["--runs", "1"]
    if quick and name == "router_log":
        command += ["--size-mb", "256"]
    if quick and name == "fetch":
        command += ["--lines", "200000"]
    print(f"\n=== {name}_bench.py {' '.join(command[3:])}", flush=True)
    completed = subprocess.run(command, cwd=ROOT, env=child_env(), check=False)
    if completed.returncode != 0 or not out.exists():
        print(f"{name}_bench.py failed ({completed.returncode})", flush=True)
        return None
    return [Row.from_json(data) for data in json.loads(out.read_text())]


def time_make_test() -> list[Row]:
    print("\n=== make test", flush=True)
    began = time.perf_counter()
    completed = subprocess.run(
        ["make", "test"], cwd=ROOT, env=child_env(), capture_output=True, text=True, check=False
    )
    took = time.perf_counter() - began
    tail = (completed.stdout + completed.stderr).rstrip().splitlines()[-1:]
    print("\n".join(tail))
    note = "" if completed.returncode == 0 else f"exit {completed.returncode}"
    return [
        Row(
            "make test (lint, types, unit and integration tests)",
            took,
            MAKE_TEST_LIMIT_S,
            "s",
            note,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated benches")
    parser.add_argument("--quick", action="store_true", help="smaller cases")
    parser.add_argument("--make-test", action="store_true", help="also time `make test`")
    args = parser.parse_args(argv)

    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BENCHES))
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    began = time.perf_counter()
    rows: list[Row] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        for name in names:
            found = run_bench(name, args.quick, Path(workdir) / f"{name}.json")
            if found is None:
                failed.append(name)
            else:
                rows += found
    if args.make_test:
        rows += time_make_test()

    print(f"\n=== summary ({time.perf_counter() - began:.0f} s, {os.cpu_count()} cores)")
    print("\n".join(format_rows(rows)))
    over = [row for row in rows if row.ok is False]
    print(f"\n{len(over)} of {sum(row.ok is not None for row in rows)} targets over.")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
