"""Duplicates are dropped by the line's identity (drains deliver at least once; exports overlap):
a drain object's id with its timestamp and message, a correlation or request id with the
record, else the exact line. Counted once, and the rest counted in `duplicates`."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import log_reading
from cutover.sources.metrics import read_metrics_csv
from cutover.sources.rlm_logs import scan_rlm_log
from cutover.sources.router_logs import count_routing, scan

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = 1767225600000
WINDOW = (T0, T0 + timedelta(hours=1))
ROUTING = "Routing import request to RLM pipeline"


def pino(second: int, endpoint: str = "/process-full", **extra: object) -> dict[str, object]:
    return {
        "level": 30,
        "time": T0_MS + second * 1000,
        "msg": ROUTING,
        "endpoint": endpoint,
        "v2RolloutPercent": 10,
        **extra,
    }


def drain(second: int, inner: dict[str, object], ident: str) -> dict[str, object]:
    return {"id": ident, "timestamp": T0_MS + second * 1000, "message": json.dumps(inner)}


def write(path: Path, *lines: object) -> Path:
    text = "\n".join(
        x if isinstance(x, str) else json.dumps(x, separators=(",", ":")) for x in lines
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def routing(path: Path, **kwargs: object) -> tuple[int, int, int]:
    counts = count_routing(path, *WINDOW, **kwargs)  # type: ignore[arg-type]
    return counts.v1, counts.v2, counts.duplicates


def test_a_pino_log_twice_over_counts_each_request_once(tmp_path: Path) -> None:
    lines = [pino(s, correlationId=f"req-{s}") for s in range(1, 40)]
    lines += [pino(40, "/process-full-v2", correlationId="req-40")]
    once = write(tmp_path / "once.log", *lines)
    twice = write(tmp_path / "twice.log", *lines, *lines)
    assert routing(once) == (39, 1, 0)
    assert routing(twice) == (39, 1, 40)


def test_a_correlation_id_finds_a_duplicate_written_differently(tmp_path: Path) -> None:
    """The same record, compact and spaced, fields reordered: one request, one record (the
    pattern reads the compact line, the full parser the other)."""
    record = pino(5, correlationId="req-5", pid=1)
    spaced = json.dumps(dict(reversed(list(record.items()))))
    assert routing(write(tmp_path / "r.log", record, spaced)) == (1, 0, 1)


def test_two_requests_at_the_same_instant_are_two(tmp_path: Path) -> None:
    path = write(tmp_path / "r.log", pino(5, correlationId="req-a"), pino(5, correlationId="req-b"))
    assert routing(path) == (2, 0, 0)


def test_a_drain_object_delivered_twice_is_one(tmp_path: Path) -> None:
    """Once as an NDJSON line, again inside a JSON array batch (with another object)."""
    first = drain(5, pino(5), "log-1")
    other = drain(6, pino(6, "/process-full-v2"), "log-2")
    path = write(tmp_path / "r.log", first, [other, first])
    assert routing(path) == (1, 1, 1)


def test_drain_objects_with_another_id_are_other_lines(tmp_path: Path) -> None:
    """The drain's id names a line: two ids are two deliveries of two lines, even with the
    same Pino text (a router that logged the same line twice)."""
    path = write(tmp_path / "r.log", drain(5, pino(5), "log-1"), drain(5, pino(5), "log-2"))
    assert routing(path) == (2, 0, 0)


def test_a_vercel_json_request_exported_twice_is_one(tmp_path: Path) -> None:
    inner = json.dumps(pino(7, correlationId="req-7"))
    request = {"timestamp": T0_MS + 7000, "requestId": "iad1::abc", "logs": [{"message": inner}]}
    bare = {"timestamp": T0_MS + 8000, "requestId": "iad1::def", "logs": [{"message": "x"}]}
    bare["logs"] = [{"message": json.dumps(pino(8))}]
    path = write(tmp_path / "r.log", request, bare, request, bare)
    assert routing(path) == (2, 0, 2)


def test_lines_without_an_id_are_the_same_only_when_exactly_the_same(tmp_path: Path) -> None:
    """Without an id, the exact line: two records of one line are two."""
    pair = [pino(5), pino(5)]  # one JSON array, two records
    path = write(tmp_path / "r.log", pino(5), pino(5, pid=7), pino(5), pair)
    assert routing(path) == (4, 0, 1)


def test_text_exports_repeated_count_once(tmp_path: Path) -> None:
    line = f"00:00:05.00  soulprint.vercel.app  info  POST  /api/import  200  {json.dumps(pino(5))}"
    path = write(tmp_path / "r.log", line, line)
    assert routing(path, text_date=date(2026, 1, 1), text_tz=UTC) == (1, 0, 1)


def test_whole_window_identities_take_a_few_bytes_per_record(tmp_path: Path) -> None:
    """A whole-window read keeps each counted record's 64-bit identity and code (plus what
    sorting them needs at the end), not its text: the peak grows by under 40 bytes a record
    (a set of the correlation ids alone would take more than 100)."""

    def peak(records: int) -> int:
        path = tmp_path / f"{records}.log"
        with open(path, "w", encoding="ascii") as handle:
            for n in range(records):
                record = pino(n % 3600, correlationId=f"{n:036d}", userId="u" * 36)
                handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        tracemalloc.start()
        try:  # small blocks: what a block needs while it is read does not hide the rest
            with log_reading.tuned(scan, chunk=1 << 16):
                counts = count_routing(path, T0 - timedelta(days=1), T0 + timedelta(days=1))
            _, high = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert counts.v1 == records and counts.duplicates == 0
        return high

    small, large = peak(5_000), peak(25_000)
    assert (large - small) / 20_000 < 40, (small, large)


# -- the RLM log and the metrics --------------------------------------------------------------


def test_rlm_entries_repeated_count_once(tmp_path: Path) -> None:
    render = {"id": "evt-1", "timestamp": "2026-01-01T00:00:03Z", "message": "OOMKilled"}
    lines = [
        "2026-01-01T00:00:01.000Z [DEPRECATED] /process-full called by user u1",
        "2026-01-01T00:00:02.000Z ERROR boom",
        "Traceback: Segmentation fault",  # a continuation line: at its entry's instant
        json.dumps(render),
    ]
    path = write(tmp_path / "rlm.log", *lines, *lines, json.dumps({**render, "level": "x"}))
    counts = scan_rlm_log(path, *WINDOW)
    assert (counts.deprecated_calls, counts.errors, counts.crashes, counts.oom_kills) == (
        1,
        1,
        1,
        1,
    )
    assert counts.duplicates == 5  # four repeated, and the Render object with its id again
    assert counts.deprecated_users == frozenset({"u1"})


def test_rlm_lines_alike_at_other_instants_are_other_entries(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rlm.log",
        "2026-01-01T00:00:01.000Z ERROR boom",
        "Segmentation fault",
        "2026-01-01T00:00:09.000Z ERROR boom",
        "Segmentation fault",
    )
    counts = scan_rlm_log(path, *WINDOW)
    assert (counts.errors, counts.crashes, counts.duplicates) == (2, 2, 0)


def test_metric_rows_repeated_are_one_point(tmp_path: Path) -> None:
    rows = [f"2026-01-01T00:{m:02d}:00Z,300,10,srv-1" for m in range(0, 60, 5)]
    path = tmp_path / "metrics.csv"
    header = "timestamp,memory_mb,cpu_percent,instance"
    conflicting = "2026-01-01T00:05:00Z,999,10,srv-1"  # not a repeat: kept
    path.write_text("\n".join([header, *rows, *rows[:4], conflicting]) + "\n", encoding="utf-8")
    series = read_metrics_csv(path, *WINDOW)
    assert len(series.points) == 13 and series.duplicates == 4
