"""The RLM log and metrics sources stream: memory follows the window, not the file.

Each file is mostly lines outside a one-hour window, with a distinct user or value on every
line, so reading the whole file, keeping every line or every parsed point, or collecting users
before the window filter would show in the traced peak. (Router logs: tests/unit/
test_router_logs.py and test_router_logs_fast.py.)
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cutover.sources.metrics import read_metrics_csv
from cutover.sources.rlm_logs import scan_rlm_log

T = TypeVar("T")
START = datetime(2026, 2, 2, tzinfo=UTC)
WINDOW = (START + timedelta(hours=6), START + timedelta(hours=7))
RLM_PEAK_BYTES = 4_000_000  # the file is ~7 MB; a 1 MB read buffer is the most of it
METRICS_PEAK_BYTES = 1_500_000  # the file is ~1.9 MB


def traced_peak(read: Callable[[], T]) -> tuple[T, int]:
    tracemalloc.start()
    try:
        result = read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_rlm_log_memory_follows_the_window(tmp_path: Path) -> None:
    """~7 MB of lines over 12 h (a deprecated call by a new user every second); 1 h counted."""
    path = tmp_path / "rlm.log"
    step = timedelta(seconds=1)
    lines = 0
    in_window = 0
    moment = START
    with open(path, "w", encoding="utf-8") as handle:
        batch: list[str] = []
        while moment < START + timedelta(hours=12):
            at = stamp(moment)
            batch.append(f"{at} [DEPRECATED] /process-full called by user user-{lines:09d}\n")
            batch.append(f"{at} INFO [v2] Received process-full-v2 request for user u{lines}\n")
            lines += 2
            in_window += WINDOW[0] <= moment < WINDOW[1]
            moment += step
            if len(batch) >= 10_000:
                handle.write("".join(batch))
                batch.clear()
        handle.write("".join(batch))
    size = path.stat().st_size
    assert size >= 7_000_000

    result, peak = traced_peak(lambda: scan_rlm_log(path, *WINDOW))

    assert result.lines == lines
    assert result.deprecated_calls == len(result.deprecated_users) == in_window == 3600
    assert peak < RLM_PEAK_BYTES, f"peak traced memory {peak} bytes for a {size} byte file"


def test_metrics_memory_follows_the_window(tmp_path: Path) -> None:
    """50k samples (every 10 s over ~3 days, two instances); the window keeps 720 of them."""
    path = tmp_path / "metrics.csv"
    rows = 0
    moment = START
    with open(path, "w", encoding="utf-8") as handle:
        batch = ["timestamp,memory_mb,cpu_percent,instance\n"]
        while rows < 50_000:
            at = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            for instance in ("srv-a", "srv-b"):
                batch.append(f"{at},{300 + rows % 97}.5,{rows % 89}.25,{instance}\n")
                rows += 1
            moment += timedelta(seconds=10)
            if len(batch) >= 10_000:
                handle.write("".join(batch))
                batch.clear()
        handle.write("".join(batch))
    size = path.stat().st_size

    series, peak = traced_peak(lambda: read_metrics_csv(path, *WINDOW))

    assert len(series.points) == 720
    assert series.instances == ("srv-a", "srv-b")
    assert series.first_seen == START
    assert peak < METRICS_PEAK_BYTES, f"peak traced memory {peak} bytes for a {size} byte file"
