"""`cutover gate MARKER`: one gate run of the suite that ships with the package (`cutover.suite`),
so an installed cutover runs its gates from any directory, without a checkout."""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from cutover.config import Settings
from cutover.paths import suite_dir
from cutover.pytest_plugin import GATE_MARKERS

#: the suite folder holding each marker's tests
FOLDERS = {
    "prereq": "prereqs",
    "rollback": "rollback",
    "rollback_verify": "rollback",
    "router": "router",
}


def pytest_command(marker: str, *options: str) -> list[str]:
    """`python -m pytest <the shipped folder> -m MARKER ...`. pytest finds its options beside the
    folder: the checkout's pyproject.toml, or the pytest.ini of an installed cutover.suite."""
    folder = suite_dir(FOLDERS.get(marker, "gates"))
    return [
        sys.executable,
        "-m",
        "pytest",
        str(folder),
        "-m",
        marker,
        "-p",
        "no:cacheprovider",
        *options,
    ]


def add(commands: Any) -> None:
    gate = commands.add_parser(
        "gate",
        help="run one gate (pytest -m MARKER) from the suite installed with cutover",
        description=(
            "Run `pytest -m MARKER` on the gate tests installed with cutover (the same tables "
            "as tests/ of a checkout), with the evidence directory of `cutover --evidence-dir` "
            "or CUTOVER_EVIDENCE_DIR. Every other argument goes to pytest (--as-of, --db-url, "
            "--junitxml, -k, ...). The exit status is the verdict: 0 PROCEED, 1 a criterion "
            "failed (ROLLBACK or HOLD), 6 HOLD (inconclusive)."
        ),
    )
    gate.add_argument("marker", choices=sorted(GATE_MARKERS), help="the gate to run")
    gate.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest")
    gate.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    command = [
        *pytest_command(args.marker),
        f"--evidence-dir={settings.evidence_dir}",
        *args.pytest_args,
    ]
    return subprocess.run(command, check=False).returncode
