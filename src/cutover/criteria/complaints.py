"""Import-failure complaints, attested by people in the ledger over the whole stage window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.stage import Attested, Complaints
from cutover.outcome import Result
from cutover.timeutil import iso


def complaints(c: Complaints, ctx: Context) -> Result:
    window = c.window
    start = window.start or window.end
    grace = timedelta(minutes=ctx.profile.attestation_grace_minutes)
    relevant = [a for a in c.attestations if a[1] > start and a[0] < window.end]
    complained = [a for a in relevant if a[2] > 0]
    common = dict(
        threshold="0 import-failure complaints, attested over the whole stage window",
        window=window,
        sample_size=len(relevant),
    )
    if complained:
        listed = "; ".join(f"{n} by {by} ({iso(s)}..{iso(u)})" for s, u, n, by in complained)
        total = str(sum(a[2] for a in complained))
        return result(FAIL, f"complaints attested: {listed}", measured=total, **common)
    covered_to = attested_until(relevant, start, grace)
    if not relevant or covered_to < window.end - grace:
        return result(
            UNDECIDED,
            f"complaints are attested up to {iso(covered_to)}, not "
            f"{iso(window.end)}: record `cutover attest complaints --count N --by NAME`",
            measured="not attested",
            **common,
        )
    by = ", ".join(sorted({a[3] for a in relevant}))
    return result(PASS, f"0 complaints, attested by {by}", measured="0", **common)


def attested_until(attestations: Iterable[Attested], start: datetime, grace: timedelta) -> datetime:
    """How far from `start` the attestations cover without a hole longer than `grace` (`start`
    itself when none begins in time). `cutover status` asks the same question."""
    covered_to = start
    for since, until, _, _ in sorted(attestations):
        if since > covered_to + grace:
            break
        covered_to = max(covered_to, until)
    return covered_to
