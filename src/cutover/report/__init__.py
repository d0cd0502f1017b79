"""Reports a reviewer can read: `report.md` (CI job summary, PR comment) and `report.html`.

Both are built from what the evidence directory holds (JUnit files and the ledger); nothing is
measured again. See `cutover.report.load` for how the verdict is reconstructed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cutover.profile import Profile
from cutover.report.html import render_html
from cutover.report.load import load_evidence
from cutover.report.markdown import render_markdown
from cutover.report.model import Evidence

__all__ = ["ReportFiles", "load_evidence", "render_html", "render_markdown", "write_report"]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    markdown: Path
    html: Path
    evidence: Evidence


def write_report(
    evidence_dir: Path, out_dir: Path | None = None, *, profile: Profile | None = None
) -> ReportFiles:
    """Write report.md and report.html (into the evidence directory unless told otherwise)."""
    evidence = load_evidence(evidence_dir, profile)
    out = out_dir or evidence_dir
    out.mkdir(parents=True, exist_ok=True)
    markdown = _write(out / "report.md", render_markdown(evidence))
    html = _write(out / "report.html", render_html(evidence))
    return ReportFiles(markdown, html, evidence)


def _write(path: Path, text: str) -> Path:
    # whole or nothing: a reader (a CI step, a browser) never sees half a report
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path
