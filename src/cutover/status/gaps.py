"""What the stage's gate still lacks, and the earliest instant it could pass, from the ledger
(attestations, classifications, the latest checkpoint's recorded evidence) and the profile.
Pure: every input is handed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cutover.criteria.complaints import attested_until
from cutover.criteria.rates import minimum_sample
from cutover.criteria.registry import CRITERIA
from cutover.criteria.routing import split_minimum
from cutover.criteria.stage import STAGE_GATES
from cutover.ledger.records import Checkpoint
from cutover.ledger.view import LedgerView
from cutover.profile import Profile, StagePlan
from cutover.status.commands import Commands
from cutover.status.model import ATTESTATION, COVERAGE, SIGNATURE, SOURCE, Missing, SampleNeed
from cutover.timeutil import iso, parse_instant

#: the source settings a live gate run reads: (setting, env variable, what the registered
#: criteria's `source` says when they read it)
SOURCE_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("database_url", "CUTOVER_DATABASE_URL", "sql/"),
    ("router_logs", "CUTOVER_ROUTER_LOGS", "router logs"),
    ("rlm_logs", "CUTOVER_RLM_LOGS", "RLM logs"),
    ("rlm_metrics", "CUTOVER_RLM_METRICS", "metrics"),
    ("rlm_local_url", "CUTOVER_RLM_LOCAL_URL", "local RLM"),
)
_SIGNATURE_CRITERIA = ("systemic_errors", "new_error_patterns")


@dataclass(frozen=True, slots=True)
class LiveStream:
    """`--db`: the stage's settled v2 imports from its start to the instant, read now."""

    settled: int
    since: datetime
    until: datetime


def gate_criteria(stage: int) -> tuple[str, ...]:
    """The names of the criteria the stage's gate holds (stage 4's deprecation probe too)."""
    return STAGE_GATES.get(stage, ()) + (("deprecation_headers",) if stage == 4 else ())


def latest_result(
    view: LedgerView, criterion: str, since: datetime
) -> tuple[int, Checkpoint, Mapping[str, Any]] | None:
    """(line, record, recorded values) of the latest checkpoint since `since` that decided
    `criterion`."""
    found = None
    for line, record in view.checkpoints():
        result = record.result(criterion)
        if result is None or record.as_of is None or record.as_of < since:
            continue
        if found is None or (record.as_of, line) >= (found[1].as_of, found[0]):
            found = (line, record, result.values)
    return found


def missing_for_gate(
    plan: StagePlan,
    started: datetime,
    bound: datetime,
    view: LedgerView,
    profile: Profile,
    commands: Commands,
    sources: Mapping[str, str],
) -> list[Missing]:
    names = gate_criteria(plan.number)
    found: list[Missing] = []
    if "complaints" in names:
        found += _complaints(started, bound, view, profile, commands)
    found += _signatures(plan, started, view, commands)
    found += _coverage(plan, started, view)
    for setting, env, source in SOURCE_SETTINGS:
        ids = [f"stage{plan.number}.{n}" for n in names]
        reading = [c for c in ids if c in CRITERIA and source in CRITERIA[c].source]
        if setting in sources and reading:
            found.append(Missing(SOURCE, f"{env} {sources[setting]}: {', '.join(reading)} read it"))
    return found


def _complaints(
    started: datetime, bound: datetime, view: LedgerView, profile: Profile, commands: Commands
) -> list[Missing]:
    grace = timedelta(minutes=profile.attestation_grace_minutes)
    until = min(view.as_of, bound)
    relevant = [a for a in view.complaint_attestations() if a[1] > started and a[0] < bound]
    covered = attested_until(relevant, started, grace)
    if covered >= bound - grace:
        return []
    need = f"the gate needs {iso(started)}..{iso(bound)}"
    if covered >= until - grace:
        what = f"complaints attested up to {iso(covered)}; {need} (attest at the gate)"
    else:
        what = f"complaints not attested over {iso(covered)}..{iso(until)}; {need}"
    return [Missing(ATTESTATION, what, commands.attest_complaints())]


def _signatures(
    plan: StagePlan, started: datetime, view: LedgerView, commands: Commands
) -> list[Missing]:
    classified = view.signature_classifications()
    found = []
    for name in _SIGNATURE_CRITERIA:
        criterion = f"stage{plan.number}.{name}"
        latest = latest_result(view, criterion, started)
        if latest is None:
            continue
        line, _, values = latest
        details = values.get("details")
        listed = details.get("unclassified", []) if isinstance(details, Mapping) else []
        for item in listed if isinstance(listed, list) else []:
            text = str(item.get("signature", "")) if isinstance(item, Mapping) else ""
            if not text or text in classified:
                continue
            what = (
                f"unclassified error signature {text!r} x{item.get('count', '?')} "
                f"({criterion}, ledger line {line})"
            )
            found.append(Missing(SIGNATURE, what, commands.classify(str(item.get("command")))))
    return found


