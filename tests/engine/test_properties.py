"""Property-based tests of the engine's invariants (hypothesis).

Every test is derandomized (``tests/strategies.PROPERTY``): CI runs the same examples each time.
``IAMGATE_PROPERTY_SCALE=20`` runs twenty times as many for a longer local search, and
``IAMGATE_PROPERTY_RANDOM=1`` draws new ones.
"""
import random
from dataclasses import replace
from typing import Tuple

from hypothesis import given, reject, strategies as st

from iamgate.catalog import expand_action
from iamgate.engine.evaluate import PolicySet, Request, decide
from iamgate.model import Decision, Policy, Statement
from iamgate.policy import PolicyError, parse_policy

from ..strategies import (ALL_KINDS, CALLERS, SCP_CALLERS, UNRESOLVED, WILDCARDS, examples, groups_of,
                          loose_requests, loose_statements, policy_sets, requests as any_requests,
                          statement_of, statements as statement_docs)

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/worker"
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:GetObjectAcl", "s3:ListBucket", "s3:DeleteObject",
           "sqs:SendMessage", "sqs:ReceiveMessage"]
ACTION_PATTERNS = ACTIONS + ["s3:Get*", "s3:*Object", "sqs:*", "*", "s3:?etObject"]
RESOURCES = ["arn:aws:s3:::orders", "arn:aws:s3:::orders/a.txt", "arn:aws:s3:::orders/2026/b.txt",
             "arn:aws:s3:::audit/log", "arn:aws:sqs:us-east-1:111122223333:jobs"]
RESOURCE_PATTERNS = RESOURCES + ["*", "arn:aws:s3:::orders/*", "arn:aws:s3:::*", "arn:aws:sqs:*:111122223333:*",
                                 "arn:aws:s3:::${aws:username}/*"]
CONDITIONS = [None, {"StringEquals": {"aws:SourceVpce": "vpce-1"}}, {"Bool": {"aws:SecureTransport": "true"}},
              {"StringNotEquals": {"aws:PrincipalTag/team": "ops"}}, {"Null": {"aws:SourceVpce": "true"}}]
CONTEXTS = [{}, {"aws:SourceVpce": "vpce-1"}, {"aws:SecureTransport": "true", "aws:PrincipalTag/team": "ops"},
            {"aws:username": "orders"}]

statements = st.fixed_dictionaries({
    "Effect": st.sampled_from(["Allow", "Deny"]),
    "Action": st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3),
    "Resource": st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3),
    "Condition": st.sampled_from(CONDITIONS),
}).map(lambda d: {k: v for k, v in d.items() if v is not None})

requests = st.builds(lambda a, r, c: Request(action=a, resource=r, principal_type="iam-role", principal_arn=ROLE,
                                             principal_account=ACCOUNT, resource_account=ACCOUNT, context=c),
                     st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), st.sampled_from(CONTEXTS))


def policies(identity, boundary=None):
    def doc(sts, kind):
        return (parse_policy({"Version": "2012-10-17", "Statement": sts}, kind, kind),)
    return PolicySet(identity=doc(identity, "identity"), boundary=doc(boundary, "boundary") if boundary else None)


with_boundary = st.one_of(st.none(), st.lists(statements, min_size=1, max_size=4))


@examples(300)
@given(st.lists(statements, max_size=6), with_boundary, statements, requests)
def test_adding_a_deny_never_allows_more(identity, boundary, extra, request):
    deny = dict(extra, Effect="Deny")
    before = decide(request, policies(identity, boundary)).result
    after = decide(request, policies(identity + [deny], boundary)).result
    assert not (after == "allow" and before != "allow")
    if before == "explicit_deny":
        assert after == "explicit_deny"


@examples(300)
@given(st.lists(statements, max_size=6), with_boundary, statements, requests)
def test_adding_an_allow_never_denies_more(identity, boundary, extra, request):
    allow = dict(extra, Effect="Allow")
    before = decide(request, policies(identity, boundary)).result
    after = decide(request, policies(identity + [allow], boundary)).result
    if before == "allow":
        assert after == "allow"
    if after == "explicit_deny":
        assert before == "explicit_deny"


@examples(200)
@given(statements, st.lists(statements, max_size=4), requests)
def test_wildcard_action_decides_like_its_expansion(statement, others, request):
    wild = dict(statement, Action=["s3:Get*"])
    expanded = dict(statement, Action=list(expand_action("s3:Get*")))
    assert decide(request, policies(others + [wild])).result == decide(request, policies(others + [expanded])).result


