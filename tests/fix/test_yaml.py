"""The CloudFormation YAML writer: each fix applied to a copy of the files, the check re-run,
the finding gone."""
import json
import shutil

import pytest

from iamgate.model import Edit
from iamgate.report.text import fix_lines

from .helpers import EXAMPLES, by_action, fix_and_recheck, missing, run_check, wiring_gaps, write


# ---------------------------------------------------------------------------------------------
# CloudFormation YAML: identity (new statement), boundary (flow list), key policy (cycle)


def test_cloudformation_yaml_example(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLES / "cloudformation", tmp_path / "cfn")
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["cfn"], "cfn/iamgate.yaml")
    found = by_action(before)
    assert set(found) == {"s3:PutObject", "sns:Publish", "kms:GenerateDataKey"}

    put = found["s3:PutObject"].fix
    assert fix_lines(put) == [
        'fix: add to policy "worker" (cfn/orders-stack.yaml:80):',
        "       - Effect: Allow",
        "         Action: s3:PutObject",
        '         Resource: !Sub "${InvoicesBucket.Arn}/2026/*"',
    ]
    assert [(e.start, e.end) for e in put.edits] == [(101, 100)]
    assert put.edits[0].text.startswith("              - Effect: Allow\n                Action: s3:PutObject\n")

    boundary = found["sns:Publish"].fix
    assert boundary.text.startswith('add sns:Publish to statement WorkloadServices of the permissions boundary '
                                    '"WorkerBoundary"')
    assert boundary.edits == (Edit("cfn/orders-stack.yaml", 61, 61,
                                   "            Action: [s3:*, sqs:*, kms:*, logs:*, sns:Publish]\n"),)

    # WorkerRole refers to InvoicesKey: naming it in the key policy would be a circular
    # dependency, so the key policy names the account and the role's policy grants the rest
    key = found["kms:GenerateDataKey"].fix
    assert "the key policy of InvoicesKey" in key.text and "circular" in key.text
    assert 'AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"' in key.text

    assert missing(after) == set()
    # the example's wiring gap stays: SNS needs a queue policy, which no fix writes for the user
    assert wiring_gaps(after) == {("IG2202", "sns.amazonaws.com", "sqs:SendMessage")}
    assert [f for f in after.findings if f.severity == "error" and f.rule != "IG2202"] == []


# ---------------------------------------------------------------------------------------------
# CloudFormation YAML: trust policy, block-style Action merge, a single-statement resource policy


TRUST_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          Sid: OwnAccount
          Effect: Allow
          Principal:
            AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
          Action: sqs:*
          Resource: !GetAtt Queue.Arn
  Target:
    Type: AWS::IAM::Role
    Properties:
      RoleName: target
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Caller:
    Type: AWS::IAM::Role
    Properties:
      RoleName: caller
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: caller
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Assume
                Effect: Allow
                Action: sts:AssumeRole
                Resource: "*"
              - Sid: Consume
                Effect: Allow
                Action:
                  - sqs:ReceiveMessage
                Resource: !GetAtt Queue.Arn
