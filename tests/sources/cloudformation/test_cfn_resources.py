"""Inventory.resources from CloudFormation and SAM templates: every resource that exists, its ARN,
its resolved properties with references to other resources kept as ResourceRef, its line."""
from pathlib import Path

import pytest

from iamgate.model import Location, ResourceRef
from iamgate.sources import ReadOptions
from iamgate.sources.cloudformation import read

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus"
ACCOUNT = "111122223333"
OPTS = ReadOptions(account=ACCOUNT, region="eu-west-1")


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the one line that is ``needle`` (stripped)."""
    [found] = [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == needle]
    return found


def by_id(inv):
    resources = {r.id: r for r in inv.resources}
    assert len(resources) == len(inv.resources), [r.id for r in inv.resources]
    return resources


# ------------------------------------------------------------------------------------ the example


def test_the_shipped_example_lists_every_resource_with_arn_line_and_references():
    path = "examples/cloudformation/orders-stack.yaml"
    text = (ROOT / path).read_text()
    inv = read(path, text, ReadOptions(account=ACCOUNT, region="eu-west-1", parameters={"Env": "prod"}))
    assert [(r.id, r.type) for r in inv.resources] == [
        ("InvoicesBucket", "AWS::S3::Bucket"), ("InvoicesBucketPolicy", "AWS::S3::BucketPolicy"),
        ("JobsQueue", "AWS::SQS::Queue"), ("EventsTopic", "AWS::SNS::Topic"), ("InvoicesKey", "AWS::KMS::Key"),
        ("WorkerBoundary", "AWS::IAM::ManagedPolicy"), ("WorkerRole", "AWS::IAM::Role"),
        ("JobsSubscription", "AWS::SNS::Subscription")]
    res = by_id(inv)
    for r in inv.resources:
        assert r.location == Location(path, line_of(text, f"{r.id}:"))

    bucket_arn = "arn:aws:s3:::invoices-prod-111122223333"
    queue_arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders-stack-JobsQueue-C46EF90E4E96"
    assert res["InvoicesBucket"].arn == bucket_arn
    assert res["InvoicesBucket"].properties == {"BucketName": "invoices-prod-111122223333"}
    assert res["JobsQueue"].arn == queue_arn
    assert res["EventsTopic"].arn == f"arn:aws:sns:eu-west-1:{ACCOUNT}:orders-stack-EventsTopic-1EFEE2998E0B"
    assert res["WorkerRole"].arn == f"arn:aws:iam::{ACCOUNT}:role/orders-worker-prod"
    assert res["InvoicesBucketPolicy"].arn is None  # a bucket policy has no ARN

    # the same ARNs the references report (what a manifest's ${JobsQueue.Arn} resolves to)
    refs = dict(inv.references)
    assert refs["JobsQueue.Arn"] == queue_arn and refs["InvoicesBucket.Arn"] == bucket_arn

    policy = res["InvoicesBucketPolicy"].properties
    assert policy["Bucket"] == ResourceRef("InvoicesBucket", None, "invoices-prod-111122223333")
    [deny] = policy["PolicyDocument"]["Statement"]
    # !GetAtt is kept as a reference; a !Sub over it is plain text
    assert deny["Resource"] == [ResourceRef("InvoicesBucket", "Arn", bucket_arn), bucket_arn + "/*"]

    role = res["WorkerRole"].properties
    assert role["RoleName"] == "orders-worker-prod"
    boundary_arn = res["WorkerBoundary"].arn
    assert boundary_arn == f"arn:aws:iam::{ACCOUNT}:policy/orders-stack-WorkerBoundary-3CD8A85E59BA"
    assert role["PermissionsBoundary"] == ResourceRef("WorkerBoundary", None, boundary_arn)
    statements = {st["Sid"]: st for st in role["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["ConsumeJobs"]["Resource"] == ResourceRef("JobsQueue", "Arn", queue_arn)
    assert statements["ConsumeJobs"]["Action"] == ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    assert statements["EncryptInvoices"]["Resource"] == ResourceRef("InvoicesKey", "Arn", res["InvoicesKey"].arn)


# ------------------------------------------------------------------------------------ resolution

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: prod
  Subnet:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Equals [!Ref Env, dev]
  FromOutside: !Equals [!ImportValue shared-flag, "yes"]
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "jobs-${Env}"
  DeadLetters:
    Type: AWS::SQS::Queue
    Condition: IsDev
  Maybe:
    Type: AWS::SNS::Topic
    Condition: FromOutside
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Jobs.Arn
      FunctionName: !Ref Handler
      BatchSize: 10
      Enabled: true
      MaximumBatchingWindowInSeconds: !If [IsProd, 5, !Ref AWS::NoValue]
      DestinationConfig:
        OnFailure:
          Destination: !If [IsProd, !GetAtt Jobs.Arn, !GetAtt DeadLetters.Arn]
      Queues: [!Sub "${Jobs.QueueName}-copy", !ImportValue other-queue, !Ref Subnet, !Ref Env]
      Tags: !If [FromOutside, [{Key: a, Value: b}], []]
  Handler:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Missing.Arn
      Code: {ZipFile: "def handler(e, c): pass"}
"""


