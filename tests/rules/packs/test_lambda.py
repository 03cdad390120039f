"""rules/lambda.yaml: what a Lambda function's wiring implies its execution role must do."""
from tests.rules.packs.wiring import check, line_of, missing, of_rule

SQS_ACTIONS = ("sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")
QUEUE = "arn:aws:sqs:us-east-1:000000000000:jobs"

CFN = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [sqs:SendMessage]
                Resource: !GetAtt JobsQueue.Arn
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: !GetAtt WorkerRole.Arn
  JobsMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt JobsQueue.Arn
"""

TF = """
resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_iam_role" "worker" {
  name = "worker"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "worker" {
  role = aws_iam_role.worker.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["sqs:SendMessage"], Resource = aws_sqs_queue.jobs.arn }]
  })
}

resource "aws_lambda_function" "worker" {
  function_name = "worker"
  role          = aws_iam_role.worker.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "worker.zip"
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn = aws_sqs_queue.jobs.arn
  function_name    = aws_lambda_function.worker.arn
}
"""

SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  ExecRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [sqs:SendMessage]
                Resource: !GetAtt JobsQueue.Arn
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(e, c): pass"
      Role: !GetAtt ExecRole.Arn
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt JobsQueue.Arn
"""

GRANT_CFN = "Action: [sqs:SendMessage]"
GRANTED_CFN = "Action: [sqs:SendMessage, sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes]"


def test_cloudformation_event_source_mapping_needs_the_queue_actions(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": CFN})
    assert rc == 1
    assert missing(found, "IG2101") == [("WorkerRole", a, QUEUE) for a in SQS_ACTIONS]
    f = of_rule(found, "IG2101")[0]
    assert f["origin"] == {"rule": "IG2101", "resource": "JobsMapping", "property": "EventSourceArn",
                           "location": {"file": "stack.yaml", "line": line_of(CFN, "JobsMapping:")}}
    assert f["decision"] == "implicit_deny" and f["blocked_by"] == ["identity"]
    assert f["location"]["line"] == line_of(CFN, "WorkerRole:")


def test_cloudformation_mapping_passes_when_the_role_can_read_the_queue(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": CFN.replace(GRANT_CFN, GRANTED_CFN)})
    assert of_rule(found, "IG2101") == [] and rc == 0


def test_terraform_event_source_mapping(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": TF})
    assert rc == 1
    assert missing(found, "IG2101") == [("aws_iam_role.worker", a, QUEUE) for a in SQS_ACTIONS]
    assert of_rule(found, "IG2101")[0]["origin"]["resource"] == "aws_lambda_event_source_mapping.jobs"
    rc, found = check(capsys, tree, {"main.tf": TF.replace('["sqs:SendMessage"]', '["sqs:ReceiveMessage", '
                                                           '"sqs:DeleteMessage", "sqs:GetQueueAttributes"]')})
    assert of_rule(found, "IG2101") == [] and rc == 0


def test_sam_sqs_event_with_a_role_of_its_own(tree, capsys):
    rc, found = check(capsys, tree, {"template.yaml": SAM})
    assert rc == 1
    assert missing(found, "IG2101") == [("ExecRole", a, QUEUE) for a in SQS_ACTIONS]
    assert of_rule(found, "IG2101")[0]["origin"]["resource"] == "Worker"
    assert of_rule(found, "IG2101")[0]["origin"]["property"] == "Events.Jobs"
    rc, found = check(capsys, tree, {"template.yaml": SAM.replace(GRANT_CFN, GRANTED_CFN)})
    assert of_rule(found, "IG2101") == [] and rc == 0


def test_sam_generated_role_gets_the_queue_policy_from_sam(tree, capsys):
    """Without Role, SAM attaches AWSLambdaSQSQueueExecutionRole to the role it generates."""
    template = SAM.replace("      Role: !GetAtt ExecRole.Arn\n", "")
    rc, found = check(capsys, tree, {"template.yaml": template})
    assert of_rule(found, "IG2101") == [] and rc == 0


def test_with_an_account_the_queue_arn_is_the_real_one(tree, capsys):
    manifest = "version: 1\nsettings: {account: '111122223333', region: eu-west-1}\n"
    rc, found = check(capsys, tree, {"stack.yaml": CFN, "iamgate.yaml": manifest})
    assert {f["resource"] for f in of_rule(found, "IG2101")} == {"arn:aws:sqs:eu-west-1:111122223333:jobs"}


def test_a_queue_from_an_import_is_decided_on_every_queue(tree, capsys):
    """The queue's ARN cannot be resolved offline: a grant on every queue proves it, nothing else."""
    imported = CFN.replace("EventSourceArn: !GetAtt JobsQueue.Arn", "EventSourceArn: !ImportValue shared-jobs-arn")
    rc, found = check(capsys, tree, {"stack.yaml": imported})
    # an import is not an SQS ARN the code shows: nothing is inferred from it
    assert of_rule(found, "IG2101") == []
    sam = SAM.replace("Queue: !GetAtt JobsQueue.Arn", "Queue: !ImportValue shared-jobs-arn")
    rc, found = check(capsys, tree, {"template.yaml": sam})
    unknown = of_rule(found, "IG2101")
    assert unknown and all(f["decision"] == "unknown" and f["resource"] == "*" for f in unknown)
    assert "could not be resolved offline" in unknown[0]["message"]
    rc, found = check(capsys, tree, {"template.yaml": sam.replace("Action: [sqs:SendMessage]", "Action: [sqs:*]")
                                     .replace("Resource: !GetAtt JobsQueue.Arn", 'Resource: "*"')})
    assert of_rule(found, "IG2101") == []


def test_a_statement_naming_another_account_makes_it_unknown_without_settings_account(tree, capsys):
    literal = CFN.replace(GRANT_CFN, GRANTED_CFN).replace(
        "Resource: !GetAtt JobsQueue.Arn", "Resource: arn:aws:sqs:us-east-1:111122223333:jobs")
    rc, found = check(capsys, tree, {"stack.yaml": literal})
    unknown = of_rule(found, "IG2101")
    assert unknown and {f["decision"] for f in unknown} == {"unknown"}
    assert "names account 111122223333" in unknown[0]["message"]
