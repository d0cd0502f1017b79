"""The fault matrix on stage 1's gate at +24 h: a live-mode rollout whose gate PROCEEDs (the
+1 h and +6 h checkpoints in its ledger), then one fault at a time in the database, the logs,
the metrics, the configuration, the evidence directory, the ledger, or under concurrency. Each
case: the criteria that read the faulty input do not pass, the exit status is not 0 and agrees
with the verdict line, the message names the input, no secret is in any file written, and the
ledger verifies or the run said why it cannot."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from edits import (
    JUNK,
    METRICS,
    RLM,
    ROUTER,
    edit_lines,
    last_dated_line,
    ledger_lines,
    rechained,
    shifted,
    span_edit,
)
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from world import Case, Fault, Gate, World, assert_fails_closed, live_world, run_case

from cutover.ledger.store import Store
from cutover.loopback import free_port
from cutover.scenarios.seed import READER_ROLE
from suite_runner import at_hour

GATE = Gate("stage1_gate", ("tests/gates",), at_hour(24))
DATABASE = (
    "stage1.success_rate",
    "stage1.stuck_imports",
    "stage1.systemic_errors",
    "stage1.duration",
    "stage1.traffic",
)
READS_RLM = ("stage1.rlm_stability",)
READS_ROUTER = ("stage1.routing_split",)
READS_LEDGER = ("stage1.elapsed", "stage1.success_rate", "stage1.complaints")
EVERY = (*DATABASE, *READS_LEDGER, *READS_RLM, *READS_ROUTER)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_world(tmp_path_factory.mktemp("world"), GATE, hours=(1, 6)) as built:
        yield built


def test_the_baseline_proceeds(world: World, tmp_path: Path) -> None:
    outcome = run_case(world, tmp_path, None)
    assert outcome.run.exit_code == 0, outcome.run.output
    assert set(outcome.run.verdicts) == set(EVERY)
    assert set(outcome.run.verdicts.values()) == {"pass"}, outcome.run.output
    assert outcome.run.verdict_line == "cutover verdict: PROCEED — stage1_gate — none"
    assert outcome.verify_ok, outcome.verify_lines


# -- how each fault is made ---------------------------------------------------------------


def _dsn(case: Case, **changes: str) -> None:
    case.env["CUTOVER_DATABASE_URL"] = make_conninfo(case.env["CUTOVER_DATABASE_URL"], **changes)


def _closed_port(case: Case) -> None:
    password = conninfo_to_dict(case.world.reader_dsn)["password"]
    url = f"postgresql://{READER_ROLE}:{password}@127.0.0.1:{free_port()}/postgres"
    case.env["CUTOVER_DATABASE_URL"] = url


def _sql(*statements: str) -> object:
    def inject(case: Case) -> None:
        case.database(f"fault_{abs(hash(statements)) % 10**8}", *statements)

    return inject


def _locked_table(case: Case) -> None:
    """Another session holds the table; queries wait until the profile's statement timeout."""
    import psycopg

    case.database("fault_locked")
    conn = psycopg.connect(case.world.admin_dsn, dbname="fault_locked")
    conn.execute("LOCK TABLE user_profiles IN ACCESS EXCLUSIVE MODE")
    case.cleanups.append(conn.close)
    _profile("statement_timeout_ms = 300")(case)


def _export(name: str, edit: object) -> object:
    def inject(case: Case) -> None:
        path = case.export(name)
        edit(path)  # type: ignore[operator]

    return inject


def _remove(path: Path) -> None:
    path.unlink()


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _junk_span(start: float, end: float) -> object:
    return lambda path: edit_lines(path, span_edit(path, start, end, replace=JUNK * 200))


def _hole(start: float, end: float) -> object:
    return lambda path: edit_lines(path, span_edit(path, start, end))


def _ends_early_then_future(hours_early: float) -> object:
    def edit(path: Path) -> None:
        future = shifted(path.name, last_dated_line(path), hours_early + 2)  # after as_of
        edit_lines(path, span_edit(path, 24 - hours_early, 10_000))
        with path.open("ab") as out:
            out.write(future)

    return edit


def _all_shifted_later(path: Path) -> None:
    """Every line dated 100 h later: all of it after as_of."""
    edit_lines(path, lambda lines: [shifted(path.name, line, 100) for line in lines])


