"""`cutover status` shown: text for a terminal, Markdown for a CI job summary, JSON for tools
(`status.schema.json`). Text and Markdown end with the same last line, `next: ...`; every text
is redacted."""

from __future__ import annotations

import json

from cutover.criteria.result import hours
from cutover.evidence.verdict import SEEDED_NOTE
from cutover.redact import redact_text
from cutover.status.model import DONE, DUE, MISSED, CheckpointState, Earliest, Status
from cutover.timeutil import iso

FORMATS = ("text", "markdown", "json")


def render(status: Status, form: str) -> str:
    if form == "json":
        return redact_text(json.dumps(status.to_json(), indent=2, sort_keys=True)) + "\n"
    lines = markdown_lines(status) if form == "markdown" else text_lines(status)
    return redact_text("\n".join([*lines, f"next: {status.next}"])) + "\n"


def _target(status: Status) -> str:
    if status.target == "seeded":
        return f"seeded scenario {status.scenario} ({SEEDED_NOTE})"
    return "live"


def _stage_line(status: Status) -> str:
    stage = status.stage
    rollbacks = f"rollbacks so far: {len(status.rollbacks)}"
    if status.rollbacks:
        at, reason = status.rollbacks[-1]
        rollbacks += f" (last {iso(at)}: {reason})"
    if stage is None:
        return f"{status.headline}; {rollbacks}"
    ran = hours(status.as_of - stage.started)
    return (
        f"stage {stage.stage} at {stage.percent}% since {iso(stage.started)} ({ran}); {rollbacks}"
    )


def _checkpoint(c: CheckpointState) -> str:
    gate = " (the gate)" if c.final else ""
    note = f" [{c.note}]" if c.note else ""
    head = f"{c.label} {iso(c.due)}{gate}{note}:"
    if c.state == DONE:
        measured = "" if c.measured_at is None else f" as of {iso(c.measured_at)}"
        return f"{head} done{measured}, {c.verdict} ({c.summary}), ledger line {c.line}"
    if c.state == DUE:
        return f"{head} due now: {c.command}"
    if c.state == MISSED:
        return f"{head} missed: backfill with {c.command}"
    return f"{head} upcoming at {iso(c.due)}"


def _earliest(e: Earliest) -> list[str]:
    bound = "" if e.known else " at the soonest"
    lines = [f"earliest pass{bound}: {iso(e.at)} (elapsed: {e.elapsed_reason} -> {iso(e.elapsed)})"]
    for need in e.needs:
        if need.more == 0:
            lines.append(f"{need.criterion}: {need.have} {need.unit}, enough ({need.need} needed)")
            continue
        text = f"{need.criterion}: about {need.more} more {need.unit} ({need.have} of {need.need})"
        if need.hours is not None and need.per_hour is not None:
            text += f", at the current rate ({need.per_hour:.1f}/h) about {need.hours:.1f} hours"
        else:
            text += ", no rate known yet"
        lines.append(f"{text}; from {need.source}")
    if e.note:
        lines.append(e.note)
    return lines


def text_lines(status: Status) -> list[str]:
    lines = [f"cutover status as of {iso(status.as_of)} — {_target(status)}", _stage_line(status)]
    if status.stage is not None:
        lines.append("checkpoints:")
        lines += [f"  {_checkpoint(c)}" for c in status.checkpoints]
        if status.gate is not None:
            lines.append(
                f"gate run: {status.gate.verdict} as of {iso(status.gate.as_of)}, ledger line "
                f"{status.gate.line}"
            )
        lines.append("missing for the gate:" if status.missing else "missing for the gate: none")
        for m in status.missing:
            lines.append(f"  {m.kind}: {m.what}" + (f" — {m.command}" if m.command else ""))
        if status.earliest is not None:
            lines += _earliest(status.earliest)
    lines += [f"waived: {w}" for w in status.waivers]
    return lines


def markdown_lines(status: Status) -> list[str]:
    lines = [
        f"### cutover status as of {iso(status.as_of)}",
        "",
        f"{_target(status)}. {_stage_line(status)}.",
        "",
    ]
    if status.stage is not None:
        lines += ["| checkpoint | due | state | verdict / command |", "|---|---|---|---|"]
        for c in status.checkpoints:
            detail = (
                f"{c.verdict}: {c.summary} (ledger line {c.line})" if c.state == DONE else c.command
            )
            label = c.label + (" (gate)" if c.final else "")
            lines.append(f"| {label} | {iso(c.due)} | {c.state} | {_cell(detail)} |")
        lines += ["", "**Missing for the gate**" + ("" if status.missing else ": none"), ""]
        for m in status.missing:
            command = f" — `{m.command}`" if m.command else ""
            lines.append(f"- {m.kind}: {m.what}{command}")
        if status.earliest is not None:
            lines += ["", *(f"- {line}" for line in _earliest(status.earliest))]
        lines.append("")
    lines += [f"- waived: {w}" for w in status.waivers]
    return lines


def _cell(text: str) -> str:
    return f"`{text}`".replace("|", "\\|") if text else ""
