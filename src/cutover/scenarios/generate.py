"""Turn a scenario into the rows it implies, deterministically (one seeded random source)."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from cutover.profile import DEFAULT_STAGES
from cutover.scenarios.model import Scenario, Traffic

_HOUR = timedelta(hours=1)


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
    percents = {plan.number: plan.percent for plan in DEFAULT_STAGES}
    percent = 0
    for event in sorted(scenario.stages, key=lambda e: e.at):
        if scenario.at(event.at) <= moment:
            percent = percents.get(event.stage, 0)
    return percent


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def routed_requests(scenario: Scenario) -> Iterator[RoutedRequest]:
    """Every routed (and direct v1) request of the scenario in time order."""
    rng = random.Random(scenario.seed)
    for segment in sorted(scenario.traffic, key=lambda t: t.start):
        yield from _segment_requests(scenario, segment, rng)


def _segment_requests(
    scenario: Scenario, segment: Traffic, rng: random.Random
) -> Iterator[RoutedRequest]:
    hour_start = scenario.at(segment.start)
    end = scenario.at(segment.end)
    carry = 0.0
    direct_carry = 0.0
    while hour_start < end:
        span = min(_HOUR, end - hour_start)
        fraction = span / _HOUR
        carry += segment.requests_per_hour * fraction
        direct_carry += segment.direct_v1_per_hour * fraction
        count, carry = int(carry), carry - int(carry)
        direct, direct_carry = int(direct_carry), direct_carry - int(direct_carry)
        hour: list[RoutedRequest] = []
        for _ in range(count):
            at = hour_start + span * rng.random()
            percent = rollout_percent_at(scenario, at)
            share = percent if segment.v2_share_pct is None else segment.v2_share_pct
            hour.append(RoutedRequest(at, _uuid(rng), rng.random() * 100 < share, percent))
        for _ in range(direct):
            at = hour_start + span * rng.random()
            percent = rollout_percent_at(scenario, at)
            hour.append(RoutedRequest(at, _uuid(rng), False, percent, direct=True))
        hour.sort(key=lambda r: r.at)
        yield from hour
        hour_start += span


def import_rows(scenario: Scenario) -> Iterator[ImportRow]:
    """The user_profiles rows written by v2 for each v2 request (one user per import)."""
    outcome_rng = random.Random(scenario.seed * 7919 + 1)
    segments = sorted(scenario.traffic, key=lambda t: t.start)
    for request in routed_requests(scenario):
        if not request.v2:
            continue
        segment = _segment_of(segments, scenario, request.at)
        yield _row(request, segment, outcome_rng)


def _segment_of(segments: list[Traffic], scenario: Scenario, at: datetime) -> Traffic:
    for segment in segments:
        if scenario.at(segment.start) <= at < scenario.at(segment.end):
            return segment
    return segments[-1]


def _row(request: RoutedRequest, segment: Traffic, rng: random.Random) -> ImportRow:
    started = request.at.replace(tzinfo=None)
    draw = rng.random() * 100
    if draw < segment.stuck_pct:
        return ImportRow(request.user_id, "processing", started, None, None, None)
    if draw < segment.stuck_pct + segment.failure_pct:
        template = segment.errors[rng.randrange(len(segment.errors))]
        error = template.replace("{user}", str(request.user_id))
        return ImportRow(request.user_id, "failed", started, None, error[:500], None)
    minutes = segment.duration_minutes * math.exp(rng.gauss(0.0, segment.duration_sigma))
    completed = started + timedelta(minutes=minutes)
    memory = f"# Memory\n\nImported for {request.user_id}.\n"
    return ImportRow(request.user_id, "complete", started, completed, None, memory)
