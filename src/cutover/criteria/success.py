"""The success rate at every checkpoint of a stage (runbook Query 1, >= 95%).

Each checkpoint is one look at the stage's stream of imports: its Query 1 rate is the point
estimate, and the confidence sequence covers the stage's settled imports from its start to that
checkpoint (`rates`). A failure at any checkpoint fails the stage. A checkpoint that could not
decide (too few imports, or below but not conclusive) is superseded when the latest checkpoint,
whose stream holds every import the earlier ones saw, meets the threshold.
"""

from __future__ import annotations

from typing import Any

from cutover.criteria.rates import Code, RateDecision, decide_rate
from cutover.criteria.registry import Context
from cutover.criteria.result import FAIL, PASS, UNDECIDED, noting_set_aside, result
from cutover.measure.checkpoints import CheckpointReading, SuccessSeries, stream_record
from cutover.outcome import Result
from cutover.timeutil import iso

_UNDECIDED = (Code.TOO_FEW, Code.NOT_CONCLUSIVE, Code.NO_DATA)


def success_rate(s: SuccessSeries, ctx: Context) -> Result:
    """Ignores the checkpoints set aside, and says so."""
    return noting_set_aside(_success_rate(s, ctx), s.set_aside)


def _success_rate(s: SuccessSeries, ctx: Context) -> Result:
    profile = ctx.profile
    basis, mode = profile.success_rate_basis, profile.decision_mode
    key = "query1_rate_pct" if basis == "query1" else "settled_rate_pct"
    floor = profile.success_rate_min_pct
    looks: list[tuple[CheckpointReading, RateDecision]] = []
    missing, shown = [], []
    for reading in s.readings:
        if reading.counts is None:
            missing.append(
                f"checkpoint {reading.label} ({iso(reading.due)}) has no record; backfill it: "
                f"pytest -m {ctx.criterion.split('.')[0]}_gate --as-of {iso(reading.due)}"
            )
            continue
        decision = _look(reading, key, ctx)
        looks.append((reading, decision))
        shown.append(_shown(reading, key, decision))
    latest_meets = bool(looks) and looks[-1][1].code is Code.MEETS
    failed = [f"checkpoint {r.label}: {d.reason}" for r, d in looks if d.outcome is FAIL]
    undecided = [
        f"checkpoint {r.label}: {d.reason}"
        for i, (r, d) in enumerate(looks)
        if d.code in _UNDECIDED and (i == len(looks) - 1 or not latest_meets)
    ]
    superseded = [
        r.label
        for i, (r, d) in enumerate(looks)
        if d.code in _UNDECIDED and i < len(looks) - 1 and latest_meets
    ]
    current = s.current
    stream = s.stream or current
    details = {
        "current": {
            "as_of": iso(s.window.end),
            **current.as_record(),
            "stream": stream_record(stream),
        },
        "basis": basis,
        "mode": mode,
        "checkpoints": [
            {
                "label": r.label,
                "due": iso(r.due),
                "as_of": iso(r.as_of),
                "origin": r.origin,
                "reconstructed": r.reconstructed,
                **({"decision": d.code.name.lower(), **d.details(_stream_text(r))} if d else {}),
            }
            for r, d in ((r, _decision_of(r, looks)) for r in s.readings)
        ],
    }
    common: dict[str, Any] = dict(
        measured="; ".join(shown) or "no checkpoint due yet",
        threshold=f">= {floor:g}% ({basis} basis) at every checkpoint; {mode} mode "
        f"(catastrophic under {profile.catastrophic_success_min_pct:g}%)",
        window=s.window,
        sample_size=current.settled,
        details=details,
        query_sha256=current.query_sha256,
    )
    note = (
        f" (this run: {current.settled_rate_pct}% settled, Query 1 {current.query1_rate_pct}% "
        f"with {current.in_flight} in flight left out)"
    )
    if superseded:
        note += f"; {', '.join(superseded)} undecided, superseded by the latest checkpoint"
    if failed:
        return result(FAIL, "; ".join(failed) + note, **common)
    if missing or undecided or not looks:
        first = s.not_yet_due[0] if s.not_yet_due else "none"
        reasons = missing + undecided or [f"no checkpoint due yet (the first is {first})"]
        return result(UNDECIDED, "; ".join(reasons) + note, **common)
    return result(PASS, f"every due checkpoint >= {floor:g}%" + note, **common)


def _look(reading: CheckpointReading, key: str, ctx: Context) -> RateDecision:
    counts = reading.counts or {}
    rate = counts.get(key)
    complete, settled = _stream(reading)
    return decide_rate(
        None if rate is None else float(rate),
        _settled(reading),
        complete,
        settled,
        threshold_pct=ctx.profile.success_rate_min_pct,
        catastrophic_pct=ctx.profile.catastrophic_success_min_pct,
        profile=ctx.profile,
    )


def _decision_of(
    reading: CheckpointReading, looks: list[tuple[CheckpointReading, RateDecision]]
) -> RateDecision | None:
    return next((d for r, d in looks if r is reading), None)


def _shown(reading: CheckpointReading, key: str, decision: RateDecision) -> str:
    rate = (reading.counts or {}).get(key)
    text = f"{reading.label}: {rate}% of {_settled(reading)}"
    if decision.sequence is not None:
        cs = decision.sequence
        text += f" (sequence {100 * cs.low:.2f}%..{100 * cs.high:.2f}%)"
    return text


def _settled(reading: CheckpointReading) -> int:
    """Imports whose outcome was known at that checkpoint: complete, failed or stuck."""
    counts = reading.counts or {}
    return sum(int(counts.get(name, 0)) for name in ("complete", "failed", "stuck"))


def _stream(reading: CheckpointReading) -> tuple[int, int]:
    """(complete, settled) of the stage to date at that checkpoint; a record written before the
    stream was recorded gives its Query 1 counts (the same in stage 1)."""
    counts = reading.counts or {}
    stream = counts.get("stream")
    if isinstance(stream, dict):
        return int(stream.get("complete", 0)), int(stream.get("settled", 0))
    return int(counts.get("complete", 0)), _settled(reading)


def _stream_text(reading: CheckpointReading) -> str:
    stream = (reading.counts or {}).get("stream")
    since = stream.get("since") if isinstance(stream, dict) else None
    start = f"since {since}" if since else "in Query 1's window"
    return f"settled v2 imports {start} to {iso(reading.as_of)} (complete of settled)"
