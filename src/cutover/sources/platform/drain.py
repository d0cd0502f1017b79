"""The Vercel log-drain receiver (`cutover drain serve`) and its store, read back by window.

Receiving: a starlette app. `POST /` (or any path) takes a delivery: a JSON array of log
objects, one object, or NDJSON (one object a line; a line may also be an array, as when
deliveries are concatenated). It first checks `x-vercel-signature`, the
hex HMAC-SHA1 of the raw body with the drain's secret (`VERCEL_DRAIN_SECRET`): a missing or
wrong one is answered 403 and counted, and nothing of it is stored. A body that is not log
objects is answered 400. Every response carries `x-vercel-verify` when a verification code is
configured (Vercel's endpoint verification asks for it before it sends anything). `GET /health`
says what was received and rejected.

Storing: each object goes, as one compact JSON line, into the file of the UTC hour of its own
`timestamp` (`YYYYMMDDTHH.ndjson`; objects without a readable one into `untimed.ndjson`), and
the files a delivery touched are fsync'ed before it is answered: an answered delivery is on
disk. Drains deliver at least once: a redelivered object is stored again (the reader drops
duplicates by their `id`).

Reading back (`read_drain`): the hours a window touches, the lines whose own instant lies in
the window, in time order: a router log snapshot in the drain's own form."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cutover.errors import SourceUnavailable
from cutover.outcome import Window
from cutover.sources.platform.snapshots import Fetched, window_params
from cutover.timeutil import epoch_us, from_epoch_us, instant_us, iso, utc_now

DRAIN = "log drain"
UNTIMED = "untimed.ndjson"
_HOUR = timedelta(hours=1)


def signature(body: bytes, secret: str) -> str:
    """What Vercel sends as `x-vercel-signature` for `body`."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def hour_file(store: Path, instant: int | None) -> Path:
    if instant is None:
        return store / UNTIMED
    return store / f"{from_epoch_us(instant):%Y%m%dT%H}.ndjson"


@dataclass
class DrainStore:
    """The receiver's directory and what it has taken so far (for `/health`)."""

    directory: Path
    deliveries: int = 0
    lines: int = 0
    rejected_signatures: int = 0
    rejected_bodies: int = 0
    last_delivery: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def append(self, objects: Iterable[dict[str, Any]]) -> int:
        """Store a delivery's objects, each in its hour's file; fsync before returning."""
        by_file: dict[Path, list[bytes]] = {}
        for obj in objects:
            line = json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
            path = hour_file(self.directory, instant_us(obj.get("timestamp")))
            by_file.setdefault(path, []).append(line.encode())
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            created = False
            for path, lines in sorted(by_file.items()):
                created = created or not path.exists()
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
                try:
                    os.write(descriptor, b"".join(lines))
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
            if created:  # a new file's name is on disk too
                directory = os.open(self.directory, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
            count = sum(len(lines) for lines in by_file.values())
            self.deliveries += 1
            self.lines += count
            self.last_delivery = utc_now()
        return count


def parse_delivery(body: bytes) -> list[dict[str, Any]] | None:
    """The log objects of a delivery (a JSON array, one object, or NDJSON); None if it is not."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        value = None
        objects: list[Any] = []
        for line in text.splitlines():  # NDJSON, or arrays one a line (deliveries concatenated)
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                return None
            objects.extend(item if isinstance(item, list) else [item])
    else:
        objects = value if isinstance(value, list) else [value]
    return objects if all(isinstance(o, dict) for o in objects) else None


def drain_app(store: DrainStore, secret: str, verify: str | None = None) -> Starlette:
    """The receiver: deliveries checked and stored; `/health`."""
    headers = {} if verify is None else {"x-vercel-verify": verify}

    async def deliver(request: Request) -> Response:
        body = await request.body()
        sent = request.headers.get("x-vercel-signature", "")
        if not hmac.compare_digest(sent.strip().lower(), signature(body, secret)):
            store.rejected_signatures += 1
            error = {"code": "invalid_signature", "error": "signature didn't match"}
            return JSONResponse(error, status_code=403, headers=headers)
        objects = parse_delivery(body)
        if objects is None:
            store.rejected_bodies += 1
            error = {"error": "expected a JSON array, a JSON object or NDJSON of log objects"}
            return JSONResponse(error, status_code=400, headers=headers)
        stored = store.append(objects)
        return JSONResponse({"stored": stored}, headers=headers)

    async def verification(request: Request) -> Response:
        return JSONResponse({"verify": verify is not None}, headers=headers)

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "store": str(store.directory),
                "deliveries": store.deliveries,
                "lines": store.lines,
                "rejected_signatures": store.rejected_signatures,
                "rejected_bodies": store.rejected_bodies,
                "last_delivery": iso(store.last_delivery),
            },
            headers=headers,
        )

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/{path:path}", deliver, methods=["POST"]),
            Route("/{path:path}", verification, methods=["GET", "HEAD"]),
        ]
    )


def read_drain(store: Path, window: Window) -> Fetched:
    """The drain's lines whose instant lies in `window`, in time order, as a snapshot."""
    start = window.start or window.end
    lo, hi = epoch_us(start), epoch_us(window.end)
    if not store.is_dir():
        raise SourceUnavailable(DRAIN, f"{store} is not a directory (CUTOVER_DRAIN_STORE)")
    found: list[tuple[int, bytes]] = []
    hour = start.replace(minute=0, second=0, microsecond=0)
    files = 0
    while hour < window.end:
        path = hour_file(store, epoch_us(hour))
        hour += _HOUR
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SourceUnavailable(DRAIN, f"{path} cannot be read ({exc.strerror})") from None
        files += 1
        for raw in content.splitlines():
            try:
                instant = instant_us(json.loads(raw).get("timestamp"))
            except (ValueError, AttributeError):
                instant = None  # a line the receiver did not write: the reader judges it
            if instant is None or lo <= instant < hi:
                found.append((lo if instant is None else instant, raw))
    found.sort(key=lambda line: line[0])
    content = b"".join(raw + b"\n" for _, raw in found)
    params = {"store": str(store), "window": window_params(window)}
    details = {"hour_files": files}
    return Fetched(
        DRAIN, "router_logs", params, window, content, ".ndjson", files, len(found), details
    )
