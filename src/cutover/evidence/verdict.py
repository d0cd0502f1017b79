"""The run's verdict: the worst action asked for, and the line the run ends with.

A waived criterion (`cutover waive`) and an advisory one (the profile's `advisory`) never change
the action; both are named: the waivers after the action (`PROCEED (1 waived: stage1.duration
by alice until …)`), each with the criteria that did not pass (`stage1.duration (waived)`,
`stage1.duration (fail, advisory)`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cutover.evidence.properties import RecordedResult
from cutover.outcome import Action, Outcome

# Exit codes beyond pytest's own (0-5): no criterion failed, but some could not be decided.
EXIT_INCONCLUSIVE = 6
SEEDED_NOTE = "seeded data: not production evidence"


@dataclass(frozen=True, slots=True)
class RunVerdict:
    action: Action
    selection: str
    not_passed: tuple[str, ...]
    seeded: bool
    next_step: str = ""
    waived: tuple[str, ...] = ()  # `stage1.duration by alice until <ISO>`, one per waiver

    def line(self) -> str:
        failed = ", ".join(self.not_passed) if self.not_passed else "none"
        action = self.action.name
        if self.waived:
            action += f" ({len(self.waived)} waived: {'; '.join(self.waived)})"
        text = f"cutover verdict: {action} — {self.selection} — {failed}"
        if self.next_step:
            text += f" — {self.next_step}"
        if self.seeded:
            text += f" ({SEEDED_NOTE})"
        return text


def run_verdict(
    results: Sequence[RecordedResult],
    *,
    selection: str,
    seeded: bool,
    errors: Sequence[str] = (),
    partial: Sequence[str] = (),
) -> RunVerdict:
    """PROCEED only when every criterion passed, nothing errored and the run was not `partial`
    (each entry says how, e.g. "partial: 1 of 9 criteria"); else the worst action."""
    action = max((r.action for r in results), default=Action.HOLD)
    # sorted: under xdist results arrive in completion order; the line must not depend on it
    ordered = sorted(results, key=lambda r: r.criterion)
    not_passed = list(partial)
    not_passed += [r.label for r in ordered if r.outcome is not Outcome.PASS]
    waived = tuple(w.summary(r.criterion) for r in ordered if (w := r.waived) is not None)
    not_passed += [f"{name} (error)" for name in sorted(errors)]
    if errors or partial:
        action = max(action, Action.HOLD)
    if not results and not errors:
        not_passed.append("no criterion was decided")
    step = _next_step(action, results, selection, partial=bool(partial))
    return RunVerdict(action, selection, tuple(not_passed), seeded, step, waived)


def _next_step(
    action: Action, results: Sequence[RecordedResult], selection: str, *, partial: bool
) -> str:
    gating = [r for r in results if not r.advisory]
    failed = {r.criterion for r in gating if r.outcome is Outcome.FAIL}
    undecided = [r.criterion for r in gating if r.outcome is Outcome.INCONCLUSIVE]
    if action is Action.ROLLBACK:
        step = "run the Emergency Rollback now, then restart from stage 1 without skipping stages"
        if "rollback.data_corruption" in failed:
            step += "; open an incident (data corruption)"
        return step
    if undecided and not failed and any(c.startswith("rollback.") for c in undecided):
        return "hold: the rollback monitoring is blind until every trigger can be measured"
    if action is Action.HOLD and partial and not failed:
        return "hold: a partial run decides no gate; run the whole selection"
    if action is Action.HOLD and undecided and not failed:
        return "hold: the evidence is incomplete"
    if action is Action.HOLD:
        return "hold and investigate"
    if "rollback_verify" in selection:
        return "the rollback took: fix the root cause, then restart from stage 1 without skipping"
    return ""


def exit_status(
    results: Sequence[RecordedResult], errors: Sequence[str], current: int, *, partial: bool = False
) -> int:
    """Fail closed: inconclusive (or a partial run) makes the exit non-zero though pytest counts
    skips as success; a failed or errored criterion, or any other error, is 1. An advisory
    criterion changes nothing; a waived one counts as decided."""
    if current != 0:
        return current
    gating = [r for r in results if not r.advisory]
    if errors or any(r.outcome in (Outcome.FAIL, Outcome.ERROR) for r in gating):
        return 1
    if partial or not results or any(r.outcome is Outcome.INCONCLUSIVE for r in gating):
        return EXIT_INCONCLUSIVE
    return 0


def conclude(
    results: Sequence[RecordedResult],
    *,
    selection: str,
    seeded: bool,
    errors: Sequence[str],
    partial: Sequence[str],
    pytest_status: int,
) -> tuple[RunVerdict, int]:
    """The run's verdict and exit status, decided together so that they agree: PROCEED exactly
    when the status is 0. A non-zero status pytest chose itself (interrupted, an internal error)
    is kept, and the verdict then names it instead of proceeding."""
    status = exit_status(results, errors, pytest_status, partial=bool(partial))
    verdict = run_verdict(
        results, selection=selection, seeded=seeded, errors=errors, partial=partial
    )
    if status != 0 and verdict.action is Action.PROCEED:
        verdict = run_verdict(
            results,
            selection=selection,
            seeded=seeded,
            errors=[*errors, f"pytest exit status {status}"],
            partial=partial,
        )
    return verdict, status
