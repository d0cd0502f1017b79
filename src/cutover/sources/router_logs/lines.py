"""Reading one physical line of a router log into records, in every form DESIGN.md names:
raw Pino JSON, Vercel log-drain objects (one per line or an array), ``vercel logs --json``
requests (their ``logs[]``) and ``vercel logs`` text (its time needs the export's date and zone)."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from typing import Any

from cutover.errors import ConfigError
from cutover.sources.router_logs.records import (
    OTHER,
    UNREADABLE,
    Record,
    classify,
    classify_text,
    decode,
    line_identity,
    pino_identity,
)
from cutover.timeutil import checked_epoch_us, instant_us, parse_iso

# `vercel logs` text: optional `MMM DD`, then `HH:mm:ss(.SS)`, then the rest of the line.
_TEXT_TIME = re.compile(
    r"^(?:(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+)?"
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:[.,](?P<frac>\d{1,6}))?(?=\s|$)"
)
# A text line that starts with a full ISO 8601 date-time (absolute if it carries a zone).
_TEXT_ISO = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?P<zone>Z|z|[+-]\d{2}:?\d{2})?)"
    r"(?=\s|$)"
)
# Binary data: control characters other than tab, line feed, carriage return and escape (ANSI
# colours). A line holding one is unreadable, whatever else it holds.
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f]")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


class LineParser:
    """Turns one physical line of the log at `path` into records; `text_date` and `text_tz` are
    the export's date and zone, which `vercel logs` text lines need."""

    __slots__ = ("_text_date", "_text_tz", "_path")

    def __init__(self, text_date: date | None, text_tz: tzinfo | None, path: str) -> None:
        self._text_date = text_date
        self._text_tz = text_tz
        self._path = path

    def instants(self, raw: bytes) -> list[int]:
        """The instants of one physical line (for seeking and coverage: a line that needs
        settings it was not given has none)."""
        if not raw.strip():
            return []
        try:
            made = self._made(raw, routing=False)
        except (ConfigError, ValueError):
            return []
        return [instant for instant, *_ in made or () if instant is not None]

    def records(self, raw: bytes, *, routing: bool) -> list[Record] | None:
        """The records of one physical line (`routing`: it holds the routing text); None when
        the line cannot be read and matters (a routing line, JSON-looking, or binary data).
        Raises ConfigError for `vercel logs` text routing lines without the export's date and
        zone."""
        made = self._made(raw, routing)
        if made is None:
            return None
        if all(identity is not None for *_, identity in made):
            return made  # type: ignore[return-value]
        line = raw.strip()
        return [
            (instant, kind, percent, line_identity(line, index) if identity is None else identity)
            for index, (instant, kind, percent, identity) in enumerate(made)
        ]

    def _made(self, raw: bytes, routing: bool) -> list[_Made] | None:
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            return []
        json_looking = text[0] in "{["
        if json_looking:
            decoded = decode(text)
            if decoded is not UNREADABLE:
                out: list[_Made] = []
                items = decoded if isinstance(decoded, list) else [decoded]
                for item in items:
                    if not isinstance(item, dict):
                        return None
                    _from_object(item, None, out, _Origin())
                return out
        iso = _TEXT_ISO.match(text)
        timed = None if iso else _TEXT_TIME.match(text)
        if iso is not None or timed is not None:
            return self._text_records(text, iso, timed)
        brace = text.find("{")
        if brace > 0:  # text such as `[fn-name] ` before a JSON object
            inner = decode(text[brace:])
            if isinstance(inner, dict):
                out = []
                _from_object(inner, None, out, _Origin())
                return out
        if routing or json_looking or CONTROL.search(raw) is not None:
            return None
        return []

    def _text_records(
        self, line: str, iso: re.Match[str] | None, timed: re.Match[str] | None
    ) -> list[_Made] | None:
        """`vercel logs` text (or a line starting with a full ISO 8601 date-time); None when a
        routing line's time cannot be read."""
        kind, percent = classify_text(line)
        if kind == OTHER:
            # Outside routing lines only the instant matters; missing settings mean "unknown".
            try:
                instant: int | None = self._text_instant(iso, timed, line)
            except (ConfigError, ValueError):
                instant = None
            return [(instant, OTHER, None, None)]
        try:
            return [(self._text_instant(iso, timed, line), kind, percent, None)]
        except ValueError:  # a day or time that does not exist (Feb 31, 25:00): unreadable
            return None

    def _text_instant(
        self, iso: re.Match[str] | None, timed: re.Match[str] | None, line: str
    ) -> int | None:
        if iso is not None:
            moment = parse_iso(iso.group("ts").replace(",", "."))
            if moment.tzinfo is None:
                if self._text_tz is None:
                    raise self._needs_settings(line, need_date=False)
                moment = moment.replace(tzinfo=self._text_tz)
            return checked_epoch_us(moment)
        assert timed is not None
        if self._text_date is None or self._text_tz is None:
            raise self._needs_settings(line, need_date=True)
        day = self._text_date
        month_name = timed.group("mon")
        if month_name is not None:
            month = _MONTHS.get(month_name.lower())
            if month is None:
                raise ConfigError(
                    f"{self._path}: {month_name!r} in {line[:80]!r} is not a month "
                    "(expected `vercel logs` time as HH:mm:ss.SS or MMM DD HH:mm:ss.SS)"
                )
            day = date(self._text_date.year, month, int(timed.group("day")))
        frac = (timed.group("frac") or "").ljust(6, "0")
        moment = datetime(
            day.year,
            day.month,
            day.day,
            int(timed.group("h")),
            int(timed.group("m")),
            int(timed.group("s")),
            int(frac),
            tzinfo=self._text_tz,
        )
        return checked_epoch_us(moment)

    def _needs_settings(self, line: str, *, need_date: bool) -> ConfigError:
        what = "the export's date and time zone" if need_date else "the export's time zone"
        return ConfigError(
            f"{self._path}: `vercel logs` text output has no "
            f"{'year or ' if need_date else ''}time zone (line {line[:80]!r}); "
            f"it needs {what}: set --router-log-date / CUTOVER_ROUTER_LOG_DATE (YYYY-MM-DD) "
            "and --router-log-tz / CUTOVER_ROUTER_LOG_TZ (e.g. Europe/Berlin or UTC), "
            "or export the logs as JSON (log drain or `vercel logs --json`)"
        )


