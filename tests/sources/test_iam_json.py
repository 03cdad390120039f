"""Tests for iamgate.sources.iam_json: policy files, CLI envelopes, authorization exports, bad input."""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import quote

import pytest

from iamgate.rules.registry import BUILTIN
from iamgate.engine.evaluate import PolicySet, Request, decide
from iamgate.model import Inventory, Location, Policy, Principal
from iamgate.policy import PolicyError
from iamgate.rules.builtin import lint
from iamgate.sources.iam_json import SourceError, read, read_policy_file

CORPUS = Path("/work/shared/corpus")
JSON = CORPUS / "json"
AUTHZ = "json/cloudsplaining/test/files"


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not JSON.is_dir():
        pytest.skip("shared corpus not available")
    return CORPUS


def read_corpus(corpus: Path, rel: str) -> Inventory:
    """The file read and linted, as ``read_inventory`` with the lint the pipeline adds reports it."""
    inv = read(rel, (corpus / rel).read_text(encoding="utf-8"))
    assert inv is not None, rel
    return replace(inv, problems=inv.problems + lint(inv))


def read_file(tmp_path: Path, name: str, content: Any) -> Any:
    """Write ``content`` (text, or data dumped with indent 2) as the caller would find it, and read it."""
    text = content if isinstance(content, str) else json.dumps(content, indent=2)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return read(name, (tmp_path / name).read_text(encoding="utf-8"))


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only occurrence of ``needle`` (found without the reader)."""
    assert text.count(needle) == 1, needle
    return text[:text.index(needle)].count("\n") + 1


def line_after(text: str, anchor: str, needle: str) -> int:
    """The line of the first ``needle`` after the only ``anchor``."""
    start = text.index(anchor)
    assert text.count(anchor) == 1, anchor
    return text[:text.index(needle, start)].count("\n") + 1


def principal(inv: Inventory, name: str) -> Principal:
    (found,) = [p for p in inv.principals if p.id == name]
    return found


def policy_named(policies: Any, name: str) -> Policy:
    (found,) = [p for p in policies if p.name == name]
    return found


def actions(policies: Any) -> List[str]:
    return sorted(a for p in policies for s in p.statements for a in (s.actions or ()))


# ---------------------------------------------------------------------------------------------
# Policy documents


POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": ["s3:GetObject"],
      "Resource": "arn:aws:s3:::orders/*"
    },

    {"Sid": "NoTls", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
  ]
}
"""


def test_policy_document_with_exact_statement_lines(tmp_path: Path) -> None:
    inv = read_file(tmp_path, "worker.json", POLICY)
    assert inv.principals == () and inv.problems == ()
    (policy,) = inv.policies
    assert (policy.name, policy.kind, policy.version) == ("worker", "identity", "2012-10-17")
    assert policy.location == Location("worker.json", 1, 1)
    read_, no_tls = policy.statements
    assert read_.location == Location("worker.json", 4, 5)
    assert no_tls.location == Location("worker.json", 11, 5)
    assert (read_.sid, read_.effect, read_.actions, read_.resources) == (
        "Read", "Allow", ("s3:GetObject",), ("arn:aws:s3:::orders/*",))
    assert no_tls.conditions[0].key == "aws:SecureTransport"


def test_single_statement_object(tmp_path: Path) -> None:
    inv = read_file(tmp_path, "one.json", '{"Version": "2012-10-17",\n "Statement":\n  {"Effect": "Allow", "Action": "*", "Resource": "*"}}')
    (policy,) = inv.policies
    (statement,) = policy.statements
    assert statement.location == Location("one.json", 3, 3)


def test_list_of_documents(tmp_path: Path) -> None:
    docs = [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]},
            {"Statement": {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"}}]
    inv = read_file(tmp_path, "pair.json", docs)
    assert [p.name for p in inv.policies] == ["pair[0]", "pair[1]"]
    assert [p.location.line for p in inv.policies] == [2, 12]
    assert inv.policies[1].statements[0].location == Location("pair.json", 13, 18)
    assert inv.policies[1].version is None


def test_get_policy_version_and_get_role_policy_envelopes(tmp_path: Path) -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Sid": "Logs", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}
    version = read_file(tmp_path, "AWSLambdaBasic.json",
                        {"PolicyVersion": {"Document": doc, "VersionId": "v1", "IsDefaultVersion": True}})
    (p,) = version.policies
    assert p.name == "AWSLambdaBasic" and p.statements[0].actions == ("logs:PutLogEvents",)
    text = json.dumps({"RoleName": "worker", "PolicyName": "logs-writer", "PolicyDocument": doc}, indent=2)
    role_policy = read_file(tmp_path, "inline.json", text)
    (p,) = role_policy.policies
    assert p.name == "logs-writer"
    assert p.statements[0].location.line == line_of(text, '"Sid": "Logs"') - 1


# ---------------------------------------------------------------------------------------------
# Trust policies saved to a file (aws iam create-role --assume-role-policy-document file://…)


LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
GITHUB_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
     "Action": "sts:AssumeRoleWithWebIdentity",
     "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo/app:*"}}},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
     "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]}]}


