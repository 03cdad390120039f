"""Seeded random authorization cases in the neutral format (../shared/conformance/NEUTRAL_FORMAT.md).

Contract: ``generate(n, seed)`` returns ``n`` cases; the same (n, seed) always gives the same cases
(only ``random.Random(seed)`` is used). Every case is *valid* for AWS and for iam-simulate's policy
validation: it is a request one caller could make, with the policies AWS would evaluate for it.

A case is ``{"id", "suite": "oracle", "kind": "authorization", "request", "policies", "oracle"}``;
``oracle`` says what the neutral format cannot: ``caller`` (iam-user, assumed-role, federated-user,
root, service, anonymous, web-identity, saml), and ``session_policy_passed`` (a federated user whose
GetFederationToken call passed no policy has no effective permissions — the translation for
iam-simulate encodes that, iamgate receives ``session: null``).

What is covered: identity policies, a permissions boundary, a session policy, SCP and RCP levels
(FullAWSAccess / RCPFullAWSAccess attached at each level as AWS does, RCPFullAWSAccess always —
it cannot be detached), resource policies (S3 bucket, SQS queue, KMS key policy, role trust
policy), VPC endpoint policies; Action/NotAction, Resource/NotResource, Principal/NotPrincipal;
every condition operator family with IfExists, ForAllValues/ForAnyValue, missing, empty and
multi-valued keys; policy variables with and without defaults; same- and cross-account requests.

Left out on purpose, because AWS's documentation does not say what they mean (so neither engine can
be called right): a multivalued key under an operator without ForAllValues/ForAnyValue
("Multivalued context keys require a condition set operator"); Null on an empty multivalued key; a
policy variable whose key the request lacks, in a condition value.
"""
from __future__ import annotations

import base64
import copy
import random
from typing import Any, Dict, List, Optional, Tuple

Doc = Dict[str, Any]
Case = Dict[str, Any]

ACCOUNT = "111111111111"   # the caller's account
OTHER = "222222222222"     # another account
ORG_ID = "o-a1b2c3d4e5"
VPCE = "vpce-1a2b3c4d"
V = "2012-10-17"

CALLERS = ("iam-user", "assumed-role", "federated-user", "root", "service", "anonymous",
           "web-identity", "saml")
SERVICES = ("s3.amazonaws.com", "sns.amazonaws.com", "cloudtrail.amazonaws.com")

FULL_AWS_ACCESS: Doc = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
RCP_FULL_AWS_ACCESS_STATEMENT: Doc = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


# ----------------------------------------------------------------------------- targets


def _bucket(account: str) -> str:
    return "bucket-a" if account == ACCOUNT else "bucket-b"


def target(kind: str, account: str) -> Tuple[str, str, Optional[str]]:
    """(action, resource, resource-policy kind or None) for a target kind in an account."""
    if kind == "s3-object":
        return "s3:GetObject", f"arn:aws:s3:::{_bucket(account)}/reports/alice/q1.csv", "bucket"
    if kind == "s3-put":
        return "s3:PutObject", f"arn:aws:s3:::{_bucket(account)}/reports/alice/q2.csv", "bucket"
    if kind == "s3-bucket":
        return "s3:ListBucket", f"arn:aws:s3:::{_bucket(account)}", "bucket"
    if kind == "sqs":
        return "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{account}:orders", "queue"
    if kind == "kms":
        return "kms:Decrypt", f"arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab", "key"
    if kind == "assume-role":
        return "sts:AssumeRole", f"arn:aws:iam::{account}:role/target", "trust"
    if kind == "web-identity":
        return "sts:AssumeRoleWithWebIdentity", f"arn:aws:iam::{account}:role/web", "trust"
    if kind == "saml":
        return "sts:AssumeRoleWithSAML", f"arn:aws:iam::{account}:role/saml", "trust"
    if kind == "dynamodb":
        return "dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{account}:table/orders", None
    if kind == "ec2":
        return "ec2:DescribeInstances", "*", None
    raise ValueError(kind)


TARGETS_FOR = {
    "iam-user": ("s3-object", "s3-put", "s3-bucket", "sqs", "kms", "assume-role", "dynamodb", "ec2"),
    "assumed-role": ("s3-object", "s3-put", "s3-bucket", "sqs", "kms", "assume-role", "dynamodb", "ec2"),
    "federated-user": ("s3-object", "s3-bucket", "sqs", "kms", "dynamodb", "ec2"),
    "root": ("s3-object", "s3-bucket", "sqs", "kms", "assume-role", "dynamodb", "ec2"),
    "service": ("s3-object", "s3-put", "sqs", "kms"),
    "anonymous": ("s3-object", "s3-bucket", "sqs"),
    "web-identity": ("web-identity",),
    "saml": ("saml",),
}

