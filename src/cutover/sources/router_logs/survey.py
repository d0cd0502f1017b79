"""What a look over a block of a router log finds before any line is read: where its lines
are, which hold the routing text (``NEEDLES``), which the pattern and the layouts may read
(plain: ``{...}`` without escapes or control bytes) and which are judged one by one (not
``{...}``, or holding binary data).

The compiled kernel (``speedups``) looks at the bytes 64 at a time; where it is not built,
one numpy pass finds the newlines, the spaces (every needle holds one) and the control bytes,
and a needle is then looked for only at the spaces followed by its next byte. Both give the
same survey."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cutover.sources.router_logs import speedups

NEEDLES = (b"Routing import request", b"routed to")  # each holds a space (see `_find_all`)
_NL, _SPACE, _OPEN, _CLOSE, _BACKSLASH = b"\n {}\\"


@dataclass(frozen=True, slots=True)
class Survey:
    """The lines of buf[:end] (whole lines, the last may lack its newline): line i is
    buf[starts[i]:ends[i]], its newline (if any) at ends[i]; `judged` and `routing` are line
    indexes, in order."""

    buf: bytearray
    end: int
    starts: NDArray[np.intp]
    ends: NDArray[np.intp]
    plain: NDArray[np.bool_]
    judged: NDArray[np.intp]
    routing: NDArray[np.intp]


def survey(buf: bytearray, end: int, scratch: NDArray[np.bool_]) -> Survey:
    """Survey buf[:end] (end > 0), using `scratch` (flags, any length) as work space in numpy."""
    kernels = speedups.KERNELS
    if kernels is None:
        return survey_numpy(buf, end, scratch)
    capacity = end // 32 + 2  # lines: more only when they are short (then a second pass)
    while True:
        ends = np.empty(capacity, dtype=np.int64)
        flags = np.empty(capacity, dtype=np.uint8)
        lines = kernels.survey(buf, end, ends, flags)
        if lines >= 0:
            break
        capacity = -lines
    ends, flags = ends[:lines].astype(np.intp, copy=False), flags[:lines]
    plain = (flags & kernels.PLAIN).astype(np.bool_)
    judged = np.flatnonzero(flags & kernels.JUDGED)
    routing = np.flatnonzero(flags & kernels.ROUTING)
    return Survey(buf, end, _starts(ends), ends, plain, judged, routing)


def survey_numpy(buf: bytearray, end: int, scratch: NDArray[np.bool_]) -> Survey:
    """`survey` in numpy, a part of `scratch`'s length at a time."""
    data = np.frombuffer(buf, dtype=np.uint8, count=end)
    # a part at a time, while it is in the cache: flags, then the newlines and the bytes on
    # either side of each (a line's last and the next one's first), the spaces followed by a
    # needle's next byte, how many of the bytes are neither (control) and a backslash
    lows: list[NDArray[np.intp]] = []
    newline_parts: list[NDArray[np.intp]] = []
    sides: list[tuple[NDArray[np.uint8], NDArray[np.uint8]]] = []
    found: list[list[NDArray[np.intp]]] = [[] for _ in NEEDLES]
    others = escaped = 0
    step = len(scratch)
    for at in range(0, end, step):
        part = data[at : at + step]
        low = np.flatnonzero(np.less(part, _SPACE + 1, out=scratch[: len(part)]))
        kinds = np.take(part, low)
        low += at
        lows.append(low)
        # (np.compress: about twice as fast as indexing with a mask)
        newlines = np.compress(kinds == _NL, low)
        newline_parts.append(newlines)
        sides.append((np.take(data, newlines - 1), np.take(data, newlines + 1, mode="clip")))
        spaces = np.compress(kinds == _SPACE, low)
        others += len(low) - len(newlines) - len(spaces)
        escaped = escaped or buf.find(b"\\", at, min(at + step, end)) >= 0
        following = np.take(data, spaces + 1, mode="clip")
        for needle, places in zip(NEEDLES, found, strict=True):
            places.append(np.compress(following == needle[needle.index(b" ") + 1], spaces))
    newlines = _joined(newline_parts)
    ends = newlines if buf[end - 1] == _NL else np.append(newlines, end)
    starts = _starts(ends)
    # Lines that are not `{...}`: blank, text, truncated... are judged one by one. A line's
    # first byte is the one after the newline before it, its last the one before its newline.
    before, after = _joined([side for side, _ in sides]), _joined([side for _, side in sides])
    first = np.empty(len(ends), dtype=np.uint8)
    first[0] = data[0]
    first[1:] = after[: len(ends) - 1]
    last = before if len(before) == len(ends) else np.append(before, data[end - 1])
    odd = (first != _OPEN) | (last != _CLOSE)
    odd |= ends == starts
    plain = ~odd
    judged = odd.copy()
    if others or escaped:
        low = _joined(lows)
        values = data[low]
        control = low[(values != _NL) & (values != _SPACE)]
        special = np.concatenate((control, np.flatnonzero(data == _BACKSLASH)))
        plain[np.searchsorted(ends, special)] = False
        # binary data (not tab, CR or escape) is judged whatever the line's ends
        kept = data[control]
        binary = control[(kept != 9) & (kept != 13) & (kept != 27)]
        judged[np.searchsorted(ends, binary)] = True
    routing = np.zeros(len(ends), dtype=bool)
    for needle, places in zip(NEEDLES, found, strict=True):
        at_needle = _find_all(data, _joined(places), needle)
        if len(at_needle):
            routing[np.searchsorted(ends, at_needle)] = True
    judged &= ~routing
    return Survey(buf, end, starts, ends, plain, np.flatnonzero(judged), np.flatnonzero(routing))


def _find_all(data: NDArray[np.uint8], spaces: NDArray[np.intp], needle: bytes) -> NDArray[np.intp]:
    """Offsets of `needle` (at least 8 bytes, one a space) in `data`, given the offsets of the
    spaces that may be its own (followed by its next byte)."""
    found = spaces - needle.index(b" ")
    found = np.compress((found >= 0) & (found <= len(data) - len(needle)), found)
    if len(found):
        words = np.ndarray((len(data) - 7,), "<u8", data, 0, (1,))  # 8 bytes from each offset
        for at in (*range(0, len(needle) - 8, 8), len(needle) - 8):
            word = int.from_bytes(needle[at : at + 8], "little")
            found = np.compress(words[found + at] == word, found)  # (np.take would copy words)
    return found


def _starts(ends: NDArray[np.intp]) -> NDArray[np.intp]:
    """Where each line starts: at 0, then after the end of the one before."""
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    return starts


def _joined(parts: list[NDArray[Any]]) -> NDArray[Any]:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
