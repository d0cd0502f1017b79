"""Routing lines read many at a time (`canonical`) are what the per-line parser reads: a line
in the router's shape gives the same record; any other line is left to the parser."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.sources.router_logs import canonical
from cutover.sources.router_logs.lines import LineParser
from cutover.sources.router_logs.records import V1, V2

LINE = (
    '{"level":30,"time":1772442000123,"pid":7,"hostname":"router-x2k8p","correlationId":"c-1",'
    '"msg":"Routing import request to RLM pipeline","endpoint":"/process-full-v2",'
    '"v2RolloutPercent":10,"userId":"u-1","conversationCount":12}'
)
TEMPLATE = canonical.learn(LINE.encode())
PARSER = LineParser(None, None, "test")


def read_all(lines: list[bytes]) -> canonical.Records:
    buf = b"\n".join(lines) + b"\n"
    data = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(data == 10)
    starts = np.concatenate([[0], newlines[:-1] + 1])
    quotes = np.flatnonzero(data == 34)
    assert TEMPLATE is not None
    return canonical.read(TEMPLATE, data, quotes, starts, newlines)


def test_the_router_shape_is_learned_and_read() -> None:
    assert TEMPLATE is not None and TEMPLATE.keys[:3] == (b"level", b"time", b"pid")
    v1 = LINE.replace("/process-full-v2", "/process-full").replace(":10,", ":50,")
    ok, instants, kinds, percents = read_all([LINE.encode(), v1.encode()])
    assert ok.tolist() == [True, True]
    assert instants.tolist() == [1772442000123000] * 2
    assert kinds.tolist() == [V2, V1] and percents.tolist() == [10, 50]


def test_a_line_with_a_repeated_key_or_a_timestamp_teaches_nothing() -> None:
    repeated = LINE.replace('"pid":7', '"endpoint":"/process-full","pid":7')
    assert canonical.learn(repeated.encode()) is None
    assert canonical.learn(LINE.replace('"pid":7', '"timestamp":1').encode()) is None
    assert canonical.learn(LINE.replace('"pid":7', '"pid":7.5').encode()) is None
    assert canonical.learn(b"not json") is None


MUTATIONS = st.one_of(
    st.tuples(
        st.just("replace"), st.integers(0, len(LINE) - 1), st.sampled_from(list('"{}:,0 9aZ-x'))
    ),
    st.tuples(st.just("insert"), st.integers(0, len(LINE)), st.sampled_from(list('"{}:, 0a'))),
    st.tuples(st.just("delete"), st.integers(0, len(LINE) - 1), st.just("")),
)


def mutate(line: str, edits: list[tuple[str, int, str]]) -> str:
    for kind, at, char in edits:
        at = min(at, len(line) - (kind != "insert"))
        if at < 0:
            continue
        if kind == "replace":
            line = line[:at] + char + line[at + 1 :]
        elif kind == "insert":
            line = line[:at] + char + line[at:]
        else:
            line = line[:at] + line[at + 1 :]
    return line


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(MUTATIONS, max_size=3), min_size=1, max_size=8))
def test_what_is_read_at_once_is_what_the_parser_reads(edit_lists: list[list]) -> None:
    lines = [mutate(LINE, edits).replace("\n", "") for edits in edit_lists]
    lines = [line for line in lines if "\\" not in line and all(ord(c) >= 32 for c in line)]
    if not lines:
        return
    ok, instants, kinds, percents = read_all([line.encode() for line in lines])
    for i, line in enumerate(lines):
        if not ok[i]:
            continue  # left to the parser
        records = PARSER.records(line.encode(), routing=True)
        assert records == [(int(instants[i]), int(kinds[i]), int(percents[i]))], line
        assert json.loads(line)["msg"] == "Routing import request to RLM pipeline"


def test_other_values_may_change_the_shape_may_not() -> None:
    same_shape = LINE.replace("router-x2k8p", "another host").replace('"pid":7', '"pid":12345')
    spaced = LINE.replace(',"pid"', ', "pid"')
    leading_zero = LINE.replace('"pid":7', '"pid":07')
    short_time = LINE.replace("1772442000123", "1772442000")
    other_endpoint = LINE.replace("/process-full-v2", "/process-full-v3")
    ok, *_ = read_all(
        [s.encode() for s in (same_shape, spaced, leading_zero, short_time, other_endpoint)]
    )
    assert ok.tolist() == [True, False, False, False, False]
    assert PARSER.records(spaced.encode(), routing=True)  # the parser still reads it
