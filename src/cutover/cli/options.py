"""Argument types the subcommands share."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.ledger.records import LIVE, Origin
from cutover.scenarios.model import available_scenarios
from cutover.timeutil import parse_instant


def instant(text: str) -> datetime:
    """An ISO 8601 instant (`--at`, `--since`), or a usage error naming the value."""
    try:
        return parse_instant(text, what="--at")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def command_group(commands: Any, name: str, summary: str, description: str) -> Any:
    """`cutover NAME ACTION`: a command whose actions are subcommands; returns their group."""
    group = commands.add_parser(name, help=summary, description=description)
    return group.add_subparsers(dest=f"{name}_command", required=True)


def add_evidence_dir(parser: Any) -> None:
    """A subcommand's own `--evidence-dir` (`cutover verify --evidence-dir E`), beside the
    top-level one."""
    parser.add_argument(
        "--evidence-dir",
        dest="sub_evidence_dir",
        type=Path,
        default=None,
        help="ledger and evidence [env CUTOVER_EVIDENCE_DIR]",
    )


def evidence_dir(args: argparse.Namespace, settings: Settings) -> Path:
    """The subcommand's `--evidence-dir`, else the resolved setting."""
    chosen: Path = getattr(args, "sub_evidence_dir", None) or settings.evidence_dir
    return chosen


def origin_for(scenario: str | None) -> Origin:
    """`--scenario`: the live target, or a seeded scenario that exists (a misspelt one is
    refused: its records would belong to no timeline any gate reads)."""
    if scenario is None:
        return LIVE
    known = available_scenarios()
    if scenario not in known:
        raise ConfigError(
            f"--scenario {scenario!r}: no such seeded scenario; known: {', '.join(known)}"
        )
    return Origin.seeded(scenario)
