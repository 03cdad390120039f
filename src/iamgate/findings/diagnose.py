"""Why a requirement is not met, in words: the blocking statement or the nearest ones.

Built on the engine's trace (statements that applied or nearly applied, with their locations) and,
for "allows another action on the same resource", on a scan of the principal's own policies. A
statement that fails only because it names an ARN for an action that takes no resource (AWS
authorizes such an action against "*", ``engine/evaluate.py``) is named with the fix: "*".
"""
from __future__ import annotations

from typing import List

from ..engine.evaluate import aws_owned, normalize_context, takes_no_resource
from ..engine.match import allow_index
from ..model import Decision, Principal, Requirement, Statement, TraceEntry
from ..policy import POLICY_WORDS



def _where(entry_or_statement) -> str:
    loc = entry_or_statement.location
    return f" ({loc})" if loc else ""


def _name(st: Statement, policy_name: str) -> str:
    return st.sid or f'a statement of "{policy_name}"'


def _actions(st: Statement) -> str:
    if st.actions is not None:
        return ", ".join(st.actions)
    return "everything except " + ", ".join(st.not_actions or ())


def cause_lines(principal: Principal, req: Requirement, decision: Decision, note: str = "") -> List[str]:
    """Lines that say why ``req`` is not allowed, most useful first."""
    lines: List[str] = []
    if decision.result == "explicit_deny":
        for t in decision.applied("Deny"):
            lines.append(f"explicit deny: {_name(t.statement, t.policy_name)}{_where(t)} in the "
                         f"{POLICY_WORDS.get(t.policy_kind, t.policy_kind)} \"{t.policy_name}\" denies it")
        return lines or ["explicit deny"]
    if decision.result == "unknown":
        lines.append("unknown: " + (note or "a value that decides it could not be resolved"))
        for t in decision.trace:
            if t.outcome == "unresolved":
                lines.append(f"unresolved: {_name(t.statement, t.policy_name)}{_where(t)} ({t.reason})")
        return lines
    for blocker in decision.blocked_by:
        lines.append(_implicit_line(blocker, req, decision))
    if takes_no_resource(req.action):  # a statement must say "*", whatever resource was asked for
        lines.append(f'{req.action} takes no resource: AWS authorizes it against "*" only')
    lines.extend(_nearest(principal, req, decision))
    return lines


def _implicit_line(blocker: str, req: Requirement, decision: Decision) -> str:
    word = POLICY_WORDS.get(blocker, blocker)
    if blocker == "identity":
        return f"implicit deny: no identity-based policy allows {req.action}"
    if blocker == "resource" and not decision.trace and aws_owned(req.resource):
        return f"implicit deny: {req.resource} cannot be changed (an AWS-owned resource)"
    if blocker == "resource" and not decision.trace:  # a service principal: only that policy can let it in
        return f"implicit deny: {req.resource} has no resource-based policy in the scanned files"
    allowed_elsewhere = [t for t in decision.applied("Allow") if t.policy_kind == "identity"]
    tail = ""
    if allowed_elsewhere:
        t = allowed_elsewhere[0]
        where = f", {t.location}" if t.location else ""
        tail = f" (the identity policy \"{t.policy_name}\" allows it{where})"
    if blocker in ("scp", "rcp"):
        return f"implicit deny: a {word} level does not allow it{tail}"
    return f"implicit deny: the {word} does not allow it{tail}"


_TRACE_KIND = {"resource": ("resource",), "trust": ("trust",), "kms-key-policy": ("kms-key-policy",)}


def _nearest(principal: Principal, req: Requirement, decision: Decision) -> List[str]:
    """Statements of the blocking policies that nearly allow the request."""
    blocking = {k for b in decision.blocked_by for k in _TRACE_KIND.get(b, (b,))}
    out: List[str] = []
    for t in decision.near_misses():
        if t.statement.effect != "Allow" or t.policy_kind not in blocking:
            continue
        out.append(_near_line(t, req))
    if not out and "identity" in blocking:
        same = _same_resource_statements(principal.identity_policies, req)
        for policy, st in same[:2]:
            out.append(f"nearest: {_name(st, policy.name)}{_where(st)} allows {_actions(st)} on the same resource")
    return out[:3]


def _near_line(t: TraceEntry, req: Requirement) -> str:
    who = f"{_name(t.statement, t.policy_name)}{_where(t)}"
    if t.reason == "condition":
        parts = []
        for cond, got in t.failed_conditions:
            have = f"the request has {', '.join(got)}" if got else "the request has no such key"
            parts.append(f"{cond.key} were {' or '.join(cond.values)} ({cond.operator}; {have})")
        return f"nearest: {who} would allow it if " + " and ".join(parts)
    if t.reason == "resource":
        res = ", ".join(t.statement.resources or ()) or "everything except " + ", ".join(t.statement.not_resources or ())
        if takes_no_resource(req.action):
            return f'nearest: {who} allows {req.action} on {res}, not on "*": use "Resource": "*" for it'
        return f"nearest: {who} allows {req.action} on {res}, not on this resource"
    if t.reason == "principal":
        return f"nearest: {who} allows {req.action} for other principals"
    return f"nearest: {who}"


def _same_resource_statements(policies, req: Requirement):
    """The Allow statements of ``policies`` whose Resource (not "*": "allows X on everything" is
    not a useful hint) matches the request's resource."""
    return allow_index(policies).covering(req.resource, normalize_context(dict(req.context)))
