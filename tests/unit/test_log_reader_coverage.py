"""What the readers see of a window for coverage: the router's block scan reads a few lines per
block and still finds every silence (exactly, in a file in time order), the RLM reader sees
every entry; continuation lines, lines after the window and binary junk extend nothing."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import log_reading
from cutover.criteria.coverage import log_coverage
from cutover.outcome import Window
from cutover.sources import rlm_logs
from cutover.sources.rlm_logs import scan_rlm_log
from cutover.sources.router_logs import count_routing, scan
from cutover.timeutil import iso

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = 1767225600000
ROUTING = "Routing import request to RLM pipeline"
RESOLUTION = timedelta(minutes=20)


def router_line(ms: int, kind: int, n: int) -> str:
    """Lines in the forms a router log mixes: routing (pattern), health, drain, junk."""
    if kind == 0:
        line = {"level": 30, "time": ms, "correlationId": f"r{n}", "msg": ROUTING,
                "endpoint": "/process-full", "v2RolloutPercent": 10}  # fmt: skip
    elif kind == 1:
        line = {"level": 30, "time": ms, "req": {"url": "/api/health"}, "msg": "request completed"}
    elif kind == 2:
        inner = json.dumps({"level": 30, "time": ms, "msg": "RLM accepted job"})
        line = {"id": f"d{n}", "timestamp": ms, "message": inner}
    else:
        return "\x00\x01 junk \x02"
    return json.dumps(line, separators=(",", ":"))


def exact_runs(instants: list[int], start: datetime, end: datetime) -> list[tuple[int, int]]:
    """The runs of every instant in the window, chained at RESOLUTION (the reference)."""
    lo, hi = int(start.timestamp() * 1e6), int(end.timestamp() * 1e6)
    step = RESOLUTION // timedelta(microseconds=1)
    runs: list[tuple[int, int]] = []
    for value in sorted(v for v in instants if lo <= v < hi):
        if runs and value - runs[-1][1] <= step:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def as_us(runs: tuple[tuple[datetime, datetime], ...]) -> list[tuple[int, int]]:
    return [(int(a.timestamp() * 1e6), int(b.timestamp() * 1e6)) for a, b in runs]


silences = st.lists(
    st.tuples(st.integers(0, 4000), st.integers(1, 180)), max_size=6
)  # (after line n, a silence of m minutes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.integers(1, 4000),
    step_s=st.sampled_from([1, 30, 300]),
    holes=silences,
    kinds=st.lists(st.integers(0, 3), min_size=1, max_size=8),
    window=st.tuples(st.integers(-3600, 20_000), st.integers(0, 200_000)),
    chunk=st.sampled_from([300, 4096, 1 << 21]),
)
def test_in_a_file_in_order_the_block_scan_sees_the_runs_of_every_line(
    tmp_path_factory: pytest.TempPathFactory,
    lines: int,
    step_s: int,
    holes: list[tuple[int, int]],
    kinds: list[int],
    window: tuple[int, int],
    chunk: int,
) -> None:
    path = tmp_path_factory.mktemp("order") / "router.log"
    silence_after = dict(holes)
    instants: list[int] = []
    text = []
    ms = T0_MS
    for n in range(lines):
        kind = kinds[n % len(kinds)]
        text.append(router_line(ms, kind, n))
        if kind != 3:
            instants.append(ms * 1000)
        ms += step_s * 1000 + silence_after.get(n, 0) * 60_000
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    start = T0 + timedelta(seconds=window[0])
    end = start + timedelta(seconds=window[1])
    with log_reading.tuned(scan, chunk=chunk):
        whole = count_routing(path, start, end, margin=None, resolution=RESOLUTION)
    with log_reading.tuned(scan, chunk=chunk, seek_min_bytes=0, seek_resolution=256):
        sought = count_routing(path, start, end, resolution=RESOLUTION)
    assert as_us(whole.coverage.runs) == exact_runs(instants, start, end)
    assert sought.coverage.runs == whole.coverage.runs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    jitter_s=st.lists(st.integers(-1500, 1500), min_size=1, max_size=3000),
    chunk=st.sampled_from([300, 4096, 1 << 21]),
)
def test_out_of_order_the_block_scan_never_bridges_a_silence(
    tmp_path_factory: pytest.TempPathFactory, jitter_s: list[int], chunk: int
) -> None:
    """What the scan sees is some of the lines' instants, never an instant no line has: every
    silence of the file is a silence of what it saw."""
    path = tmp_path_factory.mktemp("jitter") / "router.log"
    instants = [T0_MS + (n * 60 + j) * 1000 for n, j in enumerate(jitter_s)]
    text = [router_line(ms, n % 3, n) for n, ms in enumerate(instants)]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    start, end = T0, T0 + timedelta(days=3)
    with log_reading.tuned(scan, chunk=chunk):
        got = count_routing(path, start, end, margin=None, resolution=RESOLUTION)
    exact = exact_runs([ms * 1000 for ms in instants], start, end)
    for a, b in as_us(got.coverage.runs):  # each run seen lies within a run of every line
        assert any(x <= a and b <= y for x, y in exact), (a, b)


def test_the_router_scan_reads_few_lines_of_a_dense_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coverage costs a few decoded lines per block, not one per line."""
    path = tmp_path / "router.log"
    text = [router_line(T0_MS + n * 1000, n % 2, n) for n in range(20_000)]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    calls = []
    real = scan.LineParser.instants

    def spy(self: scan.LineParser, raw: bytes) -> list[int]:
        calls.append(raw)
        return real(self, raw)

    monkeypatch.setattr(scan.LineParser, "instants", spy)
    got = count_routing(path, T0, T0 + timedelta(days=1), margin=None, resolution=RESOLUTION)
    assert len(got.coverage.runs) == 1
    assert len(calls) < 40, len(calls)  # 20,000 lines over 5.6 hours, in two blocks