RCP_SERVICES = ("s3", "sqs", "kms", "sts", "secretsmanager")
RCP_ACTIONS = ("s3:*", "sqs:*", "kms:*", "sts:*", "s3:GetObject", "sts:AssumeRole*")
UNRELATED_ACTIONS = ("s3:DeleteBucket", "sqs:DeleteQueue", "kms:Encrypt", "iam:CreateUser", "ec2:RunInstances",
                     "dynamodb:PutItem", "sts:GetFederationToken")


# ----------------------------------------------------------------------------- callers


def caller(kind: str, rng: random.Random) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(neutral principal, the request context AWS fills in for it)."""
    ctx: Dict[str, Any] = {}
    if kind == "iam-user":
        arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
        ctx.update({"aws:PrincipalArn": arn, "aws:PrincipalType": "User", "aws:username": "alice",
                    "aws:userid": "AIDAEXAMPLEALICE"})
        return {"type": "iam-user", "arn": arn, "account": ACCOUNT}, ctx
    if kind == "assumed-role":
        arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/session-1"
        ctx.update({"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/app-role", "aws:PrincipalType": "AssumedRole",
                    "aws:userid": "AROAEXAMPLEAPP:session-1"})
        return {"type": "assumed-role", "arn": arn, "account": ACCOUNT}, ctx
    if kind == "federated-user":
        arn = f"arn:aws:sts::{ACCOUNT}:federated-user/alice"
        ctx.update({"aws:PrincipalArn": arn, "aws:PrincipalType": "FederatedUser",
                    "aws:userid": f"{ACCOUNT}:alice"})
        # "issuer": the IAM user that called GetFederationToken (not in the session's ARN); the
        # neutral format has no field for it, iamgate's adapter reads this optional one
        return {"type": "federated-user", "arn": arn, "account": ACCOUNT,
                "issuer": f"arn:aws:iam::{ACCOUNT}:user/alice"}, ctx
    if kind == "root":
        arn = f"arn:aws:iam::{ACCOUNT}:root"
        ctx.update({"aws:PrincipalArn": arn, "aws:PrincipalType": "Account", "aws:userid": ACCOUNT})
        return {"type": "root", "arn": arn, "account": ACCOUNT}, ctx
    if kind == "service":
        svc = rng.choice(SERVICES)
        ctx.update({"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": svc,
                    "aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t1"})
        return {"type": "service", "arn": svc, "account": None}, ctx
    if kind == "anonymous":
        ctx.update({"aws:PrincipalType": "Anonymous", "aws:userid": "anonymous"})
        return {"type": "anonymous", "arn": None, "account": None}, ctx
    if kind == "web-identity":
        if rng.random() < 0.5:
            provider = "cognito-identity.amazonaws.com"
            ctx.update({"cognito-identity.amazonaws.com:aud": "us-east-1:pool-1",
                        "aws:FederatedProvider": provider})
            return {"type": "federated-user", "arn": provider, "account": None}, ctx  # no account of its own
        provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
        ctx.update({"aws:FederatedProvider": provider})
        return {"type": "federated-user", "arn": provider, "account": ACCOUNT}, ctx
    if kind == "saml":
        provider = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"
        ctx.update({"saml:aud": "https://signin.aws.amazon.com/saml", "saml:sub": "alice@example.com",
                    "aws:FederatedProvider": provider})
        return {"type": "federated-user", "arn": provider, "account": ACCOUNT}, ctx
    raise ValueError(kind)


def _has_identity(kind: str) -> bool:
    return kind in ("iam-user", "assumed-role", "federated-user", "root")


def request_context(kind: str, base: Dict[str, Any], rng: random.Random, in_org: bool, vpce: bool) -> Dict[str, Any]:
    """The caller's keys plus global keys, some left out (missing), some empty or multi-valued."""
    ctx = dict(base)
    if _has_identity(kind):
        ctx["aws:PrincipalAccount"] = ACCOUNT
        if kind in ("iam-user", "assumed-role") and rng.random() < 0.7:
            ctx["aws:PrincipalTag/team"] = rng.choice(["blue", "Blue", "red"])
        if in_org:
            ctx["aws:PrincipalOrgID"] = ORG_ID
            ctx["aws:PrincipalOrgPaths"] = [f"{ORG_ID}/r-ab12/ou-ab12-11111111/"]
        if rng.random() < 0.5:
            ctx["aws:MultiFactorAuthPresent"] = rng.choice(["true", "false"])
            ctx["aws:MultiFactorAuthAge"] = str(rng.choice([30, 600, 3600, 86400]))
        if kind != "root" and rng.random() < 0.5:
            ctx["aws:TokenIssueTime"] = rng.choice(["2024-06-01T08:00:00Z", "2024-05-01T00:00:00Z"])
        r = rng.random()
        if r < 0.3:
            ctx["aws:CalledVia"] = rng.choice([["cloudformation.amazonaws.com"],
                                               ["cloudformation.amazonaws.com", "athena.amazonaws.com"], []])
    ctx["aws:SourceIp"] = rng.choice(["10.1.2.3", "192.0.2.10", "203.0.113.7", "2001:db8::1"])
    ctx["aws:CurrentTime"] = rng.choice(["2024-06-01T12:00:00Z", "2025-01-15T00:00:00Z"])
    ctx["aws:EpochTime"] = rng.choice(["1717243200", "1736899200"])
    ctx["aws:SecureTransport"] = rng.choice(["true", "true", "false"])
    ctx["aws:RequestedRegion"] = "us-east-1"
    if vpce:
        ctx["aws:SourceVpce"] = VPCE
    # missing keys: drop a few of the optional ones
    for key in ("aws:SourceIp", "aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport", "aws:PrincipalTag/team",
                "aws:MultiFactorAuthAge"):
        if key in ctx and rng.random() < 0.1:
            del ctx[key]
    return ctx


