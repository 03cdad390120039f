"""Hypothesis strategies shared by the property tests: policies of every kind and requests by every
kind of caller, drawn from small vocabularies so that statements and requests meet often.

- Policies: identity, boundary, session, SCP/RCP levels, resource and VPC endpoint policies, with
  ``Action``/``NotAction``, ``Resource``/``NotResource``, ``Principal``/``NotPrincipal`` (where the
  kind takes one), conditions across every operator family (with ``IfExists`` and
  ``ForAllValues:``/``ForAnyValue:``), policy variables, both policy versions, and now and then a
  statement a reader could not resolve (``Statement.unresolved``).
- Requests: IAM user, role, assumed-role session, federated user, root, service principal,
  anonymous (and a service-linked role), in the resource's account or another; a context with keys
  missing, empty, single- and multi-valued.

``PROPERTY`` is the settings every property test starts from: derandomized (the same examples on
every run, so CI is reproducible) and without a deadline (the machine is shared). Set
``IAMGATE_PROPERTY_SCALE`` (an integer, default 1) to multiply every test's ``max_examples`` for
a longer local run, and ``IAMGATE_PROPERTY_RANDOM=1`` to draw new examples on each run.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Dict, List, Optional, Tuple

from hypothesis import HealthCheck, settings, strategies as st

from iamgate.engine.evaluate import PolicySet, Request
from iamgate.model import Policy, Statement
from iamgate.policy import OPERATOR_NAMES, parse_policy

SCALE = max(1, int(os.environ.get("IAMGATE_PROPERTY_SCALE", "1") or 1))
PROPERTY = settings(deadline=None, derandomize=os.environ.get("IAMGATE_PROPERTY_RANDOM") != "1",
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def examples(n: int) -> settings:
    """``PROPERTY`` with ``n`` examples (times ``IAMGATE_PROPERTY_SCALE``)."""
    return settings(PROPERTY, max_examples=n * SCALE)


def pick(values) -> st.SearchStrategy:
    """One of ``values``, spread evenly. (``st.sampled_from`` draws its first element far more
    often than the others when examples are few: the first caller was nearly every caller.)
    Shrinks towards the first."""
    values = tuple(values)
    return st.integers(0, 2 ** 20 - 1).map(lambda i: values[(i * 40503) % len(values)])


# ----------------------------------------------------------------------------- vocabulary

ACCOUNT = "111122223333"
OTHER = "444455556666"
ACCOUNTS = (ACCOUNT, OTHER)

# real catalog actions only: a wildcard must decide like its catalog expansion for them
ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:GetObjectAcl", "s3:ListBucket", "s3:DeleteObject",
           "sqs:SendMessage", "sqs:ReceiveMessage", "kms:Decrypt", "sts:AssumeRole", "iam:PassRole",
           "sts:GetCallerIdentity")
WILDCARDS = ("s3:Get*", "s3:*Object", "sqs:*", "s3:?etObject", "kms:*crypt", "sts:Assume*", "s3:*Acl")
ACTION_PATTERNS = ACTIONS + WILDCARDS + ("*", "S3:getobject", "iam:*")

RESOURCES = ("arn:aws:s3:::orders", "arn:aws:s3:::orders/a.txt", "arn:aws:s3:::orders/alice/b.txt",
             "arn:aws:s3:::audit/log", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs",
             f"arn:aws:sqs:us-east-1:{OTHER}:jobs", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1",
             f"arn:aws:iam::{ACCOUNT}:role/worker", "*")
RESOURCE_PATTERNS = RESOURCES[:-1] + (
    "*", "arn:aws:s3:::orders/*", "arn:aws:s3:::*", f"arn:aws:sqs:*:{ACCOUNT}:*", "arn:aws:*:*:*:*",
    "arn:aws:s3:::orders/${aws:username}/*", "arn:aws:s3:::${aws:PrincipalTag/team}/*",
    "arn:aws:s3:::orders/${aws:undefined, 'a.txt'}", "arn:aws:s3:::orders/${*}", f"arn:aws:iam::{ACCOUNT}:role/*")

USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/worker"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/task-1"
FEDERATED = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
SLR = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
SERVICE = "lambda.amazonaws.com"

# (principal_type, arn) of every kind of caller; the account is the ARN's (or none)
CALLERS: Tuple[Tuple[str, Optional[str]], ...] = (
    ("iam-user", USER), ("iam-role", ROLE), ("assumed-role", SESSION), ("federated-user", FEDERATED),
    ("root", ROOT), ("service", SERVICE), ("anonymous", None), ("iam-role", SLR),
    ("iam-role", f"arn:aws:iam::{OTHER}:role/partner"),
    ("assumed-role", f"arn:aws:sts::{OTHER}:assumed-role/partner/s"),
)
# callers that SCPs apply to (not service principals, not anonymous, not service-linked roles)
SCP_CALLERS = tuple(c for c in CALLERS if c[0] not in ("service", "anonymous") and c[1] != SLR)

PRINCIPAL_ELEMENTS: Tuple[Any, ...] = (
    "*", {"AWS": "*"}, {"AWS": ACCOUNT}, {"AWS": OTHER}, {"AWS": ROOT}, {"AWS": f"arn:aws:iam::{OTHER}:root"},
    {"AWS": ROLE}, {"AWS": SESSION}, {"AWS": USER}, {"AWS": [ROLE, USER]}, {"Service": SERVICE},
    {"Service": "ecs.amazonaws.com"}, {"Federated": FEDERATED}, {"AWS": FEDERATED},
    {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
)

# condition keys and values that fit them (and some that do not)
KEY_VALUES: Dict[str, Tuple[str, ...]] = {
    "aws:PrincipalTag/team": ("ops", "dev", "OPS", "o*"),
    "aws:SourceIp": ("10.0.0.1", "10.0.0.0/8", "192.168.1.7", "2001:db8::1", "not-an-ip"),
    "aws:CurrentTime": ("2026-01-01T00:00:00Z", "2030-06-01", "1767225600", "yesterday"),
    "aws:MultiFactorAuthAge": ("0", "300", "3600", "1e3", "ten"),
    "aws:SecureTransport": ("true", "false", "TRUE", "maybe"),
    "aws:SourceArn": (f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs", "arn:aws:sqs:*:*:*", "arn:aws:s3:::orders",
                      "not-an-arn"),
    "aws:TagKeys": ("env", "team", "cost", "e*"),
    "aws:username": ("alice", "bob", "${aws:username}", "${aws:PrincipalTag/team}"),
    "s3:prefix": ("", "home/", "home/${aws:username}/*", "*"),
    "aws:SourceVpce": ("vpce-1", "vpce-2"),
    "aws:PrincipalOrgID": ("o-1", "o-2"),
    "kms:EncryptionContext:app": ("orders", "ORDERS"),
    "aws:RequestTag/env": ("prod", "dev"),
}
KEYS = tuple(KEY_VALUES)
ALL_VALUES = tuple(sorted({v for vs in KEY_VALUES.values() for v in vs}))

BASES = tuple(n for n in OPERATOR_NAMES if n != "Null")


# ----------------------------------------------------------------------------- policies


def _one_or_many(values: Tuple[str, ...], max_size: int = 3) -> st.SearchStrategy:
    """A single string or a list of them, as policies write both."""
    return st.one_of(pick(values), st.lists(pick(values), min_size=1, max_size=max_size))


def _element_values(values: Tuple[str, ...]) -> Tuple[Any, ...]:
    """Every value alone, and pairs and triples of them as lists (a fixed table: drawing from it
    is one choice, which keeps examples cheap to generate)."""
    lists = [[values[i], values[(i * 7 + 3) % len(values)]] for i in range(len(values))]
    lists += [[values[i], values[(i + 5) % len(values)], values[(i * 3 + 1) % len(values)]]
              for i in range(0, len(values), 3)]
    return tuple(values) + tuple(lists)


# "*" weighs more, so that statements meet requests (and decisions are not nearly all denials)
ACTION_ELEMENTS = ("*", "s3:*", "sqs:*", "kms:*", "sts:*") * 4 + _element_values(ACTION_PATTERNS)
RESOURCE_ELEMENTS = ("*",) * 12 + _element_values(RESOURCE_PATTERNS)

# keys of each value type, for the operator families that read that type
_FAMILY_KEYS = {
    "String": ("aws:PrincipalTag/team", "aws:username", "s3:prefix", "aws:TagKeys", "aws:SourceVpce",
               "kms:EncryptionContext:app", "aws:RequestTag/env", "aws:PrincipalOrgID"),
    "Numeric": ("aws:MultiFactorAuthAge",), "Date": ("aws:CurrentTime",), "Bool": ("aws:SecureTransport",),
    "Binary": ("aws:PrincipalTag/team",), "Ip": ("aws:SourceIp",), "NotIp": ("aws:SourceIp",),
    "Arn": ("aws:SourceArn", "aws:PrincipalArn"),
}


def _family(base: str) -> str:
    return next(f for f in ("NotIp", "String", "Numeric", "Date", "Bool", "Binary", "Ip", "Arn") if base.startswith(f))


def _condition_table() -> Tuple[Dict[str, Dict[str, Any]], ...]:
    """One condition per operator x (no qualifier, ForAllValues:, ForAnyValue:) x (IfExists or
    not), and ``Null`` both ways: each over a key of the operator's type (and now and then one of
    another type), with one or several values, policy variables among them."""
    out: List[Dict[str, Dict[str, Any]]] = []
    n = 0
    for base in BASES:
        for qualifier in ("", "ForAllValues:", "ForAnyValue:"):
            for if_exists in ("", "IfExists"):
                keys = _FAMILY_KEYS[_family(base)]
                key = keys[n % len(keys)] if n % 11 else KEYS[n % len(KEYS)]
                values = KEY_VALUES.get(key, ALL_VALUES)
                value: Any = values[n % len(values)] if n % 3 else [values[n % len(values)],
                                                                    values[(n + 1) % len(values)]]
                out.append({qualifier + base + if_exists: {key: value}})
                n += 1
    for key in KEYS:
        out.append({"Null": {key: "true" if n % 2 else "false"}})
        n += 1
    return tuple(out)


CONDITIONS = _condition_table()


@st.composite
def operators(draw) -> str:
    """A condition operator name: any family, with or without ``IfExists`` and a set qualifier."""
    if draw(st.integers(0, 9)) == 0:
        return "Null"
    base = draw(pick(BASES))
    if draw(st.booleans()):
        base += "IfExists"
    qualifier = draw(pick(("", "", "ForAllValues:", "ForAnyValue:")))
    return qualifier + base


@st.composite
def condition_blocks(draw) -> Dict[str, Dict[str, Any]]:
    """A ``Condition`` element: one or two operators from the table (``CONDITIONS``), merged."""
    block: Dict[str, Dict[str, Any]] = {}
    for part in draw(st.lists(pick(CONDITIONS), min_size=1, max_size=2)):
        for op, keys in part.items():
            block.setdefault(op, {}).update(keys)
    return block


@st.composite
def statements(draw, principal: bool = False, effect: Optional[str] = None) -> Dict[str, Any]:
    """A statement as a document holds it. ``principal``: it names a ``Principal`` or
    ``NotPrincipal`` (resource policies, RCPs, VPC endpoint policies)."""
    shape = draw(st.integers(0, 63))  # one choice for the shape: which elements, negated or not
    s: Dict[str, Any] = {"Effect": effect or ("Deny" if shape % 4 == 1 else "Allow")}
    s["NotAction" if shape % 7 == 0 else "Action"] = draw(pick(ACTION_ELEMENTS))
    if shape % 10 != 9:  # sometimes no Resource at all (trust policies)
        s["NotResource" if shape % 6 == 2 else "Resource"] = draw(pick(RESOURCE_ELEMENTS))
    if principal:
        s["NotPrincipal" if shape % 5 == 4 else "Principal"] = draw(pick(PRINCIPAL_ELEMENTS))
    if shape % 3 == 0:
        s["Condition"] = draw(condition_blocks())
    return s


UNRESOLVED = (frozenset(), frozenset({"Resource"}), frozenset({"Condition"}), frozenset({"Principal"}),
              frozenset({"Action", "Resource"}))


def documents(kind: str, min_size: int = 0, max_size: int = 3) -> st.SearchStrategy:
    """A policy document of ``kind`` (whether its statements name a principal follows the kind)."""
    principal = kind in ("resource", "rcp", "vpc_endpoint")
    return st.fixed_dictionaries({
        "Version": pick(("2012-10-17", "2012-10-17", "2008-10-17")),
        "Statement": st.lists(statements(principal), min_size=min_size, max_size=max_size),
    })


@st.composite
def policies(draw, kind: str, min_size: int = 0, max_size: int = 3) -> Policy:
    """A parsed policy of ``kind``; one statement in four is marked as unresolved by a reader."""
    doc = draw(documents(kind, min_size, max_size))
    policy = parse_policy(doc, f"{kind}-{draw(st.integers(0, 99))}", kind)
    choices = UNRESOLVED[1:] + (frozenset(),) * (4 * len(UNRESOLVED) - 4)
    marks = draw(st.lists(pick(choices), min_size=len(policy.statements), max_size=len(policy.statements)))
    return replace(policy, statements=tuple(replace(s, unresolved=m) for s, m in zip(policy.statements, marks)))


def _group(kind: str, max_policies: int = 2) -> st.SearchStrategy:
    return st.lists(policies(kind, 0, 2), min_size=1, max_size=max_policies).map(tuple)


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """``None`` (the part does not apply) two times in three."""
    return st.one_of(st.none(), st.none(), strategy)


@st.composite
def policy_sets(draw, identity_only: bool = False) -> PolicySet:
    """A policy set with any of its parts present or absent (``None``: does not apply)."""
    # no identity policy at all one time in six
    identity = tuple(draw(st.lists(policies("identity", 1, 3), min_size=1, max_size=2))) if draw(st.integers(0, 5)) else ()
    if identity_only:
        return PolicySet(identity=identity)
    return PolicySet(
        identity=identity,
        boundary=draw(_maybe(_group("boundary", 1))),
        session=draw(_maybe(_group("session", 1))),
        scp=draw(_maybe(st.lists(_group("scp", 1), min_size=1, max_size=3).map(tuple))),
        rcp=draw(_maybe(st.lists(_group("rcp", 1), min_size=1, max_size=2).map(tuple))),
        resource=draw(_maybe(_group("resource"))),
        vpc_endpoint=draw(st.one_of(st.none(), st.none(), st.none(), _group("vpc_endpoint", 1))),
    )


def statement_of(doc: Dict[str, Any], unresolved: frozenset = frozenset()) -> Statement:
    """One statement document parsed as a policy's statement is."""
    s = parse_policy({"Version": "2012-10-17", "Statement": [doc]}, "x", "identity").statements[0]
    return replace(s, unresolved=unresolved)


