"""What the three exports share: the span in epoch milliseconds, instants as text, a random
source per file, requests in time order and writing lines."""

from __future__ import annotations

import heapq
import json
import os
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

from cutover.scenarios.generate import RequestOutcome
from cutover.scenarios.model import Scenario
from cutover.timeutil import epoch_us, from_epoch_us

HEALTH_EVERY = timedelta(minutes=10)  # the router's uptime probe
# Render probes the RLM's /health every few seconds; the seeded log keeps one a minute, well
# within the profile's rlm_log_gap_minutes, so that a healthy export is continuous.
RLM_HEALTH_EVERY = timedelta(minutes=1)
MS = timedelta(milliseconds=1)
HOUR_MS = 3_600_000
FLUSH_LINES = 20_000  # lines kept before a write

Pending = tuple[int, int, str]  # (epoch ms, sequence, text): a request's later line, queued

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True, slots=True)
class Span:
    """[lo, hi) in epoch milliseconds: a line at millisecond t is written when lo <= t < hi."""

    lo: int
    hi: int

    def __contains__(self, ms: int) -> bool:
        return self.lo <= ms < self.hi


def partial(path: Path) -> Path:
    """Where `path` is written before it is complete."""
    return path.with_name(path.name + ".partial")


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write `lines` into `path` (via a temporary file, so readers never see half a file)."""
    text = "\n".join(lines)
    with open(partial(path), "w", encoding="utf-8", newline="\n") as handle:
        if text:
            handle.write(text)
            handle.write("\n")
    os.replace(partial(path), path)


def flush(handle: BinaryIO, lines: list[str]) -> None:
    """Write `lines` (UTF-8, each ended by a newline) and forget them."""
    if lines:
        lines.append("")  # the last line's newline
        handle.write("\n".join(lines).encode("utf-8"))
        lines.clear()


def random_source(scenario: Scenario, purpose: str) -> random.Random:
    """A random source per file, so one file's draws never shift another's."""
    return random.Random(f"cutover-artifacts:{purpose}:{scenario.seed}")


def epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds, rounded down."""
    return epoch_us(moment) // 1000


def ceil_epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds, rounded up."""
    return -(-epoch_us(moment) // 1000)


@lru_cache(maxsize=64)
def hour_prefix(hour: int) -> str:
    """`YYYY-MM-DDTHH:` of the `hour`-th hour since the epoch."""
    return from_epoch_us(hour * HOUR_MS * 1000).strftime("%Y-%m-%dT%H:")


def iso_ms(at_ms: int) -> str:
    """ISO 8601 UTC with milliseconds and Z."""
    hour, rest = divmod(at_ms, HOUR_MS)
    minute, rest = divmod(rest, 60_000)
    second, milli = divmod(rest, 1000)
    return f"{hour_prefix(hour)}{minute:02d}:{second:02d}.{milli:03d}Z"


def quote(text: str) -> str:
    """`text` as a JSON string (as json.dumps writes it)."""
    return json.dumps(text)


def token(source: random.Random, length: int) -> str:
    """`"".join(source.choice(_ALPHABET) for _ in range(length))` (lowercase letters and
    digits), with the same draws."""
    bits = source.getrandbits
    chars: list[str] = []
    for _ in range(length):
        index = bits(6)  # rng._randbelow(36)
        while index >= 36:
            index = bits(6)
        chars.append(_ALPHABET[index])
    return "".join(chars)


def ticks(window: Span, every_ms: int, offset_ms: int = 0) -> range:
    """Instants on a grid of `every_ms` (aligned to the epoch, plus `offset_ms`) in the window."""
    first = -((offset_ms - window.lo) // every_ms) * every_ms + offset_ms
    return range(first, window.hi, every_ms)


def ordered(
    scenario: Scenario, source: Callable[[], Iterator[RequestOutcome]]
) -> Iterator[RequestOutcome]:
    """`source()` in time order.

    Segments are generated one after the other, so overlapping traffic segments break the order.
    Then the stream is cut into its ascending runs and these are merged, each run read from a
    fresh `source()` (deterministic), so memory stays small.
    """
    segments = sorted(scenario.traffic, key=lambda t: t.start)
    overlapping = any(b.start < a.end for a, b in zip(segments, segments[1:], strict=False))
    if not overlapping:
        yield from source()
        return
    starts = [0]
    previous: int | None = None
    count = 0
    for request in source():
        if previous is not None and request[0] < previous:
            starts.append(count)
        previous = request[0]
        count += 1
    bounds = [*starts, count]
    runs = [islice(source(), start, stop) for start, stop in zip(bounds, bounds[1:], strict=False)]
    yield from heapq.merge(*runs, key=itemgetter(0))
