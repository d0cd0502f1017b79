"""A full `pytest -m stage1_gate` run against a large `user_profiles` and a 1 GB router log.

Builds, on an embedded Postgres, a table whose measured 24 h hold the same imports at every size
(a scenario seeded by `seed_database`) and whose older rows (one year before them) are made on
the server by `INSERT ... SELECT generate_series`, then `sql/indexes.sql` and ANALYZE. The router
log is `router_log_bench.generate`'s 1 GiB over 14 days; the stage-1 window is its middle 24 h.
The RLM log and metrics are the scenario's own exports. The gate runs as a user runs it, against
the DSN (a live, read-only target), in a fresh process, with a probe plugin (`-p gate_bench`,
this module) that times every `Database.run`, the connection and the file sources, and without
the pytest plugins of the project's dev dependencies (xdist, hypothesis, respx), which an
install of the suite does not have.

Printed, for each table size (median of `--runs` runs):

* SQL in the suite / bare: the time the suite spends in `Database.run` over the time the same
  statements with the same parameters take run bare with psycopg (a fresh process, as the
  suite's own, and a fresh autocommit session, tuple rows; 2 sessions after each gate run).
  Target <= 1.3.
* the rest: the run's wall clock (process start to exit) minus its SQL time. Target <= 2 s.
* 10M / 1M: the whole run on 10M rows over the run on 1M rows. Target <= 1.2.

    .venv/bin/python bench/gate_bench.py [--rows 1000000 --large-rows 10000000] [--runs 3]
        [--router-log FILE] [--log-mb 1024] [--extra-index SQL] [--json OUT]

`--extra-index` applies one more CREATE INDEX after sql/indexes.sql (to measure a proposed
index); `--large-rows 0` skips the large table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# this directory is on sys.path: the script's own, or PYTHONPATH in the measured pytest process
from run_all import Row, format_rows

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
PROBE_ENV = "GATE_BENCH_PROBE"
SCENARIO = "gate-bench"
T0 = datetime(2026, 3, 8, 12, tzinfo=UTC)  # router_log_bench.window_of(14).window_start
AS_OF = T0 + timedelta(hours=24)
OLD_SPAN = timedelta(days=365)  # the older rows: one year before the scenario's traffic
SQL_RATIO_LIMIT = 1.3
REST_LIMIT_S = 2.0
LARGE_RATIO_LIMIT = 1.2
BARE_SESSIONS = 2  # after each gate run
# pytest plugins of the project's dev dependencies (tests, not the suite): an install of
# cutover-gates without the dev extras does not load them. Hypothesis alone adds ~0.13 s.
DEV_ONLY_PLUGINS = ("-p", "no:xdist", "-p", "no:hypothesispytest", "-p", "no:respx")

SCENARIO_TOML = """\
description = "gate bench: stage 1 at 10% for 24 h, the middle day of router_log_bench's log"
t0 = "{t0}"
as_of = "24h"
seed = 20260308

[vercel]
rollout_percent = "10"

[database]
background_users = 300

[[stage]]
stage = 1
at = "0h"

[[attestation]]
since = "0h"
at = "24h"
count = 0
by = "bench"

