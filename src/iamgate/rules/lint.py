"""The policy lint rules of ``rules/policy-lint.yaml`` (IG31xx): what a policy grants too widely,
or a condition that cannot do what it says — decided from the IAM catalog (``catalog/``: each
action's resource types and condition keys), never from hand-written action lists, except the
privilege-escalation combinations, which are Rhino Security Labs' documented list.

Each function is registered with ``builtin.check`` under the rule whose ``check:`` names it; the
pack holds the rule's severity and documentation. What each looks at:

- IG3101/IG3102/IG3103 — an Allow with NotAction / NotResource, and an unknown action in the
  NotAction of an Allow (it excludes nothing, so the statement grants every action).
- IG3104 — an Allow of wildcard actions on ``Resource: "*"`` in an identity policy: only the
  actions that take a resource count (``s3:ListAllMyBuckets`` is authorized against ``*`` whatever
  the policy says: ``engine.evaluate.takes_no_resource``).
- IG3105 — iam:PassRole on every role (``*``, ``role/*``), not narrowed by iam:PassedToService.
- IG3106 — a privilege-escalation combination granted by one identity policy on ``*`` (or, for
  the iam actions, on IAM users, groups, roles or policies).
- IG3107 — a resource policy that allows anyone (``Principal: "*"``) with no condition on who
  the caller is or where it comes from.
- IG3108 — a role trust policy that lets another account (or anyone) assume the role without
  sts:ExternalId or an organization condition. The role's own account comes from the role that
  holds the trust policy (``current_inventory``); when it is the stand-in account (settings.account
  unset) every account written in the policy is another account: the code's own account would be
  written as ``${AWS::AccountId}`` and read as the stand-in. A trust policy of no role read (a
  file of its own) is only checked for ``"*"``.
- IG3109/IG3110 — a condition key that AWS never sets on the request of an action the statement
  names (the catalog lists, for each action, the keys of the action and of its resource types;
  ``aws:`` keys are global).
"""
from __future__ import annotations

import functools
import re
from typing import Callable, Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from ..catalog import action_info, expand_action, service_exists
from ..catalog.actions import check_action, condition_keys_of, service_condition_keys
from ..catalog.managed import managed_policy, policy_names
from ..engine.evaluate import takes_no_resource
from ..model import ASSUMED_ACCOUNT, Condition, Finding, Inventory, Policy, Statement
from ..policy import parse_operator
from .builtin import _finding, _where, check, current_inventory

__all__ = ["allow_not_action", "allow_not_resource", "not_action_unknown", "wildcard_on_all_resources",
           "pass_role_on_all_roles", "privilege_escalation", "public_resource_policy", "cross_account_trust",
           "allow_condition_key_not_applicable", "deny_condition_key_not_applicable"]

_CODE = {"code"}
_SHOWN = 4  # actions named in a message before "…"


def _gist(policy: Policy) -> Tuple[Tuple[object, ...], ...]:
    return tuple((st.effect, st.actions, st.not_actions, st.resources, st.not_resources) for st in policy.statements)


def aws_copy(policy: Policy) -> bool:
    """Whether the document is a copy of the AWS managed policy of its name (a file of AWS's
    policies kept in the repository): AWS's to change, not the user's, like the managed policy it is."""
    if policy.name not in _managed_names():
        return False
    managed = managed_policy(policy.name)
    return managed is not None and _gist(managed) == _gist(policy)


@functools.lru_cache(maxsize=1)
def _managed_names() -> FrozenSet[str]:
    """The names of the AWS managed policies, kept in the cache folder per snapshot: finding them
    means decompressing the 3 MB snapshot, 20 ms of every run (every policy is asked about)."""
    import json

    from ..cache import cached_json, code_digest
    from ..catalog import managed
    snapshot = managed.snapshot_path()
    source = json.dumps([code_digest(managed.__file__, snapshot), managed.snapshot_info()], sort_keys=True)
    return frozenset(cached_json("aws-managed-names", source, lambda: list(policy_names())))


