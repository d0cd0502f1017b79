"""Keep secrets out of evidence, reports and logs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_KV_SECRET = re.compile(
    r"(?i)\b(password|passwd|pwd|token|secret|api[_-]?key)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# greedy up to the last '@' before the path, so a raw '@' inside a password is masked too
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]*):([^/\s]*)@")


def redact_url(url: str) -> str:
    """A URL or DSN with its password (userinfo or query parameter) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if not parts.scheme or not parts.netloc and "password" not in parts.query.lower():
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
    query = _KV_SECRET.sub(lambda m: f"{m.group(1)}=***", parts.query.replace("&", " & "))
    query = query.replace(" & ", "&")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Free text with URL passwords, `password=...` pairs and bearer tokens masked."""
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", text)
    text = _KV_SECRET.sub(lambda m: f"{m.group(1)}=***", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
