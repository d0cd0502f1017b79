"""The JUnit XML files of an evidence directory, read back: test cases, their status and their
properties (every text redacted). Read by `cutover verify` and by the reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cutover.redact import redact_text


@dataclass(frozen=True, slots=True)
class JUnitCase:
    name: str
    classname: str
    status: str  # passed | failed | skipped | error
    message: str
    properties: Mapping[str, str]

    @property
    def criterion(self) -> str:
        return self.properties.get("criterion", "")


@dataclass(frozen=True, slots=True)
class JUnitFile:
    """A JUnit XML file of the evidence directory; `problem` says why it could not be read."""

    path: Path
    cases: tuple[JUnitCase, ...] = ()
    timestamp: str = ""
    problem: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    def count(self, status: str) -> int:
        return sum(1 for c in self.cases if c.status == status)

    @property
    def as_of(self) -> str:
        return next((c.properties["as_of"] for c in self.cases if "as_of" in c.properties), "")


def read_junit_dir(evidence_dir: Path) -> list[JUnitFile]:
    """Every JUnit XML file directly in the evidence directory, by name."""
    if not evidence_dir.is_dir():
        return []
    return [read_junit_file(p) for p in sorted(evidence_dir.glob("*.xml")) if p.is_file()]


def read_junit_file(path: Path) -> JUnitFile:
    """Test cases with their properties and status; a file that is not JUnit says why."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        return JUnitFile(path, problem=f"not readable as XML ({exc})")
    if root.tag not in ("testsuites", "testsuite"):
        return JUnitFile(path, problem=f"root element <{root.tag}> is not a JUnit test suite")
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    cases = [_case(case) for suite in suites for case in suite.findall("testcase")]
    timestamp = next((s.get("timestamp", "") for s in suites if s.get("timestamp")), "")
    return JUnitFile(path, tuple(cases), timestamp)


def _case(element: ET.Element) -> JUnitCase:
    properties = {
        p.get("name", ""): redact_text(p.get("value", ""))
        for p in element.findall("properties/property")
    }
    status, message = "passed", ""
    for tag, name in (("error", "error"), ("failure", "failed"), ("skipped", "skipped")):
        found = element.find(tag)
        if found is not None:
            status, message = name, found.get("message", "")
            break
    return JUnitCase(
        name=element.get("name", ""),
        classname=element.get("classname", ""),
        status=status,
        message=redact_text(message),
        properties=properties,
    )
