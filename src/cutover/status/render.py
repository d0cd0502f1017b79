"""`cutover status` shown: text for a terminal, Markdown for a CI job summary, JSON for tools
(`status.schema.json`). Text and Markdown end with the same last line, `next: ...`; every text
is redacted."""

from __future__ import annotations

import json
import re
from datetime import datetime

from cutover.criteria.result import hours
from cutover.evidence.verdict import SEEDED_NOTE
from cutover.redact import redact_text
from cutover.status.model import DONE, DUE, MISSED, CheckpointState, Earliest, Missing, Status
from cutover.timeutil import iso

FORMATS = ("text", "markdown", "json")


def render(status: Status, form: str) -> str:
    if form == "json":
        return redact_text(json.dumps(status.to_json(), indent=2, sort_keys=True)) + "\n"
    if form == "markdown":
        lines, step = markdown_lines(status), _markdown_step(status.next)
    else:
        lines, step = text_lines(status), status.next
    return redact_text("\n".join([*lines, f"next: {step}"])) + "\n"


def code_span(text: str) -> str:
    """A Markdown code span that shows `text` as it is (a fence longer than any run of
    backticks in it): GitHub drops `<str>` outside one as an unknown HTML tag."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    fence = "`" * (longest + 1)
    return f"{fence}{pad}{text}{pad}{fence}"


def _prose(text: str) -> str:
    """Free text (a reason, a note) in Markdown: HTML-like parts shown, not read as tags."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _markdown_step(step: str) -> str:
    """The next step in Markdown: a command in a code span; `wait until <instant>` as it is."""
    return step if step.startswith("wait until ") else code_span(step)


def _markdown_what(m: Missing) -> str:
    """What is missing, with the literal text it quotes (a signature) in a code span."""
    quoted = repr(m.subject)
    if not m.subject or quoted not in m.what:
        return _prose(m.what)
    before, after = m.what.split(quoted, 1)
    return f"{_prose(before)}{code_span(m.subject)}{_prose(after)}"


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


def _earliest(e: Earliest, as_of: datetime) -> list[str]:
    bound = "" if e.known else " at the soonest"
    when = iso(e.at) if e.at > as_of else f"now, {iso(e.at)} (the gate is due)"
    lines = [f"earliest pass{bound}: {when} (elapsed: {e.elapsed_reason} -> {iso(e.elapsed)})"]
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
            command = f" — {m.command}" if m.command else ""
            alternative = f" (or: {m.alternative})" if m.alternative else ""
            lines.append(f"  {m.kind}: {m.what}{command}{alternative}")
        if status.earliest is not None:
            lines += _earliest(status.earliest, status.as_of)
    lines += [f"waived: {w}" for w in status.waivers]
    return lines


def markdown_lines(status: Status) -> list[str]:
    lines = [
        f"### cutover status as of {iso(status.as_of)}",
        "",
        f"{_prose(_target(status))}. {_prose(_stage_line(status))}.",
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
            command = f" — {code_span(m.command)}" if m.command else ""
            alternative = f" (or: {code_span(m.alternative)})" if m.alternative else ""
            lines.append(f"- {m.kind}: {_markdown_what(m)}{command}{alternative}")
        if status.earliest is not None:
            earliest = _earliest(status.earliest, status.as_of)
            lines += ["", *(f"- {_prose(line)}" for line in earliest)]
        lines.append("")
    lines += [f"- waived: {_prose(w)}" for w in status.waivers]
    return lines


def _cell(text: str) -> str:
    return code_span(text).replace("|", "\\|") if text else ""
