"""Issue 11, findings 1-3: damaged exports never pass a "zero events" or a ratio criterion.

Each case starts from exports that decide as they should (a seeded scenario written to files,
or a log written here), damages one as a reliability tester did, and decides the criterion
through the real measurement and runner: the damage is never a pass, and the reason names the
gap. Before coverage was continuity (it was taken from the first and last timestamps only) and
duplicates were dropped, each damaged case passed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cutover import gate
from cutover.criteria.registry import Context
from cutover.criteria.routing import split_minimum
from cutover.ledger import Store
from cutover.ledger.records import StageStarted
from cutover.ledger.view import LedgerView
from cutover.measure import logs as measure_logs
from cutover.measure.inputs import Inputs
from cutover.outcome import Outcome, Result
from cutover.profile import Profile
from cutover.scenarios.artifacts import ScenarioFiles, write_artifacts
from cutover.scenarios.model import load_scenario
from cutover.sources.exports import Exports
from cutover.timeutil import iso

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # stage 1 (or 4) starts
DAY_END = T0 + timedelta(hours=24)
OOM_AT = T0 + timedelta(hours=15)
PROFILE = Profile()

STAGE1 = """
t0 = "2026-03-02T09:00:00Z"
seed = 11

[[stage]]
stage = 1
at = "0h"

[[traffic]]
from = "-2h"
to = "30h"
requests_per_hour = {rate}
failure_pct = 1
"""
OOM = """
[[rlm_event]]
at = "15h"
kind = "oom"
"""


def exports(
    tmp_path: Path, *, oom: bool = False, rate: int = 60, form: str = "pino"
) -> ScenarioFiles:
    tmp_path.mkdir(parents=True, exist_ok=True)
    text = STAGE1.format(rate=rate) + (OOM if oom else "")
    text += f'\n[logs]\nrouter_format = "{form}"\n'
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    scenario = load_scenario("s", directory=tmp_path)
    return write_artifacts(scenario, tmp_path / "exports", until=DAY_END)


def decide(
    criterion: str,
    measure: Callable[[Inputs, str], Any],
    files: ScenarioFiles,
    evidence: Path,
    *,
    stage: int = 1,
    as_of: datetime = DAY_END,
) -> Result:
    """`criterion` decided through its measurement, with a ledger holding the stage's start."""
    store = Store(evidence)
    if not store.read():
        store.append(StageStarted(stage, PROFILE.stage(stage).percent, T0))
    inputs = Inputs(
        PROFILE,
        as_of,
        ledger=lambda: LedgerView.load(evidence, as_of, target="live", scenario=None),
        exports=lambda: Exports(files.router_logs, files.rlm_logs, files.rlm_metrics),
    )
    context = Context(profile=PROFILE, as_of=as_of, target="seeded")
    return gate.decide(criterion, lambda: measure(inputs, criterion), context)


def stability(files: ScenarioFiles, tmp_path: Path) -> Result:
    return decide("stage1.rlm_stability", measure_logs.rlm_stability, files, tmp_path / "evidence")


def stamp(line: str) -> datetime:
    return datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))


def rewrite(path: Path, keep: Callable[[datetime], bool], junk: bool = False) -> None:
    """Keep the lines whose instant `keep` accepts; the others are removed, or replaced by as
    many bytes of binary junk (newlines included, as a disk or a copy would leave them)."""
    rng = random.Random(7)
    out = bytearray()
    for line in path.read_text(encoding="utf-8").splitlines():
        if keep(stamp(line)):
            out += (line + "\n").encode()
        elif junk:
            out += bytes(rng.randrange(256) for _ in range(len(line) + 1))
    path.write_bytes(bytes(out))


# -- finding 1: the RLM log of stage 1 ------------------------------------------------------


def test_whole_exports_decide_the_stability_criterion(tmp_path: Path) -> None:
    """The baseline: continuous exports pass, and the same exports with an OOM fail."""
    assert stability(exports(tmp_path / "healthy"), tmp_path / "healthy").outcome is Outcome.PASS
    failing = stability(exports(tmp_path / "oom", oom=True), tmp_path / "oom")
    assert failing.outcome is Outcome.FAIL
    assert "2 OOM" in failing.reason  # Render's "Ran out of memory" and the runtime's OOMKilled


def test_two_hours_of_binary_junk_hide_an_oom(tmp_path: Path) -> None:
    files = exports(tmp_path, oom=True)
    junk_from, junk_to = OOM_AT - timedelta(hours=1), OOM_AT + timedelta(hours=1)
    rewrite(files.rlm_logs, lambda at: not junk_from <= at < junk_to, junk=True)
    result = stability(files, tmp_path)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "the RLM log has" in result.reason and "gap" in result.reason
    coverage = result.details["coverage"]["rlm_log"]
    assert coverage["unparsed"] > 0
    (gap_from, gap_to, _), *_ = coverage["gaps"]
    assert gap_from <= iso(junk_from) and iso(junk_to) <= gap_to