def _users_check(rule: str, *, origins: Iterable[str] = _CODE, per_statement: bool = True,
                 when: Optional[Callable[[Policy], bool]] = None,
                 body: Optional[Callable] = None) -> Callable[[Callable], Callable]:
    """Register the decorated function (``builtin.check``) as the check of ``rule``, run only on
    documents that are not copies of an AWS managed policy. ``when``: what the function itself
    requires of the whole policy (its kind, ``_grants``); with the copy test, asked once per policy
    rather than in the call for each statement (``builtin.Check``); ``body``: the function without
    its ``when`` test, called on the statements of a policy ``when`` holds for."""

    def register(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(policy: Policy, *args):
            return [] if aws_copy(policy) else fn(policy, *args)

        def users(policy: Policy) -> bool:
            return not aws_copy(policy) and (when is None or when(policy))

        check(rule, origins=origins, per_statement=per_statement,
              when=users if per_statement else None, body=(body or fn) if per_statement else None)(run)
        return run
    return register


def _key(policy: Policy) -> Tuple[object, ...]:
    """What makes a policy met twice (a managed policy read, then as a role's boundary) one document:
    where it is written and what its statements say. (Not where each statement is written: within
    one document that follows from what they say, and a reader may find it only when asked.)"""
    return (policy.location, tuple((st.effect, st.actions, st.not_actions, st.resources,
                                    st.not_resources, st.conditions) for st in policy.statements))


class _Index:
    """What the checks ask of the inventory being linted, gathered once per inventory: the policies
    used only as permissions boundaries, and the account of the role of each trust policy.

    ``lint`` runs every check of one policy before the next policy, so what is looked up by the
    policy's ``_key`` (a tuple of every statement: hashing it costs as much as the statements) is
    remembered for the policy last asked about, by identity: once per policy, not once per
    statement and check, and never another document's answer (the policy is held, so its id
    cannot be reused)."""

    def __init__(self, inventory: Inventory) -> None:
        boundaries = set()
        self.trust: Dict[Tuple[object, ...], Optional[str]] = {}
        for p in inventory.principals:
            if p.boundary is not None:
                boundaries.add(_key(p.boundary))
            if p.trust_policy is not None:
                parts = (p.arn or "").split(":")
                account = p.account or (parts[4] if len(parts) > 5 and parts[4] else None)
                self.trust.setdefault(_key(p.trust_policy), account)
        if boundaries:  # else nothing to take away: every identity policy's key is not worth hashing
            boundaries.difference_update(_key(q) for p in inventory.principals for q in p.identity_policies)
        self.boundary_only = frozenset(boundaries)
        self._boundary: Tuple[Optional[Policy], bool] = (None, False)  # (the policy, whether boundary-only)
        self._own: Tuple[Optional[Policy], Optional[str]] = (None, None)  # (the policy, its role's account)

    def boundary_only_policy(self, policy: Policy) -> bool:
        """Whether ``policy`` is one the inventory uses only as a permissions boundary."""
        if self._boundary[0] is not policy:
            self._boundary = (policy, bool(self.boundary_only) and _key(policy) in self.boundary_only)
        return self._boundary[1]

    def own_account(self, policy: Policy) -> Optional[str]:
        """The account of the role whose trust policy ``policy`` is (``_own_account``)."""
        if self._own[0] is not policy:
            self._own = (policy, self.trust.get(_key(policy), _UNKNOWN))
        return self._own[1]


_INDEX: List[object] = [None, None]  # [the inventory, its _Index]


def _index() -> Optional[_Index]:
    inventory = current_inventory()
    if inventory is None:
        return None
    if _INDEX[0] is not inventory:
        _INDEX[:] = [inventory, _Index(inventory)]
    return _INDEX[1]  # type: ignore[return-value]


def _grants(policy: Policy) -> bool:
    """Whether the policy grants permissions: an identity policy, but not one the inventory being
    linted uses only as a permissions boundary (an AWS::IAM::ManagedPolicy named by a role's
    PermissionsBoundary is read as a managed policy first; a boundary of "*" only caps)."""
    if policy.kind != "identity":
        return False
    index = _index()
    return index is None or not index.boundary_only_policy(policy)


def _allow(statement: Statement) -> bool:
    return statement.effect == "Allow"


def _some(items: Sequence[str], total: Optional[int] = None) -> str:
    total = len(items) if total is None else total
    shown = ", ".join(items[:_SHOWN])
    return shown + (f", … ({total - _SHOWN} more)" if total > _SHOWN else "")


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str) -> "re.Pattern[str]":
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower()),
                      re.DOTALL)


