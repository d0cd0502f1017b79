"""The stage criteria as pure functions over hand-made measurements, at and around thresholds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

import log_reading
from cutover import gate
from cutover.criteria.complaints import complaints
from cutover.criteria.durations import duration, duration_every, duration_vs_stage1
from cutover.criteria.errors import new_error_patterns, systemic_errors
from cutover.criteria.imports import stuck_imports, traffic
from cutover.criteria.progress import deprecation_elapsed, elapsed, rollbacks
from cutover.criteria.rates import minimum_sample
from cutover.criteria.registry import CRITERIA, Context
from cutover.criteria.routing import routing_split, v1_traffic
from cutover.criteria.stability import rlm_stability
from cutover.criteria.success import success_rate
from cutover.measure.checkpoints import CheckpointReading, SuccessSeries
from cutover.measure.logs import RlmStability, RoutingSplit, V1Traffic
from cutover.measure.stage import (
    Complaints,
    DurationComparison,
    DurationSlices,
    ErrorPatterns,
    NewErrorPatterns,
    Rollbacks,
    StageProgress,
    StuckStatus,
    Traffic,
)
from cutover.outcome import Action, Outcome, Result, Window
from cutover.profile import Profile
from cutover.sources.imports import Durations, ErrorPattern, HourCount, StuckImport, SuccessCounts
from cutover.sources.logs.continuity import Continuity
from cutover.sources.metrics import MetricPoint, MetricSeries
from cutover.sources.rlm_logs import RlmLogCounts
from cutover.sources.router_logs import RoutingCounts
from cutover.timeutil import iso

PASS, FAIL, UNDECIDED = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE
T0 = datetime(2026, 2, 2, 10, tzinfo=UTC)
DAY = Window(T0, T0 + timedelta(hours=24))
PROFILE = Profile()


def ctx(criterion: str = "stage1.success_rate", **overrides: Any) -> Context:
    profile = dataclasses.replace(PROFILE, **overrides)
    return Context(profile=profile, as_of=DAY.end, target="seeded", criterion=criterion)


CTX = ctx()


def decide(criterion_id: str, measurement: object, context: Context = CTX) -> Result:
    return gate.decide(criterion_id, lambda: measurement, context)


def test_registered_consequences() -> None:
    for number in (1, 2):
        assert CRITERIA[f"stage{number}.success_rate"].on_fail is Action.ROLLBACK
        assert CRITERIA[f"stage{number}.rlm_stability"].on_fail is Action.ROLLBACK
        assert CRITERIA[f"stage{number}.elapsed"].on_fail is Action.HOLD
    for name in ("success_rate", "v1_traffic", "rollbacks", "rlm_stability"):
        assert CRITERIA[f"stage3.{name}"].on_fail is Action.HOLD
    assert CRITERIA["stage4.v1_traffic"].on_fail is Action.HOLD


# -- success rate -------------------------------------------------------------------------------


def counts(complete: int, failed: int, stuck: int = 0, in_flight: int = 0) -> SuccessCounts:
    total = complete + failed + stuck + in_flight
    q1 = None if total == 0 else round(100.0 * complete / total, 2)
    return SuccessCounts(DAY, total, complete, failed, stuck, in_flight, q1, "sha")


def series(*records: dict[str, Any] | None, current: SuccessCounts | None = None) -> SuccessSeries:
    labels = ("+1h", "+6h", "+24h")
    offsets = (1, 6, 24)
    readings = tuple(
        CheckpointReading(
            labels[i],
            T0 + timedelta(hours=offsets[i]),
            None if rec is None else T0 + timedelta(hours=offsets[i]),
            rec,
            "missing" if rec is None else "ledger",
        )
        for i, rec in enumerate(records)
    )
    return SuccessSeries(DAY, readings, current or counts(19, 1))


RUNBOOK = ctx(decision_mode="runbook")


def test_success_rate_95_00_passes() -> None:
    record = counts(190, 10).as_record()
    assert record["settled_rate_pct"] == 95.0
    r = success_rate(series(record, record, record), CTX)
    assert r.outcome is PASS
    assert r.sample_size == 20  # this run's Query 1 (the series' current)
    assert r.details["basis"] == "settled" and r.details["mode"] == "evidence"
    for checkpoint in r.details["checkpoints"]:
        assert checkpoint["decision"] == "meets"
        assert checkpoint["sequence"]["high_pct"] >= 95.0 >= checkpoint["sequence"]["low_pct"]


def test_success_rate_94_99_fails_in_runbook_mode_and_waits_in_evidence_mode() -> None:
    low = counts(9499, 501).as_record()
    assert low["settled_rate_pct"] == 94.99
    ok = counts(190, 10).as_record()
    r = decide("stage1.success_rate", series(ok, low), RUNBOOK)
    assert r.outcome is FAIL
    assert "+6h" in r.reason and "94.99" in r.reason
    assert r.action is Action.ROLLBACK
    evidence = decide("stage1.success_rate", series(ok, low))
    assert evidence.outcome is UNDECIDED
    assert "not yet conclusive" in evidence.reason and "more settled imports" in evidence.reason


def test_success_rate_fails_in_evidence_mode_when_the_sequence_lies_below() -> None:
    low = counts(450, 50).as_record()  # 90% of 500
    r = decide("stage1.success_rate", series(counts(190, 10).as_record(), low))
    assert r.outcome is FAIL
    assert "lies wholly below 95%" in r.reason
    assert r.details["checkpoints"][1]["decision"] == "below"


def test_success_rate_null_rate_is_inconclusive() -> None:
    record = counts(0, 0).as_record()
    assert record["settled_rate_pct"] is None
    record["complete"] = 30  # even with a count, a NULL rate decides nothing
    assert success_rate(series(record), CTX).outcome is UNDECIDED


def test_success_rate_below_the_power_minimum_is_inconclusive() -> None:
    need = minimum_sample(PROFILE.success_rate_min_pct, PROFILE)
    assert need == 59  # 0.95^59 <= 5% < 0.95^58
    small = counts(need - 1, 0).as_record()
    r = success_rate(series(small), CTX)
    assert r.outcome is UNDECIDED
    assert f"fewer than {need}" in r.reason and "about 1 more decide" in r.reason
    enough = counts(need, 0).as_record()
    assert success_rate(series(enough), CTX).outcome is PASS


def test_an_early_undecided_checkpoint_is_superseded_by_a_later_pass() -> None:
    early = counts(24, 2).as_record()  # +1 h: 92.3% of 26, too few to tell
    later = counts(485, 15).as_record()
    for context in (CTX, RUNBOOK):
        r = success_rate(series(early, later), context)
        assert r.outcome is PASS, r.reason
        assert "+1h undecided, superseded by the latest checkpoint" in r.reason
    # but a latest checkpoint that cannot decide leaves the earlier ones undecided too
    assert success_rate(series(later, early), CTX).outcome is UNDECIDED


def test_success_rate_catastrophic_checkpoint_fails_in_both_modes() -> None:
    bad = counts(15, 5).as_record()  # 75% of 20
    for context in (CTX, RUNBOOK):
        r = success_rate(series(bad), context)
        assert r.outcome is FAIL and "catastrophic floor" in r.reason


def test_success_rate_uses_the_recorded_stream() -> None:
    """A checkpoint's sequence covers the stage to date as that checkpoint recorded it."""
    record = {
        **counts(93, 7).as_record(),
        "stream": {"since": iso(T0), "complete": 900, "failed": 100, "settled": 1000},
    }
    r = success_rate(series(record), CTX)
    assert r.outcome is FAIL
    assert r.details["checkpoints"][0]["sequence"]["trials"] == 1000
    assert iso(T0) in r.details["checkpoints"][0]["sequence"]["data"]


