"""Error texts normalised into signatures and classified: systemic (counts against the pipeline)
or user-specific (a bad file: normal). Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cutover.profile import Profile

# Order matters: paths (which may hold ids) before ids, ids before bare numbers.
_NORMALISERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Pipeline failed:\s*"), ""),  # the later RLM writes the bare message
    (re.compile(r"(?:[\w.-]+/)+[\w.-]+"), "<path>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<str>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b[0-9a-f]{16,}\b", re.I), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def signature(error_text: str) -> str:
    """`Pipeline failed: TimeoutError: user <uuid> after 120.5s` -> `TimeoutError: user <id>
    after <n>s`."""
    text = error_text.strip()
    for pattern, replacement in _NORMALISERS:
        text = pattern.sub(replacement, text)
    return text.strip()[:200] or "<empty>"


@dataclass(frozen=True, slots=True)
class Signature:
    text: str
    count: int
    users: int
    kind: str  # systemic | user | unclassified


def classify(patterns: Iterable[tuple[str, int, int]], profile: Profile) -> list[Signature]:
    """Group (error text, count, distinct users) rows by signature and classify each one.

    Profile patterns decide first (user-specific ones win, so 'bad file format' never counts);
    an unknown signature hitting `systemic_min_users` distinct users or more is systemic too.
    """
    grouped: dict[str, list[int]] = {}
    raw_texts: dict[str, list[str]] = {}
    for text, count, users in patterns:
        key = signature(text)
        totals = grouped.setdefault(key, [0, 0])
        totals[0] += count
        totals[1] += users  # exact: one row per user, so a user has one error text
        raw_texts.setdefault(key, []).append(text.lower())
    result = []
    for text, (count, users) in grouped.items():
        # patterns are matched on the raw texts too: normalising turns "429" into "<n>"
        seen = [text.lower(), *raw_texts[text]]
        if any(p in t for p in profile.user_error_patterns for t in seen):
            kind = "user"
        elif any(p in t for p in profile.systemic_error_patterns for t in seen):
            kind = "systemic"
        elif users >= profile.systemic_min_users:
            kind = "systemic"
        else:
            kind = "unclassified"
        result.append(Signature(text, count, users, kind))
    return sorted(result, key=lambda s: (-s.count, s.text))
