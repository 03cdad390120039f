"""``--format markdown`` for check: a GitHub job summary (``>> $GITHUB_STEP_SUMMARY``) or a merge
request note.

The counts; a table of the requirements not met (missing, denied, unknown) by principal; the
findings grouped by file with their rule ids, each one's cause collapsed in ``<details>`` and its
fix shown as a ```` ```suggestion ```` block per edit that replaces lines (the lines that replace
them, as GitHub's review suggestions read), a ```` ```diff ```` block of the added lines per
insertion, or a plain code block when no edit can be made (the policy lives in AWS); then the
suppressed findings and the requirements met, collapsed. GitHub refuses a step summary over
1 MiB: past ``BUDGET`` bytes the rest is left out and a closing note says how much, and where to
find it.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

from ..model import ASSUMED_ACCOUNT, Finding, Outcome, Report
from . import SEVERITY_ORDER, counts, sort_key
from .diff import _md_code, _md_text

BUDGET = 1_000_000  # bytes; GitHub's limit for one step's summary is 1 MiB (1,048,576)
_MARK = {"error": "❌", "warning": "⚠️", "note": "ℹ️"}
_RESULT = {"allow": "✅ granted", "unknown": "❔ unknown", "implicit_deny": "❌ missing", "explicit_deny": "⛔ denied"}
_RESULT_ORDER = {"explicit_deny": 0, "implicit_deny": 0, "unknown": 1, "allow": 2}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _fence(text: str) -> str:
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _size(lines: Sequence[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _head(report: Report) -> List[str]:
    live = [f for f in report.findings if f.suppressed is None]
    c = counts(tuple(live))
    status = "❌" if c["errors"] else ("⚠️" if c["warnings"] else "✅")
    parts = [f"**{_plural(c['errors'], 'error')}**" if c["errors"] else "0 errors",
             _plural(c["warnings"], "warning"), _plural(c["notes"], "note"),
             f"{report.satisfied} of {report.requirements} requirements met",
             _plural(report.principals, "principal")]
    suppressed = len(report.findings) - len(live)
    if suppressed:
        parts.append(f"{suppressed} suppressed")
    return [f"## {status} iamgate check", "", " · ".join(parts), ""]


def _requirement_rows(outcomes: Sequence[Outcome]) -> List[str]:
    ordered = sorted(outcomes, key=lambda o: (_RESULT_ORDER.get(o.decision.result, 1), o.selector,
                                              o.requirement.action, o.requirement.resource))
    rows = []
    for o in ordered:
        r = o.requirement
        result = _RESULT.get(o.decision.result, o.decision.result)
        if o.decision.result != "allow" and o.decision.blocked_by:
            result += f" ({', '.join(o.decision.blocked_by)})"
        why = r.rule or "manifest"
        where = f"{why} · {_md_code(str(r.origin))}" if r.origin else why
        rows.append(f"| {_md_code(o.selector)} | {_md_code(r.action)} | {_md_code(r.resource)} | {result} | {where} |")
    return rows


def _finding_block(f: Finding) -> List[str]:
    from ..rules.registry import default_rules
    rule = default_rules().get(f.rule)
    where = f" · line {f.location.line}" if f.location and f.location.line else ""
    who = f" · {_md_code(f.principal)}" if f.principal else ""
    name = f" `{rule.name}`" if rule is not None else ""
    out = [f"{_MARK.get(f.severity, '')} **{f.rule}**{name}{where}{who}: {_md_text(f.message)}", ""]
    body: List[str] = [f"- {_md_text(d)}" for d in f.details]
    if rule is not None and rule.url:
        body.append(f"- rule: [{rule.id} {rule.name}]({rule.url})")
    if body:
        out += ["<details><summary>Why</summary>", ""] + body + ["", "</details>", ""]
    if f.fix is not None:
        out += _fix_lines(f)
    return out


def _fix_lines(f: Finding) -> List[str]:
    fix = f.fix
    assert fix is not None
    lines = fix.text.splitlines() or [""]
    if fix.edits:
        out = [f"**Fix:** {_md_text(lines[0])}", ""]
        for e in fix.edits:
            span = f"line {e.start}" if e.end <= e.start else f"lines {e.start}–{e.end}"
            verb = "insert before" if e.end < e.start else "replace"
            if e.end < e.start:  # a suggestion replaces lines: an insertion reads as added lines
                body = "\n".join("+" + line for line in e.text.rstrip("\n").split("\n"))
                fence = _fence(body)
                out += [f"{verb} {_md_code(e.file)} {span}:", "", f"{fence}diff", body, fence, ""]
            else:
                fence = _fence(e.text)
                out += [f"{verb} {_md_code(e.file)} {span}:", "", f"{fence}suggestion", e.text.rstrip("\n"), fence, ""]
        return out
    rest = "\n".join(lines[1:])
    out = [f"**Fix:** {_md_text(lines[0])}", ""]
    if rest.strip():
        fence = _fence(rest)
        out += [fence, rest, fence, ""]
    return out


def render(report: Report, budget: int = BUDGET) -> str:
    out = _head(report)
    findings = sorted(report.findings, key=sort_key)
    live = [f for f in findings if f.suppressed is None]
    suppressed = [f for f in findings if f.suppressed is not None]
    # the pieces in order, each all or nothing: (lines, findings shown, requirements shown, whether
    # it leaves a <details> open (True) or closes it (False); None: neither)
    pieces: List[Tuple[List[str], int, int, Optional[bool]]] = []
    header = ["| Principal | Action | Resource | Result | Required by |", "|---|---|---|---|---|"]
    failing = [o for o in report.outcomes if o.decision.result != "allow"]
    granted = [o for o in report.outcomes if o.decision.result == "allow"]
    if failing:  # what is missing first; the granted ones last, collapsed: findings matter more
        pieces.append((["### Requirements not met", ""] + header, 0, 0, None))
        pieces += [([row], 0, 1, None) for row in _requirement_rows(failing)]
        pieces.append(([""], 0, 0, None))
    groups: "OrderedDict[str, List[Finding]]" = OrderedDict()
    for f in sorted(live, key=lambda f: (f.location.file if f.location else "",
                                         SEVERITY_ORDER.get(f.severity, 3)) + tuple(sort_key(f))):
        groups.setdefault(f.location.file.replace(os.sep, "/") if f.location else "(no file)", []).append(f)
    if groups:
        pieces.append((["### Findings", ""], 0, 0, None))
    for file, group in groups.items():
        pieces.append(([f"#### {_md_code(file)}", ""], 0, 0, None))
        pieces += [(_finding_block(f), 1, 0, None) for f in group]
    if suppressed:
        pieces.append(([f"<details><summary>{_plural(len(suppressed), 'suppressed finding')}</summary>", ""], 0, 0, True))
        pieces += [([f"- **{f.rule}** {_md_code(str(f.location) if f.location else '(no file)')}: "
                     f"{_md_text(f.message)} — {_md_text(f.suppressed[0])} ({_md_text(f.suppressed[1])})"], 0, 0, None)
                   for f in suppressed if f.suppressed]
        pieces.append((["", "</details>", ""], 0, 0, False))
    if granted:
        pieces.append(([f"<details><summary>{_plural(len(granted), 'requirement')} met</summary>", ""] + header,
                       0, 0, True))
        pieces += [([row], 0, 1, None) for row in _requirement_rows(granted)]
        pieces.append((["", "</details>", ""], 0, 0, False))
    if any(ASSUMED_ACCOUNT in (f.resource or "") + f.message for f in live):
        pieces.append(([f"_{ASSUMED_ACCOUNT} stands for the account the code deploys into (settings.account is not "
                        "set)._", ""], 0, 0, None))
    used = _size(out)
    reserve = 400  # the closing note
    shown_findings = shown_requirements = 0
    inside = False
    for lines, nf, nr, opens in pieces:
        size = _size(lines)
        if used + size > budget - reserve:
            left_f = len(live) - shown_findings
            left_r = len(report.outcomes) - shown_requirements
            what = []
            if left_r:
                what.append(_plural(left_r, "requirement"))
            if left_f:
                what.append(_plural(left_f, "finding"))
            if inside:
                out += ["", "</details>"]
            out += ["", f"> **Truncated:** {' and '.join(what) or 'the rest'} not shown (GitHub's job summary is "
                    "limited to 1 MiB); see the SARIF results or run `iamgate check --format json`.", ""]
            break
        out += lines
        used += size
        shown_findings += nf
        shown_requirements += nr
        inside = opens if opens is not None else inside
    return "\n".join(out).rstrip("\n") + "\n"
