"""Tests for iamgate.sources.cloudformation.sam: the SAM transform as far as IAM goes.

Two kinds of tests: SAM's own translator test inputs compared with SAM's expected CloudFormation
outputs (from the shared corpus; skipped when it is absent), and small inline templates for each
construct, including the line every generated node carries.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from iamgate.sources.cloudformation.intrinsics import Resolver, Settings
from iamgate.sources.cloudformation.loader import LDict, LList, LStr, line_of, load_template_text
from iamgate.sources.cloudformation.sam import SamResult, expand, is_sam_template, policy_templates
from iamgate.sources.values import Unknown

CORPUS = Path("/work/shared/corpus/sam")
SAM_TESTS = CORPUS / "serverless-application-model" / "tests" / "translator"
MISSING_TRANSFORM = "need 'Transform: AWS::Serverless-2016-10-31'"


def sam(text: str) -> SamResult:
    return expand(load_template_text(text))


def plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


def resources(result: SamResult) -> Dict[str, Any]:
    return result.template["Resources"]


def props(result: SamResult, logical: str) -> Dict[str, Any]:
    return resources(result)[logical]["Properties"]


def messages(result: SamResult) -> List[str]:
    return [m for m, _ in result.problems]


def pf(path: str) -> Dict[str, str]:
    """A managed policy ARN as iamgate writes it (the partition stays an intrinsic, as in SAM's source)."""
    return {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/" + path}


def find_policy(role_props: Dict[str, Any], name: str) -> Dict[str, Any]:
    for p in role_props.get("Policies", []):
        if isinstance(p, dict) and p.get("PolicyName") == name:
            return p
    raise AssertionError(f"no inline policy {name}: {[p.get('PolicyName') for p in role_props.get('Policies', [])]}")


def walk(value: Any):
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


# ---------------------------------------------------------------------------------------------- corpus


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    return CORPUS


def _normalize(value: Any) -> Any:
    """Make iamgate's expansion comparable with SAM's expected output.

    - SAM writes AWS managed policy ARNs with the partition of the region it ran in
      (``arn:aws:iam::aws:policy/…``, the expected outputs were made in ``aws``); iamgate keeps the
      partition as ``{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/…"}`` for the resolver.
      That Fn::Sub is rewritten to SAM's literal ``aws`` form. Every other intrinsic (including the
      ``${AWS::Partition}`` inside policy-template Fn::Subs, which SAM keeps too) is compared as is.
    """
    if isinstance(value, dict):
        sub = value.get("Fn::Sub") if len(value) == 1 else None
        if isinstance(sub, str) and sub.startswith("arn:${AWS::Partition}:iam::aws:policy/"):
            return sub.replace("${AWS::Partition}", "aws", 1)
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def _iam_parts(template_resources: Dict[str, Any]) -> Dict[str, Any]:
    """The IAM part of a template: roles (trust, managed ARNs as a set — SAM's test outputs do not
    keep SAM's order —, inline policies by name, boundary, path) and managed policies (document, roles)."""
    out: Dict[str, Any] = {}
    for logical, res in _normalize(plain(template_resources)).items():
        rtype, p = res.get("Type"), res.get("Properties", {})
        if rtype == "AWS::IAM::Role":
            out[logical] = {
                "Type": rtype, "Condition": res.get("Condition"),
                "Trust": p.get("AssumeRolePolicyDocument"),
                "ManagedPolicyArns": sorted(json.dumps(a, sort_keys=True) for a in p.get("ManagedPolicyArns", [])),
                "Policies": p.get("Policies"),
                "PermissionsBoundary": p.get("PermissionsBoundary"), "Path": p.get("Path"),
            }
        elif rtype == "AWS::IAM::ManagedPolicy":
            out[logical] = {"Type": rtype, "PolicyDocument": p.get("PolicyDocument"), "Roles": p.get("Roles")}
    return out


def _actions(policies: Optional[List[Any]]) -> Dict[str, List[Any]]:
    """PolicyName -> the Action of each statement (an Fn::If entry keyed by its first branch's name)."""
    out: Dict[str, List[Any]] = {}
    for p in policies or []:
        branches = p["Fn::If"][1:] if "Fn::If" in p else [p]
        for i, b in enumerate(branches):
            if isinstance(b, dict) and "PolicyDocument" in b:
                statements = b["PolicyDocument"]["Statement"]
                statements = statements if isinstance(statements, list) else [statements]
                out[f"{b['PolicyName']}#{i}"] = [s.get("Action") for s in statements]
    return out


@pytest.mark.parametrize("name", ["function_with_policy_templates", "function_with_conditional_policy_template",
                                  "connector_function_to_table", "all_policy_templates"])
def test_matches_sam_expected_output(corpus: Path, name: str) -> None:
    text = (SAM_TESTS / "input" / f"{name}.yaml").read_text(encoding="utf-8")
    expected = json.loads((SAM_TESTS / "output" / f"{name}.json").read_text(encoding="utf-8"))
    result = sam(text)
    # SAM's test inputs carry no Transform line; that is the only problem expected
    assert [m for m in messages(result) if MISSING_TRANSFORM not in m] == []
    mine, theirs = _iam_parts(resources(result)), _iam_parts(expected["Resources"])
    assert sorted(mine) == sorted(theirs)  # the same roles and managed policies, by logical id
    for logical in theirs:
        if theirs[logical]["Type"] == "AWS::IAM::Role":
            assert mine[logical]["ManagedPolicyArns"] == theirs[logical]["ManagedPolicyArns"], logical
            assert _actions(mine[logical]["Policies"]) == _actions(theirs[logical]["Policies"]), logical
        # and everything else structurally: trust, policy documents with their intrinsics, roles
        assert mine[logical] == theirs[logical], logical


def test_every_corpus_file_expands(corpus: Path) -> None:
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))
    assert files
    for path in files:
        data = load_template_text(path.read_text(encoding="utf-8"))
        before = copy.deepcopy(plain(data))
        result = expand(data)
        assert isinstance(result.template, LDict), path
        assert plain(data) == before, f"{path}: the input was modified"
        generated = resources(result) if isinstance(result.template.get("Resources"), dict) else {}
        assert not any(str(r.get("Type", "")).startswith("AWS::Serverless::Function")
                       for r in generated.values() if isinstance(r, dict)), path


