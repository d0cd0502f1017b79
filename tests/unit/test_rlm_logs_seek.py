"""RLM log reading in blocks and by seeking agrees with reading every line; seeking reads
little of a large file; the RLM's own timestamps read by the fast path (per-minute cache) equal
the general parser's."""

from __future__ import annotations

import contextlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import log_reading
from cutover.sources import rlm_logs
from cutover.sources.rlm_logs import (
    OUT_OF_ORDER_MARGIN,
    RlmLogCounts,
    count_lines,
    leading_instant,
    scan_rlm_log,
)
from cutover.timeutil import from_epoch_us, instant_us, leading_stamp_us
from log_reading import CountingFile, count_reads

T0 = datetime(2026, 2, 2, 10, tzinfo=UTC)
MARGIN_S = int(OUT_OF_ORDER_MARGIN.total_seconds())
USERS = ["u1", "u2", "u3"]
KINDS = [
    "deprecated",
    "info",
    "error_text",
    "error_comma",  # `2026-02-02 10:00:04,123 ERROR ...`: the general pattern
    "oom",
    "crash",
    "processors",
    "traceback",  # an ERROR line followed by lines without a timestamp
    "json",
    "json_error",
    "render_response",  # several entries on one line
    "render_event",
    "broken_json",
    "binary",  # no instant, control characters: unreadable, not a continuation
    "blank",
]


def tuned(**values: int) -> contextlib.AbstractContextManager[None]:
    return log_reading.tuned(rlm_logs, **values)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def render(kind: str, moment: datetime, user: str) -> list[str]:
    at = stamp(moment)
    if kind == "deprecated":
        return [f"{at} [DEPRECATED] /process-full called by user {user}"]
    if kind == "info":
        return [f"{at} INFO [v2] Received process-full-v2 request for user {user}"]
    if kind == "error_text":
        return [f"{at} ERROR [v2] user_id={user} step=pipeline status=failed"]
    if kind == "error_comma":
        text = moment.strftime("%Y-%m-%d %H:%M:%S,") + f"{moment.microsecond // 1000:03d}"
        return [f"{text} ERROR [FullPass] user_id={user} failed"]
    if kind == "oom":
        return [f"{at} Instance failed: Ran out of memory (used over 512MB)"]
    if kind == "crash":
        return [f"{at} ==> Exited with status 1"]
    if kind == "processors":
        return [f"{at} HTTP 503 Processor modules unavailable: No module named x"]
    if kind == "traceback":
        return [
            f"{at} ERROR [v2] unhandled",
            "Traceback (most recent call last):",
            '  File "processors/full_pass.py", line 12, in run',
            "MemoryError: OOMKilled",
        ]
    if kind == "json":
        return [json.dumps({"timestamp": at, "message": f"import for {user}", "level": "info"})]
    if kind == "json_error":
        return [json.dumps({"timestamp": at, "message": "pipeline failed", "level": "error"})]
    if kind == "render_response":
        later = stamp(moment + timedelta(seconds=1))
        logs = [
            {"timestamp": at, "message": f"[DEPRECATED] /process-full called by user {user}"},
            {"timestamp": later, "message": "boom", "labels": [{"name": "level", "value": "err"}]},
        ]
        return [json.dumps({"hasMore": False, "logs": logs})]
    if kind == "render_event":
        event = {"timestamp": at, "type": "server_failed", "details": {"reason": "OOMKilled"}}
        return [json.dumps({"event": event})]
    if kind == "broken_json":
        return ['{"timestamp": "' + at + '", "message": "cut']
    if kind == "binary":
        return ["\x00\x13\u00ff OOMKilled \x07"]
    assert kind == "blank"
    return [""]


def build(path: Path, specs: list[tuple[str, int, int]], step_s: int) -> Path:
    """One line per spec (kind, jitter in seconds, user index), step_s apart, each moved by its
    jitter; a first line at T0."""
    lines = [f"{stamp(T0)} INFO RLM started"]
    for index, (kind, jitter, user) in enumerate(specs):
        moment = T0 + timedelta(seconds=(index + 1) * step_s + jitter)
        lines += render(kind, moment, USERS[user])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def every_line(path: Path, start: datetime, end: datetime) -> RlmLogCounts:
    """The reference: each physical line, one at a time, through the reader's line function."""
    with open(path, "rb") as handle:
        lines = [raw.decode("utf-8", "replace") for raw in handle]
    return count_lines(lines, start, end, path=str(path))


def window_counts(result: RlmLogCounts) -> tuple[object, ...]:
    return (
        result.deprecated_calls,
        result.errors,
        result.oom_kills,
        result.crashes,
        result.processors_unavailable,
        result.deprecated_users,
        result.duplicates,
        result.coverage,  # it looks at the window only: the same whether sought or not
    )


def assert_seeking_agrees(got: RlmLogCounts, expected: RlmLogCounts) -> None:
    """The window's counts are exact; the span lies within the whole file's and holds its first
    line (the file's first and last timestamped lines are always read)."""
    assert window_counts(got) == window_counts(expected)
    assert expected.first_seen is not None and expected.last_seen is not None
    assert got.first_seen is not None and got.last_seen is not None
    assert expected.first_seen <= got.first_seen <= T0 <= got.last_seen <= expected.last_seen