def test_router_junk_is_an_unreadable_slot_and_a_gap(tmp_path: Path) -> None:
    path = tmp_path / "router.log"
    text = [router_line(T0_MS + n * 60_000, n % 2, n) for n in range(120)]
    text[40:50] = [router_line(0, 3, 0)] * 10  # ten minutes of junk, neighbours 11 min apart
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    end = T0 + timedelta(hours=2)
    got = count_routing(path, T0, end, resolution=RESOLUTION)
    assert got.unparsed == 10
    assert len(got.coverage.runs) == 1  # the silence is shorter than the resolution
    (slot,) = got.coverage.unreadable
    assert (slot.start, slot.unreadable) == (T0 + timedelta(minutes=20), 10)
    cover = log_coverage(got.coverage, Window(T0, end), RESOLUTION, 1.0, "the router log")
    assert [(g.start, g.end) for g in cover.gaps] == [(slot.start, slot.end)]


def test_router_lines_after_the_window_extend_nothing(tmp_path: Path) -> None:
    path = tmp_path / "router.log"
    text = [router_line(T0_MS + n * 60_000, 1, n) for n in range(30)]  # half an hour
    text.append(router_line(T0_MS + 3 * 3_600_000, 1, 99))  # after the window
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    end = T0 + timedelta(hours=2)
    got = count_routing(path, T0, end, resolution=RESOLUTION)
    assert got.last_seen == T0 + timedelta(hours=3)  # the span still says where the file ends
    assert got.coverage.runs == ((T0, T0 + timedelta(minutes=29)),)


# -- the RLM log --------------------------------------------------------------------------------


def rlm_text(minutes: range, extra: dict[int, list[str]] | None = None) -> str:
    lines = []
    for m in minutes:
        lines.append(f"{iso(T0 + timedelta(minutes=m))} INFO GET /health 200")
        lines += (extra or {}).get(m, [])
    return "\n".join(lines) + "\n"


def test_rlm_continuation_lines_extend_nothing(tmp_path: Path) -> None:
    """A traceback of an hour's worth of lines holds no instant: what follows its entry is a
    silence, and the lines still count (at the entry's instant) for the unreadable share."""
    path = tmp_path / "rlm.log"
    trace = ["Traceback (most recent call last):"] + [f'  File "x.py", line {n}' for n in range(60)]
    path.write_text(rlm_text(range(0, 10), {9: trace}) + rlm_text(range(40, 60)))
    window = Window(T0, T0 + timedelta(hours=1))
    got = scan_rlm_log(path, T0, window.end, resolution=timedelta(minutes=5))
    assert [(a.minute, b.minute) for a, b in got.coverage.runs] == [(0, 9), (40, 59)]
    assert got.coverage.unreadable == () and got.unparsed == 0


def test_rlm_binary_junk_is_unreadable_not_a_continuation(tmp_path: Path) -> None:
    path = tmp_path / "rlm.log"
    junk = ["\x00\x01\x02 OOMKilled \x03", "\ufffd\ufffd binary"]
    path.write_text(rlm_text(range(0, 60), {30: junk}), encoding="utf-8")
    end = T0 + timedelta(hours=1)
    got = scan_rlm_log(path, T0, end, resolution=timedelta(minutes=5))
    assert got.oom_kills == 0 and got.unparsed == 2  # junk holds no entry's text
    (slot,) = got.coverage.unreadable
    assert (slot.start, slot.unreadable, slot.lines) == (T0 + timedelta(minutes=30), 2, 7)
    cover = log_coverage(got.coverage, Window(T0, end), timedelta(minutes=5), 1.0, "x")
    assert not cover.complete and "2 of 7 lines unreadable" in cover.gaps_reason()


def test_rlm_coverage_is_the_same_read_in_blocks_or_line_by_line(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "rlm.log"
    minutes = sorted(rng.sample(range(0, 24 * 60), 900))
    lines = [f"{iso(T0 + timedelta(minutes=m))} INFO GET /health 200" for m in minutes]
    lines[400:410] = ["\x00 junk"] * 10
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start, end = T0 + timedelta(hours=3), T0 + timedelta(hours=24)
    one_by_one = rlm_logs.count_lines(lines, start, end, path=str(path))
    with log_reading.tuned(rlm_logs, chunk=97, seek_min_bytes=0, seek_resolution=256):
        blocks = scan_rlm_log(path, start, end)
    assert len(one_by_one.coverage.runs) > 1 and one_by_one.coverage.unreadable
    assert blocks.coverage == one_by_one.coverage