def test_corpus_problems_are_sams_errors(corpus: Path) -> None:
    # SAM rejects this input ("Policy at index 1 in the 'Policies' property is not valid")
    text = (SAM_TESTS / "input" / "error_function_with_invalid_policy_statement.yaml").read_text(encoding="utf-8")
    result = sam(text)
    problems = [p for p in result.problems if MISSING_TRANSFORM not in p[0]]
    assert len(problems) == 1 and "Policies[1] is not valid" in problems[0][0] and problems[0][1] == 14
    # the valid entry is still expanded
    assert pf("service-role/AWSLambdaRole") in props(result, "UnknownTemplateRole")["ManagedPolicyArns"]


def test_corpus_conditional_role(corpus: Path) -> None:
    text = (SAM_TESTS / "input" / "function_with_conditional_iam_role_if.yaml").read_text(encoding="utf-8")
    result = sam(text)
    role = resources(result)["MinimalFunctionRole"]
    assert role["Condition"] == "NOTRoleExists"
    assert plain(result.template["Conditions"]["NOTRoleExists"]) == {"Fn::Not": [{"Condition": "RoleExists"}]}
    assert plain(props(result, "MinimalFunction")["Role"]) == {
        "Fn::If": ["RoleExists", {"Ref": "iamRoleArn"}, {"Fn::GetAtt": ["MinimalFunctionRole", "Arn"]}]}


# ---------------------------------------------------------------------------------------------- inline