line_spec = st.tuples(
    st.sampled_from(KINDS + ["deprecated", "info", "info"]),
    st.integers(-MARGIN_S // 3, MARGIN_S // 3),  # jitter (s): inversions stay within the margin
    st.integers(0, len(USERS) - 1),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(line_spec, max_size=150),
    step_s=st.sampled_from([1, 60, 600]),
    window=st.tuples(st.integers(-100, 90_000), st.integers(0, 40_000)),
    chunk=st.sampled_from([5, 300, 4096, 1 << 18]),
)
def test_blocks_and_seeking_equal_every_line(
    tmp_path_factory: pytest.TempPathFactory,
    specs: list[tuple[str, int, int]],
    step_s: int,
    window: tuple[int, int],
    chunk: int,
) -> None:
    path = build(tmp_path_factory.mktemp("rlm") / "rlm.log", specs, step_s)
    start = T0 + timedelta(seconds=window[0])
    end = start + timedelta(seconds=window[1])
    expected = every_line(path, start, end)
    with tuned(chunk=chunk):
        assert scan_rlm_log(path, start, end, margin=None) == expected
    # Seeking on (files this small are normally read whole).
    with tuned(chunk=chunk, seek_min_bytes=0, seek_resolution=64, probe_block=100):
        assert_seeking_agrees(scan_rlm_log(path, start, end), expected)


def test_lines_that_continue_an_entry_from_before_the_read_are_skipped(tmp_path: Path) -> None:
    """A traceback of an entry long before the window, where the read starts, is not counted
    as unparsed, and the traceback of an entry in the window counts with it."""
    specs = [("traceback", 0, 0)] * 3000
    path = build(tmp_path / "rlm.log", specs, 60)
    start, end = T0 + timedelta(hours=30), T0 + timedelta(hours=31)
    with tuned(seek_min_bytes=0, seek_resolution=512):
        got = scan_rlm_log(path, start, end)
    expected = every_line(path, start, end)
    assert_seeking_agrees(got, expected)
    assert got.errors == 60 and got.oom_kills == 60  # the ERROR line; "OOMKilled" in its trace
    assert got.unparsed == expected.unparsed == 0
    assert got.lines < expected.lines / 4


def ordered_file(
    path: Path, count: int, rng: random.Random, jitter_s: int, users: str = "user"
) -> None:
    """RLM lines one second apart (deprecated calls by many users, errors, health checks),
    each moved by up to jitter_s."""
    lines = []
    for i in range(count):
        moment = T0 + timedelta(seconds=i + rng.randint(-jitter_s, jitter_s))
        kind = ("deprecated", "info", "error_text", "info", "render_response")[i % 5]
        lines += render(kind, moment, f"{users}-{i}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_seeking_reads_little_of_a_large_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20260202)
    path = tmp_path / "rlm.log"
    ordered_file(path, 40_000, rng, jitter_s=MARGIN_S // 2 - 1)
    size = path.stat().st_size
    count_reads(monkeypatch)
    with tuned(seek_min_bytes=0, seek_resolution=1024, probe_block=2048):
        for a, b in ((5000, 6000), (20_000, 23_600), (36_000, 39_990), (0, 100)):
            start, end = T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)
            CountingFile.total = 0
            got = scan_rlm_log(path, start, end)
            read = CountingFile.total
            assert_seeking_agrees(got, scan_rlm_log(path, start, end, margin=None))
            assert got.deprecated_calls > 0
            assert 0 < read < size / 3, (a, b, read, size)


def test_an_unordered_file_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ordered exports concatenated: far out of order, so seeking is not trusted."""
    rng = random.Random(7)
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    ordered_file(first, 8000, rng, jitter_s=0)
    ordered_file(second, 8000, rng, jitter_s=0, users="other")  # another service's export
    path = tmp_path / "rlm.log"
    path.write_bytes(first.read_bytes() + second.read_bytes())
    count_reads(monkeypatch)
    start, end = T0 + timedelta(minutes=30), T0 + timedelta(minutes=40)
    CountingFile.total = 0
    with tuned(seek_min_bytes=0, seek_resolution=1024):
        got = scan_rlm_log(path, start, end)
    assert got == every_line(path, start, end)
    # both exports' 10 minutes: a deprecated line and a Render response with one, every 5 s
    assert got.deprecated_calls == 2 * 2 * 120
    assert CountingFile.total >= path.stat().st_size


def test_negative_margin_is_refused(tmp_path: Path) -> None:
    path = build(tmp_path / "rlm.log", [("deprecated", 0, 0)], 1)
    with pytest.raises(ValueError, match="margin"):
        scan_rlm_log(path, T0, T0 + timedelta(hours=1), margin=timedelta(minutes=-1))
    assert scan_rlm_log(path, T0, T0 + timedelta(hours=1), margin=timedelta(0)).deprecated_calls


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    seconds=st.sampled_from(["", "60", "61", "99"]),
    after=st.sampled_from([" INFO x", "", "]", "|x", "x"]),
)
def test_the_fast_path_reads_as_the_general_pattern(
    moment: datetime, seconds: str, after: str
) -> None:
    text = stamp(moment)
    if seconds:
        text = text[:17] + seconds + text[19:]  # seconds a clock does not show
    line = text + after
    # A leading space is not the RLM's own form: the general pattern alone reads that line.
    assert leading_instant(line) == leading_instant(" " + line)
    fast = leading_stamp_us(line)
    if not seconds and after != "x":
        assert fast is not None and fast == instant_us(text) == leading_instant(line)
        assert from_epoch_us(fast) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    else:
        assert fast is None
