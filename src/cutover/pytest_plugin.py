"""The pytest plugin: options, markers and fixtures; it registers the recorder. The logic lives
in ordinary modules: `cutover.run` (the recorder, what a gate test uses, the run's scope)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from cutover.config import SETTINGS, Settings
from cutover.criteria.registry import Context
from cutover.measure.inputs import Inputs
from cutover.profile import Profile
from cutover.run.gate import CriterionFailed, Gate, gate_table
from cutover.run.markers import DECIDING, GATE_MARKERS, marker_of
from cutover.run.recorder import Recorder
from cutover.run.state import STATE, RunState, settings_for
from cutover.timeutil import utc_now


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cutover", "cutover gates (each option also reads its env variable)")
    for setting in SETTINGS:
        group.addoption(
            setting.option,
            dest=f"cutover_{setting.name}",
            default=None,
            choices=setting.choices or None,
            help=f"{setting.help} [env {setting.env}]",
        )
    group.addoption(
        "--replay",
        dest="cutover_replay",
        type=int,
        default=None,
        metavar="LINE",
        help="measure the checkpoint at this ledger line again, from its snapshots and instant",
    )


@pytest.hookimpl(tryfirst=True)  # before the junitxml plugin reads --junitxml
def pytest_configure(config: pytest.Config) -> None:
    for name, description in GATE_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    config.stash[STATE] = RunState()
    config.pluginmanager.register(Recorder(config), "cutover-recorder")
    _default_junit_path(config)


def _default_junit_path(config: pytest.Config) -> None:
    """A gate run always leaves its JUnit evidence: without --junitxml, one is written into the
    evidence directory, named by the selection and the time of the run."""
    expression = str(config.getoption("markexpr", "") or "")
    selected = any(re.search(rf"\b{name}\b", expression) for name in DECIDING)
    if not selected or getattr(config.option, "xmlpath", None) or hasattr(config, "workerinput"):
        return
    evidence = settings_for(config).evidence_dir
    label = re.sub(r"[^A-Za-z0-9_]+", "-", expression).strip("-")
    config.option.xmlpath = str(evidence / f"junit-{label}-{utc_now():%Y%m%dT%H%M%S}.xml")


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cutover_settings(pytestconfig: pytest.Config) -> Settings:
    return settings_for(pytestconfig)


@pytest.fixture(scope="session")
def cutover_profile(cutover_settings: Settings) -> Profile:
    return cutover_settings.profile


# The session fixtures that start and seed targets live in cutover.fixtures.
from cutover.fixtures import (  # noqa: E402
    cutover_as_of,
    cutover_db,
    cutover_exports,
    cutover_ledger,
    cutover_rlm,
    cutover_rollout_setting,
    cutover_scenario,
    cutover_snapshots,
    cutover_target,
)

__all__ = [
    "GATE_MARKERS",
    "CriterionFailed",
    "Gate",
    "cutover_as_of",
    "cutover_db",
    "cutover_exports",
    "cutover_ledger",
    "cutover_rlm",
    "cutover_rollout_setting",
    "cutover_scenario",
    "cutover_snapshots",
    "cutover_target",
    "gate_table",
    "marker_of",
    "settings_for",
]


@pytest.fixture
def gate(request: pytest.FixtureRequest, cutover_as_of: datetime) -> Gate:
    """The sources are the session fixtures, each set up when a measurement first reads it."""
    settings = settings_for(request.config)
    target = "live" if settings.live else "seeded"
    fixture = request.getfixturevalue
    read: set[str] = set()  # which platform-fed sources the measurement read

    def reading(name: str, fixture_name: str) -> Any:
        read.add(name)
        return fixture(fixture_name)

    inputs = Inputs(
        profile=settings.profile,
        as_of=cutover_as_of,
        database=lambda: fixture("cutover_db").get(),
        ledger=lambda: fixture("cutover_ledger")(),
        exports=lambda: reading("exports", "cutover_exports"),
        rlm=lambda: fixture("cutover_rlm"),
        rollout=lambda: reading("rollout", "cutover_rollout_setting")(),
    )
    context = Context(profile=settings.profile, as_of=cutover_as_of, target=target)
    return Gate(request.node, context, inputs, read, lambda: fixture("cutover_snapshots"))