def test_a_twenty_hour_hole_hides_an_oom(tmp_path: Path) -> None:
    files = exports(tmp_path, oom=True)
    hole_from, hole_to = T0 + timedelta(hours=2), T0 + timedelta(hours=22)
    rewrite(files.rlm_logs, lambda at: not hole_from <= at < hole_to)
    result = stability(files, tmp_path)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "the RLM log has 1 gap" in result.reason
    assert "20.0 h without a line" in result.reason
    # from the last line before the hole to the first after it (health checks at :03)
    ((gap_from, gap_to, why),) = result.details["coverage"]["rlm_log"]["gaps"]
    last_before, first_after = hole_from - timedelta(seconds=57), hole_to + timedelta(seconds=3)
    assert (gap_from, gap_to, why) == (iso(last_before), iso(first_after), "no line")
    assert f"{iso(last_before)}..{iso(first_after)}" in result.reason


def test_an_early_end_with_a_line_after_as_of_hides_an_oom(tmp_path: Path) -> None:
    files = exports(tmp_path, oom=True)
    end = DAY_END - timedelta(hours=13)
    rewrite(files.rlm_logs, lambda at: at < end)
    with open(files.rlm_logs, "a", encoding="utf-8") as handle:
        handle.write(f"{iso(DAY_END + timedelta(hours=1))} INFO GET /health 200\n")
    result = stability(files, tmp_path)
    assert result.outcome is Outcome.INCONCLUSIVE
    gaps = result.details["coverage"]["rlm_log"]["gaps"]
    assert len(gaps) == 1 and gaps[0][1] == iso(DAY_END)  # up to the window's end: the line
    assert gaps[0][0] >= iso(end - timedelta(minutes=5))  # after as_of extends nothing


# -- finding 2: the RLM log of stage 4's seven days ---------------------------------------------


def seven_days(path: Path, v1_calls_on_day: int | None) -> Path:
    """A week of the RLM's log from T0: a health check a minute, a few v1 calls one day."""
    lines = []
    minute = timedelta(minutes=1)
    for n in range(7 * 24 * 60):
        at = T0 + n * minute + timedelta(seconds=3)
        lines.append(f"{iso(at)} INFO GET /health 200")
        if v1_calls_on_day is not None and n // 1440 == v1_calls_on_day and n % 180 == 0:
            lines.append(f"{iso(at)} [DEPRECATED] /process-full called by user u{n}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def v1_week(rlm_log: Path, tmp_path: Path) -> Result:
    files = ScenarioFiles(tmp_path / "router.log", rlm_log, tmp_path / "metrics.csv")
    as_of = T0 + timedelta(days=7)
    return decide(
        "stage4.v1_traffic",
        measure_logs.v1_traffic,
        files,
        tmp_path / "evidence",
        stage=4,
        as_of=as_of,
    )


def test_a_week_kept_only_at_its_ends_does_not_pass_stage4_v1_traffic(tmp_path: Path) -> None:
    quiet = v1_week(seven_days(tmp_path / "quiet.log", None), tmp_path / "quiet")
    assert quiet.outcome is Outcome.PASS
    path = seven_days(tmp_path / "rlm.log", v1_calls_on_day=3)
    assert v1_week(path, tmp_path / "whole").outcome is Outcome.FAIL
    ends = (T0 + timedelta(minutes=10), T0 + timedelta(days=7) - timedelta(minutes=10))
    rewrite(path, lambda at: at < ends[0] or at >= ends[1])
    result = v1_week(path, tmp_path / "ends")
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "zero hits there prove nothing" in result.reason
    assert iso(ends[1] + timedelta(seconds=3)) in result.reason  # the first line kept at the end
    covered = result.details["coverage"]["rlm_log"]["covered"]
    assert covered == [
        [iso(T0), iso(ends[0] - timedelta(minutes=1) + timedelta(seconds=3))],
        [iso(ends[1] + timedelta(seconds=3)), iso(T0 + timedelta(days=7))],
    ]


# -- finding 3: a router log concatenated with itself ------------------------------------------


@pytest.mark.parametrize("form", ["pino", "drain", "vercel-json"])
def test_a_router_log_twice_over_is_not_twice_the_requests(tmp_path: Path, form: str) -> None:
    # ~20 routed requests an hour: fewer than the split test's minimum (from its power at 10%)
    # in a day, more twice over
    files = exports(tmp_path, rate=20, form=form)
    evidence = tmp_path / "evidence"
    once = decide("stage1.routing_split", measure_logs.routing_split, files, evidence)
    routed = once.sample_size
    assert once.outcome is Outcome.INCONCLUSIVE and routed is not None
    assert routed * 2 >= split_minimum(10, PROFILE)[0] > routed
    text = files.router_logs.read_bytes()
    files.router_logs.write_bytes(text + text)
    twice = decide("stage1.routing_split", measure_logs.routing_split, files, evidence)
    assert twice.outcome is Outcome.INCONCLUSIVE
    assert twice.sample_size == routed
    assert f"only {routed:,} routed requests" in twice.reason
    assert twice.details["duplicates"] == routed
