"""The order of the report's sections, for every renderer: the verdict first, then the chain,
one table per selection, what did not pass, the waivers and checkpoints set aside, charts, the
timeline and the files read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cutover.report.model import Evidence, SelectionVerdict

Section = Callable[[Evidence], list[str]]


def _none(evidence: Evidence) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class Renderer:
    """How one format writes each section (a renderer without charts leaves them out)."""

    verdict: Section
    chain: Section
    selection: Callable[[SelectionVerdict], list[str]]
    not_passed: Section
    timeline: Section
    files: Section
    charts: Section = _none
    decisions: Section = _none  # waivers and checkpoints set aside


def body(evidence: Evidence, renderer: Renderer) -> list[str]:
    parts = renderer.verdict(evidence) + renderer.chain(evidence)
    for selection in evidence.latest:
        parts += renderer.selection(selection)
    parts += renderer.not_passed(evidence) + renderer.decisions(evidence)
    parts += renderer.charts(evidence)
    return parts + renderer.timeline(evidence) + renderer.files(evidence)
