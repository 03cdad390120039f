"""sam.py against SAM's own translator (aws-sam-translator), run here at test time, offline.

``bench/bench_sam_translator.py`` compares the two on every SAM template of the shared corpus (and
on SAM's translator test inputs); each test below pins one difference it found where sam.py was
wrong: the same template read by iamgate as today (sam.py) and translated by SAM's translator —
the bundled managed-policy map, no boto3 session, sockets refused — then read by the plain
CloudFormation reader, must give the same statements. The translator keeps no lines, so locations
are asserted on sam.py's side only. Skipped when aws-sam-translator is not importable (it is one of
iamgate's dependencies; importing it takes about half a second, translating a template milliseconds).
"""
from __future__ import annotations

import json
import socket
from collections import Counter
from typing import Any, Dict, Tuple

import pytest

from iamgate.model import Inventory, Settings
from iamgate.sources.cloudformation.loader import load_template_text
from iamgate.sources.cloudformation.template import Template, read

transform = pytest.importorskip("samtranslator.translator.transform")
managed = pytest.importorskip("samtranslator.internal.managed_policies")

ACCOUNT, REGION = "111122223333", "us-east-1"
OPTIONS = Settings(account=ACCOUNT, region=REGION)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network disabled in tests")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)  # what the translator takes the partition from


class _BundledPolicies:
    def load(self) -> Dict[str, str]:
        return dict(managed.get_bundled_managed_policy_map("aws") or {})


def translated(text: str) -> Dict[str, Any]:
    """What SAM's translator writes for ``text`` (plain data in, plain data out)."""
    data = json.loads(json.dumps(load_template_text(text)))
    return transform.transform(data, {}, _BundledPolicies())


def both(text: str, path: str = "app.yaml") -> Tuple[Inventory, Inventory, Dict[str, Any]]:
    """(sam.py's inventory, the translator's output read as plain CloudFormation, that output)."""
    ours = read(path, text, OPTIONS)
    assert ours is not None
    theirs_cfn = translated(text)
    theirs = Template(path, theirs_cfn, OPTIONS, "app").read()
    return ours, theirs, theirs_cfn


def statements(policies: Any) -> Counter:
    out: Counter = Counter()
    for p in policies:
        for s in p.statements:
            out[(s.effect, s.actions, s.resources, tuple(sorted((k, v) for k, v in (s.principals or {}).items())),
                 tuple(sorted((c.operator, c.key, c.values) for c in s.conditions)))] += 1
    return out


def resource_policies(inv: Inventory, rtype: str) -> Dict[str, Counter]:
    out: Dict[str, Counter] = {}
    for rp in inv.resource_policies:
        if rp.type == rtype:
            out.setdefault(rp.resource, Counter()).update(statements([rp.policy]))
    return out


def role(inv: Inventory, logical: str) -> Any:
    return next(p for p in inv.principals if p.id == logical)


# ---------------------------------------------------------------------------------------------- Api events

API_EVENTS = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: s3://code/app.zip
      Events:
        GetOrder:
          Type: Api
          Properties:
            RestApiId: !Ref Orders
            Path: /orders/{id}/
            Method: get
        AnyProxy:
          Type: Api
          Properties:
            RestApiId: !Ref Orders
            Path: /{proxy+}
            Method: any
        Health:
          Type: Api
          Properties:
            Path: /health
            Method: get
"""


def test_api_events_give_the_lambda_permissions_sam_gives(offline: None) -> None:
    # SAM adds an AWS::Lambda::Permission per Api event; without it the function's resource policy
    # granted API Gateway nothing and `check` of apigateway -> lambda:InvokeFunction failed
    ours, theirs, cfn = both(API_EVENTS)
    mine = resource_policies(ours, "AWS::Lambda::Permission")
    assert mine == resource_policies(theirs, "AWS::Lambda::Permission")
    [(function_arn, granted)] = mine.items()
    assert function_arn.startswith(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-Fn-")
    conditions = sorted(c for (_, _, _, _, cs) in granted for c in cs)
    assert sorted(c[2][0].split(":", 5)[5].split("/", 1)[1] for c in conditions) == [
        "*/*/*", "*/GET/health", "*/GET/orders/*"]  # any stage; ANY as *, {id} as *, no trailing slash
    # the same logical IDs as SAM's, each at its event's line
    theirs_ids = sorted(k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Permission")
    assert theirs_ids == ["FnAnyProxyPermissionprod", "FnGetOrderPermissionprod", "FnHealthPermissionProd"]
    mine_ids = {r.id: r.location.line for r in ours.resources if r.type == "AWS::Lambda::Permission"}
    assert mine_ids == {"FnAnyProxyPermissionprod": 21, "FnGetOrderPermissionprod": 15, "FnHealthPermissionProd": 27}
    lines = sorted(rp.location.line for rp in ours.resource_policies if rp.type == "AWS::Lambda::Permission")
    assert lines == [15, 21, 27]


def test_api_event_permission_with_auto_publish_alias_is_the_alias(offline: None) -> None:
    text = API_EVENTS.replace("      CodeUri: s3://code/app.zip\n", "      CodeUri: s3://code/app.zip\n"
                                                                     "      AutoPublishAlias: live\n")
    ours, _, cfn = both(text)
    # SAM: FunctionName {"Ref": "FnAliaslive"}, the AWS::Lambda::Alias named live of Fn (its Ref is its ARN)
    perms = [r for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"]
    assert {json.dumps(p["Properties"]["FunctionName"]) for p in perms} == {'{"Ref": "FnAliaslive"}'}
    alias = cfn["Resources"]["FnAliaslive"]
    assert alias["Type"] == "AWS::Lambda::Alias" and alias["Properties"]["Name"] == "live"
    assert {rp.resource.rsplit(":", 1)[1] for rp in ours.resource_policies
            if rp.type == "AWS::Lambda::Permission"} == {"live"}


# ---------------------------------------------------------------------------------------------- SNS -> SQS

SNS_SQS = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      FifoTopic: true
  Existing:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: s3://code/app.zip
      Events:
        New:
          Type: SNS
          Properties:
            Topic: !Ref Topic
            SqsSubscription: true
        Old:
          Type: SNS
          Properties:
            Topic: !Ref Topic
            SqsSubscription:
              QueueArn: !GetAtt Existing.Arn
              QueueUrl: !Ref Existing
              QueuePolicyLogicalId: OldPolicy
"""


