"""``lint``'s shortcuts against the straightforward computation they replace.

``check_policy`` asks a check's ``when`` once per policy and then calls its ``body``; the lint
index remembers a policy's boundary and trust-account answers; the privilege-escalation and
PassRole checks read cached per-entry escalation sets; ``_lint`` skips a policy object met before
without hashing it; ``parse_statement`` takes plain strings as they are. Each must give what the
plain way gives: every check's ``run`` on every statement of every distinct policy (the reference
below is ``check_policy``/``_lint`` as they were written before the shortcuts), ``grants`` for
each action, ``_strings`` for each element. The inputs are a varied synthetic inventory (every
IG30xx/IG31xx rule reports something in it) and the shared real-world corpus where present."""
from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Dict, Hashable, Iterable, List, Tuple

import pytest

from iamgate import pipeline
from iamgate.catalog.managed import managed_policy
from iamgate.model import Finding, Inventory, Location, Policy, Principal, ResourcePolicy
from iamgate.policy import PolicyError, _element, _strings, all_unknown, parse_policy
from iamgate.rules import builtin, lint as policy_lint
from iamgate.rules.builtin import CHECKS, Check, check_policy, lint

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


# ------------------------------------------------------------------------------ the reference


def reference_check_policy(policy: Policy, checks: Iterable[Check] = CHECKS) -> List[Finding]:
    """Every applying check's ``run`` on the policy, then on each statement (no ``when``/``body``)."""
    applying = [c for c in checks if c.applies_to(policy)]
    failed: Dict[int, Finding] = {}
    findings: List[Finding] = []

    def run(k: int, call: Callable[[], Iterable[Finding]]) -> None:
        if k in failed:
            return
        try:
            findings.extend(call())
        except Exception as e:  # noqa: BLE001
            failed[k] = builtin._failed(applying[k], policy, e)
            findings.append(failed[k])

    for k, c in enumerate(applying):
        if not c.per_statement:
            run(k, lambda: c.run(policy))
    for index, statement in enumerate(policy.statements):
        for k, c in enumerate(applying):
            if c.per_statement:
                run(k, lambda: c.run(policy, index, statement))
    return findings


def reference_lint(inventory: Inventory) -> Tuple[Finding, ...]:
    token = builtin._INVENTORY.set(inventory)
    try:
        seen: Dict[Hashable, None] = {}
        reported: Dict[Hashable, None] = {}
        out: List[Finding] = []
        for policy in builtin._policies(inventory):
            key = builtin._document_key(policy)
            if key in seen:
                continue
            seen[key] = None
            if all_unknown(policy):
                continue
            for finding in reference_check_policy(policy):
                where = builtin._source_key(policy, finding)
                if where not in reported:
                    reported[where] = None
                    out.append(finding)
        return tuple(out)
    finally:
        builtin._INVENTORY.reset(token)


# ------------------------------------------------------------------------------ a varied inventory

ACTIONS = ["s3:GetObject", "s3:*", "S3:getobject", "s3:List*", "ec2:Describe*", "ec2:RunInstances", "iam:PassRole",
           "IAM:passrole", "iam:Pass*", "iam:*", "*", "iam:CreatePolicyVersion", "iam:CreateAccessKey",
           "lambda:CreateFunction", "lambda:InvokeFunction", "lambda:Create*", "sts:AssumeRole", "sts:*",
           "glue:UpdateDevEndpoint", "iam:UpdateAssumeRolePolicy", "cloudformation:CreateStack", "s3:GetObjekt",
           "foo:Bar", "s3:Get?bject", "kms:Decrypt", "datapipeline:*", "iam:Attach*Policy", "sqs:SendMessage"]
RESOURCES = ["*", "arn:aws:s3:::bucket/*", "arn:aws:iam::123456789012:role/*", "arn:aws:iam::*:*",
             "arn:aws:iam::123456789012:user/${aws:username}", "arn:aws:iam::123456789012:role/aws-service-role/x",
             "arn:aws:iam::123456789012:policy/p", "arn:aws:sqs:us-east-1:123456789012:q"]
