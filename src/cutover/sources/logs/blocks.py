"""Reading a log file's lines: its head one line at a time, a byte range in blocks.

A block holds whole lines, so a reader can look at a block at once (numpy over its bytes, one
decode, a substring test) before it goes through lines; the buffer is reused, so memory does not
grow with the file.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator


def read_head(handle: io.BufferedReader, line: Callable[[bytes], bool]) -> int | None:
    """Give `line` the physical lines of `handle` from the start (newline included) until it
    returns True (the line had an instant); the offset where that line ends, or None when the
    file ends first."""
    offset = 0
    for raw in handle:
        offset += len(raw)
        if line(raw):
            return offset
    return None


def read_blocks(
    handle: io.BufferedReader, start: int, stop: int, size: int
) -> Iterator[tuple[bytearray, int]]:
    """The lines of [start, stop) in blocks of `size` bytes: each `(buf, end)` holds whole lines
    in ``buf[:end]``, each ended by a newline except the last line of the range (or of the file,
    when it ends early). `end` is 0 for a block without a newline: a line longer than the buffer,
    which then grows until the line fits.

    `buf` is one buffer, reused: use a block before asking for the next, and keep no view of it.
    """
    handle.seek(start)
    position = start
    buf = bytearray(size)  # the lines of one block, after the rest of the last
    kept = 0  # bytes at the start of buf: a line cut by the previous read
    while position < stop:
        if kept == len(buf):  # a line longer than the buffer: make room
            buf.extend(bytes(len(buf)))
        with memoryview(buf) as view:
            got = handle.readinto(view[kept : kept + min(len(buf) - kept, stop - position)])
        if not got:
            break
        position += got
        filled = kept + got
        end = buf.rfind(b"\n", 0, filled) + 1 if position < stop else filled
        yield buf, end
        kept = filled - end
        buf[:kept] = buf[end:filled]
    if kept:  # the file ended early, in a line
        yield buf, kept