def _replace_in(old: bytes, new: bytes, count: int = -1) -> object:
    def edit(path: Path) -> None:
        path.write_bytes(path.read_bytes().replace(old, new, count))

    return edit


def _metrics_cell(column: int, value: str, line: int = 100) -> object:
    def edit(lines: list[bytes]) -> list[bytes]:
        cells = lines[line - 1].decode().rstrip("\n").split(",")
        cells[column] = value
        lines[line - 1] = (",".join(cells) + "\n").encode()
        return lines

    return lambda path: edit_lines(path, edit)


def _profile(*lines: str) -> object:
    def inject(case: Case) -> None:
        config = case.dir / "cutover.toml"
        config.write_text("[profile]\n" + "\n".join(lines) + "\n", encoding="utf-8")
        case.env["CUTOVER_CONFIG"] = str(config)

    return inject


def _setting(name: str, value: str) -> object:
    def inject(case: Case) -> None:
        case.env[name] = value

    return inject


def _stray_whitespace(case: Case) -> None:
    case.env["CUTOVER_DATABASE_URL"] = " " + case.env["CUTOVER_DATABASE_URL"]


def _config_text(text: str) -> object:
    def inject(case: Case) -> None:
        config = case.dir / "cutover.toml"
        config.write_text(text, encoding="utf-8")
        case.env["CUTOVER_CONFIG"] = str(config)

    return inject


def _disk_full(case: Case) -> None:
    """A full disk: no file the run writes may grow past the ledger's size now (EFBIG)."""
    case.max_file_bytes = case.ledger.stat().st_size


def _evidence_is_a_file(case: Case) -> None:
    target = case.dir / "not-a-directory"
    target.write_text("a file where the evidence directory should be\n")
    case.args.append(f"--evidence-dir={target}")


def _head_is_a_directory(case: Case) -> None:
    head = case.evidence / "ledger.head"
    head.unlink()
    head.mkdir()


def _ledger(edit: object) -> object:
    def inject(case: Case) -> None:
        lines = ledger_lines(case.ledger)
        case.ledger.write_text("".join(edit(lines)), encoding="utf-8")  # type: ignore[operator]

    return inject


def _record(lines: list[str], kind: str) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line)["type"] == kind)


def _changed_attestation(lines: list[str]) -> list[str]:
    index = _record(lines, "attestation")
    record = json.loads(lines[index])
    record["count"] = 3
    lines[index] = json.dumps(record, sort_keys=True) + "\n"
    return lines


def _changed_last(lines: list[str]) -> list[str]:
    record = json.loads(lines[-1])
    record["results"]["stage1.success_rate"]["measured"] = "+6h: 99.9% of 999"
    lines[-1] = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    return lines


def _appended_by_hand(lines: list[str]) -> list[str]:
    forged = json.loads(rechained([*lines, lines[_record(lines, "attestation")]])[-1])
    forged["at"] = at_hour(23)
    return [*lines, json.dumps(forged, sort_keys=True) + "\n"]


