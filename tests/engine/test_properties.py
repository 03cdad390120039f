"""Property-based tests of the engine's invariants (hypothesis)."""
from hypothesis import given, settings, strategies as st

from iamgate.catalog import expand_action
from iamgate.engine.evaluate import PolicySet, Request, decide
from iamgate.policy import parse_policy

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


@settings(max_examples=300, deadline=None)
@given(st.lists(statements, max_size=6), with_boundary, statements, requests)
def test_adding_a_deny_never_allows_more(identity, boundary, extra, request):
    deny = dict(extra, Effect="Deny")
    before = decide(request, policies(identity, boundary)).result
    after = decide(request, policies(identity + [deny], boundary)).result
    assert not (after == "allow" and before != "allow")
    if before == "explicit_deny":
        assert after == "explicit_deny"


@settings(max_examples=300, deadline=None)
@given(st.lists(statements, max_size=6), with_boundary, statements, requests)
def test_adding_an_allow_never_denies_more(identity, boundary, extra, request):
    allow = dict(extra, Effect="Allow")
    before = decide(request, policies(identity, boundary)).result
    after = decide(request, policies(identity + [allow], boundary)).result
    if before == "allow":
        assert after == "allow"
    if after == "explicit_deny":
        assert before == "explicit_deny"


@settings(max_examples=200, deadline=None)
@given(statements, st.lists(statements, max_size=4), requests)
def test_wildcard_action_decides_like_its_expansion(statement, others, request):
    wild = dict(statement, Action=["s3:Get*"])
    expanded = dict(statement, Action=list(expand_action("s3:Get*")))
    assert decide(request, policies(others + [wild])).result == decide(request, policies(others + [expanded])).result


@settings(max_examples=200, deadline=None)
@given(st.lists(statements, min_size=1, max_size=6), st.randoms(use_true_random=False), requests)
def test_statement_order_does_not_matter(identity, rnd, request):
    shuffled = list(identity)
    rnd.shuffle(shuffled)
    a, b = decide(request, policies(identity)), decide(request, policies(shuffled))
    assert (a.result, a.blocked_by) == (b.result, b.blocked_by)