@pytest.mark.parametrize("name, doc", [("trust.json", LAMBDA_TRUST), ("github-oidc.json", GITHUB_TRUST),
                                       ("assume.json", {"Statement": {**LAMBDA_TRUST["Statement"][0],
                                                                      "Action": "sts:AssumeRole*"}})])
def test_a_trust_policy_file_is_read_as_a_trust_policy(tmp_path: Path, name: str, doc: Any) -> None:
    inv = read_file(tmp_path, name, doc)
    (policy,) = inv.policies
    assert policy.kind == "trust"
    assert [f for f in inv.problems + lint(inv) if f.severity == "error"] == []


def test_check_accepts_a_trust_policy_file(tree: Path, capsys: Any) -> None:
    from ..cli import run
    (tree / "trust.json").write_text(json.dumps(LAMBDA_TRUST), encoding="utf-8")
    rc, out, _ = run(capsys, "check", "trust.json")
    assert rc == 0 and "invalid" not in out and "missing Resource" not in out


def test_get_role_output_is_the_role_trust_policy(tmp_path: Path) -> None:
    role = {"Role": {"Path": "/", "RoleName": "deployer", "Arn": "arn:aws:iam::111122223333:role/deployer",
                     "AssumeRolePolicyDocument": GITHUB_TRUST, "MaxSessionDuration": 3600}}
    inv = read_file(tmp_path, "deployer.json", role)
    (policy,) = inv.policies
    assert (policy.name, policy.kind) == ("deployer trust policy", "trust")
    assert inv.problems == () and lint(inv) == ()
    encoded = dict(role, Role=dict(role["Role"], AssumeRolePolicyDocument=quote(json.dumps(LAMBDA_TRUST))))
    (policy,) = read_file(tmp_path, "encoded.json", encoded).policies
    assert policy.kind == "trust" and policy.statements[0].actions == ("sts:AssumeRole",)


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject"},
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
     "Resource": "*"},
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:GetCallerIdentity"},
])
def test_a_document_not_shaped_as_a_trust_policy_is_still_a_resource_policy(tmp_path: Path, statement: Any) -> None:
    inv = read_file(tmp_path, "p.json", {"Version": "2012-10-17", "Statement": [statement]})
    kinds = {p.kind for p in inv.documents}
    assert kinds == {"resource"}


