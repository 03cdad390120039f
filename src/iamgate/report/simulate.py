"""``iamgate simulate`` as text and JSON: the decision, the policies considered, the statements
that matched or nearly matched, and the request context."""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from ..findings.simulate import Simulation
from ..model import Location
from ..policy import POLICY_WORDS


def _loc(loc: Optional[Location]) -> Optional[Dict[str, Any]]:
    return {"file": loc.file, "line": loc.line} if loc else None


def render_json(sim: Simulation) -> str:
    if sim.error:
        return json.dumps({"version": 1, "error": sim.error}, indent=2) + "\n"
    d = sim.decision
    assert d is not None and sim.principal is not None
    doc = {
        "version": 1,
        "principal": sim.selector, "arn": sim.principal.arn, "action": sim.action, "resource": sim.resource,
        "decision": d.result, "blocked_by": list(d.blocked_by), "note": sim.note or None,
        "context": {k: list(v) if isinstance(v, tuple) else v for k, v in sorted((sim.context or {}).items())},
        "policies": [{"kind": kind, "name": p.name, "statements": len(p.statements), "location": _loc(p.location)}
                     for kind, p in sim.considered],
        "trace": [{"policy_kind": t.policy_kind, "policy": t.policy_name, "sid": t.statement.sid,
                   "effect": t.statement.effect, "outcome": t.outcome, "reason": t.reason or None,
                   "failed_conditions": [{"operator": c.operator, "key": c.key, "values": list(c.values),
                                          "request": list(got)} for c, got in t.failed_conditions],
                   "location": _loc(t.location)} for t in d.trace],
    }
    return json.dumps(doc, indent=2) + "\n"


def render_text(sim: Simulation, color: bool = False) -> str:
    if sim.error:
        return f"iamgate simulate: {sim.error}\n"
    d = sim.decision
    assert d is not None and sim.principal is not None
    word = {"allow": "ALLOWED", "explicit_deny": "DENIED (explicit deny)",
            "implicit_deny": "DENIED (implicit deny)", "unknown": "UNKNOWN"}[d.result]
    if color:
        word = f"\x1b[{'32' if d.allowed else '31'}m{word}\x1b[0m"
    p = sim.principal
    lines = [f"{sim.action} on {sim.resource}", f"  by {sim.selector} ({p.arn or p.id})", f"  {word}"]
    if not d.allowed:
        lines += [f"    {line}" for line in sim.cause]
    lines.append("")
    lines.append("policies considered:")
    for kind, pol in sim.considered:
        where = f"  {pol.location}" if pol.location else ""
        lines.append(f"  {POLICY_WORDS.get(kind, kind)} \"{pol.name}\" ({_n(len(pol.statements))}){where}")
    if not sim.considered:
        lines.append("  none")
    lines.append("")
    lines.append("statements that matched or nearly matched:")
    for t in d.trace:
        what = {"applied": "allows" if t.statement.effect == "Allow" else "denies",
                "near-miss": f"near miss ({t.reason})",
                "unresolved": "unresolved"}[t.outcome]
        sid = t.statement.sid or "(no Sid)"
        where = f"  {t.location}" if t.location else ""
        lines.append(f"  {what:24s} {sid} in \"{t.policy_name}\"{where}")
        for cond, got in t.failed_conditions:
            have = ", ".join(got) if got else "absent"
            lines.append(f"      {cond.operator} {cond.key}: {', '.join(cond.values)} (request: {have})")
    if not d.trace:
        lines.append("  none")
    lines.append("")
    lines.append("request context:")
    for k, v in sorted((sim.context or {}).items()):
        lines.append(f"  {k} = {', '.join(v) if isinstance(v, tuple) else v}")
    return "\n".join(lines) + "\n"


def _n(count: int) -> str:
    return f"{count} statement" + ("" if count == 1 else "s")
