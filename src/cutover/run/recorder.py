"""The recorder: the plugin object that turns a gate run's test reports into its evidence and its
verdict.

It collects results from test reports (so xdist workers' results reach the controller), knows
how much of the selection the run holds and decided (`cutover.run.scope`), records a gate test
that ended without deciding as inconclusive or `error`, appends the checkpoint record, stamps
the ledger's head before and after the run into the JUnit file, and only then decides the exit
status and the verdict together (`cutover.evidence.verdict.conclude`): a checkpoint that could
not be recorded is never exit 0. It prints the criteria table and, last, the verdict line. A run
that selects no gate test is left alone: pytest's own status, no verdict.
"""

from __future__ import annotations

import gc
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.evidence.console import criteria_table
from cutover.evidence.junit import add_suite_properties
from cutover.evidence.properties import RecordedResult, recorded
from cutover.evidence.verdict import conclude
from cutover.gate import one_line
from cutover.ledger import LedgerBroken, Store, records
from cutover.ledger.signing import store_for
from cutover.outcome import Outcome, Scope
from cutover.run.gate import undecided
from cutover.run.markers import deciding
from cutover.run.replay import replay_for
from cutover.run.scope import held_criteria, marker_expression, narrowed_by
from cutover.run.state import STATE, settings_for

HEAD_BEFORE = "ledger_head_before"
HEAD_AFTER = "ledger_head_after"
_WORKER_KEY = "cutover_scope"


def head_label(store: Store) -> str:
    """The ledger's head as a JUnit property records it: `line:sha256`, or why there is none."""
    try:
        head = store.head()
    except (ValueError, OSError):
        return "unreadable"
    return head.label if head is not None else "none"


