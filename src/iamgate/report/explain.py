"""``iamgate explain`` as text and JSON: what the message says, the principal it names in the
code and how the code decides it, the conclusion with its cause, fix and advice, then the
policies, statements and request context as ``iamgate simulate`` shows them (``report/simulate.py``
renders those parts, from a Simulation made of the explanation's decision).

Formatting only: everything shown was decided by ``findings/explain.py``.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from ..findings.explain import Explanation, aws_says
from ..findings.simulate import Simulation
from ..model import Fix, ParsedDenial
from .simulate import render_json as simulation_json, render_text as simulation_text


def _message_doc(p: Optional[ParsedDenial]) -> Optional[Dict[str, Any]]:
    if p is None:
        return None
    return {"caller": p.caller_arn, "caller_kind": p.caller_kind, "role_name": p.role_name,
            "session_name": p.session_name, "user_name": p.user_name, "account": p.account,
            "action": p.action, "resource": p.resource, "denial": p.denial, "policy_type": p.policy_type,
            "policy_arn": p.policy_arn, "operation": p.operation, "error_code": p.error_code,
            "statements": list(p.statements), "source": p.source,
            "context": {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(p.context.items())},
            "encoded_message": p.encoded_message}


def _fix_doc(fix: Optional[Fix]) -> Optional[Dict[str, Any]]:
    return {"file": fix.file, "line": fix.line, "text": fix.text} if fix else None


def _simulation_doc(expl: Explanation) -> Dict[str, Any]:
    """Context, policies and trace in the shape of ``iamgate simulate --format json``."""
    if expl.decision is None or expl.principal is None:
        return {"context": {}, "policies": [], "trace": []}
    sim = Simulation(expl.selector or "", expl.action or "", expl.resource or "*", expl.principal, expl.decision,
                     expl.note, expl.context, expl.considered)
    doc = json.loads(simulation_json(sim))
    return {k: doc[k] for k in ("context", "policies", "trace")}


def render_json(expl: Explanation) -> str:
    d = expl.decision
    doc: Dict[str, Any] = {
        "version": 1,
        "conclusion": expl.conclusion,
        "summary": expl.summary,
        "message": _message_doc(expl.parsed),
        "encoded": ({"message": expl.encoded.blob, "command": expl.encoded.command} if expl.encoded else None),
        "principal": expl.selector,
        "arn": expl.principal.arn if expl.principal else None,
        "action": expl.action,
        "resource": expl.resource,
        "decision": d.result if d else None,
        "blocked_by": list(d.blocked_by) if d else [],
        "note": expl.note or None,
        "cause": list(expl.cause),
        "advice": list(expl.advice),
        "fix": _fix_doc(expl.fix),
        "principals": list(expl.principals),
        "caller_in_code": expl.caller_in_code,
    }
    doc.update(_simulation_doc(expl))
    return json.dumps(doc, indent=2) + "\n"


_HEADLINE = {"agrees": "THE CODE AGREES", "agrees-other-cause": "THE CODE DENIES IT FOR ANOTHER REASON",
             "code-allows": "THE CODE ALLOWS IT", "unknown": "UNKNOWN", "not-found": "CALLER NOT IN THE CODE",
             "incomplete": "INCOMPLETE MESSAGE", "encoded": "ENCODED MESSAGE", "unparsed": "NOT RECOGNISED"}


def _message_lines(p: ParsedDenial) -> List[str]:
    what = p.action or "(action not named)"
    lines = [f"{what} on {p.resource or '(no resource named)'}"]
    who = p.caller_arn or "(caller not named)"
    detail = {"assumed-role": f"role {p.role_name}, session {p.session_name}", "user": f"user {p.user_name}",
              "role": f"role {p.role_name}"}.get(p.caller_kind or "", p.caller_kind or "")
    lines.append(f"  caller:   {who}" + (f" ({detail})" if detail and p.caller_arn else ""))
    lines.append(f"  AWS says: {aws_says(p)}" + (f" — {p.policy_arn}" if p.policy_arn else ""))
    if p.statements:
        lines.append(f"  matched statements: {', '.join(p.statements)}")
    return lines


def render_text(expl: Explanation, color: bool = False) -> str:
    head = _HEADLINE[expl.conclusion]
    if color:
        code = "32" if expl.conclusion in ("agrees", "agrees-other-cause") else "33"
        head = f"\x1b[{code}m{head}\x1b[0m"
    lines: List[str] = []
    if expl.parsed is not None:
        lines += _message_lines(expl.parsed)
    if expl.principal is not None and expl.decision is not None:
        where = f"  {expl.principal.location}" if expl.principal.location else ""
        word = {"allow": "ALLOWED", "explicit_deny": "DENIED (explicit deny)",
                "implicit_deny": "DENIED (implicit deny)", "unknown": "UNKNOWN"}[expl.decision.result]
        if expl.caller_in_code:
            lines.append(f"  in code:  {expl.selector} ({expl.principal.arn or expl.principal.id}){where}")
        else:
            lines.append(f"  in code:  the trust policy of {expl.resource} (the caller is not in the code)")
        lines.append(f"  code:     {word}")
    if lines:
        lines.append("")
    lines.append(f"{head}: {expl.summary}")
    lines += [f"    {c}" for c in expl.cause]
    if expl.fix is not None:
        where = f" ({expl.fix.file}:{expl.fix.line})" if expl.fix.line else f" ({expl.fix.file})"
        lines.append(f"    fix{where}:")
        lines += [f"      {t}" for t in expl.fix.text.rstrip("\n").splitlines()]
    if expl.advice:
        lines.append("")
        lines.append("check:" if expl.conclusion not in ("encoded", "incomplete", "not-found") else "next:")
        lines += [f"  - {a}" for a in expl.advice]
    if expl.principals:
        lines.append("")
        lines.append("principals in the code:")
        lines += [f"  {n}" for n in expl.principals]
    if expl.decision is not None and expl.principal is not None:
        lines.append("")
        lines += _details(expl)
    return "\n".join(lines) + "\n"


def _details(expl: Explanation) -> List[str]:
    """The policies, statements and request context, as ``iamgate simulate`` prints them."""
    sim = Simulation(expl.selector or "", expl.action or "", expl.resource or "*", expl.principal, expl.decision,
                     expl.note, expl.context, expl.considered)
    text = simulation_text(sim)
    start = text.find("policies considered:")
    return text[start:].rstrip("\n").splitlines() if start >= 0 else []
