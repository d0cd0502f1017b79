"""The one compiled pattern that reads a routing line in the form the router writes it (the
block scan's fast path, and its coverage's), and the instant of its ``time`` group."""

from __future__ import annotations

import re

from cutover.timeutil import epoch_number_us, instant_us

# A routing line as the router writes it: a flat Pino object starting with level and time, no
# escapes (the caller checks there are no backslashes or control characters), no spaces between
# tokens. Captures time (integer or string), msg, endpoint, correlationId (strings),
# v2RolloutPercent (integer), the last of each when repeated, as JSON keeps the last; any other
# value of those keys, a second time, a timestamp / timestampInMs key (which would win over
# time) or a requestId key (which would change the line's identity) fails the match.
_STRING = rb'"[^"]*+"'
_INTEGER = rb"-?(?:0|[1-9][0-9]*+)"
_VALUE = (
    rb"(?>" + _STRING + rb"|" + _INTEGER + rb"(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?|true|false|null)"
)
_KEYS = rb"time|timestamp|timestampInMs|msg|endpoint|v2RolloutPercent|correlationId|requestId"
FAST_LINE = re.compile(
    rb'\{"level":' + _VALUE + rb',"time":(' + _INTEGER + rb"|" + _STRING + rb")"
    rb'(?:,"(?:msg":"([^"]*+)"|endpoint":"([^"]*+)"|v2RolloutPercent":(' + _INTEGER + rb")"
    rb'|correlationId":"([^"]*+)"'
    rb"|(?!(?:" + _KEYS + rb')")[^"]*+":' + _VALUE + rb"))*+\}"
)
_QUOTE = ord('"')


def time_us(time: bytes) -> int | None:
    """The instant of the pattern's `time` group (as the routing loop reads it, inlined)."""
    if time[0] == _QUOTE:
        return instant_us(time[1:-1].decode("utf-8", "replace"))
    return epoch_number_us(int(time))
