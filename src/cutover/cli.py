"""The `cutover` command: demo, stage start, rollback, attest complaints, seed, report, verify."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from cutover.config import Settings, resolve_settings
from cutover.errors import ConfigError
from cutover.ledger import Store
from cutover.ledger.records import ComplaintsAttestation, Rollback, StageStarted
from cutover.ledger.view import LedgerView
from cutover.paths import PROJECT_ROOT
from cutover.profile import Profile
from cutover.redact import redact_url
from cutover.scenarios.model import load_scenario
from cutover.scenarios.seed import seed_database
from cutover.timeutil import iso, parse_instant, utc_now


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text, what="--at")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cutover", description="Executable gates for the gradual-cutover runbook."
    )
    parser.add_argument(
        "--evidence-dir",
        type=Path,
        default=None,
        help="ledger and evidence [env CUTOVER_EVIDENCE_DIR]",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the prerequisites on an embedded, seeded Postgres")
    demo.add_argument("--scenario", default=None, help="seeded scenario [env CUTOVER_SCENARIO]")

    stage = commands.add_parser("stage", help="record a stage event in the ledger")
    stage_commands = stage.add_subparsers(dest="stage_command", required=True)
    start = stage_commands.add_parser("start", help="stage N started (percent is the stage's)")
    start.add_argument("number", type=int, choices=(1, 2, 3, 4))
    start.add_argument("--at", type=_instant, default=None, help="when (ISO 8601; default now)")

    rollback = commands.add_parser("rollback", help="record a rollback (percent 0) in the ledger")
    rollback.add_argument("--reason", required=True)
    rollback.add_argument("--at", type=_instant, default=None)

    attest = commands.add_parser("attest", help="record a human attestation in the ledger")
    attest_commands = attest.add_subparsers(dest="attest_command", required=True)
    complaints = attest_commands.add_parser(
        "complaints", help="import-failure complaints counted over since..at"
    )
    complaints.add_argument("--count", type=int, required=True)
    complaints.add_argument("--by", required=True)
    complaints.add_argument("--at", type=_instant, default=None)
    complaints.add_argument(
        "--since", type=_instant, default=None, help="default: the current stage's start"
    )

    seed = commands.add_parser("seed", help="load a scenario into a local Postgres")
    seed.add_argument("--scenario", required=True)
    seed.add_argument("--db-url", required=True, help="a local or embedded Postgres (admin role)")

    report = commands.add_parser("report", help="write report.md and report.html from evidence")
    report.add_argument("--evidence-dir", dest="sub_evidence_dir", type=Path, default=None)
    report.add_argument("--out", type=Path, default=None, help="default: the evidence dir")
    verify = commands.add_parser("verify", help="check the ledger chain, JUnit files and queries")
    verify.add_argument("--evidence-dir", dest="sub_evidence_dir", type=Path, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = resolve_settings(
            {"evidence_dir": str(args.evidence_dir) if args.evidence_dir else None}
        )
        return _dispatch(args, settings)
    except ConfigError as exc:
        print(f"cutover: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    evidence = settings.evidence_dir
    if args.command == "demo":
        return _demo(settings, args.scenario)
    if args.command == "stage":
        plan = Profile().stage(args.number)
        started = StageStarted(plan.number, plan.percent, args.at or utc_now())
        Store(evidence).append(started)
        print(f"stage {plan.number} started at {iso(started.at)} ({plan.percent}%)")
        return 0
    if args.command == "rollback":
        rollback = Rollback(args.reason, args.at or utc_now())
        Store(evidence).append(rollback)
        print(f"rollback recorded at {iso(rollback.at)}: {args.reason}")
        return 0
    if args.command == "attest":
        return _attest(evidence, args)
    if args.command in ("report", "verify"):
        return _evidence_command(args, args.sub_evidence_dir or evidence, settings)
    if args.command == "seed":
        scenario = load_scenario(args.scenario)
        result = seed_database(args.db_url, scenario)
        print(f"seeded {scenario.name}: {result.rows} rows into {redact_url(args.db_url)}")
        return 0
    raise AssertionError(args.command)


def _evidence_command(args: argparse.Namespace, evidence: Path, settings: Settings) -> int:
    """`report` and `verify` read the evidence; they live in their own modules."""
    if args.command == "verify":
        from cutover import verify

        return verify.main(evidence)
    from cutover.report import write_report

    written = write_report(evidence, args.out, profile=settings.profile)
    print(f"wrote {written.markdown} and {written.html}")
    print(written.evidence.verdict.line())
    return 0


def _attest(evidence: Path, args: argparse.Namespace) -> int:
    if args.count < 0:
        raise ConfigError(f"--count is {args.count}; expected 0 or more complaints")
    until = args.at or utc_now()
    since = args.since
    if since is None:
        # the live ledger's stage: a seeded scenario's records are not this rollout's
        current = LedgerView.load(evidence, until, target="live", scenario=None).current_stage()
        if current is None:
            raise ConfigError(
                "attest complaints: no stage has started in the ledger before --at; "
                "give --since explicitly"
            )
        since = current.started
    if since > until:
        raise ConfigError(f"--since {iso(since)} is after --at {iso(until)}")
    attestation = ComplaintsAttestation(args.count, args.by, since, until)
    Store(evidence).append(attestation)
    print(
        f"{args.count} complaints attested by {args.by} for "
        f"{iso(attestation.since)}..{iso(attestation.at)}"
    )
    return 0


def _demo(settings: Settings, scenario_name: str | None) -> int:
    """The rollout on the embedded default: prerequisites, then stage 1's checkpoints.

    Each step is a real `pytest -m ...` run; the evidence (JUnit files, ledger) is left in the
    evidence directory. The last step's table and verdict line end the output."""
    evidence = settings.evidence_dir
    evidence.mkdir(parents=True, exist_ok=True)
    scenario = load_scenario(scenario_name or settings.scenario)
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
