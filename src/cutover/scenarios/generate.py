"""Turn a scenario into the rows it implies, deterministically (one seeded random source).

Requests come from one random source (``seed``) and each v2 request's outcome from another
(``seed * 7919 + 1``), drawn in the order of the requests. ``routed_requests``, ``import_rows``,
``requests_with_rows`` and ``request_outcomes`` are views of that one sequence: a request, its row
and its outcome always agree, whichever of them is read.

Instants are computed in whole microseconds since ``t0``, exactly as the datetime arithmetic
``hour_start + span * rng.random()`` would round them, and become datetimes only when asked for.
"""

from __future__ import annotations

import math
import random
import uuid
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from cutover.profile import DEFAULT_STAGES
from cutover.scenarios.model import Scenario, Traffic

_US = timedelta(microseconds=1)
_HOUR_US = 3_600_000_000

# uuid.UUID(int=bits, version=4) clears these bits and sets the RFC 4122 variant and version 4.
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_SET = (0x8000 << 48) | (4 << 76)

# random() is k / 2**53 for a whole k; timedelta * float rounds the exact product half to even.
_TWO_53 = float(1 << 53)
_LOW_53 = (1 << 53) - 1
_HALF_53 = 1 << 52

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_Raw = tuple[int, int, bool, int, bool]  # µs since t0, user id as the UUID's int, v2, %, direct

ImportOutcome = tuple[int, int, str, str, float, str | None]
"""An import in the lean form seeding reads: (µs since t0, user id as the UUID's int, the same as
text, status, minutes to complete (0.0 unless complete), error (failed only))."""

