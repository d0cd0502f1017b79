"""Review of issue 13 (platform sources), over real HTTP on loopback: each test here fails on the
code as merged, for a real defect found by attacking it. See REVIEW13.md."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from cutover.loopback import serve
from cutover.sources.platform.drain import DrainStore, drain_app


def test_the_drain_refuses_a_body_too_large_before_reading_it(tmp_path: Path) -> None:
    """`deliver` does `await request.body()` before anything else: the receiver, which must be
    reachable from Vercel (so from the internet), buffers in memory whatever any unauthenticated
    client sends, and only then checks the signature. A client that declares (or streams) a
    body of gigabytes makes it wait for, then hold, all of it: the receiver runs out of memory
    and every later delivery is lost (router logs missing for the stage: its gates stay
    inconclusive). A delivery declared larger than a bound must be answered 413 at once."""
    store = DrainStore(tmp_path / "drain")
    with serve(drain_app(store, "drain-secret-0123456789"), name="drain-cap") as url:
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
            conn.sendall(
                b"POST / HTTP/1.1\r\nHost: drain\r\nContent-Type: application/json\r\n"
                b"x-vercel-signature: 00\r\nContent-Length: 1073741824\r\n\r\n["
            )
            try:
                answer = conn.recv(200)
            except TimeoutError:
                answer = b"(no answer within 5 s: the receiver waits for the whole GiB)"
    assert answer.startswith(b"HTTP/1.1 413"), answer
