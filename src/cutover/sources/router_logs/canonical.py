"""Routing lines in the form the router writes, read a block at a time with numpy instead of one
line at a time.

A router writes every routing line with the same keys in the same order (Pino: `level`, `time`,
`pid`, `hostname`, bound fields, `msg`, `endpoint`, `v2RolloutPercent`, ...). `learn` reads one
such line with the JSON parser and keeps its shape (`Template`): the keys in order and which
values are strings. `read` then checks, for many lines at once, that a line has exactly that
shape, byte for byte where it matters:

* a flat object: `{`, then `"key":value` pairs joined by `,`, then `}`, each key the template's
  in its place, each string value a quoted run without quotes, each other value an integer
  without leading zeros (the caller passes only lines without backslashes or control
  characters, so a quote always ends a string);
* `time` an integer (epoch milliseconds: 13 digits), `msg` exactly the routing message,
  `endpoint` exactly `/process-full` or `/process-full-v2`, `v2RolloutPercent` an integer.

Such a line is what the JSON parser reads as one routing record with that instant, endpoint and
percent: its keys are unique (the template's), no `timestamp` key overrides `time` (the template
has none), and nothing else in it matters to the count. Every other line is left to the
per-line path (`lines.LineParser`), so the result is the parser's for every line."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cutover.sources.router_logs.records import ROUTING_MESSAGE, V1, V1_ENDPOINT, V2, V2_ENDPOINT

_QUOTE, _COLON, _COMMA, _OPEN, _CLOSE, _ZERO, _NINE = b'":,{}09'
_MAX_DIGITS = 18  # an integer longer than this is left to the parser (int64)
_TIME_DIGITS = 13  # epoch milliseconds from 2001 to 2286


@dataclass(frozen=True, slots=True)
class Template:
    """The shape of a routing line: its keys in order, whether each value is a string."""

    keys: tuple[bytes, ...]
    strings: tuple[bool, ...]

    @property
    def quotes(self) -> int:
        return 2 * len(self.keys) + 2 * sum(self.strings)


def learn(raw: bytes) -> Template | None:
    """The template of one routing line, None when the line does not have the router's shape
    (flat, unique keys, integer `time`, the routing message, a v1/v2 endpoint, an integer
    percent, no `timestamp` / `timestampInMs`)."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(obj, dict) or {"timestamp", "timestampInMs"} & set(obj):
        return None
    values = list(obj.values())
    if not all(
        isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in values
    ):
        return None
    if not (
        isinstance(obj.get("time"), int)
        and obj.get("msg") == ROUTING_MESSAGE
        and obj.get("endpoint") in (V1_ENDPOINT, V2_ENDPOINT)
        and isinstance(obj.get("v2RolloutPercent"), int)
    ):
        return None
    keys = tuple(str(k).encode() for k in obj)
    if any(b'"' in k or b"\\" in k for k in keys):
        return None
    template = Template(keys, tuple(isinstance(v, str) for v in values))
    if raw.count(b'"') != template.quotes:  # a repeated key: the parser kept the last one
        return None
    return template


Records = tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int8], NDArray[np.int64]]


def read(
    template: Template,
    data: NDArray[np.uint8],
    quotes: NDArray[np.intp],
    starts: NDArray[np.intp],
    ends: NDArray[np.intp],
) -> Records:
    """For each line data[starts[i]:ends[i]] (plain: no backslash or control character), whether
    it has `template`'s shape, and then its instant (epoch microseconds), kind (V1 / V2) and
    percent. `quotes`: the offsets of every `"` in `data`, in order."""
    count = len(starts)
    ok = np.zeros(count, dtype=bool)
    instants = np.zeros(count, dtype=np.int64)
    kinds = np.zeros(count, dtype=np.int8)
    percents = np.zeros(count, dtype=np.int64)
    first = np.searchsorted(quotes, starts)
    last = np.searchsorted(quotes, ends)
    candidates = np.flatnonzero((last - first == template.quotes) & (data[starts] == _OPEN))
    if not len(candidates):
        return ok, instants, kinds, percents
    q = quotes[first[candidates][:, None] + np.arange(template.quotes)]
    line_start, line_end = starts[candidates], ends[candidates]
    good = (q[:, 0] == line_start + 1) & (data[line_end - 1] == _CLOSE)
    numbers: dict[bytes, NDArray[np.int64]] = {}
    lengths: dict[bytes, NDArray[np.intp]] = {}
    strings: dict[bytes, tuple[NDArray[np.intp], NDArray[np.intp]]] = {}
    at = 0  # the quote that opens the current key
    for number, (key, is_string) in enumerate(zip(template.keys, template.strings, strict=True)):
        good &= _equals(data, q[:, at] + 1, q[:, at + 1], key)
        after = q[:, at + 1] + 1  # just after the key's closing quote
        final = number == len(template.keys) - 1
        if is_string:
            good &= (q[:, at + 2] == after + 1) & (data[after] == _COLON)
            strings[key] = (q[:, at + 2] + 1, q[:, at + 3])
            tail = q[:, at + 3] + 1
            good &= (tail == line_end - 1) if final else (q[:, at + 4] == tail + 1)
            if not final:
                good &= data[tail] == _COMMA
            at += 4
        else:
            stop = (line_end - 1) if final else (q[:, at + 2] - 1)
            value, valid = _integer(data, after + 1, stop)
            good &= valid & (data[after] == _COLON)
            if not final:
                good &= data[stop] == _COMMA
            numbers[key] = value
            lengths[key] = stop - after - 1
            at += 2
    msg, endpoint = strings.get(b"msg"), strings.get(b"endpoint")
    time, percent = numbers.get(b"time"), numbers.get(b"v2RolloutPercent")
    if msg is None or endpoint is None or time is None or percent is None:
        return ok, instants, kinds, percents
    good &= _equals(data, *msg, ROUTING_MESSAGE.encode())
    v1 = _equals(data, *endpoint, V1_ENDPOINT.encode())
    v2 = _equals(data, *endpoint, V2_ENDPOINT.encode())
    good &= (v1 | v2) & (lengths[b"time"] == _TIME_DIGITS)
    ok[candidates] = good
    instants[candidates] = time * 1000
    kinds[candidates] = np.where(v2, V2, V1)
    percents[candidates] = percent
    return ok, instants, kinds, percents


def _equals(
    data: NDArray[np.uint8], start: NDArray[np.intp], stop: NDArray[np.intp], text: bytes
) -> NDArray[np.bool_]:
    """Whether data[start[i]:stop[i]] is `text`, for each i."""
    same = (stop - start) == len(text)
    expected = np.frombuffer(text, dtype=np.uint8)
    for offset in range(len(text)):
        same &= data[np.minimum(start + offset, len(data) - 1)] == expected[offset]
    return same


def _integer(
    data: NDArray[np.uint8], start: NDArray[np.intp], stop: NDArray[np.intp]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """The value of data[start:stop] as a JSON integer without a sign, and whether it is one
    (digits only, no leading zero unless it is 0, at most _MAX_DIGITS)."""
    length = stop - start
    valid = (length >= 1) & (length <= _MAX_DIGITS)
    value = np.zeros(len(start), dtype=np.int64)
    for offset in range(_MAX_DIGITS):
        inside = offset < length
        byte = data[np.minimum(start + offset, len(data) - 1)].astype(np.int64)
        digit = (byte >= _ZERO) & (byte <= _NINE)
        valid &= ~inside | digit
        value = np.where(inside & digit, value * 10 + (byte - _ZERO), value)
    leading = data[np.minimum(start, len(data) - 1)] == _ZERO
    valid &= ~(leading & (length > 1))
    return value, valid
