"""An evidence directory (JUnit files and the ledger) read into plain data for the reports.

Nothing here decides a criterion: verdicts are the ones the runs recorded. The run verdict is
reconstructed from the latest checkpoint of each selection with the same rules the run used
(`cutover.evidence.verdict.run_verdict`), and a broken ledger chain never reads as PROCEED.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cutover.evidence.junit import JUnitFile, read_junit_dir
from cutover.evidence.properties import RecordedResult
from cutover.evidence.verdict import RunVerdict, run_verdict
from cutover.ledger import records
from cutover.ledger.errors import RecordInvalid
from cutover.ledger.records import (
    ComplaintsAttestation,
    CriterionRecord,
    Entry,
    LedgerRecord,
    OtherRecord,
    Rollback,
    StageStarted,
    as_text,
)
from cutover.ledger.store import Chain, Store
from cutover.outcome import Action, Outcome
from cutover.profile import Profile
from cutover.timeutil import iso, parse_instant

# Gate selections in runbook order; anything else sorts after them.
SELECTION_ORDER = (
    "prereq",
    "stage1_gate",
    "stage2_gate",
    "stage3_gate",
    "stage4_gate",
    "v1_removal",
    "rollback",
    "rollback_verify",
    "router",
)
VERDICTS = tuple(o.value for o in Outcome)


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion as a checkpoint record holds it; every text redacted."""

    criterion: str
    verdict: str
    measured: str = ""
    threshold: str = ""
    window_start: str = ""
    window_end: str = ""
    as_of: str = ""
    sample_size: str = ""
    source: str = ""
    target: str = ""
    reason: str = ""
    on_fail: str = "HOLD"
    query_sha256: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        """The recorded verdict; anything unknown reads as inconclusive (never a pass)."""
        return Outcome(self.verdict) if self.verdict in VERDICTS else Outcome.INCONCLUSIVE

    @property
    def action(self) -> Action:
        """The run verdict this result alone asks for (fail: its on_fail; else HOLD)."""
        return self.recorded().action

    @property
    def window_ends(self) -> tuple[str, ...]:
        """The measured window's start and end (just the end when no start is recorded)."""
        return (self.window_start, self.window_end) if self.window_start else (self.window_end,)

    @property
    def window(self) -> str:
        """The measured window as `start → end` (or just the end)."""
        return " → ".join(self.window_ends)

    @classmethod
    def of(cls, record: CriterionRecord) -> CriterionResult:
        """A checkpoint's criterion record, every text redacted."""
        return cls(
            criterion=record.criterion,
            verdict=record.text("verdict"),
            measured=record.text("measured"),
            threshold=record.text("threshold"),
            window_start=record.text("window_start"),
            window_end=record.text("window_end"),
            as_of=record.text("as_of"),
            sample_size=record.text("sample_size"),
            source=record.text("source"),
            target=record.text("target"),
            reason=record.text("reason"),
            on_fail=record.text("on_fail") or "HOLD",
            query_sha256=record.text("query_sha256"),
            details=record.details or {},
        )

    def recorded(self) -> RecordedResult:
        """As the run's verdict logic reads it."""
        on_fail = Action[self.on_fail] if self.on_fail in Action.__members__ else Action.HOLD
        properties = {"criterion": self.criterion, "verdict": self.verdict}
        return RecordedResult(self.criterion, self.outcome, on_fail, self.reason, properties)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint record: one run of a selection, as of an instant."""

    line: int
    selection: str
    as_of: str
    at: str
    target: str
    scenario: str | None
    results: tuple[CriterionResult, ...]

    @classmethod
    def of(cls, line: int, record: records.Checkpoint) -> Checkpoint:
        """Ledger line `line`'s checkpoint record, every text redacted."""
        scenario = record.origin.scenario
        return cls(
            line=line,
            selection=as_text(record.selection) or "all gates",
            as_of=iso(record.as_of),
            at=iso(record.at),
            target=as_text(record.origin.target),
            scenario=None if scenario is None else as_text(scenario),
            results=tuple(CriterionResult.of(r) for r in record.results),
        )

    @property
    def seeded(self) -> bool:
        return self.target == "seeded"

    def result(self, criterion: str) -> CriterionResult | None:
        """The named criterion's result in this checkpoint, if it has one."""
        return next((r for r in self.results if r.criterion == criterion), None)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """A ledger record that is not a checkpoint: a stage start, a rollback, an attestation."""

    line: int
    kind: str
    at: str
    summary: str
    target: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One row of the timeline: an event or a checkpoint, at the instant it concerns."""

    line: int
    kind: str
    at: str
    summary: str
    after_as_of: bool  # later than the latest instant measured (seeded ledgers hold the plan)


@dataclass(frozen=True, slots=True)
class SelectionVerdict:
    """The latest checkpoint of one selection and the verdict it reconstructs."""

    selection: str
    checkpoint: Checkpoint
    verdict: RunVerdict
    errors: tuple[str, ...]  # gate tests that errored in the JUnit file of this checkpoint


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """Whether the ledger's hash chain verifies, and where it breaks."""

    ok: bool
    records: int
    line: int | None = None
    message: str = ""
    head_sha256: str = ""  # digest of the last record, to cite the ledger from outside it

    @property
    def state(self) -> str:
        return "chain verified" if self.ok else f"chain BROKEN at line {self.line}"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the reports show, read from one evidence directory."""

    directory: Path
    checkpoints: tuple[Checkpoint, ...]
    events: tuple[LedgerEvent, ...]
    junit: tuple[JUnitFile, ...]
    chain: ChainStatus
    latest: tuple[SelectionVerdict, ...]
    verdict: RunVerdict
    profile: Profile
    problems: tuple[str, ...] = ()  # records that could not be read

    @property
    def seeded(self) -> bool:
        """Any seeded record or result: the whole report is then not production evidence."""
        return (
            any(c.seeded for c in self.checkpoints)
            or any(e.target == "seeded" for e in self.events)
            or any(c.properties.get("target") == "seeded" for f in self.junit for c in f.cases)
        )

    @property
    def as_of(self) -> str:
        """The latest instant any selection was measured at."""
        return max((s.checkpoint.as_of for s in self.latest), key=instant_key, default="")

    def timeline(self) -> list[TimelineEntry]:
        """Stage events, rollbacks, attestations and checkpoints, in the order they concern."""
        latest = instant_key(self.as_of) if self.as_of else None
        entries = [
            TimelineEntry(e.line, e.kind, e.at, e.summary, _after(e.at, latest))
            for e in self.events
        ]
        for c in self.checkpoints:
            counts = ", ".join(
                f"{c.count(o)} {o.value}" for o in Outcome if c.count(o) or o is Outcome.PASS
            )
            action = run_verdict([r.recorded() for r in c.results], selection="", seeded=False)
            summary = f"{c.selection} checkpoint: {counts} → {action.action.name}"
            entries.append(TimelineEntry(c.line, "checkpoint", c.as_of, summary, False))
        return sorted(entries, key=lambda e: (instant_key(e.at), e.line))


def instant_key(text: str) -> datetime:
    """An instant to sort by; text that is not one sorts first."""
    try:
        return parse_instant(text)
    except (ValueError, TypeError):
        return datetime.min.replace(tzinfo=UTC)


def _after(at: str, latest: datetime | None) -> bool:
    return latest is not None and instant_key(at) > latest


def selection_rank(selection: str) -> tuple[int, str]:
    """Runbook order for selections; unknown ones after, by name."""
    try:
        return SELECTION_ORDER.index(selection), selection
    except ValueError:
        return len(SELECTION_ORDER), selection


def load_evidence(evidence_dir: Path, profile: Profile | None = None) -> Evidence:
    """Read an evidence directory: the ledger (leniently, noting a broken chain) and JUnit files."""
    chain = Store(evidence_dir).chain()
    checkpoints: list[Checkpoint] = []
    events: list[LedgerEvent] = []
    problems: list[str] = []
    for entry in chain.entries:
        record = _parse(entry, problems)
        if isinstance(record, records.Checkpoint):
            checkpoints.append(Checkpoint.of(entry.line, record))
        elif entry.type != "checkpoint":
            events.append(_event(entry, record))
    junit = tuple(read_junit_dir(evidence_dir))
    latest = _latest(checkpoints, junit)
    status = chain_status(chain)
    verdict = _overall(latest, status, seeded=_any_seeded(checkpoints, events))
    return Evidence(
        directory=evidence_dir,
        checkpoints=tuple(checkpoints),
        events=tuple(events),
        junit=junit,
        chain=status,
        latest=tuple(latest),
        verdict=verdict,
        profile=profile or Profile(),
        problems=tuple(problems),
    )


def chain_status(chain: Chain) -> ChainStatus:
    """Whether the chain verifies (where it first breaks), and the last record's digest."""
    if not chain.links and not chain.path.exists():
        return ChainStatus(ok=True, records=0, message="no ledger")
    count = len(chain.entries)
    broken = chain.broken()
    if broken is not None:
        return ChainStatus(False, count, broken.line, broken.message, chain.last_digest)
    return ChainStatus(True, count, head_sha256=chain.last_digest)


