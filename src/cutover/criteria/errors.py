"""Error patterns (runbook Query 4): systemic errors at stage 1, new ones at stage 2.

A signature is user-side, systemic (by a pattern, its rate, a burst, or a person's
classification) or unclassified (`signatures`). A systemic one fails; an unclassified one holds
(inconclusive, never a rollback) and names the command that classifies it."""

from __future__ import annotations

from typing import Any

from cutover.criteria.imports import NO_IMPORTS
from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, noting_set_aside, result
from cutover.criteria.signatures import Evidence, Signature, classify
from cutover.measure.stage import ErrorPatterns, NewErrorPatterns
from cutover.outcome import Result
from cutover.timeutil import iso

_LISTED = 5


def signatures_of(e: ErrorPatterns, ctx: Context) -> list[Signature]:
    evidence = Evidence(
        started=e.started,
        started_by_hour={h.hour: h.started for h in e.started_by_hour},
        hours=[(h.text, h.hour, h.count) for h in e.hours],
        classified=e.classified,
    )
    rows = [(p.text, p.count, p.users, p.first_seen, p.last_seen) for p in e.patterns]
    return classify(rows, ctx.profile, evidence)


def _details(signatures: list[Signature]) -> dict[str, Any]:
    """Every signature's kind (stage 2 reads these as stage 1's), the rule that decided it, and
    the unclassified ones with what a person needs to classify them."""
    return {
        "signatures": {s.text: s.kind for s in signatures},
        "rules": {s.text: s.rule for s in signatures},
        "unclassified": [
            {**s.as_record(), "command": s.command} for s in signatures if s.kind == "unclassified"
        ],
    }


def _listed(signatures: list[Signature]) -> str:
    shown = "; ".join(
        f"{s.text!r} x{s.count} ({s.users} users, {_seen(s)}): {s.rule}"
        for s in signatures[:_LISTED]
    )
    more = len(signatures) - _LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


def _seen(s: Signature) -> str:
    if s.first_seen is None:
        return "times unknown"
    return f"first {iso(s.first_seen)}, last {iso(s.last_seen)}"


def _to_classify(signatures: list[Signature]) -> str:
    commands = "; ".join(s.command for s in signatures[:_LISTED])
    return (
        f"unclassified error signatures: {_listed(signatures)}. Classify each once it is "
        f"understood: {commands}"
    )


def systemic_errors(e: ErrorPatterns, ctx: Context) -> Result:
    signatures = signatures_of(e, ctx)
    systemic = [s for s in signatures if s.kind == "systemic"]
    unclassified = [s for s in signatures if s.kind == "unclassified"]
    common = dict(
        measured=f"{len(systemic)} systemic, {len(unclassified)} unclassified of "
        f"{len(signatures)} signatures",
        threshold="no systemic error signature (Query 4); none left unclassified",
        window=e.window,
        sample_size=sum(s.count for s in signatures),
        details=_details(signatures),
    )
    if systemic:
        return result(FAIL, f"systemic errors: {_listed(systemic)}", **common)
    if unclassified:
        return result(UNDECIDED, _to_classify(unclassified), **common)
    if e.more_texts_than is not None:
        return result(UNDECIDED, _cut(e.more_texts_than), **common)
    if e.started == 0:
        return result(UNDECIDED, NO_IMPORTS, **common)
    return result(PASS, f"no systemic error signature in {e.started} imports", **common)


def new_error_patterns(n: NewErrorPatterns, ctx: Context) -> Result:
    """Ignores the checkpoints set aside, and says so."""
    return noting_set_aside(_new_error_patterns(n, ctx), n.set_aside)


def _new_error_patterns(n: NewErrorPatterns, ctx: Context) -> Result:
    signatures = signatures_of(n.current, ctx)
    current = {s.text: s for s in signatures if s.kind != "user"}
    common = dict(
        threshold="no error signature that stage 1 did not have (user-specific aside); "
        "a new unclassified one holds until it is classified",
        window=n.current.window,
        details=_details(signatures),
    )
    if n.baseline is None:
        return result(
            UNDECIDED,
            "no stage 1 error signatures in the ledger: run the stage 1 "
            "gate at its last checkpoint first",
            **common,
        )
    new = [s for text, s in current.items() if text not in n.baseline]
    systemic = [s for s in new if s.kind == "systemic"]
    unclassified = [s for s in new if s.kind == "unclassified"]
    measured = f"{len(new)} new of {len(current)} ({len(unclassified)} unclassified)"
    if systemic:
        return result(FAIL, f"new error patterns: {_listed(systemic)}", measured=measured, **common)
    if unclassified:
        return result(UNDECIDED, "new " + _to_classify(unclassified), measured=measured, **common)
    if n.current.more_texts_than is not None:
        return result(UNDECIDED, _cut(n.current.more_texts_than), measured=measured, **common)
    return result(PASS, "no new error pattern", measured=measured, **common)


def _cut(most: int) -> str:
    return (
        f"more than {most} distinct error texts in the window: the rest were not read, so a "
        "systemic one may be among them (raise [profile] error_texts_max_rows)"
    )
