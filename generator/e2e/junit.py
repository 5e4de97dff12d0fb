"""The run as a JUnit XML report, the format CI systems read (Jenkins, GitLab, GitHub's test reporters): one test
suite, one test case per step; a failed step is a <failure>, a skipped one <skipped>, an interrupted one an
<error>; each case's figures are its <system-out>, as JSON."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree

from generator.e2e.report import E2EReport, StepStatus

SUITE_NAME = "packet-counter e2e"
# Characters XML 1.0 cannot carry at all (ElementTree would write them and make the file unreadable).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def junit_xml(report: E2EReport) -> str:
    """The report as JUnit XML text (UTF-8 declaration, one line per element, ready to write)."""
    counts = {status: sum(step.status == status for step in report.steps) for status in StepStatus}
    suite = ElementTree.Element(
        "testsuite",
        {
            "name": SUITE_NAME,
            "tests": str(len(report.steps)),
            "failures": str(counts[StepStatus.FAILED]),
            "errors": str(counts[StepStatus.INTERRUPTED]),
            "skipped": str(counts[StepStatus.SKIPPED]),
            "time": f"{report.seconds:.3f}",
            "timestamp": report.started,
        },
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (
        ("config", report.config),
        ("regions", " ".join(report.regions)),
        ("failover", report.failover or ""),
        ("left_deployed", ", ".join(report.left_deployed)),
    ):
        ElementTree.SubElement(properties, "property", {"name": name, "value": _xml(value)})
    for step in report.steps:
        case = ElementTree.SubElement(
            suite, "testcase", {"classname": "e2e", "name": _xml(step.name), "time": f"{step.seconds:.3f}"}
        )
        detail = _xml(step.detail)
        if step.status is StepStatus.FAILED:
            ElementTree.SubElement(case, "failure", {"message": detail}).text = detail
        elif step.status is StepStatus.SKIPPED:
            ElementTree.SubElement(case, "skipped", {"message": detail})
        elif step.status is StepStatus.INTERRUPTED:
            ElementTree.SubElement(case, "error", {"message": detail}).text = detail
        if step.data:
            ElementTree.SubElement(case, "system-out").text = _xml(json.dumps(step.data, indent=2, sort_keys=True))
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
