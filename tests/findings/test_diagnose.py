"""Each cause of a denial, as the report words it: policy type, statement, nearest statements."""
from iamgate.findings.diagnose import cause_lines
from iamgate.engine.evaluate import PolicySet, Request, decide
from iamgate.model import Location, Principal, Requirement
from iamgate.policy import parse_policy

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/worker"
OBJ = "arn:aws:s3:::orders/2026/a.pdf"


def pol(kind, *statements, name="p"):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name, kind,
                        statement_location=lambda i: Location("infra/stack.yaml", 10 + i))


ALLOW_GET = {"Sid": "ReadOrders", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders/*"}
ALLOW_ALL_S3 = {"Sid": "AllS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}


def causes(ps, action="s3:GetObject", resource=OBJ, context=None, principal_policies=()):
    request = Request(action=action, resource=resource, principal_type="iam-role", principal_arn=ROLE,
                      principal_account=ACCOUNT, resource_account=ACCOUNT, context=context or {})
    d = decide(request, ps)
    p = Principal(id="worker", type="role", arn=ROLE, account=ACCOUNT, identity_policies=tuple(principal_policies))
    return d, cause_lines(p, Requirement("worker", action, resource, context or {}), d)


def test_identity_implicit_deny_names_the_nearest_statement_on_the_same_resource():
    worker = pol("identity", ALLOW_GET, name="worker")
    d, lines = causes(PolicySet(identity=(worker,)), action="s3:PutObject", principal_policies=(worker,))
    assert lines[0] == "implicit deny: no identity-based policy allows s3:PutObject"
    assert lines[1] == "nearest: ReadOrders (infra/stack.yaml:10) allows s3:GetObject on the same resource"


def test_condition_near_miss_says_which_key_and_value_would_allow_it():
    st = dict(ALLOW_GET, Condition={"StringEquals": {"aws:SourceVpce": "vpce-0abc"}})
    d, lines = causes(PolicySet(identity=(pol("identity", st),)), context={"aws:SourceVpce": "vpce-9"})
    assert lines[1] == ("nearest: ReadOrders (infra/stack.yaml:10) would allow it if aws:SourceVpce were vpce-0abc "
                        "(StringEquals; the request has vpce-9)")


def test_explicit_deny_names_the_statement_and_policy_type():
    deny = {"Sid": "NoOrders", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::orders/*"}
    for kind, word, field in (("identity", "identity-based policy", "identity"), ("boundary", "permissions boundary", "boundary"),
                              ("session", "session policy", "session")):
        ps = PolicySet(identity=(pol("identity", ALLOW_ALL_S3),), **{field: (pol(kind, deny, name="guard"),)}) \
            if field != "identity" else PolicySet(identity=(pol("identity", ALLOW_ALL_S3, deny, name="guard"),))
        d, lines = causes(ps)
        assert d.result == "explicit_deny" and d.blocked_by == (field,)
        assert lines == [f'explicit deny: NoOrders (infra/stack.yaml:{11 if field == "identity" else 10}) in the {word} "guard" denies it']
    d, lines = causes(PolicySet(identity=(pol("identity", ALLOW_ALL_S3),), scp=((pol("scp", ALLOW_ALL_S3, deny, name="ou"),),)))
    assert lines == ['explicit deny: NoOrders (infra/stack.yaml:11) in the service control policy "ou" denies it']


def test_implicit_denies_by_each_guardrail_and_resource_side_policy():
    identity = pol("identity", ALLOW_ALL_S3, {"Effect": "Allow", "Action": ["kms:*", "sts:AssumeRole"], "Resource": "*"},
                   name="worker")
    only_ec2 = pol("x", {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})
    cases = [
        (PolicySet(identity=(identity,), boundary=(only_ec2,)), "s3:GetObject", OBJ,
         "implicit deny: the permissions boundary does not allow it"),
        (PolicySet(identity=(identity,), session=(only_ec2,)), "s3:GetObject", OBJ,
         "implicit deny: the session policy does not allow it"),
        (PolicySet(identity=(identity,), scp=((only_ec2,),)), "s3:GetObject", OBJ,
         "implicit deny: a service control policy level does not allow it"),
        (PolicySet(identity=(identity,), vpc_endpoint=(pol("vpc_endpoint", {"Effect": "Allow", "Principal": "*",
                                                                              "Action": "ec2:*", "Resource": "*"}),)),
         "s3:GetObject", OBJ, "implicit deny: the VPC endpoint policy does not allow it"),
        (PolicySet(identity=(identity,), resource=(pol("resource", {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                                                                      "Action": "kms:*", "Resource": "*"}),)),
         "kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k1", "implicit deny: the key policy does not allow it"),
        (PolicySet(identity=(identity,), resource=(pol("trust", {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                                   "Action": "sts:AssumeRole"}),)),
         "sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/deployer", "implicit deny: the role trust policy does not allow it"),
    ]
    for ps, action, resource, expected in cases:
        d, lines = causes(ps, action=action, resource=resource)
        assert d.result == "implicit_deny", expected
        assert lines[0].startswith(expected), (lines, expected)
        assert '(the identity policy "worker" allows it, infra/stack.yaml:' in lines[0]


def test_cross_account_without_a_resource_policy():
    request = Request(action="s3:GetObject", resource=OBJ, principal_type="iam-role", principal_arn=ROLE,
                      principal_account=ACCOUNT, resource_account="444455556666")
    d = decide(request, PolicySet(identity=(pol("identity", ALLOW_ALL_S3, name="worker"),)))
    p = Principal(id="worker", type="role", arn=ROLE, account=ACCOUNT)
    assert cause_lines(p, Requirement("worker", "s3:GetObject", OBJ), d)[0] == \
        'implicit deny: the resource-based policy does not allow it (the identity policy "worker" allows it, infra/stack.yaml:10)'


def test_an_arn_for_an_action_that_takes_no_resource_is_named_with_the_fix():
    buckets = {"Sid": "Buckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "arn:aws:s3:::*"}
    # asked with a bucket ARN (simulate, explain) or with "*": AWS decides it against "*" either way
    for resource in ("arn:aws:s3:::orders", "*"):
        d, lines = causes(PolicySet(identity=(pol("identity", buckets),)), action="s3:ListAllMyBuckets",
                          resource=resource)
        assert lines == ["implicit deny: no identity-based policy allows s3:ListAllMyBuckets",
                         's3:ListAllMyBuckets takes no resource: AWS authorizes it against "*" only',
                         'nearest: Buckets (infra/stack.yaml:10) allows s3:ListAllMyBuckets on arn:aws:s3:::*, '
                         'not on "*": use "Resource": "*" for it']