CONDITIONS = [{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
              {"StringEquals": {"s3:prefix": "home/"}}, {"StringNotEquals": {"ec2:InstanceType": "t3.micro"}},
              {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["a"]}},
              {"StringLikeIfExists": {"sqs:QueueUrl": "x"}}, {"Null": {"aws:TokenIssueTime": "true"}},
              {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"StringEqualz": {"aws:PrincipalTag/x": "y"}},
              {"StringEquals": {"sts:ExternalId": "e"}}, {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
              {"StringLike": {"s3:x-amz-server-side-encryption": "${aws:username}"}}]
PRINCIPALS = ["*", {"AWS": "*"}, {"AWS": "arn:aws:iam::999999999999:root"}, {"AWS": ["123456789012", "111122223333"]},
              {"Service": "lambda.amazonaws.com"}, {"AWS": "arn:aws:iam::123456789012:role/admin"}]


def _statement(rng: random.Random, kind: str) -> Dict[str, Any]:
    st: Dict[str, Any] = {"Effect": rng.choice(["Allow", "Allow", "Allow", "Deny", "allow"])}
    if rng.random() < 0.2:
        st["NotAction"] = rng.sample(ACTIONS, rng.randint(1, 3))
    else:
        st["Action"] = rng.sample(ACTIONS, rng.randint(1, 4)) if rng.random() < 0.8 else rng.choice(ACTIONS)
    if rng.random() < 0.1:
        st["NotResource"] = rng.sample(RESOURCES, 1)
    else:
        st["Resource"] = rng.sample(RESOURCES, rng.randint(1, 2))
    if rng.random() < 0.35:
        condition: Dict[str, Any] = {}
        for c in rng.sample(CONDITIONS, rng.randint(1, 2)):
            for op, block in c.items():
                condition.setdefault(op, {}).update(block)
        st["Condition"] = condition
    if kind in ("resource", "trust") and rng.random() < 0.9 or kind == "identity" and rng.random() < 0.03:
        st["Principal"] = rng.choice(PRINCIPALS)
    return st


def _policy(rng: random.Random, n: int, kind: str, file: str) -> Policy:
    doc = {"Version": rng.choice(["2012-10-17"] * 8 + ["2008-10-17", "2012-10-18"]),
           "Statement": [_statement(rng, kind) for _ in range(rng.randint(1, 12))]}
    if rng.random() < 0.05:
        del doc["Version"]
    return parse_policy(doc, f"{kind}-{n}", kind, Location(file, 1),
                        lambda i: Location(file, 10 * n + i + 2), arn=f"arn:aws:iam::123456789012:policy/{kind}-{n}")


def varied_inventory(seed: int) -> Inventory:
    rng = random.Random(seed)
    files = [f"f{i}.json" for i in range(5)]
    shared = [_policy(rng, n, "identity", "shared.json") for n in range(6)]
    boundary = [replace(shared[0], kind="boundary"), _policy(rng, 100, "boundary", "b.json")]
    copy = replace(managed_policy("AmazonS3ReadOnlyAccess"), origin="code", location=Location("copy.json", 1))
    principals = []
    for r in range(60):
        own = [_policy(rng, 200 + r, "identity", rng.choice(files)) for _ in range(rng.randint(0, 2))]
        principals.append(Principal(
            id=f"role-{r}", type="role", arn=f"arn:aws:iam::{rng.choice(['123456789012', '111122223333'])}:role/r{r}",
            identity_policies=tuple(own) + tuple(rng.sample(shared, 2)) + ((copy,) if r == 3 else ()),
            boundary=rng.choice([None, *boundary]), trust_policy=_policy(rng, 300 + r, "trust", "trust.json")))
    documents = tuple(shared) + tuple(p for pr in principals for p in pr.identity_policies)
    resource = tuple(_policy(rng, 400 + n, "resource", "bucket.json") for n in range(15))
    loose = tuple(_policy(rng, 500 + n, rng.choice(["identity", "scp", "session"]), "loose.json") for n in range(10))
    return Inventory(principals=tuple(principals), documents=documents, policies=loose + (shared[1],),
                     resource_policies=tuple(ResourcePolicy(f"arn:aws:s3:::b{n}", "AWS::S3::Bucket", p)
                                             for n, p in enumerate(resource)),
                     scp=((_policy(rng, 600, "scp", "scp.json"),),))


SEEDS = [1, 2, 3]


@pytest.mark.parametrize("seed", SEEDS)
def test_lint_equals_every_check_on_every_statement(seed):
    inventory = varied_inventory(seed)
    expected = reference_lint(inventory)
    assert lint(inventory) == expected
    rules = {f.rule for f in expected}
    assert {"IG3003", "IG3005", "IG3006", "IG3007", "IG3008", "IG3009", "IG3010", "IG3101", "IG3102", "IG3103",
            "IG3104", "IG3105", "IG3106", "IG3107", "IG3108", "IG3109", "IG3110"} <= rules, rules


def test_lint_equals_the_reference_on_the_real_world_corpus():
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    inventory = pipeline.gather([str(CORPUS)]).inventory
    assert lint(inventory) == reference_lint(inventory)


@pytest.mark.parametrize("seed", SEEDS)
def test_escalation_sets_are_what_grants_says(seed):
    statements = [st for p in builtin._policies(varied_inventory(seed)) for st in p.statements]
    for st in statements:
        assert policy_lint._escalation_actions(st) == {a for a in policy_lint._ESCALATION_ACTIONS
                                                       if policy_lint.grants(st, a)}, st


@pytest.mark.parametrize("seed", SEEDS)
def test_the_index_answers_as_a_lookup_of_the_key(seed):
    inventory = varied_inventory(seed)
    boundaries = {policy_lint._key(p.boundary) for p in inventory.principals if p.boundary is not None}
    identity = {policy_lint._key(q) for p in inventory.principals for q in p.identity_policies}
    index = policy_lint._Index(inventory)
    assert index.boundary_only  # the inventory has a boundary-only policy, and one also used as identity
    for p in builtin._policies(inventory):
        for _ in range(2):  # asked again: the remembered answer
            assert index.boundary_only_policy(p) == (policy_lint._key(p) in boundaries - identity)
            assert index.own_account(p) == index.trust.get(policy_lint._key(p), policy_lint._UNKNOWN)


def test_a_when_that_raises_leaves_the_failure_to_the_check_where_it_would_have_happened():
    policy = varied_inventory(1).principals[0].trust_policy
    calls: List[int] = []

    def boom_when(p: Policy) -> bool:
        raise KeyError("when")

    def run(p: Policy, index: int, st: Any) -> List[Finding]:
        calls.append(index)
        if index == 0:
            raise ValueError("run")
        return []

    checks = [*CHECKS, Check("IG3010", run, per_statement=True, origins=frozenset({"code"}), when=boom_when,
                             body=lambda *a: [])]
    assert check_policy(policy, checks) == reference_check_policy(policy, checks)
    notes = [f for f in check_policy(policy, checks) if f.rule == "IG9002"]
    assert len(notes) == 1 and "ValueError: run" in notes[0].message


# ------------------------------------------------------------------------------ parse_statement


@pytest.mark.parametrize("value", ["s3:GetObject", ["a", "b"], [], ("a", "b"), 7, 1.5, True, [True, 3, "x"],
                                   [{"a": 1}], {"a": 1}, None, [None], type("S", (str,), {})("sub"),
                                   [type("S", (str,), {})("sub")]])
def test_an_element_is_what_strings_makes_of_it(value):
    def outcome(fn: Callable[[], Any]) -> Any:
        try:
            result = fn()
            return result, [type(v) for v in result]
        except PolicyError as e:
            return "error", str(e)
    assert outcome(lambda: _element({"Action": value}, "Action", 4)) == \
        outcome(lambda: _strings(value, "Statement[4].Action"))
    assert _element({}, "Action", 4) is None


@pytest.mark.parametrize("seed", SEEDS)
def test_lint_over_forked_processes_equals_lint_in_one(seed, monkeypatch):
    """However many processes check the policies, the findings and their order are the same."""
    from iamgate import parallel

    inventory = varied_inventory(seed)
    monkeypatch.setattr(parallel, "WORKERS", 1)
    alone = lint(inventory)
    monkeypatch.setattr(builtin, "_AHEAD", 0)
    forks: list = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    for workers in (2, 3, 7):
        monkeypatch.setattr(parallel, "WORKERS", workers)
        assert lint(inventory) == alone
    assert len(forks) == 1 + 2 + 6
    assert len({f.rule for f in alone}) >= 15
