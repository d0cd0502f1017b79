"""Routing lines read a block at a time, by layout.

The router writes its routing lines in a few layouts: the same keys in the same order and
values of the same lengths, only some bytes differing (the time, ids, counts). A layout is
learnt from a line the pattern (``pattern.FAST_LINE``) read: each byte is either fixed (keys,
punctuation, the level, message, endpoint and percent, any value but a string or an integer)
or one of a class: a digit (the time's 13, an integer's; no leading zero), any byte but a quote
(a string's), or ASCII from ``#`` on but a quote (the correlation id's). A line of the layout's
length whose every byte is one the layout allows there is, as JSON, the object of the line it
was learnt from but for those values, which the pattern reads the same way: its time from the
digits, its kind and percent the line's, its identity from the id's bytes (``text_key``). So
the lines of a block that fit a layout are checked at once (``fit``, compiled or numpy: a
subtraction and a comparison per byte), their instants read from the digits and their
identities hashed (``text_keys``), as the scan would one line at a time; the others are left
to it.

Only lines without backslashes or control characters (the scan's plain lines) may be given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cutover.sources.logs.identity import HASH_MULTIPLIERS, text_keys, text_start
from cutover.sources.router_logs import speedups
from cutover.sources.router_logs.records import OTHER

MAX_LENGTH = 1 << 12  # longer lines are left to the scan
LAYOUTS = 64  # layouts kept (all are forgotten when one more is learnt)
LEARN_PER_BLOCK = 8  # lines a block may try to learn a layout from

# key, then a string (its content) or an integer or another scalar, then `,` or the final `}`
_PAIR = re.compile(rb'"([^"]*+)":(?:"([^"]*+)"|(-?[0-9]++)|[^",{}\[\]]++)(?=[,}])')
_FIXED = (b"level", b"msg", b"endpoint", b"v2RolloutPercent")
_REFUSED = (b"timestamp", b"timestampInMs", b"requestId")  # the pattern reads no such line
# the place of each of the time's 13 digits (summed by einsum: a matrix product may wake BLAS's
# threads, which then spin on the other cores)
_POWERS = 10 ** np.arange(12, -1, -1, dtype=np.int64)
_DIGIT, _QUOTE = 0x30, 0x22
_IDENT_LOW = ord("#")  # a correlation id's bytes: printable ASCII from `#` on


@dataclass(frozen=True, slots=True)
class Layout:
    """Byte i of a line fits when ``(byte - low[i]) % 256 < width[i]``; `time` is where its 13
    digits start, `ident` where the id's bytes are (start, length), None for a line that does
    not count (OTHER)."""

    low: NDArray[np.uint8]
    width: NDArray[np.uint8]
    time: int
    ident: tuple[int, int] | None
    kind: int
    code: int
    salt: int


def learn(line: bytes, kind: int, code: int, salt: int) -> Layout | None:
    """The layout of `line` (a routing line the pattern read as `kind`, its time epoch
    milliseconds of 13 digits), None when it has none: a key twice, a time of another form."""
    low = np.frombuffer(line, dtype=np.uint8).copy()
    width = np.ones(len(line), dtype=np.uint8)
    seen: set[bytes] = set()
    time: int | None = None
    ident: tuple[int, int] | None = None
    position = 1
    while True:
        pair = _PAIR.match(line, position)
        if pair is None or pair.group(1) in seen or pair.group(1) in _REFUSED:
            return None
        key = pair.group(1)
        seen.add(key)
        if key == b"time":
            start, end = pair.span(3)
            if end - start != 13 or line[start] in b"-0":
                return None
            time = start
            _digits(low, width, start, end)
        elif key == b"correlationId":
            if pair.group(2) is None:
                return None
            start, end = pair.span(2)
            ident = (start, end - start)
            low[start:end], width[start:end] = _IDENT_LOW, 0x80 - _IDENT_LOW
        elif key in _FIXED:
            pass
        elif pair.group(2) is not None:
            start, end = pair.span(2)
            low[start:end], width[start:end] = _QUOTE + 1, 255  # anything but a quote
        elif pair.group(3) is not None:
            start, end = pair.span(3)
            _digits(low, width, start + (line[start] == ord("-")), end)
        position = pair.end() + 1
        if line[pair.end()] == ord("}"):
            break
    if position != len(line) or time is None or (ident is None and kind != OTHER):
        return None
    return Layout(low, width, time, ident, kind, code, salt)


def _digits(low: NDArray[np.uint8], width: NDArray[np.uint8], start: int, end: int) -> None:
    """An integer's digits: any one, or a first digit that is not 0 and any after it."""
    low[start:end], width[start:end] = _DIGIT, 10
    if end - start > 1:
        low[start], width[start] = _DIGIT + 1, 9


