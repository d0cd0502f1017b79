"""How a record's fields are read and written: each typed record (`cutover.ledger.records`)
declares its fields as a dataclass; `TypedRecord` writes them under their names (an instant as
ISO 8601 UTC) and reads them back as declared, through a `FieldReader` that raises
RecordInvalid, naming the line, for a value that does not fit. `Origin` is the target a record
concerns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Self

from cutover.ledger.errors import RecordInvalid
from cutover.outcome import Window
from cutover.timeutil import iso, parse_instant


@dataclass(frozen=True, slots=True)
class Origin:
    """The target a record concerns: live, or one seeded scenario."""

    target: str = "live"
    scenario: str | None = None

    @classmethod
    def seeded(cls, scenario: str) -> Origin:
        return cls("seeded", scenario)

    @property
    def live(self) -> bool:
        return self.target == "live"

    def matches(self, target: str, scenario: str | None) -> bool:
        """Whether a reader of `target` (and, seeded, of `scenario`) reads this record."""
        return self.target == target and (target == "live" or self.scenario == scenario)

    def marks(self) -> dict[str, Any]:
        """The keys an event carries: none when live (records written before seeding had none)."""
        return {} if self.live else {"target": self.target, "scenario": self.scenario}


LIVE = Origin()


class FieldReader:
    """One line's values, read by name; anything that does not fit raises RecordInvalid."""

    __slots__ = ("data", "line", "record_type", "within")

    def __init__(
        self, line: int, record_type: str, data: Mapping[str, Any], within: str = ""
    ) -> None:
        self.line = line
        self.record_type = record_type
        self.data = data
        self.within = within  # the enclosing key, for values inside an object

    def invalid(self, message: str) -> RecordInvalid:
        return RecordInvalid(self.line, f"{self.record_type or 'a'} record: {self.within}{message}")

    def _value(self, key: str) -> Any:
        if key not in self.data:
            raise self.invalid(f"{key!r} is missing")
        return self.data[key]

    def integer(self, key: str) -> int:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.invalid(f"{key!r} is {value!r}, expected an integer")
        return value

    def text(self, key: str) -> str:
        value = self._value(key)
        if not isinstance(value, str):
            raise self.invalid(f"{key!r} is {value!r}, expected text")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def boolean(self, key: str) -> bool:
        value = self.data.get(key, False)  # absent: false
        if not isinstance(value, bool):
            raise self.invalid(f"{key!r} is {value!r}, expected true or false")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def instant(self, key: str) -> datetime:
        return self._instant(key, self.text(key))

    def optional_instant(self, key: str) -> datetime | None:
        """Absent, null or "": none."""
        text = self.optional_text(key)
        return self._instant(key, text) if text else None

    def _instant(self, key: str, text: str) -> datetime:
        try:
            return parse_instant(text, what=repr(key))
        except ValueError as exc:
            raise self.invalid(str(exc)) from None

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self._value(key)
        if not isinstance(value, Mapping):
            raise self.invalid(f"{key!r} is {value!r}, expected an object")
        return value

    def origin(self) -> Origin:
        target = self.data.get("target", "live")
        if not isinstance(target, str):
            raise self.invalid(f"'target' is {target!r}, expected 'live' or 'seeded'")
        return Origin(target, self.optional_text("scenario"))

    def window(self, key: str) -> Window:
        ends = FieldReader(self.line, self.record_type, self.mapping(key), f"{key!r}: ")
        return Window(ends.optional_instant("start"), ends.instant("end"))

    def field(self, name: str, annotation: str) -> Any:
        """A record's field, read as its declaration says (`origin` from the target's marks)."""
        if name == "origin":
            return self.origin()
        return READERS[annotation](self, name)


READERS: dict[str, Callable[[FieldReader, str], Any]] = {
    "int": FieldReader.integer,
    "int | None": FieldReader.optional_integer,
    "bool": FieldReader.boolean,
    "str": FieldReader.text,
    "datetime": FieldReader.instant,
    "datetime | None": FieldReader.optional_instant,
    "Mapping[str, Any]": FieldReader.mapping,
    "Window": FieldReader.window,
}


def encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Window):
        return {"start": iso(value.start), "end": iso(value.end)}
    if isinstance(value, Mapping):
        return dict(value)
    return value


@dataclass(frozen=True, slots=True)
class TypedRecord:
    """What the typed records share: each field written under its name (an instant as ISO 8601
    UTC) and read back as its declared type says; the target's marks; the schema version."""

    type: ClassVar[str]
    kind: ClassVar[str | None] = None  # an attestation's kind
    version: ClassVar[int] = 1

    def to_json(self) -> dict[str, Any]:
        values = {f.name: encode_value(getattr(self, f.name)) for f in fields(self)}
        origin: Origin = values.pop("origin")
        kind = {} if self.kind is None else {"kind": self.kind}
        return {"type": self.type, **kind, **values, **origin.marks()}

    @classmethod
    def read(cls, f: FieldReader) -> Self:
        return cls(**{x.name: f.field(x.name, str(x.type)) for x in fields(cls)})
