"""Keep secrets out of evidence, reports and logs.

Every secret the run was given (the database password in whatever form the DSN was written,
PGPASSWORD, API tokens, signing keys) is registered once, when the settings are resolved, and
masked by value wherever text is written; the pattern rules below (URL passwords,
`password=...` pairs, bearer tokens) are the fallback for secrets nobody registered."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
_MIN_SECRET = 4  # shorter values would mask ordinary words: they are left to the patterns
_registered: set[str] = set()
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:/+", re.IGNORECASE)  # with one slash or more

_KV_SECRET = re.compile(
    r"(?i)\b(password|passwd|pwd|token|secret|api[_-]?key)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# greedy up to the last '@' before the path, so a raw '@' inside a password is masked too
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]*):([^/\s]*)@")


def redact_url(url: str) -> str:
    """A URL or DSN with its password (userinfo or query parameter) replaced by ***."""
    url = mask_registered(url)
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
    """Free text with the registered secrets, URL passwords, `password=...` pairs and bearer
    tokens masked."""
    text = mask_registered(text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", text)
    text = _KV_SECRET.sub(lambda m: f"{m.group(1)}=***", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} ***", text)


def register_secret(value: str | None) -> None:
    """Mask `value` in everything redacted from now on (and its percent-decoded form)."""
    if value is None:
        return
    for form in {value, unquote(value), value.strip("'\"")}:
        if len(form) >= _MIN_SECRET:
            _registered.add(form)


def dsn_secrets(dsn: str) -> list[str]:
    """The password in a database URL or conninfo string, in every form it may be written,
    including forms that are not valid DSNs (a missing scheme, one slash)."""
    found: list[str] = []
    head, at, _ = dsn.strip().rpartition("@")
    if at:
        userinfo = _SCHEME.sub("", head)
        user, colon, password = userinfo.partition(":")
        if colon and password:
            # as written, and as it reads when a scheme without slashes or a doubled '@'
            # shifted it: the last colon's part, without stray '@'
            found += [password, password.strip("@"), password.rpartition(":")[2].strip("@")]
    for match in _KV_SECRET.finditer(dsn):
        value = match.group(2)
        found.append(value)
        if value.startswith("'"):
            found.append(value[1:-1].replace("\\'", "'"))
    return [f for f in found if f]


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def mask_registered(text: str) -> str:
    """`text` with every registered secret replaced by ***, the longest first."""
    for secret in sorted(_registered, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text
