"""What a router log line means: records (instant, kind, percent) and their kinds, read from
a message and its fields (``endpoint``, ``v2RolloutPercent``) or from plain text by pattern."""

from __future__ import annotations

import json
import re
from typing import Any

from cutover.sources.logs.identity import text_key

ROUTING_MESSAGE = "Routing import request to RLM pipeline"
V1_ENDPOINT = "/process-full"
V2_ENDPOINT = "/process-full-v2"
# A message holding this is a routing line (the full text may be cut off); it needs an endpoint.
ROUTING_PREFIX = "Routing import request"

# Record kinds.
OTHER = 0  # not a routing record (only its instant counts, for the span and the order)
V1 = 1
V2 = 2
BAD = 3  # a routing record that cannot be counted (unknown endpoint, no instant)

# (instant in epoch microseconds, kind, percent, identity): the identity is the 64-bit hash that
# tells a duplicate (see `sources.logs.identity`); `pino_identity` and `line_identity` make it.
Record = tuple[int | None, int, int | None, int]
UNREADABLE = object()  # what `decode` returns for text that is not one JSON value

_RUNBOOK_WORDING = re.compile(r"routed to (v[12])\b")
_TEXT_ENDPOINT = re.compile(r"""\bendpoint\\?["']?\s*[:=]\s*\\?["']?([^\s"'\\,}]+)""")
_TEXT_PERCENT = re.compile(r"""\bv2RolloutPercent\\?["']?\s*[:=]\s*\\?["']?(\d+)""")
_DECODER = json.JSONDecoder()


def pino_identity(
    correlation: str, instant: int | None, msg: str, kind: int, percent: int | None
) -> int:
    """The identity of a Pino record with a correlation id: one request's line of one kind.
    The id's UTF-8 bytes are hashed by ``text_key``, as the block scan hashes them without
    decoding, a line at a time or a block's lines at once (`scan`, `layouts`)."""
    ident = correlation.encode("utf-8", "surrogatepass")  # json may decode a lone surrogate
    return text_key(ident, 0 if instant is None else instant, record_salt(msg, kind, percent))


def record_salt(msg: str, kind: int, percent: int | None) -> int:
    """What a Pino record is besides its id and instant, in its identity."""
    return hash((msg, kind, percent))


def line_identity(line: bytes, index: int) -> int:
    """The identity of the `index`-th record of a physical line (stripped) with no id."""
    return hash((line, index))


def classify(msg: str, fields: dict[str, Any]) -> tuple[int, int | None]:
    """(kind, percent) of a record with message `msg` and `fields` (endpoint, percent)."""
    if ROUTING_PREFIX in msg:
        kind = _endpoint_kind(fields.get("endpoint"))
        return kind, _percent(fields.get("v2RolloutPercent")) if kind != BAD else None
    wording = _RUNBOOK_WORDING.search(msg)
    if wording is None:
        return OTHER, None
    return (V1 if wording.group(1) == "v1" else V2), _percent(fields.get("v2RolloutPercent"))


def classify_text(text: str) -> tuple[int, int | None]:
    """Plain text (a `vercel logs` line or a truncated message): fields are read by pattern."""
    percent_match = _TEXT_PERCENT.search(text)
    percent = int(percent_match.group(1)) if percent_match else None
    if ROUTING_PREFIX in text:
        brace = text.find("{")
        if brace >= 0:
            inner = decode(text[brace:])
            if isinstance(inner, dict):
                return classify(ROUTING_PREFIX, inner)
        endpoint = _TEXT_ENDPOINT.search(text)
        kind = _endpoint_kind(endpoint.group(1) if endpoint else None)
        return kind, percent if kind != BAD else None
    wording = _RUNBOOK_WORDING.search(text)
    if wording is None:
        return OTHER, None
    return (V1 if wording.group(1) == "v1" else V2), percent


def decode(text: str) -> Any:
    """JSON value of `text` (trailing whitespace allowed), or UNREADABLE."""
    try:
        value, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError):
        return UNREADABLE
    if end != len(text) and not text[end:].isspace():
        return UNREADABLE
    return value


def _endpoint_kind(endpoint: object) -> int:
    if not isinstance(endpoint, str):
        return BAD
    value = endpoint.split("?", 1)[0].rstrip("/")
    if value.endswith(V2_ENDPOINT):
        return V2
    if value.endswith(V1_ENDPOINT):
        return V1
    return BAD


def _percent(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