"""


def test_cloudformation_trust_resource_policy_and_block_merge(tmp_path, monkeypatch):
    write(tmp_path, {
        "infra/stack.yaml": TRUST_TEMPLATE,
        "partner.json": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:eu-west-1:111122223333:jobs"}]}, indent=2),
        "iamgate.yaml": """
            version: 1
            settings: {account: "111122223333", region: eu-west-1}
            principals:
              - principal: Caller
                needs:
                  - actions: sts:AssumeRole
                    resources: "${Target.Arn}"
                  - actions: sqs:DeleteMessage
                    resources: "${Queue.Arn}"
              - principal: arn:aws:iam::444455556666:role/partner
                policies: [partner.json]
                needs:
                  - actions: sqs:SendMessage
                    resources: arn:aws:sqs:eu-west-1:111122223333:jobs
            """,
    })
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["infra"])
    found = by_action(before)
    assert found["sts:AssumeRole"].decision.blocked_by == ("trust",)
    trust = found["sts:AssumeRole"].fix
    assert trust.text.startswith("add to the trust policy of Target (infra/stack.yaml:")
    assert "AWS: !GetAtt Caller.Arn" in trust.text and "Resource" not in trust.text

    merge = found["sqs:DeleteMessage"].fix
    assert merge.text.startswith("add sqs:DeleteMessage to statement Consume")
    assert [e.text for e in merge.edits] == ["                  - sqs:DeleteMessage\n"]

    cross = found["sqs:SendMessage"].fix
    assert found["sqs:SendMessage"].decision.blocked_by == ("resource",)
    assert "the resource policy QueuePolicy" in cross.text
    assert 'AWS: "arn:aws:iam::444455556666:role/partner"' in cross.text
    assert "Resource: !GetAtt Queue.Arn" in cross.text
    assert "          - Sid: OwnAccount\n" in diff  # the single statement became a list item

    assert missing(after) == set()
    assert [f for f in after.findings if f.severity == "error"] == []


# ---------------------------------------------------------------------------------------------
# SAM: a policy generated from a policy template gets a new entry in the resource's Policies list

SAM_TEMPLATE = """
    AWSTemplateFormatVersion: "2010-09-09"
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Orders:
        Type: AWS::Serverless::SimpleTable
      Jobs:
        Type: AWS::SQS::Queue
      Worker:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          CodeUri: src/
          Policies:
            - DynamoDBReadPolicy:
                TableName: !Ref Orders
            - SQSPollerPolicy:
                QueueName: !GetAtt Jobs.QueueName
          Timeout: 10
    """

SAM_MANIFEST = """
    version: 1
    settings: {account: "111122223333", region: eu-west-1}
    principals:
      - principal: Worker
        needs:
          - actions: [dynamodb:GetItem, dynamodb:PutItem]
            resources: "${Orders.Arn}"
          - actions: [sqs:ReceiveMessage, sqs:SendMessage]
            resources: "${Jobs.Arn}"
    """


def test_sam_function_policy_template_gets_a_policies_entry(tmp_path, monkeypatch):
    write(tmp_path, {"template.yaml": SAM_TEMPLATE, "iamgate.yaml": SAM_MANIFEST})
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["template.yaml"])
    found = by_action(before)
    assert set(found) == {"dynamodb:PutItem", "sqs:SendMessage"}
    put = found["dynamodb:PutItem"].fix
    assert put.text.startswith("add to the Policies of function Worker (template.yaml:14):")
    assert put.edits and put.file == "template.yaml"
    text = (tmp_path / "template.yaml").read_text()
    assert ("            QueueName: !GetAtt Jobs.QueueName\n"
            "        - Version: \"2012-10-17\"\n"
            "          Statement:\n"
            "            - Effect: Allow\n"
            "              Action: dynamodb:PutItem\n"
            "              Resource: !GetAtt Orders.Arn\n") in text
    assert "Resource: !GetAtt Jobs.Arn\n      Timeout: 10\n" in text
    assert not missing(after)
    assert not [f for f in after.findings if f.kind == "missing-permission"]
    assert {(f.kind, f.message) for f in after.findings} <= {(f.kind, f.message) for f in before.findings}


@pytest.mark.parametrize("policies", [
    "Policies: [{DynamoDBReadPolicy: {TableName: !Ref Orders}}]",
    "Policies: AmazonDynamoDBReadOnlyAccess",
])
def test_sam_policies_not_a_block_list_get_text_only(tmp_path, monkeypatch, policies):
    template = SAM_TEMPLATE.replace("""
          Policies:
            - DynamoDBReadPolicy:
                TableName: !Ref Orders
            - SQSPollerPolicy:
                QueueName: !GetAtt Jobs.QueueName
    """, "\n          " + policies + "\n")
    assert template != SAM_TEMPLATE
    write(tmp_path, {"template.yaml": template, "iamgate.yaml": SAM_MANIFEST})
    monkeypatch.chdir(tmp_path)
    report = run_check(["template.yaml"])
    fixes = [f.fix for f in report.findings if f.kind == "missing-permission" and f.fix is not None]
    assert fixes and all(not f.edits for f in fixes)


def test_sam_state_machine_policies_at_the_key_indentation(tmp_path, monkeypatch):
    write(tmp_path, {"template.yaml": """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Orders:
            Type: AWS::Serverless::SimpleTable
          Flow:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
              Policies:
              - DynamoDBReadPolicy:
                  TableName: !Ref Orders
        """, "iamgate.yaml": """
        version: 1
        settings: {account: "111122223333", region: eu-west-1}
        principals:
          - principal: Flow
            needs:
              - actions: [dynamodb:PutItem]
                resources: "${Orders.Arn}/index/*"
        """})
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["template.yaml"])
    fix = by_action(before)["dynamodb:PutItem"].fix
    assert fix.text.startswith("add to the Policies of state machine Flow (template.yaml:9):")
    assert ("      - Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n"
            "            Action: dynamodb:PutItem\n"
            "            Resource: !Sub \"${Orders.Arn}/index/*\"\n") in (tmp_path / "template.yaml").read_text()
    assert not missing(after)
    assert {(f.kind, f.message) for f in after.findings} <= {(f.kind, f.message) for f in before.findings}
