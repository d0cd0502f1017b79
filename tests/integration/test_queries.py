"""The SQL files against a real (embedded) Postgres: hand-made rows, read through the sources."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from cutover.outcome import Window
from cutover.paths import sql_dir
from cutover.profile import Profile
from cutover.sources import imports
from cutover.sources.database import Database, connect
from cutover.targets.embedded import embedded_postgres

TIMEOUTS = {
    "statement_timeout_ms": Profile().statement_timeout_ms,
    "connect_timeout_seconds": Profile().connect_timeout_seconds,
}

T0 = datetime(2026, 2, 2, 10, tzinfo=UTC)
AS_OF = datetime(2026, 2, 2, 12, tzinfo=UTC)
WINDOW = Window(datetime(2026, 2, 2, 8, tzinfo=UTC), AS_OF)
STUCK_AFTER = 120
COLUMNS = (
    "full_pass_status",
    "full_pass_started_at",
    "full_pass_completed_at",
    "full_pass_error",
    "memory_md",
)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with embedded_postgres() as dsn:
        yield dsn


@pytest.fixture
def admin(server: str) -> Iterator[psycopg.Connection[Any]]:
    """A writer session in UTC (as the real writer's strings are UTC) on a fresh table."""
    with psycopg.connect(server, autocommit=True, options="-c TimeZone=UTC") as conn:
        conn.execute("DROP TABLE IF EXISTS public.user_profiles")
        for name in ("schema", "indexes"):
            conn.execute((sql_dir() / f"{name}.sql").read_text(encoding="utf-8").encode())
        yield conn


@pytest.fixture
def db(server: str, admin: psycopg.Connection[Any]) -> Iterator[Database]:
    connection = connect(server, **TIMEOUTS)
    try:
        yield Database(connection)
    finally:
        connection.close()


def insert(
    conn: psycopg.Connection[Any],
    status: str | None,
    started: str | None,
    completed: str | None = None,
    error: str | None = None,
    memory_md: str | None = "# memory",
    user: str | None = None,
) -> str:
    """One row, timestamps as naive ISO strings (as the RLM writes them)."""
    user_id = user or str(uuid.uuid4())
    conn.execute(
        f"INSERT INTO public.user_profiles (user_id, {', '.join(COLUMNS)}) "
        "VALUES (%s, %s, %s::text::timestamptz, %s::text::timestamptz, %s, %s)",
        (user_id, status, started, completed, error, memory_md),
    )
    return user_id


def ts(moment: datetime) -> str:
    """A naive UTC ISO string, as the RLM's `datetime.utcnow().isoformat()`."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


# -- Query 3 ------------------------------------------------------------------------------------


def test_exactly_30_minutes_is_over_30(admin: psycopg.Connection[Any], db: Database) -> None:
    insert(admin, "complete", "2026-02-02 10:00:00", "2026-02-02 10:30:00")
    insert(admin, "complete", "2026-02-02 10:00:00", "2026-02-02 10:29:59.4")  # 29.99 min
    insert(admin, "complete", "2026-02-02 10:00:00", "2026-02-02 10:04:59")
    insert(admin, "complete", "2026-02-02 10:00:00", "2026-02-02 10:05:00")
    d = imports.read_durations(db, WINDOW, 30)
    assert d.buckets == {"<5min": 1, "5-10min": 1, "20-30min": 1, ">30min": 1}
    assert d.count == 4


def test_durations_only_count_complete_rows_settled_by_as_of(
    admin: psycopg.Connection[Any], db: Database
) -> None:
    insert(admin, "complete", "2026-02-02 11:00:00", "2026-02-02 11:06:00")
    insert(admin, "complete", "2026-02-02 11:00:00", "2026-02-02 12:30:00")  # after as_of
    insert(admin, "failed", "2026-02-02 11:00:00", error="x")
    insert(admin, "complete", "2026-02-02 07:00:00", "2026-02-02 07:06:00")  # before the window
    d = imports.read_durations(db, WINDOW, 30)
    assert d.buckets == {"5-10min": 1}
    assert d.bins == {6.0: 1}


# -- time zones ---------------------------------------------------------------------------------


def test_naive_utc_strings_read_in_a_utc_session(
    admin: psycopg.Connection[Any], db: Database
) -> None:
    admin.execute("SET TIME ZONE 'UTC'")
    insert(admin, "complete", "2026-02-02 11:59:00", "2026-02-02 11:59:30")
    assert db.connection.execute("SHOW TimeZone").fetchone() == {"TimeZone": "UTC"}
    inside = imports.read_success(db, Window(T0, AS_OF), STUCK_AFTER)
    assert inside.total == 1
    hours = imports.read_timeline(db, Window(T0, AS_OF))
    assert [(h.hour, h.started) for h in hours] == [(datetime(2026, 2, 2, 11, tzinfo=UTC), 1)]
    # the row's instant is 11:59Z: a window ending at 11:30Z does not hold it
    before = imports.read_success(db, Window(T0, AS_OF - timedelta(minutes=30)), STUCK_AFTER)
    assert before.total == 0


def test_naive_strings_written_in_another_zone_shift(
    admin: psycopg.Connection[Any], db: Database
) -> None:
    """Why the writer must be in UTC: the same string in New York is five hours later."""
    admin.execute("SET TIME ZONE 'America/New_York'")
    insert(admin, "complete", "2026-02-02 11:59:00", "2026-02-02 11:59:30")
    assert imports.read_success(db, Window(T0, AS_OF), STUCK_AFTER).total == 0
    later = imports.read_success(db, Window(AS_OF, AS_OF + timedelta(hours=6)), STUCK_AFTER)
    assert later.total == 1


# -- Query 1 ------------------------------------------------------------------------------------


def test_query1_as_of_semantics(admin: psycopg.Connection[Any], db: Database) -> None:
    insert(admin, "complete", "2026-02-02 11:00:00", "2026-02-02 11:10:00")
    insert(admin, "complete", "2026-02-02 11:30:00", "2026-02-02 12:30:00")  # in flight then
    insert(admin, "complete", "2026-02-02 09:00:00", "2026-02-02 12:30:00")  # stuck then
    insert(admin, "complete", "2026-02-02 12:10:00", "2026-02-02 12:20:00")  # not started yet
    insert(admin, "failed", "2026-02-02 11:00:00", error="Pipeline failed: X")
    insert(admin, "processing", "2026-02-02 09:59:00")  # stuck: started > 2 h before as_of
    insert(admin, "processing", "2026-02-02 10:00:00")  # exactly 2 h: in flight
    c = imports.read_success(db, WINDOW, STUCK_AFTER)
    assert (c.total, c.complete, c.failed, c.stuck, c.in_flight) == (6, 1, 1, 2, 2)
    assert c.query1_rate_pct == round(100 / 6, 2)
    assert c.settled_rate_pct == 25.0


def test_query1_rate_is_null_without_rows(admin: psycopg.Connection[Any], db: Database) -> None:
    c = imports.read_success(db, WINDOW, STUCK_AFTER)
    assert (c.total, c.query1_rate_pct, c.settled_rate_pct) == (0, None, None)


def test_rows_never_touched_by_v2_are_excluded(
    admin: psycopg.Connection[Any], db: Database
) -> None:
    for _ in range(3):
        insert(admin, "pending", None, memory_md=None)
    admin.execute("INSERT INTO public.user_profiles (user_id) VALUES (gen_random_uuid())")
    insert(admin, "complete", "2026-02-02 11:00:00", "2026-02-02 11:10:00")
    c = imports.read_success(db, WINDOW, STUCK_AFTER)
    assert (c.total, c.complete, c.query1_rate_pct) == (1, 1, 100.0)
    assert imports.read_stuck(db, AS_OF, STUCK_AFTER) == []
    assert imports.read_error_patterns(db, WINDOW, 1000) == []
    assert [h.started for h in imports.read_timeline(db, WINDOW)] == [1]


# -- Query 2 ------------------------------------------------------------------------------------


def test_query2_lists_processing_over_2h_oldest_first(
    admin: psycopg.Connection[Any], db: Database
) -> None:
    newer = insert(admin, "processing", "2026-02-02 09:00:00")
    oldest = insert(admin, "processing", "2026-02-01 12:00:00")
    insert(admin, "processing", "2026-02-02 10:00:00")  # exactly 2 h: not stuck yet
    insert(admin, "processing", "2026-02-02 11:00:00")
    insert(admin, "failed", "2026-02-01 12:00:00", error="boom")
    insert(admin, "complete", "2026-02-01 12:00:00", "2026-02-01 12:10:00")
    stuck = imports.read_stuck(db, AS_OF, STUCK_AFTER)
    assert [(s.user_id, s.minutes_stuck) for s in stuck] == [(oldest, 24 * 60), (newer, 180)]
    assert stuck[0].started_at == datetime(2026, 2, 1, 12, tzinfo=UTC)


# -- Query 4 ------------------------------------------------------------------------------------


def test_query4_groups_by_exact_text(admin: psycopg.Connection[Any], db: Database) -> None:
    key = "Pipeline failed: RuntimeError: No API key configured"
    for _ in range(3):
        insert(admin, "failed", "2026-02-02 11:00:00", error=key)
    insert(admin, "failed", "2026-02-02 11:00:00", error=key + ".")  # another text
    insert(admin, "failed", "2026-02-02 07:00:00", error=key)  # before the window
    insert(admin, "complete", "2026-02-02 11:00:00", "2026-02-02 11:05:00", error=key)
    insert(admin, "failed", "2026-02-02 11:30:00", error=key)
    patterns = imports.read_error_patterns(db, WINDOW, 1000)
    eleven, half_past = (
        datetime(2026, 2, 2, 11, tzinfo=UTC),
        datetime(2026, 2, 2, 11, 30, tzinfo=UTC),
    )
    assert patterns == [
        imports.ErrorPattern(key, 4, 4, eleven, half_past),
        imports.ErrorPattern(key + ".", 1, 1, eleven, eleven),
    ]
    hours = imports.read_error_hours(db, WINDOW)
    assert [(h.text, h.hour, h.count) for h in hours] == [(key, eleven, 4), (key + ".", eleven, 1)]


# -- integrity ----------------------------------------------------------------------------------


def test_integrity_finds_one_row_per_invariant(
    admin: psycopg.Connection[Any], db: Database
) -> None:
    admin.execute(
        "ALTER TABLE public.user_profiles DROP CONSTRAINT user_profiles_full_pass_status_check"
    )
    now = datetime.now(UTC)
    start, end = ts(now - timedelta(hours=2)), ts(now - timedelta(hours=1))
    seeded = {
        "complete_without_completed_at": insert(admin, "complete", start),
        "completed_before_started": insert(admin, "complete", end, start),
        "complete_without_memory_md": insert(admin, "complete", start, end, memory_md="  "),
        "failed_without_error": insert(admin, "failed", start, error=""),
        "processing_without_started_at": insert(admin, "processing", None),
        "status_not_allowed": insert(admin, "done", start, end),
        "started_in_future": insert(admin, "processing", ts(now + timedelta(hours=1))),
    }
    insert(admin, "complete", start, end)  # healthy rows alongside
    insert(admin, "failed", start, error="Pipeline failed: X")
    window = Window(now - timedelta(hours=24), now)
    rows, sha = imports.read_integrity(db, window, 20)
    assert {(r.invariant, r.user_id, r.broken_rows) for r in rows} == {
        (name, user, 1) for name, user in seeded.items()
    }
    assert len(sha) == 64


def test_integrity_healthy_set_has_no_rows(admin: psycopg.Connection[Any], db: Database) -> None:
    now = datetime.now(UTC)
    start, end = ts(now - timedelta(hours=2)), ts(now - timedelta(hours=1))
    insert(admin, "complete", start, end)
    insert(admin, "failed", start, error="Pipeline failed: TimeoutError: timed out")
    insert(admin, "processing", ts(now - timedelta(minutes=5)))
    insert(admin, "pending", None, memory_md=None)
    rows, _ = imports.read_integrity(db, Window(now - timedelta(hours=24), now), 20)
    assert rows == []


# -- the rollback triggers' stream --------------------------------------------------------------


def test_at_a_stage_start_the_triggers_stream_keeps_the_stage_before(
    admin: psycopg.Connection[Any], db: Database
) -> None:
    """Stage 2 starts at the instant measured: its own imports are none yet, so the stream is
    the stage in force at the window's start (stage 1), and 90% of 300 rolls back."""
    from cutover import gate
    from cutover.criteria.registry import Context
    from cutover.ledger.records import Entry, Origin, StageStarted
    from cutover.ledger.view import LedgerView
    from cutover.measure import Inputs, rollback
    from cutover.outcome import Outcome
    from cutover.profile import Profile

    start = AS_OF - timedelta(hours=20)
    for i in range(300):
        at = ts(start + timedelta(minutes=4 * i))
        if i % 10 == 0:
            insert(admin, "failed", at, error="x")
        else:
            insert(admin, "complete", at, ts(start + timedelta(minutes=4 * i + 3)))
    origin = Origin.seeded("t")
    events = [StageStarted(1, 10, start, origin), StageStarted(2, 50, AS_OF, origin)]
    view = LedgerView([Entry(n, e.to_json()) for n, e in enumerate(events, 1)], AS_OF)
    inputs = Inputs(Profile(), AS_OF, database=lambda: db, ledger=lambda: view)
    rates = rollback.recent_success(inputs, "rollback.success_rate")
    assert rates.stream_of == "stage 1" and rates.stream.settled == 300
    ctx = Context(profile=Profile(), as_of=AS_OF, target="seeded")
    r = gate.decide("rollback.success_rate", lambda: rates, ctx)
    assert r.outcome is Outcome.FAIL, r.reason


def test_more_error_texts_than_read_are_marked_not_cut(
    admin: psycopg.Connection[Any], db: Database
) -> None:
    """The measurement reads one text past the profile's limit: three distinct texts with a
    limit of two keep the two most frequent and say the list is cut; a limit of three does not."""
    from cutover.ledger.records import Entry, Origin, StageStarted
    from cutover.ledger.view import LedgerView
    from cutover.measure import Inputs
    from cutover.measure.stage import error_patterns

    for text, n in (("a", 3), ("b", 2), ("c", 1)):
        for _ in range(n):
            insert(admin, "failed", "2026-02-02 11:00:00", error=text)
    start = StageStarted(1, 10, T0, Origin.seeded("t"))
    view = LedgerView([Entry(1, start.to_json())], AS_OF)
    for most, cut in ((2, 2), (3, None)):
        profile = Profile(error_texts_max_rows=most)
        inputs = Inputs(profile, AS_OF, database=lambda: db, ledger=lambda: view)
        e = error_patterns(inputs, "stage1.systemic_errors")
        assert [p.text for p in e.patterns] == ["a", "b", "c"][:most]
        assert e.more_texts_than == cut
