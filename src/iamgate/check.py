"""The check pipeline: inventory + manifest -> requirements -> decisions -> findings.

Pure: the files have been read (``scan.py``) before anything here runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from . import catalog
from .engine.evaluate import PolicySet, Request, decide
from .engine.match import split_arn
from .manifest import Manifest, PrincipalEntry, Reference, default_context, merge_context, substitute
from .model import Decision, Finding, Inventory, Location, Policy, Principal, Requirement, ResourcePolicy

# model principal types -> the engine's request principal types (a role acts through its sessions,
# but policies name it by its role ARN, which is what the engine matches for "iam-role")
_ENGINE_TYPES = {"role": "iam-role", "user": "iam-user", "group": "iam-user", "assumed-role": "assumed-role",
                 "federated-user": "federated-user", "service": "service", "root": "root",
                 "anonymous": "anonymous"}


@dataclass(frozen=True)
class Outcome:
    """One requirement and how it was decided."""

    selector: str
    principal: Principal
    requirement: Requirement
    decision: Decision
    note: str = ""  # why a decision is unknown, when it is


@dataclass(frozen=True)
class CheckReport:
    findings: Tuple[Finding, ...]
    outcomes: Tuple[Outcome, ...] = ()
    principals: int = 0
    inventory: Inventory = field(default_factory=Inventory)

    @property
    def requirements(self) -> int:
        return len(self.outcomes)

    @property
    def satisfied(self) -> int:
        return sum(1 for o in self.outcomes if o.decision.result == "allow")


# ----------------------------------------------------------------------------- selectors


def find_principals(inventory: Inventory, selector: str) -> List[Principal]:
    """Every principal answering to the selector: exact alias first, then case-insensitively."""
    exact = [p for p in inventory.principals if selector == p.id or selector in p.aliases]
    if exact:
        return exact
    low = selector.lower()
    return [p for p in inventory.principals if low == p.id.lower() or low in (a.lower() for a in p.aliases)]


def _type_from_arn(arn: str) -> str:
    parts = split_arn(arn)
    if parts and parts[2] == "iam":
        kind = parts[5].split("/")[0]
        if kind in ("role", "user"):
            return kind
    if parts and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return "assumed-role"
    return "role"


def external_principal(entry: PrincipalEntry, policies: Tuple[Policy, ...], boundary: Optional[Policy],
                       account: Optional[str], location: Location) -> Principal:
    """A principal that lives outside the scanned code, given by its policy files."""
    arn = entry.selector if entry.selector.startswith("arn:") else None
    parts = split_arn(arn) if arn else None
    return Principal(id=entry.selector, type=_type_from_arn(arn) if arn else "role", arn=arn,
                     account=(parts[4] if parts else None) or account, identity_policies=policies,
                     boundary=boundary, location=location, aliases=(entry.selector,))


# ----------------------------------------------------------------------------- requirements


def expand_actions(actions: Sequence[str]) -> Tuple[List[str], List[Tuple[str, str, Optional[str]]]]:
    """Canonical actions, and (action, problem, suggestion) for those the catalog does not know."""
    good: List[str] = []
    bad: List[Tuple[str, str, Optional[str]]] = []
    for a in actions:
        if "*" in a or "?" in a:
            expanded = catalog.expand_action(a)
            if expanded:
                good.extend(expanded)
                continue
        canon = catalog.canonical_action(a)
        if canon:
            good.append(canon)
            continue
        chk = catalog.check_action(a)
        bad.append((a, chk.problem or f"unknown action {a}", chk.suggestion))
    seen = set()
    return [a for a in good if not (a in seen or seen.add(a))], bad


def pseudo_parameters(manifest: Manifest) -> Dict[str, str]:
    s = manifest.settings
    suffix = "amazonaws.com.cn" if s.partition == "aws-cn" else "amazonaws.com"
    out = {"AWS::Region": s.region, "AWS::Partition": s.partition, "AWS::URLSuffix": suffix}
    if s.account:
        out["AWS::AccountId"] = s.account
    return out


Resolver = Callable[[Reference], Optional[str]]


def make_resolver(manifest: Manifest, inventory: Inventory) -> Resolver:
    """Resolves pseudo parameters from settings and references from what the readers found.

    A reference that names two different values (two templates with the same logical ID) is
    ambiguous and stays unresolved.
    """
    pseudo = pseudo_parameters(manifest)
    known: Dict[str, set] = {}
    for key, value in inventory.references:
        known.setdefault(key, set()).add(value)

    def resolve(ref: Reference) -> Optional[str]:
        if ref.kind == "pseudo":
            return pseudo.get(ref.text)
        values = known.get(ref.text)
        if values and len(values) == 1:
            return next(iter(values))
        return None
    return resolve


def request_region(resource: str, default: str) -> str:
    parts = split_arn(resource)
    if parts and parts[3] and "*" not in parts[3] and "?" not in parts[3]:
        return parts[3]
    return default


def _resource_account(resource: str, principal_account: Optional[str]) -> Optional[str]:
    parts = split_arn(resource)
    if parts and parts[4] and "*" not in parts[4]:
        return parts[4]
    return principal_account  # S3 and other ARNs without an account: taken to be the principal's


def resource_policies_for(inventory: Inventory, resource: str) -> Tuple[ResourcePolicy, ...]:
    """Policies attached to the resource or to a container of it (a bucket for its objects)."""
    out = []
    for rp in inventory.resource_policies:
        r = rp.resource
        if resource == r or resource.startswith(r + "/") or resource.startswith(r + ":"):
            out.append(rp)
    return tuple(out)


def trust_policies_for(inventory: Inventory, resource: str) -> Tuple[Policy, ...]:
    return tuple(p.trust_policy for p in inventory.principals
                 if p.trust_policy is not None and p.arn == resource)


_TRUST_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
                  "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext")


def policy_set(principal: Principal, action: str, resource: str, inventory: Inventory,
               scp: Tuple[Tuple[Policy, ...], ...], rcp: Tuple[Tuple[Policy, ...], ...]
               ) -> Tuple[PolicySet, str]:
    """The policies that take part in a request, and a note when one that matters is not known."""
    note = ""
    if action in _TRUST_ACTIONS and ":role/" in resource:
        res = trust_policies_for(inventory, resource)
        if not res:
            note = f"the trust policy of {resource} is not in the scanned files"
    else:
        res = tuple(rp.policy for rp in resource_policies_for(inventory, resource))
        if not res and action.startswith("kms:") and ":key/" in resource:
            note = f"the key policy of {resource} is not in the scanned files"
    return PolicySet(
        identity=principal.identity_policies,
        boundary=(principal.boundary,) if principal.boundary is not None else None,
        scp=scp or None,
        rcp=rcp or None,
        resource=res or None,
    ), note


def guardrail_levels(inventory: Inventory, manifest: Optional[Manifest], files: Mapping[str, Tuple[Policy, ...]]
                     ) -> Tuple[Tuple[Tuple[Policy, ...], ...], Tuple[Tuple[Policy, ...], ...]]:
    """SCP and RCP levels: those the code defines, then the manifest's guardrail files."""
    scp: Tuple[Tuple[Policy, ...], ...] = tuple(inventory.scp)
    rcp: Tuple[Tuple[Policy, ...], ...] = tuple(inventory.rcp)
    if manifest is not None:
        scp += tuple(files.get(manifest.resolve(f), ()) for f in manifest.scp)
        rcp += tuple(files.get(manifest.resolve(f), ()) for f in manifest.rcp)
    return scp, rcp


