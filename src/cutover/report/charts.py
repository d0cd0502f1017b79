"""Chart data for the HTML report, from the recorded results of an evidence directory: success
rates per checkpoint, routing splits, duration histograms and the RLM metrics file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cutover.profile import Profile
from cutover.report.model import Checkpoint, CriterionResult, Evidence, instant_key
from cutover.timeutil import iso


@dataclass(frozen=True, slots=True)
class SuccessPoint:
    criterion: str
    as_of: datetime
    rate_pct: float
    verdict: str


@dataclass(frozen=True, slots=True)
class SplitPoint:
    criterion: str
    as_of: str
    v1: int
    v2: int
    ci_low: float | None
    ci_high: float | None
    configured_pct: int | None

    @property
    def share_pct(self) -> float:
        total = self.v1 + self.v2
        return 100.0 * self.v2 / total if total else 0.0


@dataclass(frozen=True, slots=True)
class DurationHistogram:
    label: str  # e.g. "stage 1 (stage1.duration, as of …)"
    bins: Mapping[float, int]  # minutes -> imports


def _results(evidence: Evidence, suffix: str = "") -> Iterator[tuple[Checkpoint, CriterionResult]]:
    """Every recorded result (criteria ending in `suffix`) with its checkpoint, in ledger order."""
    for checkpoint in evidence.checkpoints:
        for result in checkpoint.results:
            if result.criterion.endswith(suffix):
                yield checkpoint, result


def _measured(checkpoint: Checkpoint, result: CriterionResult) -> tuple[datetime, int]:
    """When a result was measured, for `latest wins` (a later record wins at the same instant)."""
    return instant_key(result.as_of or checkpoint.as_of), checkpoint.line


def success_points(evidence: Evidence) -> list[SuccessPoint]:
    """Settled success rate per checkpoint (one point per criterion and instant, latest wins)."""
    found: dict[tuple[str, str], SuccessPoint] = {}
    for checkpoint, result in _results(evidence, ".success_rate"):
        current = result.details.get("current")
        if not isinstance(current, Mapping):
            continue
        rate = _number(current.get("settled_rate_pct"))
        at = str(current.get("as_of") or result.as_of or checkpoint.as_of)
        if rate is None or not at:
            continue
        point = SuccessPoint(result.criterion, instant_key(at), rate, result.verdict)
        found[(result.criterion, iso(point.as_of))] = point
    return sorted(found.values(), key=lambda p: (p.as_of, p.criterion))


def split_points(evidence: Evidence) -> list[SplitPoint]:
    """Observed v2 share with its interval, per routing-split result (latest per instant)."""
    found: dict[tuple[str, str], SplitPoint] = {}
    for checkpoint, result in _results(evidence, ".routing_split"):
        d = result.details
        v1, v2 = _number(d.get("v1")), _number(d.get("v2"))
        if v1 is None or v2 is None:
            continue
        point = SplitPoint(
            criterion=result.criterion,
            as_of=result.as_of or checkpoint.as_of,
            v1=int(v1),
            v2=int(v2),
            ci_low=_number(d.get("ci_low")),
            ci_high=_number(d.get("ci_high")),
            configured_pct=_configured_percent(result.criterion, evidence.profile),
        )
        found[(point.criterion, point.as_of)] = point
    return sorted(found.values(), key=lambda p: (instant_key(p.as_of), p.criterion))


def _configured_percent(criterion: str, profile: Profile) -> int | None:
    stage = stage_number(criterion)
    if stage is None:
        return None
    try:
        return profile.stage(stage).percent
    except KeyError:
        return None


def stage_number(criterion_or_selection: str) -> int | None:
    """`stage2.duration` or `stage2_gate` -> 2."""
    head = criterion_or_selection.split(".", 1)[0].split("_", 1)[0]
    if head.startswith("stage") and head[5:].isdigit():
        return int(head[5:])
    return None


def duration_histograms(evidence: Evidence) -> list[DurationHistogram]:
    """The current stage's duration bins beside stage 1's (stage 1 alone while it is current)."""
    latest_bins: dict[int, tuple[datetime, int, str, dict[float, int]]] = {}
    for checkpoint, result in _results(evidence):
        name = result.criterion.split(".", 1)[-1]
        stage = stage_number(result.criterion)
        bins = _bins(result.details.get("bins"))
        if stage is None or not bins or name not in ("duration", "duration_vs_stage1"):
            continue
        key = _measured(checkpoint, result)
        if stage not in latest_bins or key >= latest_bins[stage][:2]:
            latest_bins[stage] = (*key, result.criterion, bins)
    stages = [stage_number(s.selection) for s in evidence.latest]
    current = max((s for s in stages if s is not None), default=None)
    chosen = [1] if current in (None, 1) else [1, current]
    return [
        DurationHistogram(
            f"stage {n} ({latest_bins[n][2]}, as of {iso(latest_bins[n][0])})", latest_bins[n][3]
        )
        for n in chosen
        if n in latest_bins
    ]


def _bins(value: Any) -> dict[float, int]:
    if not isinstance(value, Mapping):
        return {}
    bins: dict[float, int] = {}
    for key, count in value.items():
        minutes, n = _number(key), _number(count)
        if minutes is not None and n is not None:
            bins[minutes] = int(n)
    return bins


@dataclass(frozen=True, slots=True)
class MetricsSource:
    """The metrics CSV a result names, and the window it measured; `missing` says why not."""

    criterion: str
    verdict: str
    path: Path | None
    window_start: str
    window_end: str
    missing: str = ""


def metrics_source(evidence: Evidence) -> MetricsSource | None:
    """The latest RLM-stability result that names a metrics CSV (None: no result names one)."""
    candidates = [
        (_measured(checkpoint, result), result)
        for checkpoint, result in _results(evidence)
        if _csv_paths(result.source)
    ]
    if not candidates:
        return None
    _, result = max(candidates, key=lambda c: c[0])
    paths = _csv_paths(result.source)
    existing = next((p for p in paths if p.is_file()), None)
    missing = "" if existing else f"{paths[0]} no longer exists"
    return MetricsSource(
        result.criterion, result.verdict, existing, result.window_start, result.window_end, missing
    )


def _csv_paths(source: str) -> list[Path]:
    parts = [p.strip() for chunk in source.split(";") for p in chunk.split(" + ")]
    return [Path(p) for p in parts if p.lower().endswith(".csv")]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
