"""``check --unused``: the actions a principal is allowed that none of its requirements uses.

For each principal with at least one requirement (the manifest's, or one inferred from the code),
the actions its identity policies allow — Action patterns and NotAction expanded through the IAM
catalog, whatever their resources and conditions — less the actions its requirements name. One
IG1004 note per principal, counted per service (the message names the first few services and
actions; ``details`` every service with its first actions). Pure: it reads decided outcomes.
"""
from __future__ import annotations

import functools
from typing import Dict, List, Sequence, Set

from .. import catalog
from ..model import Finding, Outcome, Principal

__all__ = ["granted_actions", "unused_findings"]

_SHOWN = 3


@functools.lru_cache(maxsize=1)
def _every_action() -> frozenset:
    return frozenset(catalog.expand_action("*"))


def _expand(patterns: Sequence[str]) -> Set[str]:
    out: Set[str] = set()
    for p in patterns:
        if "*" in p or "?" in p:
            out.update(catalog.expand_action(p))
        else:
            canonical = catalog.canonical_action(p)
            if canonical:
                out.add(canonical)
    return out


def granted_actions(principal: Principal) -> Set[str]:
    """Every catalog action an Allow statement of the principal's identity policies names."""
    out: Set[str] = set()
    for policy in principal.identity_policies:
        for st in policy.statements:
            if st.effect != "Allow":
                continue
            if st.actions is not None:
                out |= _expand(st.actions)
            elif st.not_actions is not None:
                out |= _every_action() - _expand(st.not_actions)
    return out


def unused_findings(outcomes: Sequence[Outcome]) -> List[Finding]:
    """One note per principal with requirements, listing the allowed actions none of them uses."""
    principals: Dict[str, Principal] = {}
    selectors: Dict[str, str] = {}
    used: Dict[str, Set[str]] = {}
    for o in outcomes:
        if o.principal.type == "service":
            continue
        key = o.principal.id
        principals.setdefault(key, o.principal)
        selectors.setdefault(key, o.selector)
        used.setdefault(key, set()).add((catalog.canonical_action(o.requirement.action) or o.requirement.action).lower())
    out: List[Finding] = []
    for key, principal in principals.items():
        unused = sorted(a for a in granted_actions(principal) if a.lower() not in used[key])
        if not unused:
            continue
        by_service: Dict[str, List[str]] = {}
        for a in unused:
            by_service.setdefault(a.partition(":")[0], []).append(a)
        ranked = sorted(by_service.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        parts = [f"{svc} {len(acts)} ({', '.join(acts[:_SHOWN])}{', …' if len(acts) > _SHOWN else ''})"
                 for svc, acts in ranked[:_SHOWN]]
        rest = len(ranked) - _SHOWN
        more = f", and {rest} more service{'s' if rest > 1 else ''}" if rest > 0 else ""
        n = len(unused)
        out.append(Finding(
            kind="over-permissive", rule="IG1004", severity="note",
            message=f"{selectors[key]}: {n} allowed action{'s' if n > 1 else ''} no requirement uses: "
                    f"{'; '.join(parts)}{more}",
            principal=selectors[key], location=principal.location,
            details=tuple(f"{svc}: {len(acts)} — {', '.join(acts[:8])}{', …' if len(acts) > 8 else ''}"
                          for svc, acts in ranked)))
    return out