def test_a_principal_in_a_file_that_is_otherwise_an_identity_policy_is_an_error(tmp_path: Path) -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders/*"},
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}, indent=2)
    inv = read_file(tmp_path, "worker.json", text)
    errors = [f for f in inv.problems + lint(inv) if f.severity == "error"]
    assert errors and all(f.kind == "invalid-policy" for f in errors)
    assert {f.location.line for f in errors} >= {line_of(text, '"Principal"') - 2}  # the trust statement


def test_url_encoded_documents(tmp_path: Path) -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                   "Resource": "arn:aws:s3:::a b+c/*"}]}
    encoded = quote(json.dumps(doc), safe="")
    assert encoded.startswith("%7B")
    text = '{\n  "RoleName": "r",\n  "PolicyName": "enc",\n  "PolicyDocument": "' + encoded + '"\n}'
    inv = read_file(tmp_path, "enc.json", text)
    (p,) = inv.policies
    assert p.statements[0].resources == ("arn:aws:s3:::a b+c/*",)
    assert p.statements[0].location == Location("enc.json", 4, 21)  # the line of the string
    # a plain JSON string and a whole file that is one encoded string work too
    inv = read_file(tmp_path, "plain.json", {"PolicyName": "p", "PolicyDocument": json.dumps(doc)})
    assert inv.policies[0].statements[0].actions == ("s3:GetObject",)
    inv = read_file(tmp_path, "whole.json", json.dumps(encoded))
    assert inv.policies[0].name == "whole"


def test_read_policy_file_sets_the_kind(tmp_path: Path) -> None:
    (p,) = read_policy_file("org/root.json", POLICY, "scp")
    assert p.kind == "scp" and p.name == "root" and p.statements[1].location == Location("org/root.json", 11, 5)
    docs = json.dumps([json.loads(POLICY)] * 2)
    assert [p.kind for p in read_policy_file("b.json", docs, "boundary")] == ["boundary", "boundary"]


# ---------------------------------------------------------------------------------------------
# Not ours


@pytest.mark.parametrize("data", [
    {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}}}},
    {"Resources": {}, "Statement": []},
    {"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {}, "resource_changes": []},
    {"format_version": "1.0", "values": {"root_module": {}}},
    {"name": "package", "version": "1.0.0"},
    {"Policies": [{"PolicyName": "x", "Arn": "arn:aws:iam::1:policy/x"}]},  # list-policies: no documents
    [], [1, 2], ["not a policy"], 42, "\"hello\"", None,
])
def test_other_json_is_not_ours(tmp_path: Path, data: Any) -> None:
    assert read_file(tmp_path, "other.json", data) is None


# ---------------------------------------------------------------------------------------------
# Bad input: problems, never exceptions


def only_problem(inv: Inventory) -> Any:
    assert inv is not None and inv.policies == () and inv.principals == ()
    (problem,) = inv.problems
    assert problem.severity == "error" and BUILTIN[problem.rule].kind == problem.kind
    return problem


@pytest.mark.parametrize("text", ["", "  \n\t\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    problem = only_problem(read_file(tmp_path, "empty.json", text))
    assert problem.kind == "parse-error"
    assert "empty.json" in problem.message and "empty" in problem.message


def test_invalid_json(tmp_path: Path) -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", "Action": "s3:*",}\n  ]\n}'
    problem = only_problem(read_file(tmp_path, "broken.json", text))
    assert problem.kind == "parse-error"
    assert problem.location == Location("broken.json", 4, 42)
    assert "broken.json" in problem.message and "Expecting property name" in problem.message


def test_misspelled_effect(tmp_path: Path) -> None:
    text = POLICY.replace('"Effect": "Deny"', '"Effect": "Alow"')
    problem = only_problem(read_file(tmp_path, "typo.json", text))
    assert problem.kind == "invalid-policy"
    assert problem.location == Location("typo.json", 11, 32)  # the Effect value of the second statement
    assert "typo.json" in problem.message and "Statement[1].Effect" in problem.message and '"Alow" is not one of Allow, Deny' in problem.message


@pytest.mark.parametrize("statement, fragment, line", [
    ("5", "Statement: expected an object or a list, got a number", 3),
    ('"Allow everything"', "Statement: expected an object or a list, got a string", 3),
    ('[{"Effect": "Allow", "Action": "*", "Condition": ["x"]}]', "Statement[0].Condition", 3),
    ('[{"Effect": "Allow", "Action": {"s3": "x"}}]', "Statement[0].Action", 3),
])
def test_statement_that_is_not_a_statement(tmp_path: Path, statement: str, fragment: str, line: int) -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": ' + statement + '\n}'
    inv = read_file(tmp_path, "bad.json", text)
    assert inv.policies == () and inv.problems  # the grammar's findings name each problem
    assert all(p.kind == "invalid-policy" and p.severity == "error" for p in inv.problems)
    (problem,) = [p for p in inv.problems if fragment in p.message]
    assert problem.location.line == line


def test_version_without_statement_is_invalid(tmp_path: Path) -> None:
    problem = only_problem(read_file(tmp_path, "nostmt.json", {"Version": "2012-10-17", "Id": "x"}))
    assert problem.kind == "invalid-policy" and "Statement" in problem.message


def test_list_with_one_non_document(tmp_path: Path) -> None:
    good = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    inv = read_file(tmp_path, "mixed.json", [good, {"foo": 1}])
    assert [p.name for p in inv.policies] == ["mixed[0]"]
    (problem,) = [p for p in inv.problems if p.severity == "error"]  # (and a warning: no Version)
    assert problem.kind == "invalid-policy" and "[1]" in problem.message and problem.location.line == 11


def test_undecodable_encoded_document(tmp_path: Path) -> None:
    problem = only_problem(read_file(tmp_path, "enc.json", {"PolicyName": "p", "PolicyDocument": "%7Bnot json"}))
    assert problem.kind == "invalid-policy" and "URL-encoded" in problem.message
    assert problem.location == Location("enc.json", 3, 21)


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("{", "not valid JSON"),
    ('{"Resources": {}}', "not a policy document"),
    ('{"UserDetailList": []}', "authorization export"),
    ('[{"Statement": []}, 3]', "element [1]"),
    (POLICY.replace('"Deny"', '"Alow"'), "Statement[1].Effect"),
])
def test_read_policy_file_raises_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(SourceError) as e:
        read_policy_file("org/scp.json", text, "scp")
    assert isinstance(e.value, PolicyError)
    assert message in str(e.value) and "org/scp.json" in str(e.value)
    assert e.value.file == "org/scp.json" and e.value.line is not None and e.value.column is not None


# ---------------------------------------------------------------------------------------------
# get-account-authorization-details: small exports


ACCOUNT = "111122223333"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def doc(sid: str, *acts: str, effect: str = "Allow") -> Dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": effect, "Action": list(acts), "Resource": "*"}]}


def managed(name: str, *versions: Any, default: str = "v1") -> Dict[str, Any]:
    return {"PolicyName": name, "Arn": arn("policy", name), "DefaultVersionId": default,
            "PolicyVersionList": [{"Document": d, "VersionId": v, "IsDefaultVersion": v == default}
                                  for v, d in versions]}


def attach(name: str, account: str = ACCOUNT) -> Dict[str, str]:
    return {"PolicyName": name, "PolicyArn": f"arn:aws:iam::{account}:policy/{name}"}


TRUST = {"Version": "2012-10-17", "Statement": [{"Sid": "Ec2Trust", "Effect": "Allow",
                                                 "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}

GAAD: Dict[str, Any] = {
    "UserDetailList": [
        {"UserName": "alice", "Arn": arn("user", "alice"), "GroupList": ["devs"],
         "UserPolicyList": [{"PolicyName": "alice-inline", "PolicyDocument": doc("AliceInline", "sqs:SendMessage")}],
         "AttachedManagedPolicies": [attach("Shared")],
         "PermissionsBoundary": {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                 "PermissionsBoundaryArn": arn("policy", "Boundary")},
         "Tags": [{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}]},
        {"UserName": "bob", "Arn": arn("user", "bob"), "GroupList": ["ops", "ghosts"],
         "UserPolicyList": [], "AttachedManagedPolicies": [], "Tags": []},
    ],
    "GroupDetailList": [
        {"GroupName": "devs", "Arn": arn("group", "devs"),
         "GroupPolicyList": [{"PolicyName": "devs-inline", "PolicyDocument": doc("DevsInline", "logs:PutLogEvents")}],
         "AttachedManagedPolicies": [attach("GroupPol"), attach("Shared")]},
        {"GroupName": "ops", "Arn": arn("group", "ops"), "GroupPolicyList": [],
         "AttachedManagedPolicies": [attach("ReadOnlyAccess", "aws")]},
    ],
    "RoleDetailList": [
        {"RoleName": "worker", "Arn": arn("role", "service/worker"),
         "AssumeRolePolicyDocument": quote(json.dumps(TRUST), safe=""),
         "InstanceProfileList": [{"InstanceProfileName": "worker-profile", "Roles": [{"RoleName": "worker"}]}],
         "RolePolicyList": [{"PolicyName": "worker-encoded",
                             "PolicyDocument": quote(json.dumps(doc("Encoded", "dynamodb:GetItem")), safe="")}],
         "AttachedManagedPolicies": [attach("Shared"), attach("ReadOnlyAccess", "aws")],
         "PermissionsBoundary": {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                 "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/PowerUserAccess"},
         "Tags": [{"Key": "app", "Value": "orders"}]},
    ],
    "Policies": [
        managed("Shared", ("v1", doc("SharedV1", "s3:*")), ("v2", doc("SharedV2", "s3:GetObject")), default="v2"),
        managed("GroupPol", ("v1", doc("GroupPolV1", "kms:Decrypt"))),
        managed("Boundary", ("v1", doc("BoundaryV1", "s3:*", "sqs:*"))),
    ],
}


@pytest.fixture()
def gaad(tmp_path: Path) -> Any:
    text = json.dumps(GAAD, indent=2)
    return read_file(tmp_path, "account.json", text), text


def test_gaad_uses_only_the_default_version(gaad: Any) -> None:
    inv, text = gaad
    alice = principal(inv, "alice")
    shared = policy_named(alice.identity_policies, "Shared")
    assert shared.arn == arn("policy", "Shared") and shared.kind == "identity"
    assert [s.sid for s in shared.statements] == ["SharedV2"]
    assert "s3:*" not in actions(alice.identity_policies)
    user = dict(principal_type="iam-user", principal_arn=alice.arn, principal_account=ACCOUNT)
    policies = PolicySet(identity=alice.identity_policies)
    assert decide(Request(action="s3:GetObject", resource="arn:aws:s3:::b/k", **user), policies).result == "allow"
    assert decide(Request(action="s3:DeleteObject", resource="arn:aws:s3:::b/k", **user),
                  policies).result == "implicit_deny"


def test_gaad_user_gets_inline_attached_and_group_policies(gaad: Any) -> None:
    inv, text = gaad
    alice = principal(inv, "alice")
    # inline, attached, then the group's inline and attached; Shared (also attached to devs) only once
    assert [p.name for p in alice.identity_policies] == ["alice-inline", "Shared", "devs-inline", "GroupPol"]
    assert actions(alice.identity_policies) == ["kms:Decrypt", "logs:PutLogEvents", "s3:GetObject", "sqs:SendMessage"]
    assert (alice.type, alice.arn, alice.account) == ("user", arn("user", "alice"), ACCOUNT)
    assert alice.aliases == ("alice", arn("user", "alice"))
    assert alice.tags == {"team": "payments", "env": "prod"}
    assert alice.trust_policy is None
    assert alice.location == Location("account.json", line_of(text, '"UserName": "alice"') - 1, 5)


def test_gaad_boundary(gaad: Any) -> None:
    inv, _ = gaad
    boundary = principal(inv, "alice").boundary
    assert boundary is not None
    assert (boundary.name, boundary.kind, boundary.arn) == ("Boundary", "boundary", arn("policy", "Boundary"))
    assert actions([boundary]) == ["s3:*", "sqs:*"]


def test_gaad_role(gaad: Any) -> None:
    inv, text = gaad
    worker = principal(inv, "worker")
    assert (worker.type, worker.account) == ("role", ACCOUNT)
    assert worker.aliases == ("worker", arn("role", "service/worker"), "worker-profile")
    assert worker.tags == {"app": "orders"}
    # ReadOnlyAccess is attached but not in the export: a placeholder whose content is unknown
    assert [p.name for p in worker.identity_policies] == ["worker-encoded", "Shared", "ReadOnlyAccess"]
    assert worker.identity_policies[2].statements[0].unresolved
    encoded = worker.identity_policies[0]
    assert encoded.statements[0].actions == ("dynamodb:GetItem",)
    assert encoded.statements[0].location.line == line_of(text, '"PolicyName": "worker-encoded"') + 1
    trust = worker.trust_policy
    assert trust is not None and trust.kind == "trust"
    assert trust.statements[0].principals == {"Service": ("ec2.amazonaws.com",)}
    assert trust.statements[0].location.line == line_of(text, '"AssumeRolePolicyDocument"')
    # PowerUserAccess is not in the export: the boundary is there, its content unknown
    assert worker.boundary is not None and worker.boundary.statements[0].unresolved


def test_gaad_unresolved_managed_policies_groups_and_boundaries(gaad: Any) -> None:
    inv, text = gaad
    assert inv.problems == ()
    bob_ops = line_after(text, '"UserName": "bob"', '"ops"')
    readonly = "managed policy ReadOnlyAccess arn:aws:iam::aws:policy/ReadOnlyAccess (not in the export"
    assert sorted((u.location.line, u.expression) for u in inv.unresolved) == sorted([
        (bob_ops, f"{readonly}; attached to group ops of user bob)"),
        (bob_ops + 1, "group ghosts of user bob (not in the export)"),
        # the attachment entry {"PolicyName": …, "PolicyArn": …} in the role
        (line_after(text, '"RolePolicyList"', '"PolicyName": "ReadOnlyAccess"') - 1,
         f"{readonly}; attached to role worker)"),
        (line_after(text, '"RolePolicyList"', '"PermissionsBoundary"'),
         "permissions boundary PowerUserAccess arn:aws:iam::aws:policy/PowerUserAccess "
         "(not in the export; of role worker)"),
    ])
    assert all(u.location.file == "account.json" for u in inv.unresolved)
    # bob's only policies are unknown: a group missing from the export, a managed policy not in it
    assert all(p.statements[0].unresolved for p in principal(inv, "bob").identity_policies)
    assert len(principal(inv, "bob").identity_policies) == 2


def test_gaad_lists_every_managed_policy(gaad: Any) -> None:
    inv, text = gaad
    assert [(p.name, p.kind) for p in inv.policies] == [("Shared", "identity"), ("GroupPol", "identity"),
                                                        ("Boundary", "identity")]
    shared = inv.policies[0]
    assert shared is policy_named(principal(inv, "alice").identity_policies, "Shared")
    assert shared.statements[0].location.line == line_of(text, '"Sid": "SharedV2"') - 1


def test_gaad_invalid_inline_policy_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(GAAD))
    bad["RoleDetailList"][0]["RolePolicyList"].append(
        {"PolicyName": "typo", "PolicyDocument": {"Statement": [{"Effect": "Alow", "Action": "*", "Resource": "*"}]}})
    bad["UserDetailList"].append("not a user")
    text = json.dumps(bad, indent=2)
    inv = read_file(tmp_path, "account.json", text)
    kinds = sorted((p.kind, p.location.line) for p in inv.problems)
    assert kinds == sorted([("invalid-policy", line_of(text, '"Effect": "Alow"')),
                            ("parse-error", line_of(text, '"not a user"'))])
    assert [p.name for p in principal(inv, "worker").identity_policies] == ["worker-encoded", "Shared", "ReadOnlyAccess"]
    assert any("typo" in p.message and "role worker" in p.message for p in inv.problems)


# ---------------------------------------------------------------------------------------------
# The corpus


def test_every_corpus_json_file_reads_without_exception(corpus: Path) -> None:
    outcomes = {}
    for path in sorted(corpus.rglob("*.json")):
        rel = str(path.relative_to(corpus))
        inv = read(rel, path.read_text(encoding="utf-8"))
        assert inv is None or isinstance(inv, Inventory)
        outcomes[rel] = inv
    for rel, inv in outcomes.items():
        if rel.startswith("json/"):  # policy documents, managed policies and exports: all ours
            assert inv is not None and inv.policies, rel
            assert not [p for p in inv.problems if p.kind == "parse-error"], rel
            assert all(p.location.file == rel for p in inv.problems), rel
        elif rel.startswith(("cfn/", "sam/")) or rel.endswith("plan.json"):
            assert inv is None, rel


def test_corpus_policy_files(corpus: Path) -> None:
    inv = read_corpus(corpus, "json/MAMIP/policies/PowerUserAccess.json")
    (p,) = inv.policies
    assert p.name == "PowerUserAccess"
    assert [s.location.line for s in p.statements] == [8, 17]
    assert p.statements[0].not_actions == ("iam:*", "organizations:*", "account:*")
    scp = "json/service-control-policy-examples/Region-controls/Deny-access-to-AWS-based-on-the-requested-AWS-region.json"
    (p,) = read_policy_file(scp, (corpus / scp).read_text(encoding="utf-8"), "scp")
    assert p.kind == "scp" and p.statements[0].effect == "Deny" and p.statements[0].not_actions


def test_corpus_authorization_details(corpus: Path) -> None:
    rel = f"{AUTHZ}/example-authz-details.json"
    inv = read_corpus(corpus, rel)
    raw = json.loads((corpus / rel).read_text(encoding="utf-8"))
    # the export's AWS managed policies use actions of services IAM has since retired (CloudHSM
    # Classic, CodeStar, IoT Events) and one that never existed: genuine unknown actions, nothing
    # else; AWS's to fix, so warnings naming the policy, one per Action element
    unknown = [p for p in inv.problems if p.kind == "unknown-action"]
    assert {(p.kind, p.rule, p.severity) for p in unknown} == {("unknown-action", "IG3004", "warning")}
    assert inv.unresolved == ()
    assert [re.search(r"\(in AWS managed policy (\w+)\)$", p.message).group(1) for p in unknown] == [
        "SecurityAudit", "AWSSupportServiceRolePolicy"]
    services = {s for p in unknown for s in re.findall(r"(\w+):\w", p.message)}
    assert services == {"cloudhsm", "codestar"}  # the first five of each
    # the rest: the policy lint on the export's own (deliberately insecure) customer policies
    assert sorted((p.rule, p.message.split(":")[0]) for p in inv.problems if p not in unknown) == [
        ("IG3105", "EC2-IAM-example"), ("IG3105", "SupYo"), ("IG3106", "SupYo")]
    assert [p.id for p in inv.principals] == ["obama", "userwithlotsofpermissions", "biden",
                                              "MyRole", "MyOtherRole", "OverprivilegedEC2"]
    assert len(inv.policies) == len(raw["Policies"]) == 32
    biden = principal(inv, "biden")
    assert [p.name for p in biden.identity_policies] == ["InsecureUserPolicy", "AWSLambdaFullAccess",
                                                         "InlinePolicyForBidenGroup", "AmazonRDSFullAccess"]
    assert biden.location == Location(rel, 54, 5)
    assert biden.identity_policies[0].statements[0].location == Location(rel, 69, 15)
    assert principal(inv, "OverprivilegedEC2").aliases == (
        "OverprivilegedEC2", "arn:aws:iam::012345678901:role/OverprivilegedEC2")  # profile has the role's name
    assert principal(inv, "MyRole").trust_policy.statements[0].principals == {"Service": ("ssm.amazonaws.com",)}
    # AWSCodeCommitPowerUser has v11 (default) and v10: the policy is v11's document
    codecommit = policy_named(inv.policies, "AWSCodeCommitPowerUser")
    entry = next(p for p in raw["Policies"] if p["PolicyName"] == "AWSCodeCommitPowerUser")
    default = next(v for v in entry["PolicyVersionList"] if v["IsDefaultVersion"])
    other = next(v for v in entry["PolicyVersionList"] if not v["IsDefaultVersion"])
    assert default["VersionId"] == "v11"
    assert [s.sid for s in codecommit.statements] == [s.get("Sid") for s in default["Document"]["Statement"]]
    assert default["Document"] != other["Document"]


def test_corpus_export_with_managed_policy_missing(corpus: Path) -> None:
    rel = f"{AUTHZ}/example_authz_v2.json"
    inv = read_corpus(corpus, rel)
    blake = principal(inv, "BlakeBortles")
    (unknown,) = blake.identity_policies  # a placeholder: the engine will answer "unknown"
    assert unknown.name == "AdministratorAccess" and unknown.statements[0].unresolved
    (u,) = inv.unresolved
    assert u.expression == ("managed policy AdministratorAccess arn:aws:iam::aws:policy/AdministratorAccess "
                            "(not in the export; attached to group GOAT of user BlakeBortles)")
    assert u.location == Location(rel, 10, 9)


def test_corpus_export_without_users(corpus: Path) -> None:
    # the group attaches AWSLambdaReadOnlyAccess, the export only holds AWSLambda_ReadOnlyAccess:
    # no user or role is affected, so nothing is unresolved; the managed policy is still listed
    inv = read_corpus(corpus, f"{AUTHZ}/managed_policy_mismatch.json")
    assert inv.principals == () and inv.unresolved == () and inv.problems == ()
    assert [p.name for p in inv.policies] == ["AWSLambda_ReadOnlyAccess"]


def _paths(value: Any, path: tuple = ()) -> Any:
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, path + (key,))


def _replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def test_gaad_with_any_element_replaced_never_raises() -> None:
    """Each element of the export, in turn, replaced by a value of the wrong shape."""
    for path in _paths(GAAD):
        for new in (None, 7, "%7B", ["x"], {"Statement": 1}):
            inv = read("account.json", json.dumps(_replaced(GAAD, path, new)))
            assert inv is None or isinstance(inv, Inventory)
            for finding in (inv.problems if inv else ()):
                assert finding.location.file == "account.json" and finding.location.line


@pytest.mark.parametrize("resource", [
    '"arn:aws:s3:::${bucket_name}/*"',              # as written
    '"arn:aws:s3:::\\u0024{bucket_name}/*"',        # the dollar as an escape
])
def test_a_placeholder_is_unresolved_however_the_file_writes_it(resource: str) -> None:
    """A file whose text holds no placeholder, no escape and no % is not searched document by
    document; one that may hold one, written plainly or behind an escape, still is."""
    text = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
            f'"Resource": {resource}}}]}}')
    (policy,) = read("p.json", text).policies
    assert "Resource" in policy.statements[0].unresolved and policy.statements[0].resources == ("arn:aws:s3:::*/*",)


