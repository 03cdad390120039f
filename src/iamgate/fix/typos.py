"""Fixes for malformed actions: the typo corrected where it is written.

``"ec2:CreateImage,"`` (a trailing comma), ``"ec2: CreateImage"``, ``"s3:GetObject s3:PutObject"``
(two actions in one string) grant nothing, and the workload fails with AccessDenied. The unknown
action finding (IG3003) for such an entry gets a fix that rewrites the entry in place — the same
file, the same line — into the spelling the catalog knows (``catalog.repair_action``): never a new
statement somewhere else. Two actions in one string become two entries: ``"a", "b"`` inside a list
(JSON, HCL, a YAML flow list), one ``- a`` line each in a YAML block list, ``["a", "b"]`` where the
element was a single string (``"Action": "a b"``, ``Action = "a b"``, ``Action: a b``).

The entry is looked for in the file's text from the statement's line on (``Finding.location``), as a
quoted string (JSON, HCL, quoted YAML) or a plain YAML scalar (a block or flow list item, a value);
what is not found there as written (a URL-encoded document in an account export, a value built by
an expression) gets no fix.

A missing permission that the corrected entry grants (the principal's policy, re-decided with the
entry corrected, allows the requirement) gets the same fix instead of a new statement: the typo
is the cause.

Pure: the caller passes ``read_text``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

from ..catalog.actions import repair_action
from ..engine.request import decide_requirement, request_context
from ..model import Edit, Fix, Location, Outcome, Policy, Principal, Report, Scope, Statement
from .edits import ReadText

__all__ = ["add_typo_fixes"]

_SEARCH_LINES = 400  # how far after the statement's first line the entry may be written
_PLAIN_PREFIX = r"^(?P<pre>\s*(?:-\s+|[A-Za-z]+:\s+))"


def add_typo_fixes(report: Report, scope: Scope, read_text: ReadText) -> Report:
    """``report`` with a fix on every unknown-action finding whose action a mechanical repair
    corrects, and on every missing permission that correction grants."""
    found: Dict[int, _Found] = {}
    for i, f in enumerate(report.findings):
        if f.rule != "IG3003" or f.action is None or f.location is None or f.fix is not None:
            continue
        repaired = repair_action(f.action)
        spot = _find(f.location, f.action, read_text) if repaired is not None else None
        if spot is not None and repaired is not None:
            found[i] = _Found(f.location.file, spot[0], spot[1], spot[2], spot[3], f.action, repaired)
    edits = _edits(list(found.values()), read_text)
    fixes: Dict[Tuple[Optional[Location], str], Fix] = {}
    findings = list(report.findings)
    for i, spot in found.items():
        shown = ", ".join(f'"{a}"' for a in spot.repaired)
        fix = Fix(spot.file, spot.line, f'correct "{spot.raw}" to {shown} ({spot.file}:{spot.line})',
                  (edits[(spot.file, spot.line)],))
        findings[i] = replace(findings[i], fix=fix)
        fixes[(findings[i].location, spot.raw)] = fix
    if fixes:
        outcomes = {(o.selector, o.requirement.action, o.requirement.resource): o for o in report.outcomes}
        for i, f in enumerate(findings):
            if f.kind != "missing-permission" or f.decision is None or f.decision.result != "implicit_deny":
                continue
            o = outcomes.get((f.principal or "", f.action or "", f.resource or ""))
            fix = _granting_fix(o, scope, fixes) if o is not None else None
            if fix is not None:
                findings[i] = replace(f, fix=fix)
    return replace(report, findings=tuple(findings))


# ---------------------------------------------------------------------------- the edit


@dataclass(frozen=True)
class _Found:
    """An entry ``raw`` written at ``body[start:end]`` (its quotes ``q`` included) of ``file``:``line``."""

    file: str
    line: int
    start: int
    end: int
    q: str
    raw: str
    repaired: Tuple[str, ...]


def _find(where: Location, raw: str, read_text: ReadText) -> Optional[Tuple[int, int, int, str]]:
    """(line, start, end, quote) of the first ``raw`` written from the statement's line on."""
    text = read_text(where.file)
    if text is None or where.line is None:
        return None
    lines = text.splitlines()
    quoted = re.compile(r"(?P<q>[\"'])" + re.escape(raw) + r"(?P=q)")
    plain = re.compile(_PLAIN_PREFIX + re.escape(raw) + r"[ \t]*(?:#.*)?$")
    flow = re.compile(r"(?P<pre>[\[,][ \t]*)" + re.escape(raw) + r"[ \t]*[,\]]")  # a YAML flow list item
    for n in range(where.line, min(len(lines), where.line + _SEARCH_LINES) + 1):
        body = lines[n - 1]
        m = quoted.search(body)
        if m:
            return n, m.start(), m.end(), m.group("q")
        m = plain.search(body) or flow.search(body)
        if m:
            return n, m.end("pre"), m.end("pre") + len(raw), ""
    return None


