"""`cutover demo`: the rollout on the embedded default, step by step, as real pytest runs of the
gate suite that ships with the package (`cutover.suite`), so it works from any directory."""

from __future__ import annotations

import argparse
import os
import subprocess
from datetime import timedelta
from typing import Any

from cutover.cli.gate import pytest_command
from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.scenarios.model import load_scenario
from cutover.timeutil import iso

SUMMARY = "walk a seeded scenario through the prerequisites and stage 1's three checkpoints"
DESCRIPTION = (
    "Start an embedded Postgres seeded with a scenario (default healthy-rollout) and a local RLM "
    "simulator, then run the gate suite as real pytest runs: `pytest -m prereq` one hour before "
    "stage 1 starts, and `pytest -m stage1_gate` at +1 h and +6 h (the checkpoints that record "
    "the success rate) and at +24 h (the whole gate). Prints the prerequisites' and the last "
    "gate's criteria tables, writes the JUnit files, ledger.jsonl and report.md/report.html into "
    "the evidence directory, and ends with the last run's verdict line. The exit status is the "
    "worst of the prerequisites' and the +24 h gate's. Seeded evidence is never production "
    "evidence."
)


def add(commands: Any) -> None:
    demo = commands.add_parser("demo", help=SUMMARY, description=DESCRIPTION)
    demo.add_argument("--scenario", default=None, help="seeded scenario [env CUTOVER_SCENARIO]")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """The rollout on the embedded default: prerequisites, then stage 1's checkpoints.

    Each step is a real `pytest -m ...` run; the evidence (JUnit files, ledger) is left in the
    evidence directory. The last step's table and verdict line end the output."""
    evidence = settings.evidence_dir
    try:
        evidence.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"evidence directory {evidence}: cannot be created ({exc.strerror or exc}); "
            "expected a writable folder (--evidence-dir / CUTOVER_EVIDENCE_DIR)"
        ) from None
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
    worst, worst_verdict = 0, ""
    for marker, as_of, only, show in steps:
        command = pytest_command(
            marker,
            "-q",
            "--no-header",
            f"--as-of={iso(as_of)}",
            f"--junitxml={evidence / f'junit-{marker}-{as_of:%Y%m%dT%H%M}.xml'}",
        )
        if only:
            command += ["-k", only]
        print(f"\n$ pytest -m {marker} --as-of {iso(as_of)}" + (f" -k {only}" if only else ""))
        completed = subprocess.run(command, env=env, capture_output=True, text=True)
        lines = completed.stdout.rstrip().splitlines()
        verdict = lines[-1] if lines else "cutover verdict: HOLD — demo — the run printed nothing"
        print("\n".join(lines if show else lines[-1:]))
        if show and completed.returncode >= worst:
            worst, worst_verdict = completed.returncode, verdict
    from cutover.report import write_report

    written = write_report(evidence, None, profile=settings.profile)
    print(f"\nreport: {written.markdown} and {written.html} (`cutover verify` checks the evidence)")
    # the demo, like every run, ends with a verdict line that agrees with its exit status: the
    # worst step's (a prerequisite that held is not hidden by a stage 1 that passed)
    print(worst_verdict)
    return worst