POLICIES = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  BucketParam: {Type: String, Default: my-bucket}
Conditions:
  IsProd: !Equals [prod, prod]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: s3://code/app.zip
      Policies:
        - AmazonS3ReadOnlyAccess
        - arn:aws:iam::111122223333:policy/Custom
        - !Ref ManagedParam
        - Statement:
            - Effect: Allow
              Action: kms:Decrypt
              Resource: '*'
        - S3ReadPolicy:
            BucketName: !Ref BucketParam
        - !If [IsProd, {DynamoDBCrudPolicy: {TableName: orders}}, !Ref AWS::NoValue]
        - !If [IsProd, AWSLambdaExecute, !Ref AWS::NoValue]
        - AWSLambdaBasicExecutionRole
"""


def test_function_policies_every_form() -> None:
    result = sam(POLICIES)
    assert result.problems == ()
    fn = resources(result)["Fn"]
    assert fn["Type"] == "AWS::Lambda::Function"
    assert plain(fn["Properties"]["Role"]) == {"Fn::GetAtt": ["FnRole", "Arn"]}
    assert plain(fn["Properties"]["Code"]) == {"S3Bucket": "code", "S3Key": "app.zip"}
    role = resources(result)["FnRole"]
    assert role["Type"] == "AWS::IAM::Role"
    p = plain(role["Properties"])
    assert p["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": ["lambda.amazonaws.com"]}
    # the basic execution role first; a name becomes its ARN with the right path; duplicates go
    assert p["ManagedPolicyArns"] == [
        pf("service-role/AWSLambdaBasicExecutionRole"), pf("AmazonS3ReadOnlyAccess"),
        "arn:aws:iam::111122223333:policy/Custom", {"Ref": "ManagedParam"},
        {"Fn::If": ["IsProd", pf("AWSLambdaExecute"), {"Ref": "AWS::NoValue"}]}]
    assert p["Tags"] == [{"Key": "lambda:createdBy", "Value": "SAM"}]
    # inline documents are named <Role>Policy<index in Policies>
    assert [x.get("PolicyName", "Fn::If") for x in p["Policies"]] == ["FnRolePolicy3", "FnRolePolicy4", "Fn::If"]
    assert find_policy(p, "FnRolePolicy3")["PolicyDocument"]["Statement"][0]["Action"] == "kms:Decrypt"
    # a policy template: its parameter replaced by the given value (an intrinsic, kept for the resolver)
    s3 = find_policy(p, "FnRolePolicy4")["PolicyDocument"]["Statement"][0]
    assert "s3:GetObject" in s3["Action"]
    assert s3["Resource"][0] == {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${bucketName}",
                                             {"bucketName": {"Ref": "BucketParam"}}]}
    # Fn::If around a template: kept around the generated policy
    cond = p["Policies"][2]["Fn::If"]
    assert cond[0] == "IsProd" and cond[2] == {"Ref": "AWS::NoValue"}
    assert cond[1]["PolicyName"] == "FnRolePolicy5"
    assert "dynamodb:PutItem" in cond[1]["PolicyDocument"]["Statement"][0]["Action"]
    assert result.aliases == {"FnRole": ("Fn",)}


def test_policy_template_resolves_with_the_resolver() -> None:
    result = sam(POLICIES)
    template = result.template
    resolver = Resolver(template, Settings(account="111122223333"), lambda name: Unknown(f"Ref {name}"),
                        lambda name, attr: Unknown(f"{name}.{attr}"))
    p = find_policy(props(result, "FnRole"), "FnRolePolicy4")
    assert resolver.resolve(p["PolicyDocument"]["Statement"][0]["Resource"]) == [
        "arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*"]
    assert resolver.resolve(props(result, "FnRole")["ManagedPolicyArns"][1]) == \
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


@pytest.mark.parametrize("policies, managed, inline", [
    ("AmazonDynamoDBReadOnlyAccess", [pf("AmazonDynamoDBReadOnlyAccess")], []),
    ("{Statement: [{Effect: Allow, Action: 'sqs:*', Resource: '*'}]}", [], ["FnRolePolicy0"]),
    ("{SQSPollerPolicy: {QueueName: q}}", [], ["FnRolePolicy0"]),
    ("[]", [], []),
])
def test_function_policies_single_forms(policies: str, managed: List[Any], inline: List[str]) -> None:
    result = sam(f"""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      Policies: {policies}
