"""The pytest plugin: options, markers, fixtures, the verdict. Logic lives in ordinary modules."""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from cutover.config import SETTINGS, Settings, resolve_settings
from cutover.criteria.registry import Context
from cutover.errors import ConfigError
from cutover.evidence.console import criteria_table
from cutover.evidence.properties import RecordedResult, recorded, result_properties
from cutover.evidence.verdict import exit_status, run_verdict
from cutover.gate import decide
from cutover.ledger import LedgerBroken, Store, records
from cutover.ledger.records import Snapshot
from cutover.measure.inputs import Inputs, Measurement
from cutover.outcome import Outcome, Result
from cutover.profile import Profile
from cutover.redact import redact_text
from cutover.timeutil import utc_now

GATE_MARKERS = {
    "prereq": "runbook prerequisites, before stage 1",
    "stage1_gate": "gate criteria for moving from stage 1 (10%) to stage 2",
    "stage2_gate": "gate criteria for moving from stage 2 (50%) to stage 3",
    "stage3_gate": "gate criteria for moving from stage 3 (100%) to stage 4 (deprecation)",
    "stage4_gate": "gate criteria for removing v1 after the deprecation period",
    "v1_removal": "checks that v1 is gone after its removal",
    "rollback": "emergency rollback triggers: must we roll back now?",
    "rollback_verify": "checks that a rollback took",
    "router": "the router model and its split test",
}


class CriterionFailed(AssertionError):
    """A criterion was measured and is outside its threshold (reported as a JUnit failure)."""


@dataclass
class RunState:
    """Plugin state for one run (on the xdist controller: built from the workers' reports)."""

    settings: Settings | None = None
    results: list[RecordedResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    gate_items: int = 0
    seeded: bool = False
    replay_differences: list[str] = field(default_factory=list)


STATE = pytest.StashKey[RunState]()


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
    selected = any(re.search(rf"\b{name}\b", expression) for name in GATE_MARKERS)
    if not selected or getattr(config.option, "xmlpath", None) or hasattr(config, "workerinput"):
        return
    evidence = settings_for(config).evidence_dir
    label = re.sub(r"[^A-Za-z0-9_]+", "-", expression).strip("-")
    config.option.xmlpath = str(evidence / f"junit-{label}-{utc_now():%Y%m%dT%H%M%S}.xml")


def settings_for(config: pytest.Config) -> Settings:
    """Resolve once per run; a bad setting is a usage error naming it."""
    state = config.stash[STATE]
    if state.settings is None:
        options = {s.name: config.getoption(f"cutover_{s.name}") for s in SETTINGS}
        try:
            state.settings = resolve_settings(options)
        except ConfigError as exc:
            raise pytest.UsageError(f"cutover: {exc}") from None
    return state.settings


def _is_gate(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in GATE_MARKERS if name != "router")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    gates = [item for item in items if _is_gate(item)]
    config.stash[STATE].gate_items = len(gates)
    if gates:
        settings_for(config)  # fail early, before any test, on a bad setting
        # A gate run is one short process: what is loaded by now (pytest, the tests, numpy,
        # psycopg) lives until it exits. Frozen, the garbage collector stops walking it again in
        # the full collections that the readers' and statistics' allocations trigger.
        gc.freeze()


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
    replay_for,
)

__all__ = [
    "cutover_as_of",
    "cutover_db",
    "cutover_exports",
    "cutover_ledger",
    "cutover_rlm",
    "cutover_rollout_setting",
    "cutover_scenario",
    "cutover_snapshots",
    "cutover_target",
]


def marker_of(criterion_id: str) -> str:
    """The gate marker a criterion runs under: `stage2.x` -> stage2_gate, `rollback.x` ->
    rollback, `prereq.x` -> prereq."""
    group = criterion_id.split(".", 1)[0]
    marker = f"{group}_gate" if group.startswith("stage") else group
    if marker not in GATE_MARKERS:
        raise ValueError(f"criterion {criterion_id!r} belongs to no gate marker")
    return marker


def gate_table(*rows: tuple[str, Measurement]) -> pytest.MarkDecorator:
    """A gate test per (criterion, measurement) row, each under its gate's marker, with the
    criterion id as the test id (so `-k success_rate` selects by criterion)."""
    return pytest.mark.parametrize(
        ("criterion", "measurement"),
        [
            pytest.param(
                criterion, fn, marks=getattr(pytest.mark, marker_of(criterion)), id=criterion
            )
            for criterion, fn in rows
        ],
    )


@dataclass
class Gate:
    """What a gate test uses: decide one criterion and record its evidence on the test (with
    the platform snapshots behind the sources it read)."""

    item: pytest.Item
    context: Context
    inputs: Inputs
    read: set[str] = field(default_factory=set)  # "exports", "rollout": the sources it read
    snapshots: Callable[[], tuple[Snapshot, ...]] | None = None

    def decide(self, criterion_id: str, measurement: Measurement) -> Result:
        result = decide(criterion_id, lambda: measurement(self.inputs, criterion_id), self.context)
        for name, value in result_properties(
            result, as_of=self.context.as_of, target=self.context.target
        ):
            self.item.user_properties.append((name, value))
        measured = [
            {"source": s.source, "export": s.export, "sha256": s.sha256}
            for s in (self.snapshots() if self.read and self.snapshots else ())
            if ("rollout" if s.export == "rollout" else "exports") in self.read
        ]
        if measured:
            self.item.user_properties.append(("snapshots", json.dumps(measured, sort_keys=True)))
        said = f"{result.criterion}: {redact_text(result.reason)}"
        if result.outcome is Outcome.FAIL:
            raise CriterionFailed(said)
        if result.outcome is Outcome.INCONCLUSIVE:
            pytest.skip(f"inconclusive: {said}")
        return result