[[traffic]]
from = "-48h"
to = "25h"
requests_per_hour = 1200
failure_pct = 1.5
errors = [
  "Pipeline failed: ValueError: Unsupported export format in user-imports/{{user}}/raw.json",
  "Pipeline failed: JSONDecodeError: Invalid JSON in conversations file",
]
duration_minutes = 4.0
duration_sigma = 0.45
"""

# Older rows: ids and user ids in order (cheap to index), started_at spread evenly over
# [lo, hi), one in 67 failed, the rest complete in 4 minutes. Rows i in [first, last].
OLD_ROWS = """
INSERT INTO public.user_profiles (id, user_id, created_at, updated_at, display_name,
    import_status, total_conversations, full_pass_status, full_pass_started_at,
    full_pass_completed_at, full_pass_error, memory_md)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('00000001-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       s, s, 'older user', 'complete', 42,
       CASE WHEN i %% 67 = 0 THEN 'failed' ELSE 'complete' END,
       s,
       CASE WHEN i %% 67 = 0 THEN NULL ELSE s + interval '4 minutes' END,
       CASE WHEN i %% 67 = 0 THEN 'Pipeline failed: RuntimeError: an old failure' END,
       CASE WHEN i %% 67 = 0 THEN NULL ELSE '# Memory' || chr(10) || 'older import' END
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i,
     LATERAL (SELECT %(lo)s::timestamptz
                     + (%(hi)s::timestamptz - %(lo)s::timestamptz) * (i::float8 / %(total)s))
         AS t(s)
"""
SECONDARY_INDEXES = """
SELECT indexrelid::regclass::text FROM pg_index
WHERE indrelid = 'public.user_profiles'::regclass AND NOT indisprimary AND NOT indisunique
"""


# --- the probe: loaded into the measured pytest process with `-p gate_bench` --------------------

_PROBE_STARTED = time.time()
_probe: dict[str, Any] = {}


def _wrap(owner: Any, name: str, key: str) -> None:
    original = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _probe["sources"][key] = _probe["sources"].get(key, 0.0) + time.perf_counter() - began

    setattr(owner, name, timed)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return datetime.fromisoformat(value["datetime"])
    return value


def pytest_configure(config: Any) -> None:
    if PROBE_ENV not in os.environ:
        return
    from cutover import fixtures, measure
    from cutover.sources import database

    _probe.update(imported=_PROBE_STARTED, configured=time.time(), queries=[], sources={})
    run = database.Database.run

    def timed_run(self: Any, name: str, params: Any = None) -> Any:
        began = time.perf_counter()
        try:
            return run(self, name, params)
        finally:
            elapsed = time.perf_counter() - began
            encoded = {k: _encode(v) for k, v in (params or {}).items()}
            _probe["queries"].append({"name": name, "params": encoded, "seconds": elapsed})

    database.Database.run = timed_run  # type: ignore[method-assign]
    _wrap(fixtures, "connect", "connect")
    for name in ("count_routing", "scan_rlm_log", "read_metrics_csv"):
        _wrap(measure, name, name)


def pytest_collection_finish(session: Any) -> None:
    if _probe:
        _probe["collected"] = time.time()


def pytest_runtest_setup(item: Any) -> None:
    if _probe and "first_test" not in _probe:
        _probe["first_test"] = time.time()


def pytest_runtest_teardown(item: Any) -> None:
    if _probe:
        _probe["last_test"] = time.time()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: Any) -> None:
    if _probe:
        _probe["session_finish"] = time.time()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: Any) -> None:
    if _probe:
        _probe["unconfigured"] = time.time()
        Path(os.environ[PROBE_ENV]).write_text(json.dumps(_probe))


# --- building the table ---------------------------------------------------------------------------


def write_scenario(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{SCENARIO}.toml"
    path.write_text(SCENARIO_TOML.format(t0=T0.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return path


def insert_old_rows(admin_dsn: str, first: int, last: int, total: int, workers: int = 2) -> None:
    """Rows first..last of `total` older rows, split over `workers` parallel sessions."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    bounds = {"lo": T0 - timedelta(hours=48) - OLD_SPAN, "hi": T0 - timedelta(hours=48)}
    count = last - first + 1

    def insert(k: int) -> None:
        lo, hi = first + count * k // workers, first + count * (k + 1) // workers - 1
        if hi < lo:
            return
        params = {**bounds, "first": lo, "last": hi, "total": total}
        with psycopg.connect(admin_dsn, autocommit=True, options="-c TimeZone=UTC") as conn:
            conn.execute(OLD_ROWS.encode(), params)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(insert, range(workers)))


def rebuild_indexes(admin_dsn: str, extra_index: str | None) -> None:
    import psycopg

    from cutover.sources.database import load_query

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(load_query("indexes").text.encode())
        if extra_index:
            conn.execute(extra_index.encode())
        conn.execute("VACUUM (ANALYZE) public.user_profiles")


def drop_secondary_indexes(admin_dsn: str) -> None:
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        names = [row[0] for row in conn.execute(SECONDARY_INDEXES)]
        for name in names:
            conn.execute(f"DROP INDEX {name}".encode())


