"""What people decided about a criterion beyond measuring it: a waiver in the ledger (`cutover
waive`) and the profile's `advisory` list. The runner applies both to every result it decides.

- A waiver covers a measured failure (`fail`) only: the criterion is then `waived`, a fourth
  state that never reads as a pass and does not stop the run. An `inconclusive` or `error`
  result stays what it is (fail closed: a waiver accepts a known deviation; it cannot stand in
  for evidence nobody could read), and its reason says the waiver was not applied.
- A waiver is in force from its `at` until its `until` (the instant measured must lie before
  it); one scoped to a checkpoint record applies only to runs re-deciding that checkpoint (a run
  measuring the very instant it measured, `--as-of` its `as_of`), whenever it was made. The
  latest waiver in force wins.
- A rollback trigger (`rollback.*`, `rollback.data_corruption` among them) is waived only with
  `--force`, and a waiver without it is never applied.
- An advisory criterion reports its verdict and never changes the run's action.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

import cutover.criteria  # noqa: F401  (registers the criteria)
from cutover.criteria.registry import CRITERIA
from cutover.ledger.records import Waiver
from cutover.outcome import Outcome, Result, Waived
from cutover.profile import Profile
from cutover.timeutil import iso

TRIGGERS = "rollback."

#: (line, waiver, the as_of of the checkpoint it is scoped to) as `LedgerView.waivers` gives them
WaiverOnRecord = tuple[int, Waiver, datetime | None]


def known_criteria() -> frozenset[str]:
    """Every registered criterion id (what `advisory` and `cutover waive` may name)."""
    return frozenset(CRITERIA)


def is_trigger(criterion: str) -> bool:
    return criterion.startswith(TRIGGERS)


def waiver_problem(criterion: str, *, force: bool) -> str:
    """Why `cutover waive` refuses to waive `criterion` ("" when it may)."""
    if criterion not in CRITERIA:
        return f"no criterion {criterion!r}; known: {', '.join(sorted(CRITERIA))}"
    if is_trigger(criterion) and not force:
        return (
            f"{criterion} is a rollback trigger: a waiver of it is refused unless --force is "
            "given (the waiver is then marked forced everywhere it shows)"
        )
    return ""


def in_force(waivers: Sequence[WaiverOnRecord], as_of: datetime) -> tuple[int, Waiver] | None:
    """The latest waiver in force at the instant measured (see the module's docstring)."""
    found: list[tuple[datetime, int, Waiver]] = []
    for line, waiver, scoped_as_of in waivers:
        if waiver.until is not None and as_of >= waiver.until:
            continue  # expired
        if waiver.checkpoint is None and waiver.at > as_of:
            continue  # not made yet at the instant measured
        if waiver.checkpoint is not None and scoped_as_of != as_of:
            continue  # scoped to another checkpoint
        if is_trigger(waiver.criterion) and not waiver.forced:
            continue
        found.append((waiver.at, line, waiver))
    if not found:
        return None
    _, line, waiver = max(found, key=lambda f: (f[0], f[1]))
    return line, waiver


def apply_waiver(result: Result, waivers: Sequence[WaiverOnRecord], as_of: datetime) -> Result:
    """`result` waived by the waiver in force, when it failed; otherwise as decided (a waiver in
    force over an undecided or errored result is named in its reason, not applied)."""
    found = in_force(waivers, as_of)
    if found is None or result.outcome is Outcome.PASS:
        return result
    line, waiver = found
    until = f" until {iso(waiver.until)}" if waiver.until is not None else ""
    forced = " (forced)" if waiver.forced else ""
    said = f"waived by {waiver.by}{until}{forced}, ledger line {line}: {waiver.reason}"
    if result.outcome is not Outcome.FAIL:
        return dataclasses.replace(
            result,
            reason=f"{result.reason}; not {said} (a waiver covers a measured failure only)",
        )
    waived = Waived(
        waiver.by,
        waiver.reason,
        line,
        result.outcome,
        waiver.until,
        waiver.checkpoint,
        waiver.forced,
    )
    return dataclasses.replace(
        result, outcome=Outcome.WAIVED, reason=f"{result.reason} — {said}", waived=waived
    )


def apply_advisory(result: Result, profile: Profile) -> Result:
    """Marked advisory when the profile names it."""
    if result.criterion not in profile.advisory:
        return result
    return dataclasses.replace(result, advisory=True)
