"""HTTP reads against a real server on loopback: a whole-exchange deadline, a size cap, and
bodies that are not JSON said in words, not as 'processors_available is None'."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from cutover import gate
from cutover.criteria.registry import Context
from cutover.errors import SourceUnavailable
from cutover.loopback import free_port, serve
from cutover.outcome import Outcome
from cutover.profile import Profile
from cutover.sources.http import fetch
from cutover.sources.rlm_http import probe_health


async def drip(request: Request) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield b"{"
            await asyncio.sleep(0.4)

    return StreamingResponse(body())


async def huge(request: Request) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 65536

    return StreamingResponse(body(), media_type="application/json")


async def html_health(request: Request) -> Response:
    return Response(b"<html><body>Service Unavailable</body></html>", media_type="text/html")


async def list_health(request: Request) -> Response:
    return Response(b'["ok"]', media_type="application/json")


CAP = Profile().http_max_body_bytes
APP = Starlette(
    routes=[
        Route("/drip/health", drip),
        Route("/huge/health", huge),
        Route("/html/health", html_health),
        Route("/list/health", list_health),
    ]
)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve(APP, name="http-source-test") as url:
        yield url


def test_a_body_that_drips_is_cut_at_the_whole_deadline(server: str) -> None:
    """Each byte comes well inside any per-read timeout; the exchange as a whole does not."""
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"no whole answer within 1\.5 s"):
        fetch("GET", f"{server}/drip/health", deadline=1.5, max_bytes=CAP, source="RLM")
    assert time.monotonic() - started < 2.5


def test_a_body_over_the_cap_is_not_read_on(server: str) -> None:
    with pytest.raises(SourceUnavailable, match=r"the answer is over 100,000 bytes"):
        probe_health(f"{server}/huge", timeout=5, max_bytes=100_000)


def test_a_closed_port_is_unavailable_and_names_the_url() -> None:
    url = f"http://reader:S3cret@127.0.0.1:{free_port()}"
    with pytest.raises(SourceUnavailable) as info:
        probe_health(url, timeout=2, max_bytes=CAP)
    assert "no answer" in str(info.value)
    assert "S3cret" not in str(info.value)
    assert "127.0.0.1" in info.value.source


CTX = Context(profile=Profile(), as_of=datetime(2026, 2, 2, tzinfo=UTC), target="seeded")


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("html", "body is not JSON (first bytes: b'<html><body>Service Unavailable"),
        ("list", "body is JSON but not an object"),
    ],
)
def test_a_health_body_that_is_not_a_json_object_fails_saying_so(
    server: str, path: str, said: str
) -> None:
    probe = probe_health(f"{server}/{path}", timeout=5, max_bytes=CAP)
    assert probe.status_code == 200 and probe.body is None
    result = gate.decide("prereq.rlm_health", lambda: probe, CTX)
    assert result.outcome is Outcome.FAIL
    assert said in result.reason
    assert "None" not in result.reason