# ----------------------------------------------------------------------------- requests


@st.composite
def contexts(draw) -> Dict[str, object]:
    """A request context: each key missing, empty (``[]``), single- or multi-valued."""
    ctx: Dict[str, object] = {}
    for key in draw(st.lists(pick(KEYS), max_size=5, unique=True)):
        shape = draw(st.integers(0, 5))
        values = KEY_VALUES[key]
        if shape == 0:
            ctx[key] = []
        elif shape == 1:
            ctx[key] = draw(st.lists(pick(values), min_size=2, max_size=3))
        else:
            ctx[key] = draw(pick(values))
        if draw(st.integers(0, 5)) == 0:
            ctx[key.upper()] = ctx.pop(key)  # keys match in any case
    return ctx


def _account_of(arn: Optional[str]) -> Optional[str]:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


@st.composite
def requests(draw, callers: Tuple[Tuple[str, Optional[str]], ...] = CALLERS,
             actions: Tuple[str, ...] = ACTIONS) -> Request:
    """A request by any kind of caller, on a resource in its account or another."""
    principal_type, arn = draw(pick(callers))
    resource = draw(pick(RESOURCES))
    resource_account = draw(pick((None,) + ACCOUNTS))
    pattern = draw(st.integers(0, 7)) == 0 and resource != "*"
    return Request(action=draw(pick(actions)), resource=resource + ("*" if pattern else ""),
                   principal_type=principal_type, principal_arn=arn, principal_account=_account_of(arn),
                   resource_account=resource_account, context=draw(contexts()),
                   resource_is_pattern=pattern)


