"""`cutover demo`, and the gate suite serial against `pytest -n 2` (xdist).

* `cutover demo` (installed: bytecode cached, the embedded Postgres template made): its wall
  clock against the 30 s target.
* Seeded gate runs (`--scenario healthy-rollout --as-of 2026-02-03T09:00:00Z`, a fresh evidence
  directory each), serial and with `-n 2`, alternating, `--runs` times each: the median wall
  clock of each mode, and whether the two give the same verdicts, the same JUnit properties of
  every criterion (read back with `tests/suite_runner.read_junit`), the same exit status, the
  same verdict line and the same ledger records (other than the checkpoint's own `at`). Cases:
  `tests/gates -m stage1_gate`, and every gate of the default test paths (no marker).

    .venv/bin/python bench/suite_bench.py [--runs 2] [--no-demo] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))

from run_all import Row, format_rows  # noqa: E402

from suite_runner import read_junit  # noqa: E402

AS_OF = "2026-02-03T09:00:00Z"
SCENARIO = "healthy-rollout"
DEMO_LIMIT_S = 30.0
PARALLEL_LIMIT = 1.0  # -n 2 over serial: not slower
# Run-specific text: pytest's temporary directories (per run, per xdist worker) and the local
# RLM simulator's port. Two serial runs differ there too, so both are normalised before comparing.
RUN_SPECIFIC = (
    (re.compile(r"/pytest-\d+/(popen-gw\d+/)?"), "/pytest-N/"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
)
CASES = {
    "stage1_gate": ["tests/gates", "-m", "stage1_gate"],
    "all gates": ["tests/prereqs", "tests/gates", "tests/rollback", "tests/router"],
}
# The target ("-n 2 over the gate suite is not slower") is the whole suite's. One stage alone is
# a ~2 s run: two workers' start-up (each imports pytest, numpy, psycopg and the suite, then
# scipy for its own statistics) costs more than its ~1 s of tests can save on 2 cores, so its
# wall clock is printed without a target; its verdicts and properties must still agree.
WALL_TARGET = {"stage1_gate": None, "all gates": PARALLEL_LIMIT}


@dataclass
class SuiteRun:
    wall: float
    exit_code: int
    verdict_line: str
    properties: dict[str, dict[str, str]]
    ledger: list[dict[str, Any]]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def normalise(text: str) -> str:
    for pattern, replacement in RUN_SPECIFIC:
        text = pattern.sub(replacement, text)
    return text


def run_suite(args: list[str], evidence: Path, parallel: bool) -> SuiteRun:
    junit = evidence / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *args,
        f"--scenario={SCENARIO}",
        f"--as-of={AS_OF}",
        f"--evidence-dir={evidence}",
        f"--junitxml={junit}",
        "-p",
        "no:cacheprovider",
        "-q",
        *(["-n", "2"] if parallel else []),
    ]
    began = time.perf_counter()
    completed = subprocess.run(
        command, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600
    )
    wall = time.perf_counter() - began
    lines = completed.stdout.rstrip().splitlines()
    ledger_file = evidence / "ledger.jsonl"
    ledger = [json.loads(line) for line in ledger_file.read_text().splitlines() if line.strip()]
    found = read_junit(junit) if junit.exists() else {}
    properties = {c: {k: normalise(v) for k, v in p.items()} for c, p in found.items()}
    return SuiteRun(wall, completed.returncode, lines[-1] if lines else "", properties, ledger)


def ledger_content(run: SuiteRun) -> list[str]:
    """The ledger's records without the chain hash and the checkpoint's wall-clock `at`, with
    the checkpoint's results as a sorted mapping (their order is the order tests finished)."""
    records = []
    for record in run.ledger:
        data = {k: v for k, v in record.items() if k not in ("prev", "hash")}
        if data.get("type") == "checkpoint":
            data.pop("at", None)
        records.append(normalise(json.dumps(data, sort_keys=True)))
    return sorted(records)


@dataclass
class Comparison:
    verdicts: list[str]  # criteria whose verdict differs (or that only one run decided)
    properties: list[str]  # criterion.property whose value differs
    other: list[str]  # exit status, verdict line, ledger

    @property
    def same(self) -> bool:
        return not (self.verdicts or self.properties or self.other)


