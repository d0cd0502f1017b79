"""GitHub Actions expressions (`${{ ... }}`), evaluated as GitHub documents them: literals,
contexts (`inputs.x`, `github.event.schedule`, `steps.id.outputs.y`), `!`, `==`, `!=`, `<`,
`<=`, `>`, `>=`, `&&`, `||` (which return an operand, not a boolean), and the functions the
templates use. String comparisons ignore case; a missing property is null; null, false, 0, ""
and NaN are falsy. An expression this evaluator cannot read is an error, never a silent "".
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.*])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


class ExpressionError(ValueError):
    """An expression the evaluator cannot read."""


@dataclass
class Functions:
    """The status functions and hashFiles, which depend on the job being run."""

    workspace: Path | None = None
    job_failed: bool = False
    extra: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def call(self, name: str, args: list[Any]) -> Any:
        lowered = name.lower()
        if lowered == "success":
            return not self.job_failed
        if lowered == "failure":
            return self.job_failed
        if lowered == "always":
            return True
        if lowered == "cancelled":
            return False
        if lowered == "hashfiles":
            return self._hash_files(args)
        if lowered in BUILTINS:
            return BUILTINS[lowered](*args)
        raise ExpressionError(f"no function {name}()")

    def _hash_files(self, patterns: list[Any]) -> str:
        if self.workspace is None:
            raise ExpressionError("hashFiles() outside a job")
        files = [
            path
            for path in sorted(self.workspace.rglob("*"))
            if path.is_file()
            and any(
                fnmatch.fnmatch(path.relative_to(self.workspace).as_posix(), str(p))
                for p in patterns
            )
        ]
        if not files:
            return ""
        digest = hashlib.sha256()
        for path in files:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(_equal(element, item) for element in search)
    return to_text(item).casefold() in to_text(search).casefold()


def _format(template: str, *args: Any) -> str:
    return re.sub(r"\{(\d+)\}", lambda m: to_text(args[int(m.group(1))]), template)


BUILTINS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda s, p: to_text(s).casefold().startswith(to_text(p).casefold()),
    "endswith": lambda s, p: to_text(s).casefold().endswith(to_text(p).casefold()),
    "format": _format,
    "join": lambda items, sep=",": to_text(sep).join(to_text(i) for i in items),
    "tojson": lambda value: json.dumps(value, indent=2),
    "fromjson": lambda text: json.loads(text),
}


def to_text(value: Any) -> str:
    """A value as `${{ }}` substitutes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and not isinstance(left, int | float):
        return bool(left == right)
    return _number(left) == _number(right)


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any], functions: Functions) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise ExpressionError(f"cannot read {text[position:]!r} in {text!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
            while position < len(text) and text[position].isspace():
                position += 1
        self.at = 0
        self.contexts = {key.lower(): value for key, value in contexts.items()}
        self.functions = functions
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in {self.text!r}")
        self.at += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()} in {self.text!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            value = right if truthy(value) else value
        return value

    def comparison(self) -> Any:
        left = self.unary()
        token = self.peek()
        if token and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.unary()
            if token[1] == "==":
                return _equal(left, right)
            if token[1] == "!=":
                return not _equal(left, right)
            a, b = _number(left), _number(right)
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[token[1]]
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "number":
            return float(value)
        if value == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if kind != "name":
            raise ExpressionError(f"unexpected {value!r} in {self.text!r}")
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        if self.peek() == ("op", "("):
            return self.functions.call(value, self.arguments())
        if lowered not in self.contexts:
            raise ExpressionError(f"no context {value!r} in {self.text!r}")
        return self.properties(self.contexts[lowered])

    def arguments(self) -> list[Any]:
        self.take("(")
        args: list[Any] = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        return args

    def properties(self, value: Any) -> Any:
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = to_text(self.or_())
                self.take("]")
            value = _member(value, key)
        return value


def _member(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        for candidate, found in value.items():
            if str(candidate).lower() == key.lower():
                return found
    return None


def evaluate(text: str, contexts: Mapping[str, Any], functions: Functions | None = None) -> Any:
    """One expression (the text inside `${{ }}`, or an `if:` without it)."""
    return _Parser(text, contexts, functions or Functions()).parse()


def condition(text: Any, contexts: Mapping[str, Any], functions: Functions) -> bool:
    """An `if:`: with or without `${{ }}`; a step or job without one runs on success()."""
    if text is None:
        return not functions.job_failed
    source = str(text).strip()
    whole = TEMPLATE.fullmatch(source)
    if whole:
        source = whole.group(1)
    status = re.search(r"\b(success|failure|always|cancelled)\s*\(", source, re.IGNORECASE)
    value = truthy(evaluate(source, contexts, functions))
    # GitHub adds success() && to a condition that calls no status function
    return value if status else value and not functions.job_failed


def substitute(text: str, contexts: Mapping[str, Any], functions: Functions | None = None) -> str:
    """Every `${{ }}` in a string replaced by its value."""
    return TEMPLATE.sub(lambda m: to_text(evaluate(m.group(1), contexts, functions)), text)


def substitute_all(value: Any, contexts: Mapping[str, Any], functions: Functions | None) -> Any:
    """`substitute` through a YAML value (strings in dicts and lists)."""
    if isinstance(value, str):
        return substitute(value, contexts, functions)
    if isinstance(value, dict):
        return {k: substitute_all(v, contexts, functions) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_all(v, contexts, functions) for v in value]
    return value
