"""The RLM metrics CSV a scenario implies: memory and CPU every ``metrics.every``, growing
linearly from the span start (or the last restart), with Gaussian noise."""

from __future__ import annotations

from collections.abc import Iterator

from cutover.errors import ConfigError
from cutover.scenarios.artifacts.common import (
    HOUR_MS,
    MS,
    Span,
    epoch_ms,
    iso_ms,
    random_source,
)
from cutover.scenarios.model import Scenario

METRICS_INSTANCE = "srv-soulprint-landing-1"


def metric_lines(scenario: Scenario, window: Span) -> Iterator[str]:
    """The CSV: a header, then one row per `metrics.every` from the span start."""
    metrics = scenario.metrics
    every = metrics.every // MS
    if every <= 0:
        raise ConfigError(
            f"scenario file {scenario.path}: metrics.every is {metrics.every}; "
            "expected a positive duration such as '5m'"
        )
    rng = random_source(scenario, "metrics")
    restarts = sorted(
        ms
        for ms in (
            epoch_ms(scenario.at(e.at)) for e in scenario.rlm_events if e.kind in ("oom", "crash")
        )
        if ms in window
    )
    yield "timestamp,memory_mb,cpu_percent,instance"
    since = window.lo  # the process start the growth is measured from
    upcoming = 0
    for ms in range(window.lo, window.hi, every):
        while upcoming < len(restarts) and restarts[upcoming] <= ms:
            since = restarts[upcoming]
            upcoming += 1
        hours = (ms - since) / HOUR_MS
        memory = metrics.memory_mb + metrics.memory_leak_mb_per_hour * hours
        memory += rng.gauss(0.0, metrics.memory_noise_mb) if metrics.memory_noise_mb > 0 else 0.0
        cpu = metrics.cpu_percent + metrics.cpu_growth_per_hour * hours
        cpu += rng.gauss(0.0, metrics.cpu_noise) if metrics.cpu_noise > 0 else 0.0
        yield f"{iso_ms(ms)},{max(0.0, memory):.1f},{max(0.0, cpu):.1f},{METRICS_INSTANCE}"
