"""HTTP reads with a whole-request deadline and a size cap, for every HTTP source.

httpx's timeouts bound each connect and each read, so a server that drips a byte every few
seconds never times out; here the deadline bounds the whole exchange. A body past the cap is
not read further: the source is unavailable rather than the process out of memory. Failures
raise SourceUnavailable naming the URL with its secrets masked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
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
        async with httpx.AsyncClient(transport=transport, timeout=deadline) as client:
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