RequestOutcome = tuple[int, str, bool, int, bool, str | None]
"""A request in the lean form the log writers read: (epoch µs, user id, v2, percent, direct, error).

The instant is in whole microseconds since the Unix epoch (a naive t0 is UTC); `error` is the
row's error for a failed v2 import, None for any other request.
"""


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One user_profiles row as the v2 pipeline leaves it (naive UTC, like the real writer)."""

    user_id: uuid.UUID
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None
    memory_md: str | None


@dataclass(frozen=True, slots=True)
class RoutedRequest:
    """A request the router sent to v1 or v2 (v2 ones have a row)."""

    at: datetime
    user_id: uuid.UUID
    v2: bool
    percent: int
    direct: bool = False  # a v1 call that bypassed the router


def rollout_percent_at(scenario: Scenario, moment: datetime) -> int:
    """The V2_ROLLOUT_PERCENT in force at a moment, from the scenario's stage events."""
    return _Rollout(scenario).at((moment - scenario.t0) // _US)


def uuid4_bits(bits: int) -> int:
    """The int of `uuid.UUID(int=bits, version=4)`."""
    return (bits & _UUID_CLEAR) | _UUID_SET


def uuid_text(value: int) -> str:
    """`str(uuid.UUID(int=value))`, without building the UUID."""
    digits = value.to_bytes(16, "big").hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def routed_requests(scenario: Scenario) -> Iterator[RoutedRequest]:
    """Every routed (and direct v1) request of the scenario (time order within each segment)."""
    t0 = scenario.t0
    for us, user, v2, percent, direct in _raw_requests(scenario):
        yield RoutedRequest(t0 + _US * us, uuid.UUID(int=user), v2, percent, direct)


def import_rows(scenario: Scenario, *, until: datetime | None = None) -> Iterator[ImportRow]:
    """The user_profiles rows written by v2 for each v2 request (one user per import).

    With `until`, generation may stop early; every row started by then is the same as without."""
    t0 = scenario.t0
    for us, user, text, status, minutes, error in import_outcomes(scenario, until=until):
        yield _import_row(t0 + _US * us, uuid.UUID(int=user), text, status, minutes, error)


def import_outcomes(
    scenario: Scenario, *, until: datetime | None = None
) -> Iterator[ImportOutcome]:
    """`import_rows` in a lean form (no objects built): what seeding needs."""
    draw = _Outcomes(scenario).draw
    until_us = None if until is None else (until - scenario.t0) // _US
    for us, user, v2, _, _ in _raw_requests(scenario, until_us):
        if v2 and (until_us is None or us <= until_us):
            text = uuid_text(user)
            yield (us, user, text, *draw(us, text))


def requests_with_rows(scenario: Scenario) -> Iterator[tuple[RoutedRequest, ImportRow | None]]:
    """Each request of `routed_requests` with its row of `import_rows` (v2 only), in one pass."""
    draw = _Outcomes(scenario).draw
    t0 = scenario.t0
    for us, user, v2, percent, direct in _raw_requests(scenario):
        at = t0 + _US * us
        user_id = uuid.UUID(int=user)
        request = RoutedRequest(at, user_id, v2, percent, direct)
        if not v2:
            yield request, None
            continue
        text = uuid_text(user)
        yield request, _import_row(at, user_id, text, *draw(us, text))


def request_outcomes(scenario: Scenario) -> Iterator[RequestOutcome]:
    """`requests_with_rows` in a lean form (no objects built): what the log writers need."""
    outcomes = _Outcomes(scenario)
    draw = outcomes.draw
    t0 = scenario.t0
    base = ((t0 if t0.tzinfo is not None else t0.replace(tzinfo=UTC)) - _EPOCH) // _US
    for us, user, v2, percent, direct in _raw_requests(scenario):
        text = uuid_text(user)
        yield base + us, text, v2, percent, direct, (draw(us, text)[2] if v2 else None)


# --- requests ----------------------------------------------------------------------------------


class _Rollout:
    """Stage events as sorted offsets from t0 (µs): the last one up to an instant is in force."""

    def __init__(self, scenario: Scenario) -> None:
        percents = {plan.number: plan.percent for plan in DEFAULT_STAGES}
        # a rollback sets the percent to 0 until the next stage starts
        changes = [(e.at, percents.get(e.stage, 0)) for e in scenario.stages]
        changes += [(r.at, 0) for r in scenario.rollbacks]
        events = sorted(changes, key=lambda e: e[0])  # stable: the later event wins a tie
        self.instants = [at // _US for at, _ in events]
        self.percents = [percent for _, percent in events]

    def at(self, us: int) -> int:
        index = bisect_right(self.instants, us)
        return self.percents[index - 1] if index else 0

    def over(self, start: int, end: int) -> int | None:
        """The percent in force at every instant of [start, end], or None if it changes there."""
        index = bisect_right(self.instants, start)
        if index != bisect_right(self.instants, end):
            return None
        return self.percents[index - 1] if index else 0


def _raw_requests(scenario: Scenario, until_us: int | None = None) -> Iterator[_Raw]:
    """All requests, segment by segment. With `until_us`, a segment stops past it only when no
    later segment overlaps it: the later segments' draws must not move."""
    rng = random.Random(scenario.seed)
    rollout = _Rollout(scenario)
    segments = sorted(scenario.traffic, key=lambda t: t.start)
    for index, segment in enumerate(segments):
        if until_us is not None and segment.start // _US > until_us:
            return
        following = segments[index + 1 :]
        overlapped = any(other.start < segment.end for other in following)
        cutoff = None if until_us is None or overlapped else until_us
        yield from _segment_requests(segment, rng, rollout, cutoff)


_by_instant = itemgetter(0)


def _segment_requests(
    segment: Traffic, rng: random.Random, rollout: _Rollout, cutoff: int | None = None
) -> Iterator[_Raw]:
    """One segment's requests, hour by hour, each hour's in time order.

    The draws, in order, per hour: for each routed request its instant, user id and v2 draw;
    then for each direct v1 call its instant and user id. An instant is
    `hour_start + span * rng.random()`, computed exactly in µs (see `_scaled`).
    """
    draw = rng.random
    bits = rng.getrandbits
    clear, mark = _UUID_CLEAR, _UUID_SET
    two_53, low_53, half_53 = _TWO_53, _LOW_53, _HALF_53
    share_pct = segment.v2_share_pct
    hour_start = segment.start // _US
    end = segment.end // _US
    carry = 0.0
    direct_carry = 0.0
    while hour_start < end and (cutoff is None or hour_start <= cutoff):
        span = min(_HOUR_US, end - hour_start)
        fraction = span / _HOUR_US  # as span / timedelta(hours=1)
        carry += segment.requests_per_hour * fraction
        direct_carry += segment.direct_v1_per_hour * fraction
        count, carry = int(carry), carry - int(carry)
        direct, direct_carry = int(direct_carry), direct_carry - int(direct_carry)
        # An instant of the hour lies in [hour_start, hour_start + span] (the product rounds).
        # a deploy that did not take: the router runs another percent than the ledger says
        deployed = segment.deployed_percent
        fixed = deployed if deployed is not None else rollout.over(hour_start, hour_start + span)
        hour: list[_Raw] = []
        for _ in range(count):
            product = span * int(draw() * two_53)  # _scaled(span, draw()), inline
            offset = product >> 53
            rest = product & low_53
            if rest > half_53 or (rest == half_53 and offset & 1):
                offset += 1
            at = hour_start + offset
            percent = rollout.at(at) if fixed is None else fixed
            share = percent if share_pct is None else share_pct
            user = (bits(128) & clear) | mark
            hour.append((at, user, draw() * 100 < share, percent, False))
        for _ in range(direct):
            at = hour_start + _scaled(span, draw())
            percent = rollout.at(at) if fixed is None else fixed
            hour.append((at, (bits(128) & clear) | mark, False, percent, True))
        hour.sort(key=_by_instant)  # stable, like sorting the requests by instant
        yield from hour
        hour_start += span


def _scaled(span: int, fraction: float) -> int:
    """`timedelta(microseconds=span) * fraction` in µs, for a `fraction` from random().

    random() returns k / 2**53 for a whole k, and timedelta * float rounds the exact product to
    the nearest µs, half to even.
    """
    product = span * int(fraction * _TWO_53)
    offset = product >> 53
    rest = product & _LOW_53
    if rest > _HALF_53 or (rest == _HALF_53 and offset & 1):
        offset += 1
    return offset


# --- outcomes ----------------------------------------------------------------------------------


class _Outcomes:
    """Each v2 request's import outcome, drawn in request order from the outcome source."""

    def __init__(self, scenario: Scenario) -> None:
        self.rng = random.Random(scenario.seed * 7919 + 1)
        segments = sorted(scenario.traffic, key=lambda t: t.start)
        self.bounds = [(s.start // _US, s.end // _US, s) for s in segments]

    def segment(self, us: int) -> Traffic:
        """The first segment (by start) holding the instant, else the last one."""
        bounds = self.bounds
        if len(bounds) > 1:
            for start, end, segment in bounds:
                if start <= us < end:
                    return segment
        return bounds[-1][2]

    def draw(self, us: int, user: str) -> tuple[str, float, str | None]:
        """(status, minutes to complete (0.0 unless complete), error (failed only))."""
        segment = self.segment(us)
        rng = self.rng
        draw = rng.random() * 100
        if draw < segment.stuck_pct:
            return "processing", 0.0, None
        if draw < segment.stuck_pct + segment.failure_pct:
            template = segment.errors[rng.randrange(len(segment.errors))]
            return "failed", 0.0, template.replace("{user}", user)[:500]
        minutes = segment.duration_minutes * math.exp(rng.gauss(0.0, segment.duration_sigma))
        return "complete", minutes, None


def memory_md(user: str) -> str:
    """The memory a complete import leaves."""
    return f"# Memory\n\nImported for {user}.\n"


def _import_row(
    at: datetime, user_id: uuid.UUID, user: str, status: str, minutes: float, error: str | None
) -> ImportRow:
    started = at.replace(tzinfo=None)
    if status == "complete":
        completed = started + timedelta(minutes=minutes)
        return ImportRow(user_id, status, started, completed, None, memory_md(user))
    return ImportRow(user_id, status, started, None, error, None)
