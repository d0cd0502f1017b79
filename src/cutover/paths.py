"""Where the project's data files live: the SQL queries and the seeded scenarios."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def sql_dir() -> Path:
    return Path(os.environ.get("CUTOVER_SQL_DIR", PROJECT_ROOT / "sql"))


def scenarios_dir() -> Path:
    return Path(os.environ.get("CUTOVER_SCENARIOS_DIR", PROJECT_ROOT / "fixtures" / "scenarios"))
