"""The log-drain store: each object in the file of its own UTC hour, every file a delivery
touched fsync'ed before the delivery is answered (the directory too when a file is new), read
back by window in time order; deliveries as an array, NDJSON, or arrays concatenated."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cutover.outcome import Window
from cutover.sources.platform.drain import UNTIMED, DrainStore, parse_delivery, read_drain

T = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def drained(ident: str, at: datetime | None) -> dict[str, Any]:
    obj: dict[str, Any] = {"id": ident, "source": "lambda", "message": f"line {ident}"}
    if at is not None:
        obj["timestamp"] = int(at.timestamp() * 1000)  # Vercel's epoch milliseconds
    return obj


def ids(content: bytes) -> list[str]:
    return [json.loads(raw)["id"] for raw in content.splitlines()]


def test_a_delivery_across_an_hour_goes_into_each_hours_file(tmp_path: Path) -> None:
    store = DrainStore(tmp_path / "drain")
    late = drained("b", T - timedelta(milliseconds=1))
    stored = store.append(
        [drained("c", T), late, drained("a", T - timedelta(minutes=30)), drained("u", None)]
    )
    assert stored == 4
    files = sorted(p.name for p in store.directory.iterdir())
    assert files == ["20260302T10.ndjson", "20260302T11.ndjson", UNTIMED]
    assert ids((store.directory / "20260302T10.ndjson").read_bytes()) == ["b", "a"]
    across = read_drain(store.directory, Window(T - timedelta(hours=1), T + timedelta(hours=1)))
    assert ids(across.content) == ["a", "b", "c"]  # time order; the untimed file is no hour's
    assert (across.lines, across.pages) == (3, 2)
    after = read_drain(store.directory, Window(T, T + timedelta(minutes=5)))
    assert ids(after.content) == ["c"]  # the window's start is in, its end out
    before = read_drain(store.directory, Window(T - timedelta(minutes=30), T))
    assert ids(before.content) == ["a", "b"]


def test_every_file_a_delivery_touched_is_fsynced_and_a_new_ones_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    store = DrainStore(tmp_path / "drain")
    store.append([drained("a", T), drained("b", T - timedelta(minutes=1))])
    directory = str(store.directory)
    assert sorted(synced) == sorted(
        [directory, f"{directory}/20260302T10.ndjson", f"{directory}/20260302T11.ndjson"]
    )
    synced.clear()
    store.append([drained("c", T + timedelta(minutes=1))])
    assert synced == [f"{directory}/20260302T11.ndjson"]  # no new name: the directory as it was


def test_a_delivery_is_an_array_an_object_ndjson_or_arrays_one_a_line() -> None:
    one, two = drained("1", T), drained("2", T)
    assert parse_delivery(json.dumps([one, two]).encode()) == [one, two]
    assert parse_delivery(json.dumps(one).encode()) == [one]
    assert parse_delivery(f"{json.dumps(one)}\n\n{json.dumps(two)}\n".encode()) == [one, two]
    concatenated = f"{json.dumps([one])}\n{json.dumps([two, one])}\n".encode()
    assert parse_delivery(concatenated) == [one, two, one]
    assert parse_delivery(b"") == []
    assert parse_delivery(b'{"id": 1}\nnot json\n') is None
    assert parse_delivery(b"[1, 2]") is None  # not log objects
