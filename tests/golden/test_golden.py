"""Golden runs: every seeded scenario through every gate marker, compared with a snapshot.

Each case runs the real suite (a pytest process, as a user does) at the instants its scenario
was built for, and compares what the evidence says with `snapshots/<case>.json`: every
criterion's JUnit properties, the ledger's records, the exit status and the verdict line. Wall
times and temporary paths are normalised; nothing else is.

A change that means to alter a verdict, a measured value or a property updates the snapshots
on purpose, and the diff is reviewed like code:

    CUTOVER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/golden -n 2
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from suite_runner import at_hour, run_suite

SNAPSHOTS = Path(__file__).parent / "snapshots"
EVERY_GATE = " or ".join(
    (
        "prereq",
        "stage1_gate",
        "stage2_gate",
        "stage3_gate",
        "stage4_gate",
        "v1_removal",
        "rollback",
        "rollback_verify",
    )
)
GATE_PATHS = ("tests/prereqs", "tests/gates", "tests/rollback")
# Every step: (hours after stage 1 started, -k expression or None). Steps of a case share one
# evidence directory, so later runs read what earlier ones recorded, as in a rollout.
Step = tuple[float, str | None]
PREREQ_SCENARIOS = (
    "missing-migration",
    "no-deprecation-headers",
    "no-read-grant",
    "rlm-processors-false",
    "rlm-unavailable",
    "rollout-not-zero",
    "rollout-sensitive",
    "rollout-unset",
    "wrong-sunset",
)
STAGE1_SCENARIOS = (
    "stage1-api-key-errors",
    "stage1-low-success",
    "stage1-low-volume",
    "stage1-memory-leak",
    "stage1-no-attestation",
    "stage1-no-traffic",
    "stage1-oom",
    "stage1-routing-skew",
    "stage1-slow-imports",
    "stage1-stuck-imports",
)
ROLLBACK_SCENARIOS = (
    "rollback-complaints",
    "rollback-corruption",
    "rollback-failures",
    "rollback-oom",
    "rollback-slow-persistent",
    "rollback-slow-recent",
    "rollback-stuck-burst",
    "rollback-stuck-users",
)
CASES: dict[str, tuple[str, tuple[Step, ...]]] = {
    "healthy-rollout": (
        "healthy-rollout",
        (
            (-1, None),
            (1, "success_rate"),
            (6, "success_rate"),
            (24, None),
            (72, None),
            (240, None),
            (408, None),
            (600, None),
        ),
    ),
    **{name: (name, ((-1, None),)) for name in PREREQ_SCENARIOS},
    **{name: (name, ((24, None),)) for name in STAGE1_SCENARIOS},
    **{name: (name, ((20, None),)) for name in ROLLBACK_SCENARIOS},
    "rollback-in-flight": ("rollback-in-flight", ((10 + 20 / 60, None), (10 + 35 / 60, None))),
    "stage2-degraded": ("stage2-degraded", ((24, "stage1"), (72, None))),
    "stage2-deploy-not-taken": ("stage2-deploy-not-taken", ((24, "stage1"), (72, None))),
    "stage2-new-error": ("stage2-new-error", ((24, "stage1"), (72, None))),
    "stage3-degraded": ("stage3-degraded", ((240, None),)),
    "stage3-rollback": ("stage3-rollback", ((240, None),)),
    "stage3-v1-traffic": ("stage3-v1-traffic", ((240, None), (408, None))),
    "v1-removed": ("v1-removed", ((600, None),)),
}

_TEMP = re.compile(r"/(?:tmp|var/folders)/[^\s;,'\"]*?/(?=[\w.-]+(?:[\s;,'\"]|$))")
_LOOPBACK_PORT = re.compile(r"(?<=//127\.0\.0\.1:)\d+")  # the simulator's free port


def _normal(value: Any, evidence: Path) -> Any:
    """Temporary paths folded to `<tmp>/`, loopback ports to `<port>`; the rest as written."""
    if isinstance(value, str):
        value = _LOOPBACK_PORT.sub("<port>", value.replace(str(evidence), "<evidence>"))
        return _TEMP.sub("<tmp>/", value)
    if isinstance(value, dict):
        return {k: _normal(v, evidence) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v, evidence) for v in value]
    return value


def _ledger(evidence: Path) -> list[dict[str, Any]]:
    path = evidence / "ledger.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record.pop("prev", None)  # chains the wall-clock times below
        if record.get("type") == "checkpoint":
            record["at"] = "<wall clock>"
        records.append(_normal(record, evidence))
    return records


def _run_case(tmp_path: Path, scenario: str, steps: tuple[Step, ...]) -> dict[str, Any]:
    runs = []
    evidence = tmp_path / "evidence"
    for hours, only in steps:
        args = [f"--scenario={scenario}", f"--as-of={at_hour(hours)}"]
        if only is not None:
            args += ["-k", only]
        run = run_suite(
            tmp_path,
            *args,
            marker=EVERY_GATE,
            paths=GATE_PATHS,
            junit_name=f"junit-{hours:g}h.xml",
        )
        runs.append(
            {
                "as_of": at_hour(hours),
                "only": only,
                "exit_code": run.exit_code,
                "verdict_line": _normal(run.verdict_line, evidence),
                "properties": _normal(dict(sorted(run.properties.items())), evidence),
            }
        )
    return {"scenario": scenario, "runs": runs, "ledger": _ledger(evidence)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(tmp_path: Path, case: str) -> None:
    scenario, steps = CASES[case]
    actual = _run_case(tmp_path, scenario, steps)
    text = json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    snapshot = SNAPSHOTS / f"{case}.json"
    if os.environ.get("CUTOVER_UPDATE_GOLDEN"):
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
        return
    assert snapshot.exists(), f"no snapshot {snapshot}: run with CUTOVER_UPDATE_GOLDEN=1"
    expected = snapshot.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"snapshots/{case}.json",
                tofile="this run",
                n=2,
            )
        )
        pytest.fail(f"the evidence differs from the golden snapshot:\n{diff[:20000]}")


def test_every_scenario_has_a_golden_case() -> None:
    scenarios = {p.stem for p in (Path(__file__).parents[2] / "fixtures/scenarios").glob("*.toml")}
    assert scenarios == {scenario for scenario, _ in CASES.values()}
