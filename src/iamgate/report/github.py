"""``--format github``: GitHub Actions workflow commands, which GitHub shows as annotations on the
pull request's diff and the run's page::

    ::error file=infra/stack.yaml,line=64,title=IG1001 missing-permission::s3:PutObject on …

Errors are ``::error``, warnings ``::warning``, notes ``::notice``. GitHub shows at most 10
annotations of each level per step and drops the rest silently, so iamgate annotates the first
findings by severity — ``IAMGATE_GITHUB_ANNOTATIONS`` per level (default 10) — and then one
``::notice`` that says how many were not annotated (see the job summary, ``--format markdown``, or
the SARIF upload for all of them). Suppressed findings are not annotated.

Escaping is GitHub's (actions/toolkit ``command.ts``): in the message ``%``, CR and LF become
``%25``, ``%0D``, ``%0A``; in property values ``:`` and ``,`` also become ``%3A`` and ``%2C``.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional

from ..model import Finding, Report
from . import SEVERITY_ORDER, sort_key
from .sarif import relative

DEFAULT_PER_LEVEL = 10  # GitHub shows 10 errors, 10 warnings and 10 notices per step
_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def per_level() -> int:
    raw = os.environ.get("IAMGATE_GITHUB_ANNOTATIONS", "").strip()
    try:
        return max(0, int(raw)) if raw else DEFAULT_PER_LEVEL
    except ValueError:
        return DEFAULT_PER_LEVEL


def command(f: Finding) -> str:
    """One finding as a workflow command."""
    from ..rules.registry import default_rules
    rule = default_rules().get(f.rule)
    props: List[str] = []
    loc = f.location or f.origin
    if loc is not None and loc.file:
        props.append(f"file={escape_property(relative(loc.file))}")
        if loc.line:
            props.append(f"line={loc.line}")
            if loc.column:
                props.append(f"col={loc.column}")
            if loc.end_line and loc.end_line >= loc.line:
                props.append(f"endLine={loc.end_line}")
                if loc.end_column and loc.column:
                    props.append(f"endColumn={loc.end_column}")
    title = f"{f.rule} {rule.name}" if rule is not None else f.rule
    props.append(f"title={escape_property(title)}")
    text = f.message
    if f.principal and f.kind == "missing-permission":
        text = f"{f.principal}: {text}"
    if f.details:
        text += "\n" + "\n".join(f.details)
    if f.fix is not None:
        text += "\nfix: " + f.fix.text
    return f"::{_COMMAND.get(f.severity, 'warning')} {','.join(props)}::{escape_data(text)}"


def render(report: Report, limit: Optional[int] = None) -> str:
    limit = per_level() if limit is None else limit
    shown = sorted((f for f in report.findings if f.suppressed is None),
                   key=lambda f: (SEVERITY_ORDER.get(f.severity, 3),) + tuple(sort_key(f)))
    by_level: Dict[str, List[Finding]] = {}
    for f in shown:
        by_level.setdefault(_COMMAND.get(f.severity, "warning"), []).append(f)
    overflow = any(len(v) > limit for v in by_level.values())
    out: List[str] = []
    left = 0
    for level, findings in by_level.items():
        # the summary is a notice: with too many notes, one fewer so that it is shown
        n = limit - 1 if overflow and level == "notice" and len(findings) >= limit else limit
        n = max(n, 0)
        out += [command(f) for f in findings[:n]]
        left += len(findings[n:])
    if left:
        text = (f"… and {left} more finding{'s' if left != 1 else ''} not annotated (GitHub shows {DEFAULT_PER_LEVEL} "
                "per level and step); see the job summary or the code scanning (SARIF) results")
        out.append(f"::notice title=iamgate::{escape_data(text)}")
    return "\n".join(out) + ("\n" if out else "")
