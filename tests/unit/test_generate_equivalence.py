"""The scenario generator's views agree, its draws stay put, and seeding escapes COPY text."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.scenarios.artifacts.common import token
from cutover.scenarios.generate import (
    ImportRow,
    RoutedRequest,
    import_rows,
    request_outcomes,
    requests_with_rows,
    rollout_percent_at,
    routed_requests,
    uuid4_bits,
    uuid_text,
)
from cutover.scenarios.model import Scenario, load_scenario
from cutover.scenarios.seed import CopyClock, copy_text, seed_database
from cutover.targets.embedded import embedded_postgres

# Overlapping segments, a v2_share_pct override, stuck, failed and direct requests, a stage event
# out of order, and error texts that COPY must escape (tab, newline, backslash, carriage return).
SCENARIO = r"""
t0 = "2026-03-02T09:00:00Z"
seed = 11

[database]
background_users = 25

[[stage]]
stage = 1
at = "0h"

[[stage]]
stage = 2
at = "3h"

[[stage]]
stage = 3
at = "150m"

[[traffic]]
from = "-2h"
to = "6h"
requests_per_hour = 75.5
direct_v1_per_hour = 6.3
failure_pct = 20
stuck_pct = 5
errors = ["boom {user}\ttab\\backslash", "Pipeline failed: \"quoted\"\nnext line\r\nend"]

[[traffic]]
from = "1h"
to = "270m"
requests_per_hour = 40
v2_share_pct = 70
failure_pct = 10
direct_v1_per_hour = 2

[[traffic]]
from = "2h"
to = "3h"
requests_per_hour = 33
v2_share_pct = 0
"""

# Fingerprints of routed_requests and import_rows for SCENARIO, taken from the generator before it
# was rewritten for speed: the same seed must keep giving the same requests and rows.
REQUESTS_SHA256 = "3d5b211994daee7e195240994f6d539eb3ef5bff6fdfcd71ae8fd772e507531b"
ROWS_SHA256 = "dcc375f3f35d0ea03973241208a7f4f88b93ee0836c23510d21b21fedc1b5515"
COUNTS = (834, 251)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


@pytest.fixture()
def scenario(tmp_path: Path) -> Scenario:
    (tmp_path / "mixed.toml").write_text(SCENARIO, encoding="utf-8")
    return load_scenario("mixed", directory=tmp_path)


def _fingerprint(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _request_line(r: RoutedRequest) -> str:
    return f"{r.at.isoformat()}|{r.user_id}|{r.v2}|{r.percent}|{r.direct}"


def _row_line(r: ImportRow) -> str:
    return f"{r.user_id}|{r.status}|{r.started_at!r}|{r.completed_at!r}|{r.error!r}|{r.memory_md!r}"


def test_same_requests_and_rows_as_before(scenario: Scenario) -> None:
    requests = list(routed_requests(scenario))
    rows = list(import_rows(scenario))
    assert (len(requests), len(rows)) == COUNTS
    assert _fingerprint(map(_request_line, requests)) == REQUESTS_SHA256
    assert _fingerprint(map(_row_line, rows)) == ROWS_SHA256
    # the scenario exercises what it is meant to
    assert {r.status for r in rows} == {"complete", "failed", "processing"}
    assert any(r.direct for r in requests)
    assert {r.percent for r in requests} == {0, 10, 50, 100}


def test_views_agree(scenario: Scenario) -> None:
    requests = list(routed_requests(scenario))
    rows = list(import_rows(scenario))
    pairs = list(requests_with_rows(scenario))
    assert [request for request, _ in pairs] == requests
    assert [row for _, row in pairs if row is not None] == rows
    assert all((row is not None) == request.v2 for request, row in pairs)
    assert all(row is None or row.user_id == request.user_id for request, row in pairs)

    outcomes = list(request_outcomes(scenario))
    assert [o[:5] for o in outcomes] == [
        ((r.at - EPOCH) // US, str(r.user_id), r.v2, r.percent, r.direct) for r in requests
    ]
    errors = [row.error if row is not None and row.status == "failed" else None for _, row in pairs]
    assert [o[5] for o in outcomes] == errors


def test_rollout_percent_at(scenario: Scenario) -> None:
    t0 = scenario.t0
    expected = {-1: 0, 0: 10, 149: 10, 150: 100, 179: 100, 180: 50, 600: 50}
    for minutes, percent in expected.items():
        assert rollout_percent_at(scenario, t0 + timedelta(minutes=minutes)) == percent
    assert rollout_percent_at(scenario, t0 - US) == 0


def test_fast_helpers_match_the_library() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        bits = rng.getrandbits(128)
        assert uuid_text(uuid4_bits(bits)) == str(uuid.UUID(int=bits, version=4))
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    ours, theirs = random.Random(9), random.Random(9)
    for length in (5, 12, 17, 24):
        assert token(ours, length) == "".join(theirs.choice(alphabet) for _ in range(length))
    assert ours.random() == theirs.random()


def test_copy_text_escaping() -> None:
    assert copy_text("plain") == "plain"
    assert copy_text("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert copy_text("\\t") == "\\\\t"  # a backslash and a t, not a tab


def test_seeded_rows_read_back_unchanged(scenario: Scenario) -> None:
    rows = {row.user_id: row for row in import_rows(scenario)}
    assert any("\t" in (r.error or "") and "\\" in (r.error or "") for r in rows.values())
    assert any("\n" in (r.error or "") and "\r" in (r.error or "") for r in rows.values())
    with embedded_postgres() as dsn:
        seeded = seed_database(dsn, scenario)
        with psycopg.connect(dsn) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            found = conn.execute(
                "SELECT user_id, full_pass_status, full_pass_started_at, full_pass_completed_at,"
                " full_pass_error, memory_md, updated_at, display_name, total_conversations"
                " FROM public.user_profiles"
            ).fetchall()
    assert seeded.rows == len(found) == len(rows) + scenario.database.background_users
    background = [f for f in found if f[0] not in rows]
    assert {(f[1], f[2], f[4], f[5], f[7]) for f in background} == {
        ("pending", None, None, None, "background user")
    }
    for user_id, status, started, completed, error, memory, updated, name, total in found:
        if user_id not in rows:
            continue
        row = rows[user_id]
        assert (status, error, memory, name, total) == (
            row.status,
            row.error,
            row.memory_md,
            "seeded user",
            42,
        )
        assert started == _aware(row.started_at)
        assert completed == _aware(row.completed_at)
        assert updated == _aware(row.completed_at or row.started_at)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


@settings(max_examples=500, deadline=None)
@given(
    t0=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1)),
    offsets=st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=20),
)
def test_copy_clock_writes_the_instant(t0: datetime, offsets: list[int]) -> None:
    """Seeding's timestamps (date and hour cached) read back as t0 + the offset in µs."""
    clock = CopyClock(t0.replace(tzinfo=UTC))
    for us in offsets:
        text = clock.text(us)
        assert len(text) == len("2026-02-02 09:00:00.000000")
        assert datetime.fromisoformat(text) == t0 + timedelta(microseconds=us)