def test_success_rate_missing_checkpoint_says_how_to_backfill() -> None:
    ok = counts(190, 10).as_record()
    r = decide("stage1.success_rate", series(ok, None))
    assert r.outcome is UNDECIDED
    due = T0 + timedelta(hours=6)
    assert f"pytest -m stage1_gate --as-of {iso(due)}" in r.reason
    r2 = decide("stage2.success_rate", series(None), ctx("stage2.success_rate"))
    assert f"pytest -m stage2_gate --as-of {iso(T0 + timedelta(hours=1))}" in r2.reason


def test_success_rate_failure_wins_over_missing_checkpoint() -> None:
    r = success_rate(series(None, counts(900, 100).as_record()), CTX)
    assert r.outcome is FAIL


def test_success_rate_no_checkpoint_due_is_inconclusive() -> None:
    s = SuccessSeries(DAY, (), counts(19, 1), not_yet_due=("+1h",))
    assert success_rate(s, CTX).outcome is UNDECIDED


def test_success_rate_query1_basis_gates_on_query1() -> None:
    # 80 complete, 6 in flight: settled basis 100%, Query 1 93.02% (in flight in the denominator)
    record = counts(80, 0, in_flight=6).as_record()
    assert record["settled_rate_pct"] == 100.0 and record["query1_rate_pct"] == 93.02
    assert success_rate(series(record), RUNBOOK).outcome is PASS
    q1 = ctx(success_rate_basis="query1", decision_mode="runbook")
    r = success_rate(series(record), q1)
    assert r.outcome is FAIL
    assert "93.02" in r.reason
    assert r.details["basis"] == "query1"
    # and the other way round: Query 1 at 95% with settled below
    other = {**counts(190, 10).as_record(), "settled_rate_pct": 90.0, "query1_rate_pct": 95.0}
    assert success_rate(series(other), q1).outcome is PASS
    assert success_rate(series(other), RUNBOOK).outcome is FAIL


