"""``--format junit``: JUnit XML, for CI systems that show test reports (GitLab's
``artifacts: reports: junit:``, Jenkins, Azure Pipelines, GitHub test-report actions).

One ``<testsuite name="iamgate check">``. Each requirement (principal × action × resource, from
the manifest, a rule or the deploy catalog) is a test case of class ``<principal>`` named
``<action> on <resource>``: it passes when the policies allow it, fails when they do not
(``type`` is the decision: implicit_deny, explicit_deny, unknown), and is skipped when its
finding is suppressed. Every other finding (an invalid policy, an unknown action, a file that
cannot be read) is a test case of class ``<file>`` named ``<rule>: <message>``: a failure at
error severity, a pass (its message in ``<system-out>``) at warning or note, skipped when suppressed.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Tuple

from ..model import Finding, Report
from . import sort_key


def _failure_text(f: Finding) -> str:
    lines = [f.message] + list(f.details)
    if f.location is not None:
        lines.append(f"at {f.location}")
    if f.fix is not None:
        lines.append("fix: " + f.fix.text)
    return "\n".join(lines)


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters, even escaped."""
    return "".join(ch if ch in "\t\n\r" or ord(ch) >= 0x20 else "\ufffd" for ch in text)


def render(report: Report) -> str:
    by_request: Dict[Tuple[str, str, str], List[Finding]] = {}
    for f in report.findings:
        if f.kind == "missing-permission":
            by_request.setdefault((f.principal or "", f.action or "", f.resource or ""), []).append(f)
    suite = ET.Element("testsuite", name="iamgate check")
    tests = failures = skipped = 0
    matched = set()  # the findings a requirement's test case stands for
    for o in report.outcomes:
        r = o.requirement
        case = ET.SubElement(suite, "testcase", classname=_clean(o.selector), name=_clean(f"{r.action} on {r.resource}"))
        if r.origin is not None:
            case.set("file", _clean(r.origin.file.replace(os.sep, "/")))
            if r.origin.line:
                case.set("line", str(r.origin.line))
        tests += 1
        if o.decision.result == "allow":
            continue
        found: Optional[Finding] = next(iter(by_request.get((o.selector, r.action, r.resource), [])), None)
        matched.update(id(f) for f in by_request.get((o.selector, r.action, r.resource), []))
        if found is not None and found.suppressed is not None:
            ET.SubElement(case, "skipped", message=_clean(f"suppressed: {found.suppressed[0]} ({found.suppressed[1]})"))
            skipped += 1
            continue
        message = found.message if found is not None else f"{r.action} on {r.resource}: {o.decision.result}"
        failure = ET.SubElement(case, "failure", message=_clean(message), type=o.decision.result)
        failure.text = _clean(_failure_text(found) if found is not None else message)
        failures += 1
    for f in sorted(report.findings, key=sort_key):
        if id(f) in matched:
            continue  # a requirement's test case above
        file = f.location.file.replace(os.sep, "/") if f.location else "iamgate"
        case = ET.SubElement(suite, "testcase", classname=_clean(file), name=_clean(f"{f.rule}: {f.message}"))
        if f.location is not None:
            case.set("file", _clean(file))
            if f.location.line:
                case.set("line", str(f.location.line))
        tests += 1
        if f.suppressed is not None:
            ET.SubElement(case, "skipped", message=_clean(f"suppressed: {f.suppressed[0]} ({f.suppressed[1]})"))
            skipped += 1
        elif f.severity == "error":
            failure = ET.SubElement(case, "failure", message=_clean(f.message), type=f.kind)
            failure.text = _clean(_failure_text(f))
            failures += 1
        else:
            ET.SubElement(case, "system-out").text = _clean(f"{f.severity}: {_failure_text(f)}")
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites", name="iamgate", tests=str(tests), failures=str(failures), errors="0",
                      skipped=str(skipped))
    root.append(suite)
    ET.indent(root) if hasattr(ET, "indent") else None
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
