"""`cutover status`: where the rollout stands, read from the ledger and the profile (no database
needed): the stage, its checkpoints (done, due, missed, upcoming), what the gate lacks, the
earliest instant it can pass, and the one next step.

- `model`: the status as data (`Status.to_json`: the form `status.schema.json` documents);
- `schedule`: the stage's checkpoints and its gate run, from the ledger's checkpoint records;
- `gaps`: what the gate lacks (attestations, signatures, coverage, sources) and the minimum
  samples still to come;
- `summary`: `build_status`, a pure function of the ledger view, the profile and the settings'
  facts, and the next step;
- `commands`: how the suggested commands are spelled; `render`: text, Markdown, JSON.
"""

from __future__ import annotations

from pathlib import Path

from cutover.status.gaps import LiveStream
from cutover.status.model import Status
from cutover.status.render import FORMATS, render
from cutover.status.summary import StatusInputs, build_status

#: the JSON Schema of `cutover status --format json`
SCHEMA_PATH = Path(__file__).with_name("status.schema.json")

__all__ = [
    "FORMATS",
    "SCHEMA_PATH",
    "LiveStream",
    "Status",
    "StatusInputs",
    "build_status",
    "render",
]
