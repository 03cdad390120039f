"""``iamgate inventory``: the readers' output made visible (DESIGN.md, "iamgate inventory --format json")."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from ..model import Excluded, Inventory, Location, Policy, Principal


def _loc(loc: Optional[Location]) -> Optional[Dict[str, Any]]:
    return {"file": loc.file, "line": loc.line} if loc else None


def _policy(p: Policy) -> Dict[str, Any]:
    out: Dict[str, Any] = {"name": p.name, "kind": p.kind, "statements": len(p.statements)}
    if p.arn:
        out["arn"] = p.arn
    out["location"] = _loc(p.location or (p.statements[0].location if p.statements else None))
    return out


def _principal(p: Principal) -> Dict[str, Any]:
    out: Dict[str, Any] = {"id": p.id, "type": p.type, "arn": p.arn, "aliases": list(p.aliases),
                           "location": _loc(p.location),
                           "policies": [_policy(x) for x in p.identity_policies]}
    out["boundary"] = {"name": p.boundary.name, "statements": len(p.boundary.statements)} if p.boundary else None
    if p.tags:
        out["tags"] = dict(p.tags)
    if p.trust_policy is not None:
        out["trust_policy"] = {"statements": len(p.trust_policy.statements),
                               "location": _loc(p.trust_policy.location)}
    return out


def as_dict(inv: Inventory) -> Dict[str, Any]:
    return {
        "version": 1,
        "principals": [_principal(p) for p in sorted(inv.principals, key=lambda p: (p.location.file if p.location
                                                                                     else "", p.id))],
        "policies": [_policy(p) for p in inv.policies],
        "resource_policies": [{"resource": r.resource, "type": r.type, "statements": len(r.policy.statements),
                               "location": _loc(r.location)} for r in inv.resource_policies],
        "resources": [{"id": r.id, "type": r.type, "arn": r.arn, "location": _loc(r.location)}
                      for r in inv.resources],
        "guardrails": {"scp": [[_policy(p) for p in level] for level in inv.scp],
                       "rcp": [[_policy(p) for p in level] for level in inv.rcp]},
        "unresolved": [dict(_loc(u.location) or {}, expression=u.expression, **({"synthesized": True}
                                                                                if u.synthesized else {}))
                       for u in inv.unresolved],
        "excluded": [_excluded(e) for e in inv.excluded],
        "problems": [{"kind": f.kind, "severity": f.severity, "message": f.message, "location": _loc(f.location)}
                     for f in inv.problems],
    }


def _excluded(e: Excluded) -> Dict[str, Any]:
    out: Dict[str, Any] = {"id": e.id, "type": e.type, "reason": e.reason, "depends_on": list(e.depends_on),
                           "location": _loc(e.location)}
    if e.of:
        out["generated_by"] = e.of
    return out


def render_json(inv: Inventory) -> str:
    return json.dumps(as_dict(inv), indent=2) + "\n"


def render_text(inv: Inventory) -> str:
    lines: List[str] = []
    for p in sorted(inv.principals, key=lambda p: (p.location.file if p.location else "", p.id)):
        where = f"  {p.location}" if p.location else ""
        lines.append(f"{p.type} {p.id}{where}")
        if p.arn:
            lines.append(f"  arn: {p.arn}")
        others = [a for a in p.aliases if a not in (p.id, p.arn)]
        if others:
            lines.append(f"  also: {', '.join(others)}")
        for pol in p.identity_policies:
            lines.append(f"  policy {pol.name} ({_n(len(pol.statements))})"
                         + (f"  {pol.location}" if pol.location else ""))
        if p.boundary:
            lines.append(f"  boundary {p.boundary.name} ({_n(len(p.boundary.statements))})")
        if p.trust_policy:
            lines.append(f"  trust policy ({_n(len(p.trust_policy.statements))})")
    for r in inv.resource_policies:
        lines.append(f"resource policy {r.type} on {r.resource} ({_n(len(r.policy.statements))})"
                     + (f"  {r.location}" if r.location else ""))
    if inv.policies:
        lines.append(f"{len(inv.policies)} standalone polic{'y' if len(inv.policies) == 1 else 'ies'}:")
        for pol in inv.policies:
            lines.append(f"  {pol.name} ({_n(len(pol.statements))})"
                         + (f"  {pol.location}" if pol.location else ""))
    for e in inv.excluded:
        made = f", made by {e.of}" if e.of else ""
        values = f" ({', '.join(e.depends_on)})" if e.depends_on else ""
        lines.append(f"left out: {e.type} {e.id}{made} — {e.reason}{values}" + (f"  {e.location}" if e.location else ""))
    unresolved = [u for u in inv.unresolved if not u.synthesized]
    for u in unresolved:
        lines.append(f"unresolved: {u.expression}" + (f"  {u.location}" if u.location else ""))
    for f in inv.problems:
        lines.append(f"{f.severity}: {f.message}")
    n = len(inv.principals)
    lines.append(f"{n} principal{'s' if n != 1 else ''} · {len(inv.resource_policies)} resource policies · "
                 f"{len(unresolved)} unresolved" + (f" · {len(inv.excluded)} left out by conditions"
                                                     if inv.excluded else ""))
    return "\n".join(lines) + "\n"


def _n(count: int) -> str:
    return f"{count} statement" + ("" if count == 1 else "s")
