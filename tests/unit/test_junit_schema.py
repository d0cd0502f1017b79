"""JUnit files consumers accept: a real run's file against a published JUnit schema
(tests/data/junit-10.xsd, see its header for the source), read back with junitparser, and the
same properties whether the suite runs serially or under xdist.

Finding (kept visible here on purpose): `junit_family = xunit1` puts each test's properties
inside its <testcase> and adds `file` and `line` attributes; the junit-10 schema defines none of
these (it allows properties only on <testsuite>). The tests pin that those three extensions are
the *only* deviations, and that the rest of the document is strictly valid junit-10.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xmlschema
from junitparser import JUnitXml
from test_report import shared_evidence

from cutover.evidence.properties import CONTRACT_PROPERTIES
from cutover.ledger import Store
from suite_runner import CUTOVER_ENV_PREFIX, ROOT, SuiteRun, read_junit, run_suite

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"
AS_OF = "2026-02-02T08:00:00Z"  # before stage 1, as `cutover demo` runs the prerequisites
# what xunit1 adds to junit-10, at <testcase>: (kind, name)
XUNIT1_EXTENSIONS = {("attribute", "file"), ("attribute", "line"), ("child", "properties")}


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    """The prerequisites on the default scenario, serially and with `-n 4`, side by side."""
    serial_dir, xdist_dir = tmp_path_factory.mktemp("serial"), tmp_path_factory.mktemp("xdist")
    with ThreadPoolExecutor(2) as pool:
        serial = pool.submit(run_suite, serial_dir, f"--as-of={AS_OF}")
        xdist = pool.submit(_run_xdist, xdist_dir, 4)
        return {"serial": serial.result(), "xdist": xdist.result()}


@pytest.fixture(scope="module")
def serial(runs: dict[str, SuiteRun]) -> SuiteRun:
    run = runs["serial"]
    assert run.exit_code == 0, run.output[-2000:]
    return run


def _run_xdist(tmp_path: Path, workers: int) -> SuiteRun:
    """As suite_runner.run_suite, but with xdist on (run_suite turns it off)."""
    evidence = tmp_path / "evidence"
    junit = evidence / "junit-prereq.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(CUTOVER_ENV_PREFIX)}
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/prereqs",
        "-m",
        "prereq",
        "-p",
        "no:cacheprovider",
        "-n",
        str(workers),
        "-q",
        f"--junitxml={junit}",
        f"--evidence-dir={evidence}",
        f"--as-of={AS_OF}",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    properties = read_junit(junit) if junit.exists() else {}
    return SuiteRun(done.returncode, done.stdout + done.stderr, junit, evidence, properties)


def _deviation(error: xmlschema.XMLSchemaValidationError) -> tuple[str, str] | None:
    """(kind, name) of an error at a <testcase>, or None for any other error."""
    element = error.elem
    if element is None or element.tag != "testcase":
        return None
    reason = error.reason or ""
    attribute = re.match(r"'(\w+)' attribute not allowed", reason)
    if attribute:
        return ("attribute", attribute.group(1))
    child = re.match(r"Unexpected child with tag '(\w+)'", reason)
    if child:
        return ("child", child.group(1))
    return None


def _without_xunit1_extensions(path: Path) -> ET.Element:
    root = copy.deepcopy(ET.parse(path).getroot())
    for case in root.iter("testcase"):
        for name in ("file", "line"):
            case.attrib.pop(name, None)
        for block in case.findall("properties"):
            case.remove(block)
    return root


def check_against_junit10(schema: xmlschema.XMLSchema, path: Path) -> None:
    errors = list(schema.iter_errors(str(path)))
    found = {_deviation(e) for e in errors}
    assert None not in found, [str(e) for e in errors if _deviation(e) is None]
    assert found <= XUNIT1_EXTENSIONS
    schema.validate(_without_xunit1_extensions(path))  # raises on anything else


def test_a_real_run_is_junit10_apart_from_xunit1_properties(
    schema: xmlschema.XMLSchema, serial: SuiteRun
) -> None:
    errors = list(schema.iter_errors(str(serial.junit_path)))
    # the finding, pinned: every test case carries properties (and file/line)
    cases = len(ET.parse(serial.junit_path).getroot().findall(".//testcase"))
    assert sum(1 for e in errors if _deviation(e) == ("child", "properties")) == cases
    check_against_junit10(schema, serial.junit_path)


def test_failures_and_inconclusive_skips_keep_the_schema(
    schema: xmlschema.XMLSchema, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A stage 3 run with failures (<failure>) and an inconclusive criterion (<skipped>)."""
    evidence = shared_evidence(tmp_path_factory, "rollback")["rollback"]
    [path] = evidence.glob("junit-*.xml")
    tags = {child.tag for case in ET.parse(path).getroot().iter("testcase") for child in case}
    assert {"failure", "skipped", "properties"} <= tags
    check_against_junit10(schema, path)


def test_junitparser_reads_every_contract_property(serial: SuiteRun) -> None:
    suites = list(JUnitXml.fromfile(str(serial.junit_path)))
    assert sum(len(list(s)) for s in suites) == len(serial.properties) == 6
    for criterion, props in serial.properties.items():
        assert criterion.startswith("prereq.")
        assert set(CONTRACT_PROPERTIES) <= set(props), criterion
        assert props["verdict"] == "pass"
        assert props["target"] == "seeded"
        assert props["as_of"] == AS_OF
        if props["source"].startswith("sql/"):
            assert re.fullmatch(r"[0-9a-f:,\w]+", props["query_sha256"]), criterion


# A run's own ephemeral places: the local simulator's port and pytest's temporary directories
# (per worker under xdist). They say where the run put its helpers, not what it measured.
_RUN_LOCAL = [
    (re.compile(r"http://127\.0\.0\.1:\d+/"), "http://127.0.0.1:<port>/"),
    (re.compile(r"/[^\s;]*/pytest-of-[^/]+/pytest-\d+/(popen-gw\d+/)?"), "<tmp>/"),
]


def _normalized(properties: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for criterion, props in properties.items():
        cleaned = {}
        for name, value in props.items():
            for pattern, replacement in _RUN_LOCAL:
                value = pattern.sub(replacement, value)
            cleaned[name] = value
        result[criterion] = cleaned
    return result


def test_xdist_records_the_same_properties_as_a_serial_run(
    serial: SuiteRun, runs: dict[str, SuiteRun]
) -> None:
    parallel = runs["xdist"]
    assert parallel.exit_code == 0, parallel.output[-2000:]
    assert parallel.verdict_line == serial.verdict_line
    # as_of is pinned, so the window and as_of properties must match too; the only timing in
    # the files (the `time` attributes) is not a property
    assert _normalized(parallel.properties) == _normalized(serial.properties)
    # and the xdist controller wrote the same checkpoint record
    [serial_record] = [r for r in Store(serial.evidence_dir).read() if r.type == "checkpoint"]
    [xdist_record] = [r for r in Store(parallel.evidence_dir).read() if r.type == "checkpoint"]
    assert serial_record.data["results"].keys() == xdist_record.data["results"].keys()
    assert serial_record.data["as_of"] == xdist_record.data["as_of"] == AS_OF
    # the scenario's records are written once, however many workers need the ledger
    assert _scenario_records(serial)  # the scenario's stages and attestations
    assert _scenario_records(parallel) == _scenario_records(serial)


def _scenario_records(run: SuiteRun) -> list[tuple[str, str]]:
    records = Store(run.evidence_dir).read()
    return sorted((r.type, str(r.data.get("at"))) for r in records if r.type != "checkpoint")
