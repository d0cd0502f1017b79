"""The `cutover` command. Each group of subcommands lives in its own module, which adds its
parsers and the function each one runs; `main` parses, resolves the settings once, and turns bad
input (a ConfigError: a setting, an unwritable evidence directory, a database that refuses the
connection) or an unreadable ledger (a SourceUnavailable: its chain or anchor broken, the file
unreadable) into one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cutover.cli import (
    classify,
    demo,
    durable,
    evidence,
    gate,
    platform,
    records,
    seed,
    status,
    waivers,
)
from cutover.config import resolve_settings
from cutover.errors import ConfigError, SourceUnavailable
from cutover.redact import redact_text

#: the modules that add subcommands, in the order `cutover --help` lists them
COMMAND_MODULES = (
    demo,
    gate,
    records,
    classify,
    status,
    waivers,
    seed,
    evidence,
    durable,
    platform,
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="cutover",
        description=(
            "Executable gates for the gradual-cutover runbook. The gates themselves are pytest "
            "runs (`pytest -m stage1_gate` in a checkout, `cutover gate stage1_gate` anywhere); "
            "these commands run the demo, record what people do in the ledger, seed a local "
            "database, report and verify the evidence, and keep it on a git branch."
        ),
    )
    top.add_argument(
        "--evidence-dir",
        type=Path,
        default=None,
        help="ledger and evidence [env CUTOVER_EVIDENCE_DIR]",
    )
    commands = top.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.add(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = resolve_settings(
            {"evidence_dir": str(args.evidence_dir) if args.evidence_dir else None}
        )
        status: int = args.run(args, settings)
        return status
    except (ConfigError, SourceUnavailable) as exc:
        print(f"cutover: {redact_text(str(exc))}", file=sys.stderr)
        return 2
