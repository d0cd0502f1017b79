"""HTTP reads with a whole-request deadline and a size cap, for every HTTP source.

httpx's timeouts bound each connect and each read, so a server that drips a byte every few
seconds never times out; here the deadline bounds the whole exchange. A body past the cap is
not read further: the source is unavailable rather than the process out of memory. Failures
raise SourceUnavailable naming the URL with its secrets masked."""

from __future__ import annotations

import asyncio
import functools
import json
import math
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from cutover.errors import SourceUnavailable
from cutover.redact import redact_text, redact_url


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole response: status, headers and body, with the URL as evidence may show it."""

    url: str
    status_code: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> tuple[Any, str]:
        """The decoded body and "" , or None and why it is not JSON."""
        try:
            return json.loads(self.body), ""
        except (ValueError, UnicodeDecodeError):
            return None, f"body is not JSON (first bytes: {self.body[:60]!r})"


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default verification (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), made once: a
    client loads the CA bundle each time it is made (~20 ms), and a paged read makes hundreds."""
    return httpx.create_ssl_context()


def fetch(
    method: str,
    url: str,
    *,
    deadline: float,
    max_bytes: int,
    source: str,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Answer:
    """`method url` within `deadline` seconds in all, reading at most `max_bytes` of body;
    `source` names it in errors (with the URL: the messages do not repeat it).

    The exchange runs on its own event loop so that the deadline cancels it wherever it waits
    (connecting, a slow first byte, a body that drips)."""
    shown = redact_url(url)

    async def exchange() -> Answer:
        client = httpx.AsyncClient(transport=transport, timeout=deadline, verify=_tls())
        async with client:
            request = client.build_request(method, url, json=json_body, headers=headers)
            response = await client.send(request, stream=True)
            try:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise SourceUnavailable(
                            source, f"{method}: the answer is over {max_bytes:,} bytes"
                        )
                return Answer(shown, response.status_code, response.headers, bytes(body))
            finally:
                await response.aclose()

    async def bounded() -> Answer:
        return await asyncio.wait_for(exchange(), timeout=deadline)

    try:
        return asyncio.run(bounded())
    except TimeoutError:
        raise SourceUnavailable(
            source, f"{method}: no whole answer within {deadline:g} s"
        ) from None
    except httpx.HTTPError as exc:
        raise SourceUnavailable(source, f"{method}: no answer ({_why(exc)})") from None


def _why(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return redact_text(text.splitlines()[0][:200])


# -- paged reads of a platform API ---------------------------------------------------------------

RETRIED_STATUSES = frozenset({500, 502, 503, 504})
_FIRST_BACKOFF = 0.5  # seconds before the first retry of a 5xx; doubled each time


@dataclass(frozen=True, slots=True)
class Pacing:
    """How a read of many requests spends its time: `deadline` seconds in all (every request,
    wait and retry), `request_timeout` for one exchange, `retries` of a 5xx or an unanswered
    request, `min_wait` the least pause after a 429 (doubled for each further one, whatever the
    headers say: a reset of 0 or in the past must not become a tight request loop).
    `clock` and `sleep` are the process's own unless a simulation supplies its own."""

    deadline: float
    request_timeout: float
    retries: int = 4
    min_wait: float = 1.0  # the profile's platform_min_wait_seconds
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


class Budget:
    """The time and requests a read has spent, and when the platform said it may ask again."""

    __slots__ = ("pacing", "started", "requests", "waited", "_resume_at")

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self.started = pacing.clock()
        self.requests = 0
        self.waited = 0.0
        self._resume_at = self.started

    def left(self) -> float:
        return self.started + self.pacing.deadline - self.pacing.clock()

    def wait(self, seconds: float, source: str, why: str) -> None:
        """Sleep `seconds`, or raise if that would pass the deadline."""
        if seconds <= 0:
            return
        if seconds > self.left():
            raise SourceUnavailable(
                source,
                f"{why}: waiting {seconds:g} s more would pass the {self.pacing.deadline:g} s "
                f"deadline ({self.requests} requests made)",
            )
        self.pacing.sleep(seconds)
        self.waited += seconds

    def resume_after(self, seconds: float) -> None:
        self._resume_at = max(self._resume_at, self.pacing.clock() + seconds)

    def pause(self, source: str) -> None:
        self.wait(self._resume_at - self.pacing.clock(), source, "rate limited")


def get_json(
    url: str,
    *,
    params: Mapping[str, Any],
    headers: Mapping[str, str],
    budget: Budget,
    source: str,
    max_bytes: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Any:
    """GET `url?params` and decode its JSON, within `budget`: a 429 (and a page that says no
    request is left) waits until the platform's `Retry-After` / `Ratelimit-Reset`, and at least
    `min_wait`, doubled for each further 429 of this request; a 5xx or no answer is retried with
    a doubling pause; any other status, a body that is not JSON, or the deadline raise
    SourceUnavailable naming the endpoint (never the query or a header)."""
    endpoint = redact_url(str(httpx.URL(url).copy_with(query=None)))
    full = str(httpx.URL(url, params=_query(params)))
    failures = limited = 0
    while True:
        budget.pause(source)
        timeout = min(budget.pacing.request_timeout, budget.left())
        if timeout <= 0:
            raise SourceUnavailable(
                source, f"GET {endpoint}: the {budget.pacing.deadline:g} s deadline has passed"
            )
        budget.requests += 1
        try:
            answer = fetch(
                "GET",
                full,
                deadline=timeout,
                max_bytes=max_bytes,
                source=source,
                headers=headers,
                transport=transport,
            )
        except SourceUnavailable as exc:
            failures += 1
            said = f"GET {endpoint}: {exc.message.removeprefix('GET: ')}"
            if failures > budget.pacing.retries:
                raise SourceUnavailable(source, said) from None
            budget.wait(_FIRST_BACKOFF * 2 ** (failures - 1), source, said)  # says why, if cut
            continue
        status = answer.status_code
        reset = rate_limit_wait(answer.headers)
        if status == 429:
            limited += 1
            backoff = budget.pacing.min_wait * 2 ** (limited - 1)
            budget.wait(max(reset or 0.0, backoff), source, f"GET {endpoint}: 429")
            continue
        if status in RETRIED_STATUSES and failures < budget.pacing.retries:
            failures += 1
            budget.wait(_FIRST_BACKOFF * 2 ** (failures - 1), source, f"GET {endpoint}: {status}")
            continue
        if status != 200:
            raise SourceUnavailable(source, f"GET {endpoint} answered {status}{_said(answer)}")
        if answer.headers.get("ratelimit-remaining", "").strip() == "0" and reset is not None:
            budget.resume_after(reset)
        value, problem = answer.json()
        if problem:
            raise SourceUnavailable(source, f"GET {endpoint}: {problem}")
        return value


def bearer_get(
    base_url: str,
    path: str,
    token: str,
    params: Mapping[str, Any],
    budget: Budget,
    source: str,
    max_bytes: int,
    transport: httpx.AsyncBaseTransport | None,
) -> Any:
    """`get_json` of a platform API that takes a bearer token (in a header, never the URL)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    url = base_url.rstrip("/") + path
    return get_json(
        url,
        params=params,
        headers=headers,
        budget=budget,
        source=source,
        max_bytes=max_bytes,
        transport=transport,
    )


def rate_limit_wait(headers: httpx.Headers) -> float | None:
    """Seconds until the platform takes requests again: `Retry-After` (seconds or an HTTP date),
    else `Ratelimit-Reset` (seconds; a value past 1e9 is read as an epoch second)."""
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        seconds = _number(retry_after)
        if seconds is None:
            try:
                when = parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                return None
            seconds = when.timestamp() - time.time()
        return max(seconds, 0.0)
    reset = _number(headers.get("ratelimit-reset", ""))
    if reset is None:
        return None
    if reset > 1e9:
        reset -= time.time()
    return max(reset, 0.0)


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query pairs; a list value repeats its key (`text=a&text=b`), as the platforms read it."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, str(item)))
    return pairs


def _said(answer: Answer) -> str:
    """What an error answer's body says (its `message` or `error.message`), cut short."""
    value, problem = answer.json()
    message: Any = None
    if not problem and isinstance(value, dict):
        message = value.get("message")
        error = value.get("error")
        if message is None and isinstance(error, dict):
            message = error.get("message")
    if not isinstance(message, str) or not message.strip():
        return ""
    return f": {redact_text(message.strip().splitlines()[0][:200])}"
