"""Router log source: every input form, mixed files, window edges, malformed input, streaming."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cutover.errors import ConfigError, SourceUnavailable
from cutover.sources.router_logs import RoutingCounts, count_routing

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = 1767225600000  # T0 in epoch milliseconds
WINDOW = (T0, T0 + timedelta(hours=1))
ROUTING = "Routing import request to RLM pipeline"


def pino(offset_s: float, endpoint: str | None = "/process-full-v2", **extra: object) -> dict:
    line: dict[str, object] = {"level": 30, "time": T0_MS + int(offset_s * 1000), "msg": ROUTING}
    if endpoint is not None:
        line.update(endpoint=endpoint, v2RolloutPercent=10, userId="u1", conversationCount=3)
    line.update(extra)
    return line


def other(offset_s: float, msg: str = "RLM accepted job") -> dict:
    return {"level": 30, "time": T0_MS + int(offset_s * 1000), "msg": msg}


def drain(offset_s: float, inner: dict | str, prefix: str = "") -> dict:
    message = inner if isinstance(inner, str) else prefix + json.dumps(inner)
    return {
        "id": "log1",
        "deploymentId": "dpl_1",
        "source": "lambda",
        "host": "soulprint.vercel.app",
        "timestamp": T0_MS + int(offset_s * 1000),
        "projectId": "prj_1",
        "level": "info",
        "type": "stdout",
        "message": message,
    }


def write(tmp_path: Path, *lines: object, name: str = "router.log") -> Path:
    path = tmp_path / name
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def count(path: Path, **kwargs: object) -> RoutingCounts:
    return count_routing(path, *WINDOW, **kwargs)  # type: ignore[arg-type]


def test_raw_pino_lines_epoch_ms_and_iso(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        pino(1, "/process-full"),
        pino(2, "/process-full-v2"),
        {**pino(3, "/process-full"), "time": "2026-01-01T00:00:03.000Z"},
        other(4),
    )
    result = count(path)
    assert (result.v1, result.v2) == (2, 1)
    assert result.percent_seen == {10: 3}
    assert result.first_seen == T0 + timedelta(seconds=1)
    assert result.last_seen == T0 + timedelta(seconds=4)
    assert (result.lines, result.unparsed, result.out_of_order) == (4, 0, 0)
    assert result.path == str(path)
    assert result.routed == 3


def test_percent_seen_counts_each_logged_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        pino(1, v2RolloutPercent=0),
        pino(2, v2RolloutPercent=10),
        pino(3, v2RolloutPercent=10),
        pino(4, v2RolloutPercent="50"),
    )
    assert count(path).percent_seen == {0: 1, 10: 2, 50: 1}


def test_drain_ndjson_and_array_lines_with_prefix(tmp_path: Path) -> None:
    array_line = [drain(5, pino(5, "/process-full")), drain(6, other(6))]
    path = write(
        tmp_path,
        drain(1, pino(1, "/process-full-v2")),
        drain(2, pino(2, "/process-full"), prefix="[process-server] "),
        array_line,
        drain(7, "START RequestId: abc"),
    )
    result = count(path)
    assert (result.v1, result.v2) == (2, 1)
    assert result.first_seen == T0 + timedelta(seconds=1)
    assert result.last_seen == T0 + timedelta(seconds=7)
    assert result.unparsed == 0


def test_drain_timestamp_wins_over_pino_time(tmp_path: Path) -> None:
    inner = pino(0, "/process-full")
    inner["time"] = T0_MS - 3_600_000  # an hour before the window
    path = write(tmp_path, drain(10, inner))
    result = count(path)
    assert result.v1 == 1
    assert result.first_seen == T0 + timedelta(seconds=10)


def test_vercel_logs_json_reads_every_item_of_logs(tmp_path: Path) -> None:
    request = {
        "timestamp": T0_MS + 30_000,
        "requestPath": "/api/import/process-server",
        "requestMethod": "POST",
        "responseStatusCode": 200,
        "level": "info",
        "message": json.dumps(pino(30, "/process-full-v2")),
        "logs": [
            {"level": "info", "message": json.dumps(other(30, "Import started"))},
            {"level": "info", "message": json.dumps(pino(30, "/process-full-v2"))},
            {"level": "info", "message": json.dumps(other(30))},
        ],
    }
    second = {**request, "timestamp": T0_MS + 40_000, "logs": [{"message": json.dumps(pino(40))}]}
    result = count(write(tmp_path, request, second))
    # the top-level `message` repeats one of logs[]: it is not counted twice
    assert (result.v1, result.v2) == (0, 2)
    assert result.last_seen == T0 + timedelta(seconds=40)


def test_runbook_wording_routed_to(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        other(1, "import routed to v1"),
        other(2, "import routed to v2"),
        drain(3, "user u1 routed to v2"),
    )
    result = count(path)
    assert (result.v1, result.v2) == (1, 2)
    assert result.percent_seen == {}


def text_line(time: str, message: str) -> str:
    return (
        f"{time}  soulprint.vercel.app  info  ƒ  POST  /api/import/process-server  200  {message}"
    )


def test_text_output_with_date_and_zone(tmp_path: Path) -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in January
    path = write(
        tmp_path,
        text_line("01:00:01.25", json.dumps(pino(0, "/process-full"))),
        text_line("01:00:02.50", json.dumps(pino(0, "/process-full-v2"))),
        text_line(
            "Jan 01 01:00:03.00", f'{ROUTING} endpoint="/process-full-v2" v2RolloutPercent=50'
        ),
        text_line("01:00:04.00", "RLM accepted job"),
    )
    result = count(path, text_date=date(2026, 1, 1), text_tz=berlin)
    assert (result.v1, result.v2) == (1, 2)
    assert result.percent_seen == {10: 2, 50: 1}
    assert result.first_seen == T0 + timedelta(seconds=1, milliseconds=250)
    assert result.last_seen == T0 + timedelta(seconds=4)


def test_text_month_form_takes_year_of_text_date(tmp_path: Path) -> None:
    path = write(tmp_path, text_line("Dec 31 23:59:59.00", json.dumps(pino(0, "/process-full"))))
    result = count_routing(
        path,
        datetime(2025, 12, 31, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        text_date=date(2025, 12, 30),
        text_tz=UTC,
    )
    assert result.v1 == 1
    assert result.first_seen == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_text_routing_line_without_date_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, pino(1), text_line("00:00:02.00", json.dumps(pino(2))))
    with pytest.raises(ConfigError) as excinfo:
        count(path)
    message = str(excinfo.value)
    assert "--router-log-date" in message
    assert "CUTOVER_ROUTER_LOG_DATE" in message
    assert "CUTOVER_ROUTER_LOG_TZ" in message
    with pytest.raises(ConfigError):
        count(path, text_date=date(2026, 1, 1))  # the zone is needed too


def test_text_lines_without_routing_need_no_date(tmp_path: Path) -> None:
    path = write(tmp_path, text_line("00:00:01.00", "RLM accepted job"), pino(2, "/process-full"))
    result = count(path)
    assert result.v1 == 1
    assert result.first_seen == T0 + timedelta(seconds=2)  # the text line's instant is unknown


def test_mixed_forms_in_one_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        pino(1, "/process-full"),
        drain(2, pino(2, "/process-full-v2")),
        {"timestamp": T0_MS + 3000, "logs": [{"message": json.dumps(pino(3, "/process-full"))}]},
        text_line("00:00:04.00", json.dumps(pino(4, "/process-full-v2"))),
        other(5, "routed to v2"),
    )
    result = count(path, text_date=date(2026, 1, 1), text_tz=UTC)
    assert (result.v1, result.v2) == (2, 3)
    assert (result.lines, result.unparsed, result.out_of_order) == (5, 0, 0)


def test_window_start_inclusive_end_exclusive(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        pino(-0.001, "/process-full"),  # just before the start
        pino(0, "/process-full"),  # at the start: counted
        pino(3599.999, "/process-full-v2"),  # just before the end: counted
        pino(3600, "/process-full-v2"),  # at the end: not counted
    )
    result = count(path)
    assert (result.v1, result.v2) == (1, 1)
    # the covered span is the whole file, not the window
    assert result.first_seen == T0 - timedelta(milliseconds=1)
    assert result.last_seen == T0 + timedelta(hours=1)


def test_naive_window_bounds_are_utc(tmp_path: Path) -> None:
    path = write(tmp_path, pino(0, "/process-full"))
    result = count_routing(path, datetime(2026, 1, 1), datetime(2026, 1, 1, 1))
    assert result.v1 == 1


def test_out_of_order_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        pino(10, "/process-full"),
        pino(20, "/process-full"),
        pino(15, "/process-full-v2"),  # earlier than the latest so far
        pino(5, "/process-full-v2"),  # also earlier: widens the span
        pino(30, "/process-full"),
    )
    result = count(path)
    assert result.out_of_order == 2
    assert (result.v1, result.v2) == (3, 2)
    assert result.first_seen == T0 + timedelta(seconds=5)
    assert result.last_seen == T0 + timedelta(seconds=30)


def test_unparsed_lines_do_not_crash(tmp_path: Path) -> None:
    truncated_routing = json.dumps(pino(2, "/process-full"))[:90]
    assert "Routing import request" in truncated_routing
    path = write(
        tmp_path,
        pino(1, "/process-full"),
        truncated_routing,  # broken JSON with the routing text
        json.dumps(other(3))[:25],  # truncated non-routing JSON
        pino(4, "/process-full-v3"),  # unknown endpoint
        pino(5, endpoint=None),  # no endpoint at all
        "",  # blank: not a line
        "   ",
        pino(6, "/process-full-v2"),
    )
    result = count(path)
    assert (result.v1, result.v2) == (1, 1)
    assert result.unparsed == 4
    assert result.lines == 6


def test_timestamps_that_are_no_instant_do_not_crash(tmp_path: Path) -> None:
    """Past year 9999 in UTC, a "number" int() cannot read: no instant (the routing lines are
    unparsed, the others without an instant)."""
    path = write(
        tmp_path,
        pino(1, "/process-full"),
        pino(2, "/process-full", time="\u00b2"),
        pino(3, "/process-full", time="9999-12-31T23:59:59-01:00"),
        pino(4, "/process-full", time=10**17),
        {**other(5), "time": "12\u00b3"},
        pino(6, "/process-full-v2"),
    )
    result = count(path)
    assert (result.v1, result.v2) == (1, 1)
    assert result.unparsed == 3
    assert result.last_seen == T0 + timedelta(seconds=6)


def test_truncated_drain_message_is_read_by_pattern(tmp_path: Path) -> None:
    inner = json.dumps(pino(1, "/process-full-v2", extra="x" * 200))
    cut = inner[: inner.index('"extra"')]  # Vercel cut the message short
    path = write(tmp_path, drain(1, cut), drain(2, json.dumps(pino(2))[:80]))
    result = count(path)
    assert result.v2 == 1
    assert result.unparsed == 1  # the second lost its endpoint


def test_last_line_broken_span_comes_from_the_line_before(tmp_path: Path) -> None:
    lines: list[object] = [pino(1, "/process-full")] + [other(i) for i in range(2, 2000)]
    lines.append('{"level":30,"time":99999')  # truncated last line
    result = count(write(tmp_path, *lines))
    assert result.last_seen == T0 + timedelta(seconds=1999)
    assert result.unparsed == 1


def test_file_without_newline_at_end(tmp_path: Path) -> None:
    path = tmp_path / "router.log"
    path.write_text(json.dumps(pino(1)) + "\n" + json.dumps(other(9)), encoding="utf-8")
    result = count(path)
    assert result.v2 == 1
    assert result.last_seen == T0 + timedelta(seconds=9)


def test_unparseable_file_has_no_span(tmp_path: Path) -> None:
    path = write(tmp_path, "hello", "world", "{not json")
    result = count(path)
    assert result.first_seen is None and result.last_seen is None
    assert (result.v1, result.v2, result.lines) == (0, 0, 3)
    assert result.unparsed == 1


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    result = count(path)
    assert result == RoutingCounts(v1=0, v2=0, path=str(path))


def test_missing_file_is_source_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    with pytest.raises(SourceUnavailable) as excinfo:
        count(missing)
    assert excinfo.value.source == f"router logs {missing}"


def test_directory_is_source_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable):
        count(tmp_path)


def test_streaming_memory_stays_bounded(tmp_path: Path) -> None:
    """Guards against reading the whole file: ~50 MB must not need more than a few MB."""
    path = tmp_path / "big.log"
    filler = json.dumps({**other(0), "userId": "u" * 36, "pad": "p" * 200}) + "\n"
    block = (filler * 49).encode()
    repeats = 50_000_000 // (len(block) + 150) + 1
    with open(path, "wb") as handle:
        for request in range(repeats):  # one routed request each: none is a duplicate
            handle.write(block)
            routing = pino(0, "/process-full", correlationId=f"request-{request}")
            handle.write((json.dumps(routing) + "\n").encode())
    size = path.stat().st_size
    assert size >= 50_000_000

    tracemalloc.start()
    try:
        result = count(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.v1 == repeats
    assert result.lines == repeats * 50
    assert peak < 20_000_000, f"peak traced memory {peak} bytes for a {size} byte file"


@pytest.mark.parametrize("when", ["Feb 31 01:00:03.00", "25:00:03.00", "2026-02-30T01:00:03+01:00"])
def test_a_text_line_dated_on_no_real_day_is_unparsed_not_a_crash(
    tmp_path: Path, when: str
) -> None:
    """A date or time that does not exist (Feb 31, hour 25): that line cannot be read, so it is
    counted unparsed and routes nothing; the rest of the file still counts."""
    path = write(
        tmp_path,
        text_line("01:00:01.25", json.dumps(pino(0, "/process-full"))),
        text_line(when, json.dumps(pino(0, "/process-full-v2"))),
        text_line("01:00:04.00", "RLM accepted job"),
    )
    result = count(path, text_date=date(2026, 1, 1), text_tz=ZoneInfo("Europe/Berlin"))
    assert (result.v1, result.v2) == (1, 0)
    assert result.unparsed == 1