""")
    assert result.problems == ()
    p = plain(props(result, "FnRole"))
    assert p["ManagedPolicyArns"] == [pf("service-role/AWSLambdaBasicExecutionRole")] + managed
    assert [x["PolicyName"] for x in p.get("Policies", [])] == inline


def test_tracing_vpc_boundary_path_tags_and_globals() -> None:
    result = sam("""\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Tracing: Active
    Tags: {team: payments}
    PermissionsBoundary: arn:aws:iam::111122223333:policy/boundary
    Environment: {Variables: {A: "1"}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      VpcConfig: {SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}
      RolePath: /app/
      Tags: {svc: billing}
      Environment: {Variables: {B: "2"}}
  Untraced:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [Tracing]
    Properties:
      InlineCode: x
  Disabled:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      Tracing: Disabled
""")
    assert result.problems == ()
    p = plain(props(result, "FnRole"))
    assert p["ManagedPolicyArns"] == [pf("service-role/AWSLambdaBasicExecutionRole"), pf("AWSXrayWriteOnlyAccess"),
                                      pf("service-role/AWSLambdaVPCAccessExecutionRole")]
    assert p["PermissionsBoundary"] == "arn:aws:iam::111122223333:policy/boundary"
    assert p["Path"] == "/app/"
    assert p["Tags"] == [{"Key": "lambda:createdBy", "Value": "SAM"}, {"Key": "team", "Value": "payments"},
                         {"Key": "svc", "Value": "billing"}]
    # Globals dicts merge key by key
    assert plain(props(result, "Fn")["Environment"]) == {"Variables": {"A": "1", "B": "2"}}
    assert plain(props(result, "Fn")["TracingConfig"]) == {"Mode": "Active"}
    assert pf("AWSXrayWriteOnlyAccess") not in plain(props(result, "UntracedRole")["ManagedPolicyArns"])
    assert pf("AWSXrayWriteOnlyAccess") not in plain(props(result, "DisabledRole")["ManagedPolicyArns"])
    assert "PermissionsBoundary" in props(result, "UntracedRole")  # only Tracing was ignored


def test_globals_policies_are_not_allowed() -> None:
    result = sam("""\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Policies: [AmazonS3ReadOnlyAccess]
    Timeout: 10
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {InlineCode: x}
""")
    assert len(result.problems) == 1
    message, line = result.problems[0]
    assert "'Policies' is not a supported property of 'Function'" in message and line == 4
    assert pf("AmazonS3ReadOnlyAccess") not in plain(props(result, "FnRole")["ManagedPolicyArns"])
    assert props(result, "Fn")["Timeout"] == 10  # the rest of Globals applies
    assert "Globals" not in result.template


def test_role_given_generates_nothing() -> None:
    result = sam("""\
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Resources:
  Shared:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      Role: !GetAtt Shared.Arn
      Policies: [AmazonS3FullAccess]
      Events:
        Q: {Type: SQS, Properties: {Queue: arn:aws:sqs:us-east-1:111122223333:q}}
  Other:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      Role: arn:aws:iam::111122223333:role/external
""")
    assert "FnRole" not in resources(result) and "OtherRole" not in resources(result)
    assert plain(props(result, "Fn")["Role"]) == {"Fn::GetAtt": ["Shared", "Arn"]}
    assert props(result, "Other")["Role"] == "arn:aws:iam::111122223333:role/external"
    assert resources(result)["Shared"]["Type"] == "AWS::IAM::Role"  # the template's role, untouched
    assert len(result.problems) == 1 and "'Policies' is ignored because 'Role' is given" in result.problems[0][0]
    assert result.problems[0][1] == 12
    assert result.aliases == {"Shared": ("Fn",)}
    assert result.template["Transform"] == ["AWS::LanguageExtensions"]


def test_event_sources_and_dead_letter_queue() -> None:
    result = sam("""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Topic: {Type: AWS::SNS::Topic}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Queue.Arn}
      Events:
        FromQueue:
          Type: SQS
          Properties: {Queue: !GetAtt Queue.Arn}
        FromStream:
          Type: Kinesis
          Properties:
            Stream: arn:aws:kinesis:us-east-1:111122223333:stream/s
            StartingPosition: LATEST
            DestinationConfig: {OnFailure: {Type: SNS, Destination: !Ref Topic}}
        FromTable:
          Type: DynamoDB
          Properties: {Stream: arn:aws:dynamodb:us-east-1:111122223333:table/t/stream/x, StartingPosition: LATEST}
