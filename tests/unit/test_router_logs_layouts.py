"""Routing lines read a block at a time (``layouts``: learnt from lines the pattern read, checked
with numpy a byte per column) count exactly as reading every line with the full parser does:
the counts, duplicates by identity, the order, unreadable lines and the span, on files built to
break it (lines cut across blocks, CRLF, repeats, garbage, the routing text in other fields,
bytes changed in router lines, lines out of order, an empty file)."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import log_reading
from cutover.sources.logs.continuity import Tracker
from cutover.sources.logs.identity import text_key, text_keys, text_start
from cutover.sources.router_logs import count_routing, layouts, scan, survey
from cutover.sources.router_logs.lines import CONTROL, LineParser
from cutover.sources.router_logs.records import V1, pino_identity
from cutover.sources.router_logs.tally import Tally
from router_reference import Reference

T0 = datetime(2026, 3, 2, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
ROUTING = "Routing import request to RLM pipeline"
HOSTS = ("soulprint-router-7f9c4d-x2k8p", "soulprint-router-7f9c4d-m4q1z")
V1_PATH, V2_PATH = "/process-full", "/process-full-v2"
WHOLE = (T0 - timedelta(days=1), T0 + timedelta(days=1))


def ident(n: int) -> str:
    return str(uuid.UUID(int=n * 0x9E3779B97F4A7C15 % (1 << 128), version=4))


def routed(t_ms: int, n: int, endpoint: str = V1_PATH, count: int = 12, percent: int = 10) -> str:
    """A routing line as the router writes it (the bench's form)."""
    return (
        f'{{"level":30,"time":{t_ms},"pid":{1 + n % 2},"hostname":"{HOSTS[n % 2]}",'
        f'"correlationId":"{ident(n)}","msg":"{ROUTING}","endpoint":"{endpoint}",'
        f'"v2RolloutPercent":{percent},"userId":"{ident(n + 7)}","conversationCount":{count}}}'
    )


def received(t_ms: int, n: int) -> str:
    return (
        f'{{"level":30,"time":{t_ms},"pid":1,"hostname":"{HOSTS[0]}","correlationId":'
        f'"{ident(n)}","msg":"Import request received","userId":"{ident(n + 7)}",'
        f'"conversationCount":{n % 400},"messageCount":{n % 9000}}}'
    )


def health(t_ms: int, n: int) -> str:
    return (
        f'{{"level":30,"time":{t_ms},"pid":7,"hostname":"{HOSTS[1]}","req":{{"id":{n},'
        '"method":"GET","url":"/api/health"},"res":{"statusCode":200},'
        '"msg":"request completed"}'
    )


# Bytes a changed router line may get: JSON's own, an escape, a space, a digit (a leading zero),
# a letter, control and non-ASCII bytes.
ODD_BYTES = b'"\\ {}[],:0159aZ-\x00\x07\t\r\x7f\xc3\xa9\xff'


@st.composite
def router_file(draw: st.DrawFn) -> list[bytes]:
    """Mostly router lines in time order, a few of them in several layouts (endpoints, counts
    of other widths), with every kind of trouble mixed in."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    size = draw(st.integers(0, 160))
    trouble = draw(st.floats(0, 0.5))
    lines: list[bytes] = []
    routing: list[bytes] = []
    clock = T0_MS
    for n in range(size):
        clock += rng.randint(0, 90_000)
        roll = rng.random()
        if roll >= trouble:
            choice = rng.random()
            if choice < 0.6:
                endpoint = V2_PATH if rng.random() < 0.2 else V1_PATH
                line = routed(clock, n, endpoint, rng.choice([3, 12, 120, 400]))
                routing.append(line.encode())
                lines.append(line.encode())
            elif choice < 0.8:
                lines.append(received(clock, n).encode())
            else:
                lines.append(health(clock, n).encode())
            continue
        kind = rng.choice(
            ["repeat", "rewritten", "changed", "changed", "changed", "in_field", "crlf"]
            + ["garbage", "truncated", "blank", "late", "early", "width", "percent", "bad"]
        )
        base = routed(clock, n).encode()
        if kind == "repeat" and routing:
            lines.append(rng.choice(routing))  # delivered twice
        elif kind == "rewritten" and routing:
            record = json.loads(rng.choice(routing))
            items = list(record.items())
            rng.shuffle(items)
            lines.append(json.dumps(dict(items)).encode())  # spaced, keys in another order
        elif kind == "changed":
            at = rng.randrange(len(base))
            byte = ODD_BYTES[rng.randrange(len(ODD_BYTES))]
            lines.append(base[:at] + bytes([byte]) + base[at + 1 :])
        elif kind == "in_field":
            record = {"level": 30, "time": clock, "msg": "RLM accepted job", "note": ROUTING}
            lines.append(json.dumps(record, separators=(",", ":")).encode())
        elif kind == "crlf":
            lines.append(base + b"\r")
        elif kind == "garbage":
            lines.append(b"hello world Routing import request")
        elif kind == "truncated":
            lines.append(base[: rng.randrange(1, len(base))])
        elif kind == "blank":
            lines.append(rng.choice([b"", b"  ", b"\t"]))
        elif kind in ("late", "early"):  # out of order, up to 20 minutes either way
            shift = rng.randint(1, 1_200_000) * (-1 if kind == "late" else 1)
            lines.append(routed(clock + shift, n, V2_PATH).encode())
        elif kind == "width":  # another width of a value: another layout
            lines.append(routed(clock, n, count=rng.choice([0, 7, 99999])).encode())
        elif kind == "percent":
            lines.append(routed(clock, n, percent=rng.choice([0, 50, 100])).encode())
        else:  # an endpoint the reader does not know: unparsed
            lines.append(routed(clock, n, "/process-full-v9").encode())
    return lines


def write(path: Path, lines: list[bytes], newline_at_end: bool) -> Path:
    path.write_bytes(b"\n".join(lines) + (b"\n" if newline_at_end and lines else b""))
    return path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=router_file(),
    chunk=st.sampled_from([64, 333, 4096, 1 << 22]),
    part=st.sampled_from([16, 1000, 1 << 20]),
    newline_at_end=st.booleans(),
    narrow=st.booleans(),
)
def test_router_files_equal_the_full_parser_line_by_line(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    chunk: int,
    part: int,
    newline_at_end: bool,
    narrow: bool,
) -> None:
    """Blocks of `chunk` bytes, surveyed `part` bytes at a time (lines and needles across
    both edges)."""
    path = write(tmp_path_factory.mktemp("layouts") / "r.log", lines, newline_at_end)
    start, end = (T0 + timedelta(minutes=30), T0 + timedelta(hours=1)) if narrow else WHOLE
    expected = Reference(path).count(start, end)
    with log_reading.tuned(scan, chunk=chunk, survey_part=part):
        got = count_routing(path, start, end, margin=None)
    assert got == expected


def test_an_empty_file_and_one_of_blank_lines_count_nothing(tmp_path: Path) -> None:
    for content in (b"", b"\n\n  \n"):
        path = tmp_path / "r.log"
        path.write_bytes(content)
        got = count_routing(path, *WHOLE)
        assert got == Reference(path).count(*WHOLE)
        assert (got.v1, got.v2, got.lines, got.first_seen, got.coverage.runs) == (0, 0, 0, None, ())


def test_canonical_lines_are_read_by_their_layouts(tmp_path: Path) -> None:
    """Guards the fast path: in a file of a few layouts, no routing line is read on its own
    (the pattern reads the lines layouts are learnt from, and the few coverage picks)."""
    lines = []
    for n in range(3000):
        t_ms = T0_MS + n * 1000
        endpoint = V2_PATH if n % 5 == 0 else V1_PATH
        lines.append(
            routed(t_ms, n, endpoint, count=(12, 120)[n % 2]) if n % 3 else received(t_ms, n)
        )
    path = write(tmp_path / "r.log", [line.encode() for line in lines], True)
    alone = Counter[bytes]()
    real = scan.Scanner._line

    def spy(self: scan.Scanner, buf: bytearray, s: int, e: int, simple: bool) -> Any:
        alone[bytes(buf[s:e])] += 1
        return real(self, buf, s, e, simple)

    with mock.patch.object(scan.Scanner, "_line", spy):
        got = count_routing(path, *WHOLE, margin=None)
    assert got == Reference(path).count(*WHOLE)
    assert got.v1 + got.v2 == 2000 and got.v2 > 0
    assert not alone


# --- a layout fits only lines the pattern reads the same way ------------------------------------


def scanner() -> scan.Scanner:
    lo, hi = T0_MS * 1000, (T0_MS + 86_400_000) * 1000
    tally = Tally(lo, hi, Tracker(lo, hi, 60_000_000))
    tally.first = tally.last = tally.latest = lo
    return scan.Scanner(LineParser(None, None, "r.log"), tally)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, 400), st.sampled_from(list(ODD_BYTES + b"0123456789abcdef#~"))),
        min_size=1,
        max_size=3,
    ),
    n=st.integers(0, 10**6),
)
def test_a_layout_fits_a_changed_line_only_when_the_pattern_reads_it_alike(
    changes: list[tuple[int, int]], n: int
) -> None:
    reader = scanner()
    exemplar = routed(T0_MS + 5000, n).encode()
    layout = reader._learn(exemplar)
    assert layout is not None and layout.kind == V1
    line = bytearray(exemplar)
    for at, byte in changes:
        line[at % len(line)] = byte
    if b"\\" in line or CONTROL.search(line) or b"\t" in line or b"\r" in line:
        return  # not plain: the survey never gives such a line to the layouts
    known = layouts.Layouts()
    known._learnt(layout)
    data = np.frombuffer(bytes(line), dtype=np.uint8)
    starts, lengths = np.array([0]), np.array([len(line)])
    read = known.read(data, starts, lengths, lambda _: None)
    alone = reader._line(line, 0, len(line), True)
    if len(read.rows):  # it fits: the records are the ones the line gives on its own
        assert scan.FAST_LINE.fullmatch(line) is not None
        assert alone is not None and len(alone) == 1
        instant, kind, percent, identity = alone[0]
        assert (int(read.instants[0]), int(read.kinds[0]), int(read.keys[0])) == (
            instant,
            kind,
            identity,
        )
        assert int(read.codes[0]) == reader._tally.code(kind, percent)


def test_a_layout_that_does_not_fit_its_line_leaves_the_others_as_they_were() -> None:
    """Not expected of `learn`; if a layout fitted not the line it was learnt from, that line
    is left to the scan and the others are checked from their own bytes."""
    reader = scanner()
    b = routed(T0_MS + 2000, 2).encode()
    a = routed(T0_MS + 1000, 1).encode().replace(b"pipeline", b"pipelinX")  # another message
    assert len(a) == len(b)
    asked: list[bytes] = []

    def learner(line: bytes) -> layouts.Layout | None:
        asked.append(line)
        return reader._learn(b)  # b's layout, whichever line is asked about

    data = np.frombuffer(a + b + b, dtype=np.uint8)
    starts = np.array([0, len(a), 2 * len(a)])
    read = layouts.Layouts().read(data, starts, np.full(3, len(a)), learner)
    assert asked == [a, b]  # the layout that does not fit `a` is not kept: learnt again
    assert read.rows.tolist() == [1, 2]
    expected = reader._line(bytearray(b), 0, len(b), True)
    assert expected is not None
    assert read.instants.tolist() == [expected[0][0]] * 2
    assert read.keys.tolist() == [expected[0][3]] * 2


@pytest.mark.parametrize(
    "line",
    [
        b'{"level":30,"time":1772971201867,"time":1772971201867,"msg":"' + ROUTING.encode() + b'"}',
        b'{"level":30,"time":"2026-03-02T00:00:00Z","correlationId":"a","msg":"'
        + ROUTING.encode()
        + b'","endpoint":"/process-full"}',
        b'{"level":30,"time":177297120186,"correlationId":"a","msg":"'
        + ROUTING.encode()
        + b'","endpoint":"/process-full"}',
        b'{"level":30,"time":1772971201867,"msg":"' + ROUTING.encode() + b'","endpoint":"/x"}',
        b'{"level":30,"time":1772971201867,"msg":"'
        + ROUTING.encode()
        + b'","endpoint":"/process-full"}',
    ],
    ids=["key twice", "ISO time", "12-digit time", "unknown endpoint", "no correlation id"],
)
def test_no_layout_is_learnt_from_a_line_it_could_misread(line: bytes) -> None:
    assert scanner()._learn(line) is None


# --- the pieces: the survey, the hash ----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(lines=router_file(), newline_at_end=st.booleans(), part=st.sampled_from([7, 300, 0]))
def test_the_survey_finds_what_each_line_shows(
    lines: list[bytes], newline_at_end: bool, part: int
) -> None:
    """Whatever the part of the block looked at a time (0: all of it)."""
    content = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    if not content:
        return
    buf = bytearray(content)
    found = survey.survey(buf, len(buf), np.empty(part or len(buf), dtype=np.bool_))
    pieces = content.split(b"\n")
    if content.endswith(b"\n"):  # no line after the last newline
        pieces.pop()
    assert [buf[s:e] for s, e in zip(found.starts.tolist(), found.ends.tolist(), strict=True)] == [
        bytearray(piece) for piece in pieces
    ]
    routing = [i for i, piece in enumerate(pieces) if any(n in piece for n in survey.NEEDLES)]
    assert found.routing.tolist() == routing
    for i, piece in enumerate(pieces):
        braces = piece[:1] == b"{" and piece[-1:] == b"}"
        plain = braces and not any(b < 32 or b == 0x5C for b in piece)
        assert bool(found.plain[i]) == plain, piece
        binary = any(b < 32 and b not in (9, 13, 27) for b in piece)
        assert (i in found.judged.tolist()) == ((not braces or binary) and i not in routing)


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(st.binary(max_size=40), min_size=1, max_size=8),
    instant=st.integers(-(2**62), 2**62),
    salt=st.integers(-(2**63), 2**63 - 1),
)
def test_numpy_hashes_ids_as_one_at_a_time(texts: list[bytes], instant: int, salt: int) -> None:
    for length in {len(text) for text in texts}:
        same = [text for text in texts if len(text) == length]
        matrix = np.frombuffer(b"".join(same), dtype=np.uint8).reshape(len(same), length)
        keys = text_keys(
            matrix,
            np.full(len(same), instant, dtype=np.int64),
            np.full(len(same), text_start(length, salt), dtype=np.uint64),
        )
        assert keys.tolist() == [text_key(text, instant, salt) for text in same]


def test_a_record_has_one_identity_however_it_is_read() -> None:
    """The full parser's identity (the id as text) is the block scan's (the id's bytes)."""
    record: dict[str, Any] = json.loads(routed(T0_MS, 5))
    reader = scanner()
    line = routed(T0_MS, 5).encode()
    fast = reader._line(line, 0, len(line), True)
    assert fast is not None
    instant, kind, percent, identity = fast[0]
    assert identity == pino_identity(record["correlationId"], instant, ROUTING, kind, percent)