@dataclass(slots=True)
class Read:
    """The records of the lines that fit a layout: `rows` (indexes of the lines given, in
    order), each one's instant (epoch microseconds), kind, code and identity."""

    rows: NDArray[np.intp]
    instants: NDArray[np.int64]
    kinds: NDArray[np.int64]
    codes: NDArray[np.int64]
    keys: NDArray[np.int64]


class Layouts:
    """The layouts learnt so far, by line length."""

    __slots__ = ("_by_length", "_count")

    def __init__(self) -> None:
        self._by_length: dict[int, list[Layout]] = {}
        self._count = 0

    def read(
        self,
        data: NDArray[np.uint8],
        starts: NDArray[np.intp],
        lengths: NDArray[np.intp],
        learner: Callable[[bytes], Layout | None],
    ) -> Read:
        """Read the lines data[starts[i] : starts[i] + lengths[i]] that fit a layout, learning
        layouts (`learner`) from a few lines that fit none. The lines of one length are checked
        against a layout at once (`fit`)."""
        if not len(starts):
            return _records([], 0)
        # in file order within a length (16 bits: a radix sort; longer lines are not read here)
        order = np.argsort(np.minimum(lengths, MAX_LENGTH + 1).astype(np.uint16), kind="stable")
        ordered = lengths[order]
        cuts = [0, *(np.flatnonzero(ordered[1:] != ordered[:-1]) + 1).tolist(), len(order)]
        parts: list[_Part] = []
        tries = LEARN_PER_BLOCK
        for a, b in zip(cuts[:-1], cuts[1:], strict=False):
            length = int(ordered[a])
            if length <= MAX_LENGTH:
                tries = self._fit(data, starts, order[a:b], length, learner, tries, parts)
        return _records(parts, len(starts))

    def _fit(
        self,
        data: NDArray[np.uint8],
        starts: NDArray[np.intp],
        rows: NDArray[np.intp],
        length: int,
        learner: Callable[[bytes], Layout | None],
        tries: int,
        parts: list[_Part],
    ) -> int:
        """The lines `rows` (of `length`): those that fit a layout, known or learnt from the
        first line that fits none, go to `parts`; returns the tries to learn left."""
        known = list(self._by_length.get(length, ()))
        while len(rows):
            if known:
                layout: Layout | None = known.pop(0)
                learnt = False
            elif tries:
                tries -= 1
                first = int(starts[rows[0]])
                layout, learnt = learner(data[first : first + length].tobytes()), True
            else:
                break
            if layout is None:  # no layout: the line is left to the scan
                rows = rows[1:]
                continue
            fits, instants, keys = fit(data, starts[rows], layout)
            if learnt and not fits[0]:  # not expected: a layout fits the line it is learnt from
                rows = rows[1:]
                continue
            if learnt:
                self._learnt(layout)
            if len(instants) == len(rows):  # all fit: the common case
                parts.append((rows, layout, instants, keys))
                break
            if len(instants):
                parts.append((rows[fits], layout, instants, keys))
            rows = rows[~fits]
        return tries

    def _learnt(self, layout: Layout) -> None:
        if self._count >= LAYOUTS:
            self._by_length.clear()
            self._count = 0
        self._by_length.setdefault(len(layout.low), []).append(layout)
        self._count += 1


