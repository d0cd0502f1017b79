"""The fault matrix's world: a live-mode rollout whose gates pass, built once per module (one
embedded Postgres, one RLM simulator, one set of exports, a ledger with its interim
checkpoints), copied into each case's directory; one fault is injected and the gate is run as
the operator runs it (a real pytest process), then every promise of fail-closed is checked."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import ParseError

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cutover.cli import main
from cutover.scenarios.artifacts import write_artifacts
from cutover.scenarios.model import load_scenario
from cutover.scenarios.seed import seed_database
from cutover.simulator import serve_simulator
from cutover.sources.vercel_env import write_env_pull_file
from cutover.targets.embedded import embedded_postgres
from cutover.verify import verify
from suite_runner import ROOT, SuiteRun, at_hour, finished, suite_invocation
from zygote import Zygote, borrowed

SCENARIO = "healthy-rollout"
HMAC_KEY = "fault-matrix-hmac-key-7f3a9c2e51"  # a second secret every run is given


@dataclass(frozen=True, slots=True)
class Gate:
    """What a module's cases run: a marker over a test directory at an instant."""

    marker: str
    paths: tuple[str, ...]
    as_of: str


@dataclass(frozen=True, slots=True)
class World:
    """A baseline whose gate passes: its files under `root`, its settings in `env`."""

    root: Path
    gate: Gate
    env: dict[str, str]
    admin_dsn: str
    reader_dsn: str
    zygote: Zygote

    def run(
        self, directory: Path, *args: str, env: dict[str, str], max_file_bytes: int | None = None
    ) -> SuiteRun:
        """The gate as the operator runs it, in a fresh process, evidence in `directory`."""
        invocation = suite_invocation(
            directory,
            *args,
            marker=self.gate.marker,
            paths=self.gate.paths,
            env=env,
            junit_name=f"junit-{self.gate.marker}.xml",
        )
        directory.mkdir(parents=True, exist_ok=True)
        output = (directory / "stdout.txt", directory / "stderr.txt")
        code = self.zygote.run(invocation.args, invocation.env, ROOT, output, max_file_bytes)
        # as suite_runner reads a run: its stdout, then its stderr
        text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in output)
        try:
            return finished(invocation, code, text)
        except ParseError:  # a JUnit file cut short (a full disk): no criterion is on record
            return SuiteRun(code, text, invocation.junit_path, invocation.evidence_dir, {})

    @property
    def secrets(self) -> tuple[str, ...]:
        password = conninfo_to_dict(self.reader_dsn)["password"]
        assert isinstance(password, str) and len(password) >= 16
        return (password, HMAC_KEY)


@dataclass(slots=True)
class Case:
    """One case's copy of the world; a fault edits its files, env and arguments."""

    dir: Path
    world: World
    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    cleanups: list[Callable[[], object]] = field(default_factory=list)  # after the run
    max_file_bytes: int | None = None  # a full disk for the run's process

    @property
    def evidence(self) -> Path:
        return self.dir / "evidence"

    @property
    def ledger(self) -> Path:
        return self.evidence / "ledger.jsonl"

    def export(self, name: str) -> Path:
        return self.dir / "exports" / name

    def database(self, name: str, *statements: str) -> str:
        """A copy of the seeded database for this case, changed by `statements` (as the admin);
        the suite is pointed at it and its reader DSN returned."""
        create = sql.SQL("CREATE DATABASE {} TEMPLATE postgres").format(sql.Identifier(name))
        # connected to the template itself: only other sessions would keep it from being copied
        with psycopg.connect(self.world.admin_dsn, autocommit=True) as conn:
            conn.execute(create)
        with psycopg.connect(self.world.admin_dsn, dbname=name, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())
        dsn = make_conninfo(self.world.reader_dsn, dbname=name)
        self.env["CUTOVER_DATABASE_URL"] = dsn
        return dsn


Inject = Callable[[Case], None]


@dataclass(frozen=True, slots=True)
class Fault:
    """One faulty input: how to inject it, the criteria that must then not pass (empty: the run
    is refused before any criterion), and the text its message must contain (the file, line,
    setting or source it names)."""

    name: str
    inject: Inject
    criteria: tuple[str, ...]
    names: Callable[[Case], str]
    ledger_breaks: str | None = None  # what the run says when the ledger cannot verify


@dataclass(frozen=True, slots=True)
class Outcome:
    run: SuiteRun
    case: Case
    report_output: str
    verify_ok: bool
    verify_lines: str