def request_context(principal: Principal, resource: str, region: str,
                    extra: Mapping[str, object] = {}) -> Dict[str, object]:
    """What AWS would fill in for this principal (DESIGN.md, "Request context"), with
    ``aws:RequestedRegion`` from the resource's ARN where it names one; ``extra`` adds or overrides."""
    base = dict(default_context(principal.type, principal.arn, principal.account,
                                principal.id if principal.type == "user" else None, principal.tags, region))
    base["aws:RequestedRegion"] = request_region(resource, region)
    return merge_context(base, dict(extra))


def policies_considered(principal: Principal, action: str, resource: str, inventory: Inventory,
                        scp: Tuple[Tuple[Policy, ...], ...], rcp: Tuple[Tuple[Policy, ...], ...]
                        ) -> Tuple[Tuple[str, Policy], ...]:
    """Every policy that takes part in a request, with its kind, for traces."""
    ps, _ = policy_set(principal, action, resource, inventory, scp, rcp)
    out: List[Tuple[str, Policy]] = [("identity", p) for p in ps.identity]
    out += [("boundary", p) for p in ps.boundary or ()]
    out += [("scp", p) for level in ps.scp or () for p in level]
    out += [("rcp", p) for level in ps.rcp or () for p in level]
    out += [("resource", p) for p in ps.resource or ()]
    return tuple(out)


