"""Helpers for the log reader tests: module constants made small, bytes read counted."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

from cutover.sources.logs import seek
from cutover.sources.logs.continuity import Continuity
from cutover.sources.router_logs import speedups


@contextlib.contextmanager
def tuned(reader: ModuleType, **values: int) -> Iterator[None]:
    """Constants made small, so that small files exercise blocks and seeking: `chunk=7` sets
    `CHUNK` in the reader's module, seeking's (`seek_min_bytes`, ...) in sources.logs.seek.
    """
    with contextlib.ExitStack() as stack:
        for name, value in values.items():
            constant = name.upper()
            module = reader if hasattr(reader, constant) else seek
            stack.enter_context(mock.patch.object(module, constant, value))
        yield


class CountingFile(io.FileIO):
    """Counts the bytes read through it (all instances together)."""

    total = 0

    def readinto(self, buffer: Any) -> int | None:
        got = super().readinto(buffer)
        CountingFile.total += got or 0
        return got


def counting_open(path: Path, mode: str = "rb") -> io.BufferedReader:
    assert mode == "rb"
    return io.BufferedReader(CountingFile(path))


def count_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count the bytes the log readers read (they open files through sources.logs.seek)."""
    monkeypatch.setattr(seek, "open", counting_open, raising=False)
    CountingFile.total = 0


def seen(
    start: datetime,
    end: datetime,
    first: datetime | None = None,
    last: datetime | None = None,
    resolution: timedelta = timedelta(minutes=5),
) -> Continuity:
    """What a reader saw of [start, end): one run of lines from `first` (default: the start) to
    `last` (default: a minute before the end), at `resolution`."""
    run = (start if first is None else first, end - timedelta(minutes=1) if last is None else last)
    return Continuity(start, end, resolution, runs=(run,))


@contextlib.contextmanager
def numpy_kernels() -> Iterator[None]:
    """The router reader with its numpy kernels, as where the compiled ones are not built."""
    with mock.patch.object(speedups, "KERNELS", None):
        yield