def _matches(patterns: Iterable[str], action: str) -> bool:
    lowered = action.lower()
    return any(_glob(p).fullmatch(lowered) for p in patterns)


def grants(statement: Statement, action: str) -> bool:
    """Whether the statement's Action (or NotAction) covers ``action`` (case-insensitive globs)."""
    if statement.actions is not None:
        return _matches(statement.actions, action)
    if statement.not_actions is not None:
        return not _matches(statement.not_actions, action)
    return False


# ------------------------------------------------------------------------------ NotAction / NotResource


@_users_check("IG3101", when=lambda policy: policy.kind in ("identity", "resource") and any(
    s.not_actions is not None for s in policy.statements))
def allow_not_action(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if not _allow(statement) or statement.not_actions is None or policy.kind not in ("identity", "resource"):
        return []
    return [_finding("IG3101", f"{policy.name}: Statement[{index}]: Allow with NotAction grants every action "
                               f"that applies to its resources but {_some(list(statement.not_actions))}, "
                               "including those AWS adds later (list the actions in Action instead)",
                     _where(policy, statement), ("Statement", index, "NotAction"))]


@_users_check("IG3102", when=lambda policy: policy.kind in ("identity", "resource") and any(
    s.not_resources is not None for s in policy.statements))
def allow_not_resource(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if not _allow(statement) or statement.not_resources is None or policy.kind not in ("identity", "resource"):
        return []
    return [_finding("IG3102", f"{policy.name}: Statement[{index}]: Allow with NotResource grants the actions on "
                               f"every resource but {_some(list(statement.not_resources))}, including those of "
                               "other accounts and resources created later (list the resources in Resource instead)",
                     _where(policy, statement), ("Statement", index, "NotResource"))]


@_users_check("IG3103", when=lambda policy: any(s.not_actions for s in policy.statements))
def not_action_unknown(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if not _allow(statement) or not statement.not_actions or "NotAction" in statement.unresolved:
        return []
    out = []
    for action in dict.fromkeys(statement.not_actions):
        result = check_action(action)
        if result.ok:
            continue
        hint = f" (did you mean {result.suggestion}?)" if result.suggestion else ""
        out.append(_finding("IG3103", f"{policy.name}: Statement[{index}]: NotAction names {action}, which is no IAM "
                                      f"action{hint}: it excludes nothing, and this Allow grants it together with "
                                      "every other action", _where(policy, statement),
                            ("Statement", index, "NotAction"), action))
    return out


# ------------------------------------------------------------------------------ wildcards


def _all_resources(statement: Statement) -> bool:
    return "*" in (statement.resources or ()) and "Resource" not in statement.unresolved


@functools.lru_cache(maxsize=2048)
def _taking_resources(pattern: str) -> Tuple[str, ...]:
    """The actions ``pattern`` matches that take a resource (the others are authorized against ``*``),
    but those of access level List (they enumerate resources and read no data: ``ec2:Describe*`` on
    ``*`` is how AWS's own read-only policies grant discovery).

    Kept in the cache directory per catalog version and pattern: ``*`` or ``ec2:*`` reads thousands
    of actions of hundreds of services' files, on every run that meets one."""
    from ..cache import cached_json, code_digest
    from ..catalog import actions, data_version
    from ..engine import evaluate

    def compute() -> List[str]:
        return [a for a in expand_action(pattern)
                if not takes_no_resource(a) and (action_info(a) or _NO_INFO).access_level != "List"]
    code = code_digest(__file__, actions.__file__, evaluate.__file__)
    return tuple(cached_json("wildcards", f"{code}\0{data_version()}\0{pattern}", compute))


class _NoInfo:
    access_level = ""


_NO_INFO = _NoInfo()


def _wildcards(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    """IG3104 in a statement of a policy that grants (``_grants``)."""
    if not _allow(statement) or not statement.actions or not _all_resources(statement) \
            or "Action" in statement.unresolved:
        return []
    patterns = [a for a in dict.fromkeys(statement.actions) if "*" in a or "?" in a]
    actions: Dict[str, None] = {}
    for p in patterns:
        actions.update(dict.fromkeys(_taking_resources(p)))
    if not actions:
        return []
    named = list(actions)
    return [_finding("IG3104", f"{policy.name}: Statement[{index}]: {', '.join(patterns)} on Resource \"*\" grants "
                               f"{len(named)} action{'s that take' if len(named) > 1 else ' that takes'} a resource on every "
                               f"resource: {_some(named)} (name the actions and their resources)",
                     _where(policy, statement), ("Statement", index, "Action"))]


@_users_check("IG3104", when=lambda policy: _grants(policy) and any(map(_all_resources, policy.statements)),
              body=_wildcards)
def wildcard_on_all_resources(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    return _wildcards(policy, index, statement) if _grants(policy) else []


_EVERY_ROLE = re.compile(r"^arn:[^:]*:iam::[^:]*:(\*|role/\*)$")


def _positive(condition: Condition) -> bool:
    """A condition that holds only when its key is present with a matching value."""
    qualifier, base, if_exists = parse_operator(condition.operator)
    return not if_exists and base != "null" and "not" not in base and qualifier != "forallvalues"


def _keyed(statement: Statement, keys: FrozenSet[str]) -> bool:
    return any(c.key.lower() in keys and _positive(c) for c in statement.conditions)


_PASS_ROLE_ELEMENTS = frozenset({"Action", "NotAction", "Resource", "Condition"})


def _pass_role(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    """IG3105 in a statement of a policy that grants (``_grants``)."""
    if not _allow(statement) or "iam:PassRole" not in _escalation_actions(statement) \
            or not _PASS_ROLE_ELEMENTS.isdisjoint(statement.unresolved):
        return []
    every = [r for r in statement.resources or () if r == "*" or _EVERY_ROLE.match(r)]
    if not every or _keyed(statement, frozenset({"iam:passedtoservice"})):
        return []
    via = "" if statement.actions and "iam:passrole" in {a.lower() for a in statement.actions} else \
        f" (through {', '.join(statement.actions or ()) or 'NotAction'})"
    return [_finding("IG3105", f"{policy.name}: Statement[{index}]: iam:PassRole on {every[0]}{via}: the principal "
                               "can hand any role, an administrator's included, to a service it controls "
                               "(name the roles, or add an iam:PassedToService condition)",
                     _where(policy, statement), ("Statement", index, "Resource"), "iam:PassRole")]


@_users_check("IG3105", when=lambda policy: _grants(policy) and any(
    r == "*" or _EVERY_ROLE.match(r) for s in policy.statements for r in s.resources or ()), body=_pass_role)
def pass_role_on_all_roles(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    return _pass_role(policy, index, statement) if _grants(policy) else []


# ------------------------------------------------------------------------------ privilege escalation

# Rhino Security Labs, "AWS IAM Privilege Escalation – Methods and Mitigation" (methods 1-21)
ESCALATIONS: Tuple[Tuple[str, ...], ...] = (
    ("iam:CreatePolicyVersion",),
    ("iam:SetDefaultPolicyVersion",),
    ("iam:PassRole", "ec2:RunInstances"),
    ("iam:CreateAccessKey",),
    ("iam:CreateLoginProfile",),
    ("iam:UpdateLoginProfile",),
    ("iam:AttachUserPolicy",),
    ("iam:AttachGroupPolicy",),
    ("iam:AttachRolePolicy",),
    ("iam:PutUserPolicy",),
    ("iam:PutGroupPolicy",),
    ("iam:PutRolePolicy",),
    ("iam:AddUserToGroup",),
    ("iam:UpdateAssumeRolePolicy", "sts:AssumeRole"),
    ("iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"),
    ("iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
    ("lambda:UpdateFunctionCode",),
    ("iam:PassRole", "glue:CreateDevEndpoint"),
    ("glue:UpdateDevEndpoint",),
    ("iam:PassRole", "cloudformation:CreateStack"),
    ("iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"),
)
_ESCALATION_ACTIONS: Tuple[str, ...] = tuple(sorted({a for combo in ESCALATIONS for a in combo}))
_ALL_ESCALATION_ACTIONS = frozenset(_ESCALATION_ACTIONS)
_ESCALATION_ELEMENTS = frozenset({"Action", "NotAction", "Resource"})
_IAM_TARGET = re.compile(r"^arn:[^:]*:iam::[^:]*:(user|group|role|policy)/", re.IGNORECASE)


def _escalating_resource(action: str, statement: Statement) -> bool:
    """On ``*``, or, for an iam action, on IAM users, groups, roles or policies — but not on the
    caller's own user (``user/${aws:username}``: managing one's own credentials gains nothing) nor
    on service-linked roles (``role/aws-service-role/…``: no one can assume them or change their
    policies)."""
    for r in statement.resources or ():
        if r == "*":
            return True
        if action.startswith("iam:") and (_IAM_TARGET.match(r) or _EVERY_ROLE.match(r)) \
                and "${aws:username}" not in r.lower() and ":role/aws-service-role/" not in r.lower():
            return True
    return False


@functools.lru_cache(maxsize=4096)
def _escalation_matches(pattern: str) -> FrozenSet[str]:
    """The actions of ``ESCALATIONS`` an Action or NotAction entry matches. A policy names the same
    few entries over and over: each is matched against the list once, not once per statement. An
    entry without a wildcard (most are) is compared as it is: no pattern compiled for it."""
    if "*" not in pattern and "?" not in pattern:
        lowered = pattern.lower()
        return frozenset(a for a in _ESCALATION_ACTIONS if a.lower() == lowered)
    compiled = _glob(pattern)
    return frozenset(a for a in _ESCALATION_ACTIONS if compiled.fullmatch(a.lower()))


@functools.lru_cache(maxsize=4096)
def _escalation_union(patterns: Tuple[str, ...]) -> FrozenSet[str]:
    """The actions of ``ESCALATIONS`` some entry of an Action (or NotAction) element matches: a
    policy often repeats an element's entries from statement to statement."""
    return frozenset().union(*map(_escalation_matches, patterns))


def _escalation_actions(statement: Statement) -> FrozenSet[str]:
    """The actions of ``ESCALATIONS`` (iam:PassRole among them) the statement's Action (or
    NotAction) covers: what ``grants(statement, a)`` says of each of them."""
    if statement.actions is not None:
        return _escalation_union(statement.actions)
    if statement.not_actions is not None:
        return _ALL_ESCALATION_ACTIONS - _escalation_union(statement.not_actions)
    return frozenset()


@_users_check("IG3106", per_statement=False)
def privilege_escalation(policy: Policy) -> List[Finding]:
    if not _grants(policy):
        return []
    first: Dict[str, int] = {}  # action -> the first Allow statement granting it escalatingly
    for i, st in enumerate(policy.statements):
        if not _allow(st) or st.resources is None or st.conditions \
                or not _ESCALATION_ELEMENTS.isdisjoint(st.unresolved):
            continue
        for a in _escalation_actions(st):
            if a not in first and _escalating_resource(a, st):
                first[a] = i
    combos = [c for c in ESCALATIONS if all(a in first for a in c)]
    if not combos:
        return []
    named = [" + ".join(c) for c in combos]
    where = sorted({first[a] for c in combos for a in c})
    index = where[0]
    statement = policy.statements[index]
    at = f"Statement[{where[0]}]" if len(where) == 1 else "Statements " + ", ".join(str(i) for i in where)
    return [_finding("IG3106", f"{policy.name}: {at}: grants {len(combos)} known privilege-escalation "
                               f"path{'s' if len(combos) > 1 else ''}: {_some(named)} — whoever holds this policy "
                               "can make themselves administrator", _where(policy, statement),
                     ("Statement", index, "Action"))]


# ------------------------------------------------------------------------------ who may call


_NARROWING = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths",
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalServiceName", "aws:PrincipalIsAWSService", "aws:SourceVpce", "aws:SourceVpc", "aws:SourceIp", "aws:VpcSourceIp",
    "aws:userid", "aws:username", "kms:CallerAccount", "s3:DataAccessPointAccount", "s3:DataAccessPointArn",
    "lambda:EventSourceToken", "sns:Endpoint"))


def _anyone(statement: Statement) -> bool:
    principals = statement.principals or {}
    return "*" in principals or "*" in principals.get("AWS", ())


@_users_check("IG3107", origins={"code", "properties"}, when=lambda policy: policy.kind == "resource")
def public_resource_policy(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if policy.kind != "resource" or not _allow(statement) or not _anyone(statement) \
            or {"Principal", "Condition"} & set(statement.unresolved) or _keyed(statement, _NARROWING):
        return []
    actions = ", ".join(statement.actions or ()) or "NotAction " + ", ".join(statement.not_actions or ())
    return [_finding("IG3107", f"{policy.name}: Statement[{index}]: allows anyone (Principal \"*\") {actions} with no "
                               "condition on the caller's account, organization, source or network: the resource "
                               "is public", _where(policy, statement), ("Statement", index, "Principal"))]


_ACCOUNT = re.compile(r"^(?:arn:[^:]*:(?:iam|sts)::)?([0-9]{12})(?::|$)")
_TRUST_KEYS = frozenset({"sts:externalid", "aws:principalorgid", "aws:principalorgpaths"})
_ANYONE_KEYS = _TRUST_KEYS | frozenset({"aws:principalaccount", "aws:principalarn", "aws:sourceaccount",
                                        "aws:sourcearn", "aws:sourceip", "aws:sourcevpce"})


_UNKNOWN = "unknown"  # the trust policy of no role the inventory holds


def _own_account(policy: Policy) -> Optional[str]:
    """The account of the role whose trust policy this is (None: the role has no account iamgate
    knows), or ``_UNKNOWN`` when no role of the inventory being linted has this trust policy."""
    index = _index()
    if index is None:
        return _UNKNOWN
    return index.own_account(policy)


@_users_check("IG3108", when=lambda policy: policy.kind == "trust")
def cross_account_trust(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if policy.kind != "trust" or not _allow(statement) or not grants(statement, "sts:AssumeRole") \
            or {"Principal", "Condition"} & set(statement.unresolved):
        return []
    values = (statement.principals or {}).get("AWS", ())
    if _anyone(statement):
        if _keyed(statement, _ANYONE_KEYS):
            return []
        who = "anyone (Principal \"*\")"
    else:
        own = _own_account(policy) or ASSUMED_ACCOUNT
        if own == _UNKNOWN:
            return []  # a trust policy file of no role read: which account is another is unknown
        others = []
        for v in values:
            m = _ACCOUNT.match(v)
            if m and m.group(1) not in (own, ASSUMED_ACCOUNT):
                others.append(m.group(1))
        if not others or _keyed(statement, _TRUST_KEYS):
            return []
        others = list(dict.fromkeys(others))
        who = f"account{'s' if len(others) > 1 else ''} {', '.join(others)}"
    return [_finding("IG3108", f"{policy.name}: Statement[{index}]: lets {who} assume the role with no sts:ExternalId "
                               "or aws:PrincipalOrgID condition (a confused deputy can assume it on another "
                               "customer's behalf)", _where(policy, statement), ("Statement", index, "Principal"))]


# ------------------------------------------------------------------------------ condition keys

# keys that AWS sets on every request signed with credentials a service issued (an instance
# profile, a Lambda function's role, a Glue job), or on every request made through an S3 access
# point, whatever the action: the catalog does not list them with each action
_ISSUER_KEYS = frozenset(k.lower() for k in (
    "ec2:SourceInstanceARN", "ec2:SourceInstancePrivateIPv4", "ec2:RoleDelivery", "lambda:SourceFunctionArn",
    "glue:RoleAssumedBy", "glue:CredentialIssuingService", "ssm:SourceInstanceARN", "codebuild:BuildArn",
    "codebuild:ProjectArn", "identitystore:UserId", "ec2:InstanceProfile",
    "s3:DataAccessPointArn", "s3:DataAccessPointAccount", "s3:AccessPointNetworkOrigin"))


class _Keys(NamedTuple):
    """Condition keys of the catalog, lowercased: those written as they are set (most of them), and
    those with a placeholder (``aws:ResourceTag/${TagKey}``, ``s3:ExistingObjectTag/<key>``) as
    patterns, compiled once per run (a service's actions share their keys)."""

    literal: FrozenSet[str]
    patterns: Tuple["re.Pattern[str]", ...]

    def match(self, key: str) -> bool:
        """Whether ``key`` (lowercased) is one of these."""
        return key in self.literal or any(p.fullmatch(key) for p in self.patterns)


@functools.lru_cache(maxsize=None)
def _key_pattern(key: str) -> "re.Pattern[str]":
    """A catalog key with a placeholder as a pattern."""
    parts = re.split(r"\$\{[^}]*\}|<[^>]*>", key.lower())
    return re.compile(".+".join(re.escape(p) for p in parts))


def _keys(keys: Iterable[str]) -> _Keys:
    literal, patterns = set(), []
    for k in dict.fromkeys(keys):
        if "${" in k or "<" in k:
            patterns.append(_key_pattern(k))
        else:
            literal.add(k.lower())
    return _Keys(frozenset(literal), tuple(dict.fromkeys(patterns)))


@functools.lru_cache(maxsize=None)
def _action_keys(action: str) -> _Keys:
    return _keys(condition_keys_of(action) or ())


@functools.lru_cache(maxsize=None)
def _applies(key: str, action: str) -> bool:
    return _action_keys(action).match(key)


@functools.lru_cache(maxsize=256)
def _service_keys(service: str) -> _Keys:
    """Every key the catalog attaches to an action of ``service`` (from the catalog's records: not
    an ``ActionInfo`` built for each of the service's actions, 700 for ec2)."""
    return _keys(service_condition_keys(service))


def _attached(key: str, service: str) -> bool:
    """Whether the catalog attaches ``key`` to some action of its service. A key it attaches to none
    (states:HTTPEndpoint in the 2026 data, which AWS documents for states:InvokeHTTPEndpoint) is one
    whose actions the data does not record: it is not judged."""
    return _service_keys(service).match(key)


def _never_set(key: str, statement: Statement) -> List[str]:
    """The action entries of the statement on whose requests AWS never sets ``key``: a named action
    whose catalog entry lacks it, a pattern none of whose actions has it. Only keys of the action's
    own service that the catalog attaches to some action of it are judged (a key of another service,
    or one the data attaches to nothing, may be set by something the catalog does not describe)."""
    k = key.lower()
    service = k.partition(":")[0]
    if k.startswith("aws:") or ":" not in k or k in _ISSUER_KEYS or not service_exists(service) \
            or not _attached(k, service):
        return []
    out = []
    for entry in dict.fromkeys(statement.actions or ()):
        if entry == "*" or entry.partition(":")[0].lower() != service:
            continue
        actions = expand_action(entry) if ("*" in entry or "?" in entry) else (entry,)
        if actions and action_info(actions[0]) is not None and not any(_applies(k, a) for a in actions):
            out.append(entry)
    return out


def _constant(condition: Condition) -> Optional[bool]:
    """What the condition is when its key is absent, or None when that is what it tests."""
    qualifier, base, if_exists = parse_operator(condition.operator)
    if base == "null" or if_exists:
        return None  # IfExists: true, by design; Null: tests presence
    if qualifier == "forallvalues":
        return True
    if qualifier == "foranyvalue":
        return False
    return "not" in base


def _key_findings(rule: str, policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if not statement.conditions or statement.actions is None or {"Action", "Condition"} & set(statement.unresolved):
        return []
    out = []
    for c in statement.conditions:
        constant = _constant(c)
        if constant is None:
            continue
        entries = _never_set(c.key, statement)
        if not entries:
            continue
        names = _some(entries)
        if statement.effect == "Deny":
            effect = (f"so the condition is always true and this Deny applies to {names} whatever the value"
                      if constant else f"so the condition is always false and this Deny never applies to {names}")
        else:
            effect = (f"so the condition is always true and restricts nothing for {names}"
                      if constant else f"so the condition is always false and this Allow never grants {names}")
        out.append(_finding(rule, f"{policy.name}: Statement[{index}].Condition: AWS never sets {c.key} on the "
                                  f"request of {names} (not a condition key of {'it' if len(entries) == 1 else 'them'} "
                                  f"in the IAM catalog), {effect}", _where(policy, statement),
                            ("Statement", index, "Condition", c.operator, c.key)))
    return out


@_users_check("IG3109", when=lambda policy: any(s.conditions for s in policy.statements))
def allow_condition_key_not_applicable(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    return _key_findings("IG3109", policy, index, statement) if _allow(statement) else []


@_users_check("IG3110", when=lambda policy: any(s.conditions for s in policy.statements))
def deny_condition_key_not_applicable(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    return _key_findings("IG3110", policy, index, statement) if statement.effect == "Deny" else []
