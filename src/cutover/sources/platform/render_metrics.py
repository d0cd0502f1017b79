"""Render's metrics of the RLM service, read only, into the metrics CSV snapshot.

Metrics: `memory`, `memory-limit`, `cpu` and `cpu-limit`, one series per instance, written as
the metrics CSV (`timestamp,instance,memory_mb,cpu_percent`). Each series' `unit` is read and
recorded, never assumed: memory is converted to MiB from the unit given (an unknown unit fails
the snapshot); CPU is a percentage of the instance's `cpu-limit` in the same unit, or, when
Render gives no limit series, of one CPU (the details say which). The resolution is chosen so a
series holds at most `MAX_POINTS` points (the trend test uses hourly means).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cutover.errors import SourceUnavailable
from cutover.outcome import Window
from cutover.sources.http import Budget
from cutover.sources.platform.render import RenderApi, rfc3339, shape
from cutover.sources.platform.snapshots import Fetched, window_params
from cutover.timeutil import epoch_us, from_epoch_us, instant_us, iso

METRICS = "render metrics"
MAX_POINTS = 2000

#: MiB per unit of a memory series
_MEMORY_UNITS = {"b": 1 / 2**20, "byte": 1 / 2**20, "bytes": 1 / 2**20, "kb": 1 / 1024}
_MEMORY_UNITS |= {"kib": 1 / 1024, "mb": 1.0, "mib": 1.0, "gb": 1024.0, "gib": 1024.0}
SERIES = ("memory", "memory-limit", "cpu", "cpu-limit")


def fetch_metrics(api: RenderApi, window: Window, budget: Budget) -> Fetched:
    """Memory (MiB) and CPU (% of the limit) per instance, as the metrics CSV."""
    start = window.start or window.end
    seconds = max((window.end - start).total_seconds(), 1.0)
    resolution = max(60, 30 * math.ceil(seconds / MAX_POINTS / 30))
    params = {
        "resource": api.service,
        "startTime": rfc3339(epoch_us(start)),
        "endTime": rfc3339(epoch_us(window.end)),
        "resolutionSeconds": resolution,
    }
    series = {name: _series(api, name, params, budget) for name in SERIES}
    rows, details = metric_rows(series)
    text = "timestamp,instance,memory_mb,cpu_percent\n" + "".join(
        f"{iso(when)},{instance},{memory:.3f},{'' if cpu is None else f'{cpu:.3f}'}\n"
        for when, instance, memory, cpu in rows
    )
    recorded = {**api.params(), "window": window_params(window), "series": list(SERIES)}
    recorded["resolutionSeconds"] = resolution
    return Fetched(
        METRICS,
        "rlm_metrics",
        recorded,
        window,
        text.encode(),
        ".csv",
        len(SERIES),
        len(rows),
        details,
    )


Series = dict[str, tuple[str, dict[int, float]]]  # instance -> (unit, {epoch us: value})


def _series(api: RenderApi, name: str, params: Mapping[str, Any], budget: Budget) -> Series:
    path = f"/v1/metrics/{name}"
    body = api.get(path, params, budget, METRICS)
    if not isinstance(body, list):
        raise SourceUnavailable(METRICS, f"GET {path}: not a list of series ({shape(body)})")
    found: Series = {}
    for item in body:
        if not isinstance(item, dict) or not isinstance(item.get("values"), list):
            raise SourceUnavailable(METRICS, f"GET {path}: a series without values")
        labels = {
            label.get("field"): label.get("value")
            for label in item.get("labels") or []
            if isinstance(label, dict)
        }
        instance = str(labels.get("instance") or "")
        values: dict[int, float] = {}
        for point in item["values"]:
            instant = instant_us(point.get("timestamp")) if isinstance(point, dict) else None
            value = point.get("value") if isinstance(point, dict) else None
            if instant is None or isinstance(value, bool) or not isinstance(value, int | float):
                continue  # no sample at that instant
            if math.isfinite(value):
                values[instant] = float(value)
        found[instance] = (str(item.get("unit") or ""), values)
    return found


def metric_rows(
    series: Mapping[str, Series],
) -> tuple[list[tuple[datetime, str, float, float | None]], dict[str, Any]]:
    """(timestamp, instance, memory MiB, CPU %) rows in time order, and what the snapshot
    records of the series (units, limits, what CPU is a percentage of)."""
    rows: list[tuple[datetime, str, float, float | None]] = []
    units = {name: sorted({unit for unit, _ in s.values()}) for name, s in series.items()}
    limits: dict[str, dict[str, float | None]] = {}
    cpu_of: dict[str, str] = {}
    for instance, (unit, memory) in sorted(series["memory"].items()):
        scale = _MEMORY_UNITS.get(unit.strip().lower())
        if scale is None:
            raise SourceUnavailable(
                METRICS,
                f"memory series of {instance or 'the service'} is in {unit!r}, a unit "
                "this reader does not know (expected bytes, KB, MB or GB)",
            )
        cpu_unit, cpu = series["cpu"].get(instance, ("", {}))
        limit = _limit(series["cpu-limit"], instance)
        if limit is not None and limit[0] != cpu_unit:
            raise SourceUnavailable(
                METRICS, f"cpu of {instance} is in {cpu_unit!r} but its limit in {limit[0]!r}"
            )
        limit_value = limit[1] if limit is not None and limit[1] > 0 else None
        cpu_of[instance] = "cpu-limit" if limit_value is not None else "one CPU"
        memory_limit = _limit(series["memory-limit"], instance)
        limits[instance] = {
            "memory_mb": None
            if memory_limit is None
            else memory_limit[1] * _MEMORY_UNITS.get(memory_limit[0].strip().lower(), math.nan),
            "cpu": limit_value,
        }
        for when, value in sorted(memory.items()):
            used = cpu.get(when)
            share = None if used is None else 100.0 * used / (limit_value or 1.0)
            rows.append((from_epoch_us(when), instance, value * scale, share))
    rows.sort(key=lambda row: (row[0], row[1]))
    details = {"units": units, "limits": limits, "cpu_percent_of": cpu_of}
    return rows, details


def _limit(series: Series, instance: str) -> tuple[str, float] | None:
    """The instance's limit (its latest value), else the service's (a series without one)."""
    found = series.get(instance) or series.get("")
    if found is None or not found[1]:
        return None
    unit, values = found
    return unit, values[max(values)]
