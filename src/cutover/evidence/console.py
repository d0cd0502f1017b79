"""A readable table of criteria for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from cutover.evidence.properties import RecordedResult

_COLUMNS = (("criterion", 34), ("verdict", 12), ("measured", 40), ("threshold", 0))
ADVISORY_MARK = "*"  # after an advisory criterion's verdict: it changed no action


def _cell(text: str, width: int) -> str:
    if width == 0:
        return text
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.ljust(width)


def criteria_table(results: Sequence[RecordedResult]) -> list[str]:
    """One line per criterion, then the reasons of those that did not pass."""
    header = " ".join(_cell(name, width) for name, width in _COLUMNS)
    lines = [header, "-" * min(len(header) + 20, 120)]
    for result in sorted(results, key=lambda r: r.criterion):
        props = result.properties
        verdict = result.outcome.value.upper() + (ADVISORY_MARK if result.advisory else "")
        row = [props.get("criterion", ""), verdict]
        row += [props.get("measured", ""), props.get("threshold", "")]
        lines.append(
            " ".join(_cell(value, width) for value, (_, width) in zip(row, _COLUMNS, strict=True))
        )
    reasons = sorted((r for r in results if r.outcome.value != "pass"), key=lambda r: r.criterion)
    if reasons:
        lines.append("")
        lines += [
            f"{r.criterion} [{r.outcome.value}{', advisory' if r.advisory else ''}]: {r.reason}"
            for r in reasons
        ]
    if any(r.advisory for r in results):
        lines += ["", f"{ADVISORY_MARK} advisory (the profile's `advisory`): changed no action"]
    return lines
