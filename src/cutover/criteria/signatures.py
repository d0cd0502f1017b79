"""Error texts normalised into signatures and classified: systemic (counts against the pipeline)
or user-specific (a bad file: normal). Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cutover.profile import Profile
from cutover.statistics import lies_above
from cutover.timeutil import iso

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
    rule: str = ""  # which rule decided the kind (the evidence says it)
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def command(self) -> str:
        """How a person classifies it; later runs read the ledger attestation."""
        quoted = "".join("\\" + c if c in '\\"$`' else c for c in self.text)
        return f'cutover classify "{quoted}" --as user|systemic --by NAME'

    def as_record(self) -> dict[str, Any]:
        return {
            "signature": self.text,
            "kind": self.kind,
            "rule": self.rule,
            "count": self.count,
            "users": self.users,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the evidence rules read besides the signatures: imports started in the window and
    by hour, each error text's failures by hour, and the ledger's classifications."""

    started: int = 0
    started_by_hour: Mapping[datetime, int] = field(default_factory=dict)
    hours: Iterable[tuple[str, datetime, int]] = ()  # (error text, hour, failures)
    classified: Mapping[str, tuple[str, str, datetime]] = field(default_factory=dict)


def classify(
    patterns: Iterable[tuple[str, int, int]] | Iterable[tuple[str, int, int, Any, Any]],
    profile: Profile,
    evidence: Evidence | None = None,
) -> list[Signature]:
    """Group (error text, count, distinct users[, first, last seen]) rows by signature and
    classify each one, by the first rule that decides:

    1. a person's classification in the ledger (`cutover classify`);
    2. a user-side pattern of the profile (a bad file: never counts against the pipeline);
    3. a systemic pattern of the profile;
    4. its rate among the window's v2 imports is over `systemic_rate_max_pct` (the lower bound
       of the rate's confidence sequence is: a point estimate over it is not yet evidence);
    5. a burst: in one hour its share of the imports is `burst_factor` times its share in the
       other hours (add-one smoothed), with at least `burst_min_count` failures that hour.
    Rules 4 and 5 need `systemic_min_users` distinct users. Anything else is unclassified.
    """
    evidence = evidence or Evidence()
    grouped: dict[str, list[Any]] = {}
    raw_texts: dict[str, list[str]] = {}
    for row in patterns:
        text, count, users = row[0], row[1], row[2]
        first, last = (row[3], row[4]) if len(row) > 3 else (None, None)
        key = signature(text)
        totals = grouped.setdefault(key, [0, 0, None, None])
        totals[0] += count
        totals[1] += users  # exact: one row per user, so a user has one error text
        totals[2] = _earliest(totals[2], first)
        totals[3] = _latest(totals[3], last)
        raw_texts.setdefault(key, []).append(text.lower())
    by_hour: dict[str, dict[datetime, int]] = {}
    for text, hour, failures in evidence.hours:
        counts = by_hour.setdefault(signature(text), {})
        counts[hour] = counts.get(hour, 0) + failures
    result = []
    for text, (count, users, first, last) in grouped.items():
        # patterns are matched on the raw texts too: normalising turns "429" into "<n>"
        seen = [text.lower(), *raw_texts[text]]
        kind, rule = _kind(text, seen, count, users, by_hour.get(text, {}), profile, evidence)
        result.append(Signature(text, count, users, kind, rule, first, last))
    return sorted(result, key=lambda s: (-s.count, s.text))


def _kind(
    text: str,
    seen: list[str],
    count: int,
    users: int,
    hours: Mapping[datetime, int],
    profile: Profile,
    evidence: Evidence,
) -> tuple[str, str]:
    attested = evidence.classified.get(text)
    if attested is not None:
        kind, by, at = attested
        return kind, f"classified {kind} by {by} at {iso(at)}"
    for pattern in profile.user_error_patterns:
        if any(matches(pattern, t) for t in seen):
            return "user", f"user-side pattern {pattern!r}"
    for pattern in profile.systemic_error_patterns:
        if any(matches(pattern, t) for t in seen):
            return "systemic", f"systemic pattern {pattern!r}"
    if users < profile.systemic_min_users:
        return "unclassified", f"no rule matches ({users} users, fewer than needed for a rate)"
    started = evidence.started
    limit = profile.systemic_rate_max_pct
    rate = f"{100 * count / started:.2f}%" if started else "unknown"
    if started and lies_above(
        count,
        started,
        limit / 100,
        alpha=profile.sequence_alpha,
        weight=profile.sequence_prior_weight,
    ):
        return "systemic", (
            f"rate {rate} of {started} v2 imports: its confidence sequence lies above {limit:g}%"
        )
    burst = _burst(hours, count, evidence, profile)
    if burst:
        return "systemic", burst
    return "unclassified", f"no rule matches (rate {rate} of {started} v2 imports, no burst)"


def matches(pattern: str, text: str) -> bool:
    """A case-insensitive substring; a pattern that is a number matches only a whole number
    ("429" is a status code, not part of a count like 14290)."""
    pattern = pattern.lower()
    if pattern.isdigit():
        return re.search(rf"(?<!\d){pattern}(?!\d)", text) is not None
    return pattern in text


def _burst(hours: Mapping[datetime, int], count: int, evidence: Evidence, profile: Profile) -> str:
    """A burst hour's description, or "" when the signature is not concentrated in time."""
    if not hours:
        return ""
    peak_hour, peak = max(hours.items(), key=lambda kv: (kv[1], kv[0]))
    in_peak = evidence.started_by_hour.get(peak_hour, 0)
    if peak < profile.burst_min_count or in_peak <= 0:
        return ""
    others = max(evidence.started - in_peak, 0)
    share = peak / in_peak
    background = (count - peak + 1) / (others + 1)
    if share < profile.burst_factor * background:
        return ""
    return (
        f"burst: {peak} of {in_peak} imports in the hour from {iso(peak_hour)} "
        f"({100 * share:.1f}%, {share / background:.0f}x its background share)"
    )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)
