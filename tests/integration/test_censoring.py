"""Slowness that hides in imports still running (censoring), on a real (embedded) Postgres.

The world: 40 v2 imports an hour; from +2 h to +10 h 30% of them take 31-45 minutes, the rest
~4. The slow-import trigger run every 15 minutes from its first detection must never pass until
the slowness really ends (and then pass); the histogram and the stage-2 comparison count the
imports still running past the limit as slow.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from cutover import gate
from cutover.criteria.registry import Context
from cutover.measure import Inputs, rollback
from cutover.measure.stage import DurationComparison
from cutover.outcome import Action, Outcome, Window
from cutover.paths import sql_dir
from cutover.profile import Profile
from cutover.sources import imports
from cutover.sources.database import Database, connect
from cutover.targets.embedded import embedded_postgres

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
SLOW_FROM, SLOW_UNTIL = T0 + timedelta(hours=2), T0 + timedelta(hours=10)
PROFILE = Profile()


def world(seed: int = 4) -> list[tuple[str, datetime, datetime]]:
    """(user, started, completed) for every import from -1 h to +14 h."""
    rng = random.Random(seed)
    rows = []
    at = T0 - timedelta(hours=1)
    while at < T0 + timedelta(hours=14):
        at += timedelta(hours=rng.expovariate(40.0))
        slow = SLOW_FROM <= at < SLOW_UNTIL and rng.random() < 0.30
        minutes = rng.uniform(31, 45) if slow else rng.lognormvariate(1.386, 0.45)  # ~4 min
        rows.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                at,
                at + timedelta(minutes=minutes),
            )
        )
    return rows


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with embedded_postgres() as dsn:
        with psycopg.connect(dsn, autocommit=True, options="-c TimeZone=UTC") as admin:
            for name in ("schema", "indexes"):
                admin.execute((sql_dir() / f"{name}.sql").read_text(encoding="utf-8").encode())
            with admin.cursor() as cur:
                cur.executemany(
                    "INSERT INTO public.user_profiles (user_id, full_pass_status, "
                    "full_pass_started_at, full_pass_completed_at, memory_md) "
                    "VALUES (%s, 'complete', %s, %s, '# memory')",
                    world(),
                )
        connection = connect(dsn, statement_timeout_ms=30_000, connect_timeout_seconds=10)
        try:
            yield Database(connection)
        finally:
            connection.close()


def slow_trigger(db: Database, as_of: datetime) -> Any:
    inputs = Inputs(PROFILE, as_of, database=lambda: db)
    ctx = Context(profile=PROFILE, as_of=as_of, target="seeded")
    return gate.decide("rollback.slow_imports", lambda: rollback.slow_history(inputs, ""), ctx)


def test_the_monitor_never_passes_until_the_slowness_ends(db: Database) -> None:
    looks = [T0 + timedelta(minutes=15 * k) for k in range(4 * 2, 4 * 14 + 1)]
    results = [(at, slow_trigger(db, at)) for at in looks]
    first = next(at for at, r in results if r.outcome is Outcome.FAIL)
    assert first <= SLOW_FROM + timedelta(hours=1, minutes=45)  # the first slow hour, once known
    # the last slow hour (9:00-10:00 after T0) is known 30 min after it ends, the next one
    # (fast again) 30 min after that: until then every look fails
    recovered = SLOW_UNTIL + timedelta(hours=1, minutes=30)
    during = [(at, r) for at, r in results if first <= at < recovered]
    assert [r.outcome for _, r in during] == [Outcome.FAIL] * len(during), [
        (at.isoformat(), r.reason) for at, r in during if r.outcome is not Outcome.FAIL
    ]
    # HOLD first, then ROLLBACK once 6 known hours are slow, and it stays ROLLBACK
    actions = [r.action for _, r in during]
    rolled = actions.index(Action.ROLLBACK)
    assert set(actions[:rolled]) == {Action.HOLD}
    assert set(actions[rolled:]) == {Action.ROLLBACK}
    after = [r.outcome for at, r in results if at >= recovered]
    assert after and set(after) == {Outcome.PASS}
    assert any(r.details["in_flight_slow"] > 0 for _, r in during)


def test_the_histogram_counts_imports_running_past_the_limit_as_slow(db: Database) -> None:
    """At +4 h, the slow imports of the last half hour are still running: the histogram counts
    those past 30 minutes (and leaves the younger out) instead of reporting them fast."""
    as_of = T0 + timedelta(hours=4)
    window = Window(T0 + timedelta(hours=3), as_of)
    d = imports.read_durations(db, window, PROFILE.slow_import_minutes)
    assert d.in_flight_count > 0
    assert min(d.in_flight_slow) >= PROFILE.slow_import_minutes
    ctx = Context(profile=PROFILE, as_of=as_of, target="seeded", criterion="stage1.duration")
    r = gate.decide("stage1.duration", lambda: _slices(d), ctx)
    assert r.details["in_flight_slow"] == d.in_flight_count
    assert r.outcome is Outcome.FAIL, r.reason
    # the comparison with stage 1 counts them too
    baseline = imports.read_durations(
        db, Window(T0 - timedelta(hours=1), T0 + timedelta(hours=2)), 30
    )
    ctx2 = Context(
        profile=PROFILE, as_of=as_of, target="seeded", criterion="stage2.duration_vs_stage1"
    )
    comparison = DurationComparison(d, baseline.bins)
    c = gate.decide("stage2.duration_vs_stage1", lambda: comparison, ctx2)
    assert c.details["in_flight_slow"] == d.in_flight_count
    assert f"{d.in_flight_count} in flight past 30 min counted as slow" in str(c.measured)


def _slices(d: imports.Durations) -> Any:
    from cutover.measure.stage import DurationSlices

    return DurationSlices(d.window, (d,))