def decide_requirement(principal: Principal, req: Requirement, inventory: Inventory,
                       scp: Tuple[Tuple[Policy, ...], ...], rcp: Tuple[Tuple[Policy, ...], ...],
                       context: Mapping[str, object]) -> Tuple[Decision, str]:
    """Decide one requirement; a decision that hinges on a policy outside the code is unknown."""
    ps, note = policy_set(principal, req.action, req.resource, inventory, scp, rcp)
    res_account = _resource_account(req.resource, principal.account)
    request = Request(action=req.action, resource=req.resource,
                      principal_type=_ENGINE_TYPES.get(principal.type, "iam-role"),
                      principal_arn=principal.arn, principal_account=principal.account,
                      resource_account=res_account, context=context,
                      resource_is_pattern="*" in req.resource or "?" in req.resource)
    d = decide(request, ps)
    if d.result == "implicit_deny":
        if note and set(d.blocked_by) & {"trust", "kms-key-policy"}:
            return replace(d, result="unknown"), note
        cross = res_account is not None and principal.account is not None and res_account != principal.account
        if cross and ps.resource is None and d.blocked_by == ("resource",):
            return replace(d, result="unknown"), (f"{req.resource} is in account {res_account}; its resource "
                                                  "policy is not in the scanned files")
    if d.result == "unknown":
        note = note or "a policy that could apply holds values that could not be resolved"
    return d, note


# ----------------------------------------------------------------------------- findings


def finding_for(outcome: Outcome) -> Finding:
    d, req = outcome.decision, outcome.requirement
    what = {"implicit_deny": "implicit deny", "explicit_deny": "explicit deny", "unknown": "unknown"}[d.result]
    blockers = ", ".join(d.blocked_by)
    message = f"{req.action} on {req.resource}: {what}"
    if blockers:
        message += f" ({blockers})"
    if outcome.note:
        message += f" — {outcome.note}"
    return Finding(kind="missing-permission", rule="IG1002" if d.result == "unknown" else "IG1001", severity="error",
                   message=message,
                   principal=outcome.selector, action=req.action, resource=req.resource, decision=d,
                   location=outcome.principal.location or req.origin)


