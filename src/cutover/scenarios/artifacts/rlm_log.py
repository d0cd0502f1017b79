"""The RLM log a scenario implies: text lines with an ISO 8601 UTC instant, a line per request
received, a failure line minutes after each failed one, the scenario's RLM events and a health
check every minute (``RLM_HEALTH_EVERY``)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import BinaryIO

from cutover.scenarios.artifacts.common import (
    FLUSH_LINES,
    HOUR_MS,
    MS,
    RLM_HEALTH_EVERY,
    Pending,
    Span,
    epoch_ms,
    flush,
    hour_prefix,
    iso_ms,
    random_source,
    ticks,
)
from cutover.scenarios.model import Scenario

RLM_SERVICE = "soulprint-landing"
RLM_INSTANCE_SUFFIX = "abc12"
DEFAULT_RLM_ERROR = "Unhandled exception in request handler"

# Tie-breaks between streams at the same millisecond (lower first).
_RANK_EVENT = 0
_RANK_REQUEST = 1
_RANK_HEALTH = 2

_Ranked = tuple[int, int, int, str]  # (epoch ms, stream rank, sequence, text)


class RlmLogWriter:
    """Writes the RLM log line by line in time order, given every request in order.

    Every request draws from the RLM's random source, in order, even before the window. The
    log is the merge, on (ms, stream rank, sequence), of the request lines (a failure, due
    minutes after its request, is queued until due) and the other lines (RLM events, health
    checks): those go before a request line when earlier, or as early and ranked lower.
    """

    def __init__(self, scenario: Scenario, window: Span, file: BinaryIO) -> None:
        self._draw = random_source(scenario, "rlm").random
        self._window = window
        self._file = file
        self._out: list[str] = []
        self._pending: list[Pending] = []  # failure lines, minutes after their request
        self._sequence = 0
        others = list(heapq.merge(_event_lines(scenario, window), _health_lines(window)))
        self._others = [f"{iso_ms(ms)} {text}" for ms, _, _, text in others]
        # another line goes before a request line at ms when limit < ms (hi: never)
        self._limits = [ms - (rank < _RANK_REQUEST) for ms, rank, _, _ in others] + [window.hi]
        self._done = 0  # other lines written
        self._hour: int | None = None
        self._prefix = ""

    def request(self, ms: int, user: str, v2: bool, error: str | None) -> None:
        """A request at `ms` (epoch ms, before the window's end), routed or direct."""
        if len(self._out) >= FLUSH_LINES:
            flush(self._file, self._out)
        failed_ms = ms + round((1.0 + 7.0 * self._draw()) * 60_000)  # rng.uniform(1.0, 8.0)
        self._write_due(ms)
        if self._window.lo <= ms:
            self._write_others_before(ms)
            self._out.append(self._received_line(ms, user, v2))
        if error is not None and failed_ms in self._window:
            self._sequence += 1
            text = f"ERROR [v2] user_id={user} step=pipeline status=failed error={error}"
            heapq.heappush(self._pending, (failed_ms, self._sequence, text))

    def finish(self) -> None:
        """The queued lines and the other lines left, then the last write."""
        for due, _, text in sorted(self._pending):
            self._write_others_before(due)
            self._out.append(f"{iso_ms(due)} {text}")
        self._out.extend(self._others[self._done :])
        flush(self._file, self._out)

    def _received_line(self, ms: int, user: str, v2: bool) -> str:
        hours, rest = divmod(ms, HOUR_MS)  # iso_ms(ms), the hour's prefix kept
        if hours != self._hour:
            self._hour = hours
            self._prefix = hour_prefix(hours)
        minute, rest = divmod(rest, 60_000)
        second, milli = divmod(rest, 1000)
        if v2:
            return (
                f"{self._prefix}{minute:02d}:{second:02d}.{milli:03d}Z "
                f"INFO [v2] Received process-full-v2 request for user {user}"
            )
        return (
            f"{self._prefix}{minute:02d}:{second:02d}.{milli:03d}Z "
            f"[DEPRECATED] /process-full called by user {user}"
        )

    def _write_due(self, ms: int) -> None:
        """The queued lines due by `ms`, each after the other lines before it."""
        pending = self._pending
        while pending and pending[0][0] <= ms:
            due, _, text = heapq.heappop(pending)
            self._write_others_before(due)
            self._out.append(f"{iso_ms(due)} {text}")

    def _write_others_before(self, ms: int) -> None:
        """The other lines that go before a request line at `ms`."""
        done, limits = self._done, self._limits
        while limits[done] < ms:
            self._out.append(self._others[done])
            done += 1
        self._done = done


def _event_lines(scenario: Scenario, window: Span) -> Iterator[_Ranked]:
    """The scenario's RLM events, as Render and the container runtime write them."""
    instance = f"{RLM_SERVICE}-{RLM_INSTANCE_SUFFIX}"
    events = sorted(scenario.rlm_events, key=lambda e: e.at)
    sequence = 0
    for event in events:
        ms = epoch_ms(scenario.at(event.at))
        if ms not in window:
            continue
        texts: list[str]
        if event.kind == "oom":
            texts = [
                f"Instance failed: {instance}. Ran out of memory (used over 512MB) "
                "while running your code.",
                f"Container {instance} terminated: reason=OOMKilled exit_code=137",
            ]
        elif event.kind == "crash":
            texts = [f"Instance failed: {instance}. Exited with status 1 while running your code."]
        elif event.kind == "processors-unavailable":
            texts = [
                "WARNING processors_available: false "
                "(Processor modules unavailable: No module named 'processors')"
            ]
        else:
            texts = [f"ERROR {event.message or DEFAULT_RLM_ERROR}"]
        for text in texts:
            sequence += 1
            yield ms, _RANK_EVENT, sequence, text


def _health_lines(window: Span) -> Iterator[_Ranked]:
    every = RLM_HEALTH_EVERY // MS
    for sequence, ms in enumerate(ticks(window, every, offset_ms=3_000)):
        yield ms, _RANK_HEALTH, sequence, "INFO GET /health 200"
