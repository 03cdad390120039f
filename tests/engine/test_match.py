"""Matching of actions, resources, policy variables and principals."""
import pytest

from iamgate.engine.match import (RequestPrincipal, action_matches, glob_match, pattern_match,
                                  principal_element_applies, resource_element_applies, resource_matches)


@pytest.mark.parametrize("pattern,action,expected", [
    ("s3:GetObject", "s3:getobject", True),
    ("S3:Get*", "s3:GetObjectAcl", True),
    ("s3:Get*", "s3:PutObject", False),
    ("s3:?etObject", "s3:GetObject", True),
    ("*", "kms:Decrypt", True),
    ("s3:*", "s3express:CreateSession", False),  # the service part must match whole
    ("s3*:*", "s3express:CreateSession", True),
    ("iam:*Role*", "iam:PassRole", True),
])
def test_action_matching(pattern, action, expected):
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize("pattern,resource,expected", [
    ("arn:aws:s3:::orders-prod/*", "arn:aws:s3:::orders-prod/2026/invoice.pdf", True),
    ("arn:aws:s3:::orders-prod/*", "arn:aws:s3:::orders-prod", False),
    ("arn:aws:s3:::orders-*", "arn:aws:s3:::orders-prod/key", True),  # S3 names carry no type
    # wildcards do not cross into the next ARN segment
    ("arn:aws:sqs:*:111122223333:jobs", "arn:aws:sqs:eu-west-1:111122223333:jobs", True),
    ("arn:aws:sqs:us-*:111122223333:jobs", "arn:aws:sqs:eu-west-1:111122223333:jobs", False),
    # the resource type is literal; the rest may span '/' and ':'
    ("arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/*",
     "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders:log-stream:x", True),
    ("arn:aws:ec2:us-east-1:111122223333:*/i-0abc", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc", False),
    ("arn:aws:dynamodb:us-east-1:111122223333:table/Orders",
     "arn:aws:dynamodb:us-east-1:111122223333:table/orders", False),  # case-sensitive
    ("*", "*", True),
    ("arn:aws:s3:::b", "*", False),  # a wildcard-only action needs "Resource": "*"
])
def test_resource_matching(pattern, resource, expected):
    assert resource_matches(pattern, resource, {}) is expected


def test_short_arn_depends_on_policy_type():
    q = "arn:aws:sqs:us-east-1:111111111111:test-queue"
    assert resource_matches("arn:aws:sqs", q, {}, "identity") is True     # padded with wildcards
    assert resource_matches("arn:aws:sqs", q, {}, "resource") is False    # literal in a resource policy
    assert resource_matches("arn:aws:sqs:*", q, {}, "scp") is True
    assert resource_matches("arn:aws:sqs:*:111111111111", q, {}, "scp") is None  # rejected
    assert resource_matches("arn:aws:sqs:*", q, {}, "rcp") is None
    # a short ARN does not let a wildcard stand for two segments
    assert resource_matches("arn:aws:sqs:*:test-queue", q, {}, "identity") is None
    # an identity-side mismatch is an error: neither Resource nor NotResource applies
    assert resource_element_applies(("arn:aws:sqs:us-west-2",), q, {}, True, "identity") is False
    assert resource_element_applies(("arn:aws:sqs:us-west-2",), q, {}, False, "identity") is False


def test_policy_variables():
    ctx = {"aws:username": "alice", "aws:principaltag/team": "pay*"}
    arn = "arn:aws:s3:::home/alice/notes.txt"
    assert resource_matches("arn:aws:s3:::home/${aws:username}/*", arn, ctx)
    assert not resource_matches("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/x", ctx)
    # a variable's value is literal: "pay*" does not match "payments"
    assert not resource_matches("arn:aws:s3:::t/${aws:PrincipalTag/team}", "arn:aws:s3:::t/payments", ctx)
    assert resource_matches("arn:aws:s3:::t/${aws:PrincipalTag/team}", "arn:aws:s3:::t/pay*", ctx)
    # defaults, and the escapes ${*} ${?} ${$}
    assert resource_matches("arn:aws:s3:::t/${aws:PrincipalTag/dept, 'none'}", "arn:aws:s3:::t/none", ctx)
    assert pattern_match("a${*}b", "a*b", ctx) and not pattern_match("a${*}b", "axb", ctx)
    assert pattern_match("a${?}b", "a?b", ctx) and not pattern_match("a${?}b", "axb", ctx)
    assert pattern_match("cost${$}", "cost$", ctx)
    # an undefined variable is an error: it matches in neither Resource nor NotResource
    assert resource_matches("arn:aws:s3:::t/${aws:userid}", "arn:aws:s3:::t/x", ctx) is None
    assert resource_element_applies(("arn:aws:s3:::t/${aws:userid}",), "arn:aws:s3:::t/x", ctx, True) is False
    # multi-valued keys cannot be substituted
    assert resource_matches("arn:aws:s3:::t/${aws:TagKeys}", "arn:aws:s3:::t/a", {"aws:tagkeys": ("a",)}) is None
    # version 2008-10-17 documents have no variables
    assert resource_matches("arn:aws:s3:::t/${aws:username}", "arn:aws:s3:::t/${aws:username}", ctx,
                            variables=False)


def test_glob_question_mark_is_one_character():
    assert glob_match("us-east-?", "us-east-1") and not glob_match("us-east-?", "us-east-10")


def role(arn="arn:aws:iam::111122223333:role/worker", boundary=False):
    return RequestPrincipal("iam-role", arn, "111122223333", has_boundary=boundary)


def test_principal_forms():
    session = RequestPrincipal("assumed-role", "arn:aws:sts::111122223333:assumed-role/worker/s1", "111122223333")
    assert principal_element_applies({"*": ("*",)}, role(), False)
    assert principal_element_applies({"AWS": ("111122223333",)}, role(), False)
    assert principal_element_applies({"AWS": ("arn:aws:iam::111122223333:root",)}, session, False)
    assert not principal_element_applies({"AWS": ("arn:aws:iam::444455556666:root",)}, session, False)
    assert principal_element_applies({"AWS": ("arn:aws:iam::111122223333:role/worker",)}, session, False)
    svc = RequestPrincipal("service", "lambda.amazonaws.com", None)
    assert principal_element_applies({"Service": ("lambda.amazonaws.com",)}, svc, False)
    assert principal_element_applies({"AWS": ("*",)}, svc, False)  # {"AWS": "*"} is everyone, as "*"
    assert not principal_element_applies({"AWS": ("111122223333",)}, svc, False)
    # NotPrincipal: a role ARN does not exclude a session of the role
    assert principal_element_applies({"AWS": ("arn:aws:iam::111122223333:role/worker",)}, session, True)
    assert not principal_element_applies({"AWS": ("arn:aws:iam::111122223333:role/worker",)}, role(), True)
    assert principal_element_applies({"AWS": ("arn:aws:iam::111122223333:role/worker",)}, role(boundary=True), True)


@pytest.mark.parametrize("patterns", [("s3:Get*", "sqs:?endMessage"), ("*",), ("s3*:*",), ("iam:*Role*", "kms:Decrypt"),
                                      ("s3",), ("S3:GETOBJECT",)])
@pytest.mark.parametrize("action", ["s3:GetObject", "sqs:SendMessage", "s3express:CreateSession", "iam:PassRole",
                                    "kms:decrypt", "s3:PutObject"])
def test_compiled_action_element_agrees_with_each_pattern(patterns, action):
    from iamgate.engine.match import actions_regex
    assert (actions_regex(patterns).fullmatch(action) is not None) == any(action_matches(p, action) for p in patterns)


# ------------------------------------------------------------------------------ element_services

from hypothesis import given, strategies as st  # noqa: E402

from iamgate.engine.match import element_services, split_arn  # noqa: E402


def may_match(patterns, resource):
    """What ``AllowIndex`` concludes from ``element_services``: False only when ``resource`` is a
    full ARN of a service none of the patterns can name."""
    services = element_services(patterns)
    parts = split_arn(resource)
    return services is None or parts is None or parts[2] in services

from ..strategies import examples  # noqa: E402

_SEGMENT = st.sampled_from(["s3", "sqs", "S3", "s*", "*", "", "s?s", "${aws:username}", "iam"])
_RESOURCE_PART = st.sampled_from(["bucket/*", "queue-1", "*", "role/${aws:username}", "bucket", "table/t"])


@st.composite
def _patterns(draw):
    def one():
        kind = draw(st.integers(0, 5))
        if kind == 0:
            return "*"
        if kind == 1:  # short, or not an ARN at all
            return draw(st.sampled_from(["arn:aws:s3", "arn:aws:s3:::", "bucket/*", "arn:aws:sqs:*"]))
        return ":".join(["arn", draw(st.sampled_from(["aws", "*", "aws-cn"])), draw(_SEGMENT),
                         draw(st.sampled_from(["", "us-east-1", "*"])),
                         draw(st.sampled_from(["", "111122223333", "*"])), draw(_RESOURCE_PART)])
    return tuple(one() for _ in range(draw(st.integers(1, 3))))


_RESOURCES = st.one_of(
    st.builds(lambda seg, part: f"arn:aws:{seg}:us-east-1:111122223333:{part}",
              st.sampled_from(["s3", "sqs", "S3", "iam", "*"]), _RESOURCE_PART),
    st.sampled_from(["arn:aws:s3:::bucket/k", "arn:aws:s3:::bucket", "*", "bucket/k", "arn:aws:iam::111122223333:role/me"]))


@examples(400)
@given(patterns=_patterns(), resource=_RESOURCES)
def test_may_match_is_false_only_when_the_resource_element_cannot_apply(patterns, resource):
    """The prefilter diagnosis and fixes run before the full match never hides a match."""
    context = {"aws:username": "me"}
    if not may_match(patterns, resource):
        assert not resource_element_applies(patterns, resource, context, False)
        assert resource_element_applies(patterns, resource, context, True)


def test_may_match_rules_out_another_service_and_keeps_wildcards():
    assert may_match(("arn:aws:s3:::b/*",), "arn:aws:s3:::b/k")
    assert not may_match(("arn:aws:s3:::b/*", "arn:aws:sqs:*:*:q"), "arn:aws:dynamodb:us-east-1:1:table/t")
    assert may_match(("arn:aws:s*:::b/*",), "arn:aws:sqs:us-east-1:1:q")
    assert may_match(("arn:aws:s3",), "arn:aws:sqs:us-east-1:1:q")  # short: padded with wildcards


def test_the_allow_index_finds_what_a_scan_of_every_statement_finds():
    """``AllowIndex.covering`` (diagnosis and fixes, per missing permission) is the plain scan:
    every Allow statement naming resources, not "*", whose Resource matches, in document order."""
    from iamgate.engine.match import allow_index
    from iamgate.policy import parse_policy

    doc = {"Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*", "arn:aws:sqs:*:*:q"]},
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s*:::b/${aws:username}"},
        {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "bucket/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/me"}]}
    policies = (parse_policy(doc, "p", "identity"), parse_policy(dict(doc, Statement=doc["Statement"][::-1]), "q",
                                                                     "identity"))
    context = {"aws:username": "me"}
    for resource in ("arn:aws:s3:::b/me", "arn:aws:sqs:us-east-1:111122223333:q", "bucket/x", "*",
                     "arn:aws:dynamodb:us-east-1:1:table/t"):
        scan = [(p, st) for p in policies for st in p.statements
                if st.effect == "Allow" and st.resources is not None and "*" not in st.resources
                and resource_element_applies(st.resources, resource, context, False)]
        assert allow_index(policies).covering(resource, context) == scan, resource
    assert len(allow_index(policies).covering("arn:aws:s3:::b/me", context)) == 6


