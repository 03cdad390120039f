"""Decisions across policy types, with traces, near misses and unresolved statements."""
from iamgate.engine.evaluate import PolicySet, Request, decide
from iamgate.model import Location, Statement
from iamgate.policy import parse_policy

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-worker"
BUCKET = "arn:aws:s3:::orders-prod"


def pol(kind, *statements, name=None, version="2012-10-17"):
    return parse_policy({"Version": version, "Statement": list(statements)}, name or kind, kind,
                        statement_location=lambda i: Location("infra/orders.yaml", 40 + i))


def req(action, resource, **kw):
    kw.setdefault("principal_arn", ROLE)
    kw.setdefault("principal_account", ACCOUNT)
    kw.setdefault("resource_account", ACCOUNT)
    return Request(action=action, resource=resource, principal_type=kw.pop("principal_type", "iam-role"), **kw)


READ = {"Sid": "ReadOrders", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}


def test_allow_and_implicit_deny_with_near_miss():
    ps = PolicySet(identity=(pol("identity", READ, name="worker"),))
    assert decide(req("s3:GetObject", f"{BUCKET}/2026/a.pdf"), ps).result == "allow"
    d = decide(req("s3:PutObject", f"{BUCKET}/2026/a.pdf"), ps)
    assert d.result == "implicit_deny" and d.blocked_by == ("identity",)
    d = decide(req("s3:GetObject", "arn:aws:s3:::other/a"), ps)
    (near,) = d.near_misses()
    assert near.reason == "resource" and near.statement.sid == "ReadOrders"
    assert str(near.location) == "infra/orders.yaml:40"


def test_explicit_deny_names_its_statement():
    deny = {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}
    ps = PolicySet(identity=(pol("identity", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, deny),))
    d = decide(req("s3:DeleteObject", f"{BUCKET}/x"), ps)
    assert d.result == "explicit_deny" and d.blocked_by == ("identity",)
    assert [t.statement.sid for t in d.applied("Deny")] == ["NoDelete"]


def test_condition_near_miss_reports_key_and_values():
    st = dict(READ, Condition={"StringEquals": {"aws:SourceVpce": "vpce-0abc"}})
    ps = PolicySet(identity=(pol("identity", st),))
    d = decide(req("s3:GetObject", f"{BUCKET}/k", context={"aws:SourceVpce": "vpce-9999"}), ps)
    assert d.result == "implicit_deny"
    (near,) = d.near_misses()
    (cond, got), = near.failed_conditions
    assert cond.key == "aws:SourceVpce" and cond.values == ("vpce-0abc",) and got == ("vpce-9999",)


def test_boundary_limits_identity():
    ps = PolicySet(identity=(pol("identity", READ),),
                   boundary=(pol("boundary", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}),))
    d = decide(req("s3:GetObject", f"{BUCKET}/k"), ps)
    assert d.result == "implicit_deny" and d.blocked_by == ("boundary",)


