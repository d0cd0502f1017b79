"""Metrics CSV source: columns, window, ordering, per-instance grouping, errors naming the line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover.errors import ConfigError, SourceUnavailable
from cutover.measure.readings import series_by_instance
from cutover.sources.metrics import MetricPoint, MetricSeries, read_metrics_csv

T0 = datetime(2026, 2, 2, 10, tzinfo=UTC)
WINDOW = (T0, T0 + timedelta(hours=1))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "metrics.csv"
    path.write_text(text, encoding="utf-8")
    return path


def read(path: Path) -> MetricSeries:
    return read_metrics_csv(path, *WINDOW)


def test_full_columns_sorted_and_windowed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp,instance,memory_mb,cpu_percent,region\n"
        "2026-02-02T10:05:00Z,srv-b,300.5,12.5,oregon\n"
        "2026-02-02T10:00:00Z,srv-a,250,10,oregon\n"  # at the start: kept
        "2026-02-02T09:59:00Z,srv-a,240,9,oregon\n"  # before: dropped
        "2026-02-02T11:00:00Z,srv-a,260,11,oregon\n"  # at the end: dropped
        "2026-02-02T10:05:00Z,srv-a,255,,oregon\n",
    )
    series = read(path)
    assert series.points == (
        MetricPoint(T0, 250.0, 10.0, "srv-a"),
        MetricPoint(T0 + timedelta(minutes=5), 255.0, None, "srv-a"),
        MetricPoint(T0 + timedelta(minutes=5), 300.5, 12.5, "srv-b"),
    )
    assert series.first_seen == T0 - timedelta(minutes=1)
    assert series.last_seen == T0 + timedelta(hours=1)
    assert series.instances == ("srv-a", "srv-b")
    assert series.path == str(path)


def test_minimal_columns_bom_case_and_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    text = "\ufeff Timestamp , MEMORY_MB \n\n2026-02-02 10:01:00,128\n,\n"
    path.write_bytes((text + "2026-02-02T10:02:00+00:00,130\n").encode())
    series = read(path)
    assert [p.memory_mb for p in series.points] == [128.0, 130.0]
    assert all(p.cpu_percent is None and p.instance is None for p in series.points)
    assert series.points[0].timestamp == T0 + timedelta(minutes=1)  # naive = UTC
    assert series.instances == ()


def test_series_by_instance(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp,memory_mb,instance\n"
        "2026-02-02T10:02:00Z,3,b\n"
        "2026-02-02T10:01:00Z,2,a\n"
        "2026-02-02T10:00:00Z,1,a\n"
        "2026-02-02T10:00:30Z,9,\n",
    )
    grouped = series_by_instance(read(path))
    assert list(grouped) == ["", "a", "b"]
    assert [p.memory_mb for p in grouped["a"]] == [1.0, 2.0]
    assert [p.memory_mb for p in grouped["b"]] == [3.0]
    assert [p.memory_mb for p in grouped[""]] == [9.0]


def test_header_only_and_empty_window(tmp_path: Path) -> None:
    series = read(write(tmp_path, "timestamp,memory_mb\n"))
    assert series == MetricSeries(path=str(tmp_path / "metrics.csv"))


def test_missing_columns_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        read(write(tmp_path, "time,mem\n2026-02-02T10:00:00Z,1\n"))
    message = str(excinfo.value)
    assert "line 1" in message
    assert "timestamp" in message and "memory_mb" in message

    with pytest.raises(ConfigError, match=r"header has no memory_mb column"):
        read(write(tmp_path, "timestamp,cpu_percent\n"))


def test_non_numeric_memory_names_line(tmp_path: Path) -> None:
    lines = ["timestamp,memory_mb"] + [f"2026-02-02T10:{i:02d}:00Z,{i}" for i in range(15)]
    lines.append("2026-02-02T10:20:00Z,abc")  # line 17
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as excinfo:
        read(path)
    assert str(excinfo.value) == f"{path}, line 17: memory_mb is 'abc'; expected a number in MB"


@pytest.mark.parametrize("value", ["", "nan", "inf", "-5"])
def test_other_bad_memory_values(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"timestamp,memory_mb\n2026-02-02T10:00:00Z,{value}\n")
    with pytest.raises(ConfigError, match=r"line 2: memory_mb is .*expected a number in MB"):
        read(path)


def test_bad_timestamp_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,memory_mb\n2026-02-02T10:00:00Z,1\nyesterday,2\n")
    with pytest.raises(ConfigError) as excinfo:
        read(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}, line 3: timestamp is 'yesterday'")
    assert "ISO 8601" in message


def test_bad_cpu_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,memory_mb,cpu_percent\n2026-02-02T10:00:00Z,1,high\n")
    with pytest.raises(ConfigError, match=r"line 2: cpu_percent is 'high'"):
        read(path)


def test_empty_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no header row"):
        read(write(tmp_path, ""))


def test_missing_file_is_source_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(SourceUnavailable) as excinfo:
        read(missing)
    assert excinfo.value.source == f"rlm metrics {missing}"