def check(inventory: Inventory, manifest: Optional[Manifest],
          files: Mapping[str, Tuple[Policy, ...]] = {}) -> CheckReport:
    """Decide every requirement of the manifest against the inventory.

    ``files`` holds the policies of the files the manifest names (guardrails, policies, boundary),
    keyed by the path as the manifest resolves it; a missing key means the file could not be read
    (the reader already reported why).
    """
    findings: List[Finding] = list(inventory.problems)
    for u in inventory.unresolved:
        findings.append(Finding(kind="unresolved", rule="IG0201", severity="error",
                                message=f"could not resolve {u.expression}", location=u.location))
    if manifest is None:
        return CheckReport(tuple(findings), (), len(inventory.principals), inventory)

    mloc = lambda line: Location(manifest.file, line)  # noqa: E731
    scp, rcp = guardrail_levels(inventory, manifest, files)
    resolve = make_resolver(manifest, inventory)
    outcomes: List[Outcome] = []
    principals_checked = 0

    for entry in manifest.principals:
        principal = principal_for(entry, inventory, manifest, files, findings, mloc(entry.line))
        if principal is None:
            continue
        principals_checked += 1
        for need in entry.needs:
            actions, unknown = expand_actions(need.actions)
            for action, problem, suggestion in unknown:
                hint = f" — did you mean {suggestion}?" if suggestion else ""
                findings.append(Finding(kind="unknown-action", rule="IG1003", severity="error",
                                        message=f"{problem}{hint}", principal=entry.selector, action=action,
                                        location=mloc(need.line)))
            for raw in need.resources:
                resource, missing = substitute(raw, resolve)
                for ref in missing:
                    findings.append(Finding(kind="unresolved", rule="IG0202", severity="error",
                                            message=f"could not resolve ${{{ref.text}}} in {raw}",
                                            principal=entry.selector, resource=raw, location=mloc(need.line)))
                for action in actions:
                    req = Requirement(entry.selector, action, resource, need.context, mloc(need.line))
                    if missing:
                        d = Decision("unknown")
                        outcomes.append(Outcome(entry.selector, principal, req, d,
                                                f"the resource {raw} could not be resolved"))
                        continue
                    ctx = request_context(principal, resource, manifest.settings.region, need.context)
                    d, note = decide_requirement(principal, req, inventory, scp, rcp, ctx)
                    outcomes.append(Outcome(entry.selector, principal, req, d, note))

    findings.extend(finding_for(o) for o in outcomes if o.decision.result != "allow")
    return CheckReport(tuple(findings), tuple(outcomes), principals_checked, inventory)


def principal_for(entry: PrincipalEntry, inventory: Inventory, manifest: Manifest,
                   files: Mapping[str, Tuple[Policy, ...]], findings: List[Finding],
                   where: Location) -> Optional[Principal]:
    extra: Tuple[Policy, ...] = tuple(p for f in entry.policies for p in files.get(manifest.resolve(f), ()))
    boundary_policies = files.get(manifest.resolve(entry.boundary), ()) if entry.boundary else ()
    boundary = _combine(boundary_policies, "boundary") if boundary_policies else None
    found = find_principals(inventory, entry.selector)
    if len(found) > 1:
        names = ", ".join(f"{p.id} ({p.location})" if p.location else p.id for p in found)
        findings.append(Finding(kind="manifest-error", rule="IG0103", severity="error",
                                message=f'principal "{entry.selector}" matches {len(found)} principals: {names}',
                                principal=entry.selector, location=where))
        return None
    if found:
        p = found[0]
        if extra or boundary:
            p = replace(p, identity_policies=p.identity_policies + extra, boundary=boundary or p.boundary)
        return p
    if entry.policies or entry.boundary:
        return external_principal(entry, extra, boundary, manifest.settings.account, where)
    if entry.needs:
        known = ", ".join(sorted(p.id for p in inventory.principals)[:8]) or "none"
        findings.append(Finding(kind="manifest-error", rule="IG0102", severity="error",
                                message=f'principal "{entry.selector}" is not in the scanned files '
                                        f'(principals found: {known})', principal=entry.selector, location=where))
    return None


def _combine(policies: Tuple[Policy, ...], kind: str) -> Policy:
    """Several documents given as one boundary file act as one policy."""
    if len(policies) == 1:
        return replace(policies[0], kind=kind)
    first = policies[0]
    return Policy(first.name, kind, tuple(s for p in policies for s in p.statements), first.location, first.version)
