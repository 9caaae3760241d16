"""`--format junit`: a testcase per check and per finding, so CI dashboards list each sample."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from tokaudit.findings import Report, Severity
from tokaudit.report import summary as summ
from tokaudit.report.problems import component, seen


def render(
    report: Report, stream: TextIO, *, max_shown: int = 20, color: bool | None = None, width: int | None = None
) -> None:
    findings = report.sorted_findings()
    suites = ET.Element("testsuites", name="tokaudit")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"tokaudit {report.command}",
        tests=str(len(findings) + 1),
        failures="0",
        errors="0",
        skipped=str(len(report.skipped)),
    )
    props = ET.SubElement(suite, "properties")
    for name, side in (report.header.get("sides") or {}).items():
        ET.SubElement(props, "property", name=name, value=f"{side['source']} {side['backend']} {side['version']}")
    check = ET.SubElement(suite, "testcase", classname=f"tokaudit.{report.command}", name=report.command)
    if findings:
        ET.SubElement(check, "failure", message=f"{len(findings)} finding(s)", type="findings").text = "\n".join(
            summ.lines(report.summary)
        )
    for f in findings:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"tokaudit.{report.command}.{f.code}",
            name=f"{f.code} {f.location or ''}".strip(),
        )
        tag = "skipped" if f.severity is Severity.INFO else "failure"
        samples = seen(f)
        body = f"{f.message}\n" + (f"{samples}\n" if samples else "")
        body += f"context: {f.detail['context']}\n" if "context" in f.detail else ""
        found = component(f)
        body += f"component: {found[0]}\n" + (f"ablation: {found[1]}\n" if found[1] else "") if found else ""
        body += f"hint: {f.hint}\n" if f.hint else ""
        el = ET.SubElement(case, tag, message=f.message, type=f.code)
        el.text = body
    for s in report.skipped:
        case = ET.SubElement(suite, "testcase", classname=f"tokaudit.{report.command}.skipped", name=s.where)
        ET.SubElement(case, "skipped", message=s.reason)
    suite.set("failures", str(len(suite.findall("testcase/failure"))))
    ET.indent(suites)
    stream.write('<?xml version="1.0" encoding="utf-8"?>\n')
    stream.write(ET.tostring(suites, encoding="unicode"))
    stream.write("\n")