# ----------------------------------------------------------------------------- anything at all

# the characters that mean something in patterns, ARNs and variables, and a few that mean nothing
_TEXT = st.text(pick("a1:/*?${},' .-_\x00\n\u00e9\u2028\U0001f600"), max_size=10)
_ODD = st.one_of(_TEXT, pick(("${", "${}", "${aws:username", "${a,b}", "${x, 'y'}", "*", "?",
                                         "arn:", "arn:aws", "arn:aws:s3:::", ":::::", "\x00", "$", "",
                                         "arn:aws:iam::*:role/*", "${*}${?}${$}")))


def loose_values() -> st.SearchStrategy:
    """A string, number, bool or list of them: what a sloppy document might hold."""
    scalar = st.one_of(_ODD, st.integers(-5, 10**12), st.booleans(), st.floats(allow_nan=True))
    return st.one_of(scalar, st.lists(scalar, max_size=3))


@st.composite
def loose_statements(draw) -> Dict[str, Any]:
    """A statement whose every element may hold odd text (still a valid document shape)."""
    s: Dict[str, Any] = {"Effect": draw(pick(("Allow", "Deny")))}
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        if draw(st.booleans()):
            s[element] = draw(st.one_of(_one_or_many(ACTION_PATTERNS + RESOURCE_PATTERNS), loose_values()))
    for element in ("Principal", "NotPrincipal"):
        if draw(st.integers(0, 3)) == 0:
            s[element] = draw(st.one_of(pick(PRINCIPAL_ELEMENTS),
                                        st.dictionaries(pick(("AWS", "Service", "Federated",
                                                                         "CanonicalUser", "*", "Odd")),
                                                        loose_values(), max_size=2)))
    if draw(st.booleans()):
        s["Condition"] = draw(st.dictionaries(st.one_of(operators(), _ODD),
                                              st.dictionaries(st.one_of(pick(KEYS), _ODD),
                                                              loose_values(), min_size=1, max_size=2),
                                              max_size=3))
    return s


@st.composite
def loose_requests(draw) -> Request:
    """A request whose fields may be any text (the engine must still decide)."""
    principal_type, arn = draw(pick(CALLERS + (("other", None), ("other", "arn:aws:iam::x"))))
    ctx = draw(st.dictionaries(st.one_of(pick(KEYS), _ODD), loose_values(), max_size=4))
    return Request(action=draw(st.one_of(pick(ACTION_PATTERNS), _ODD)),
                   resource=draw(st.one_of(pick(RESOURCES), _ODD)),
                   principal_type=principal_type, principal_arn=draw(st.one_of(st.just(arn), _ODD)),
                   principal_account=draw(pick((None, ACCOUNT, OTHER, ""))),
                   resource_account=draw(pick((None, ACCOUNT, OTHER, ""))),
                   context=ctx, canonical_id=draw(st.one_of(st.none(), _ODD)),
                   resource_is_pattern=draw(st.booleans()))


ALL_KINDS = ("identity", "boundary", "session", "scp", "rcp", "resource", "vpc_endpoint")


def groups_of(ps: PolicySet) -> List[str]:
    """The parts of ``ps`` that are present (``identity`` always is)."""
    return [k for k in ALL_KINDS if k == "identity" or getattr(ps, k) is not None]