def test_properties_keep_references_and_resolve_the_rest():
    inv = read("stack.yaml", TEMPLATE, OPTS)
    # a false condition removes DeadLetters; an unknown one (an import) may keep Maybe, so it is listed
    assert [r.id for r in inv.resources] == ["Jobs", "Maybe", "Mapping", "Handler"]
    res = by_id(inv)
    queue_arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs-prod"
    fn_arn = res["Handler"].arn
    assert fn_arn is not None and fn_arn.startswith(f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:stack-Handler-")
    mapping = res["Mapping"]
    assert mapping.type == "AWS::Lambda::EventSourceMapping" and mapping.arn is None
    assert mapping.location == Location("stack.yaml", line_of(TEMPLATE, "Mapping:"))
    assert mapping.properties == {
        "EventSourceArn": ResourceRef("Jobs", "Arn", queue_arn),
        "FunctionName": ResourceRef("Handler", None, fn_arn.rsplit(":", 1)[1]),
        "BatchSize": 10,
        "Enabled": True,
        "MaximumBatchingWindowInSeconds": 5,               # Fn::If on a known condition
        "DestinationConfig": {"OnFailure": {"Destination": ResourceRef("Jobs", "Arn", queue_arn)}},
        # Sub text; an import without a value; a parameter without a default; a parameter's value
        "Queues": ["jobs-prod-copy", None, None, "prod"],
        "Tags": None,                                      # Fn::If on an unknown condition
    }
    # a reference to a resource the template does not have is no ResourceRef: it resolves to nothing
    assert res["Handler"].properties["Role"] is None


def test_what_cannot_be_known_is_none_in_arns_and_reference_values():
    inv = read("stack.yaml", TEMPLATE, ReadOptions(region="eu-west-1"))  # no account
    res = by_id(inv)
    assert res["Jobs"].arn is None
    assert res["Mapping"].properties["EventSourceArn"] == ResourceRef("Jobs", "Arn", None)
    assert res["Mapping"].properties["FunctionName"].value is not None  # a function's name needs no account


def test_dev_parameters_choose_the_other_branch_and_resources():
    inv = read("stack.yaml", TEMPLATE, ReadOptions(account=ACCOUNT, parameters={"Env": "dev"}))
    res = by_id(inv)
    assert "DeadLetters" in res
    mapping = res["Mapping"].properties
    assert "MaximumBatchingWindowInSeconds" not in mapping  # AWS::NoValue removes the property
    dlq = res["DeadLetters"].arn
    assert dlq is not None and dlq.startswith(f"arn:aws:sqs:us-east-1:{ACCOUNT}:stack-DeadLetters-")
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == ResourceRef("DeadLetters", "Arn", dlq)


def test_stackset_bodies_list_their_resources_under_the_stackset():
    template = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Baseline:
    Type: AWS::CloudFormation::StackSet
    Properties:
      StackSetName: baseline
      PermissionModel: SELF_MANAGED
      TemplateBody: |
        Resources:
          AuditBucket:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: audit-logs
          AuditPolicy:
            Type: AWS::S3::BucketPolicy
            Properties:
              Bucket: !Ref AuditBucket
              PolicyDocument:
                Statement:
                  - Effect: Deny
                    Principal: "*"
                    Action: s3:DeleteObject
                    Resource: !Sub "${AuditBucket.Arn}/*"
"""
    inv = read("stackset.yaml", template, OPTS)
    res = by_id(inv)
    assert list(res) == ["Baseline", "Baseline/AuditBucket", "Baseline/AuditPolicy"]
    assert res["Baseline/AuditBucket"].arn == "arn:aws:s3:::audit-logs"
    assert res["Baseline/AuditBucket"].location == Location("stackset.yaml", line_of(template, "AuditBucket:"))
    assert res["Baseline/AuditPolicy"].properties["Bucket"] == ResourceRef("Baseline/AuditBucket", None, "audit-logs")


# ------------------------------------------------------------------------------------ SAM

SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 30
Resources:
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: src/
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt JobsQueue.Arn
            BatchSize: 10
  Results:
    Type: AWS::Serverless::SimpleTable
  WorkerWritesResults:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Worker}
      Destination: {Id: Results}
      Permissions: [Write]
"""


def test_sam_resources_as_written_then_what_the_transform_generates():
    inv = read("worker/template.yaml", SAM, OPTS)
    assert [(r.id, r.type) for r in inv.resources] == [
        ("JobsQueue", "AWS::SQS::Queue"),
        ("Worker", "AWS::Serverless::Function"),
        ("Results", "AWS::Serverless::SimpleTable"),
        ("WorkerWritesResults", "AWS::Serverless::Connector"),
        ("WorkerRole", "AWS::IAM::Role"),
        ("WorkerWritesResultsPolicy", "AWS::IAM::ManagedPolicy"),
    ]
    res = by_id(inv)
    queue_arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
    worker = res["Worker"]
    # the function SAM deploys: its ARN, the SAM properties with Globals, the event's queue as a reference
    assert worker.arn is not None and worker.arn.startswith(f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:")
    assert worker.location == Location("worker/template.yaml", line_of(SAM, "Worker:"))
    assert worker.properties["Runtime"] == "python3.12" and worker.properties["Handler"] == "app.handler"
    event = worker.properties["Events"]["Jobs"]
    assert event == {"Type": "SQS", "Properties": {"Queue": ResourceRef("JobsQueue", "Arn", queue_arn),
                                                   "BatchSize": 10}}
    assert res["Results"].arn.startswith(f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/worker-Results-")  # stack: the folder
    assert res["WorkerWritesResults"].arn is None
    assert res["WorkerWritesResults"].properties["Source"] == {"Id": "Worker"}

    # the generated role: the SQS poller policy SAM adds for the event, at the function's line
    role = res["WorkerRole"]
    assert role.arn == inv.principals[0].arn and inv.principals[0].id == "WorkerRole"
    assert role.location == inv.principals[0].location
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole" in role.properties["ManagedPolicyArns"]
    assert role.properties["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": ["lambda.amazonaws.com"]}
    connector_policy = res["WorkerWritesResultsPolicy"].properties
    assert connector_policy["Roles"] == [ResourceRef("WorkerRole", None, role.arn.rsplit("/", 1)[1])]


def test_sam_conditions_apply_to_the_sam_resource_and_what_it_generates():
    template = SAM.replace("  Worker:\n    Type: AWS::Serverless::Function\n",
                           "  Worker:\n    Type: AWS::Serverless::Function\n    Condition: Never\n") \
        .replace("Resources:\n", 'Conditions:\n  Never: !Equals [a, b]\nResources:\n', 1) \
        .split("  WorkerWritesResults:")[0]
    inv = read("template.yaml", template, OPTS)
    assert [r.id for r in inv.resources] == ["JobsQueue", "Results"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_every_corpus_template_lists_resources_with_unique_ids():
    templates = [p for p in (CORPUS / "cfn").rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".template")]
    assert len(templates) >= 20
    listed = 0
    for path in templates:
        inv = read(str(path), path.read_text(encoding="utf-8", errors="replace"), OPTS)
        if inv is None:
            continue
        by_id(inv)
        listed += len(inv.resources)
        assert all(r.location is not None and r.location.line for r in inv.resources), path
    assert listed >= 200
