"""Argument types the subcommands share."""

from __future__ import annotations

import argparse
from datetime import datetime

from cutover.timeutil import parse_instant


def instant(text: str) -> datetime:
    """An ISO 8601 instant (`--at`, `--since`), or a usage error naming the value."""
    try:
        return parse_instant(text, what="--at")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
