"""Baselines: adopt the gate on a repository without fixing everything on day one.

``iamgate check --write-baseline FILE`` records the findings of the run that nothing suppresses;
``--baseline FILE`` marks each finding the baseline holds as suppressed (``by`` "baseline FILE",
reason "in the baseline") and lists the baseline's entries that no longer occur as fixed
(``Report.baseline_fixed``; the JSON report's ``fixed_since_baseline``). Entries are keyed by
``model.finding_key`` — rule, file, principal (or the resource the finding is about), action,
resource, element path, origin resource — never by line: an edit that moves a finding does not make
it new. A key that occurs n times in the baseline covers n findings (the first n by line); the
(n+1)th is new. Input errors are never baselined: a file that cannot be read must be fixed.

Pure: the command reads and writes the file; this module turns text into entries and back.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from ..model import Finding, Report, finding_key
from .suppress import suppressible

VERSION = 1
FIELDS = ("rule", "file", "principal", "action", "resource", "path", "origin")


class BaselineError(ValueError):
    """A baseline file that cannot be used (the command exits 2)."""


def entry(f: Finding) -> Dict[str, str]:
    """A finding as a baseline entry: its key's fields by name, and its message for humans."""
    out = dict(zip(FIELDS, finding_key(f)))
    out["message"] = f.message
    return out


def key_of(e: Mapping[str, Any]) -> Tuple[str, ...]:
    return tuple(str(e.get(k, "")) for k in FIELDS)


def baselined(findings: Sequence[Finding]) -> List[Finding]:
    """The findings a baseline records: those nothing suppresses, input errors excepted."""
    return [f for f in findings if f.suppressed is None and suppressible(f)]


def _line(f: Finding) -> Tuple[int, int]:
    return (f.location.line or 0, f.location.column or 0) if f.location is not None else (0, 0)


def write(report: Report, tool: Mapping[str, Any]) -> str:
    """The baseline of ``report`` as JSON text (sorted: the same findings write the same file)."""
    entries = sorted((entry(f) for f in baselined(report.findings)), key=lambda e: (key_of(e), e["message"]))
    doc = {"version": VERSION, "tool": {"name": tool.get("name"), "version": tool.get("version")},
           "entries": entries}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def read(text: str, name: str) -> List[Dict[str, str]]:
    """The entries of a baseline file's ``text``; BaselineError naming ``name`` when it is not one."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise BaselineError(f"{name}: not a baseline (invalid JSON: {e})") from None
    if not isinstance(doc, dict) or "entries" not in doc:
        raise BaselineError(f"{name}: not a baseline (a JSON object with 'version' and 'entries', "
                            "as --write-baseline writes it)")
    if doc.get("version") != VERSION:
        raise BaselineError(f"{name}: baseline version {doc.get('version')!r} is not supported (expected {VERSION})")
    entries = doc["entries"]
    if not isinstance(entries, list):
        raise BaselineError(f"{name}: 'entries' must be a list")
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("rule"), str) or not e["rule"] \
                or any(not isinstance(e.get(k, ""), str) for k in FIELDS):
            raise BaselineError(f"{name}: entries[{i}] is not a baseline entry (a mapping of strings: "
                                f"{', '.join(FIELDS)})")
        out.append({k: v for k, v in e.items() if isinstance(v, str)})
    return out


def apply(report: Report, entries: Sequence[Mapping[str, str]], name: str) -> Report:
    """The report with the findings ``entries`` hold suppressed, and the entries no finding matches
    as ``baseline_fixed``."""
    left = Counter(key_of(e) for e in entries)
    marks: Dict[int, bool] = {}
    for i, f in sorted(enumerate(report.findings), key=lambda p: _line(p[1])):
        if f.suppressed is not None or not suppressible(f):
            continue
        k = finding_key(f)
        if left[k] > 0:
            left[k] -= 1
            marks[i] = True
    findings = tuple(replace(f, suppressed=("in the baseline", f"baseline {name}")) if marks.get(i) else f
                     for i, f in enumerate(report.findings))
    fixed = []
    for e in entries:
        k = key_of(e)
        if left[k] > 0:
            left[k] -= 1
            fixed.append(dict(e))
    return replace(report, findings=findings, baseline_fixed=tuple(fixed))