# -- elapsed ------------------------------------------------------------------------------------


def progress(
    ran: timedelta,
    *,
    number: int = 1,
    ended_after: timedelta | None = None,
    ended_by: str = "",
    since: datetime | None = None,
) -> StageProgress:
    ended = None if ended_after is None else T0 + ended_after
    return StageProgress(
        plan=PROFILE.stage(number),
        started=T0,
        ended=ended,
        ended_by=ended_by,
        current=None,
        as_of=T0 + ran,
        hundred_percent_since=since,
    )


def test_elapsed_before_24h_is_inconclusive() -> None:
    r = elapsed(progress(timedelta(hours=24) - timedelta(seconds=1)), CTX)
    assert r.outcome is UNDECIDED
    assert iso(T0 + timedelta(hours=24)) in r.reason


@pytest.mark.parametrize("hours", [24, 30])
def test_elapsed_at_and_after_24h_passes(hours: int) -> None:
    assert elapsed(progress(timedelta(hours=hours)), CTX).outcome is PASS


def test_elapsed_cut_short_by_rollback_fails_with_hold() -> None:
    p = progress(timedelta(hours=30), ended_after=timedelta(hours=20), ended_by="rollback")
    r = decide("stage1.elapsed", p)
    assert r.outcome is FAIL
    assert "rollback" in r.reason
    assert r.window == Window(T0, T0 + timedelta(hours=20))
    assert r.action is Action.HOLD


def test_elapsed_without_start_is_inconclusive() -> None:
    p = dataclasses.replace(progress(timedelta(hours=30)), started=None)
    r = elapsed(p, CTX)
    assert r.outcome is UNDECIDED
    assert "cutover stage start 1" in r.reason


def test_deprecation_needs_14_days_at_100_percent() -> None:
    week = timedelta(days=7)
    short = progress(week, number=4, since=T0 - timedelta(days=6))
    assert deprecation_elapsed(short, CTX).outcome is UNDECIDED
    full = progress(week, number=4, since=T0 - week)
    assert deprecation_elapsed(full, CTX).outcome is PASS
    early = progress(week - timedelta(hours=1), number=4, since=T0 - week)
    assert deprecation_elapsed(early, CTX).outcome is UNDECIDED


# -- stuck imports ------------------------------------------------------------------------------

ALLOWANCE = PROFILE.stuck_after_minutes + PROFILE.stuck_resolved_within_minutes


def stuck(*minutes: int, late: int = 0, started: int = 200) -> StuckStatus:
    items = tuple(
        StuckImport(f"u{i}", DAY.end - timedelta(minutes=m), m) for i, m in enumerate(minutes)
    )
    return StuckStatus(DAY, items, {float(ALLOWANCE) + 0.1: late} if late else {5.0: 3}, started)


def test_stuck_on_no_imports_at_all_is_inconclusive() -> None:
    """An empty table, or every row hidden by row-level security, is not 'none stuck'."""
    r = stuck_imports(stuck(started=0), CTX)
    assert r.outcome is UNDECIDED
    assert "row-level security" in r.reason


def test_stuck_none_passes() -> None:
    assert stuck_imports(stuck(), CTX).outcome is PASS


@pytest.mark.parametrize("minutes", [PROFILE.stuck_after_minutes + 1, ALLOWANCE])
def test_stuck_pending_is_inconclusive(minutes: int) -> None:
    r = stuck_imports(stuck(minutes), CTX)
    assert r.outcome is UNDECIDED
    assert r.details["stuck_users"] == ["u0"]


def test_stuck_overdue_fails() -> None:
    r = stuck_imports(stuck(130, ALLOWANCE + 1), CTX)
    assert r.outcome is FAIL
    assert f"oldest {ALLOWANCE + 1} min" in r.reason


def test_stuck_resolved_late_fails() -> None:
    r = stuck_imports(stuck(late=1), CTX)
    assert r.outcome is FAIL
    assert "finished only after" in r.reason


# -- complaints ---------------------------------------------------------------------------------

GRACE = timedelta(minutes=PROFILE.attestation_grace_minutes)
MINUTE = timedelta(minutes=1)


def attested(*spans: tuple[datetime, datetime, int]) -> Complaints:
    return Complaints(DAY, tuple((s, u, n, "support") for s, u, n in spans))


def test_complaints_full_coverage_with_zero_passes() -> None:
    mid = T0 + timedelta(hours=12)
    r = complaints(attested((T0, mid, 0), (mid, DAY.end, 0)), CTX)
    assert r.outcome is PASS
    assert "support" in r.reason


def test_complaints_gap_is_inconclusive() -> None:
    spans = ((T0, T0 + timedelta(hours=10), 0), (T0 + timedelta(hours=12), DAY.end, 0))
    r = complaints(attested(*spans), CTX)
    assert r.outcome is UNDECIDED
    assert iso(T0 + timedelta(hours=10)) in r.reason