def _truncated_last(lines: list[str]) -> list[str]:
    return [*lines[:-1], lines[-1][: len(lines[-1]) // 2]]


def _swapped(lines: list[str]) -> list[str]:
    return [lines[1], lines[0], *lines[2:]]


def _not_json_line(lines: list[str]) -> list[str]:
    return [*lines[:2], "this is not a record\n", *lines[2:]]


def _forged_without(kind: str, last: bool = False) -> object:
    """A forger's consistent ledger: a record removed, the chain re-linked, the head re-written
    (without the HMAC key: the signature no longer matches)."""

    def inject(case: Case) -> None:
        lines = ledger_lines(case.ledger)
        index = len(lines) - 1 if last else _record(lines, kind)
        case.ledger.write_text("".join(rechained(lines[:index] + lines[index + 1 :])))
        (case.evidence / "ledger.head").unlink()
        Store(case.evidence).write_head()

    return inject


def _bad_hmac(case: Case) -> None:
    (case.evidence / "ledger.head.hmac").write_text("0" * 64 + "\n")


def _ledger_removed(case: Case) -> None:
    case.ledger.unlink()


def _head_garbage(case: Case) -> None:
    (case.evidence / "ledger.head").write_text("{not an anchor\n")


def _lock_held_then_released(case: Case) -> None:
    """Another writer holds the ledger's lock for the first seconds of the run (a `cutover
    stage start` in progress): the run waits for it, and still records its checkpoint; the
    fault that must not pass is the other writer's broken DSN at the same time."""
    fd = os.open(case.ledger, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    timer = threading.Timer(1.5, lambda: os.close(fd))
    timer.start()
    case.cleanups.append(timer.join)
    _closed_port(case)


def _xdist(inject: object) -> object:
    def both(case: Case) -> None:
        inject(case)  # type: ignore[operator]
        case.args += ["-p", "xdist", "-n", "2"]

    return both


def _path(name: str) -> object:
    """The input as the reasons name it: the RLM log, the router log, the metric series."""
    role = {RLM: "RLM log", ROUTER: "router log", METRICS: "metric"}[name]
    return lambda case: role


def _text(text: str) -> object:
    return lambda case: text


def _ledger_file(case: Case) -> str:
    return str(case.ledger)


NOT_RECORDED = "checkpoint not recorded"
VERIFY = "cutover verify"

FAULTS = [
    # database
    Fault("db-closed-port", _closed_port, DATABASE, _text("source unavailable: database")),
    Fault("db-no-such-database", lambda c: _dsn(c, dbname="nope"), DATABASE, _text("database")),
    Fault("db-unknown-role", lambda c: _dsn(c, user="nobody"), DATABASE, _text("database")),
    Fault(
        "db-empty-table", _sql("TRUNCATE user_profiles"), DATABASE, _text("no v2 import started")
    ),
    Fault(
        "db-rls-hides-every-row",
        _sql("ALTER TABLE user_profiles ENABLE ROW LEVEL SECURITY"),
        DATABASE,
        _text("no v2 import started"),
    ),
    Fault(
        "db-select-revoked",
        _sql(f"REVOKE SELECT ON user_profiles FROM {READER_ROLE}"),
        DATABASE,
        _text("permission denied"),
    ),
    Fault(
        "db-column-dropped",
        _sql("ALTER TABLE user_profiles DROP COLUMN full_pass_status"),
        DATABASE,
        _text("full_pass_status"),
    ),
    Fault(
        "db-table-renamed",
        _sql("ALTER TABLE user_profiles RENAME TO user_profiles_old"),
        DATABASE,
        _text("user_profiles"),
    ),
    Fault("db-table-locked", _locked_table, DATABASE, _text("timeout")),
    Fault(
        "db-no-start-instants",
        _sql("UPDATE user_profiles SET full_pass_started_at = NULL"),
        DATABASE,
        _text("no v2 import started"),
    ),
    Fault(
        "db-every-start-in-the-future",
        _sql("UPDATE user_profiles SET full_pass_started_at = full_pass_started_at + '400 days'"),
        DATABASE,
        _text("no v2 import started"),
    ),
    # logs: the RLM's
    Fault("rlm-log-missing", _export(RLM, _remove), READS_RLM, _path(RLM)),
    Fault("rlm-log-empty", _export(RLM, _empty), READS_RLM, _path(RLM)),
    Fault("rlm-log-directory", _export(RLM, _directory), READS_RLM, _path(RLM)),
    Fault("rlm-log-2h-binary-junk", _export(RLM, _junk_span(10, 12)), READS_RLM, _path(RLM)),
    Fault("rlm-log-20h-hole", _export(RLM, _hole(2, 22)), READS_RLM, _path(RLM)),
    Fault(
        "rlm-log-ends-13h-early-then-future",
        _export(RLM, _ends_early_then_future(13)),
        READS_RLM,
        _path(RLM),
    ),
    Fault("rlm-log-starts-12h-late", _export(RLM, _hole(-100, 12)), READS_RLM, _path(RLM)),
    Fault("rlm-log-all-after-as-of", _export(RLM, _all_shifted_later), READS_RLM, _path(RLM)),
    Fault(
        "rlm-log-all-junk", _export(RLM, lambda p: p.write_bytes(JUNK * 500)), READS_RLM, _path(RLM)
    ),
    # logs: the router's
    Fault("router-log-missing", _export(ROUTER, _remove), READS_ROUTER, _path(ROUTER)),
    Fault("router-log-empty", _export(ROUTER, _empty), READS_ROUTER, _path(ROUTER)),
    Fault("router-log-directory", _export(ROUTER, _directory), READS_ROUTER, _path(ROUTER)),
    Fault("router-log-20h-hole", _export(ROUTER, _hole(2, 22)), READS_ROUTER, _path(ROUTER)),
    Fault(
        "router-log-2h-binary-junk",
        _export(ROUTER, _junk_span(10, 12)),
        READS_ROUTER,
        _path(ROUTER),
    ),
    Fault(
        "router-log-ends-13h-early-then-future",
        _export(ROUTER, _ends_early_then_future(13)),
        READS_ROUTER,
        _path(ROUTER),
    ),
    Fault(
        "router-log-all-after-as-of",
        _export(ROUTER, _all_shifted_later),
        READS_ROUTER,
        _path(ROUTER),
    ),
    Fault(
        "router-log-no-percent-field",
        _export(ROUTER, _replace_in(b'"v2RolloutPercent"', b'"v2Percent"')),
        READS_ROUTER,
        _path(ROUTER),
    ),
    Fault(
        "router-log-not-json",
        _export(ROUTER, lambda p: p.write_bytes(p.read_bytes().replace(b"{", b"<"))),
        READS_ROUTER,
        _path(ROUTER),
    ),
    # metrics
    Fault("metrics-missing", _export(METRICS, _remove), READS_RLM, _path(METRICS)),
    Fault("metrics-empty", _export(METRICS, _empty), READS_RLM, _path(METRICS)),
    Fault(
        "metrics-header-only",
        _export(METRICS, lambda p: edit_lines(p, lambda lines: lines[:1])),
        READS_RLM,
        _path(METRICS),
    ),
    Fault(
        "metrics-no-header",
        _export(METRICS, lambda p: edit_lines(p, lambda lines: lines[1:])),
        READS_RLM,
        _path(METRICS),
    ),
    Fault(
        "metrics-cell-not-a-number",
        _export(METRICS, _metrics_cell(1, "x")),
        READS_RLM,
        _path(METRICS),
    ),
    Fault("metrics-cell-nan", _export(METRICS, _metrics_cell(1, "nan")), READS_RLM, _path(METRICS)),
    Fault("metrics-cell-inf", _export(METRICS, _metrics_cell(1, "inf")), READS_RLM, _path(METRICS)),
    Fault(
        "metrics-timestamp-not-an-instant",
        _export(METRICS, _metrics_cell(0, "yesterday")),
        READS_RLM,
        _path(METRICS),
    ),
    Fault("metrics-20h-hole", _export(METRICS, _hole(2, 22)), READS_RLM, _path(METRICS)),
    Fault(
        "metrics-ends-13h-early-then-future",
        _export(METRICS, _ends_early_then_future(13)),
        READS_RLM,
        _path(METRICS),
    ),
    Fault(
        "metrics-column-missing",
        _export(METRICS, _replace_in(b"memory_mb", b"mem", 1)),
        READS_RLM,
        _path(METRICS),
    ),
    # configuration: refused before any criterion (usage error, exit 4)
    Fault("profile-nan", _profile("success_rate_min_pct = nan"), (), _text("success_rate_min_pct")),
    Fault("profile-inf", _profile("success_rate_min_pct = inf"), (), _text("success_rate_min_pct")),
    Fault(
        "profile-out-of-range",
        _profile("success_rate_min_pct = 150"),
        (),
        _text("success_rate_min_pct"),
    ),
    Fault(
        "profile-wrong-type",
        _profile('success_rate_min_pct = "ninety"'),
        (),
        _text("success_rate_min_pct"),
    ),
    Fault(
        "profile-timeout-not-positive",
        _profile("connect_timeout_seconds = 0"),
        (),
        _text("connect_timeout_seconds"),
    ),
    Fault(
        "profile-unknown-key",
        _profile("success_rate_min_pc = 99"),
        (),
        _text("success_rate_min_pc"),
    ),
    Fault("config-not-toml", _config_text("[profile\n"), (), _text("cutover.toml")),
    Fault(
        "config-missing",
        _setting("CUTOVER_CONFIG", "/nonexistent/cutover.toml"),
        (),
        _text("/nonexistent/cutover.toml"),
    ),
    Fault(
        "as-of-a-year-ahead",
        _setting("CUTOVER_AS_OF", "2027-12-31T00:00:00Z"),
        (),
        _text("CUTOVER_AS_OF"),
    ),
    Fault("as-of-malformed", _setting("CUTOVER_AS_OF", "yesterday"), (), _text("CUTOVER_AS_OF")),
    Fault("database-url-stray-whitespace", _stray_whitespace, (), _text("CUTOVER_DATABASE_URL")),
    Fault(
        "rlm-url-without-scheme",
        _setting("CUTOVER_RLM_URL", "127.0.0.1:8000"),
        (),
        _text("CUTOVER_RLM_URL"),
    ),
    Fault(
        "router-log-tz-unknown",
        _setting("CUTOVER_ROUTER_LOG_TZ", "Mars/Olympus_Mons"),
        (),
        _text("CUTOVER_ROUTER_LOG_TZ"),
    ),
    # evidence directory
    Fault("evidence-disk-full", _disk_full, READS_LEDGER, _ledger_file, NOT_RECORDED),
    Fault(
        "evidence-dir-is-a-file",
        _evidence_is_a_file,
        READS_LEDGER,
        _text("not-a-directory"),
        NOT_RECORDED,
    ),
    Fault(
        "evidence-head-is-a-directory",
        _head_is_a_directory,
        READS_LEDGER,
        _text("ledger.head"),
        NOT_RECORDED,
    ),
    # ledger
    Fault(
        "ledger-record-changed", _ledger(_changed_attestation), READS_LEDGER, _ledger_file, VERIFY
    ),
    Fault("ledger-last-record-changed", _ledger(_changed_last), READS_LEDGER, _ledger_file, VERIFY),
    Fault(
        "ledger-last-record-deleted",
        _ledger(lambda lines: lines[:-1]),
        READS_LEDGER,
        _ledger_file,
        VERIFY,
    ),
    Fault(
        "ledger-record-appended-by-hand",
        _ledger(_appended_by_hand),
        READS_LEDGER,
        _ledger_file,
        VERIFY,
    ),
    Fault(
        "ledger-last-line-truncated", _ledger(_truncated_last), READS_LEDGER, _ledger_file, VERIFY
    ),
    Fault("ledger-records-reordered", _ledger(_swapped), READS_LEDGER, _ledger_file, VERIFY),
    Fault("ledger-line-not-json", _ledger(_not_json_line), READS_LEDGER, _ledger_file, VERIFY),
    Fault("ledger-removed", _ledger_removed, READS_LEDGER, _text("ledger"), VERIFY),
    Fault("ledger-head-garbage", _head_garbage, READS_LEDGER, _text("ledger.head"), VERIFY),
    Fault(
        "ledger-forged-without-6h-checkpoint",
        _forged_without("checkpoint", last=True),
        ("stage1.success_rate",),
        _text("ledger.head.hmac"),  # re-chained without the key: its signature does not match
        VERIFY,
    ),
    Fault(
        "ledger-forged-without-stage-start",
        _forged_without("stage_started"),
        ("stage1.elapsed",),
        _text("ledger.head.hmac"),  # re-chained without the key: its signature does not match
        VERIFY,
    ),
    Fault(
        "ledger-forged-without-attestation",
        _forged_without("attestation"),
        ("stage1.complaints",),
        _text("ledger.head.hmac"),  # re-chained without the key: its signature does not match
        VERIFY,
    ),
    # concurrency
    Fault(
        "concurrent-writer-holds-the-lock", _lock_held_then_released, DATABASE, _text("database")
    ),
    Fault(
        "xdist-ledger-broken",
        _xdist(_ledger(_changed_attestation)),
        READS_LEDGER,
        _ledger_file,
        VERIFY,
    ),
    Fault("xdist-rlm-log-missing", _xdist(_export(RLM, _remove)), READS_RLM, _path(RLM)),
    Fault("xdist-database-unreachable", _xdist(_closed_port), DATABASE, _text("database")),
    Fault("xdist-disk-full", _xdist(_disk_full), READS_LEDGER, _ledger_file, NOT_RECORDED),
]


# gate runs check the head's signature they find when given the key, as `cutover verify` does
FAULTS.append(
    Fault("ledger-hmac-mismatch", _bad_hmac, READS_LEDGER, _text("ledger.head.hmac"), VERIFY)
)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_a_fault_never_proceeds(world: World, tmp_path: Path, fault: Fault) -> None:
    assert_fails_closed(run_case(world, tmp_path, fault), fault)