def test_sns_sqs_subscription_gives_the_queue_policy_and_role_policy_sam_gives(offline: None) -> None:
    ours, theirs, cfn = both(SNS_SQS)
    # the function polls the queue: SAM attaches the SQS execution policy to the role
    mine_role, their_role = role(ours, "FnRole"), role(theirs, "FnRole")
    assert sorted(p.arn for p in mine_role.identity_policies if p.arn) == \
        sorted(p.arn for p in their_role.identity_policies if p.arn)
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole" in \
        {p.arn for p in mine_role.identity_policies}
    assert statements(mine_role.identity_policies) == statements(their_role.identity_policies)
    # and lets the topic send to the queue it creates (FIFO for a FIFO topic) and to the existing one
    mine = resource_policies(ours, "AWS::SQS::QueuePolicy")
    assert mine == resource_policies(theirs, "AWS::SQS::QueuePolicy")
    assert sorted(q.rsplit(":", 1)[1].split("-")[1] for q in mine) == ["Existing", "FnNewQueue"]
    assert any(q.endswith(".fifo") for q in mine)
    assert {"FnNewQueue", "FnNewQueuePolicy", "OldPolicy"} <= set(cfn["Resources"])


# ---------------------------------------------------------------------------------------------- schema registry

SCHEMA_REGISTRY = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: s3://code/app.zip
      Events:
        Stream:
          Type: MSK
          Properties:
            StartingPosition: LATEST
            Stream: !Sub arn:${AWS::Partition}:kafka:${AWS::Region}:111122223333:cluster/c/1
            Topics: [orders]
            SchemaRegistryConfig:
              SchemaRegistryURI: !Sub arn:${AWS::Partition}:glue:${AWS::Region}:111122223333:registry/orders
              EventRecordFormat: JSON
              SchemaValidationConfigs:
                - Attribute: VALUE
"""


def test_schema_registry_arn_with_pseudo_parameters_grants_glue_as_sam_does(offline: None) -> None:
    # the registry name was looked for in the ARN split at ":" before ${AWS::Partition} was resolved,
    # so the glue:GetRegistry / glue:GetSchemaVersion statements SAM writes were missing
    ours, theirs, _ = both(SCHEMA_REGISTRY)
    mine = statements(role(ours, "FnRole").identity_policies)
    assert mine == statements(role(theirs, "FnRole").identity_policies)
    assert (("Allow", ("glue:GetSchemaVersion",), (f"arn:aws:glue:{REGION}:{ACCOUNT}:schema/orders/*",), (), ())
            in mine)


# ---------------------------------------------------------------------------------------------- state machine alias

STATE_MACHINE_ALIAS = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
      Policies: []
      AutoPublishAlias: live
      UseAliasAsEventTarget: true
      Events:
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
"""


def test_state_machine_events_start_the_alias_when_sam_targets_it(offline: None) -> None:
    ours, _, cfn = both(STATE_MACHINE_ALIAS)
    # SAM: Resource {"Ref": "FlowAliaslive"}, the StateMachineAlias named live (its Ref is its ARN)
    sam_role = cfn["Resources"]["FlowNightlyRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert sam_role["Statement"][0]["Resource"] == {"Ref": "FlowAliaslive"}
    assert cfn["Resources"]["FlowAliaslive"]["Properties"]["Name"] == "live"
    [(effect, actions, resources, _, _)] = statements(role(ours, "FlowNightlyRole").identity_policies)
    assert actions == ("states:StartExecution",)
    assert resources[0].startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:") \
        and resources[0].endswith(":live")


# ---------------------------------------------------------------------------------------------- S3 and SNS events

S3_SNS = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  Topic:
    Type: AWS::SNS::Topic
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: s3://code/app.zip
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
        Notice:
          Type: SNS
          Properties:
            Topic: !Ref Topic
"""


def test_s3_and_sns_events_give_the_lambda_permissions_sam_gives(offline: None) -> None:
    ours, theirs, cfn = both(S3_SNS)
    mine = resource_policies(ours, "AWS::Lambda::Permission")
    assert mine == resource_policies(theirs, "AWS::Lambda::Permission")
    [granted] = mine.values()
    # S3 from this account (SourceAccount), SNS from this topic (SourceArn)
    assert sorted((p[0][1][0], [c[:2] for c in cs]) for (_, _, _, p, cs) in granted) == [
        ("s3.amazonaws.com", [("StringEquals", "aws:SourceAccount")]),
        ("sns.amazonaws.com", [("ArnLike", "aws:SourceArn")])]
    assert {r.id for r in ours.resources if r.type == "AWS::Lambda::Permission"} == \
        {k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Permission"} == \
        {"FnUploadPermission", "FnNoticePermission"}