# lines that fit one layout: their indexes, the layout, their instants and identities
_Part = tuple[NDArray[np.intp], Layout, NDArray[np.int64], NDArray[np.int64]]


def fit(
    data: NDArray[np.uint8], starts: NDArray[np.intp], layout: Layout
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64]]:
    """Which of the lines of the layout's length at `starts` fit it, and the instants (epoch
    microseconds) and identities of those that do, in order: compiled where it is built."""
    kernels = speedups.KERNELS
    if kernels is None:
        return fit_numpy(data, starts, layout)
    count, length = len(starts), len(layout.low)
    fits = np.empty(count, dtype=np.bool_)
    instants = np.empty(count, dtype=np.int64)
    keys = np.empty(count, dtype=np.int64)
    at, size = layout.ident if layout.ident is not None else (0, -1)
    start = text_start(size, layout.salt) if size >= 0 else 0
    kernels.fit(
        data,
        starts.astype(np.int64, copy=False),
        length,
        layout.low,
        layout.width,
        layout.time,
        at,
        size,
        start,
        *HASH_MULTIPLIERS,
        fits.view(np.uint8),
        instants,
        keys,
    )
    if fits.all():
        return fits, instants, keys
    return fits, instants[fits], keys[fits]


def fit_numpy(
    data: NDArray[np.uint8], starts: NDArray[np.intp], layout: Layout
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64]]:
    """`fit` in numpy: the lines' bytes as rows of a copy, less the layout's `low`, compared
    with its `width`; instants from the time's digits, identities hashed at once."""
    less = np.subtract(_rows(data, starts, len(layout.low)), layout.low)
    bad = np.greater_equal(less, layout.width)
    if np.count_nonzero(bad):
        fits = ~np.logical_or.reduce(bad, axis=1)
        less = less[fits]
    else:  # all fit: the common case
        fits = np.ones(len(starts), dtype=np.bool_)
    instants = np.einsum("ij,j->i", less[:, layout.time : layout.time + 13], _POWERS)
    instants += 10**12  # the first digit, one short
    instants *= 1000
    if layout.ident is None:
        return fits, instants, np.zeros(len(instants), dtype=np.int64)
    at, size = layout.ident
    texts = less[:, at : at + size] + _IDENT_LOW  # the id's bytes: less `low` (its own), plus it
    starts_of = np.full(len(instants), text_start(size, layout.salt), dtype=np.uint64)
    return fits, instants, text_keys(texts, instants, starts_of)


def _rows(data: NDArray[np.uint8], starts: NDArray[np.intp], width: int) -> NDArray[np.uint8]:
    """The `width` bytes from each start (each line fits in the data), as rows of a copy."""
    return np.ndarray((len(data) - width + 1, width), np.uint8, data, 0, (1, 1))[starts]


def _records(parts: list[_Part], count: int) -> Read:
    """The records of the lines that fit, in the order given (of `count` lines)."""
    if not parts:
        nothing = np.empty(0, dtype=np.int64)
        return Read(np.empty(0, dtype=np.intp), nothing, nothing, nothing, nothing)
    sizes = [len(rows) for rows, *_ in parts]
    rows = _joined([rows for rows, *_ in parts])
    instants = _joined([instants for _, _, instants, _ in parts])
    keys = _joined([keys for *_, keys in parts])
    kinds = np.repeat(np.array([at.kind for _, at, *_ in parts], dtype=np.int64), sizes)
    codes = np.repeat(np.array([at.code for _, at, *_ in parts], dtype=np.int64), sizes)
    if len(parts) == 1:
        return Read(rows, instants, kinds, codes, keys)
    # each part in file order: put each record at its line, then keep the lines that have one
    at = np.full(count, -1, dtype=np.intp)
    at[rows] = np.arange(len(rows))
    order = at[at >= 0]
    return Read(rows[order], instants[order], kinds[order], codes[order], keys[order])


def _joined(parts: list[NDArray[Any]]) -> NDArray[Any]:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