def test_a_placeholder_in_a_url_encoded_document_is_unresolved() -> None:
    from urllib.parse import quote

    doc = quote('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
                '"Resource":"arn:aws:s3:::${bucket_name}/*"}]}')
    text = ('{"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::111122223333:role/r", '
            '"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}, '
            f'"RolePolicyList": [{{"PolicyName": "p", "PolicyDocument": "{doc}"}}], '
            '"AttachedManagedPolicies": []}], "UserDetailList": [], "GroupDetailList": [], "Policies": []}')
    (role,) = read("gaad.json", text).principals
    (policy,) = role.identity_policies
    assert "Resource" in policy.statements[0].unresolved


@pytest.mark.parametrize("text", [
    '"arn:aws:s3:::${bucket}"', '"${ bucket }"', '"$${bucket}"', '"$ {bucket}"', '"%{bucket}"', '"100%"',
    '"\\u0024{bucket}"', '"arn:aws:s3:::bucket"', '"${"', '"${1x}"', '"{bucket}$"', "",
])
def test_the_placeholder_prefilter_agrees_with_the_placeholder_pattern(text: str) -> None:
    from iamgate.sources.iam_json import _PLACEHOLDER, _may_hold_placeholders

    assert _may_hold_placeholders(text) == ("\\u" in text or "%" in text or _PLACEHOLDER.search(text) is not None)