""")
    assert result.problems == ()
    p = plain(props(result, "FnRole"))
    assert p["ManagedPolicyArns"] == [pf("service-role/AWSLambdaBasicExecutionRole"),
                                      pf("service-role/AWSLambdaSQSQueueExecutionRole"),
                                      pf("service-role/AWSLambdaKinesisExecutionRole"),
                                      pf("service-role/AWSLambdaDynamoDBExecutionRole")]
    dlq = find_policy(p, "DeadLetterQueuePolicy")["PolicyDocument"]["Statement"][0]
    assert dlq == {"Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}, "Effect": "Allow"}
    on_failure = find_policy(p, "FnFromStreamSNSPolicy")["PolicyDocument"]["Statement"][0]
    assert on_failure["Resource"] == {"Ref": "Topic"}


STATE_MACHINE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties: {InlineCode: x}
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: orders
      DefinitionUri: s3://defs/flow.json
      Tracing: {Enabled: true}
      Policies:
        - LambdaInvokePolicy:
            FunctionName: !Ref Worker
        - AWSStepFunctionsReadOnlyAccess
      Events:
        Nightly:
          Type: Schedule
          Properties: {Schedule: rate(1 day)}
  Fixed:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
      Role: arn:aws:iam::111122223333:role/sfn
      Policies: [AmazonS3ReadOnlyAccess]
"""


def test_state_machine() -> None:
    result = sam(STATE_MACHINE)
    flow = resources(result)["Flow"]
    assert flow["Type"] == "AWS::StepFunctions::StateMachine"
    assert plain(flow["Properties"]["RoleArn"]) == {"Fn::GetAtt": ["FlowRole", "Arn"]}
    assert flow["Properties"]["StateMachineName"] == "orders"
    p = plain(props(result, "FlowRole"))
    assert p["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": ["states.amazonaws.com"]}
    assert p["ManagedPolicyArns"] == [pf("AWSStepFunctionsReadOnlyAccess"), pf("AWSXrayWriteOnlyAccess")]
    invoke = find_policy(p, "FlowRolePolicy0")["PolicyDocument"]["Statement"][0]
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert invoke["Resource"]["Fn::Sub"][1] == {"functionName": {"Ref": "Worker"}}
    assert p["Tags"] == [{"Key": "stateMachine:createdBy", "Value": "SAM"}]
    # the role EventBridge assumes to start the execution
    events_role = plain(props(result, "FlowNightlyRole"))
    assert events_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": ["events.amazonaws.com"]}
    assert events_role["Policies"][0]["PolicyDocument"]["Statement"][0] == {
        "Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": "Flow"}}
    # Role and Policies together: SAM rejects it; the given role is used
    assert "FixedRole" not in resources(result)
    assert props(result, "Fixed")["RoleArn"] == "arn:aws:iam::111122223333:role/sfn"
    assert [m for m in messages(result) if "Fixed" in m and "either 'Role' or 'Policies'" in m]
    assert result.aliases == {"WorkerRole": ("Worker",), "FlowRole": ("Flow",)}