def _parse(entry: Entry, problems: list[str]) -> LedgerRecord:
    """The typed record; one that does not fit its schema is noted and shown as written."""
    try:
        return entry.parse()
    except RecordInvalid as exc:
        problems.append(f"ledger line {exc.line}: {exc.reason}")
        return OtherRecord(entry.data)


def _event(entry: Entry, record: LedgerRecord) -> LedgerEvent:
    kind = as_text(entry.type) or "record"
    if isinstance(record, StageStarted):
        summary = f"stage {record.stage} started at {record.percent}%"
    elif isinstance(record, Rollback):
        summary = f"rollback to {record.percent}%: {as_text(record.reason)}"
    elif isinstance(record, ComplaintsAttestation):
        summary = (
            f"{record.count} import-failure complaints attested by {as_text(record.by)} "
            f"for {iso(record.since)} → {iso(record.at)}"
        )
    else:
        shown = {k: v for k, v in entry.data.items() if k not in ("prev", "type", "at")}
        at, target = as_text(entry.data.get("at")), as_text(entry.data.get("target"))
        return LedgerEvent(entry.line, kind, at, f"{kind}: {as_text(shown)}", target, entry.data)
    return LedgerEvent(entry.line, kind, iso(record.at), summary, record.origin.target, entry.data)