# A record as it is made: its identity is None until the line's is given (`records`).
_Made = tuple[int | None, int, int | None, int | None]


class _Origin:
    """What a record inherits from the objects around it to tell a duplicate: a drain object's
    identity (its id, instant and message) or a request id."""

    __slots__ = ("drain", "request", "made")

    def __init__(self, drain: int | None = None, request: str | None = None) -> None:
        self.drain = drain
        self.request = request
        self.made = 0  # records made under the drain object

    def within(self, obj: dict[str, Any], instant: int | None) -> _Origin:
        """The origin of what `obj` (a drain object, a request, a Pino line) holds."""
        if self.drain is None and "msg" not in obj:
            ident, message = obj.get("id"), obj.get("message")
            if isinstance(ident, str | int) and isinstance(message, str):
                return _Origin(hash(("drain", ident, instant, message)), self.request)
        request = obj.get("requestId")
        if self.drain is None and self.request is None and isinstance(request, str):
            return _Origin(None, request)
        return self

    def identity(
        self, correlation: object, instant: int | None, text: str, kind: int, percent: int | None
    ) -> int | None:
        """The identity of a record made here (None: the line's)."""
        if self.drain is not None:
            self.made += 1
            return hash((self.drain, self.made))
        if isinstance(correlation, str):
            return pino_identity(correlation, instant, text, kind, percent)
        if self.request is not None:
            return hash(("request", self.request, instant, text, kind, percent))
        return None


def _from_object(obj: dict[str, Any], outer: int | None, out: list[_Made], origin: _Origin) -> None:
    """Records of one decoded object: Pino line, drain object, or `vercel logs --json` request."""
    value = obj.get("timestamp")
    own = None if value is None else instant_us(value)
    if own is None and "timestampInMs" in obj:
        own = instant_us(obj["timestampInMs"])
    inherited = own if own is not None else outer
    origin = origin.within(obj, inherited)

    logs = obj.get("logs")
    if isinstance(logs, list):
        before = len(out)
        for item in logs:
            if isinstance(item, dict):
                _from_object(item, inherited, out, origin)
            elif isinstance(item, str):
                _from_message(item, inherited, out, origin)
        if len(out) > before:
            return  # `vercel logs --json`: the top-level `message` repeats one of logs[]

    msg = obj.get("msg")
    if isinstance(msg, str):
        instant = inherited if inherited is not None else instant_us(obj.get("time"))
        kind, percent = classify(msg, obj)
        identity = origin.identity(obj.get("correlationId"), instant, msg, kind, percent)
        out.append((instant, kind, percent, identity))
        return

    message = obj.get("message")
    if isinstance(message, str):
        _from_message(message, inherited, out, origin)
        return
    instant = inherited if inherited is not None else instant_us(obj.get("time"))
    out.append((instant, OTHER, None, origin.identity(None, instant, "", OTHER, None)))


def _from_message(message: str, outer: int | None, out: list[_Made], origin: _Origin) -> None:
    """A `message` string: an embedded Pino line (text before `{` tolerated) or plain text."""
    brace = message.find("{")
    if brace >= 0:
        inner = decode(message[brace:])
        if isinstance(inner, dict):
            _from_object(inner, outer, out, origin)
            return
    kind, percent = classify_text(message)
    out.append((outer, kind, percent, origin.identity(None, outer, message, kind, percent)))