def compare(serial: SuiteRun, parallel: SuiteRun) -> Comparison:
    a_all, b_all = serial.properties, parallel.properties
    verdicts = [
        criterion
        for criterion in sorted(a_all.keys() | b_all.keys())
        if a_all.get(criterion, {}).get("verdict") != b_all.get(criterion, {}).get("verdict")
    ]
    properties = []
    for criterion in sorted(a_all.keys() & b_all.keys()):
        a, b = a_all[criterion], b_all[criterion]
        for name in sorted(a.keys() | b.keys()):
            if a.get(name) != b.get(name):
                properties.append(f"{criterion}.{name}: {a.get(name)!r} != {b.get(name)!r}")
    other = []
    if serial.exit_code != parallel.exit_code:
        other.append(f"exit {serial.exit_code} != {parallel.exit_code}")
    if serial.verdict_line != parallel.verdict_line:
        other.append(
            "verdict line:\n      serial:   "
            + serial.verdict_line
            + "\n      parallel: "
            + parallel.verdict_line
        )
    if ledger_content(serial) != ledger_content(parallel):
        other.append("ledger records")
    return Comparison(verdicts, properties, other)


def time_demo(workdir: Path) -> tuple[float, int, str]:
    env = child_env()
    env["CUTOVER_EVIDENCE_DIR"] = str(workdir / "demo-evidence")
    cutover = Path(sys.executable).with_name("cutover")
    began = time.perf_counter()
    completed = subprocess.run(
        [str(cutover), "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    wall = time.perf_counter() - began
    lines = completed.stdout.rstrip().splitlines()
    return wall, completed.returncode, lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="runs of each mode per case")
    parser.add_argument("--no-demo", action="store_true", help="skip timing `cutover demo`")
    parser.add_argument("--json", type=Path, help="write the result rows here")
    args = parser.parse_args(argv)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="suite-bench-") as tmp:
        workdir = Path(tmp)
        if not args.no_demo:
            time_demo(workdir / "warm-up")  # the template and bytecode caches, as once installed
            wall, code, line = time_demo(workdir)
            print(f"cutover demo: {wall:.1f} s, exit {code}\n  {line}\n")
            rows.append(Row("demo: cutover demo", wall, DEMO_LIMIT_S, "s"))
        for case, case_args in CASES.items():
            serial: list[SuiteRun] = []
            parallel: list[SuiteRun] = []
            for index in range(args.runs):
                for mode, runs in (("serial", serial), ("n2", parallel)):
                    evidence = workdir / f"{case.replace(' ', '-')}-{mode}-{index}"
                    runs.append(run_suite(case_args, evidence, mode == "n2"))
            serial_s = statistics.median(run.wall for run in serial)
            parallel_s = statistics.median(run.wall for run in parallel)
            found = compare(serial[0], parallel[0])
            print(f"{case}: {' '.join(case_args)}")
            print(
                f"  serial {', '.join(f'{r.wall:.2f}' for r in serial)} s; "
                f"-n 2 {', '.join(f'{r.wall:.2f}' for r in parallel)} s; "
                f"{len(serial[0].properties)} criteria, exit {serial[0].exit_code}"
            )
            print(f"  {serial[0].verdict_line}")
            if found.same:
                print("  -n 2: the same verdicts, properties, exit status, verdict line and ledger")
            for diff in found.verdicts:
                print(f"  -n 2 differs: verdict of {diff}")
            for diff in found.properties + found.other:
                print(f"  -n 2 differs: {diff}")
            print()
            ratio = parallel_s / serial_s
            note = f"{parallel_s:.1f} s / {serial_s:.1f} s"
            rows += [
                Row(f"xdist ({case}): -n 2 / serial, wall", ratio, WALL_TARGET[case], "x", note),
                Row(f"xdist ({case}): criteria whose verdict differs", len(found.verdicts), 0, ""),
                Row(f"xdist ({case}): JUnit properties that differ", len(found.properties), 0, ""),
                Row(f"xdist ({case}): exit, verdict line, ledger differ", len(found.other), 0, ""),
            ]
    print("\n".join(format_rows(rows)))
    if args.json is not None:
        args.json.write_text(json.dumps([row.as_json() for row in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
