"""RLM memory / CPU series from CSV (see DESIGN.md "Input files").

The file has a header row naming ``timestamp`` (ISO 8601; naive means UTC) and ``memory_mb``,
optionally ``cpu_percent`` and ``instance``; other columns are ignored, header names are matched
without regard to case or surrounding spaces. Blank rows are skipped; an empty ``cpu_percent`` or
``instance`` cell reads as None.

Points inside [window_start, window_end) are returned sorted by time (then instance), each
once: a row that repeats an earlier one (same timestamp, instance and values: exports that
overlap) is left out and counted in ``duplicates``; ``first_seen`` / ``last_seen`` span every row
of the file; ``instances`` names the instances of the returned points. Input that cannot be read
as that raises ConfigError naming the file, the line and what was expected; a file that cannot
be opened raises SourceUnavailable.

This module reads and never decides: criteria judge the series.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cutover.errors import ConfigError, SourceUnavailable
from cutover.timeutil import as_utc, parse_instant

REQUIRED_COLUMNS: tuple[str, ...] = ("timestamp", "memory_mb")
OPTIONAL_COLUMNS: tuple[str, ...] = ("cpu_percent", "instance")


@dataclass(frozen=True, slots=True)
class MetricPoint:
    timestamp: datetime
    memory_mb: float
    cpu_percent: float | None = None
    instance: str | None = None


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """Points in the window, in time order, and the span the whole file covers."""

    points: tuple[MetricPoint, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    instances: tuple[str, ...] = ()
    path: str = ""
    duplicates: int = 0  # rows in the window left out: the same as an earlier one


def read_metrics_csv(path: Path, window_start: datetime, window_end: datetime) -> MetricSeries:
    """Read a metrics CSV; keep the points in [window_start, window_end)."""
    lo = as_utc(window_start)
    hi = as_utc(window_end)
    where = str(path)
    points: set[MetricPoint] = set()
    rows = 0  # rows in the window
    first: datetime | None = None
    last: datetime | None = None
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header: dict[str, int] | None = None
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = _header(row, where, line)
                    continue
                point = _point(row, header, where, line)
                if first is None or point.timestamp < first:
                    first = point.timestamp
                if last is None or point.timestamp > last:
                    last = point.timestamp
                if lo <= point.timestamp < hi:
                    points.add(point)
                    rows += 1
    except OSError as exc:
        raise SourceUnavailable(
            f"rlm metrics {path}", f"cannot read: {exc.strerror or exc}"
        ) from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not a readable CSV file ({exc})") from exc
    if header is None:
        raise ConfigError(
            f"{where}: no header row; expected a CSV header with "
            "timestamp and memory_mb (optionally cpu_percent, instance)"
        )
    ordered = sorted(points, key=_order)
    instances = tuple(sorted({p.instance for p in points if p.instance is not None}))
    return MetricSeries(
        points=tuple(ordered),
        first_seen=first,
        last_seen=last,
        instances=instances,
        path=where,
        duplicates=rows - len(points),
    )


def _order(point: MetricPoint) -> tuple[datetime, str, float, float]:
    cpu = -1.0 if point.cpu_percent is None else point.cpu_percent
    return point.timestamp, point.instance or "", point.memory_mb, cpu


def _header(row: list[str], where: str, line: int) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(row):
        columns.setdefault(name.strip().lower(), index)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        found = ", ".join(repr(cell.strip()) for cell in row)
        raise ConfigError(
            f"{where}, line {line}: header has no {' and no '.join(missing)} column "
            f"(found {found}); expected a header row with timestamp and memory_mb "
            "(optionally cpu_percent, instance)"
        )
    return columns


def _cell(row: list[str], header: dict[str, int], name: str) -> str:
    index = header.get(name)
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _point(row: list[str], header: dict[str, int], where: str, line: int) -> MetricPoint:
    stamp = _cell(row, header, "timestamp")
    try:
        timestamp = parse_instant(stamp)
    except ValueError:
        raise ConfigError(
            f"{where}, line {line}: timestamp is {stamp!r}; "
            "expected an ISO 8601 instant such as 2026-03-01T12:00:00Z"
        ) from None
    memory_text = _cell(row, header, "memory_mb")
    memory = _number(memory_text)
    if memory is None or memory < 0:
        raise ConfigError(
            f"{where}, line {line}: memory_mb is {memory_text!r}; expected a number in MB"
        )
    cpu_text = _cell(row, header, "cpu_percent")
    cpu: float | None = None
    if cpu_text:
        cpu = _number(cpu_text)
        if cpu is None:
            raise ConfigError(
                f"{where}, line {line}: cpu_percent is {cpu_text!r}; "
                "expected a number (percent) or an empty cell"
            )
    instance = _cell(row, header, "instance") or None
    return MetricPoint(timestamp=timestamp, memory_mb=memory, cpu_percent=cpu, instance=instance)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
