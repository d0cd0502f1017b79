"""Where the project's data files live: the SQL queries, the seeded scenarios and the gate suite.

They are packages (`cutover.data.sql`, `cutover.data.scenarios`, `cutover.suite.*`), found with
importlib.resources: in an installed wheel they are files of the package; in a checkout (an
editable install) setup.py maps them onto sql/, fixtures/scenarios/ and tests/.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from cutover.errors import ConfigError

#: the gate suite's folders, by the marker group they hold
SUITE = ("prereqs", "gates", "rollback", "router")


def package_dir(package: str) -> Path:
    """The folder of a data package; an install that is not on the file system is refused."""
    try:
        found = resources.files(package)
    except ModuleNotFoundError:
        raise ConfigError(
            f"{package} is not installed: reinstall cutover-gates (`pip install .`)"
        ) from None
    if not isinstance(found, Path):
        raise ConfigError(f"{package} is not a folder ({found}): install cutover-gates unzipped")
    return found


def _overridden(name: str, package: str) -> Path:
    value = os.environ.get(name)
    if not value:
        return package_dir(package)
    if not Path(value).is_dir():
        raise ConfigError(
            f"environment variable {name}: {value!r} is not a directory; expected the folder "
            f"that replaces {package} (or leave {name} unset)"
        )
    return Path(value)


def sql_dir() -> Path:
    return _overridden("CUTOVER_SQL_DIR", "cutover.data.sql")


def scenarios_dir() -> Path:
    return _overridden("CUTOVER_SCENARIOS_DIR", "cutover.data.scenarios")


def suite_dir(name: str) -> Path:
    """One folder of the gate suite (`prereqs`, `gates`, `rollback`, `router`)."""
    if name not in SUITE:
        raise ValueError(f"no gate suite folder {name!r}; known: {', '.join(SUITE)}")
    return package_dir(f"cutover.suite.{name}")