def _coverage(plan: StagePlan, started: datetime, view: LedgerView) -> list[Missing]:
    found = []
    for name in gate_criteria(plan.number):
        criterion = f"stage{plan.number}.{name}"
        latest = latest_result(view, criterion, started)
        details = None if latest is None else latest[2].get("details")
        coverage = details.get("coverage") if isinstance(details, Mapping) else None
        if latest is None or not isinstance(coverage, Mapping):
            continue
        for source, cover in sorted(coverage.items()):
            gaps = cover.get("gaps", []) if isinstance(cover, Mapping) else []
            if not gaps:
                continue
            count = cover.get("gap_count", len(gaps))
            first = gaps[0]
            what = (
                f"{source.replace('_', ' ')} has {count} gap(s) in {criterion}'s window (ledger "
                f"line {latest[0]}), first {first[0]}..{first[1]} ({first[2]}): export it again"
            )
            found.append(Missing(COVERAGE, what))
    return found


def sample_needs(
    plan: StagePlan, started: datetime, view: LedgerView, profile: Profile, live: LiveStream | None
) -> list[SampleNeed]:
    """The minimum samples of the decision-mode statistics the gate's criteria need: the
    success rate's settled imports (a perfect record significant against the threshold) and the
    split test's routed requests (its power), with the rate seen so far."""
    names = gate_criteria(plan.number)
    needs = []
    if "success_rate" in names:
        need = minimum_sample(profile.success_rate_min_pct, profile)
        criterion = f"stage{plan.number}.success_rate"
        if live is not None:
            rate = _per_hour(live.settled, live.since, live.until)
            needs.append(
                SampleNeed(criterion, "settled imports", live.settled, need, rate, "database")
            )
        elif (stream := _recorded_stream(view, criterion, started)) is not None:
            settled, since, until, line = stream
            rate = _per_hour(settled, since, until)
            source = f"ledger line {line}"
            needs.append(SampleNeed(criterion, "settled imports", settled, need, rate, source))
    if "routing_split" in names:
        criterion = f"stage{plan.number}.routing_split"
        latest = latest_result(view, criterion, started)
        if latest is not None:
            line, record, values = latest
            need, _ = split_minimum(plan.percent, profile)
            have = _int(values.get("sample_size"))
            since = _instant(values.get("window_start")) or started
            rate = _per_hour(have, since, _instant(values.get("window_end")) or view.as_of)
            source = f"ledger line {line}"
            needs.append(SampleNeed(criterion, "routed requests", have, need, rate, source))
    return needs


def _recorded_stream(
    view: LedgerView, criterion: str, started: datetime
) -> tuple[int, datetime, datetime, int] | None:
    latest = latest_result(view, criterion, started)
    details = None if latest is None else latest[2].get("details")
    current = details.get("current") if isinstance(details, Mapping) else None
    stream = current.get("stream") if isinstance(current, Mapping) else None
    if latest is None or not isinstance(stream, Mapping) or latest[1].as_of is None:
        return None
    since = _instant(stream.get("since")) or started
    return _int(stream.get("settled")), since, latest[1].as_of, latest[0]


def recorded_rate_below(view: LedgerView, plan: StagePlan, profile: Profile) -> float | None:
    """The latest recorded settled success rate of the stage when it is below the threshold."""
    if "success_rate" not in gate_criteria(plan.number):
        return None
    started = view.stage_started(plan.number)
    latest = (
        None
        if started is None
        else latest_result(view, f"stage{plan.number}.success_rate", started)
    )
    details = None if latest is None else latest[2].get("details")
    current = details.get("current") if isinstance(details, Mapping) else None
    rate = current.get("settled_rate_pct") if isinstance(current, Mapping) else None
    if isinstance(rate, int | float) and rate < profile.success_rate_min_pct:
        return float(rate)
    return None


def _per_hour(count: int, since: datetime, until: datetime) -> float | None:
    hours = (until - since).total_seconds() / 3600
    return count / hours if hours > 0 and count > 0 else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_instant(value, what="window")
    except ValueError:
        return None