def test_complaints_none_attested_is_inconclusive() -> None:
    assert complaints(attested(), CTX).outcome is UNDECIDED


def test_complaints_count_fails() -> None:
    r = decide("stage1.complaints", attested((T0, DAY.end, 1)))
    assert r.outcome is FAIL
    assert r.measured == "1"
    assert r.action is Action.ROLLBACK


@pytest.mark.parametrize(
    ("since", "until", "outcome"),
    [
        (T0 + GRACE, DAY.end, PASS),
        (T0 + GRACE + MINUTE, DAY.end, UNDECIDED),
        (T0, DAY.end - GRACE, PASS),
        (T0, DAY.end - GRACE - MINUTE, UNDECIDED),
    ],
)
def test_complaints_grace_at_the_ends(since: datetime, until: datetime, outcome: Outcome) -> None:
    assert complaints(attested((since, until, 0)), CTX).outcome is outcome


@pytest.mark.parametrize(("gap", "outcome"), [(GRACE, PASS), (GRACE + MINUTE, UNDECIDED)])
def test_complaints_grace_between_attestations(gap: timedelta, outcome: Outcome) -> None:
    mid = T0 + timedelta(hours=12)
    r = complaints(attested((T0, mid, 0), (mid + gap, DAY.end, 0)), CTX)
    assert r.outcome is outcome


# -- durations ----------------------------------------------------------------------------------


#: a duration inside each of Query 3's buckets (exactly 30 minutes is already slow)
BUCKET_MINUTES = {"lt5": 2.0, "b5": 7.0, "b10": 15.0, "b20": 25.0, "gt30": 30.0}
BUCKET_NAMES = {"lt5": "<5min", "b5": "5-10min", "b10": "10-20min", "b20": "20-30min"}


def durations(in_flight: dict[float, int] | None = None, **buckets: int) -> Durations:
    bins = {BUCKET_MINUTES[k]: v for k, v in buckets.items()}
    names = {**BUCKET_NAMES, "gt30": ">30min"}
    shown = {names[k]: v for k, v in buckets.items()}
    return Durations(DAY, bins, shown, "sha", in_flight_slow=in_flight or {})


def test_duration_exactly_10pct_slow_fails() -> None:
    r = duration(durations(lt5=27, gt30=3), CTX)
    assert r.outcome is FAIL
    assert "10.0% take 30 min or more" in r.reason


def test_duration_9_9pct_slow_passes() -> None:
    r = duration(durations(lt5=901, gt30=99), CTX)
    assert r.outcome is PASS
    assert r.sample_size == 1000


def test_duration_exactly_50pct_fast_fails() -> None:
    r = duration(durations(lt5=15, b5=15, b10=30), CTX)
    assert r.outcome is FAIL
    assert "only 50.0% finish under 10 min" in r.reason


def test_duration_just_over_50pct_fast_passes() -> None:
    assert duration(durations(b5=501, b20=499), CTX).outcome is PASS


def test_an_import_in_flight_past_the_slow_limit_counts_as_slow() -> None:
    """27 fast ones complete, 3 still running after 31-45 minutes: 10% slow, not 0%."""
    r = duration(durations({31.0: 1, 38.5: 1, 45.0: 1}, lt5=27), CTX)
    assert r.outcome is FAIL and "10.0% take 30 min or more" in r.reason
    assert r.details["in_flight_slow"] == 3 and r.sample_size == 30
    assert "3 still in flight past it counted as slow" in str(r.measured)
    assert duration(durations(lt5=27), CTX).outcome is UNDECIDED  # 27: too few to tell


def test_duration_boundaries_come_from_the_profile() -> None:
    d = durations(lt5=70, b20=30)  # 30% take 25 minutes
    assert duration(d, CTX).outcome is PASS
    stricter = ctx(slow_import_minutes=20)
    r = duration(d, stricter)
    assert r.outcome is FAIL and "30.0% take 20 min or more" in r.reason
    fast = Durations(DAY, {9.9: 51, 10.0: 49}, {}, "sha")  # bins are floored: 9.9x is < 10
    assert duration(fast, CTX).outcome is PASS
    assert duration(fast, ctx(fast_import_minutes=9)).outcome is FAIL


def test_duration_too_few_is_inconclusive_and_says_how_many_more() -> None:
    r = duration(durations(lt5=28), CTX)
    assert r.outcome is UNDECIDED
    assert "fewer than 29" in r.reason and "about 1 more decide" in r.reason  # 0.9^29 <= 5%
    assert duration(durations(lt5=29), CTX).outcome is PASS


