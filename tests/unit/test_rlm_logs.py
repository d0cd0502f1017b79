"""RLM log source: text and JSON forms, Render API objects, window edges, malformed input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover.errors import SourceUnavailable
from cutover.sources.logs.continuity import Continuity
from cutover.sources.rlm_logs import (
    CRASH_PATTERNS,
    DEFAULT_RESOLUTION,
    OOM_PATTERNS,
    RlmLogCounts,
    scan_rlm_log,
)

T0 = datetime(2026, 2, 2, 10, tzinfo=UTC)
WINDOW = (T0, T0 + timedelta(hours=1))


def write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "rlm.log"
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def scan(path: Path) -> RlmLogCounts:
    return scan_rlm_log(path, *WINDOW)


def render_log(ts: str, message: str, level: str = "info") -> dict:
    return {
        "id": "a1",
        "timestamp": ts,
        "message": message,
        "labels": [
            {"name": "instance", "value": "srv-abc-1"},
            {"name": "level", "value": level},
            {"name": "type", "value": "app"},
        ],
    }


def test_text_lines_count_each_pattern(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2026-02-02T10:00:01.123Z [DEPRECATED] /process-full called by user abc",
        "2026-02-02T10:00:02Z [DEPRECATED] /process-full called by user def",
        "2026-02-02T10:00:03Z [DEPRECATED] /process-full called by user abc",
        "2026-02-02 10:00:04,123 ERROR [v2] user_id=u1 step=pipeline status=failed error=boom",
        "2026-02-02 10:00:05 INFO [FullPass] user_id=u1 step=chunk status=ok",
        "2026-02-02T10:00:06+00:00 Container OOMKilled",
        "2026-02-02T10:00:07Z Instance failed: Ran out of memory (used over 512MB)",
        "2026-02-02T10:00:08Z ==> Exited with status 1",
        "2026-02-02T10:00:09Z health: processors_available: false",
        '2026-02-02T10:00:10Z {"status": "ok", "processors_available": false}',
        "2026-02-02T10:00:11Z HTTP 503 Processor modules unavailable: No module named x",
    )
    result = scan(path)
    assert result.deprecated_calls == 3
    assert result.deprecated_users == frozenset({"abc", "def"})
    assert result.errors == 1
    assert result.oom_kills == 2
    assert result.crashes == 2  # "Instance failed" and "Exited with status"
    assert result.processors_unavailable == 3
    assert result.first_seen == T0 + timedelta(seconds=1, milliseconds=123)
    assert result.last_seen == T0 + timedelta(seconds=11)
    assert (result.lines, result.unparsed) == (11, 0)
    assert result.path == str(path)


def test_error_token_is_word_bounded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2026-02-02T10:00:01Z ERROR: something broke",
        "2026-02-02T10:00:02Z level=ERROR msg=x",
        "2026-02-02T10:00:03Z INFO ERRORS_TOTAL=0 NO_ERROR error=none Errored",
        "2026-02-02T10:00:04Z [DEPRECATED] /process-full called by user ERROR",
    )
    assert scan(path).errors == 2


def test_json_lines_with_timestamp_and_message(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "timestamp": "2026-02-02T10:00:01Z",
            "message": "[DEPRECATED] /process-full called by user x",
        },
        {"timestamp": "2026-02-02T10:00:02.123456789Z", "message": "ERROR failed"},
        {"timestamp": 1770026403000, "message": "OOMKilled"},  # epoch ms: 10:00:03Z
        {"timestamp": "2026-02-02T10:00:04Z", "message": "fine", "level": "error"},
    )
    result = scan(path)
    assert result.deprecated_calls == 1
    assert result.deprecated_users == frozenset({"x"})
    assert result.errors == 2
    assert result.oom_kills == 1
    assert result.first_seen == T0 + timedelta(seconds=1)
    assert result.last_seen == T0 + timedelta(seconds=4)


def test_render_api_objects_and_level_label(tmp_path: Path) -> None:
    response = {
        "hasMore": False,
        "nextStartTime": None,
        "logs": [
            render_log("2026-02-02T10:00:01Z", "Traceback (most recent call last):", "error"),
            render_log("2026-02-02T10:00:02Z", "[DEPRECATED] /process-full called by user r1"),
            render_log("2026-02-02T10:00:03Z", "all good"),
        ],
    }
    path = write(
        tmp_path,
        render_log("2026-02-02T10:00:00Z", "request failed", "error"),
        response,
    )
    result = scan(path)
    assert result.errors == 2
    assert result.deprecated_calls == 1
    assert result.deprecated_users == frozenset({"r1"})
    assert result.lines == 4  # one line plus the three entries of the response
    assert result.first_seen == T0
    assert result.last_seen == T0 + timedelta(seconds=3)


def test_render_event_oom(tmp_path: Path) -> None:
    event = {
        "event": {
            "id": "evt-1",
            "timestamp": "2026-02-02T10:30:00Z",
            "type": "server_failed",
            "details": {"reason": {"oomKilled": {"memoryLimit": "512Mi"}}},
        }
    }
    result = scan(write(tmp_path, event))
    assert (result.oom_kills, result.crashes) == (1, 1)


def test_mixed_text_and_json(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2026-02-02T10:00:01Z ERROR one",
        {"timestamp": "2026-02-02T10:00:02Z", "message": "ERROR two"},
        {"hasMore": True, "logs": [render_log("2026-02-02T10:00:03Z", "x", "error")]},
    )
    result = scan(path)
    assert result.errors == 3
    assert result.lines == 3


def test_window_start_inclusive_end_exclusive(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2026-02-02T09:59:59.999Z ERROR before",
        "2026-02-02T10:00:00Z ERROR at start",
        "2026-02-02T10:59:59.999Z ERROR before end",
        "2026-02-02T11:00:00Z ERROR at end",
        "2026-02-02T11:00:00Z [DEPRECATED] /process-full called by user late",
    )
    result = scan(path)
    assert result.errors == 2
    assert result.deprecated_calls == 0
    assert result.deprecated_users == frozenset()
    assert result.first_seen == T0 - timedelta(milliseconds=1)
    assert result.last_seen == T0 + timedelta(hours=1)


def test_naive_timestamps_are_utc(tmp_path: Path) -> None:
    result = scan(write(tmp_path, "2026-02-02 10:00:00 ERROR x", "2026-02-02T12:00:00+02:00 ok"))
    assert result.errors == 1
    assert result.first_seen == T0 and result.last_seen == T0


def test_continuation_lines_take_the_previous_instant(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "orphan line before any timestamp",
        "2026-02-02T10:00:01Z ERROR Exception in ASGI application",
        "Traceback (most recent call last):",
        '  File "main.py", line 1, in <module>',
        "MemoryError",
        "2026-02-02T11:30:00Z later",
        "OOMKilled",  # continues the 11:30 entry: outside the window
    )
    result = scan(path)
    assert result.errors == 1
    assert result.oom_kills == 0
    assert result.unparsed == 1
    assert result.lines == 7


def test_unparsed_json_does_not_crash(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"timestamp": "2026-02-02T10:00:01Z", "message": "ERROR tru',
        {"message": "no timestamp ERROR"},
        {"timestamp": "yesterday", "message": "ERROR"},
        '{"hasMore": false, "logs": [1, 2]}',
        "2026-02-02T10:00:05Z ERROR ok",
    )
    result = scan(path)
    assert result.errors == 1
    assert result.unparsed == 5  # broken line, two without instants, two non-object entries
    assert result.first_seen == result.last_seen == T0 + timedelta(seconds=5)


def test_instants_no_datetime_holds_are_no_instant_not_an_error(tmp_path: Path) -> None:
    """Past year 9999 or before year 1 (as epoch ms or with an offset) is no instant, so the
    span stays readable (it once raised OverflowError); so is a "number" int() cannot read."""
    path = write(
        tmp_path,
        {"timestamp": 10**17, "message": "ERROR far future"},
        {"timestamp": -1e18, "message": "ERROR far past"},
        {"timestamp": "9999-12-31T23:59:59-01:00", "message": "ERROR after 9999 in UTC"},
        {"time": "0001-01-01T00:00:00+01:00", "message": "ERROR before year 1 in UTC"},
        "9999-12-31T23:59:59-01:00 ERROR text after 9999 in UTC",
        {"timestamp": "\u00b2", "message": "ERROR a superscript two"},
        "2026-02-02T10:00:05Z ERROR ok",
    )
    result = scan(path)
    assert result.errors == 1
    assert result.unparsed == 6  # five JSON entries without an instant, a text line before any
    assert result.first_seen == result.last_seen == T0 + timedelta(seconds=5)


def test_unparseable_file_has_no_span(tmp_path: Path) -> None:
    result = scan(write(tmp_path, "no timestamps", "at all"))
    assert result.first_seen is None and result.last_seen is None
    nothing_seen = Continuity(*WINDOW, DEFAULT_RESOLUTION)
    assert result == RlmLogCounts(
        lines=2, unparsed=2, path=str(tmp_path / "rlm.log"), coverage=nothing_seen
    )


def test_missing_file_is_source_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    with pytest.raises(SourceUnavailable) as excinfo:
        scan(missing)
    assert excinfo.value.source == f"rlm logs {missing}"


def test_pattern_lists_are_documented_constants() -> None:
    assert "OOMKilled" in OOM_PATTERNS
    assert "Ran out of memory" in OOM_PATTERNS
    assert "Instance failed" in CRASH_PATTERNS
    assert "server_failed" in CRASH_PATTERNS