def test_an_export_validated_over_forked_processes_reads_as_in_one(monkeypatch) -> None:
    """The grammar's verdicts on a large export come from a forked child: the same inventory,
    problems (their order included) and grammar-rejected policies as when one process reads it,
    also when the child fails."""
    from iamgate import parallel
    from iamgate.sources import grammar, iam_json

    def statement(r: int, s: int) -> dict:
        st = {"Sid": f"S{s}", "Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"],
              "Resource": f"arn:aws:s3:::bucket-{r}-{s}/*"}
        if (r * 7 + s) % 23 == 0:
            st["Effect"] = "Alow"
        if (r * 5 + s) % 31 == 0:
            st["Acton"] = st.pop("Action")
        if (r + s) % 37 == 0:
            st["Resource"] = "bucket"
        return st

    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    export = {"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [
        {"RoleName": f"r{r}", "Arn": f"arn:aws:iam::111122223333:role/r{r}", "AttachedManagedPolicies": [],
         "AssumeRolePolicyDocument": trust if r % 9 else {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]},
         "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {
             "Version": "2012-10-17", "Statement": [statement(r, s) for s in range(6)]}}]} for r in range(60)]}
    text = json.dumps(export, indent=2)
    monkeypatch.setattr(parallel, "WORKERS", 1)
    alone = read("gaad.json", text)
    assert len(alone.problems) > 20 and any(p.grammar_rejected for p in alone.documents)
    monkeypatch.setattr(iam_json, "_AHEAD", 0)
    forks: list = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    grammar._CACHE.clear()
    assert read("gaad.json", text) == alone  # still one process: WORKERS is 1
    monkeypatch.setattr(parallel, "WORKERS", 2)
    grammar._CACHE.clear()
    assert read("gaad.json", text) == alone and len(forks) == 1
    here: list = []  # the documents this process validated itself, per read: ahead, or where read
    validate, counted = iam_json.validate_document, iam_json.verdicts
    monkeypatch.setattr(iam_json, "validate_document", lambda *a, verdict=None, **k: (
        here.append(int(verdict is None)), validate(*a, verdict=verdict, **k))[1])
    monkeypatch.setattr(iam_json, "verdicts", lambda docs: (here.append(len(docs)), counted(docs))[1])
    loading = iam_json._load
    monkeypatch.setattr(iam_json, "_load", lambda *a: (time.sleep(0.5), loading(*a))[1])  # the child is done first
    here.clear()
    assert read("gaad.json", text) == alone and sum(here) == 0  # every verdict from the child
    sent = iam_json._send_verdicts

    def slow(text: str, send: Any) -> None:  # not there yet: this process validates from the back
        sent(text, lambda piece: (time.sleep(0.2), send(piece)))

    def dies_after_one_run(text: str, send: Any) -> None:
        send(120)
        send((0, counted(iam_json._gaad_documents(json.loads(text))[:64])))
        os._exit(0)

    def skips_a_run(text: str, send: Any) -> None:
        documents = iam_json._gaad_documents(json.loads(text))
        send(120)
        send((0, counted(documents[:64])))
        send((100, counted(documents[100:])))

    # however the child does, the same inventory; what it did not give was validated here, ahead
    # from the back or where read: a child that fails or counts otherwise gives nothing
    for child, validated_here in ((slow, range(1, 121)), (dies_after_one_run, range(56, 121)),
                                  (skips_a_run, range(56, 121)), (lambda text, send: 1 / 0, [120]),
                                  (lambda text, send: send(7), [120])):
        monkeypatch.setattr(iam_json, "_send_verdicts", child)
        for parse_first in (False, True):  # and with the child done before this process asks
            monkeypatch.setattr(iam_json, "_load", (lambda *a: (time.sleep(0.5), loading(*a))[1]) if parse_first
                                else loading)
            here.clear()
            assert read("gaad.json", text) == alone and sum(here) in validated_here, (child, here)
    monkeypatch.setattr(iam_json, "_load", loading)
    assert read("gaad.json", text[:-3]).problems[0].rule == "IG0001"  # not JSON: the child is ended
    assert len(forks) == 1 + 1 + 2 * 5 + 1


