"""The success rate at every checkpoint of a stage (runbook Query 1, >= 95%)."""

from __future__ import annotations

from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.checkpoints import CheckpointReading, SuccessSeries
from cutover.outcome import Result
from cutover.timeutil import iso


def success_rate(s: SuccessSeries, ctx: Context) -> Result:
    profile = ctx.profile
    basis = profile.success_rate_basis
    key = "query1_rate_pct" if basis == "query1" else "settled_rate_pct"
    minimum, floor = profile.min_settled_imports, profile.success_rate_min_pct
    failed, undecided, shown = [], [], []
    for reading in s.readings:
        if reading.counts is None:
            undecided.append(
                f"checkpoint {reading.label} ({iso(reading.due)}) has no record; backfill it: "
                f"pytest -m {ctx.criterion.split('.')[0]}_gate --as-of {iso(reading.due)}"
            )
            continue
        rate, settled = reading.counts.get(key), _settled(reading)
        shown.append(f"{reading.label}: {rate}% of {settled}")
        if rate is None or settled < minimum:
            undecided.append(
                f"checkpoint {reading.label}: {settled} settled imports, below {minimum}"
            )
        elif float(rate) < floor:
            failed.append(f"checkpoint {reading.label}: {rate}% < {floor:g}%")
    current = s.current
    details = {
        "current": {"as_of": iso(s.window.end), **current.as_record()},
        "basis": basis,
        "checkpoints": [
            {
                "label": r.label,
                "due": iso(r.due),
                "as_of": iso(r.as_of),
                "origin": r.origin,
                "reconstructed": r.reconstructed,
            }
            for r in s.readings
        ],
    }
    common = dict(
        measured="; ".join(shown) or "no checkpoint due yet",
        threshold=f">= {floor:g}% ({basis} basis) at every checkpoint, "
        f">= {minimum} settled imports each",
        window=s.window,
        sample_size=current.settled,
        details=details,
        query_sha256=current.query_sha256,
    )
    note = (
        f" (this run: {current.settled_rate_pct}% settled, Query 1 {current.query1_rate_pct}% "
        f"with {current.in_flight} in flight left out)"
    )
    if failed:
        return result(FAIL, "; ".join(failed) + note, **common)
    if undecided or not s.readings:
        first = s.not_yet_due[0] if s.not_yet_due else "none"
        reasons = undecided or [f"no checkpoint due yet (the first is {first})"]
        return result(UNDECIDED, "; ".join(reasons) + note, **common)
    return result(PASS, f"every due checkpoint >= {floor:g}%" + note, **common)


def _settled(reading: CheckpointReading) -> int:
    """Imports whose outcome was known at that checkpoint: complete, failed or stuck."""
    counts = reading.counts or {}
    return sum(int(counts.get(name, 0)) for name in ("complete", "failed", "stuck"))
