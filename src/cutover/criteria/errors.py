"""Error patterns (runbook Query 4): systemic errors at stage 1, new ones at stage 2."""

from __future__ import annotations

from cutover.criteria.imports import NO_IMPORTS
from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.criteria.signatures import Signature, classify
from cutover.measure.stage import ErrorPatterns, NewErrorPatterns
from cutover.outcome import Result


def signatures_of(e: ErrorPatterns, ctx: Context) -> list[Signature]:
    return classify([(p.text, p.count, p.users) for p in e.patterns], ctx.profile)


def systemic_errors(e: ErrorPatterns, ctx: Context) -> Result:
    signatures = signatures_of(e, ctx)
    systemic = [s for s in signatures if s.kind == "systemic"]
    common = dict(
        measured=f"{len(systemic)} systemic of {len(signatures)} signatures",
        threshold="no systemic error signature (Query 4)",
        window=e.window,
        sample_size=sum(s.count for s in signatures),
        details={"signatures": {s.text: s.kind for s in signatures}},
    )
    if systemic:
        listed = "; ".join(f"{s.text!r} x{s.count} ({s.users} users)" for s in systemic[:5])
        return result(FAIL, f"systemic errors: {listed}", **common)
    if e.started == 0:
        return result(UNDECIDED, NO_IMPORTS, **common)
    return result(PASS, f"no systemic error signature in {e.started} imports", **common)


def new_error_patterns(n: NewErrorPatterns, ctx: Context) -> Result:
    signatures = signatures_of(n.current, ctx)
    current = {s.text: s for s in signatures if s.kind != "user"}
    common = dict(
        threshold="no error signature that stage 1 did not have (user-specific aside)",
        window=n.current.window,
        details={"signatures": {s.text: s.kind for s in signatures}},
    )
    if n.baseline is None:
        return result(
            UNDECIDED,
            "no stage 1 error signatures in the ledger: run the stage 1 "
            "gate at its last checkpoint first",
            **common,
        )
    new = [s for text, s in current.items() if text not in n.baseline]
    measured = f"{len(new)} new of {len(current)}"
    if new:
        listed = "; ".join(f"{s.text!r} x{s.count}" for s in new[:5])
        return result(FAIL, f"new error patterns: {listed}", measured=measured, **common)
    return result(PASS, "no new error pattern", measured=measured, **common)