@examples(200)
@given(st.lists(statements, min_size=1, max_size=6), st.randoms(use_true_random=False), requests)
def test_statement_order_does_not_matter(identity, rnd, request):
    shuffled = list(identity)
    rnd.shuffle(shuffled)
    a, b = decide(request, policies(identity)), decide(request, policies(shuffled))
    assert (a.result, a.blocked_by) == (b.result, b.blocked_by)


# ----------------------------------------------------------------------------- every policy type
#
# The tests below draw whole policy sets (tests/strategies.py): identity, boundary, session, SCP
# and RCP levels, resource and VPC endpoint policies, callers of every kind, conditions of every
# operator family, and statements a reader could not resolve. All are derandomized.

RESULTS = ("allow", "explicit_deny", "implicit_deny", "unknown")
# how much a decision grants: explicit_deny < implicit_deny < unknown < allow
RANK = {"explicit_deny": 0, "implicit_deny": 1, "unknown": 2, "allow": 3}
ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def outcome(d: Decision) -> Tuple[str, Tuple[str, ...]]:
    """What a decision says, without its trace (whose order follows the policies')."""
    return d.result, d.blocked_by


def _policy_with(policy: Policy, st: Statement) -> Policy:
    return replace(policy, statements=policy.statements + (st,))


def add_statement(ps: PolicySet, kind: str, st: Statement, where: int) -> PolicySet:
    """``ps`` with ``st`` appended to one policy of part ``kind`` (chosen by ``where``); an
    identity part without policies gets a new one. The part must be present."""
    if kind == "identity" and not ps.identity:
        return replace(ps, identity=(Policy(name="added", kind="identity", statements=(st,),
                                            version="2012-10-17"),))
    group = getattr(ps, kind)
    if kind in ("scp", "rcp"):
        levels = list(group)
        i = where % len(levels)
        level = list(levels[i])
        j = (where // len(levels)) % len(level)
        level[j] = _policy_with(level[j], st)
        levels[i] = tuple(level)
        return replace(ps, **{kind: tuple(levels)})
    pols = list(group)
    j = where % len(pols)
    pols[j] = _policy_with(pols[j], st)
    return replace(ps, **{kind: tuple(pols)})


def _needs_principal(kind: str) -> bool:
    return kind in ("resource", "rcp", "vpc_endpoint")


@st.composite
def additions(draw, effect: str, kinds: Tuple[str, ...] = ALL_KINDS, resolved: bool = False):
    """(policy set, part, statement of ``effect`` to add to it, where, request)."""
    request = draw(any_requests())  # first: what hypothesis draws last tends to its simplest value
    ps = draw(policy_sets())
    kind = draw(st.sampled_from([k for k in groups_of(ps) if k in kinds] or ["identity"]))
    doc = draw(statement_docs(_needs_principal(kind), effect))
    marks = frozenset() if resolved else draw(st.sampled_from(UNRESOLVED + (frozenset(),) * 4))
    return ps, kind, statement_of(doc, marks), draw(st.integers(0, 20)), request


@examples(80)
@given(additions("Deny"))
def test_a_deny_added_to_any_policy_never_grants_more(case):
    """Adding a Deny statement (resolved or not) to any policy of any type never turns a decision
    that is not ``allow`` into ``allow``, and an ``explicit_deny`` stays one."""
    ps, kind, deny, where, request = case
    before = decide(request, ps).result
    after = decide(request, add_statement(ps, kind, deny, where)).result
    assert not (after == "allow" and before != "allow")
    if before == "explicit_deny":
        assert after == "explicit_deny"


@examples(60)
@given(additions("Allow", ("identity",), resolved=True))
def test_an_allow_added_to_an_identity_policy_only_removes_implicit_denies(case):
    """Adding a resolved Allow statement to an identity policy either leaves the decision as it was
    or turns ``implicit_deny``/``unknown`` into ``allow``: an ``allow`` stays ``allow``, an
    ``explicit_deny`` stays ``explicit_deny`` (and none appears), and ``unknown`` never becomes
    ``implicit_deny``. What still blocks afterwards was already blocking (``blocked_by`` shrinks)."""
    ps, kind, allow, where, request = case
    before = decide(request, ps)
    after = decide(request, add_statement(ps, kind, allow, where))
    assert after.result == before.result or (before.result in ("implicit_deny", "unknown")
                                             and after.result == "allow")
    if before.result == "explicit_deny":
        assert after.blocked_by == before.blocked_by
    else:
        assert set(after.blocked_by) <= set(before.blocked_by)


@examples(60)
@given(additions("Allow"))
def test_an_allow_added_to_any_policy_never_grants_less(case):
    """Adding an Allow statement (resolved or not) to any policy of any type never lowers a decision
    in the order explicit_deny < implicit_deny < unknown < allow, and never creates or removes an
    ``explicit_deny``. (An unresolved Allow may turn ``implicit_deny`` into ``unknown``. A resolved
    one may move a trust or key policy's block to ``identity`` — the key policy then names only the
    account — so ``blocked_by`` is not monotonic for resource policies.)"""
    ps, kind, allow, where, request = case
    before = decide(request, ps).result
    after = decide(request, add_statement(ps, kind, allow, where)).result
    assert RANK[after] >= RANK[before]
    assert (after == "explicit_deny") == (before == "explicit_deny")


@st.composite
def wildcard_cases(draw):
    request = draw(any_requests())
    ps = draw(policy_sets())
    kind = draw(st.sampled_from(groups_of(ps)))
    doc = draw(statement_docs(_needs_principal(kind)))
    element = "NotAction" if draw(st.integers(0, 3)) == 0 else "Action"
    doc = {k: v for k, v in doc.items() if k not in ("Action", "NotAction")}
    wildcard = draw(st.sampled_from(WILDCARDS))
    return ps, kind, doc, element, wildcard, draw(st.integers(0, 20)), request


@examples(50)
@given(wildcard_cases())
def test_a_wildcard_action_decides_like_its_catalog_expansion(case):
    """A statement whose ``Action`` (or ``NotAction``) is a wildcard pattern decides every request
    for a catalog action exactly as the same statement listing ``expand_action(pattern)``, in any
    policy type."""
    ps, kind, doc, element, wildcard, where, request = case
    wild = statement_of(dict(doc, **{element: wildcard}))
    expanded = statement_of(dict(doc, **{element: list(expand_action(wildcard))}))
    a = decide(request, add_statement(ps, kind, wild, where))
    b = decide(request, add_statement(ps, kind, expanded, where))
    assert outcome(a) == outcome(b)


def _shuffled_policy(policy: Policy, rnd: random.Random) -> Policy:
    sts = list(policy.statements)
    rnd.shuffle(sts)
    return replace(policy, statements=tuple(sts))


def _shuffled(pols, rnd: random.Random):
    out = [_shuffled_policy(p, rnd) for p in pols]
    rnd.shuffle(out)
    return tuple(out)


def shuffle_policy_set(ps: PolicySet, rnd: random.Random) -> PolicySet:
    """``ps`` with the statements of every policy, the policies of every part and of every SCP/RCP
    level, and the levels themselves in another order."""
    changes = {}
    for kind in ("identity", "boundary", "session", "resource", "vpc_endpoint"):
        if getattr(ps, kind) is not None:
            changes[kind] = _shuffled(getattr(ps, kind), rnd)
    for kind in ("scp", "rcp"):
        if getattr(ps, kind) is not None:
            levels = [_shuffled(level, rnd) for level in getattr(ps, kind)]
            rnd.shuffle(levels)
            changes[kind] = tuple(levels)
    return replace(ps, **changes)


@examples(50)
@given(any_requests(), policy_sets(), st.randoms(use_true_random=False))
def test_statement_policy_and_level_order_never_matter(request, ps, rnd):
    """Shuffling the statements within each policy, the policies within each part (identity
    policies, boundary, resource policies …) and within each SCP/RCP level, and the levels
    themselves, leaves ``(result, blocked_by)`` unchanged."""
    assert outcome(decide(request, ps)) == outcome(decide(request, shuffle_policy_set(ps, rnd)))


def _allow_all_level() -> Tuple[Policy, ...]:
    return (parse_policy({"Version": "2012-10-17", "Statement": [ALLOW_ALL]}, "FullAWSAccess", "scp"),)


@examples(40)
@given(any_requests(), policy_sets())
def test_an_scp_level_that_allows_everything_changes_nothing(request, ps):
    """Adding an SCP level whose only policy is ``FullAWSAccess`` (Allow ``*`` on ``*``) — below the
    existing levels, or as the first when the account had none — leaves ``(result, blocked_by)``
    unchanged, for every caller."""
    more = replace(ps, scp=(ps.scp or ()) + (_allow_all_level(),))
    assert outcome(decide(request, ps)) == outcome(decide(request, more))


def _without_allows(level: Tuple[Policy, ...]) -> Tuple[Policy, ...]:
    return tuple(replace(p, statements=tuple(s for s in p.statements if s.effect != "Allow")) for p in level)


@examples(50)
@given(any_requests(SCP_CALLERS), policy_sets(), st.integers(0, 5))
def test_an_scp_level_without_an_allow_denies_everything(request, ps, where):
    """When one SCP level of the caller's account keeps only its Deny statements, no request by a
    caller SCPs apply to (IAM users, roles and their sessions, federated users, the root user —
    not service principals, anonymous callers or service-linked roles) is allowed, except
    ``sts:GetCallerIdentity``, which nothing can deny."""
    levels = list(ps.scp or (_allow_all_level(),))
    levels[where % len(levels)] = _without_allows(levels[where % len(levels)])
    d = decide(request, replace(ps, scp=tuple(levels)))
    if request.action == "sts:GetCallerIdentity":
        assert d.result == "allow"
    else:
        assert d.result != "allow"
        assert d.result == "explicit_deny" or "scp" in d.blocked_by


EXEMPT_FROM_SCPS = tuple(c for c in CALLERS if c not in SCP_CALLERS)


@examples(30)
@given(any_requests(EXEMPT_FROM_SCPS), policy_sets())
def test_scps_never_apply_to_service_principals_anonymous_callers_or_service_linked_roles(request, ps):
    """For a service principal, an anonymous caller or a service-linked role, a policy set decides
    the same with its SCP levels as without them."""
    assert outcome(decide(request, ps)) == outcome(decide(request, replace(ps, scp=None)))


RCP_CALLERS = tuple(c for c in CALLERS if c[0] != "service" and "aws-service-role" not in (c[1] or ""))


@examples(40)
@given(any_requests(RCP_CALLERS), policy_sets(), st.integers(0, 5))
def test_an_rcp_level_without_an_allow_denies_everything(request, ps, where):
    """When one RCP level of the resource's account keeps only its Deny statements, no request by a
    caller RCPs apply to (anyone but service principals and service-linked roles) is allowed,
    except ``sts:GetCallerIdentity``."""
    full = (parse_policy({"Version": "2012-10-17", "Statement": [dict(ALLOW_ALL, Principal="*")]},
                         "RCPFullAWSAccess", "rcp"),)
    levels = list(ps.rcp or (full,))
    levels[where % len(levels)] = _without_allows(levels[where % len(levels)])
    d = decide(request, replace(ps, rcp=tuple(levels)))
    assert (d.result == "allow") == (request.action == "sts:GetCallerIdentity")


@st.composite
def loose_policy_sets(draw):
    """A policy set whose parts hold one to four sloppy statements between them (each part that
    gets one is present; SCP/RCP parts as one level); a document parse_policy rejects is skipped
    (readers report those as findings)."""
    parts = {}
    for kind, statement in draw(st.lists(st.tuples(st.sampled_from(ALL_KINDS), loose_statements()),
                                         min_size=1, max_size=4)):
        parts.setdefault(kind, []).append(statement)
    version = draw(st.sampled_from(("2012-10-17", "2008-10-17", None)))
    built = {}
    for kind, sts in parts.items():
        try:
            policy = parse_policy({"Version": version, "Statement": sts}, kind, kind)
        except PolicyError:
            reject()
        built[kind] = ((policy,),) if kind in ("scp", "rcp") else (policy,)
    return PolicySet(**built)


@examples(60)
@given(loose_requests(), loose_policy_sets())
def test_decide_never_raises(request, ps):
    """``decide`` returns one of the four results, whatever text the policies and the request hold:
    odd patterns, unclosed or malformed policy variables, non-ARNs, unreadable numbers, dates and
    addresses, unknown operators and principal kinds, empty and multi-valued context keys."""
    d = decide(request, ps)
    assert d.result in RESULTS
    assert d.result != "allow" or not d.blocked_by


def test_the_strategies_reach_every_result_and_every_caller():
    """The invariants above mean something only if the drawn cases are varied: over the first
    examples every result occurs, and the request strategy draws every kind of caller (guards the
    strategies against drifting into, say, nothing but implicit denies by IAM users)."""
    results, callers = set(), set()

    @examples(80)
    @given(any_requests(), policy_sets())
    def decisions(request, ps):
        results.add(decide(request, ps).result)

    @examples(60)
    @given(any_requests())
    def requests_alone(request):
        callers.add(request.principal_type)

    decisions()
    requests_alone()
    assert set(RESULTS) <= results
    assert {t for t, _ in CALLERS} <= callers
