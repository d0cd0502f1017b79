"""Read the evidence a run left: `report` (Markdown and HTML) and `verify` (the checks)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cutover.cli.options import add_evidence_dir, evidence_dir
from cutover.config import Settings


def add(commands: Any) -> None:
    report = commands.add_parser("report", help="write report.md and report.html from evidence")
    add_evidence_dir(report)
    report.add_argument("--out", type=Path, default=None, help="default: the evidence dir")
    report.set_defaults(run=report_command)
    verify = commands.add_parser("verify", help="check the ledger chain, JUnit files and queries")
    add_evidence_dir(verify)
    verify.set_defaults(run=verify_command)


def report_command(args: argparse.Namespace, settings: Settings) -> int:
    from cutover.report import write_report  # matplotlib: only when a report is written

    written = write_report(evidence_dir(args, settings), args.out, profile=settings.profile)
    print(f"wrote {written.markdown} and {written.html}")
    print(written.evidence.verdict.line())
    return 0


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    from cutover import verify

    return verify.main(evidence_dir(args, settings))
