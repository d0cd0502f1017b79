"""`cutover drain serve` as an operator runs it: a process on a port, taking signed deliveries
into CUTOVER_DRAIN_STORE, answering Vercel's endpoint verification and `/health`; then
`cutover fetch` reads the store back for its window into a router log snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cutover.ledger import Store
from cutover.ledger.records import Snapshot
from cutover.loopback import free_port
from cutover.sources.platform.drain import signature

SECRET = "drain-secret-for-serve-0001"
AS_OF = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def cutover(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cutover", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = os.environ | {
        "VERCEL_DRAIN_SECRET": SECRET,
        "VERCEL_DRAIN_VERIFY": "verify-code-42",
        "CUTOVER_DRAIN_STORE": str(tmp_path / "drain"),
        "CUTOVER_EVIDENCE_DIR": str(tmp_path / "evidence"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cutover", "drain", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.1)
        yield url, env
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_receiver_stores_signed_deliveries_that_cutover_fetch_reads_back(
    receiver: tuple[str, dict[str, str]],
) -> None:
    url, env = receiver
    lines = [
        {
            "id": f"d{n}",
            "timestamp": int((AS_OF - timedelta(minutes=10 - n)).timestamp() * 1000),
            "source": "lambda",
            "type": "stdout",
            "message": json.dumps({"level": 30, "msg": "Routing import request to RLM pipeline"}),
        }
        for n in range(3)
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    verification = httpx.get(url)
    forged = httpx.post(url, content=body, headers={"x-vercel-signature": signature(body, "x")})
    taken = httpx.post(url, content=body, headers={"x-vercel-signature": signature(body, SECRET)})
    health = httpx.get(f"{url}/health").json()
    assert verification.headers["x-vercel-verify"] == "verify-code-42"
    assert (forged.status_code, taken.status_code) == (403, 200)
    assert (health["rejected_signatures"], health["lines"]) == (1, 3)
    assert SECRET not in json.dumps(health)

    fetched = cutover("fetch", "--as-of", "2026-03-02T12:00:00Z", env=env)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert "log drain: 3 lines in 1 requests" in fetched.stdout
    evidence = Path(env["CUTOVER_EVIDENCE_DIR"])
    [snapshot] = [e.parse() for e in Store(evidence).read() if e.type == "snapshot"]
    assert isinstance(snapshot, Snapshot) and snapshot.export == "router_logs"
    kept = (evidence / snapshot.path).read_bytes()
    assert [json.loads(raw)["id"] for raw in kept.splitlines()] == ["d0", "d1", "d2"]
    assert SECRET.encode() not in kept
