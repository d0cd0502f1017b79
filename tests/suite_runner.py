"""Run the gate suite the way a user does (a real pytest process) and read its JUnit evidence."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from junitparser import JUnitXml
from junitparser.junitparser import Properties

from zygote import borrowed

ROOT = Path(__file__).resolve().parents[1]
CUTOVER_ENV_PREFIX = "CUTOVER_"


@dataclass(frozen=True)
class SuiteRun:
    exit_code: int
    output: str
    junit_path: Path
    evidence_dir: Path
    properties: dict[str, dict[str, str]]  # criterion -> its JUnit properties

    @property
    def verdicts(self) -> dict[str, str]:
        return {criterion: props["verdict"] for criterion, props in self.properties.items()}

    @property
    def verdict_line(self) -> str:
        return self.output.rstrip().splitlines()[-1]


def read_junit(path: Path) -> dict[str, dict[str, str]]:
    """Criterion -> properties, read back with junitparser (a standard consumer)."""
    found: dict[str, dict[str, str]] = {}
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            block = case.child(Properties)
            props = {p.name: p.value for p in block} if block is not None else {}
            if "criterion" in props:
                found[props["criterion"]] = props
    return found


@dataclass(frozen=True)
class Invocation:
    """`python -m pytest ARGS` with ENV: what a user would type, and where its evidence goes."""

    args: list[str]
    env: dict[str, str]
    junit_path: Path
    evidence_dir: Path


def suite_invocation(
    tmp_path: Path,
    *args: str,
    marker: str = "prereq",
    paths: tuple[str, ...] = ("tests/prereqs",),
    env: dict[str, str] | None = None,
    junit_name: str | None = None,
    workers: int | None = None,
) -> Invocation:
    """The arguments and environment of `pytest -m MARKER` with its own evidence directory
    (serial, or with `workers` xdist workers)."""
    evidence = tmp_path / "evidence"
    junit = evidence / (junit_name or f"junit-{marker}.xml")
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(CUTOVER_ENV_PREFIX)}
    clean_env.pop("PYTEST_XDIST_WORKER", None)
    # let the child write bytecode caches: compiling every module in every run costs ~1 s
    clean_env.pop("PYTHONDONTWRITEBYTECODE", None)
    clean_env.update(env or {})
    pytest_args = [
        *paths,
        "-m",
        marker,
        "-p",
        "no:cacheprovider",
        *(["-p", "no:xdist"] if workers is None else ["-n", str(workers)]),
        "-q",
        f"--junitxml={junit}",
        f"--evidence-dir={evidence}",
        *args,
    ]
    return Invocation(pytest_args, clean_env, junit, evidence)


def finished(invocation: Invocation, exit_code: int, output: str) -> SuiteRun:
    junit = invocation.junit_path
    properties = read_junit(junit) if junit.exists() else {}
    return SuiteRun(exit_code, output, junit, invocation.evidence_dir, properties)


def run_suite(tmp_path: Path, *args: str, **options: Any) -> SuiteRun:
    """`pytest -m MARKER` in a fresh process, with its own evidence directory (the options of
    `suite_invocation`). The process is forked from a zygote that imported pytest and the
    plugin once (zygote.py): the same run as `python -m pytest`, without ~2 s of imports."""
    invocation = suite_invocation(tmp_path, *args, **options)
    # the output goes to a private folder, not into the directory a test may search
    scratch = Path(tempfile.mkdtemp(prefix="suite-output-"))
    output = (scratch / "stdout.txt", scratch / "stderr.txt")
    try:
        with borrowed(ROOT) as zygote:
            code = zygote.run(invocation.args, invocation.env, ROOT, output, timeout=300)
        text = "".join(path.read_text(encoding="utf-8", errors="replace") for path in output)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return finished(invocation, code, text)


T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)  # stage 1 starts in every seeded scenario


def at_hour(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_checkpoint(
    tmp_path: Path,
    scenario: str,
    stage: int,
    hours: float,
    *,
    only: str | None = None,
    marker: str | None = None,
) -> SuiteRun:
    """One checkpoint of a stage gate on a seeded scenario, `hours` after stage 1 started.

    `only` runs just that criterion (an interim checkpoint whose record a later run reads)."""
    args = [f"--scenario={scenario}", f"--as-of={at_hour(hours)}"]
    if only is not None:
        args += ["-k", only]
    marker = marker or f"stage{stage}_gate"
    return run_suite(
        tmp_path,
        *args,
        marker=marker,
        paths=("tests/rollback",) if marker.startswith("rollback") else ("tests/gates",),
        junit_name=f"junit-{marker}-{hours:g}h.xml",
    )
