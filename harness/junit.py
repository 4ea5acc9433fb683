"""JUnit XML for CI systems: one testcase per scenario and device."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from harness.console import explain_run
from harness.files import write_atomically
from harness.results import SuiteResult


def junit_xml(suite: SuiteResult) -> str:
    root = ET.Element(
        "testsuite",
        name="eventpath",
        tests=str(len(suite.runs)),
        failures="0",  # counted below
        errors="0",
        time=f"{suite.finished_at - suite.started_at:.3f}",
    )
    failed = 0
    for run in suite.runs:  # one pass: a suite's runs are not all held at once (``RunList``)
        case = ET.SubElement(root, "testcase", classname=run.scenario, name=run.test_id, time=f"{run.duration_s:.3f}")
        if run.file:
            case.set("file", run.file)
        if not run.passed:
            failed += 1
            causes = ", ".join(sorted({f.root_cause for f in run.failures}))
            failure = ET.SubElement(case, "failure", message=f"{len(run.failures)} problem(s): {causes}")
            failure.text = explain_run(run)
    root.set("failures", str(failed))
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def write_junit(suite: SuiteResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, junit_xml(suite))