def test_duration_vs_stage1() -> None:
    base = {4.0: 10, 5.0: 10, 6.0: 10}

    def comparison(bins: dict[float, int], baseline: dict[float, int] | None) -> Result:
        current = Durations(DAY, bins, {}, "sha")
        return duration_vs_stage1(DurationComparison(current, baseline), CTX)

    none = comparison(base, None)
    assert none.outcome is UNDECIDED and "no stage 1" in none.reason
    assert comparison({8.0: 10, 10.0: 10, 12.0: 10}, base).outcome is FAIL
    assert comparison(base, base).outcome is PASS
    # +15%: significant, but within the allowed 20% slowdown
    assert comparison({4.6: 10, 5.75: 10, 6.9: 10}, base).outcome is PASS
    small = comparison({10.0: 5}, base)
    assert small.outcome is UNDECIDED and "more decide" in small.reason


def test_duration_vs_stage1_counts_imports_in_flight_past_the_limit() -> None:
    base = {4.0: 40, 5.0: 40, 6.0: 40}
    complete = Durations(DAY, dict(base), {}, "sha")
    assert duration_vs_stage1(DurationComparison(complete, base), CTX).outcome is PASS
    running = Durations(DAY, dict(base), {}, "sha", in_flight_slow={31.0: 20, 40.0: 20})
    r = duration_vs_stage1(DurationComparison(running, base), CTX)
    assert r.outcome is FAIL
    assert r.details["in_flight_slow"] == 40
    assert "40 in flight past 30 min counted as slow" in str(r.measured)


# -- traffic ------------------------------------------------------------------------------------

HALF = Window(T0 + timedelta(minutes=30), T0 + timedelta(hours=6))  # full hours 11:00..15:00


def timeline(per_hour: dict[int, int]) -> Traffic:
    hours = tuple(HourCount(T0.replace(hour=h), n) for h, n in per_hour.items())
    return Traffic(HALF, hours)


def test_traffic_every_hour_passes() -> None:
    r = traffic(timeline({10: 3, 11: 8, 12: 8, 13: 8, 14: 8, 15: 8}), CTX)
    assert r.outcome is PASS


def test_traffic_empty_hour_fails_when_volume_is_high() -> None:
    r = traffic(timeline({11: 10, 12: 10, 14: 10, 15: 10}), CTX)
    assert r.outcome is FAIL
    assert iso(T0.replace(hour=13)) in r.reason


def test_traffic_empty_hour_is_inconclusive_when_volume_is_low() -> None:
    r = traffic(timeline({11: 1, 12: 1, 14: 1, 15: 1}), CTX)
    assert r.outcome is UNDECIDED


def test_traffic_no_import_at_all_fails() -> None:
    r = traffic(timeline({}), CTX)
    assert r.outcome is FAIL
    assert "routing is broken" in r.reason


def test_traffic_before_a_full_hour_is_inconclusive() -> None:
    short = Traffic(Window(T0 + timedelta(minutes=30), T0 + timedelta(minutes=90)), ())
    assert traffic(short, CTX).outcome is UNDECIDED


# -- routing split ------------------------------------------------------------------------------


def split(
    v1: int, v2: int, seen: dict[int, int] | None = None, first: datetime = T0
) -> RoutingSplit:
    counts = RoutingCounts(
        v1,
        v2,
        seen or {10: v1 + v2},
        first_seen=first,
        last_seen=DAY.end,
        path="router.log",
        coverage=log_reading.seen(T0, DAY.end, first=first),
    )
    return RoutingSplit(DAY, 10, counts)


def test_routing_split_consistent_passes() -> None:
    r = routing_split(split(900, 100), CTX)
    assert r.outcome is PASS
    assert r.details["v2"] == 100


def test_routing_split_skewed_fails() -> None:
    assert routing_split(split(700, 300), CTX).outcome is FAIL


def test_routing_split_too_few_is_inconclusive() -> None:
    assert routing_split(split(45, 5), CTX).outcome is UNDECIDED


def test_routing_split_wrong_percent_seen_fails() -> None:
    r = routing_split(split(900, 100, {10: 990, 0: 10}), CTX)
    assert r.outcome is FAIL
    assert "10 lines at 0%" in r.reason


def test_routing_split_log_gap_is_inconclusive() -> None:
    r = routing_split(split(900, 100, first=T0 + timedelta(hours=6)), CTX)
    assert r.outcome is UNDECIDED
    assert "the router log has 1 gap" in r.reason
    assert f"{iso(T0)}..{iso(T0 + timedelta(hours=6))} (6.0 h without a line)" in r.reason


# -- RLM stability ------------------------------------------------------------------------------


