"""`cutover demo`: the rollout on the embedded default, step by step, as real pytest runs."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

from cutover.config import Settings
from cutover.paths import PROJECT_ROOT
from cutover.scenarios.model import load_scenario
from cutover.timeutil import iso


def add(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run the prerequisites on an embedded, seeded Postgres")
    demo.add_argument("--scenario", default=None, help="seeded scenario [env CUTOVER_SCENARIO]")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """The rollout on the embedded default: prerequisites, then stage 1's checkpoints.

    Each step is a real `pytest -m ...` run; the evidence (JUnit files, ledger) is left in the
    evidence directory. The last step's table and verdict line end the output."""
    evidence = settings.evidence_dir
    evidence.mkdir(parents=True, exist_ok=True)
    scenario = load_scenario(args.scenario or settings.scenario)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env["CUTOVER_EVIDENCE_DIR"] = str(evidence.resolve())
    env["CUTOVER_SCENARIO"] = scenario.name
    stage1 = scenario.stages[0].at if scenario.stages else timedelta(0)
    steps = [
        ("prereq", scenario.at(stage1 - timedelta(hours=1)), None, True),
        ("stage1_gate", scenario.at(stage1 + timedelta(hours=1)), "success_rate", False),
        ("stage1_gate", scenario.at(stage1 + timedelta(hours=6)), "success_rate", False),
        ("stage1_gate", scenario.at(stage1 + timedelta(hours=24)), None, True),
    ]
    print(
        f"cutover demo: scenario {scenario.name!r} on an embedded Postgres; evidence in {evidence}"
    )
    worst = 0
    last_verdict = ""
    for marker, as_of, only, show in steps:
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(PROJECT_ROOT / ("tests/prereqs" if marker == "prereq" else "tests/gates")),
            "-m",
            marker,
            "-p",
            "no:cacheprovider",
            "-q",
            "--no-header",
            f"--as-of={iso(as_of)}",
            f"--junitxml={evidence / f'junit-{marker}-{as_of:%Y%m%dT%H%M}.xml'}",
            "--rootdir",
            str(PROJECT_ROOT),
        ]
        if only:
            command += ["-k", only]
        print(f"\n$ pytest -m {marker} --as-of {iso(as_of)}" + (f" -k {only}" if only else ""))
        completed = subprocess.run(
            command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
        )
        lines = completed.stdout.rstrip().splitlines()
        last_verdict = (
            lines[-1] if lines else "cutover verdict: HOLD — demo — the run printed nothing"
        )
        print("\n".join(lines if show else lines[-1:]))
        if show:
            worst = max(worst, completed.returncode)
    from cutover.report import write_report

    written = write_report(evidence, None, profile=settings.profile)
    print(f"\nreport: {written.markdown} and {written.html} (`cutover verify` checks the evidence)")
    print(last_verdict)  # the demo, like every run, ends with the verdict line
    return worst
