"""Exceptions that carry meaning across layers."""

from __future__ import annotations


class CutoverError(Exception):
    """Base class of the suite's own errors."""


class ConfigError(CutoverError):
    """A setting or input is wrong; the message names it, where it came from, what was expected."""


class SourceUnavailable(CutoverError):
    """A source could not be read (unreachable, errored, no input): its criterion is undecided."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