def metrics(
    values: list[float], cpu: list[float] | None = None, window: Window = DAY
) -> MetricSeries:
    """`values` spread evenly over the window, each held for its share of it in points five
    minutes apart (the cadence of a seeded export)."""
    assert window.start is not None
    step = (window.end - window.start) / len(values)
    every = timedelta(minutes=5)
    points = tuple(
        MetricPoint(window.start + i * step + k * every, v, None if cpu is None else cpu[i])
        for i, v in enumerate(values)
        for k in range(step // every)
    )
    return MetricSeries(points, first_seen=window.start, last_seen=window.end, path="metrics.csv")


def logs(first: datetime = T0, oom_kills: int = 0, crashes: int = 0) -> RlmLogCounts:
    return RlmLogCounts(
        oom_kills=oom_kills,
        crashes=crashes,
        first_seen=first,
        last_seen=DAY.end,
        path="rlm.log",
        coverage=log_reading.seen(T0, DAY.end, first=first),
    )


NOISE = np.random.default_rng(7).normal(0, 15, 48)
FLAT = [float(500 + n) for n in NOISE]


def logs_of(window: Window) -> RlmLogCounts:
    """An RLM log that covers `window` and shows nothing."""
    assert window.start is not None
    return RlmLogCounts(path="rlm.log", coverage=log_reading.seen(window.start, window.end))


def stability(log: RlmLogCounts, series: MetricSeries, check_cpu: bool = False) -> RlmStability:
    return RlmStability(DAY, log, series, check_cpu)


def test_rlm_stability_oom_fails() -> None:
    r = rlm_stability(stability(logs(oom_kills=1), metrics(FLAT)), CTX)
    assert r.outcome is FAIL
    assert "1 OOM" in r.reason


def test_rlm_stability_crash_fails() -> None:
    assert rlm_stability(stability(logs(crashes=2), metrics(FLAT)), CTX).outcome is FAIL


def test_rlm_stability_uncovered_log_is_inconclusive() -> None:
    # zero OOM lines in a log that starts 6 h into the window prove nothing about the first 6 h
    partial = logs(first=T0 + timedelta(hours=6))
    r = rlm_stability(stability(partial, metrics(FLAT)), CTX)
    assert r.outcome is UNDECIDED
    assert "the RLM log has 1 gap" in r.reason and iso(T0 + timedelta(hours=6)) in r.reason


def test_rlm_stability_flat_noisy_memory_passes() -> None:
    r = rlm_stability(stability(logs(), metrics(FLAT)), CTX)
    assert r.outcome is PASS
    assert r.sample_size == 48 * 6  # 48 values, each held 30 minutes in points 5 minutes apart


def test_rlm_stability_leak_fails() -> None:
    leak = [v + 4.0 * i for i, v in enumerate(FLAT)]  # ~38% growth over the window
    r = decide("stage1.rlm_stability", stability(logs(), metrics(leak)))
    assert r.outcome is FAIL
    assert "memory rises" in r.reason
    assert r.action is Action.ROLLBACK


def test_rlm_stability_small_significant_growth_passes() -> None:
    creep = [500.0 + 0.5 * i for i in range(48)]  # steady, but ~4.6% over the window
    assert rlm_stability(stability(logs(), metrics(creep)), CTX).outcome is PASS


def test_rlm_stability_rising_cpu_fails_when_checked() -> None:
    cpu = [10.0 + 1.0 * i for i in range(48)]
    series = metrics(FLAT, cpu)
    assert rlm_stability(stability(logs(), series), CTX).outcome is PASS
    r = rlm_stability(stability(logs(), series, check_cpu=True), CTX)
    assert r.outcome is FAIL
    assert "cpu rises" in r.reason


def test_rlm_stability_too_few_points_is_inconclusive() -> None:
    hours = Window(T0, T0 + timedelta(hours=5))
    short = RlmStability(hours, logs_of(hours), metrics(FLAT[:5], window=hours), False)
    r = rlm_stability(short, CTX)
    assert r.outcome is UNDECIDED
    assert f"below {PROFILE.min_trend_points}" in r.reason


# -- v1 traffic and rollbacks -------------------------------------------------------------------


def v1(
    calls: int = 0, first: datetime = T0, window: Window = DAY, users: frozenset[str] = frozenset()
) -> V1Traffic:
    counts = RlmLogCounts(
        deprecated_calls=calls,
        deprecated_users=users,
        first_seen=first,
        last_seen=window.end,
        path="rlm.log",
        coverage=log_reading.seen(T0, window.end, first=first),
    )
    return V1Traffic(window, counts, timedelta(hours=24))


def test_v1_traffic_none_passes() -> None:
    assert v1_traffic(v1(), CTX).outcome is PASS


def test_v1_traffic_any_call_fails() -> None:
    r = decide("stage3.v1_traffic", v1(1, users=frozenset({"user-a"})))
    assert r.outcome is FAIL
    assert r.details["users"] == ["user-a"]
    assert r.action is Action.HOLD


def test_v1_traffic_coverage_gap_is_inconclusive() -> None:
    r = v1_traffic(v1(first=T0 + timedelta(hours=2)), CTX)
    assert r.outcome is UNDECIDED
    assert "prove nothing" in r.reason
    assert r.details["coverage"]["rlm_log"]["gaps"] == [
        [iso(T0), iso(T0 + timedelta(hours=2)), "no line"]
    ]


def test_v1_traffic_short_window_is_inconclusive() -> None:
    short = Window(T0, T0 + timedelta(hours=12))
    r = v1_traffic(v1(window=short), CTX)
    assert r.outcome is UNDECIDED
    assert "only 12.0 h" in r.reason


def test_rollbacks() -> None:
    assert rollbacks(Rollbacks(DAY, ()), CTX).outcome is PASS
    at = T0 + timedelta(hours=3)
    r = rollbacks(Rollbacks(DAY, ((at, "success rate 90%"),)), CTX)
    assert r.outcome is FAIL
    assert iso(at) in r.reason and "success rate 90%" in r.reason


# -- error patterns -----------------------------------------------------------------------------


def signatures(*rows: ErrorPattern, started: int = 200) -> ErrorPatterns:
    return ErrorPatterns(DAY, rows, started)


def test_systemic_errors_on_no_imports_at_all_is_inconclusive() -> None:
    assert systemic_errors(signatures(started=0), CTX).outcome is UNDECIDED
    # a failure found is a failure, whatever else is missing
    assert systemic_errors(signatures(TIMEOUT, started=0), CTX).outcome is FAIL


TIMEOUT = ErrorPattern("TimeoutError: RLM timed out", 4, 4)  # systemic
BAD_FILE = ErrorPattern("ValueError: bad file format", 9, 9)  # user-side
ODD = ErrorPattern("KeyError: 'conversations'", 1, 1)  # unclassified: one user
ODD_SIGNATURE = "KeyError: <str>"


def test_systemic_errors() -> None:
    assert systemic_errors(signatures(BAD_FILE), CTX).outcome is PASS
    r = systemic_errors(signatures(BAD_FILE, TIMEOUT), CTX)
    assert r.outcome is FAIL
    assert "TimeoutError" in r.reason and "systemic pattern 'timeout'" in r.reason


def test_an_unlisted_message_at_3_users_holds_and_says_how_to_classify_it() -> None:
    """The issue's healthy rollout: one unlisted bad-file message reaching 3 users in 24 h."""
    first, last = T0 + timedelta(hours=3), T0 + timedelta(hours=19)
    odd = ErrorPattern("ValueError: conversation tree has a cycle at node 12", 3, 3, first, last)
    r = decide("stage1.systemic_errors", signatures(BAD_FILE, odd, started=960))
    assert r.outcome is UNDECIDED and r.action is Action.HOLD
    text = "ValueError: conversation tree has a cycle at node <n>"
    assert f"{text!r} x3 (3 users, first {iso(first)}, last {iso(last)})" in r.reason
    command = f'cutover classify "{text}" --as user|systemic --by NAME'
    assert command in r.reason
    [listed] = r.details["unclassified"]
    assert listed["command"] == command and listed["users"] == 3
    assert r.details["rules"][BAD_FILE.text] == "user-side pattern 'bad file format'"
    # once a person classifies it, later runs read the attestation
    classified = {text: ("user", "alice", T0 + timedelta(hours=20))}
    again = dataclasses.replace(signatures(BAD_FILE, odd, started=960), classified=classified)
    assert decide("stage1.systemic_errors", again).outcome is PASS


def test_new_error_patterns() -> None:
    current = signatures(TIMEOUT, BAD_FILE, ODD)
    missing = new_error_patterns(NewErrorPatterns(current, None), CTX)
    assert missing.outcome is UNDECIDED
    known = frozenset({TIMEOUT.text, ODD_SIGNATURE})  # the user-side one is new, never counts
    assert new_error_patterns(NewErrorPatterns(current, known), CTX).outcome is PASS
    r = new_error_patterns(NewErrorPatterns(current, frozenset({ODD_SIGNATURE})), CTX)
    assert r.outcome is FAIL
    assert TIMEOUT.text in r.reason
    assert r.measured == "1 new of 2 (0 unclassified)"
    odd = new_error_patterns(NewErrorPatterns(current, frozenset({TIMEOUT.text})), CTX)
    assert odd.outcome is UNDECIDED
    assert f'cutover classify "{ODD_SIGNATURE}"' in odd.reason


def test_error_texts_past_the_read_limit_are_inconclusive_not_cut() -> None:
    """More distinct error texts than the profile reads: a systemic one may be in the unread
    tail, so neither error criterion passes on the part it read (a systemic one found still
    fails)."""
    cut = dataclasses.replace(signatures(BAD_FILE), more_texts_than=1000)
    r = systemic_errors(cut, CTX)
    assert r.outcome is UNDECIDED and "error_texts_max_rows" in r.reason
    new = new_error_patterns(NewErrorPatterns(cut, frozenset()), CTX)
    assert new.outcome is UNDECIDED and "more than 1000" in new.reason
    found = dataclasses.replace(signatures(BAD_FILE, TIMEOUT), more_texts_than=1000)
    assert systemic_errors(found, CTX).outcome is FAIL


def test_traffic_checks_the_first_hour_when_the_stage_starts_on_the_hour() -> None:
    t0 = datetime(2026, 2, 2, 10, tzinfo=UTC)
    hours = (HourCount(t0.replace(hour=11), 10), HourCount(t0.replace(hour=12), 10))
    result = traffic(Traffic(Window(t0, t0 + timedelta(hours=3)), hours), ctx("stage1.traffic"))
    assert result.outcome is Outcome.FAIL
    assert "2026-02-02T10:00:00Z" in result.reason


def test_stage3_duration_fails_when_any_three_day_slice_is_slow() -> None:
    healthy = durations(lt5=90, b5=10)
    slow = durations(lt5=40, b20=40, gt30=20)
    slices = DurationSlices(DAY, (healthy, slow, healthy))
    result = duration_every(slices, ctx("stage3.duration"))
    assert result.outcome is Outcome.FAIL
    assert result.reason.count("take 30 min or more") == 1
    assert duration_every(DurationSlices(DAY, (healthy,) * 3), ctx()).outcome is Outcome.PASS


def test_success_rate_evidence_says_which_checkpoints_were_reconstructed() -> None:
    record = counts(19, 1).as_record()
    base = series(record, record, record)
    late = dataclasses.replace(base.readings[1], reconstructed=True)
    r = success_rate(
        dataclasses.replace(base, readings=(base.readings[0], late, base.readings[2])), CTX
    )
    marks = [(c["label"], c["origin"], c["reconstructed"]) for c in r.details["checkpoints"]]
    assert marks == [("+1h", "ledger", False), ("+6h", "ledger", True), ("+24h", "ledger", False)]


# -- coverage: a gap is never a pass ------------------------------------------------------------


def test_routing_split_over_a_gap_is_inconclusive_and_says_what_was_covered() -> None:
    gap = (T0 + timedelta(hours=10), T0 + timedelta(hours=11))
    counts = dataclasses.replace(
        split(900, 100).counts,
        coverage=Continuity(T0, DAY.end, timedelta(minutes=20), ((T0, gap[0]), (gap[1], DAY.end))),
    )
    r = routing_split(RoutingSplit(DAY, 10, counts), CTX)
    assert r.outcome is UNDECIDED
    assert "the split over the covered part proves nothing" in r.reason
    covered = r.details["coverage"]["router_log"]["covered"]
    assert covered == [[iso(T0), iso(gap[0])], [iso(gap[1]), iso(DAY.end)]]


def test_another_percent_seen_fails_even_over_a_gap() -> None:
    partial = split(900, 100, {10: 990, 0: 10}, first=T0 + timedelta(hours=6))
    assert routing_split(partial, CTX).outcome is FAIL


def test_v1_calls_seen_fail_even_over_a_gap() -> None:
    assert v1_traffic(v1(3, first=T0 + timedelta(hours=2)), CTX).outcome is FAIL


def test_rlm_stability_names_a_gap_in_a_metric_series() -> None:
    series = metrics(FLAT)
    lost = (T0 + timedelta(hours=8), T0 + timedelta(hours=11))
    kept = tuple(p for p in series.points if not lost[0] <= p.timestamp < lost[1])
    r = rlm_stability(stability(logs(), dataclasses.replace(series, points=kept)), CTX)
    assert r.outcome is UNDECIDED
    assert "the metric series has 1 gap" in r.reason
    assert r.details["coverage"]["metrics"]["gap_count"] == 1


def test_rlm_stability_names_a_gap_in_one_instance_of_several() -> None:
    """Two instances together cover the window; one of them lost three hours: its trend
    cannot be told across them."""
    series = metrics(FLAT)
    lost = (T0 + timedelta(hours=8), T0 + timedelta(hours=11))
    two = tuple(dataclasses.replace(p, instance="srv-a") for p in series.points) + tuple(
        dataclasses.replace(p, instance="srv-b")
        for p in series.points
        if not lost[0] <= p.timestamp < lost[1]
    )
    r = rlm_stability(stability(logs(), dataclasses.replace(series, points=two)), CTX)
    assert r.outcome is UNDECIDED
    assert r.reason.startswith("no trend can be told across a gap in a metric series: srv-b")
    assert iso(lost[0] - timedelta(minutes=5)) in r.reason


def test_stuck_finished_at_the_allowance_is_not_late() -> None:
    """The criterion owns the allowance: exactly at it is in time, a tenth past it is late."""
    on_time = StuckStatus(DAY, (), {float(ALLOWANCE): 4}, 200)
    assert stuck_imports(on_time, CTX).outcome is PASS
    past = StuckStatus(DAY, (), {float(ALLOWANCE) + 0.1: 1}, 200)
    assert stuck_imports(past, CTX).outcome is FAIL