def test_the_statement_locations_of_an_export_are_found_when_read() -> None:
    """An export's statements carry where they are written, found the first time a location is
    read (a report names few of them): the positions the plain parser records."""
    from iamgate.sources.jsonpos import _load_eager
    statements = [{"Sid": f"S{j}", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::b{j}/*"}
                  for j in range(3)]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    export = {"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [
        {"RoleName": f"r{i}", "Arn": f"arn:aws:iam::{ACCOUNT}:role/r{i}", "AssumeRolePolicyDocument": trust,
         "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]}
        for i in range(4)]}
    for indent in (None, 2):
        text = json.dumps(export, indent=indent)
        inventory = read("export.json", text)
        eager = _load_eager(text)[1]
        read_statements = [(("RoleDetailList", i, "RolePolicyList", 0, "PolicyDocument", "Statement", j), st)
                           for i, p in enumerate(inventory.principals)
                           for j, st in enumerate(p.identity_policies[0].statements)]
        read_statements += [(("RoleDetailList", i, "AssumeRolePolicyDocument", "Statement", 0),
                             p.trust_policy.statements[0]) for i, p in enumerate(inventory.principals)]
        assert len(read_statements) == 16
        assert all("location" not in vars(st) for _, st in read_statements)  # none looked up yet
        for path, st in reversed(read_statements):
            assert st.location == Location("export.json", *eager[path]), path
            assert vars(st)["location"] is st.location  # found once, then kept