from iamgate.engine.match import literal_arns  # noqa: E402

_ARNS = ["arn:aws:sqs:us-east-1:111122223333:queue-1", "arn:aws:sqs:us-east-1:111122223333:Queue-1",
         "arn:aws:dynamodb:us-east-1:111122223333:table/t", "arn:aws:dynamodb:us-east-1:111122223333:table/t/index/i",
         "arn:aws:s3:::bucket", "arn:aws:s3:::bucket/key", "arn:aws:iam::111122223333:role/a:b",
         "arn:aws-cn:sqs:cn-north-1:111122223333:queue-1", "arn:aws:sqs:us-east-1:111122223333:queue-1:x",
         "arn:aws:SQS:us-east-1:111122223333:queue-1", "arn:aws:kms:us-east-1:111122223333:key/k"]
_WRITTEN = st.sampled_from(_ARNS + ["arn:aws:sqs:us-east-1:111122223333:*", "arn:aws:s3:::bucket/${aws:username}",
                                    "arn:aws:s3", "*", "queue-1", "arn:aws:s3:::b?cket"])
_ASKED = st.sampled_from(_ARNS + ["*", "queue-1", "arn:aws:s3:::bucket/", "arn:aws:sqs:us-east-1:111122223333"])


@examples(400)
@given(st.lists(_WRITTEN, min_size=1, max_size=3).map(tuple), _ASKED, st.booleans(),
       st.sampled_from(["identity", "resource", "scp"]))
def test_a_resource_element_of_written_out_arns_is_a_set_membership(patterns, resource, negated, kind) -> None:
    """``literal_arns`` answers for an element only where every pattern is a full ARN without a
    wildcard, variable or escape, and then as ``resource_element_applies`` does."""
    literal = literal_arns(patterns)
    expected = resource_element_applies(patterns, resource, {"aws:username": "me"}, negated, kind)
    if literal is not None:
        assert ((resource in literal) != negated) == expected
    assert (literal is None) == any(p not in _ARNS for p in patterns)
