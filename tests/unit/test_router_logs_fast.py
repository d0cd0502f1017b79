"""Router log fast paths (block scan, pattern-read routing lines, seeking by timestamp) agree
with reading every line with the full parser; seeking reads little of a large file."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import tracemalloc
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import log_reading
from cutover.errors import ConfigError
from cutover.sources.router_logs import (
    DEFAULT_RESOLUTION,
    OUT_OF_ORDER_MARGIN,
    RoutingCounts,
    count_routing,
    scan,
)
from cutover.sources.router_logs.lines import LineParser
from cutover.timeutil import from_epoch_us
from log_reading import CountingFile, count_reads
from router_reference import Reference, reference

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = 1767225600000
ROUTING = "Routing import request to RLM pipeline"
MARGIN_S = int(OUT_OF_ORDER_MARGIN.total_seconds())


def assert_seeking_agrees(got: RoutingCounts, ref: Reference, expected: RoutingCounts) -> None:
    """Seeking keeps the counts exact; the span holds the file's first and last timestamped
    lines and the routing records read (those out of order near the file's ends may be unread).
    """
    assert (got.v1, got.v2, got.percent_seen) == (
        expected.v1,
        expected.v2,
        expected.percent_seen,
    )
    if not ref.head:
        assert got.first_seen is None and got.last_seen is None
        return
    assert expected.first_seen is not None and expected.last_seen is not None
    assert got.first_seen is not None and got.last_seen is not None
    last = max(ref.tail or ref.head)
    assert expected.first_seen <= got.first_seen <= from_epoch_us(min(ref.head)) <= got.last_seen
    assert from_epoch_us(last) <= got.last_seen <= expected.last_seen


def tuned(**values: int) -> contextlib.AbstractContextManager[None]:
    return log_reading.tuned(scan, **values)


# --- lines in every form ---------------------------------------------------------------------


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


REQUESTS = itertools.count(1)


def pino(t_ms: int, endpoint: object = "/process-full-v2", percent: object = 10, **kw: Any) -> dict:
    line: dict[str, Any] = {"level": 30, "time": t_ms, "pid": 1, "hostname": "router-7f9c"}
    line["correlationId"] = str(uuid.UUID(int=next(REQUESTS), version=4))  # one per request
    line["msg"] = ROUTING
    if endpoint is not None:
        line["endpoint"] = endpoint
    if percent is not None:
        line["v2RolloutPercent"] = percent
    line.update(userId="5c1d9e2a-7b3f-4a8c-b6d0-1e2f3a4b5c6d", conversationCount=12)
    line.update(kw)
    return line


ENDPOINTS: list[object] = [
    "/process-full",
    "/process-full-v2",
    "/process-full-v2",
    "https://rlm.example/process-full-v2/",
    "/process-full?retry=1",
    "/process-full-v3",
    None,
    123,
]
PERCENTS: list[object] = [0, 10, 10, 50, 100, "50", 10.0, True, None, -1]


def render(kind: str, t_ms: int, endpoint: object, percent: object, cut: float) -> str:
    """One line of `kind` at instant t_ms (epoch ms)."""
    if kind == "routing":
        return dumps(pino(t_ms, endpoint, percent))
    if kind == "routing_msg_last":
        line = pino(t_ms, endpoint, percent)
        line["msg"] = line.pop("msg")
        return dumps(line)
    if kind == "routing_iso":
        iso = (T0 + timedelta(milliseconds=t_ms - T0_MS)).isoformat().replace("+00:00", "Z")
        return dumps(pino(t_ms, endpoint, percent) | {"time": iso})
    if kind == "routing_seconds":
        return dumps(pino(t_ms, endpoint, percent) | {"time": t_ms // 1000})
    if kind == "routing_float_time":
        return dumps(pino(t_ms, endpoint, percent) | {"time": t_ms + 0.5})
    if kind == "routing_bad_time":
        return dumps(pino(t_ms, endpoint, percent) | {"time": "soon"})
    if kind == "routing_spaced":
        return json.dumps(pino(t_ms, endpoint, percent))
    if kind == "routing_escaped":
        return dumps(pino(t_ms, endpoint, percent, note='say "hi"\\ \u00fc'))
    if kind == "routing_unicode":
        return json.dumps(pino(t_ms, endpoint, percent, note="caf\u00e9"), ensure_ascii=False)
    if kind == "routing_nested":
        return dumps(pino(t_ms, endpoint, percent, err={"code": 1}))
    if kind == "routing_dup_time":
        return dumps(pino(t_ms, endpoint, percent))[:-1] + f',"time":{t_ms - 60_000}}}'
    if kind == "routing_dup_endpoint":
        return dumps(pino(t_ms, "/process-full", percent))[:-1] + f',"endpoint":{dumps(endpoint)}}}'
    if kind == "routing_dup_msg":
        return dumps(pino(t_ms, endpoint, percent))[:-1] + ',"msg":"RLM accepted job"}'
    if kind == "routing_timestamp_key":
        return dumps(pino(t_ms, endpoint, percent, timestamp=t_ms - 120_000))
    if kind == "routing_no_msg":
        line = pino(t_ms, endpoint, percent, note=ROUTING)
        del line["msg"]
        return dumps(line)
    if kind == "routing_in_other_field":
        return dumps(pino(t_ms, endpoint, percent, msg="RLM accepted job", note=ROUTING))
    if kind == "routing_tab":
        return dumps(pino(t_ms, endpoint, percent))[:-1] + ',"note":"a\tb"}'
    if kind == "routing_crlf":
        return dumps(pino(t_ms, endpoint, percent)) + "\r"
    if kind == "routing_indented":
        return "  " + dumps(pino(t_ms, endpoint, percent))
    if kind == "runbook":
        return dumps({"level": 30, "time": t_ms, "msg": f"import routed to v{1 + t_ms % 2}"})
    if kind == "other":
        return dumps(
            {"level": 30, "time": t_ms, "pid": 1, "msg": "RLM accepted job", "status": 202}
        )
    if kind == "health":
        return dumps(
            {"level": 30, "time": t_ms, "req": {"url": "/api/health"}, "msg": "request completed"}
        )
    if kind == "drain":
        return dumps(
            {"id": "l1", "timestamp": t_ms, "message": dumps(pino(t_ms, endpoint, percent))}
        )
    if kind == "drain_array":
        inner = {"timestamp": t_ms, "message": "[fn] " + dumps(pino(t_ms, endpoint, percent))}
        return dumps([inner, {"timestamp": t_ms, "message": "START RequestId: abc"}])
    if kind == "vercel_json":
        logs = [{"message": dumps(pino(t_ms, endpoint, percent))}, {"message": "Import started"}]
        return dumps({"timestamp": t_ms, "message": logs[0]["message"], "logs": logs})
    if kind == "text":
        clock = (T0 + timedelta(milliseconds=t_ms - T0_MS)).strftime("%H:%M:%S.%f")[:11]
        return f"{clock}  soulprint.vercel.app  info  POST  /api/import  200  " + dumps(
            pino(t_ms, endpoint, percent)
        )
    if kind == "truncated":
        full = dumps(pino(t_ms, endpoint, percent))
        return full[: max(1, int(len(full) * cut))]
    if kind == "truncated_other":
        full = dumps({"level": 30, "time": t_ms, "msg": "RLM accepted job", "status": 202})
        return full[: max(1, int(len(full) * cut))]
    if kind == "blank":
        return ""
    if kind == "whitespace":
        return " \t "
    if kind == "garbage":
        return "hello world"
    if kind == "binary":  # control characters: unparsed wherever it is
        return "\x00\x13\u00ff routed to v2 \x07" if t_ms % 2 else "{\x01\x02}"
    raise AssertionError(kind)


KINDS = [
    "routing",
    "routing_msg_last",
    "routing_iso",
    "routing_seconds",
    "routing_float_time",
    "routing_bad_time",
    "routing_spaced",
    "routing_escaped",
    "routing_unicode",
    "routing_nested",
    "routing_dup_time",
    "routing_dup_endpoint",
    "routing_dup_msg",
    "routing_timestamp_key",
    "routing_no_msg",
    "routing_in_other_field",
    "routing_tab",
    "routing_crlf",
    "routing_indented",
    "runbook",
    "other",
    "health",
    "drain",
    "drain_array",
    "vercel_json",
    "text",
    "truncated",
    "truncated_other",
    "blank",
    "whitespace",
    "garbage",
    "binary",
]
COMMON = ["routing", "routing", "routing", "routing_msg_last", "other", "health", "runbook"]


def write_lines(path: Path, lines: list[str], newline_at_end: bool = True) -> Path:
    path.write_text("\n".join(lines) + ("\n" if newline_at_end else ""), encoding="utf-8")
    return path


line_spec = st.tuples(
    st.sampled_from(COMMON + KINDS),
    st.integers(-MARGIN_S // 3, MARGIN_S // 3),  # jitter (s): inversions stay within the margin
    st.sampled_from(ENDPOINTS),
    st.sampled_from(PERCENTS),
    st.floats(0.05, 0.95),
)


def build(path: Path, specs: list[tuple[str, int, object, object, float]], step_s: int) -> Path:
    lines = [dumps({"level": 30, "time": T0_MS + 3_600_000, "msg": "router started"})]
    for index, (kind, jitter, endpoint, percent, cut) in enumerate(specs):
        t_ms = T0_MS + 3_600_000 + (index * step_s + jitter) * 1000
        lines.append(render(kind, t_ms, endpoint, percent, cut))
    return write_lines(path, lines)


def test_every_kind_is_rendered() -> None:
    assert {"routing", "drain", "text", "truncated", "blank", "routing_dup_time"} <= set(KINDS)
    for kind in KINDS:
        render(kind, T0_MS, "/process-full", 10, 0.5)


# --- equivalence ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("endpoint", ["/process-full", "/process-full-v2", 7, None])
@pytest.mark.parametrize("percent", [10, "50", None])
def test_each_kind_after_the_head_matches_the_full_parser(
    tmp_path: Path, kind: str, endpoint: object, percent: object
) -> None:
    """The first timestamped line is read by the full parser; the lines after it by the block
    scan (and the pattern where it applies): every form gives the full parser's result."""
    lines = [dumps({"level": 30, "time": T0_MS, "msg": "router started"})]
    lines += [render(kind, T0_MS + 1000 * i, endpoint, percent, 0.5) for i in range(1, 4)]
    path = write_lines(tmp_path / "r.log", lines)
    window = (T0, T0 + timedelta(seconds=3))  # the third line is just outside
    expected = reference(path, *window, text_date=date(2026, 1, 1))
    for chunk in (16, 1 << 21):
        with tuned(chunk=chunk):
            got = count_routing(path, *window, text_date=date(2026, 1, 1), text_tz=UTC)
        assert got == expected, kind


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(line_spec, max_size=120),
    step_s=st.sampled_from([1, 60, 600]),
    window=st.tuples(st.integers(-100, 80_000), st.integers(0, 40_000)),
    chunk=st.sampled_from([7, 300, 4096, 1 << 21]),
    newline_at_end=st.booleans(),
)
def test_mixed_files_equal_the_full_parser(
    tmp_path_factory: pytest.TempPathFactory,
    specs: list[tuple[str, int, object, object, float]],
    step_s: int,
    window: tuple[int, int],
    chunk: int,
    newline_at_end: bool,
) -> None:
    path = build(tmp_path_factory.mktemp("mixed") / "r.log", specs, step_s)
    if not newline_at_end:
        path.write_bytes(path.read_bytes().rstrip(b"\n"))
    start = T0 + timedelta(hours=1, seconds=window[0])
    end = start + timedelta(seconds=window[1])
    ref = Reference(path, text_date=date(2026, 1, 1))
    expected = ref.count(start, end)
    kw: dict[str, Any] = dict(text_date=date(2026, 1, 1), text_tz=UTC)
    with tuned(chunk=chunk):
        assert count_routing(path, start, end, margin=None, **kw) == expected
    # Seeking on (files this small are normally read whole).
    with tuned(chunk=chunk, seek_min_bytes=0, seek_resolution=64, probe_block=100):
        assert_seeking_agrees(count_routing(path, start, end, **kw), ref, expected)


