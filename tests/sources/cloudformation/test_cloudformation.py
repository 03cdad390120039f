"""The CloudFormation reader on realistic templates: principals, statements, lines, unknowns."""
import json
from pathlib import Path

import pytest

from iamgate.model import Location
from iamgate.sources import ReadOptions
from iamgate.sources.cloudformation import read
from iamgate.sources.cloudformation.loader import load_template_text

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"
ACCOUNT = "111122223333"
OPTS = ReadOptions(account=ACCOUNT, region="eu-west-1")

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: prod
  ExtraPolicy:
    Type: String
    Default: ""
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  HasExtra: !Not [!Equals [!Ref ExtraPolicy, ""]]
Resources:
  Orders:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "orders-${Env}-${AWS::AccountId}"
  Jobs:
    Type: AWS::SQS::Queue
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: 2012-10-17
        Statement:
          - Sid: Admins
            Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: kms:*
            Resource: "*"
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "orders-worker-${Env}"
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
        - !If [HasExtra, !Ref ExtraPolicy, !Ref AWS::NoValue]
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: 2012-10-17
            Statement:
              - Sid: ReadOrders
                Effect: Allow
                Action: [s3:GetObject]
                Resource: !Sub "${Orders.Arn}/*"
              - !If
                - IsProd
                - Sid: ConsumeJobs
                  Effect: Allow
                  Action: [sqs:ReceiveMessage, sqs:DeleteMessage]
                  Resource: !GetAtt Jobs.Arn
                - !Ref AWS::NoValue
              - Sid: Shared
                Effect: Allow
                Action: kms:Decrypt
                Resource: !ImportValue shared-key-arn
      Tags:
        - {Key: team, Value: orders}
  WriterPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref WorkerRole]
      PolicyDocument:
        Version: 2012-10-17
        Statement:
          - Sid: WriteOrders
            Effect: Allow
            Action: s3:PutObject
            Resource: !Join ["", [!GetAtt Orders.Arn, "/invoices/*"]]
  OrdersPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Orders
      PolicyDocument:
        Version: 2012-10-17
        Statement:
          - Sid: TlsOnly
            Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: [!GetAtt Orders.Arn, !Sub "${Orders.Arn}/*"]
            Condition: {Bool: {aws:SecureTransport: "false"}}
  LogsPolicy:
    Type: AWS::Logs::ResourcePolicy
    Properties:
      PolicyName: delivery
      PolicyDocument: !Sub |
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
          "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "logs:PutLogEvents",
          "Resource": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/orders/*"}]}
  InvokePermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: orders-api
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:abc123/*"
"""


def line(text, fragment):
    return next(i for i, l in enumerate(text.splitlines(), 1) if fragment in l)


def principal(inv, pid):
    (p,) = [p for p in inv.principals if p.id == pid]
    return p


def test_role_with_every_kind_of_policy():
    inv = read("stacks/orders.yaml", TEMPLATE, OPTS)
    worker = principal(inv, "WorkerRole")
    assert worker.arn == f"arn:aws:iam::{ACCOUNT}:role/orders-worker-prod"
    assert set(worker.aliases) >= {"WorkerRole", "orders-worker-prod", worker.arn}
    assert worker.tags == {"team": "orders"} and worker.location.line == line(TEMPLATE, "  WorkerRole:")
    names = [p.name for p in worker.identity_policies]
    assert names[:2] == ["worker", "AWSLambdaBasicExecutionRole"] and names[2].startswith("orders-WriterPolicy-")
    worker_policy = worker.identity_policies[0]
    read_orders, consume, shared = worker_policy.statements
    assert read_orders.resources == (f"arn:aws:s3:::orders-prod-{ACCOUNT}/*",)
    assert read_orders.location == Location("stacks/orders.yaml", line(TEMPLATE, "- Sid: ReadOrders"))
    # Fn::If IsProd (true with the default): the statement is there, at the If's branch line
    assert consume.sid == "ConsumeJobs" and consume.resources[0].startswith(f"arn:aws:sqs:eu-west-1:{ACCOUNT}:")
    # an import with no value in the manifest: the resource is unknown, marked, never guessed
    assert shared.resources == ("*",) and shared.unresolved == frozenset({"Resource"})
    assert any(u.expression == "Fn::ImportValue shared-key-arn" and u.location.line == line(TEMPLATE, "!ImportValue")
               for u in inv.unresolved)
    # AWS managed policies come from the snapshot
    basic = [p for p in worker.identity_policies if p.name == "AWSLambdaBasicExecutionRole"][0]
    assert "logs:PutLogEvents" in basic.statements[0].actions
    writer = [p for p in worker.identity_policies if p.statements and p.statements[0].sid == "WriteOrders"][0]
    assert writer.statements[0].resources == (f"arn:aws:s3:::orders-prod-{ACCOUNT}/invoices/*",)
    assert worker.trust_policy.statements[0].principals == {"Service": ("ecs-tasks.amazonaws.com",)}


def test_parameters_and_conditions_from_the_manifest():
    opts = ReadOptions(account=ACCOUNT, parameters={"Env": "dev"}, imports={"shared-key-arn": "arn:aws:kms:eu-west-1:1:key/k"})
    worker = principal(read("orders.yaml", TEMPLATE, opts), "WorkerRole")
    sids = [s.sid for s in worker.identity_policies[0].statements]
    assert sids == ["ReadOrders", "Shared"]  # IsProd is false for dev: ConsumeJobs is not deployed
    assert worker.identity_policies[0].statements[1].resources == ("arn:aws:kms:eu-west-1:1:key/k",)
    assert worker.arn.endswith(":role/orders-worker-dev")


def test_resource_policies():
    inv = read("orders.yaml", TEMPLATE, OPTS)
    by_type = {r.type: r for r in inv.resource_policies}
    bucket = by_type["AWS::S3::BucketPolicy"]
    assert bucket.resource == f"arn:aws:s3:::orders-prod-{ACCOUNT}"
    assert bucket.policy.statements[0].effect == "Deny"
    key = by_type["AWS::KMS::Key"]
    assert key.resource.startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
    logs = by_type["AWS::Logs::ResourcePolicy"]  # a JSON string built with !Sub
    assert logs.policy.statements[0].resources == (f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/orders/*",)
    perm = by_type["AWS::Lambda::Permission"]
    st = perm.policy.statements[0]
    assert perm.resource == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders-api"
    assert st.principals == {"Service": ("apigateway.amazonaws.com",)}
    assert st.conditions[0].key == "aws:SourceArn"


def test_json_template_and_not_a_template():
    data = json.loads(json.dumps(load_template_text(TEMPLATE.replace("!ImportValue shared-key-arn", "'*'"))))
    inv = read("orders.json", json.dumps(data, indent=2), OPTS)
    assert {p.id for p in inv.principals} == {"WorkerRole"}
    assert read("config.yaml", "name: ci\non: [push]\njobs: {}\n", OPTS) is None
    assert read("k8s.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", OPTS) is None


def test_yaml_date_version_is_a_string():
    t = load_template_text("Resources:\n  R:\n    Type: AWS::IAM::Policy\n    Properties:\n"
                           "      PolicyDocument:\n        Version: 2012-10-17\n")
    assert t["Resources"]["R"]["Properties"]["PolicyDocument"]["Version"] == "2012-10-17"


def test_syntax_error_names_the_line():
    inv = read("bad.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  R: [\n", OPTS)
    (p,) = inv.problems
    assert p.kind == "parse-error" and p.location.line is not None and "bad.yaml" in p.message


def test_users_groups_and_standalone_policies():
    t = """
Resources:
  Ops:
    Type: AWS::IAM::Group
    Properties:
      Policies:
        - PolicyName: ops
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: "ec2:Describe*", Resource: "*"}]
  Alice:
    Type: AWS::IAM::User
    Properties:
      UserName: alice
      Groups: [!Ref Ops]
  Bob:
    Type: AWS::IAM::User
  AddBob:
    Type: AWS::IAM::UserToGroupAddition
    Properties:
      GroupName: !Ref Ops
      Users: [!Ref Bob]
  Audit:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: audit
      Users: [!Ref Alice]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: {Effect: Allow, Action: cloudtrail:LookupEvents, Resource: "*"}
"""
    inv = read("users.yaml", t, OPTS)
    alice, bob = principal(inv, "Alice"), principal(inv, "Bob")
    assert alice.arn == f"arn:aws:iam::{ACCOUNT}:user/alice" and alice.type == "user"
    assert sorted(p.name for p in alice.identity_policies) == ["audit", "ops"]
    assert [p.name for p in bob.identity_policies] == ["ops"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
class TestCorpus:
    def read(self, rel):
        path = CORPUS / rel
        return read(rel, path.read_text(encoding="utf-8"), OPTS)

    def test_every_template_reads_without_an_exception(self):
        for path in sorted(list((CORPUS / "cfn").rglob("*")) + list((CORPUS / "sam").rglob("*"))):
            if path.is_file():
                inv = read(str(path), path.read_text(encoding="utf-8"), OPTS)
                assert inv is None or inv.principals is not None

    def test_policies_inside_a_stackset_template_body(self):
        inv = self.read("cfn/aws-cloudformation-templates/CloudFormation/StackSets/templates/common-resources-stackset.yaml")
        role = principal(inv, "StorageReplicationRole")
        (policy,) = role.identity_policies
        assert policy.name == "bucket-replication-policy" and len(policy.statements) == 3
        assert role.location.line == 174  # its logical ID's line in the file, inside the TemplateBody block
        assert len([r for r in inv.resource_policies if r.type == "AWS::S3::BucketPolicy"]) == 3

    def test_fn_if_around_policy_entries(self):
        inv = self.read("cfn/aws-cloudformation-templates/CloudFormation/MacrosExamples/PyPlate/python.yaml")
        role = principal(inv, "TransformExecutionRole")
        # the second managed policy is behind Fn::If on a parameter with no default: it may or may
        # not be attached, so it is there as a policy whose content is unknown
        root, maybe = role.identity_policies
        assert root.name == "root" and maybe.statements[0].unresolved and not root.statements[0].unresolved
        assert any("AdditionalPolicyProvided" in u.expression for u in inv.unresolved)

    def test_sub_json_string_resource_policy(self):
        inv = self.read("cfn/aws-cloudformation-templates/CloudFormation/StackSets/templates/log-setup-management.yaml")
        logs = [r for r in inv.resource_policies if r.type == "AWS::Logs::ResourcePolicy"]
        assert len(logs) == 1 and logs[0].policy.statements[0].principals
        assert len([r for r in inv.resource_policies if r.type == "AWS::Events::EventBusPolicy"]) == 1