@contextmanager
def live_world(root: Path, gate: Gate, *, hours: tuple[float, ...] = ()) -> Iterator[World]:
    """Seed the scenario into an embedded Postgres, write its exports at the gate's instant,
    serve the RLM simulator, record the stage start and an attestation with the CLI, and run
    the interim checkpoints at `hours` (the success rate only), all in live mode."""
    scenario = load_scenario(SCENARIO)
    with ExitStack() as stack:
        admin_dsn = stack.enter_context(embedded_postgres())
        reader_dsn = seed_database(admin_dsn, scenario).reader_dsn
        rlm = stack.enter_context(serve_simulator(scenario.rlm)).url
        as_of = datetime.fromisoformat(gate.as_of.replace("Z", "+00:00"))
        files = write_artifacts(scenario, root / "exports", until=as_of)
        env_file = root / "exports" / ".env.local"
        write_env_pull_file(
            env_file, {"RLM_API_URL": "http://127.0.0.1:8000", "V2_ROLLOUT_PERCENT": "0"}
        )
        env = {
            "CUTOVER_DATABASE_URL": reader_dsn,
            "CUTOVER_RLM_URL": rlm,
            "CUTOVER_RLM_LOCAL_URL": rlm,
            "CUTOVER_ROUTER_LOGS": str(files.router_logs),
            "CUTOVER_RLM_LOGS": str(files.rlm_logs),
            "CUTOVER_RLM_METRICS": str(files.rlm_metrics),
            "CUTOVER_VERCEL_ENV_FILE": str(env_file),
            "CUTOVER_AS_OF": gate.as_of,
            "CUTOVER_LEDGER_HMAC_KEY": HMAC_KEY,
        }
        evidence = root / "evidence"
        evidence.mkdir(parents=True)
        if gate.marker.startswith("stage"):
            _cli(evidence, "stage", "start", "1", "--at", at_hour(0))
            attest = ("attest", "complaints", "--count", "0", "--by", "on-call")
            _cli(evidence, *attest, "--at", gate.as_of, "--since", at_hour(0))
        zygote = stack.enter_context(borrowed(ROOT))
        world = World(root, gate, env, admin_dsn, reader_dsn, zygote)
        for hour in hours:
            interim = world.run(
                root / f"interim-{hour:g}",
                "-k",
                "success_rate",
                f"--evidence-dir={evidence}",
                env={**env, "CUTOVER_AS_OF": at_hour(hour)},
            )
            assert interim.verdicts.get("stage1.success_rate") in ("pass", "inconclusive"), (
                interim.output
            )
        yield world


def _cli(evidence: Path, *args: str) -> None:
    """An operator's command, signing the heads with the key every run is given."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUTOVER_LEDGER_HMAC_KEY", HMAC_KEY)
        assert main(["--evidence-dir", str(evidence), *args]) == 0


def run_case(world: World, tmp_path: Path, fault: Fault | None) -> Outcome:
    """Copy the world, inject the fault, run the gate, write the report, verify the ledger."""
    case_dir = tmp_path / "case"
    shutil.copytree(world.root / "exports", case_dir / "exports")
    shutil.copytree(world.root / "evidence", case_dir / "evidence", symlinks=True)
    env = {key: value.replace(str(world.root), str(case_dir)) for key, value in world.env.items()}
    case = Case(case_dir, world, env)
    if fault is not None:
        fault.inject(case)
    try:
        run = world.run(case_dir, *case.args, env=case.env, max_file_bytes=case.max_file_bytes)
    finally:
        for cleanup in case.cleanups:
            cleanup()
    report = io.StringIO()
    with redirect_stdout(report):
        try:
            main(["report", "--evidence-dir", str(case.evidence)])
        except SystemExit:
            pass
    verification = verify(case.evidence) if case.evidence.is_dir() else None
    lines = "\n".join(f.line() for f in verification.findings) if verification else ""
    ok = verification is not None and verification.ok
    return Outcome(run, case, report.getvalue(), ok, lines)


def assert_fails_closed(outcome: Outcome, fault: Fault) -> None:
    """Every promise the matrix keeps for one fault (see the module docstring)."""
    run, case = outcome.run, outcome.case
    context = f"{fault.name}:\n{run.output[-3000:]}"
    for criterion in fault.criteria:
        assert run.verdicts.get(criterion, "not run") != "pass", context
    if not fault.criteria:  # refused before any criterion: a usage error, nothing decided
        assert run.exit_code == 4 and not run.properties, context
        assert "Traceback" not in run.output, context
    assert run.exit_code != 0, context
    _assert_status_agrees(run, context)
    needle = fault.names(case)
    # a dependent criterion's reason or source names the input; nothing decided: the output
    said = "\n".join(
        f"{run.properties[c].get('reason', '')} {run.properties[c].get('source', '')}"
        for c in fault.criteria
        if c in run.properties
    )
    said = said or run.output
    assert needle.lower() in said.lower(), f"{needle!r} not named in {said!r}\n{context}"
    _assert_no_secret(outcome, case.world.secrets, context)
    if fault.ledger_breaks is None:
        assert outcome.verify_ok, f"{outcome.verify_lines}\n{context}"
    else:  # the ledger cannot verify: the run itself must have said so
        assert fault.ledger_breaks in run.output, context


def _assert_status_agrees(run: SuiteRun, context: str) -> None:
    """PROCEED only with exit 0; HOLD with 1 or 6; ROLLBACK with 1; no verdict: a usage error."""
    lines = [line for line in run.output.splitlines() if line.startswith("cutover verdict: ")]
    if run.exit_code == 4:
        assert not lines, context
        return
    assert lines and lines[-1] == run.verdict_line, context
    verdict = run.verdict_line.removeprefix("cutover verdict: ").split(" ")[0]
    allowed = {0: {"PROCEED"}, 1: {"HOLD", "ROLLBACK"}, 6: {"HOLD"}}
    assert verdict in allowed.get(run.exit_code, set()), context


def _assert_no_secret(outcome: Outcome, secrets: tuple[str, ...], context: str) -> None:
    texts = {"stdout/stderr": outcome.run.output, "report": outcome.report_output}
    texts["verify"] = outcome.verify_lines
    for path in outcome.case.dir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret in {where}\n{context}"