class Recorder:
    """Registered by the plugin on every process of a run; the controller (the only process
    without xdist) writes the evidence and ends the run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.state = config.stash[STATE]
        self.controller = not hasattr(config, "workerinput")

    # -- what the run holds ---------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.controller:
            return
        try:
            self.state.head_before = head_label(Store(settings_for(self.config).evidence_dir))
        except pytest.UsageError:
            pass  # a gate run stops on its bad setting at collection; another run needs none

    @pytest.hookimpl(tryfirst=True)  # before -m, -k and --deselect deselect anything
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.state.held = held_criteria(self.config, items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.state.selected = sum(1 for item in session.items if _is_gate(item))
        if self.state.selected:
            settings_for(self.config)  # fail early, before any test, on a bad setting
            # A gate run is one short process: what is loaded by now (pytest, the tests, numpy,
            # psycopg) lives until it exits. Frozen, the garbage collector stops walking it
            # again in the full collections the readers' and statistics' allocations trigger.
            gc.freeze()
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[_WORKER_KEY] = {
                "held": sorted(self.state.held),
                "selected": self.state.selected,
            }

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist: each worker collected the run; the controller learns from them what it holds."""
        scope = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
        if isinstance(scope, dict):
            self.state.held.update(scope.get("held", ()))
            self.state.selected = max(self.state.selected, int(scope.get("selected", 0)))

    # -- what each test decided -----------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Fail closed: a gate test that ended a phase without deciding its criterion records
        it as inconclusive (nothing decided, a skip) or `error` (anything raised)."""
        report = yield
        if _is_gate(item):
            properties = undecided(item, call)
            item.user_properties.extend(properties)
            report.user_properties.extend(properties)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = recorded(report.user_properties)
        if report.when == "teardown" and result is not None:
            self.state.results.append(result)
            self.state.seeded = self.state.seeded or result.properties.get("target") == "seeded"
        if report.failed and not _explained(report, result):
            where = "" if report.when == "call" else f" [{report.when}]"
            self.state.errors.append(f"{report.nodeid}{where}")

    # -- the end of the run ---------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, object, object]:
        """Around the other plugins' (the JUnit writer's among them): the checkpoint first, then
        the JUnit file stamped with the ledger's head; the status decided after each."""
        if not (self.controller and self._gate_run()):
            return (yield)
        self.state.pytest_status = int(session.exitstatus)
        settings = settings_for(self.config)  # under xdist the controller collected nothing
        store = store_for(settings)
        replay = replay_for(self.config, settings)
        if replay is None:
            self._append_checkpoint(store, settings)
        else:  # a replay records nothing: it says whether the verdicts are the recorded ones
            verdicts = {r.criterion: r.outcome.value for r in self.state.results}
            self.state.replay_differences = replay.differences(verdicts)
            self.state.errors += [f"replay ({d})" for d in self.state.replay_differences]
        self.state.head_after = head_label(store)
        self._conclude(session)
        try:
            outcome = yield
        except OSError as exc:
            # a full disk or an unwritable directory is bad input, not a bug: the verdict and
            # the exit status say it, without pytest's INTERNALERROR traceback
            self.state.errors.append(f"JUnit evidence not written ({one_line(exc)})")
            self._conclude(session)
            return None
        except Exception as exc:
            self.state.errors.append(f"JUnit evidence not written ({one_line(exc)})")
            self._conclude(session)
            raise
        self._stamp_junit()
        self._conclude(session)
        return outcome

    def _gate_run(self) -> bool:
        if self.config.getoption("collectonly", False):
            return False
        return bool(self.state.selected or self.state.results)

    def scope(self) -> Scope:
        decided = len({r.criterion for r in self.state.results})
        held = max(len(self.state.held), decided)
        return Scope(held, decided, narrowed_by(self.config))

    def _append_checkpoint(self, store: Store, settings: Settings) -> None:
        if not self.state.results:
            return
        record = records.checkpoint(
            self.state.results,
            selection=_selection(self.config),
            target="live" if settings.live else "seeded",
            scenario=None if settings.live else settings.scenario,
            scope=self.scope(),
        )
        try:
            store.append(record)
        except (LedgerBroken, ConfigError) as exc:  # ConfigError: LedgerUnwritable, signing
            self.state.errors.append(f"checkpoint not recorded: {exc}")

    def _stamp_junit(self) -> None:
        xmlpath = getattr(self.config.option, "xmlpath", None)
        if not xmlpath or not Path(xmlpath).is_file():
            return
        properties = [(HEAD_BEFORE, self.state.head_before), (HEAD_AFTER, self.state.head_after)]
        try:
            add_suite_properties(Path(xmlpath), properties)
        except Exception as exc:  # an unreadable or unwritable file: the run says so
            self.state.errors.append(f"JUnit file {xmlpath} not stamped ({one_line(exc)})")

    def _conclude(self, session: pytest.Session) -> None:
        scope = self.scope()
        self.state.verdict, session.exitstatus = conclude(
            self.state.results,
            selection=_selection(self.config),
            seeded=self.state.seeded,
            errors=self.state.errors,
            partial=[scope.text()] if scope.partial else [],
            pytest_status=self.state.pytest_status or 0,
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.controller or not self.state.results:
            return
        terminalreporter.section("cutover criteria")
        for line in criteria_table(self.state.results):
            terminalreporter.write_line(line)
        replay = replay_for(self.config, settings_for(self.config))
        if replay is not None:
            differences = self.state.replay_differences
            recorded = len(replay.checkpoint.results)
            measured = len(self.state.results)
            if measured == 1:
                said = "1 verdict" + (" differs" if differences else " is the recorded one")
            else:
                said = f"{measured} verdicts " + (
                    "differ" if differences else "are the recorded ones"
                )
            # a narrower selection (-k) replays only part of the checkpoint: say which part
            part = f" (of the {recorded} it recorded)" if measured != recorded else ""
            terminalreporter.write_line(
                f"replay of ledger line {replay.line} (as of {replay.checkpoint.as_of}): "
                f"{said}{part}"
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
        if not self.controller or self.state.verdict is None:
            return
        line = self.state.verdict.line()
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            terminal = getattr(reporter, "_tw", None)
            if terminal is not None and terminal.width_of_current_line:
                # a session cut short (the JUnit file not written) leaves the progress line open
                reporter.write("\n")
            reporter.write_line(line)
        else:
            print(line)


def _is_gate(item: pytest.Item) -> bool:
    return deciding(mark.name for mark in item.iter_markers())


def _explained(report: pytest.TestReport, result: RecordedResult | None) -> bool:
    """A failed phase its criterion already says (failed or errored), not another error."""
    decided_badly = result is not None and result.outcome in (Outcome.FAIL, Outcome.ERROR)
    return decided_badly and report.when in ("setup", "call")


def _selection(config: pytest.Config) -> str:
    return marker_expression(config) or "all gates"