# ----------------------------------------------------------------------------- conditions

# condition keys by the operator family that reads them
STRING_KEYS = ("aws:username", "aws:PrincipalTag/team", "aws:PrincipalOrgID", "aws:userid", "aws:PrincipalType",
               "aws:SourceVpce", "aws:PrincipalAccount", "aws:RequestedRegion", "aws:PrincipalServiceName",
               "saml:aud", "aws:SourceAccount")
MULTI_KEYS = ("aws:CalledVia", "aws:PrincipalOrgPaths")
NUMERIC_KEYS = ("aws:MultiFactorAuthAge",)
DATE_KEYS = ("aws:CurrentTime", "aws:EpochTime", "aws:TokenIssueTime")
BOOL_KEYS = ("aws:SecureTransport", "aws:MultiFactorAuthPresent", "aws:PrincipalIsAWSService")
IP_KEYS = ("aws:SourceIp",)
ARN_KEYS = ("aws:PrincipalArn", "aws:SourceArn")


def _flip_case(s: str) -> str:
    return s.swapcase() if s else s


def _string_values(key: str, ctx: Dict[str, Any], rng: random.Random) -> List[str]:
    actual = ctx.get(key)
    actual = actual[0] if isinstance(actual, list) and actual else actual
    pool = ["blue", "o-zzzzzzzzzz", "nobody", "us-west-2"]
    if isinstance(actual, str):
        pool += [actual, actual, _flip_case(actual), actual[:3] + "*", "*" + actual[-2:], actual[:-1] + "?"]
    # a variable whose key the request lacks is left out: how a negated operator treats it is not
    # documented (see the report), so the generator does not ask
    if key == "aws:username" and "aws:username" in ctx:
        pool += ["${aws:username}", "${aws:PrincipalTag/team, 'alice'}"]
    if key == "aws:PrincipalTag/team":
        pool += ["${aws:username, 'blue'}"]
    return rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 2])))


