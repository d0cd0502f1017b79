"""`cutover status` as a pure function of a ledger view and the profile: the schedule's states,
what the gate lacks, the earliest pass and the exact next step; and its three renderings (the
JSON one against its schema)."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cutover.criteria.stage import STAGE_GATES
from cutover.ledger.records import (
    LIVE,
    Checkpoint,
    ComplaintsAttestation,
    CriterionRecord,
    Entry,
    Rollback,
    SignatureClassification,
    StageStarted,
)
from cutover.ledger.view import LedgerView
from cutover.outcome import Scope
from cutover.profile import Profile
from cutover.status import SCHEMA_PATH, LiveStream, StatusInputs, build_status, render
from cutover.status.model import Status
from cutover.status.render import code_span
from cutover.timeutil import iso

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROFILE = Profile()


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def success(settled: int, hours: float, *, rate: float = 100.0, verdict: str = "pass") -> Any:
    stream = {"since": iso(T0), "settled": settled, "complete": settled, "failed": 0}
    current = {"as_of": iso(h(hours)), "settled_rate_pct": rate, "stream": stream}
    return {"verdict": verdict, "on_fail": "ROLLBACK", "details": {"current": current}}


def run(hours: float, results: dict[str, Any], *, stage: int = 1, whole: bool = False) -> Any:
    """A checkpoint record of `stageN_gate` measured `hours` after T0 (partial unless `whole`)."""
    held = len(STAGE_GATES[stage])
    scope = Scope(held, held, ()) if whole else Scope(held, len(results), ("-k success_rate",))
    items = tuple(CriterionRecord(c, v) for c, v in sorted(results.items()))
    return Checkpoint(f"stage{stage}_gate", h(hours), h(hours), items, LIVE, scope)


def whole_gate(hours: float, stage: int = 1, **not_passing: str) -> Any:
    results: dict[str, Any] = {}
    for name in STAGE_GATES[stage]:
        criterion = f"stage{stage}.{name}"
        verdict = not_passing.get(name, "pass")
        if name == "success_rate":
            results[criterion] = success(900, hours, verdict=verdict)
        else:
            results[criterion] = {"verdict": verdict, "on_fail": "ROLLBACK"}
    return run(hours, results, stage=stage, whole=True)


def status_at(hours: float, *records: Any, explicit: bool = True, **options: Any) -> Status:
    entries = [Entry(i + 1, r.to_json()) for i, r in enumerate(records)]
    view = LedgerView(entries, h(hours))
    return build_status(StatusInputs(view, PROFILE, "live", explicit_as_of=explicit, **options))


STAGE1 = StageStarted(1, 10, T0)


def test_before_the_first_checkpoint_it_waits_for_it() -> None:
    status = status_at(0.5, STAGE1)
    assert [c.state for c in status.checkpoints] == ["upcoming"] * 3
    assert [c.label for c in status.checkpoints] == ["+1h", "+6h", "+24h"]
    assert status.next == "wait until 2026-03-02T10:00:00Z"
    assert status.earliest is not None and status.earliest.at == h(24)
    assert not status.earliest.known  # no rate of imports recorded yet


def test_a_checkpoint_within_its_tolerance_is_due_now() -> None:
    status = status_at(1.5, STAGE1)
    assert status.checkpoints[0].state == "due"
    assert status.next == "pytest -m stage1_gate --as-of 2026-03-02T10:30:00Z"
    # asked for now (no --as-of), the command runs now
    assert status_at(1.5, STAGE1, explicit=False).next == "pytest -m stage1_gate"


def test_a_checkpoint_past_its_tolerance_is_missed_and_names_its_backfill() -> None:
    status = status_at(3, STAGE1)
    first = status.checkpoints[0]
    assert (first.state, first.command) == (
        "missed",
        "pytest -m stage1_gate --as-of 2026-03-02T10:00:00Z",
    )
    assert status.next == first.command


def test_a_due_checkpoint_goes_before_an_earlier_missed_one() -> None:
    status = status_at(6.5, STAGE1)
    assert [c.state for c in status.checkpoints] == ["missed", "due", "upcoming"]
    assert status.next == "pytest -m stage1_gate --as-of 2026-03-02T15:30:00Z"


def test_a_recorded_checkpoint_is_done_with_its_verdict_and_line() -> None:
    status = status_at(3, STAGE1, run(1.1, {"stage1.success_rate": success(26, 1.1)}))
    done = status.checkpoints[0]
    assert (done.state, done.line, done.verdict) == ("done", 2, "HOLD")
    assert done.summary.startswith("partial: 1 of 9 criteria")
    assert status.next == "wait until 2026-03-02T15:00:00Z"


def test_a_record_outside_the_tolerance_or_of_another_stage_does_not_count() -> None:
    late = run(2.5, {"stage1.success_rate": success(26, 2.5)})
    other = run(1.1, {"stage2.success_rate": success(26, 1.1)}, stage=2)
    status = status_at(3, STAGE1, late, other)
    assert status.checkpoints[0].state == "missed"


def test_the_earliest_pass_adds_the_imports_still_needed_at_the_recorded_rate() -> None:
    # 10 settled imports in the first hour: 49 more to the 59 a perfect record needs: ~4.9 h
    status = status_at(1.5, STAGE1, run(1, {"stage1.success_rate": success(10, 1)}))
    assert status.earliest is not None
    need = status.earliest.needs[0]
    assert (need.have, need.need, need.more) == (10, 59, 49)
    assert need.hours == pytest.approx(4.9)
    assert status.earliest.at == h(24) and status.earliest.known
    # at one import every 3 hours the sample, not the clock, is the bound
    slow = status_at(4, STAGE1, run(3, {"stage1.success_rate": success(1, 3)}))
    assert slow.earliest is not None
    assert slow.earliest.at == h(4) + timedelta(hours=58 * 3)
    text = render(slow, "text")
    expected = "about 58 more settled imports (1 of 59), at the current rate (0.3/h) about 174.0"
    assert expected in text


def test_live_counts_replace_the_recorded_ones() -> None:
    live = LiveStream(settled=59, since=T0, until=h(2))
    status = status_at(2, STAGE1, live=live)
    assert status.earliest is not None
    assert [(n.have, n.more, n.source) for n in status.earliest.needs] == [(59, 0, "database")]


def test_a_rate_below_the_threshold_is_no_known_earliest() -> None:
    below = run(1, {"stage1.success_rate": success(100, 1, rate=90.0, verdict="inconclusive")})
    status = status_at(1.5, STAGE1, below)
    assert status.earliest is not None and not status.earliest.known
    assert "below 95%" in status.earliest.note


def test_at_the_gate_a_missing_attestation_comes_first_then_the_gate_run() -> None:
    done = [run(x, {"stage1.success_rate": success(30 * x, x)}) for x in (1, 6)]
    status = status_at(24.5, STAGE1, *done)
    assert [c.state for c in status.checkpoints] == ["done", "done", "due"]
    assert [m.kind for m in status.missing] == ["attestation"]
    assert "complaints not attested over 2026-03-02T09:00:00Z..2026-03-03T09:00:00Z" in (
        status.missing[0].what
    )
    assert status.next == "cutover attest complaints --count N --by NAME --at 2026-03-03T09:30:00Z"
    attested = ComplaintsAttestation(0, "alice", T0, h(24.5))
    status = status_at(24.5, STAGE1, *done, attested)
    assert status.missing == ()
    assert status.next == "pytest -m stage1_gate --as-of 2026-03-03T09:30:00Z"


def test_mid_stage_the_attestation_is_listed_but_not_asked_for() -> None:
    status = status_at(3, STAGE1, run(1, {"stage1.success_rate": success(30, 1)}))
    assert [m.kind for m in status.missing] == ["attestation"]
    assert status.next.startswith("wait until")


def unclassified_record() -> Any:
    """A +1 h run whose systemic-errors criterion lists one unclassified signature, with the
    command template the gates record for it."""
    unclassified = {
        "signature": "KeyError: <str>",
        "count": 4,
        "command": 'cutover classify "KeyError: <str>" --as user|systemic --by NAME',
    }
    errors = {"verdict": "inconclusive", "details": {"unclassified": [unclassified]}}
    return run(1, {"stage1.success_rate": success(30, 1), "stage1.systemic_errors": errors})


def test_an_unclassified_signature_is_classified_before_waiting() -> None:
    record = unclassified_record()
    status = status_at(2, STAGE1, record)
    assert [m.kind for m in status.missing] == ["attestation", "signature"]
    # the gate's recorded template (`--as user|systemic`) is a pipe in a shell: status spells
    # both readings, systemic (counting against the stage) as the next step
    expected = "cutover classify 'KeyError: <str>' --as {} --by NAME --at 2026-03-02T11:00:00Z"
    assert status.next == expected.format("systemic")
    signature = status.missing[1]
    assert (signature.alternative, signature.subject) == (
        expected.format("user"),
        "KeyError: <str>",
    )
    classified = SignatureClassification("KeyError: <str>", "user", "alice", h(1.5))
    after = status_at(2, STAGE1, record, classified)
    assert [m.kind for m in after.missing] == ["attestation"]
    assert after.next == "wait until 2026-03-02T15:00:00Z"


def test_a_gate_that_proceeded_starts_the_next_stage() -> None:
    status = status_at(25, STAGE1, whole_gate(24.2))
    assert status.gate is not None and status.gate.verdict == "PROCEED"
    assert status.next == "cutover stage start 2 --at 2026-03-03T10:00:00Z"


def test_a_gate_that_failed_rolls_back_naming_what_failed() -> None:
    status = status_at(25, STAGE1, whole_gate(24.2, traffic="fail"))
    assert status.next == (
        "cutover rollback --reason 'stage 1 gate (ledger line 2): stage1.traffic (fail)' "
        "--at 2026-03-03T10:00:00Z"
    )


def test_after_a_rollback_it_is_verified_before_the_restart() -> None:
    records = (STAGE1, Rollback("success rate 91%", h(5)))
    status = status_at(6, *records)
    assert status.stage is None and len(status.rollbacks) == 1
    assert status.headline.startswith("rolled back at 2026-03-02T14:00:00Z: success rate 91%")
    assert status.next == "pytest -m rollback_verify --as-of 2026-03-02T15:00:00Z"
    verified = Checkpoint(
        "rollback_verify",
        h(5.5),
        h(5.5),
        (CriterionRecord("rollback_verify.no_v2", {"verdict": "pass"}),),
        LIVE,
        Scope(1, 1, ()),
    )
    restart = status_at(6, *records, verified)
    assert restart.next == "cutover stage start 1 --at 2026-03-02T15:00:00Z"


def test_before_any_stage_the_prerequisites_come_first() -> None:
    assert status_at(-1).next == "pytest -m prereq --as-of 2026-03-02T08:00:00Z"
    prereq = Checkpoint(
        "prereq", h(-2), h(-2), (CriterionRecord("prereq.x", {"verdict": "pass"}),), LIVE
    )
    assert status_at(-1, prereq).next == "cutover stage start 1 --at 2026-03-02T08:00:00Z"


def test_a_seeded_target_names_its_scenario_in_every_command() -> None:
    view = LedgerView([Entry(1, STAGE1.to_json())], h(3))
    inputs = StatusInputs(view, PROFILE, "seeded", "healthy-rollout", explicit_as_of=True)
    status = build_status(inputs)
    assert status.next == (
        "pytest -m stage1_gate --scenario healthy-rollout --as-of 2026-03-02T10:00:00Z"
    )
    assert "--scenario healthy-rollout" in status.missing[0].command


def test_stage_4_waits_for_its_days_at_100_percent_in_all() -> None:
    records = (STAGE1, StageStarted(3, 100, h(72)), StageStarted(4, 100, h(72 + 24 * 5)))
    status = status_at(72 + 24 * 6, *records)
    assert status.earliest is not None
    assert status.earliest.elapsed == h(72 + 24 * 14)  # 14 days since stage 3, not stage 4's 7
    assert status.earliest.known and status.earliest.needs == ()


def test_stage_3_marks_where_its_query_3_slices_end() -> None:
    status = status_at(80, STAGE1, StageStarted(3, 100, h(72)))
    notes = {c.label: c.note for c in status.checkpoints}
    assert notes["+3d"] == notes["+6d"] == "Query 3 slice ends (every 72 h)"
    assert notes["+24h"] == notes["+2d"] == ""


def test_coverage_gaps_and_unset_sources_are_listed() -> None:
    coverage = {"rlm_log": {"gaps": [[iso(h(2)), iso(h(3)), "no line"]], "gap_count": 1}}
    stability = {"verdict": "inconclusive", "details": {"coverage": coverage}}
    record = run(3, {"stage1.success_rate": success(30, 3), "stage1.rlm_stability": stability})
    sources = {"router_logs": "is not set", "rlm_local_url": "is not set"}
    status = status_at(3.5, STAGE1, record, sources=sources)
    kinds = [(m.kind, m.what) for m in status.missing]
    assert ("coverage", next(w for k, w in kinds if k == "coverage")) in kinds
    gap = next(w for k, w in kinds if k == "coverage")
    assert gap.startswith("rlm log has 1 gap(s) in stage1.rlm_stability's window (ledger line 2)")
    # the router log matters to stage 1; the local RLM (stage 4's probe) does not
    assert [w for k, w in kinds if k == "source"] == [
        "CUTOVER_ROUTER_LOGS is not set: stage1.routing_split read it"
    ]


def test_the_text_and_markdown_end_with_the_next_line_and_json_fits_its_schema() -> None:
    status = status_at(3, STAGE1, run(1, {"stage1.success_rate": success(26, 1)}))
    text = render(status, "text")
    assert text.splitlines()[-1] == "next: wait until 2026-03-02T15:00:00Z"
    assert "+1h 2026-03-02T10:00:00Z: done as of 2026-03-02T10:00:00Z, HOLD" in text
    markdown = render(status, "markdown")
    assert markdown.splitlines()[-1] == "next: wait until 2026-03-02T15:00:00Z"
    assert "| +24h (gate) | 2026-03-03T09:00:00Z | upcoming |  |" in markdown
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for each in (status, status_at(-1), status_at(25, STAGE1, whole_gate(24.2))):
        document = json.loads(render(each, "json"))
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
        assert document["next"] == each.next
    broken = dataclasses.replace(status, next="")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(render(broken, "json")), schema)


def test_an_interim_checkpoint_that_failed_rolls_back_at_once() -> None:
    failed = run(1, {"stage1.success_rate": success(40, 1, rate=70.0, verdict="fail")})
    status = status_at(3, STAGE1, failed)
    assert status.checkpoints[0].verdict == "ROLLBACK"
    assert status.next == (
        "cutover rollback --reason 'stage 1 checkpoint +1h (ledger line 2): "
        "stage1.success_rate (fail)' "
        "--at 2026-03-02T12:00:00Z"
    )


def test_after_stage_4_proceeds_v1_removal_is_checked() -> None:
    records = (STAGE1, StageStarted(3, 100, h(72)), StageStarted(4, 100, h(240)))
    gate = whole_gate(72 + 24 * 14, stage=4)
    status = status_at(72 + 24 * 14 + 1, *records, gate)
    assert status.gate is not None and status.gate.verdict == "PROCEED"
    assert status.next == "pytest -m v1_removal --as-of 2026-03-19T10:00:00Z"


def test_once_v1s_removal_is_verified_the_cutover_is_done() -> None:
    records = (STAGE1, StageStarted(3, 100, h(72)), StageStarted(4, 100, h(240)))
    after = 72 + 24 * 14
    gate = whole_gate(after, stage=4)

    def removal(hours: float, verdict: str) -> Any:
        items = (
            CriterionRecord("v1_removal.endpoint_gone", {"verdict": verdict, "on_fail": "HOLD"}),
        )
        return Checkpoint("v1_removal", h(hours), h(hours), items, LIVE, Scope(1, 1, ()))

    held = status_at(after + 3, *records, gate, removal(after + 2, "fail"))
    assert held.next == "pytest -m v1_removal --as-of 2026-03-19T12:00:00Z"
    done = status_at(
        after + 5, *records, gate, removal(after + 2, "fail"), removal(after + 4, "pass")
    )
    assert done.next == (
        "done: the cutover is complete (stage 4 gate, ledger line 4; v1's removal verified, "
        "ledger line 6)"
    )
    document = json.loads(render(done, "json"))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert render(done, "text").splitlines()[-1] == f"next: {done.next}"
    before_the_gate = status_at(after + 5, *records, removal(after + 4, "pass"))
    assert not before_the_gate.next.startswith("done")  # v1 gone, but stage 4 has not passed


def test_a_log_the_gate_fetches_from_a_platform_is_not_missing(tmp_path: Path) -> None:
    """Render configured and no RLM log file: the gate fetches the log and the metrics, so
    status does not ask for them; the router log (no drain, no `vercel` here) still is."""
    from cutover.cli.status import source_problems
    from cutover.config import resolve_settings

    env = {
        "CUTOVER_DATABASE_URL": "postgresql://reader@127.0.0.1:1/x",
        "RENDER_API_KEY": "rnd_key",
        "CUTOVER_RENDER_SERVICE": "srv-1",
        "CUTOVER_RENDER_OWNER": "tea-1",
        "PATH": str(tmp_path),
    }
    problems = source_problems(resolve_settings({}, env=env, config_file=None))
    assert "rlm_logs" not in problems and "rlm_metrics" not in problems
    assert problems["router_logs"] == "is not set"
    bare = source_problems(
        resolve_settings(
            {}, env={"CUTOVER_DATABASE_URL": "postgresql://reader@127.0.0.1:1/x"}, config_file=None
        )
    )
    assert bare["rlm_logs"] == "is not set"


def test_a_checkpoint_set_aside_is_not_done_and_a_waiver_in_force_is_shown() -> None:
    """`cutover invalidate` takes the +1 h record out of the schedule (it is missed again, with
    its backfill); `cutover waive` shows as in force until it expires."""
    from cutover.ledger.records import Invalidation, Waiver

    first = run(1.1, {"stage1.success_rate": success(26, 1.1)})
    aside = Invalidation(2, "measured against the staging database", "bob", h(2))
    waiver = Waiver("stage1.duration", "known slow parser", "alice", h(2), until=h(5))
    status = status_at(3, STAGE1, first, aside, waiver)
    assert status.checkpoints[0].state == "missed"
    assert status.next.startswith("pytest -m stage1_gate --as-of ")
    assert status.waivers == (
        "stage1.duration by alice until 2026-03-02T14:00:00Z (line 4): known slow parser",
    )
    assert "waived: stage1.duration by alice" in render(status, "text")
    assert status_at(5.5, STAGE1, first, aside, waiver).waivers == ()
    assert status_at(3, STAGE1, first).checkpoints[0].state == "done"


def test_the_classify_step_runs_as_printed_in_a_shell() -> None:
    """LOW. The next step for an unclassified signature is the recorded template
    `cutover classify "…" --as user|systemic --by NAME --at T`. Pasted into a shell the `|` is a
    pipe: `cutover classify … --as user` fails (no --by) and a command `systemic` is run with
    `--by NAME --scenario … --at T` — the issue asks for "one command to run"."""
    step = _unclassified_status().next
    assert step.startswith("cutover classify")
    words = shlex.split(step, posix=True)
    assert "|" not in step.replace('"KeyError: <str>"', ""), step
    assert "user|systemic" not in words


def test_a_partial_run_is_the_checkpoint_when_it_recorded_what_later_runs_read() -> None:
    """Decision (review 16s #8). Runbook 1.3 asks for Queries 1, 6 and 3 at +1 h and +6 h; of
    those the gate's later runs read only Query 1's reading from the ledger (`user_profiles`
    keeps no history); traffic and durations are measured over the whole stage window at the
    gate, and stuck imports by the rollback triggers. So a checkpoint is done when its run
    recorded that reading, shown as partial; a partial run that did not record it is no
    checkpoint, and the gate run is still due."""
    partial = run(1.1, {"stage1.success_rate": success(26, 1.1)})  # Scope: "-k success_rate"
    status = status_at(1.5, STAGE1, partial)
    first = status.checkpoints[0]
    assert (first.state, first.verdict) == ("done", "HOLD")
    assert first.summary.startswith("partial: 1 of 9 criteria (-k success_rate)")
    assert status.next == "wait until 2026-03-02T15:00:00Z"
    traffic = run(1.1, {"stage1.traffic": {"verdict": "pass", "on_fail": "ROLLBACK"}})
    status = status_at(1.5, STAGE1, traffic)
    assert status.checkpoints[0].state == "due"
    assert status.next == "pytest -m stage1_gate --as-of 2026-03-02T10:30:00Z"


def _unclassified_status() -> Status:
    return status_at(2, STAGE1, unclassified_record())


def test_markdown_keeps_a_signature_text_that_looks_like_html() -> None:
    """LOW. In `--format markdown` (a CI job summary) the signature `KeyError: <str>` is written
    raw in the "missing" list item and in the last `next:` line (outside a code span); GitHub
    drops `<str>` as an unknown HTML tag, so the summary shows `KeyError: ` and a next command
    that is not the one to run. Every such text needs a code span or escaping."""
    markdown = render(_unclassified_status(), "markdown")
    outside_code = [re.sub(r"`[^`]*`", "", line) for line in markdown.splitlines()]
    raw = [line for line in outside_code if "<str>" in line]
    assert raw == [], raw
    assert markdown.splitlines()[-1] == (
        "next: `cutover classify 'KeyError: <str>' --as systemic --by NAME "
        "--at 2026-03-02T11:00:00Z`"
    )
    assert code_span("a `b` c") == "``a `b` c``" and code_span("`x") == "`` `x ``"


def test_the_earliest_pass_is_never_an_instant_already_past() -> None:
    """LOW. Six hours after stage 1's +24 h, with no gate run yet, `earliest pass` prints the
    elapsed bound (+24 h), a time already past: the gate cannot pass before it is run, so the
    earliest instant is the status's own instant (or later)."""
    done = [run(x, {"stage1.success_rate": success(30 * x, x)}) for x in (1, 6)]
    status = status_at(30, STAGE1, *done)
    assert status.earliest is not None
    assert status.earliest.at >= h(30), status.earliest.at
    assert "earliest pass: now, 2026-03-03T15:00:00Z (the gate is due)" in render(status, "text")
