"""``--format gitlab``: a GitLab Code Quality report (``artifacts: reports: codequality:``), which
GitLab shows in merge requests on every tier.

A JSON array of issues with the fields GitLab documents: ``description``, ``check_name`` (the rule
id), ``fingerprint`` (``model.fingerprint``: rule, file, principal, action, resource — not the
line, so that an edit above a finding does not make it new in the merge request), ``severity``
and ``location`` (``path`` relative to the working directory, ``lines.begin``; line 1 when the
finding has no line). Severities: error → ``major``, warning → ``minor``, note → ``info``
(GitLab's scale is info, minor, major, critical, blocker; ``critical`` and ``blocker`` are left
for security scanners). Suppressed findings are left out; a finding with no file at all (rare:
every finding of a manifest or a template has one) is too, as GitLab requires a path.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List

from ..model import Report
from . import SEVERITY_ORDER, sort_key
from .sarif import fingerprints, relative

SEVERITY = {"error": "major", "warning": "minor", "note": "info"}


def render(report: Report) -> str:
    findings = sorted((f for f in report.findings if f.suppressed is None),
                      key=lambda f: (SEVERITY_ORDER.get(f.severity, 3),) + tuple(sort_key(f)))
    issues: List[Dict[str, Any]] = []
    for f, fp in zip(findings, fingerprints(findings)):
        loc = f.location or f.origin
        if loc is None or not loc.file:
            continue
        description = f.message
        if f.principal and f.kind == "missing-permission":
            description = f"{f.principal}: {description}"
        issue: Dict[str, Any] = {
            "description": description, "check_name": f.rule, "fingerprint": fp,
            "severity": SEVERITY.get(f.severity, "minor"),
            "location": {"path": relative(loc.file), "lines": {"begin": loc.line if loc.line and loc.line >= 1 else 1}},
        }
        if loc.end_line and loc.line and loc.end_line >= loc.line:
            issue["location"]["lines"]["end"] = loc.end_line
        body = list(f.details) + (["fix: " + f.fix.text] if f.fix is not None else [])
        if body:
            issue["content"] = {"body": "\n".join(body)}
        issue["type"] = "issue"
        issues.append(issue)
    return json.dumps(issues, indent=2) + "\n"