def _edits(found: List[_Found], read_text: ReadText) -> Dict[Tuple[str, int], Edit]:
    """One edit per line, with every entry found on it corrected (right to left, so that the
    earlier spans still hold)."""
    out: Dict[Tuple[str, int], Edit] = {}
    by_line: Dict[Tuple[str, int], List[_Found]] = {}
    for spot in found:
        by_line.setdefault((spot.file, spot.line), []).append(spot)
    for (file, n), spots in by_line.items():
        line = (read_text(file) or "").splitlines(keepends=True)[n - 1]
        body = line.rstrip("\r\n")
        eol = line[len(body):] or "\n"
        new = [body]
        for spot in sorted(set(spots), key=lambda s: -s.start):
            if len(new) > 1:
                break  # a YAML block item became several lines: it holds one entry only
            new = _rewrite(new[0], spot.start, spot.end, spot.q, spot.repaired)
        out[(file, n)] = Edit(file, n, n, "".join(part + eol for part in new))
    return out


def _rewrite(body: str, start: int, end: int, q: str, repaired: Sequence[str]) -> List[str]:
    """The line(s) that replace ``body`` once ``body[start:end]`` (the entry, with its quotes) is
    written as ``repaired``."""
    head, tail = body[:start], body[end:]
    if len(repaired) == 1:
        return [head + q + repaired[0] + q + tail]
    before = head.rstrip()
    if before.strip() == "-":
        return [head + q + a + q + tail for a in repaired]  # a YAML block list item: one line each
    items = ", ".join(q + a + q for a in repaired)
    if before.endswith(("[", ",")):
        return [head + items + tail]  # already in a list
    return [head + "[" + items + "]" + tail]  # a single string becomes a list


# ---------------------------------------------------------------------------- the missing permission


def _granting_fix(outcome: Outcome, scope: Scope, fixes: Dict[Tuple[Optional[Location], str], Fix]
                  ) -> Optional[Fix]:
    """The typo fix whose correction makes ``outcome``'s requirement allowed, if one does."""
    principal = outcome.principal
    for k, policy in enumerate(principal.identity_policies):
        for j, st in enumerate(policy.statements):
            for raw in (*(st.actions or ()), *(st.not_actions or ())):
                fix = fixes.get((st.location or policy.location, raw))
                if fix is None:
                    continue
                corrected = _corrected(principal, k, j, raw)
                req = outcome.requirement
                ctx = request_context(corrected, req.resource, scope.region, req.context)
                decision, _ = decide_requirement(scope, corrected, req, ctx)
                if decision.result == "allow":
                    return fix
    return None


def _corrected(principal: Principal, k: int, j: int, raw: str) -> Principal:
    """``principal`` with the entry ``raw`` of statement ``j`` of identity policy ``k`` repaired."""
    policy = principal.identity_policies[k]
    st = policy.statements[j]
    repaired = repair_action(raw) or (raw,)

    def fixed(values: Optional[Tuple[str, ...]]) -> Optional[Tuple[str, ...]]:
        if values is None:
            return None
        return tuple(a for v in values for a in (repaired if v == raw else (v,)))

    statement: Statement = replace(st, actions=fixed(st.actions), not_actions=fixed(st.not_actions))
    statements = policy.statements[:j] + (statement,) + policy.statements[j + 1:]
    policies: Tuple[Policy, ...] = (principal.identity_policies[:k] + (replace(policy, statements=statements),)
                                    + principal.identity_policies[k + 1:])
    return replace(principal, identity_policies=policies)
