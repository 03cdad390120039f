"""rules/service-access.yaml: destinations whose resource policy must let a service in (the service
principal is decided on the destination's policy alone, with aws:SourceArn and aws:SourceAccount)."""
from tests.rules.packs.wiring import check, line_of, missing, of_rule

QUEUE = "arn:aws:sqs:us-east-1:000000000000:jobs"
TOPIC = "arn:aws:sns:us-east-1:000000000000:orders"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"

CFN_BASE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  Orders:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: orders
  HandlerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Handler:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: handler
      Runtime: python3.12
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: !GetAtt HandlerRole.Arn
"""


def queue_policy(principal: str, condition: str) -> str:
    return f"""
  JobsQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref JobsQueue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: {principal}}}
            Action: sqs:SendMessage
            Resource: !GetAtt JobsQueue.Arn
            Condition:
              {condition}
"""


def topic_policy(principal: str, condition: str) -> str:
    return f"""
  OrdersPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Orders]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: {principal}}}
            Action: sns:Publish
            Resource: !Ref Orders
            Condition:
              {condition}
"""


def permission(name: str, principal: str, source_arn: str, account: bool = False) -> str:
    extra = "\n      SourceAccount: !Ref AWS::AccountId" if account else ""
    return f"""
  {name}:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !GetAtt Handler.Arn
      Action: lambda:InvokeFunction
      Principal: {principal}
      SourceArn: {source_arn}{extra}
"""


# ------------------------------------------------------------------ the engine on service principals

SUBSCRIPTION = CFN_BASE + """
  Delivery:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Orders
      Protocol: sqs
      Endpoint: !GetAtt JobsQueue.Arn
"""


def test_queue_policy_naming_the_topic_lets_sns_in(tree, capsys):
    stack = SUBSCRIPTION + queue_policy("sns.amazonaws.com", "ArnEquals: {aws:SourceArn: !Ref Orders}")
    rc, found = check(capsys, tree, {"stack.yaml": stack})
    assert of_rule(found, "IG2202") == [] and rc == 0


def test_queue_policy_naming_another_topic_fails_at_the_queue_policy(tree, capsys):
    stack = SUBSCRIPTION + queue_policy("sns.amazonaws.com",
                                        "ArnEquals: {aws:SourceArn: arn:aws:sns:us-east-1:000000000000:other}")
    rc, found = check(capsys, tree, {"stack.yaml": stack})
    assert rc == 1
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "sqs:SendMessage", QUEUE)]
    f = of_rule(found, "IG2202")[0]
    assert f["decision"] == "implicit_deny" and f["blocked_by"] == ["resource"]
    assert f["location"]["line"] == line_of(stack, "JobsQueuePolicy:")  # where it must change
    assert f["origin"]["resource"] == "Delivery"
    fix = str(f["fix"])
    assert "a statement allowing sns.amazonaws.com sqs:SendMessage" in fix
    assert f"aws:SourceArn = {TOPIC}" in fix and "aws:SourceAccount = 000000000000" in fix
    assert "AWS: sns.amazonaws.com" not in fix


def test_queue_policy_for_another_service_or_no_policy_fails(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": SUBSCRIPTION + queue_policy(
        "s3.amazonaws.com", "ArnEquals: {aws:SourceArn: !Ref Orders}")})
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "sqs:SendMessage", QUEUE)]
    rc, found = check(capsys, tree, {"stack.yaml": SUBSCRIPTION})
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "sqs:SendMessage", QUEUE)]
    assert of_rule(found, "IG2202")[0]["location"]["line"] == line_of(SUBSCRIPTION, "JobsQueue:")


def test_a_policy_for_everyone_scoped_by_source_account_lets_sns_in(tree, capsys):
    stack = SUBSCRIPTION + queue_policy("sns.amazonaws.com", "StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}") \
        .replace("Principal: {Service: sns.amazonaws.com}", 'Principal: {AWS: "*"}')
    rc, found = check(capsys, tree, {"stack.yaml": stack})
    assert of_rule(found, "IG2202") == [] and rc == 0
