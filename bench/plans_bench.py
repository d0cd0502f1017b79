"""Show the plans of every query the gates and rollback triggers run, on a million-row table.

Runs tests/integration/test_query_plans.py with CUTOVER_PLAN_ROWS=1000000: the same assertions
(an index on user_profiles, no sequential scan of it) hold at that size, and each plan prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    env = {**os.environ, "CUTOVER_PLAN_ROWS": "1000000", "CUTOVER_PLAN_PRINT": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/integration/test_query_plans.py",
        "-s",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
    ]
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