def table_rows(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM public.user_profiles").fetchone()
        assert row is not None
        return int(row[0])


# --- the measured runs ----------------------------------------------------------------------------


@dataclass
class GateRun:
    wall: float
    exit_code: int
    probe: dict[str, Any]
    verdict_line: str

    @property
    def sql(self) -> float:
        return float(sum(q["seconds"] for q in self.probe["queries"]))

    @property
    def rest(self) -> float:
        return self.wall - self.sql

    def source(self, name: str) -> float:
        return float(self.probe["sources"].get(name, 0.0))


@dataclass
class Exports:
    router_log: Path
    rlm_log: Path
    metrics: Path


@dataclass
class Size:
    rows: int
    runs: list[GateRun] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    build_seconds: float = 0.0

    def median_run(self) -> GateRun:
        ordered = sorted(self.runs, key=lambda run: run.wall)
        return ordered[len(ordered) // 2]

    @property
    def wall(self) -> float:
        return statistics.median(run.wall for run in self.runs)

    @property
    def sql(self) -> float:
        return statistics.median(run.sql for run in self.runs)

    @property
    def rest(self) -> float:
        return statistics.median(run.rest for run in self.runs)

    @property
    def bare_sql(self) -> float:
        return statistics.median(self.bare)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode caches: as `make` runs things
    env.pop("PYTEST_XDIST_WORKER", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def gate_command(evidence: Path, exports: Exports | None, *extra: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/gates",
        "-m",
        "stage1_gate",
        "-p",
        "no:cacheprovider",
        *DEV_ONLY_PLUGINS,
        "-q",
        f"--evidence-dir={evidence}",
        f"--junitxml={evidence / 'junit-stage1.xml'}",
    ]
    if exports is not None:
        command += [
            f"--router-logs={exports.router_log}",
            f"--rlm-logs={exports.rlm_log}",
            f"--rlm-metrics={exports.metrics}",
        ]
    return command + list(extra)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def prepare_evidence(directory: Path, reader_dsn: str) -> None:
    """The ledger a live run reads: stage 1's start, the attestation, and the +1 h and +6 h
    checkpoints of the success rate (as the runbook's operator would have run them)."""
    from cutover import cli

    base = ["--evidence-dir", str(directory)]
    with quiet():
        cli.main([*base, "stage", "start", "1", "--at", iso(T0)])
        cli.main(
            [*base, "attest", "complaints", "--count", "0", "--by", "bench"]
            + ["--since", iso(T0), "--at", iso(AS_OF)]
        )
    for hours in (1, 6):
        env = child_env(
            {"CUTOVER_DATABASE_URL": reader_dsn, "CUTOVER_AS_OF": iso(T0 + timedelta(hours=hours))}
        )
        command = gate_command(directory, None, "-k", "success_rate")
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False, timeout=300)


@contextmanager
def quiet() -> Iterator[None]:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        yield


def run_gate(template: Path, workdir: Path, reader_dsn: str, exports: Exports) -> GateRun:
    evidence = Path(tempfile.mkdtemp(prefix="evidence-", dir=workdir))
    shutil.copytree(template, evidence, dirs_exist_ok=True)
    probe = evidence / "probe.json"
    env = child_env(
        {"CUTOVER_DATABASE_URL": reader_dsn, "CUTOVER_AS_OF": iso(AS_OF), PROBE_ENV: str(probe)}
    )
    command = gate_command(evidence, exports, "-p", "gate_bench")
    began = time.time()
    completed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    ended = time.time()
    data = json.loads(probe.read_text()) if probe.exists() else {}
    if "last_test" not in data:
        output = completed.stdout + completed.stderr
        raise SystemExit(f"the gate run ran no test ({completed.returncode}):\n{output[-3000:]}")
    data["spawned"], data["exited"] = began, ended
    lines = completed.stdout.rstrip().splitlines()
    return GateRun(ended - began, completed.returncode, data, lines[-1] if lines else "")


def run_bare(reader_dsn: str, queries: list[dict[str, Any]]) -> float:
    """The suite's statements, in its order, with its parameters, bare: in a fresh process (as
    the suite runs, so both pay psycopg's first use of its adapters and loaders), one session,
    autocommit, tuple rows; the sum of execute + fetchall times (connecting not counted)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(queries, handle)
    try:
        completed = subprocess.run(
            [sys.executable, __file__, "--bare-session", handle.name],
            env=child_env({"CUTOVER_DATABASE_URL": reader_dsn}),
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
    finally:
        os.unlink(handle.name)
    return float(completed.stdout.strip().splitlines()[-1])


def bare_session(queries_file: Path) -> float:
    """The body of `run_bare`'s process."""
    import psycopg

    from cutover.sources.database import load_query

    queries = json.loads(queries_file.read_text())
    statements = [
        (load_query(q["name"]).text.encode(), {k: _decode(v) for k, v in q["params"].items()})
        for q in queries
    ]
    dsn = os.environ["CUTOVER_DATABASE_URL"]
    with psycopg.connect(dsn, autocommit=True, options="-c TimeZone=UTC") as conn:
        total = 0.0
        with conn.cursor() as cursor:
            for text, params in statements:
                began = time.perf_counter()
                cursor.execute(text, params)
                cursor.fetchall()
                total += time.perf_counter() - began
    return total


def measure_size(
    size: Size, template: Path, workdir: Path, reader_dsn: str, exports: Exports, runs: int
) -> None:
    """A warm-up, then `runs` gate runs, each followed by bare sessions of its statements
    (interleaved, so both see the same state of the caches)."""
    first = run_gate(template, workdir, reader_dsn, exports)
    run_bare(reader_dsn, first.probe["queries"])
    for _ in range(runs):
        run = run_gate(template, workdir, reader_dsn, exports)
        size.runs.append(run)
        size.bare += [run_bare(reader_dsn, run.probe["queries"]) for _ in range(BARE_SESSIONS)]


# --- report ---------------------------------------------------------------------------------------


def breakdown(size: Size, log: str) -> list[str]:
    run = size.median_run()
    p = run.probe
    per_query: dict[str, list[float]] = {}
    for q in p["queries"]:
        per_query.setdefault(q["name"], []).append(q["seconds"])
    files = sum(run.source(n) for n in ("count_routing", "scan_rlm_log", "read_metrics_csv"))
    tests = p["last_test"] - p["first_test"]
    phases = [
        ("interpreter, pytest and plugins start", p["imported"] - p["spawned"]),
        ("configure and collect", p["collected"] - p["imported"]),
        ("fixtures until the first test", p["first_test"] - p["collected"]),
        ("tests: SQL (Database.run)", run.sql),
        ("tests: connect", run.source("connect")),
        (f"tests: router log (count_routing, {log})", run.source("count_routing")),
        ("tests: RLM log (scan_rlm_log)", run.source("scan_rlm_log")),
        ("tests: metrics (read_metrics_csv)", run.source("read_metrics_csv")),
        ("tests: criteria, evidence properties, other", tests - run.sql - files),
        ("session teardown (fixtures)", p["session_finish"] - p["last_test"]),
        ("ledger, JUnit, summaries, verdict", p["unconfigured"] - p["session_finish"]),
        ("interpreter exit", p["exited"] - p["unconfigured"]),
    ]
    lines = [f"{size.rows:,} rows: the median run ({run.wall:.2f} s), by phase:"]
    lines += [f"  {name:<46} {seconds * 1000:8.1f} ms" for name, seconds in phases]
    lines.append(
        "  queries (ms, each call): "
        + ", ".join(
            f"{name} {'/'.join(f'{s * 1000:.1f}' for s in times)}"
            for name, times in per_query.items()
        )
    )
    lines.append(f"  verdict: {run.verdict_line} (exit {run.exit_code})")
    return lines


def results(sizes: list[Size], log: str) -> list[Row]:
    rows: list[Row] = []
    for size in sizes:
        label = f"{size.rows / 1e6:g}M rows"
        rows.append(
            Row(
                f"gate: SQL in the suite / bare psycopg ({label})",
                size.sql / size.bare_sql,
                SQL_RATIO_LIMIT,
                "x",
            )
        )
        rows.append(
            Row(f"gate: rest of the run, {log} router log ({label})", size.rest, REST_LIMIT_S, "s")
        )
        rows.append(Row(f"gate: whole run ({label})", size.wall, None, "s"))
    if len(sizes) == 2:
        small, large = sizes
        name = f"gate: {large.rows / 1e6:g}M / {small.rows / 1e6:g}M rows, whole run"
        rows.append(Row(name, large.wall / small.wall, LARGE_RATIO_LIMIT, "x"))
        rows.append(
            Row(
                f"gate: {large.rows / 1e6:g}M / {small.rows / 1e6:g}M rows, SQL only",
                large.sql / small.sql,
                None,
                "x",
            )
        )
    return rows


# --- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="the table's rows")
    parser.add_argument("--large-rows", type=int, default=10_000_000, help="0: skip")
    parser.add_argument("--runs", type=int, default=3, help="measured gate runs per size")
    parser.add_argument("--router-log", type=Path, help="a log made by router_log_bench --keep")
    parser.add_argument("--log-mb", type=int, default=1024, help="router log size to build")
    parser.add_argument("--extra-index", help="one more CREATE INDEX after sql/indexes.sql")
    parser.add_argument("--json", type=Path, help="write the result rows here")
    parser.add_argument("--bare-session", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_session is not None:
        print(bare_session(args.bare_session))
        return 0

    import router_log_bench

    from cutover.scenarios.artifacts import write_artifacts
    from cutover.scenarios.model import load_scenario
    from cutover.scenarios.seed import seed_database
    from cutover.targets.embedded import embedded_postgres

    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="gate-bench-"))
    try:
        scenario = load_scenario(SCENARIO, directory=write_scenario(workdir / "scenarios").parent)
        files = write_artifacts(scenario, workdir / "exports", until=AS_OF)
        if args.router_log is not None:
            router_log = args.router_log
        else:
            router_log = workdir / "router.log"
            t = time.perf_counter()
            router_log_bench.generate(router_log, args.log_mb << 20, 14)
            print(
                f"router log: {router_log.stat().st_size / 1e6:,.0f} MB built in "
                f"{time.perf_counter() - t:.1f} s"
            )
        exports = Exports(router_log, files.rlm_logs, files.rlm_metrics)
        sizes = [Size(args.rows)] + ([Size(args.large_rows)] if args.large_rows else [])
        log = f"{router_log.stat().st_size / 1e9:.2g} GB"
        with embedded_postgres(workdir) as admin_dsn:
            seeded = seed_database(admin_dsn, scenario, with_indexes=False, until=AS_OF)
            window_rows = seeded.rows
            previous = 0
            template = workdir / "evidence-template"
            for size in sizes:
                t = time.perf_counter()
                old = size.rows - window_rows
                drop_secondary_indexes(admin_dsn)
                insert_old_rows(admin_dsn, previous + 1, old, old)
                previous = old
                rebuild_indexes(admin_dsn, args.extra_index)
                size.build_seconds = time.perf_counter() - t
                counted = table_rows(admin_dsn)
                print(
                    f"table: {counted:,} rows ({window_rows:,} from the scenario), built in "
                    f"{size.build_seconds:.1f} s"
                )
                if not template.exists():
                    prepare_evidence(template, seeded.reader_dsn)
                measure_size(size, template, workdir, seeded.reader_dsn, exports, args.runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        f"stage-1 gate, as of {iso(AS_OF)}, live target (read-only DSN), {log} router log; "
        f"median of {args.runs} runs after a warm-up; bare SQL: median of "
        f"{BARE_SESSIONS} sessions (fresh processes) after each run; {os.cpu_count()} cores; "
        f"pytest plugins of the dev dependencies off ({' '.join(DEV_ONLY_PLUGINS)})"
    )
    if args.extra_index:
        print(f"extra index: {args.extra_index}")
    print()
    for size in sizes:
        print("\n".join(breakdown(size, log)))
        print(
            f"  bare psycopg, same statements: {size.bare_sql * 1000:.1f} ms "
            f"(sessions: {', '.join(f'{b * 1000:.1f}' for b in size.bare)})"
        )
        print()
    rows = results(sizes, log)
    print("\n".join(format_rows(rows)))
    print(f"\n(bench took {time.perf_counter() - began:.0f} s)")
    if args.json is not None:
        args.json.write_text(json.dumps([row.as_json() for row in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
