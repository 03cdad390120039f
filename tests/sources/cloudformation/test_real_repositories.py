"""CloudFormation patterns met on public repositories that iamgate once misread: the reproductions in
../shared/repro (skipped when absent), and a small template of the same pattern written here."""
import json
import os
import shutil

import pytest

from ...cli import run

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
REPRO = os.path.join(ROOT, "..", "shared", "repro")


def repro(tmp_path, monkeypatch, name):
    """A copy of ../shared/repro/<name> as the working directory (with ../cfn-if-novalue beside it)."""
    if not os.path.isdir(os.path.join(REPRO, name)):
        pytest.skip(f"../shared/repro/{name} is not present")
    for folder in {name, "cfn-if-novalue"}:
        if os.path.isdir(os.path.join(REPRO, folder)):
            shutil.copytree(os.path.join(REPRO, folder), tmp_path / folder)
    monkeypatch.chdir(tmp_path / name)
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")


def findings(capsys, *argv):
    rc, out, err = run(capsys, "check", "--format", "json", *argv)
    assert "Traceback" not in err
    return rc, json.loads(out)["findings"]


# ------------------------------------------------------------------ !If [cond, statement, !Ref AWS::NoValue]


def test_repro_statement_under_unknown_if_is_only_unresolved(tmp_path, monkeypatch, capsys):
    repro(tmp_path, monkeypatch, "cfn-if-novalue")
    rc, found = findings(capsys, "t.yaml", "--manifest", "acct.yaml")
    assert [(f["rule"], f["kind"]) for f in found] == [("IG0201", "unresolved")]
    assert found[0]["message"].startswith("could not resolve Fn::If IsAdmin")
    assert found[0]["location"] == {"file": "t.yaml", "line": 21}
    # nothing is required of the role, so the unresolved condition decides nothing: a note, exit 0
    assert found[0]["severity"] == "note" and rc == 0


OPTIONAL_STATEMENT = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Stage: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Fn:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: data
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: dynamodb:GetItem
                Resource: "*"
              - !If
                - IsProd
                - Effect: Allow
                  Action: dynamodb:PutItem
                  Resource: "*"
                - !Ref AWS::NoValue
              - Effect: Allow
                Action: s3:GetObject
                Resource: arn:aws:s3:::b/*
                Bogus: 1
"""


def test_statement_that_may_not_exist_is_unresolved_and_the_others_are_still_checked(tree, capsys):
    (tree / "t.yaml").write_text(OPTIONAL_STATEMENT)
    (tree / "iamgate.yaml").write_text(
        "version: 1\nsettings: {account: '111122223333'}\nprincipals:\n  - principal: Fn\n    needs:\n"
        "      - {actions: dynamodb:GetItem, resources: 'arn:aws:dynamodb:us-east-1:111122223333:table/t'}\n"
        "      - {actions: dynamodb:PutItem, resources: 'arn:aws:dynamodb:us-east-1:111122223333:table/t'}\n")
    rc, found = findings(capsys, "t.yaml")
    by_rule = sorted((f["rule"], f["message"]) for f in found if f["kind"] != "missing-permission")
    # the optional statement: its unresolved condition only, never "expected an object, got a string";
    # the statement after it is still validated (its unknown element is reported at its own index)
    assert [r for r, _ in by_rule] == ["IG0201", "IG3002"]
    assert "Fn::If IsProd" in by_rule[0][1]
    assert "Statement[2]" in by_rule[1][1] and "Bogus" in by_rule[1][1]
    assert not any("expected an object" in f["message"] for f in found)
    # GetItem is granted by a known statement; PutItem only by the statement that may not exist
    decisions = {f["action"]: f["decision"] for f in found if f["kind"] == "missing-permission"}
    assert "dynamodb:GetItem" not in decisions
    assert decisions.get("dynamodb:PutItem") == "unknown"
    assert rc == 1


# ------------------------------------------------------------------ a Resource that is not an ARN, in a resource policy


def test_repro_non_arn_resource_reported_in_the_queue_policy_as_in_the_role_policy(tmp_path, monkeypatch, capsys):
    repro(tmp_path, monkeypatch, "cfn-queue-policy-literal")
    rc, found = findings(capsys, "t.yaml", "--manifest", "../cfn-if-novalue/acct.yaml")
    assert sorted((f["rule"], f["message"], f["location"]["line"]) for f in found) == [
        ("IG3002", 't.yaml: QP: Statement[0].Resource: "Q.Arn" is not an ARN or "*"', 12),
        ("IG3002", 't.yaml: p: Statement[0].Resource: "Q.Arn" is not an ARN or "*"', 27),
    ]
    assert rc == 1


RESOURCE_POLICIES = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: "111122223333"}
            Action: s3:GetObject
            Resource: [!Sub "${Bucket.Arn}/*", "Bucket.Arn/*"]
          - Effect: Deny
            Principal: "*"
            Action: s3:*
            NotResource: "${Bucket}"
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: api
      Policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: execute-api:Invoke
            Resource: ["execute-api:/*", "arn:aws:execute-api:us-east-1:111122223333:*/prod/GET/*"]
"""


def test_resource_policy_resources_must_be_arns_except_api_gateway_shorthand(tree, capsys):
    (tree / "t.yaml").write_text(RESOURCE_POLICIES)
    (tree / "iamgate.yaml").write_text("version: 1\nsettings: {account: '111122223333'}\n")
    rc, found = findings(capsys, "t.yaml")
    assert sorted((f["rule"], f["message"]) for f in found) == [
        ("IG3002", 't.yaml: BucketPolicy: Statement[0].Resource[1]: "Bucket.Arn/*" is not an ARN or "*"'),
        ("IG3002", 't.yaml: BucketPolicy: Statement[1].NotResource: "${Bucket}" is not an ARN or "*"'),
        ("IG3107", 'Api: Statement[0]: allows anyone (Principal "*") execute-api:Invoke with no condition on the '
                   "caller's account, organization, source or network: the resource is public"),
    ]
    assert rc == 1


def test_grammar_holds_resource_policies_to_arns():
    from iamgate.sources.grammar import validate_document

    def messages(resource):
        doc = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sqs:SendMessage",
             "Resource": resource}]}
        return [f.message for f in validate_document(doc, "resource", lambda path: None, "qp")]

    assert messages("Q.Arn") == ['qp: Statement[0].Resource: "Q.Arn" is not an ARN or "*"']
    assert messages(["arn:aws:sqs:us-east-1:111122223333:q", "queue"]) == \
        ['qp: Statement[0].Resource[1]: "queue" is not an ARN or "*"']
    assert messages("*") == messages("arn:aws:sqs:*:*:q") == messages("execute-api:/prod/GET/x") == []
