"""The log-drain store: each object in the file of its own UTC hour, every file a delivery
touched fsync'ed before the delivery is answered (the directory too when a file is new), read
back by window in time order; deliveries as an array, NDJSON, or arrays concatenated."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cutover.outcome import Window
from cutover.sources.platform.drain import (
    UNTIMED,
    DrainStore,
    drain_app,
    parse_delivery,
    read_drain,
    signature,
)

T = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
SECRET = "drain-secret-0123456789"


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


def post(
    store: DrainStore, body: bytes | AsyncIterator[bytes], headers: dict[str, Any], **app: Any
) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(drain_app(store, SECRET, **app))
        async with httpx.AsyncClient(transport=transport, base_url="http://drain") as client:
            return await client.post("/", content=body, headers=headers)

    return asyncio.run(send())


def test_a_short_write_is_written_on_until_the_whole_delivery_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 13 #7: the count `os.write` returns was ignored, so a short write (a full disk, a
    signal) was answered 200 "stored" with half the delivery on disk."""
    real_write = os.write
    calls = [0]

    def short_write(descriptor: int, data: bytes) -> int:
        calls[0] += 1
        return real_write(descriptor, data[: max(1, len(data) // 2)])

    store = DrainStore(tmp_path / "drain")
    objects = [drained(f"d{i}", T + timedelta(seconds=i)) for i in range(4)]
    monkeypatch.setattr(os, "write", short_write)
    assert store.append(objects) == 4
    monkeypatch.setattr(os, "write", real_write)
    assert calls[0] > 1
    assert ids((store.directory / "20260302T11.ndjson").read_bytes()) == ["d0", "d1", "d2", "d3"]


def test_a_write_that_cannot_go_on_is_answered_503_so_vercel_delivers_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that stops part-way (0 bytes taken, or an error) is never answered 200: Vercel
    redelivers on a 5xx, and the reader drops a redelivered object by its `id`."""
    store = DrainStore(tmp_path / "drain")
    body = json.dumps([drained("a", T)]).encode()
    monkeypatch.setattr(os, "write", lambda descriptor, data: 0)
    answer = post(store, body, {"x-vercel-signature": signature(body, SECRET)})
    assert answer.status_code == 503 and "not stored" in answer.json()["error"]
    assert (store.failed_writes, store.deliveries, store.lines) == (1, 0, 0)


def test_a_torn_line_does_not_swallow_the_next_delivery(tmp_path: Path) -> None:
    """Review 13 #8: after a crash mid-write the hour file ended inside a line, and the next
    delivery's first object was glued to it: one unreadable line, lost from every snapshot."""
    directory = tmp_path / "drain"
    directory.mkdir()
    hour = directory / f"{T:%Y%m%dT%H}.ndjson"
    hour.write_bytes(b'{"id":"torn","timestamp":17724456')  # a crash mid-line
    DrainStore(directory).append([drained("next", T + timedelta(seconds=5))])
    DrainStore(directory).append([drained("later", T + timedelta(seconds=6))])
    lines = hour.read_bytes().splitlines()
    assert lines[0] == b'{"id":"torn","timestamp":17724456'
    assert [json.loads(raw)["id"] for raw in lines[1:]] == ["next", "later"]  # one newline added
    snapshot = read_drain(directory, Window(T, T + timedelta(hours=1)))
    readable = [raw for raw in snapshot.content.splitlines() if raw.endswith(b"}")]
    assert [json.loads(raw)["id"] for raw in readable] == ["next", "later"]


def test_a_signature_header_that_is_not_ascii_is_a_counted_403_not_a_500(tmp_path: Path) -> None:
    """Review 13 #9: `hmac.compare_digest` raises TypeError on a non-ASCII str (starlette
    decodes headers as latin-1): a 500 with a traceback, and the rejection not counted."""
    store = DrainStore(tmp_path / "drain")
    body = json.dumps([drained("a", T)]).encode()
    answer = post(store, body, {"x-vercel-signature": b"\xe9"})
    assert answer.status_code == 403
    assert (store.rejected_signatures, store.lines) == (1, 0)


def test_a_body_that_streams_past_the_cap_is_refused_413_unread(tmp_path: Path) -> None:
    """Review 13 #6, a body with no declared length (chunked): refused once it passes the cap,
    signed or not; a body within the cap is taken."""
    store = DrainStore(tmp_path / "drain")
    body = json.dumps([drained(f"d{i}", T) for i in range(20)]).encode()
    seen = [0]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64):
            seen[0] += 1
            yield body[start : start + 64]

    signed = {"x-vercel-signature": signature(body, SECRET)}
    refused = post(store, chunks(), signed, max_body=100)
    assert refused.status_code == 413
    assert seen[0] == 2, "read on past the cap"
    assert post(store, chunks(), signed, max_body=len(body) - 1).status_code == 413
    assert (store.rejected_oversize, store.lines, store.rejected_signatures) == (2, 0, 0)
    assert post(store, chunks(), signed, max_body=len(body)).status_code == 200
    assert store.lines == 20
