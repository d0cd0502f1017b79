"""The project's own tests: make tests/suite_runner.py importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "templates: the project as shipped: the wheel and sdist built and installed, the CI "
        "templates run (tests/shipping; `make templates`)",
    )