KEYS = ["level", "time", "msg", "endpoint", "v2RolloutPercent", "timestamp", "timestampInMs"]
KEYS += ["logs", "message", "userId", "", "timeX", "msg2"]
SCALARS = st.one_of(
    st.integers(-(10**14), 10**14),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.sampled_from('ab \\"\u00fc\t/?-_'), max_size=8),
    st.sampled_from([ROUTING, "import routed to v2", "routed to v1", "2026-01-01T00:00:05Z"]),
    st.sampled_from(["/process-full", "/process-full-v2", "50", "1767225605000"]),
    st.booleans(),
    st.none(),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.sampled_from(KEYS), SCALARS, max_size=2),
)


@st.composite
def fuzzed_line(draw: st.DrawFn) -> str:
    """A line near the router's: level and time first (mostly), then any pairs, repeated keys
    allowed, compact or spaced, ASCII-escaped or not, sometimes cut short."""
    pairs: list[tuple[str, object]] = []
    if draw(st.booleans()) or draw(st.booleans()):
        pairs += [("level", 30), ("time", draw(st.sampled_from([T0_MS + 5000, 5, "5", 5.5])))]
    pairs += draw(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=6))
    if draw(st.booleans()):
        pairs.insert(draw(st.integers(0, len(pairs))), ("msg", ROUTING))
    ascii_only = draw(st.booleans())
    separator = draw(st.sampled_from([(",", ":"), (", ", ": ")]))

    def enc(value: object) -> str:
        return json.dumps(value, ensure_ascii=ascii_only, separators=separator)

    text = "{" + separator[0].join(enc(k) + separator[1] + enc(v) for k, v in pairs) + "}"
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(1, len(text)))]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(fuzzed_line(), min_size=1, max_size=8))
def test_fuzzed_router_like_lines_equal_the_full_parser(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    head = dumps({"level": 30, "time": T0_MS, "msg": "router started"})
    path = write_lines(tmp_path_factory.mktemp("fuzz") / "r.log", [head, *lines])
    start, end = T0, T0 + timedelta(seconds=10)
    assert count_routing(path, start, end, margin=None) == reference(path, start, end)


def ordered_file(path: Path, count: int, rng: random.Random, jitter_s: int) -> list[int]:
    """Canonical router lines one second apart (three in four routing), each moved by up to
    jitter_s; returns the instants (ms) in file order."""
    times = [T0_MS + i * 1000 + rng.randint(-jitter_s, jitter_s) * 1000 for i in range(count)]
    lines = []
    for i, t_ms in enumerate(times):
        if i % 4 == 3:
            lines.append(render("other", t_ms, None, None, 0))
        else:
            endpoint = "/process-full-v2" if rng.random() < 0.3 else "/process-full"
            lines.append(render("routing", t_ms, endpoint, rng.choice([0, 10, 50]), 0))
    write_lines(path, lines)
    return times


def test_seeking_with_lines_out_of_order_within_the_margin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20260101)
    path = tmp_path / "r.log"
    times = ordered_file(path, 40_000, rng, jitter_s=MARGIN_S // 2 - 1)
    size = path.stat().st_size
    ref = Reference(path)
    count_reads(monkeypatch)
    with tuned(seek_min_bytes=0, seek_resolution=1024):
        edges = [times[5000], times[5000] + 1, times[20_000], times[39_990]]
        windows = [(edges[0], edges[2]), (edges[1], edges[2]), (edges[2], edges[3])]
        windows += [(T0_MS - 10**9, T0_MS + 10**10), (times[9000], times[9000] + 600_000)]
        for _ in range(6):
            a = rng.choice(times)
            windows.append((a, a + rng.randint(0, 7200) * 1000))
        for start_ms, end_ms in windows:
            start, end = from_epoch_us(start_ms * 1000), from_epoch_us(end_ms * 1000)
            assert start is not None and end is not None
            CountingFile.total = 0
            got = count_routing(path, start, end)
            read = CountingFile.total
            assert_seeking_agrees(got, ref, ref.count(start, end))
            if end_ms - start_ms <= 3_600_000:
                assert 0 < read < size / 3, (start, end, read, size)


def test_unordered_file_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ordered exports concatenated: far out of order, so seeking is not trusted."""
    rng = random.Random(7)
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    ordered_file(first, 8000, rng, jitter_s=0)
    ordered_file(second, 8000, rng, jitter_s=0)
    path = tmp_path / "r.log"
    path.write_bytes(first.read_bytes() + second.read_bytes())
    count_reads(monkeypatch)
    start, end = T0 + timedelta(minutes=30), T0 + timedelta(minutes=40)
    CountingFile.total = 0
    with tuned(seek_min_bytes=0, seek_resolution=1024):
        got = count_routing(path, start, end)
    assert got == reference(path, start, end)
    assert got.out_of_order > 0 and got.v1 + got.v2 == 900  # both runs
    assert CountingFile.total >= path.stat().st_size


def test_one_stray_timestamp_does_not_mislead_the_search(tmp_path: Path) -> None:
    rng = random.Random(11)
    path = tmp_path / "r.log"
    ordered_file(path, 30_000, rng, jitter_s=0)
    lines = path.read_text().splitlines()
    for index, t_ms in ((7000, T0_MS - 10**10), (15_000, T0_MS + 10**10), (22_000, 0)):
        lines[index] = render("other", t_ms, None, None, 0)
    write_lines(path, lines)
    ref = Reference(path)
    with tuned(seek_min_bytes=0, seek_resolution=256, samples=64):
        for a, b in ((6000, 8000), (14_000, 16_000), (21_000, 23_000), (100, 29_000)):
            start, end = T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)
            expected = ref.count(start, end)
            assert count_routing(path, start, end).first_seen == expected.first_seen
            assert_seeking_agrees(count_routing(path, start, end), ref, expected)


def test_text_routing_without_settings_is_still_a_config_error(tmp_path: Path) -> None:
    lines = [render("other", T0_MS + i * 1000, None, None, 0) for i in range(2000)]
    lines[1500] = render("text", T0_MS + 1_500_000, "/process-full", 10, 0)
    path = write_lines(tmp_path / "r.log", lines)
    with tuned(seek_min_bytes=0), pytest.raises(ConfigError):
        count_routing(path, T0, T0 + timedelta(hours=1))


def test_router_lines_are_read_by_the_pattern(tmp_path: Path) -> None:
    """Guards the fast path itself: canonical lines never reach the full parser."""
    for kind in ("routing", "routing_msg_last", "routing_iso", "routing_seconds", "runbook"):
        line = render(kind, T0_MS, "/process-full-v2", 10, 0).encode()
        assert scan.FAST_LINE.fullmatch(line) is not None, kind
    rng = random.Random(3)
    path = tmp_path / "r.log"
    ordered_file(path, 3000, rng, jitter_s=0)
    calls = Counter[bool]()
    real, real_instants = LineParser.records, LineParser.instants
    timed: list[bytes] = []

    def spy(self: LineParser, raw: bytes, *, routing: bool) -> Any:
        calls[routing] += 1
        return real(self, raw, routing=routing)

    def instants_spy(self: LineParser, raw: bytes) -> list[int]:
        timed.append(raw)
        return real_instants(self, raw)

    with (
        mock.patch.object(LineParser, "records", spy),
        mock.patch.object(LineParser, "instants", instants_spy),
    ):
        got = count_routing(path, T0, T0 + timedelta(hours=2), margin=None)
    assert got.v1 + got.v2 == 2250
    assert calls == {True: 1}  # the first line (the head), read as a routing record
    # Instants alone, for the head, the tail (its last line and the empty piece after it) and
    # coverage: the first and last lines of the one block, 50 minutes apart, and the lines
    # halving the stretches between until none is longer than the resolution (20 minutes):
    # three more. Eight lines of 3000.
    assert DEFAULT_RESOLUTION == timedelta(minutes=20)
    assert len(timed) <= 8, [t[:40] for t in timed]


# --- a large file -----------------------------------------------------------------------------


def test_a_narrow_window_of_a_large_file_reads_little_and_stays_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~200 MB over 10 days: one hour in the middle reads a sliver, in bounded memory."""
    path = tmp_path / "big.log"
    count, step_ms = 880_000, 982  # 10 days
    expected = Counter[str]()
    start_ms, end_ms = T0_MS + 5 * 86_400_000, T0_MS + 5 * 86_400_000 + 3_600_000
    head = '{"level":30,"time":'
    routes = tuple(
        ',"pid":1,"hostname":"router-7f9c","correlationId":"0b6f2c1e-8d4a-4f7e-9c55-3e1a2b4c5d6e",'
        f'"msg":"{ROUTING}","endpoint":"{endpoint}","v2RolloutPercent":10,'
        '"userId":"5c1d9e2a-7b3f-4a8c-b6d0-1e2f3a4b5c6d","conversationCount":12}\n'
        for endpoint in ("/process-full", "/process-full-v2")
    )
    other = ',"pid":1,"hostname":"router-7f9c","msg":"RLM accepted job","status":202}\n'
    with open(path, "w", encoding="ascii") as handle:
        batch: list[str] = []
        for i in range(count):
            t_ms = T0_MS + i * step_ms
            if i % 3 == 2:
                batch.append(f"{head}{t_ms}{other}")
            else:
                v2 = i % 7 == 0
                batch.append(f"{head}{t_ms}{routes[v2]}")
                if start_ms <= t_ms < end_ms:
                    expected["v2" if v2 else "v1"] += 1
            if len(batch) == 50_000:
                handle.write("".join(batch))
                batch.clear()
        handle.write("".join(batch))
    size = path.stat().st_size
    assert size > 190_000_000
    start, end = from_epoch_us(start_ms * 1000), from_epoch_us(end_ms * 1000)
    assert start is not None and end is not None

    count_reads(monkeypatch)
    CountingFile.total = 0
    tracemalloc.start()
    try:
        got = count_routing(path, start, end)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (got.v1, got.v2) == (expected["v1"], expected["v2"]) != (0, 0)
    assert got.percent_seen == {10: got.v1 + got.v2}
    assert got.first_seen == T0
    assert got.last_seen == T0 + timedelta(milliseconds=(count - 1) * step_ms)
    assert 0 < CountingFile.total < size // 50, f"read {CountingFile.total} of {size} bytes"
    assert peak < 20_000_000, f"peak traced memory {peak} bytes"


def test_negative_margin_is_refused(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "r.log", [render("routing", T0_MS, "/process-full", 10, 0)])
    with pytest.raises(ValueError, match="margin"):
        count_routing(path, T0, T0 + timedelta(hours=1), margin=timedelta(minutes=-1))
    assert count_routing(path, T0, T0 + timedelta(hours=1), margin=timedelta(0)).v1 == 1
