"""The JUnit XML files of an evidence directory, read back: test cases, their status and their
properties, and the suite's own properties (every text redacted). Read by `cutover verify` and
by the reports. `add_suite_properties` adds the run's properties to a file pytest wrote (the
ledger's head before and after the run), keeping it valid JUnit."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
    properties: Mapping[str, str] = field(default_factory=dict)  # the suites' own

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
    properties = {k: v for suite in suites for k, v in _properties(suite).items()}
    return JUnitFile(path, tuple(cases), timestamp, properties=properties)


def _properties(element: ET.Element) -> dict[str, str]:
    return {
        p.get("name", ""): redact_text(p.get("value", ""))
        for p in element.findall("properties/property")
    }


def add_suite_properties(path: Path, properties: Sequence[tuple[str, str]]) -> None:
    """Add (or replace) properties of every <testsuite> of a JUnit file, in its suite-level
    <properties> (junit-10 allows them there); the file is replaced atomically."""
    tree = ET.parse(path)
    root = tree.getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    names = {name for name, _ in properties}
    for suite in suites:
        block = suite.find("properties")
        if block is None:
            block = ET.Element("properties")
            suite.insert(0, block)
        for old in [p for p in block.findall("property") if p.get("name") in names]:
            block.remove(old)
        for name, value in properties:
            ET.SubElement(block, "property", name=name, value=redact_text(value))
    partial = path.with_name(path.name + ".partial")
    tree.write(partial, encoding="utf-8", xml_declaration=True)
    os.replace(partial, path)


def _case(element: ET.Element) -> JUnitCase:
    properties = _properties(element)
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