# -- verdicts -----------------------------------------------------------------------------------


def _latest(
    checkpoints: Sequence[Checkpoint], junit: Sequence[JUnitFile]
) -> list[SelectionVerdict]:
    by_selection: dict[str, Checkpoint] = {}
    for checkpoint in checkpoints:
        current = by_selection.get(checkpoint.selection)
        # the latest instant measured wins; the same instant measured again: the later record
        key = (instant_key(checkpoint.as_of), checkpoint.line)
        if current is None or key >= (instant_key(current.as_of), current.line):
            by_selection[checkpoint.selection] = checkpoint
    latest: list[SelectionVerdict] = []
    for selection in sorted(by_selection, key=selection_rank):
        checkpoint = by_selection[selection]
        errors = tuple(_errored_cases(checkpoint, junit))
        verdict = run_verdict(
            [r.recorded() for r in checkpoint.results],
            selection=selection,
            seeded=checkpoint.seeded,
            errors=errors,
        )
        latest.append(SelectionVerdict(selection, checkpoint, verdict, errors))
    return latest


def matches(junit: JUnitFile, checkpoint: Checkpoint) -> bool:
    """Whether a JUnit file is the run that wrote this checkpoint: same instant, same results."""
    decided = [c for c in junit.cases if c.criterion]
    if not decided or junit.as_of != checkpoint.as_of:
        return False
    for case in decided:
        result = checkpoint.result(case.criterion)
        if result is None or result.verdict != case.properties.get("verdict"):
            return False
    return len(decided) == len(checkpoint.results)


def _errored_cases(checkpoint: Checkpoint, junit: Iterable[JUnitFile]) -> Iterable[str]:
    # the ledger records no errors; the JUnit file of the same run does
    for file in junit:
        if matches(file, checkpoint):
            for case in file.cases:
                if case.status == "error" and not case.criterion:
                    yield f"{case.classname}::{case.name}"


def _any_seeded(checkpoints: Sequence[Checkpoint], events: Sequence[LedgerEvent]) -> bool:
    return any(c.seeded for c in checkpoints) or any(e.target == "seeded" for e in events)


def _overall(latest: Sequence[SelectionVerdict], chain: ChainStatus, *, seeded: bool) -> RunVerdict:
    results = [r.recorded() for s in latest for r in s.checkpoint.results]
    errors = [e for s in latest for e in s.errors]
    if not chain.ok:
        # evidence that does not verify cannot let a rollout proceed
        errors.append(f"ledger hash chain broken at line {chain.line}")
    selection = " + ".join(s.selection for s in latest) or "no checkpoint"
    return run_verdict(results, selection=selection, seeded=seeded, errors=errors)


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