@pytest.fixture
def gate(request: pytest.FixtureRequest, cutover_as_of: datetime) -> Gate:
    """The sources are the session fixtures, each set up when a measurement first reads it."""
    settings = settings_for(request.config)
    target = "live" if settings.live else "seeded"
    fixture = request.getfixturevalue
    read: set[str] = set()

    def reading(name: str, fixture_name: str) -> Any:
        read.add(name)
        return fixture(fixture_name)

    inputs = Inputs(
        profile=settings.profile,
        as_of=cutover_as_of,
        target=target,
        database=lambda: fixture("cutover_db").get(),
        ledger=lambda: fixture("cutover_ledger")(),
        exports=lambda: reading("exports", "cutover_exports"),
        rlm=lambda: fixture("cutover_rlm"),
        rollout=lambda: reading("rollout", "cutover_rollout_setting")(),
    )
    context = Context(profile=settings.profile, as_of=cutover_as_of, target=target)
    return Gate(request.node, context, inputs, read, lambda: fixture("cutover_snapshots"))


# -- reporting ----------------------------------------------------------------------------------


def _selection(config: pytest.Config) -> str:
    expression = config.getoption("markexpr", "")
    return str(expression) if expression else "all gates"


class Recorder:
    """Collects results from test reports (so xdist workers' results reach the controller),
    sets the exit status, appends the checkpoint record and prints the verdict last."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.state = config.stash[STATE]
        self.controller = not hasattr(config, "workerinput")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = recorded(report.user_properties)
        if report.when == "teardown" and result is not None:
            self.state.results.append(result)
            self.state.seeded = self.state.seeded or result.properties.get("target") == "seeded"
        elif report.failed and result is None and _has_gate_marker(report.keywords):
            self.state.errors.append(report.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.controller or not self._gate_run():
            return
        # under xdist the controller collected nothing, so it resolves the settings here
        settings = settings_for(self.config)
        replay = replay_for(self.config, settings)
        if replay is not None:
            verdicts = {r.criterion: r.outcome.value for r in self.state.results}
            self.state.replay_differences = replay.differences(verdicts)
            self.state.errors += [f"replay ({d})" for d in self.state.replay_differences]
        elif self.state.results:
            self._append_checkpoint(settings)
        session.exitstatus = exit_status(
            self.state.results, self.state.errors, int(session.exitstatus)
        )

    def _gate_run(self) -> bool:
        if self.config.getoption("collectonly", False):
            return False
        return bool(self.state.results or self.state.gate_items or self.state.errors)

    def _append_checkpoint(self, settings: Settings) -> None:
        record = records.checkpoint(
            self.state.results,
            selection=_selection(self.config),
            target="live" if settings.live else "seeded",
            scenario=None if settings.live else settings.scenario,
        )
        try:
            Store(settings.evidence_dir).append(record)
        except OSError as exc:
            self.state.errors.append(f"ledger ({exc.strerror})")
        except LedgerBroken as exc:
            self.state.errors.append(f"ledger not anchored ({exc})")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.controller or not self.state.results:
            return
        terminalreporter.section("cutover criteria")
        for line in criteria_table(self.state.results):
            terminalreporter.write_line(line)
        replay = replay_for(self.config, settings_for(self.config))
        if replay is not None:
            differences = self.state.replay_differences
            said = "differ" if differences else "are the recorded ones"
            terminalreporter.write_line(
                f"replay of ledger line {replay.line} (as of {replay.checkpoint.as_of}): "
                f"{len(self.state.results)} verdicts {said}"
            )
            for difference in differences:
                terminalreporter.write_line(f"  {difference}")

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The verdict is the last line the run prints."""
        if not self._gate_run():
            return
        # The run's work is done: frozen objects are skipped by the collections of interpreter
        # shutdown (~0.15 s with scipy, numpy and psycopg loaded).
        gc.freeze()
        if not self.controller:
            return
        verdict = run_verdict(
            self.state.results,
            selection=_selection(config),
            seeded=self.state.seeded,
            errors=self.state.errors,
        )
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(verdict.line())
        else:
            print(verdict.line())


def _has_gate_marker(keywords: Any) -> bool:
    return any(name in keywords for name in GATE_MARKERS if name != "router")


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """Fail closed: a gate test that ended without deciding its criterion is inconclusive."""
    if call.when == "call" and _is_gate(item) and call.excinfo is None:
        if not any(name == "criterion" for name, _ in item.user_properties):
            item.user_properties.append(("criterion", item.nodeid))
            item.user_properties.append(("verdict", Outcome.INCONCLUSIVE.value))
            item.user_properties.append(("reason", "the test decided no criterion"))
