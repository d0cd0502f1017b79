"""A faithful model of the production router (`app/api/import/process-server/route.ts`).

The router reads ``V2_ROLLOUT_PERCENT`` with JavaScript ``parseInt(value, 10)``, falls back
to 0 when the variable is unset or the parse is NaN, clamps to 0..100, and then sends each
request to v2 when ``Math.random() * 100 < percent``. The decision is per request and not
sticky: one user may hit v1 on one import and v2 on the next.

Gates use this model to say what the router makes of a configured value, and to know which
split of v1/v2 traffic to expect.
"""

from __future__ import annotations

import random

__all__ = [
    "JS_WHITESPACE",
    "expected_v2_share",
    "js_parse_int",
    "parse_rollout_percent",
    "routes_to_v2",
    "simulate_routing",
]

#: Characters JavaScript's ``parseInt`` skips before the number (``StrWhiteSpaceChar``:
#: WhiteSpace, which includes every Unicode "Zs" character, plus LineTerminator).
#: Python's ``str.isspace``/``str.strip`` use a different set (e.g. they strip U+0085 and
#: U+001C..U+001F, which JS does not), so the set is spelled out.
JS_WHITESPACE: frozenset[str] = frozenset(
    "\t\n\v\f\r \u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# Only ASCII digits count: Python's int() would also accept "٥", "５" and "1_000".
_ASCII_DIGITS = frozenset("0123456789")

# Python refuses to convert longer digit strings in one go (sys.int_info); convert in chunks.
_DIGIT_CHUNK = 1000


def js_parse_int(raw: str) -> int | None:
    """Return what JavaScript's ``parseInt(raw, 10)`` yields, or None where it yields NaN.

    Mirrors the ECMAScript algorithm for radix 10: skip leading ``StrWhiteSpaceChar``s, take
    one optional ``+``/``-``, then the longest run of ASCII digits; anything after it is
    ignored (``"12.7"`` -> 12, ``"10abc"`` -> 10), and no digits at all is NaN.

    Two representational differences, neither of which changes the router's clamped
    percent: JavaScript's ``-0`` comes back as ``0``, and where JavaScript rounds a long
    digit string to a double (or to ``Infinity``), this returns the exact integer.
    """
    i = 0
    end = len(raw)
    while i < end and raw[i] in JS_WHITESPACE:
        i += 1
    negative = False
    if i < end and raw[i] in "+-":
        negative = raw[i] == "-"
        i += 1
    start = i
    while i < end and raw[i] in _ASCII_DIGITS:
        i += 1
    digits = raw[start:i]
    if not digits:
        return None
    value = 0
    for pos in range(0, len(digits), _DIGIT_CHUNK):
        chunk = digits[pos : pos + _DIGIT_CHUNK]
        value = value * 10 ** len(chunk) + int(chunk)
    return -value if negative else value


def parse_rollout_percent(raw: str | None) -> int:
    """Return the rollout percent (0..100) the router derives from ``V2_ROLLOUT_PERCENT``.

    ``raw`` is the variable's value, or None when it is unset. Mirrors the router's
    ``const n = parseInt(v, 10); const p = Number.isNaN(n) ? 0 : Math.min(100, Math.max(0, n));``
    so ``"10abc"`` -> 10, ``" 7"`` -> 7, ``"abc"`` -> 0, ``"-5"`` -> 0, ``"250"`` -> 100.
    """
    if raw is None:
        # process.env.X is undefined when unset; parseInt(undefined) is NaN -> 0.
        return 0
    parsed = js_parse_int(raw)
    if parsed is None:
        return 0
    return min(100, max(0, parsed))


def _check_percent(percent: int) -> None:
    # The router clamps before deciding, so anything outside 0..100 is a caller bug.
    if not 0 <= percent <= 100:
        raise ValueError(f"rollout percent must be within 0..100, got {percent!r}")


def routes_to_v2(percent: int, draw: float) -> bool:
    """Return whether one request goes to v2, given the router's percent and a random draw.

    ``draw`` stands for ``Math.random()``, a float in [0, 1); the router's expression is
    ``Math.random() * 100 < percent``. Python floats are IEEE doubles like JavaScript numbers,
    so the product rounds the same way.
    """
    _check_percent(percent)
    if not 0.0 <= draw < 1.0:
        raise ValueError(f"draw must be within [0, 1) like Math.random(), got {draw!r}")
    return draw * 100 < percent


def simulate_routing(percent: int, requests: int, rng: random.Random) -> int:
    """Route ``requests`` requests the way the router does and return how many went to v2.

    Each request takes its own draw from ``rng`` (the router is not sticky per user); pass a
    seeded ``random.Random`` for reproducible results.
    """
    _check_percent(percent)
    if requests < 0:
        raise ValueError(f"requests must be >= 0, got {requests!r}")
    return sum(1 for _ in range(requests) if routes_to_v2(percent, rng.random()))


def expected_v2_share(percent: int) -> float:
    """Return the long-run share (0..1) of requests the router sends to v2 at ``percent``.

    For a uniform draw in [0, 1), ``P(draw * 100 < percent)`` is ``percent / 100``.
    """
    _check_percent(percent)
    return percent / 100
