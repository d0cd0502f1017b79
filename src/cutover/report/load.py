"""An evidence directory read into the report's model (`cutover.report.model`).

The ledger is read through its store, leniently: the report still shows a ledger whose chain is
broken or whose anchor does not match its last record (flagged, and never PROCEED), and a
record that does not fit its schema is listed as a problem; `cutover verify` says exactly what
is wrong. The run verdict is reconstructed from the latest checkpoint of each selection with
the same rules the run used (`cutover.evidence.verdict.run_verdict`): a partial checkpoint, a
criterion recorded as `error`, or a gate test its JUnit file shows as a <failure> or an <error>
without a criterion to explain it, never proceeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from cutover.evidence.junit import JUnitFile, read_junit_dir
from cutover.evidence.verdict import RunVerdict, run_verdict
from cutover.ledger import records
from cutover.ledger.anchor import anchor_problem
from cutover.ledger.errors import RecordInvalid
from cutover.ledger.records import (
    ComplaintsAttestation,
    Entry,
    Invalidation,
    LedgerRecord,
    OtherRecord,
    Rollback,
    SignatureClassification,
    StageStarted,
    Waiver,
    as_text,
)
from cutover.ledger.store import Chain, Head, Store
from cutover.profile import Profile
from cutover.report.model import (
    ChainStatus,
    Checkpoint,
    Evidence,
    LedgerEvent,
    SelectionVerdict,
    instant_key,
    selection_rank,
)
from cutover.timeutil import iso


def load_evidence(evidence_dir: Path, profile: Profile | None = None) -> Evidence:
    """Read an evidence directory: the ledger (leniently, noting a broken chain) and JUnit files."""
    store = Store(evidence_dir)
    chain = store.chain()
    checkpoints: list[Checkpoint] = []
    events: list[LedgerEvent] = []
    problems: list[str] = []
    set_aside: dict[int, str] = {}
    for entry in chain.entries:
        record = _parse(entry, problems)
        if isinstance(record, records.Checkpoint):
            checkpoints.append(Checkpoint.of(entry.line, record))
        elif entry.type != "checkpoint":
            events.append(_event(entry, record))
        if isinstance(record, Invalidation):
            said = f"set aside by {as_text(record.by)}: {as_text(record.reason)}"
            set_aside.setdefault(record.checkpoint, said)
    junit = tuple(read_junit_dir(evidence_dir))
    # a checkpoint set aside decides nothing: the verdict comes from the latest other one
    latest = _latest([c for c in checkpoints if c.line not in set_aside], junit)
    status = chain_status(chain, _head(store))
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
        set_aside=set_aside,
    )


def chain_status(chain: Chain, head: Head | None | str = None) -> ChainStatus:
    """Whether the chain verifies (where it first breaks) and its anchor `head` (text: why it
    could not be read) names its last record; the last record's digest."""
    if not chain.links and not chain.path.exists():
        return ChainStatus(ok=True, records=0, message="no ledger")
    count = len(chain.entries)
    broken = chain.broken()
    if broken is not None:
        return ChainStatus(False, count, broken.line, broken.message, chain.last_digest)
    problem = head if isinstance(head, str) else anchor_problem(head, chain)
    if problem:
        return ChainStatus(
            True, count, message=str(problem), head_sha256=chain.last_digest, anchored=False
        )
    return ChainStatus(True, count, head_sha256=chain.last_digest)


def _head(store: Store) -> Head | None | str:
    try:
        return store.head()
    except (ValueError, OSError) as exc:
        return f"ledger.head is not a readable anchor ({exc})"


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
    elif isinstance(record, SignatureClassification):
        summary = (
            f"error signature {as_text(record.signature)!r} classified "
            f"{as_text(record.classified_as)} by {as_text(record.by)}"
        )
    elif isinstance(record, Waiver):
        summary = waiver_summary(record)
    elif isinstance(record, Invalidation):
        summary = (
            f"checkpoint line {record.checkpoint} set aside by {as_text(record.by)}: "
            f"{as_text(record.reason)}"
        )
    else:
        shown = {k: v for k, v in entry.data.items() if k not in ("prev", "type", "at")}
        at, target = as_text(entry.data.get("at")), as_text(entry.data.get("target"))
        return LedgerEvent(entry.line, kind, at, f"{kind}: {as_text(shown)}", target, entry.data)
    return LedgerEvent(entry.line, kind, iso(record.at), summary, record.origin.target, entry.data)


def waiver_summary(waiver: Waiver) -> str:
    """`stage1.duration waived by alice until <ISO> (forced): <reason>`."""
    until = f" until {iso(waiver.until)}" if waiver.until is not None else ""
    scope = "" if waiver.checkpoint is None else f" for checkpoint line {waiver.checkpoint}"
    forced = " (forced: a rollback trigger)" if waiver.forced else ""
    return (
        f"{as_text(waiver.criterion)} waived by {as_text(waiver.by)} from {iso(waiver.at)}"
        f"{until}{scope}{forced}: {as_text(waiver.reason)}"
    )


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
            checkpoint.recorded(),
            selection=selection,
            seeded=checkpoint.seeded,
            errors=errors,
            partial=checkpoint.partial,
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
    """Test cases of the run's JUnit file that failed or errored (pytest writes an exception in a
    test as <failure>, in a fixture as <error>) with no failed or errored criterion to say why;
    a criterion recorded as `error` is in the ledger already."""
    for file in junit:
        if matches(file, checkpoint):
            for case in file.cases:
                explained = case.properties.get("verdict") in ("fail", "error")
                if case.status in ("failed", "error") and not explained:
                    yield f"{case.classname}::{case.name}"


def _any_seeded(checkpoints: Sequence[Checkpoint], events: Sequence[LedgerEvent]) -> bool:
    return any(c.seeded for c in checkpoints) or any(e.target == "seeded" for e in events)


def _overall(latest: Sequence[SelectionVerdict], chain: ChainStatus, *, seeded: bool) -> RunVerdict:
    results = [r for s in latest for r in s.checkpoint.recorded()]
    errors = [e for s in latest for e in s.errors]
    if not chain.ok:
        # evidence that does not verify cannot let a rollout proceed
        errors.append(f"ledger hash chain broken at line {chain.line}")
    elif not chain.anchored:
        errors.append("ledger.head does not anchor the last record")
    partial = [f"{s.selection} {p}" for s in latest for p in s.checkpoint.partial]
    selection = " + ".join(s.selection for s in latest) or "no checkpoint"
    return run_verdict(results, selection=selection, seeded=seeded, errors=errors, partial=partial)
