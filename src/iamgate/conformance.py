"""Adapter from the neutral peer-evaluator case format (../shared/conformance) to the engine.

``python3 ../shared/conformance/run.py --engine iamgate.conformance:evaluate``
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from .engine.conditions import condition_matches
from .engine.evaluate import PolicySet, Request, decide, normalize_context
from .engine.match import PatternError, action_matches, pattern_match, resource_element_applies
from .model import Condition, Policy
from .policy import parse_policy, parse_statement

_PRINCIPAL_TYPES = {"iam-user", "iam-role", "assumed-role", "federated-user", "root", "service",
                    "anonymous", "other"}


def _principal_type(pr: Dict[str, Any]) -> str:
    """The engine's caller type. The neutral format's ``federated-user`` covers two callers: a
    GetFederationToken session (``arn:…:sts::…:federated-user/…``) and a web identity or SAML caller,
    whose ``arn`` is its identity provider (``…:oidc-provider/…``, ``…:saml-provider/…``, or a
    provider name such as ``cognito-identity.amazonaws.com``), which the engine tells apart."""
    t = pr.get("type")
    if t not in _PRINCIPAL_TYPES:
        return "other"
    arn = pr.get("arn")
    if t == "federated-user" and arn and ":federated-user/" not in arn:
        return "saml" if ":saml-provider/" in arn else "web-identity"
    return t


def _policies(docs: Any, kind: str) -> Optional[Tuple[Policy, ...]]:
    if docs is None:
        return None
    if isinstance(docs, dict):
        docs = [docs]
    return tuple(parse_policy(d, f"{kind}[{i}]", kind) for i, d in enumerate(docs))


def _levels(levels: Any, kind: str) -> Optional[Tuple[Tuple[Policy, ...], ...]]:
    if levels is None:
        return None
    return tuple(_policies(level, kind) or () for level in levels)


def policy_set(p: Dict[str, Any]) -> PolicySet:
    return PolicySet(
        identity=_policies(p.get("identity"), "identity") or (),
        boundary=_policies(p.get("permissions_boundary"), "boundary"),
        session=_policies(p.get("session"), "session"),
        scp=_levels(p.get("scp"), "scp"),
        rcp=_levels(p.get("rcp"), "rcp"),
        resource=_policies(p.get("resource"), "resource"),
        vpc_endpoint=_policies(p.get("vpc_endpoint"), "vpc_endpoint"),
    )


def request_of(r: Dict[str, Any]) -> Request:
    pr = r.get("principal") or {}
    return Request(
        action=r["action"],
        resource=r.get("resource") or "*",
        principal_type=_principal_type(pr),
        principal_arn=pr.get("arn"),
        principal_account=pr.get("account"),
        resource_account=r.get("resource_account"),
        context=r.get("context") or {},
        # optional, beyond the neutral format: the IAM user a federated user session was made from
        session_issuer_arn=pr.get("issuer"),
    )


def evaluate(case: Dict[str, Any]) -> Any:
    kind = case["kind"]
    if kind == "authorization":
        return decide(request_of(case["request"]), policy_set(case["policies"])).result
    if kind == "condition_operator":
        ctx = normalize_context(case.get("context") or {})
        ctx["iamgate:request"] = case["request_value"]
        cond = Condition(case["operator"], "iamgate:request", tuple(case["policy_values"]))
        return condition_matches(cond, ctx)
    if kind == "condition_block":
        ctx = normalize_context(case.get("context") or {})
        st = parse_statement({"Effect": "Allow", "Condition": case["condition"]})
        return all(condition_matches(c, ctx) for c in st.conditions)
    if kind == "resource_match":
        req = case["request"]
        ctx = normalize_context(req.get("context") or {})
        patterns = tuple(case["patterns"])
        return resource_element_applies(patterns, req["resource"], ctx, case["element"] == "NotResource",
                                        case.get("policy_type", "identity"))
    if kind == "action_match":
        hit = any(action_matches(p, case["action"]) for p in case["patterns"])
        return (not hit) if case["element"] == "NotAction" else hit
    if kind == "pattern_match":
        try:
            return pattern_match(case["pattern"], case["value"], normalize_context(case.get("context") or {}))
        except PatternError:
            return False
    if kind == "statement_applies":
        d = decide(request_of(case["request"]), policy_set(case["policies"]))
        return bool(d.applied(case["effect"]))
    return None