def test_simple_table() -> None:
    result = sam("""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::Serverless::SimpleTable
    Properties:
      TableName: !Sub ${AWS::StackName}-orders
      PrimaryKey: {Name: orderId, Type: Number}
  Plain:
    Type: AWS::Serverless::SimpleTable
""")
    assert result.problems == ()
    table = resources(result)["Table"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert plain(table["Properties"]) == {
        "AttributeDefinitions": [{"AttributeName": "orderId", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "orderId", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST", "TableName": {"Fn::Sub": "${AWS::StackName}-orders"}}
    assert plain(props(result, "Plain"))["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


CONNECTORS = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::Serverless::SimpleTable
  Topic: {Type: AWS::SNS::Topic}
  Queue: {Type: AWS::SQS::Queue}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {InlineCode: x}
    Connectors:
      ToQueue:
        Properties:
          Destination: {Id: Queue}
          Permissions: [Write]
  FnToTable:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Fn}
      Destination: {Id: Table}
      Permissions:
        - Read
        - Write
  TopicToQueue:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Topic}
      Destination: {Id: Queue}
      Permissions: [Write]
  Rule:
    Type: AWS::Events::Rule
    Properties: {EventPattern: {source: [app]}, Targets: [{Id: fn, Arn: !GetAtt Fn.Arn}]}
  RuleToFn:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Rule}
      Destination: {Id: Fn}
      Permissions: [Write]
"""


def test_connectors() -> None:
    result = sam(CONNECTORS)
    assert result.problems == ()
    res = resources(result)
    assert "FnToTable" not in res and "RuleToFn" not in res  # replaced by what they generate
    policy = res["FnToTablePolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert plain(policy["Properties"]["Roles"]) == [{"Ref": "FnRole"}]
    read, write = plain(policy["Properties"]["PolicyDocument"]["Statement"])
    assert "dynamodb:GetItem" in read["Action"] and "dynamodb:PutItem" in write["Action"]
    assert read["Resource"] == [{"Fn::GetAtt": ["Table", "Arn"]},
                                {"Fn::Sub": ["${DestinationArn}/index/*",
                                             {"DestinationArn": {"Fn::GetAtt": ["Table", "Arn"]}}]}]
    assert plain(policy["Metadata"])["aws:sam:connectors"]["FnToTable"] == {
        "Source": {"Type": "AWS::Serverless::Function"}, "Destination": {"Type": "AWS::Serverless::SimpleTable"}}
    # embedded connector: <Source><Name>
    embedded = plain(props(result, "FnToQueuePolicy"))
    assert embedded["Roles"] == [{"Ref": "FnRole"}]
    assert "sqs:SendMessage" in embedded["PolicyDocument"]["Statement"][0]["Action"]
    assert "Connectors" not in res["Fn"]
    # resource-policy connectors
    queue_policy = res["TopicToQueueQueuePolicy"]
    assert queue_policy["Type"] == "AWS::SQS::QueuePolicy"
    qp = plain(queue_policy["Properties"])
    assert qp["Queues"] == [{"Ref": "Queue"}]
    assert qp["PolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}
    assert qp["PolicyDocument"]["Statement"][0]["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "Topic"}}}
    permission = res["RuleToFnWriteLambdaPermission"]
    assert permission["Type"] == "AWS::Lambda::Permission"
    assert plain(permission["Properties"]) == {"Action": "lambda:InvokeFunction",
                                               "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                                               "Principal": "events.amazonaws.com",
                                               "SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]}}


def test_connector_problems() -> None:
    result = sam("""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {InlineCode: x, Role: arn:aws:iam::111122223333:role/r}
  Queue: {Type: AWS::SQS::Queue}
  NoRole:
    Type: AWS::Serverless::Connector
    Properties: {Source: {Id: Fn}, Destination: {Id: Queue}, Permissions: [Read]}
  BadPermission:
    Type: AWS::Serverless::Connector
    Properties: {Source: {Id: Queue}, Destination: {Id: Fn}, Permissions: [Delete]}
  Missing:
    Type: AWS::Serverless::Connector
    Properties: {Source: {Id: Fn}, Destination: {Id: Nope}, Permissions: [Read]}
""")
    text = messages(result)
    assert any("NoRole: unable to get IAM role name from 'Source'" in m for m in text)
    assert any("BadPermission: unsupported 'Permissions' ['Delete']" in m for m in text)
    assert any("Missing: unable to find resource with logical ID 'Nope'" in m for m in text)
    assert not any(k.startswith(("NoRole", "BadPermission", "Missing")) for k in resources(result))


def test_api_resource_policy() -> None:
    result = sam("""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        ResourcePolicy:
          AwsAccountWhitelist: ['111122223333']
          CustomStatements:
            - {Effect: Deny, Principal: '*', Action: execute-api:Invoke, Resource: execute-api:/*/DELETE/*}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      Events:
        Get:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: '/orders/{id}', Method: get}
""")
    assert result.problems == ()
    api = resources(result)["Api"]
    assert api["Type"] == "AWS::ApiGateway::RestApi"
    policy = plain(api["Properties"]["Policy"])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Principal": {"AWS": ["111122223333"]},
         "Resource": [{"Fn::Sub": ["execute-api:/${__Stage__}/GET/orders/*", {"__Stage__": "prod"}]}]},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/DELETE/*"}]


def test_lines_of_generated_nodes() -> None:
    text = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      Tracing: Active
      Policies:
        - AmazonS3ReadOnlyAccess
        - S3CrudPolicy:
            BucketName: my-bucket
        - Statement:
            - Effect: Allow
              Action: kms:Decrypt
              Resource: '*'
  Conn:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Fn}
      Destination: {Id: Queue}
      Permissions:
        - Write
  Queue: {Type: AWS::SQS::Queue}
"""
    result = sam(text)
    assert result.problems == ()
    fn_line = 4  # the function's mapping starts at its Type line
    role = resources(result)["FnRole"]
    assert line_of(role) == fn_line
    assert line_of(role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]) == fn_line
    managed = role["Properties"]["ManagedPolicyArns"]
    assert [line_of(m) for m in managed] == [fn_line, 7, 9]  # basic; Tracing; the Policies entry
    template_policy, inline_policy = role["Properties"]["Policies"]
    assert line_of(template_policy) == 10
    for statement in template_policy["PolicyDocument"]["Statement"]:
        assert line_of(statement) == 10
        # everything generated from the template has the entry's line; the value given for the
        # template parameter (``my-bucket``, line 11) keeps its own
        lines = {line_of(n) for n in walk(statement) if isinstance(n, (dict, list, str))}
        assert lines <= {10, 11}
    assert line_of(template_policy["PolicyDocument"]["Statement"][0]["Resource"][0]["Fn::Sub"][1]["bucketName"]) == 11
    assert line_of(inline_policy["PolicyDocument"]["Statement"][0]) == 13  # the user's own statement
    assert line_of(inline_policy["PolicyDocument"]["Statement"][0]["Action"]) == 14
    conn = resources(result)["ConnPolicy"]
    assert line_of(conn) == 17
    assert line_of(conn["Properties"]["PolicyDocument"]["Statement"][0]) == 22  # its Permissions entry
    # every node of the new template is an L-type with a line
    for node in walk(result.template["Resources"]):
        if isinstance(node, (dict, list, str)):
            assert isinstance(node, (LDict, LList, LStr)), repr(node)
            assert line_of(node), repr(node)


@pytest.mark.parametrize("policies, expected, line", [
    ("- S3ReedPolicy: {BucketName: b}", "unknown SAM policy template 'S3ReedPolicy' in Policies[0]; did you mean "
                                        "'S3ReadPolicy'?", 9),
    ("- S3ReadPolicy: {}", "policy template 'S3ReadPolicy' is missing parameter BucketName", 9),
    ("- S3ReadPolicy: my-bucket", "policy template 'S3ReadPolicy' needs a map of parameter values (BucketName)", 9),
    ("- PolicyName: p\n          PolicyDocument: {}", "Policies[0] is not valid", 9),
    ("- !If [C, AmazonS3ReadOnlyAccess, {Statement: []}]", "different policy types within the same Fn::If", 9),
    ("- NotAPolicy", "'NotAPolicy' in Policies is neither an AWS managed policy name nor an ARN", 9),
])
def test_malformed_policies_are_reported(policies: str, expected: str, line: int) -> None:
    result = sam(f"""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: x
      AutoPublishAlias: live
      Policies:
        {policies}
""")
    assert len(result.problems) == 1, result.problems
    message, where = result.problems[0]
    assert expected in message and message.startswith("Fn: ")
    assert where == line
    assert "FnRole" in resources(result)  # the rest is still expanded


@pytest.mark.parametrize("text", [
    "Resources: []",
    "Resources: {X: 1, Y: [1], Z: {Type: AWS::Serverless::Function, Properties: 3}}",
    "Transform: AWS::Serverless-2016-10-31\nGlobals: [1]\nResources: {F: {Type: AWS::Serverless::Function}}",
    "Globals: {Function: {Tracing: [1]}}\nResources: {F: {Type: AWS::Serverless::Function, Properties: "
    "{Tracing: {a: 1}, Policies: {Fn::If: [1]}, Events: {E: {Type: SQS}, G: 3}, DeadLetterQueue: 1}}}",
    "Resources: {F: {Type: AWS::Serverless::Function, Properties: {Role: {Fn::If: [C]}, Policies: [[1], 2, {}]}}}",
    "Resources: {S: {Type: AWS::Serverless::StateMachine, Properties: {Policies: {Statement: 1}, Events: 1}}}",
    "Resources: {A: {Type: AWS::Serverless::Api, Properties: {Auth: {ResourcePolicy: [1]}}},"
    " F: {Type: AWS::Serverless::Function, Properties: {Events: {E: {Type: Api, Properties: {Path: 1}}}}}}",
    "Resources: {C: {Type: AWS::Serverless::Connector, Properties: {Source: 1, Destination: [], Permissions: 1}},"
    " D: {Type: AWS::Serverless::Connector, Properties: {Source: {Id: D}, Destination: [{Id: D}], "
    "Permissions: [Read]}}, E: {Type: AWS::SQS::Queue, Connectors: [1]}}",
    "Resources: {T: {Type: AWS::Serverless::SimpleTable, Properties: {PrimaryKey: {Name: a, Type: Bad}}}}",
])
def test_never_raises_on_bad_input(text: str) -> None:
    result = expand(load_template_text(text))
    assert isinstance(result, SamResult)
    for message, line in result.problems:
        assert isinstance(message, str) and (line is None or isinstance(line, int))


def test_not_a_template() -> None:
    assert expand([1, 2]).problems  # type: ignore[arg-type]


def test_input_is_not_modified_and_plain_templates_pass_through() -> None:
    data = load_template_text(CONNECTORS)
    before = copy.deepcopy(plain(data))
    expand(data)
    assert plain(data) == before
    cfn = load_template_text("Resources: {Q: {Type: AWS::SQS::Queue}}\nOutputs: {A: {Value: !Ref Q}}")
    result = expand(cfn)
    assert plain(result.template) == plain(cfn) and result.problems == () and result.aliases == {}


def test_is_sam_template_and_data() -> None:
    assert is_sam_template({"Transform": "AWS::Serverless-2016-10-31"})
    assert is_sam_template({"Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]})
    assert not is_sam_template({"Transform": "AWS::LanguageExtensions"})
    templates = policy_templates()
    assert templates is not None and "S3ReadPolicy" in templates and len(templates) > 50


def test_sam_problems_carry_their_rule_and_the_registry_gives_the_severity(tmp_path):
    from iamgate.model import Settings
    from iamgate.pipeline import read_scope
    (tmp_path / "app.yaml").write_text(
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        "      CodeUri: src/\n"
        "      Policies:\n"
        "        - NoSuchPolicyTemplate: {}\n", encoding="utf-8")
    problems = read_scope([str(tmp_path)], None, Settings(account="111122223333")).problems
    by_rule = {f.rule: f for f in problems if f.rule in ("IG0003", "IG0004")}
    assert by_rule["IG0003"].severity == "warning" and "need 'Transform" in by_rule["IG0003"].message
    assert by_rule["IG0004"].severity == "error" and "NoSuchPolicyTemplate" in by_rule["IG0004"].message
    assert by_rule["IG0003"].location.line == 3
