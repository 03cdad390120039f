"""``simulate``: one request decided against the scope, with the whole trace (an offline policy
simulator). The result is rendered by ``report/simulate.py``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

from .. import catalog
from ..engine.request import decide_one
from ..manifest import substitute
from ..model import Decision, Manifest, Policy, Principal, Requirement, Scope, find_principals
from .check import make_resolver
from .diagnose import cause_lines


@dataclass(frozen=True)
class Simulation:
    selector: str
    action: str
    resource: str
    principal: Optional[Principal] = None
    decision: Optional[Decision] = None
    note: str = ""
    context: Mapping[str, object] = field(default_factory=dict)
    considered: Tuple[Tuple[str, Policy], ...] = ()
    error: str = ""
    cause: Tuple[str, ...] = ()  # why it is not allowed, in words (empty when it is)


def simulate(scope: Scope, selector: str, action: str, resource: str,
             context: Mapping[str, object]) -> Simulation:
    canon = catalog.canonical_action(action)
    if canon is None:
        chk = catalog.check_action(action)
        hint = f" — did you mean {chk.suggestion}?" if chk.suggestion else ""
        return Simulation(selector, action, resource, error=f"{chk.problem or 'unknown action ' + action}{hint}")
    if "${" in resource:  # the manifest's references: ${OrdersTable.Arn}, ${aws_sqs_queue.jobs.arn}
        manifest = scope.manifest or Manifest(file="", settings=scope.settings)
        written = resource
        resource, missing = substitute(written, make_resolver(manifest, scope.inventory))
        if missing:
            names = ", ".join("${" + ref.text + "}" for ref in missing)
            return Simulation(selector, canon, written, error=f"could not resolve {names} in {written}")
    found = find_principals(scope.inventory, selector)
    if len(found) != 1:
        read = scope.read or scope.inventory
        known = ", ".join(sorted(p.id for p in read.principals)[:10]) or "none"
        what = "matches no principal" if not found else f"matches {len(found)} principals"
        return Simulation(selector, canon, resource, error=f'"{selector}" {what} (principals found: {known})')
    principal = found[0]
    d = decide_one(scope, principal, selector, canon, resource, context)
    cause = () if d.decision.allowed else tuple(
        cause_lines(principal, Requirement(selector, canon, resource), d.decision, d.note))
    return Simulation(selector, canon, resource, principal, d.decision, d.note, d.context, d.considered,
                      cause=cause)