def _condition_entry(ctx: Dict[str, Any], rng: random.Random) -> Tuple[str, str, Any]:
    """(operator, key, values) for one random condition."""
    family = rng.choice(["string", "string", "multi", "numeric", "date", "bool", "ip", "arn", "null", "binary"])
    if_exists = "IfExists" if rng.random() < 0.2 else ""
    if family == "string":
        key = rng.choice(STRING_KEYS)
        op = rng.choice(["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
                         "StringLike", "StringNotLike"])
        return op + if_exists, key, _string_values(key, ctx, rng)
    if family == "multi":
        key = rng.choice(MULTI_KEYS)
        # "Multivalued context keys require a condition set operator" (IAM User Guide): without one
        # the result is undocumented, so the generator always qualifies them
        qual = rng.choice(["ForAllValues:", "ForAnyValue:"])
        op = rng.choice(["StringEquals", "StringLike", "StringNotEquals", "StringNotLike"])
        pool = ["cloudformation.amazonaws.com", "athena.amazonaws.com", "*.amazonaws.com",
                f"{ORG_ID}/*", f"{ORG_ID}/r-ab12/ou-ab12-11111111/", "o-other/*"]
        return qual + op + if_exists, key, rng.sample(pool, k=rng.choice([1, 2]))
    if family == "numeric":
        op = rng.choice(["NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
                         "NumericGreaterThan", "NumericGreaterThanEquals"])
        vals = [rng.choice(["600", "3600", "30", "86400", "0.5"])]
        if rng.random() < 0.1:
            vals = ["${aws:MultiFactorAuthAge}"]
        return op + if_exists, "aws:MultiFactorAuthAge", vals
    if family == "date":
        key = rng.choice(DATE_KEYS)
        op = rng.choice(["DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
                         "DateGreaterThanEquals"])
        vals = [rng.choice(["2024-06-01T12:00:00Z", "2024-12-31T23:59:59Z", "2024-01-01", "1717243200",
                            "2025-01-15T00:00:00Z"])]
        if rng.random() < 0.1:
            vals = ["${aws:CurrentTime}"]
        return op + if_exists, key, vals
    if family == "bool":
        key = rng.choice(BOOL_KEYS)
        vals = [rng.choice(["true", "false"])]
        if rng.random() < 0.1:
            vals = ["${aws:SecureTransport}"]
        return "Bool" + if_exists, key, vals
    if family == "ip":
        op = rng.choice(["IpAddress", "NotIpAddress"])
        pool = ["10.0.0.0/8", "192.0.2.0/24", "203.0.113.7/32", "2001:db8::/32", "198.51.100.0/24"]
        vals = rng.sample(pool, k=rng.choice([1, 2]))
        if rng.random() < 0.1:
            vals = ["${aws:SourceIp}"]
        return op + if_exists, "aws:SourceIp", vals
    if family == "arn":
        key = rng.choice(ARN_KEYS)
        op = rng.choice(["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"])
        actual = ctx.get(key)
        pool = [f"arn:aws:iam::{OTHER}:role/*", f"arn:aws:iam::{ACCOUNT}:*", "arn:aws:cloudtrail:*:*:trail/*"]
        if isinstance(actual, str):
            pool += [actual, actual]
        if key == "aws:PrincipalArn" and "aws:username" in ctx:
            pool += [f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"]
        if key == "aws:PrincipalArn" and "aws:PrincipalAccount" in ctx:
            pool += ["arn:aws:iam::${aws:PrincipalAccount}:role/*"]
        return op + if_exists, key, rng.sample(pool, k=rng.choice([1, 1, 2]))
    if family == "null":
        key = rng.choice(STRING_KEYS + MULTI_KEYS + DATE_KEYS + BOOL_KEYS + NUMERIC_KEYS)
        if ctx.get(key) == []:  # Null on an empty multivalued key is undocumented: not asked
            key = "aws:SourceIp"
        return "Null", key, [rng.choice(["true", "false"])]
    key = rng.choice(("aws:username", "aws:userid", "aws:PrincipalType"))
    actual = ctx.get(key)
    raw = actual if isinstance(actual, str) else "nobody"
    if rng.random() < 0.3:
        raw = "nobody"
    return "BinaryEquals" + if_exists, key, [base64.b64encode(raw.encode()).decode()]


def conditions(ctx: Dict[str, Any], rng: random.Random, n: int) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for _ in range(n):
        op, key, values = _condition_entry(ctx, rng)
        out.setdefault(op, {})[key] = values if len(values) > 1 or rng.random() < 0.5 else values[0]
    return out


# ----------------------------------------------------------------------------- statements


def _action_values(action: str, rng: random.Random) -> List[str]:
    service, _, name = action.partition(":")
    pool = [action, action, f"{service}:*", "*", f"{service}:{name[:3]}*", rng.choice(UNRELATED_ACTIONS),
            action.upper(), f"{service}:{name[:-1]}?"]
    return rng.sample(pool, k=rng.choice([1, 1, 2]))


def _resource_values(resource: str, res_account: str, rng: random.Random) -> List[str]:
    if resource == "*":
        return [rng.choice(["*", "*", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*"])]
    pool = [resource, resource, "*"]
    if resource.startswith("arn:aws:s3:::"):
        bucket = resource[len("arn:aws:s3:::"):].split("/")[0]
        pool += [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}", "arn:aws:s3:::other-bucket/*",
                 f"arn:aws:s3:::{bucket}/reports/${{aws:username}}/*",
                 f"arn:aws:s3:::{bucket}/reports/${{aws:username, 'alice'}}/*",
                 f"arn:aws:s3:::{bucket}/reports/${{aws:PrincipalTag/team, 'alice'}}/*",
                 "arn:aws:s3:::bucket-?/*"]
    else:
        parts = resource.split(":")
        pool += [":".join(parts[:5]) + ":*", ":".join(parts[:3]) + ":*:*:*",
                 ":".join(parts[:4]) + ":${aws:PrincipalAccount}:" + parts[5],
                 ":".join(parts[:4]) + f":{OTHER if res_account == ACCOUNT else ACCOUNT}:" + parts[5]]
    return rng.sample(pool, k=rng.choice([1, 1, 2]))


def _principal_value(case_caller: str, principal: Dict[str, Any], rng: random.Random) -> Any:
    """A Principal element value, biased to name the caller one way or another."""
    arn = principal.get("arn")
    pool: List[Any] = ["*", {"AWS": "*"}, {"AWS": ACCOUNT}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                       {"AWS": f"arn:aws:iam::{OTHER}:root"}, {"AWS": f"arn:aws:iam::{OTHER}:user/bob"}]
    if case_caller in ("iam-user", "root"):
        pool += [{"AWS": arn}] * 3
    if case_caller == "assumed-role":
        pool += [{"AWS": arn}, {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-role"},
                 {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/app-role", arn]}]
    if case_caller == "federated-user":
        pool += [{"AWS": arn}, {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}]
    if case_caller == "service":
        pool += [{"Service": arn}] * 3 + [{"Service": "lambda.amazonaws.com"}]
    if case_caller in ("web-identity", "saml"):
        pool += [{"Federated": arn}] * 4 + [{"Federated": "accounts.google.com"}]
    return rng.choice(pool)


def statement(kind: str, action: str, resource: str, res_account: str, case_caller: str,
              principal: Dict[str, Any], ctx: Dict[str, Any], rng: random.Random) -> Doc:
    """One random statement valid for the policy ``kind``."""
    st: Doc = {}
    deny_p = {"identity": 0.25, "boundary": 0.15, "session": 0.15, "scp": 0.4, "resource": 0.25,
              "trust": 0.15, "vpce": 0.2}.get(kind, 0.25)
    effect = "Deny" if kind == "rcp" or rng.random() < deny_p else "Allow"
    st["Effect"] = effect
    if kind in ("resource", "trust"):
        if effect == "Deny" and rng.random() < 0.3:
            st["NotPrincipal"] = _principal_value(case_caller, principal, rng)
            if st["NotPrincipal"] in ("*", {"AWS": "*"}):
                st["NotPrincipal"] = {"AWS": f"arn:aws:iam::{OTHER}:root"}
        else:
            st["Principal"] = _principal_value(case_caller, principal, rng)
    elif kind in ("rcp", "vpce"):
        st["Principal"] = "*"
    actions = _action_values(action, rng)
    if kind == "rcp":  # RCPs: no "*" (only RCPFullAWSAccess has it), RCP-supported services only
        actions = [a if a != "*" and a.split(":")[0].lower() in RCP_SERVICES else rng.choice(RCP_ACTIONS)
                   for a in actions]
    if kind not in ("rcp",) and rng.random() < 0.12:
        st["NotAction"] = [rng.choice(UNRELATED_ACTIONS)] if rng.random() < 0.7 else actions
    else:
        st["Action"] = actions if len(actions) > 1 else actions[0]
    if kind != "trust":
        resources = _resource_values(resource, res_account, rng)
        if rng.random() < 0.12:
            st["NotResource"] = resources if rng.random() < 0.4 else ["arn:aws:s3:::other-bucket/*"]
        else:
            st["Resource"] = resources if len(resources) > 1 else resources[0]
    n_cond = rng.choice([0, 0, 1, 1, 2]) if kind != "rcp" else rng.choice([0, 1, 1, 2])
    if n_cond:
        st["Condition"] = conditions(ctx, rng, n_cond)
    return st


def policy(kind: str, action: str, resource: str, res_account: str, case_caller: str,
           principal: Dict[str, Any], ctx: Dict[str, Any], rng: random.Random) -> Doc:
    version = V if kind in ("rcp", "scp") or rng.random() < 0.95 else "2008-10-17"
    sts = [statement(kind, action, resource, res_account, case_caller, principal, ctx, rng)
           for _ in range(rng.choice([1, 1, 2, 3]))]
    return {"Version": version, "Statement": sts}


def _levels(kind: str, make, rng: random.Random) -> List[List[Doc]]:
    levels: List[List[Doc]] = []
    for _ in range(rng.choice([1, 2, 3])):
        docs: List[Doc] = []
        if kind == "rcp":
            docs.append({"Version": V, "Statement": [copy.deepcopy(RCP_FULL_AWS_ACCESS_STATEMENT)]})
        elif rng.random() < 0.85:
            docs.append(copy.deepcopy(FULL_AWS_ACCESS))
        for _ in range(rng.choice([0, 1, 1, 2])):
            docs.append(make())
        if not docs:
            docs.append(make())
        levels.append(docs)
    return levels


# ----------------------------------------------------------------------------- cases


def case(i: int, seed: int, rng: random.Random) -> Case:
    kind = rng.choice(CALLERS + ("iam-user", "assumed-role", "federated-user"))
    principal, base = caller(kind, rng)
    tgt = rng.choice(TARGETS_FOR[kind])
    res_account = ACCOUNT
    if kind in ("iam-user", "assumed-role", "federated-user", "root", "service", "anonymous") and rng.random() < 0.4:
        res_account = OTHER
    action, resource, rp_kind = target(tgt, res_account)
    caller_in_org = _has_identity(kind) and rng.random() < 0.5
    resource_in_org = rng.random() < 0.45
    vpce = kind not in ("service", "web-identity", "saml") and rng.random() < 0.15
    ctx = request_context(kind, base, rng, caller_in_org, vpce)

    def make(pk: str) -> Doc:
        return policy(pk, action, resource, res_account, kind, principal, ctx, rng)

    policies: Dict[str, Any] = {"identity": [], "permissions_boundary": None, "session": None, "scp": None,
                                "rcp": None, "resource": None, "vpc_endpoint": None}
    session_passed = False
    if kind in ("iam-user", "assumed-role", "federated-user"):
        policies["identity"] = [make("identity") for _ in range(rng.choice([1, 1, 2]))]
    if kind in ("iam-user", "assumed-role") and rng.random() < 0.3:
        policies["permissions_boundary"] = [make("boundary")]
    if kind == "assumed-role" and rng.random() < 0.3 or kind == "federated-user" and rng.random() < 0.75:
        policies["session"] = make("session")
        session_passed = True
    if caller_in_org:
        policies["scp"] = _levels("scp", lambda: make("scp"), rng)
    if resource_in_org:
        policies["rcp"] = _levels("rcp", lambda: make("rcp"), rng)
    must_have_rp = rp_kind in ("key", "trust") or kind in ("service", "anonymous", "web-identity", "saml")
    if rp_kind is not None and (must_have_rp or rng.random() < 0.6):
        rp = make("trust" if rp_kind == "trust" else "resource")
        if must_have_rp and rng.random() < 0.6:  # make sure the caller is often let in
            st: Doc = {"Effect": "Allow", "Principal": _principal_value(kind, principal, rng), "Action": action}
            if rp_kind != "trust":
                st["Resource"] = resource
            rp["Statement"].append(st)
        policies["resource"] = rp
    if vpce:
        policies["vpc_endpoint"] = [make("vpce")]
    return {
        "id": f"oracle/seed{seed}#{i}",
        "suite": "oracle",
        "kind": "authorization",
        "aws_faithful": True,
        "request": {"principal": principal, "action": action, "resource": resource,
                    "resource_account": res_account, "context": ctx},
        "policies": policies,
        "oracle": {"caller": kind, "session_policy_passed": session_passed, "resource_policy_kind": rp_kind},
    }


def generate(n: int, seed: int) -> List[Case]:
    rng = random.Random(seed)
    return [case(i, seed, rng) for i in range(n)]
