"""Read the evidence a run left: `report` (Markdown and HTML) and `verify` (the checks)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cutover.cli.options import add_evidence_dir, evidence_dir
from cutover.config import Settings


def add(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="write report.md and report.html from an evidence directory",
        description=(
            "Read the evidence directory (JUnit files, ledger) and write report.md and "
            "report.html: the verdicts the runs recorded, per checkpoint, with charts. It "
            "decides nothing again. Prints the latest verdict line."
        ),
    )
    add_evidence_dir(report)
    report.add_argument("--out", type=Path, default=None, help="default: the evidence dir")
    report.set_defaults(run=report_command)
    verify = commands.add_parser(
        "verify",
        help="check the ledger chain, JUnit files and queries; exit 1 on any finding",
        description=(
            "Check that the evidence still says what the runs wrote: the ledger's hash chain "
            "and its anchor ledger.head, every JUnit file against the ledger's checkpoints, and "
            "every recorded query hash against the query files. Prints each finding and a "
            "summary; exits 1 when anything does not hold."
        ),
    )
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

    return verify.main(evidence_dir(args, settings), settings)