def test_scp_every_level_must_allow_and_service_linked_roles_are_exempt():
    allow_all = pol("scp", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    only_ec2 = pol("scp", {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})
    ps = PolicySet(identity=(pol("identity", READ),), scp=((allow_all,), (only_ec2,)))
    d = decide(req("s3:GetObject", f"{BUCKET}/k"), ps)
    assert d.result == "implicit_deny" and d.blocked_by == ("scp",)
    slr = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    assert decide(req("s3:GetObject", f"{BUCKET}/k", principal_arn=slr), ps).result == "allow"


def test_cross_account_needs_both_sides():
    other = "444455556666"
    ps_id = PolicySet(identity=(pol("identity", READ),))
    assert decide(req("s3:GetObject", f"{BUCKET}/k", resource_account=other), ps_id).result == "implicit_deny"
    bucket_policy = pol("resource", {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                     "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    both = PolicySet(identity=(pol("identity", READ),), resource=(bucket_policy,))
    assert decide(req("s3:GetObject", f"{BUCKET}/k", resource_account=other), both).result == "allow"
    only_resource = PolicySet(resource=(bucket_policy,))
    d = decide(req("s3:GetObject", f"{BUCKET}/k", resource_account=other), only_resource)
    assert d.result == "implicit_deny" and d.blocked_by == ("identity",)


def test_same_account_resource_policy_naming_the_role_is_enough():
    bucket_policy = pol("resource", {"Effect": "Allow", "Principal": {"AWS": ROLE},
                                     "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    assert decide(req("s3:GetObject", f"{BUCKET}/k"), PolicySet(resource=(bucket_policy,))).result == "allow"


def test_kms_key_policy_must_trust_the_account_for_iam_policies_to_count():
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd"
    identity = pol("identity", {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
    no_trust = pol("resource", {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                                "Action": "kms:*", "Resource": "*"})
    trusts_account = pol("resource", {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                      "Action": "kms:*", "Resource": "*"})
    d = decide(req("kms:Decrypt", key), PolicySet(identity=(identity,), resource=(no_trust,)))
    assert d.result == "implicit_deny" and d.blocked_by == ("kms-key-policy",)
    assert decide(req("kms:Decrypt", key), PolicySet(identity=(identity,), resource=(trusts_account,))).allowed
    # trusting the account without an IAM allow is not enough
    d = decide(req("kms:Decrypt", key), PolicySet(resource=(trusts_account,)))
    assert d.result == "implicit_deny" and d.blocked_by == ("identity",)


def test_trust_policy_decides_assume_role():
    target = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    identity = pol("identity", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target})
    trust_other = pol("trust", {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                "Action": "sts:AssumeRole"})
    d = decide(req("sts:AssumeRole", target), PolicySet(identity=(identity,), resource=(trust_other,)))
    assert d.result == "implicit_deny" and d.blocked_by == ("trust",)


def test_get_caller_identity_is_always_allowed():
    deny = pol("identity", {"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert decide(req("sts:GetCallerIdentity", "*"), PolicySet(identity=(deny,))).allowed


def test_vpc_endpoint_policy_must_allow():
    vpce = pol("vpc_endpoint", {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "*"})
    d = decide(req("s3:GetObject", f"{BUCKET}/k"), PolicySet(identity=(pol("identity", READ),), vpc_endpoint=(vpce,)))
    assert d.result == "implicit_deny" and d.blocked_by == ("vpc_endpoint",)


def unresolved(statement: Statement, *elements) -> Statement:
    from dataclasses import replace
    return replace(statement, unresolved=frozenset(elements))


def test_unresolved_statements_make_the_decision_unknown_never_allow():
    base = pol("identity", dict(READ, Resource="arn:aws:s3:::*"))  # resource came from an import
    maybe = base.__class__(base.name, base.kind, (unresolved(base.statements[0], "Resource"),), version=base.version)
    d = decide(req("s3:GetObject", f"{BUCKET}/k"), PolicySet(identity=(maybe,)))
    assert d.result == "unknown"
    assert [t.outcome for t in d.trace] == ["unresolved"]
    # a known allow elsewhere still allows, and a known deny still denies
    known = pol("identity", READ)
    assert decide(req("s3:GetObject", f"{BUCKET}/k"), PolicySet(identity=(maybe, known))).result == "allow"
    deny = pol("identity", {"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    assert decide(req("s3:GetObject", f"{BUCKET}/k"), PolicySet(identity=(maybe, deny))).result == "explicit_deny"
    # an unresolved statement for another action is irrelevant
    assert decide(req("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q"),
                  PolicySet(identity=(maybe,))).result == "implicit_deny"


def test_version_2008_has_no_policy_variables():
    st = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"}
    ctx = {"aws:username": "alice"}
    new = PolicySet(identity=(pol("identity", st),))
    old = PolicySet(identity=(pol("identity", st, version="2008-10-17"),))
    assert decide(req("s3:GetObject", "arn:aws:s3:::home/alice/x", context=ctx), new).allowed
    assert not decide(req("s3:GetObject", "arn:aws:s3:::home/alice/x", context=ctx), old).allowed


def test_a_resource_pattern_needs_every_resource_it_names():
    orders = pol("identity", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/*"})
    invoices = pol("identity", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/invoices/*"})
    pattern = req("s3:PutObject", f"{BUCKET}/*", resource_is_pattern=True)
    assert decide(pattern, PolicySet(identity=(orders,))).allowed
    assert not decide(pattern, PolicySet(identity=(invoices,))).allowed  # covers only part of it
    # a Deny on part of it blocks it
    deny = pol("identity", {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"{BUCKET}/secrets/*"})
    assert decide(pattern, PolicySet(identity=(orders, deny))).result == "explicit_deny"
    narrow = req("s3:PutObject", f"{BUCKET}/invoices/2026-*", resource_is_pattern=True)
    assert decide(narrow, PolicySet(identity=(invoices, deny))).allowed


def test_globs_intersect():
    from iamgate.engine.match import globs_intersect
    assert globs_intersect("arn:aws:s3:::b/*", "arn:aws:s3:::b/secrets/*")
    assert globs_intersect("a*c", "ab?")
    assert not globs_intersect("a*c", "ab?d")
    assert not globs_intersect("arn:aws:s3:::b/x*", "arn:aws:s3:::b/y*")


# ------------------------------------------------------------------ actions that take no resource
# AWS authorizes an action with no resource type against "*" (Service Authorization Reference: "you
# must specify all resources ("*")"; iam-simulate's wildcardOnlyActions.json): see evaluate's docstring


PIPELINES = f"arn:aws:codepipeline:us-east-1:{ACCOUNT}:*"


def test_an_action_that_takes_no_resource_is_allowed_only_by_a_resource_that_matches_star():
    by_arn = PolicySet(identity=(pol("identity", {"Effect": "Allow", "Action": "codepipeline:ListPipelines",
                                                  "Resource": PIPELINES}),))
    by_star = PolicySet(identity=(pol("identity", {"Effect": "Allow", "Action": "codepipeline:List*",
                                                   "Resource": "*"}),))
    for resource, pattern in (("*", True), ("*", False), (PIPELINES, True),
                              (f"arn:aws:codepipeline:us-east-1:{ACCOUNT}:orders", False)):
        r = req("codepipeline:ListPipelines", resource, resource_is_pattern=pattern)
        d = decide(r, by_arn)
        assert d.result == "implicit_deny", resource
        (near,) = d.near_misses()
        assert near.reason == "resource"
        assert decide(r, by_star).result == "allow", resource
    # an action with a resource type keeps its ARN: the same ARN pattern allows it
    get = PolicySet(identity=(pol("identity", {"Effect": "Allow", "Action": "codepipeline:GetPipeline",
                                               "Resource": PIPELINES}),))
    assert decide(req("codepipeline:GetPipeline", f"arn:aws:codepipeline:us-east-1:{ACCOUNT}:orders"),
                  get).result == "allow"


def test_a_deny_naming_an_arn_does_not_reach_an_action_that_takes_no_resource():
    ps = PolicySet(identity=(pol("identity", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                                 {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::secret"},
                                 {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::*"}),))
    # NotResource arn:aws:s3:::* does not match "*": that Deny applies; drop it and the request is allowed
    assert decide(req("s3:ListAllMyBuckets", "*"), ps).result == "explicit_deny"
    allow_and_deny = PolicySet(identity=(pol("identity", *[s for s in (
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::secret"})]),))
    assert decide(req("s3:ListAllMyBuckets", "*", resource_is_pattern=True), allow_and_deny).result == "allow"
    assert decide(req("s3:GetObject", "*", resource_is_pattern=True), allow_and_deny).result == "explicit_deny"


def test_an_allowed_decision_may_leave_its_near_misses_out_and_nothing_else():
    """``allowed_near_misses=False``: an allowed request's trace without its near misses, every
    other entry in the same order; any other decision's trace whole."""
    other = {"Sid": "Other", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}
    deny = {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": f"{BUCKET}/secret/*"}
    ps = PolicySet(identity=(pol("identity", other, READ, deny, name="worker"),),
                   scp=((pol("scp", {"Effect": "Allow", "Action": "*", "Resource": "*"}, other),),))
    for resource in (f"{BUCKET}/2026/a.pdf", f"{BUCKET}/secret/a.pdf", "arn:aws:s3:::elsewhere/a"):
        whole = decide(req("s3:GetObject", resource), ps)
        kept = decide(req("s3:GetObject", resource), ps, allowed_near_misses=False)
        assert (kept.result, kept.blocked_by) == (whole.result, whole.blocked_by) and whole.near_misses()
        if whole.result == "allow":
            assert kept.trace == tuple(t for t in whole.trace if t.outcome != "near-miss")
        else:
            assert kept.trace == whole.trace
    assert {decide(req("s3:GetObject", r), ps).result for r in (f"{BUCKET}/a", f"{BUCKET}/secret/a",
                                                                 "arn:aws:s3:::elsewhere/a")} == {
        "allow", "explicit_deny", "implicit_deny"}
