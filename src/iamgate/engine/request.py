"""From the model to the engine: a requirement in a :class:`~iamgate.model.Scope` as a request.

The engine (``evaluate.decide``) takes a :class:`Request` and a :class:`PolicySet`; this module
builds both for a principal of the scope — the request context AWS would fill in for that
principal (DESIGN.md, "Request context"), the policies that take part (identity, boundary,
guardrail levels, the resource's policy or the role's trust policy) — and decides, turning a
decision that hinges on a policy outside the scanned files into ``unknown``. ``check``,
``simulate`` and ``explain`` all decide through :func:`decide_one` or :func:`decide_requirement`.

Pure, like the rest of the engine: imports model, policy and catalog only.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Tuple

from ..model import ContextValue, Decision, Policy, Principal, Requirement, ResourcePolicy, Scope
from .evaluate import PolicySet, Request, decide
from .match import split_arn

# model principal types -> the engine's request principal types (a role acts through its sessions,
# but policies name it by its role ARN, which is what the engine matches for "iam-role")
_ENGINE_TYPES = {"role": "iam-role", "user": "iam-user", "group": "iam-user", "assumed-role": "assumed-role",
                 "federated-user": "federated-user", "service": "service", "root": "root",
                 "anonymous": "anonymous"}

# actions whose resource policy is the role's trust policy
TRUST_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
                 "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext")


# ----------------------------------------------------------------------------- request context

_PRINCIPAL_TYPES = {"role": "AssumedRole", "assumed-role": "AssumedRole", "user": "User",
                    "root": "Account", "federated-user": "FederatedUser", "anonymous": "Anonymous"}


@lru_cache(maxsize=4096)  # one per principal, asked again for each of its requirements
def _synthetic_id(prefix: str, arn: str) -> str:
    """A stable, made-up unique ID (prefix + 17 characters) in the shape AWS uses: the real one
    is assigned at creation time and cannot be known offline."""
    digest = base64.b32encode(hashlib.sha256(arn.encode()).digest()).decode()
    return prefix + digest[:17]


def _role_arn(arn: str) -> str:
    """``arn:aws:sts::1:assumed-role/R/S`` -> ``arn:aws:iam::1:role/R`` (what aws:PrincipalArn holds)."""
    m = re.fullmatch(r"arn:([^:]+):sts::([0-9]{12}):assumed-role/([^/]+)/.*", arn)
    return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}" if m else arn


def default_context(principal_type: str, arn: Optional[str], account: Optional[str], name: Optional[str],
                    tags: Mapping[str, str], region: str) -> Dict[str, str]:
    """The request context AWS would fill in for a request by this principal, and nothing else.

    ``principal_type`` is a :class:`iamgate.model.Principal` type. A role acts through a session,
    so its ``aws:PrincipalType`` is ``AssumedRole`` and ``aws:PrincipalArn`` is the role ARN.
    ``aws:userid`` is synthetic (``AROA…:iamgate`` for roles, ``AIDA…`` for users, derived from
    the ARN so that it is stable): the real unique ID does not exist before deployment.
    Keys whose value is unknown (no ARN, no account) are left out. Raises ``ValueError`` for a
    type that never signs requests itself (``group``, ``service``).
    """
    if principal_type not in _PRINCIPAL_TYPES:
        raise ValueError(f"no request context for a principal of type {principal_type!r}")
    kind = _PRINCIPAL_TYPES[principal_type]
    if arn and kind == "AssumedRole":
        arn = _role_arn(arn)
    if account is None and arn:
        parts = arn.split(":")
        account = parts[4] if len(parts) > 5 and parts[4] else None
    if name is None and arn and kind in ("User", "AssumedRole"):
        name = arn.rsplit("/", 1)[-1]

    ctx: Dict[str, str] = {}
    if arn and kind != "Anonymous":
        ctx["aws:PrincipalArn"] = arn
    if account and kind != "Anonymous":
        ctx["aws:PrincipalAccount"] = account
    ctx["aws:PrincipalType"] = kind
    key = arn or name or ""
    if kind == "AssumedRole":
        ctx["aws:userid"] = _synthetic_id("AROA", key) + ":iamgate"
    elif kind == "User":
        ctx["aws:userid"] = _synthetic_id("AIDA", key)
        if name:
            ctx["aws:username"] = name
    elif kind == "Account" and account:
        ctx["aws:userid"] = account
    elif kind == "FederatedUser" and account:
        ctx["aws:userid"] = f"{account}:{name or 'iamgate'}"
    elif kind == "Anonymous":
        ctx["aws:userid"] = "anonymous"
    for tag, value in tags.items():
        ctx[f"aws:PrincipalTag/{tag}"] = value
    ctx["aws:RequestedRegion"] = region
    ctx["aws:SecureTransport"] = "true"
    return ctx


def merge_context(default: Mapping[str, ContextValue], need_context: Mapping[str, ContextValue]
                  ) -> Dict[str, ContextValue]:
    """``default`` with ``need_context`` laid over it. Condition keys are case-insensitive, so a
    need's ``AWS:SecureTransport`` replaces the default ``aws:SecureTransport`` (the need's
    spelling is kept)."""
    merged: Dict[str, ContextValue] = dict(default)
    for key, value in need_context.items():
        for existing in [k for k in merged if k.casefold() == key.casefold()]:
            del merged[existing]
        merged[key] = value
    return merged


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


# ----------------------------------------------------------------------------- the policies of a request


def resource_policies_for(scope: Scope, resource: str) -> Tuple[ResourcePolicy, ...]:
    """Policies attached to the resource or to a container of it (a bucket for its objects)."""
    out = []
    for rp in scope.inventory.resource_policies:
        r = rp.resource
        if resource == r or resource.startswith(r + "/") or resource.startswith(r + ":"):
            out.append(rp)
    return tuple(out)


def trust_policies_for(scope: Scope, resource: str) -> Tuple[Policy, ...]:
    """The trust policy of the role ``resource`` names, where the scanned files define it."""
    return tuple(p.trust_policy for p in scope.inventory.principals
                 if p.trust_policy is not None and p.arn == resource)


def policy_set(scope: Scope, principal: Principal, action: str, resource: str) -> Tuple[PolicySet, str]:
    """The policies that take part in a request, and a note when one that matters is not known."""
    note = ""
    if action in TRUST_ACTIONS and ":role/" in resource:
        res = trust_policies_for(scope, resource)
        if not res:
            note = f"the trust policy of {resource} is not in the scanned files"
    else:
        res = tuple(rp.policy for rp in resource_policies_for(scope, resource))
        if not res and action.startswith("kms:") and ":key/" in resource:
            note = f"the key policy of {resource} is not in the scanned files"
    return PolicySet(
        identity=principal.identity_policies,
        boundary=(principal.boundary,) if principal.boundary is not None else None,
        scp=scope.scp or None,
        rcp=scope.rcp or None,
        resource=res or None,
    ), note


# ----------------------------------------------------------------------------- deciding


def request_context(principal: Principal, resource: str, region: str,
                    extra: Mapping[str, object] = {}) -> Dict[str, object]:
    """What AWS would fill in for this principal (DESIGN.md, "Request context"), with
    ``aws:RequestedRegion`` from the resource's ARN where it names one; ``extra`` adds or overrides.
    A service principal (``sns.amazonaws.com`` delivering to a queue) signs no request of its own: AWS
    fills in ``aws:PrincipalServiceName`` and ``aws:PrincipalIsAWSService``, and the source's ARN and
    account come from ``extra`` (the inferred requirement's context)."""
    if principal.type == "service":
        service = {"aws:PrincipalServiceName": principal.arn or principal.id, "aws:PrincipalIsAWSService": "true",
                   "aws:RequestedRegion": request_region(resource, region), "aws:SecureTransport": "true"}
        return merge_context(service, dict(extra))
    base = dict(default_context(principal.type, principal.arn, principal.account,
                                principal.id if principal.type == "user" else None, principal.tags, region))
    base["aws:RequestedRegion"] = request_region(resource, region)
    return merge_context(base, dict(extra))


def policies_considered(scope: Scope, principal: Principal, action: str, resource: str
                        ) -> Tuple[Tuple[str, Policy], ...]:
    """Every policy that takes part in a request, with its kind, for traces."""
    ps, _ = policy_set(scope, principal, action, resource)
    out: List[Tuple[str, Policy]] = [("identity", p) for p in ps.identity]
    out += [("boundary", p) for p in ps.boundary or ()]
    out += [("scp", p) for level in ps.scp or () for p in level]
    out += [("rcp", p) for level in ps.rcp or () for p in level]
    out += [("resource", p) for p in ps.resource or ()]
    return tuple(out)


def decide_requirement(scope: Scope, principal: Principal, req: Requirement,
                       context: Mapping[str, object], allowed_near_misses: bool = True) -> Tuple[Decision, str]:
    """Decide one requirement; a decision that hinges on a policy outside the code is unknown.
    (``allowed_near_misses``: ``decide``'s.)"""
    ps, note = policy_set(scope, principal, req.action, req.resource)
    res_account = _resource_account(req.resource, principal.account)
    request = Request(action=req.action, resource=req.resource,
                      principal_type=_ENGINE_TYPES.get(principal.type, "iam-role"),
                      principal_arn=principal.arn, principal_account=principal.account,
                      resource_account=res_account, context=context,
                      resource_is_pattern="*" in req.resource or "?" in req.resource)
    d = decide(request, ps, allowed_near_misses)
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


@dataclass(frozen=True)
class Decided:
    """One request decided with everything a trace shows: the decision, why it is unknown when it
    is, the request context used and every policy that took part."""

    decision: Decision
    note: str
    context: Mapping[str, object]
    considered: Tuple[Tuple[str, Policy], ...]


def decide_one(scope: Scope, principal: Principal, selector: str, action: str, resource: str,
               extra: Mapping[str, object] = {}, region: Optional[str] = None) -> Decided:
    """Decide one request by ``principal`` with its whole trace (``simulate`` and ``explain``):
    the context AWS would fill in (``region`` defaults to the scope's), with ``extra`` laid over it."""
    ctx = request_context(principal, resource, region or scope.region, extra)
    decision, note = decide_requirement(scope, principal, Requirement(selector, action, resource, {}, None), ctx)
    return Decided(decision, note, ctx, policies_considered(scope, principal, action, resource))
