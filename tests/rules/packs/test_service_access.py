"""rules/service-access.yaml: destinations whose resource policy must let a service in (the service
principal is decided on the destination's policy alone, with aws:SourceArn and aws:SourceAccount)."""
from tests.rules.packs.wiring import origin, check, line_of, missing, of_rule

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


# ------------------------------------------------------------------ IG2201 S3 notifications

BUCKET = "arn:aws:s3:::uploads"
S3_CFN = CFN_BASE + """
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: uploads
      NotificationConfiguration:
        QueueConfigurations:
          - Event: s3:ObjectCreated:*
            Queue: !GetAtt JobsQueue.Arn
        TopicConfigurations:
          - Event: s3:ObjectRemoved:*
            Topic: !Ref Orders
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Handler.Arn
"""
S3_GRANTS = (queue_policy("s3.amazonaws.com", "ArnEquals: {aws:SourceArn: !GetAtt Uploads.Arn}")
             + topic_policy("s3.amazonaws.com", "ArnLike: {aws:SourceArn: arn:aws:s3:::uploads}")
             + permission("S3Invoke", "s3.amazonaws.com", "!GetAtt Uploads.Arn", account=True))


def test_cloudformation_bucket_notifications_need_each_destination_to_let_s3_in(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": S3_CFN})
    assert rc == 1
    assert missing(found, "IG2201") == [("s3.amazonaws.com", "lambda:InvokeFunction", FUNCTION),
                                        ("s3.amazonaws.com", "sns:Publish", TOPIC),
                                        ("s3.amazonaws.com", "sqs:SendMessage", QUEUE)]
    origins = {origin(f) for f in of_rule(found, "IG2201")}
    assert origins == {"Uploads (NotificationConfiguration.QueueConfigurations[0])",
                       "Uploads (NotificationConfiguration.TopicConfigurations[0])",
                       "Uploads (NotificationConfiguration.LambdaConfigurations[0])"}


def test_cloudformation_bucket_notifications_pass_with_the_destination_policies(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": S3_CFN + S3_GRANTS})
    assert of_rule(found, "IG2201") == [] and rc == 0


def test_a_permission_for_another_bucket_does_not_let_this_one_in(tree, capsys):
    other = S3_GRANTS.replace("!GetAtt Uploads.Arn", "arn:aws:s3:::elsewhere")
    rc, found = check(capsys, tree, {"stack.yaml": S3_CFN + other})
    assert missing(found, "IG2201") == [("s3.amazonaws.com", "lambda:InvokeFunction", FUNCTION),
                                        ("s3.amazonaws.com", "sqs:SendMessage", QUEUE)]
    lam = next(f for f in of_rule(found, "IG2201") if f["action"] == "lambda:InvokeFunction")
    assert lam["location"]["line"] == line_of(S3_CFN + other, "S3Invoke:")
    assert "add a Lambda permission" in str(lam["fix"])


TF_BASE = """
resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_sns_topic" "orders" {
  name = "orders"
}

resource "aws_iam_role" "handler" {
  name = "handler"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_lambda_function" "handler" {
  function_name = "handler"
  role          = aws_iam_role.handler.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "handler.zip"
}
"""


def tf_queue_policy(service: str, source: str) -> str:
    return f"""
resource "aws_sqs_queue_policy" "jobs" {{
  queue_url = aws_sqs_queue.jobs.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "{service}" }}
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.jobs.arn
      Condition = {{ ArnEquals = {{ "aws:SourceArn" = {source} }} }}
    }}]
  }})
}}
"""


def tf_topic_policy(service: str, source: str) -> str:
    return f"""
resource "aws_sns_topic_policy" "orders" {{
  arn = aws_sns_topic.orders.arn
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "{service}" }}
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.orders.arn
      Condition = {{ ArnEquals = {{ "aws:SourceArn" = {source} }} }}
    }}]
  }})
}}
"""


def tf_permission(name: str, service: str, source: str) -> str:
    return f"""
resource "aws_lambda_permission" "{name}" {{
  statement_id  = "{name}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.handler.function_name
  principal     = "{service}"
  source_arn    = {source}
}}
"""


S3_TF = TF_BASE + """
resource "aws_s3_bucket" "uploads" {
  bucket = "uploads"
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id

  queue {
    queue_arn = aws_sqs_queue.jobs.arn
    events    = ["s3:ObjectCreated:*"]
  }

  topic {
    topic_arn = aws_sns_topic.orders.arn
    events    = ["s3:ObjectRemoved:*"]
  }

  lambda_function {
    lambda_function_arn = aws_lambda_function.handler.arn
    events              = ["s3:ObjectCreated:*"]
  }
}
"""


def test_terraform_bucket_notification(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": S3_TF})
    assert rc == 1
    assert missing(found, "IG2201") == [("s3.amazonaws.com", "lambda:InvokeFunction", FUNCTION),
                                        ("s3.amazonaws.com", "sns:Publish", TOPIC),
                                        ("s3.amazonaws.com", "sqs:SendMessage", QUEUE)]
    assert {origin(f) for f in of_rule(found, "IG2201")} == {
        "aws_s3_bucket_notification.uploads (queue[0])", "aws_s3_bucket_notification.uploads (topic[0])",
        "aws_s3_bucket_notification.uploads (lambda_function[0])"}
    granted = S3_TF + tf_queue_policy("s3.amazonaws.com", "aws_s3_bucket.uploads.arn") \
        + tf_topic_policy("s3.amazonaws.com", "aws_s3_bucket.uploads.arn") \
        + tf_permission("s3", "s3.amazonaws.com", "aws_s3_bucket.uploads.arn")
    rc, found = check(capsys, tree, {"main.tf": granted})
    assert of_rule(found, "IG2201") == [] and rc == 0


SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: uploads
  Orders:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: orders
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: handler
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(e, c): pass"
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
        Note:
          Type: SNS
          Properties:
            Topic: !Ref Orders
        Get:
          Type: Api
          Properties:
            Path: /items
            Method: get
"""


def test_sam_events_get_their_permissions_from_sam(tree, capsys):
    """SAM adds an AWS::Lambda::Permission for each S3, SNS and Api event: the S3 and SNS events'
    requirements are inferred and met by them."""
    rc, out = _summary(capsys, tree, {"template.yaml": SAM})
    assert out["findings"] == [] and rc == 0
    # the service-access requirements (and the lambda pack's, met by SAM's generated role) all hold
    assert out["summary"]["requirements"] == out["summary"]["satisfied"] >= 2


def _summary(capsys, tree, files):
    import json
    from tests.cli import run
    from tests.rules.packs.wiring import write
    write(tree, files)
    rc, out, err = run(capsys, "check", "--format", "json")
    assert "Traceback" not in err, err
    return rc, json.loads(out)


# ------------------------------------------------------------------ IG2202 SNS subscriptions

TOPIC_SUBSCRIPTIONS = CFN_BASE.replace("""      TopicName: orders
""", """      TopicName: orders
      Subscription:
        - Protocol: lambda
          Endpoint: !GetAtt Handler.Arn
        - Protocol: sqs
          Endpoint: !GetAtt JobsQueue.Arn
        - Protocol: email
          Endpoint: ops@example.com
""")


def test_cloudformation_topic_subscription_property(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": TOPIC_SUBSCRIPTIONS})
    assert rc == 1
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "lambda:InvokeFunction", FUNCTION),
                                        ("sns.amazonaws.com", "sqs:SendMessage", QUEUE)]
    assert {origin(f) for f in of_rule(found, "IG2202")} == {"Orders (Subscription[0])",
                                                                           "Orders (Subscription[1])"}
    granted = TOPIC_SUBSCRIPTIONS + queue_policy("sns.amazonaws.com", "ArnEquals: {aws:SourceArn: !Ref Orders}") \
        + permission("SnsInvoke", "sns.amazonaws.com", "!Ref Orders")
    rc, found = check(capsys, tree, {"stack.yaml": granted})
    assert of_rule(found, "IG2202") == [] and rc == 0


def test_cloudformation_lambda_subscription(tree, capsys):
    stack = SUBSCRIPTION.replace("Protocol: sqs", "Protocol: lambda").replace(
        "Endpoint: !GetAtt JobsQueue.Arn", "Endpoint: !GetAtt Handler.Arn")
    rc, found = check(capsys, tree, {"stack.yaml": stack})
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    wrong = permission("SnsInvoke", "events.amazonaws.com", "!Ref Orders")
    rc, found = check(capsys, tree, {"stack.yaml": stack + wrong})
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    rc, found = check(capsys, tree, {"stack.yaml": stack + permission("SnsInvoke", "sns.amazonaws.com", "!Ref Orders")})
    assert of_rule(found, "IG2202") == [] and rc == 0


SNS_TF = TF_BASE + """
resource "aws_sns_topic_subscription" "jobs" {
  topic_arn = aws_sns_topic.orders.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.jobs.arn
}

resource "aws_sns_topic_subscription" "handler" {
  topic_arn = aws_sns_topic.orders.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.handler.arn
}

resource "aws_sns_topic_subscription" "https" {
  topic_arn = aws_sns_topic.orders.arn
  protocol  = "https"
  endpoint  = "https://example.com/hook"
}
"""


def test_terraform_topic_subscriptions(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": SNS_TF})
    assert rc == 1
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "lambda:InvokeFunction", FUNCTION),
                                        ("sns.amazonaws.com", "sqs:SendMessage", QUEUE)]
    granted = SNS_TF + tf_queue_policy("sns.amazonaws.com", "aws_sns_topic.orders.arn") \
        + tf_permission("sns", "sns.amazonaws.com", "aws_sns_topic.orders.arn")
    rc, found = check(capsys, tree, {"main.tf": granted})
    assert of_rule(found, "IG2202") == [] and rc == 0
    other = SNS_TF + tf_queue_policy("sns.amazonaws.com", '"arn:aws:sns:us-east-1:000000000000:other"') \
        + tf_permission("sns", "sns.amazonaws.com", "aws_sns_topic.orders.arn")
    rc, found = check(capsys, tree, {"main.tf": other})
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "sqs:SendMessage", QUEUE)]
    f = of_rule(found, "IG2202")[0]
    assert (f["location"]["file"], f["location"]["line"]) == ("main.tf", line_of(other, 'resource "aws_sqs_queue_policy"'))


# ------------------------------------------------------------------ IG2203 EventBridge targets

RULE = "arn:aws:events:us-east-1:000000000000:rule/nightly"
EVENTS_CFN = CFN_BASE + """
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      Name: nightly
      ScheduleExpression: rate(1 day)
      Targets:
        - Id: queue
          Arn: !GetAtt JobsQueue.Arn
        - Id: topic
          Arn: !Ref Orders
        - Id: function
          Arn: !GetAtt Handler.Arn
"""
EVENTS_GRANTS = (queue_policy("events.amazonaws.com", "ArnEquals: {aws:SourceArn: !GetAtt Nightly.Arn}")
                 + topic_policy("events.amazonaws.com", "ArnEquals: {aws:SourceArn: !GetAtt Nightly.Arn}")
                 + permission("EventsInvoke", "events.amazonaws.com", "!GetAtt Nightly.Arn"))


def test_cloudformation_rule_targets_need_each_destination_to_let_eventbridge_in(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": EVENTS_CFN})
    assert rc == 1
    assert missing(found, "IG2203") == [("events.amazonaws.com", "lambda:InvokeFunction", FUNCTION),
                                        ("events.amazonaws.com", "sns:Publish", TOPIC),
                                        ("events.amazonaws.com", "sqs:SendMessage", QUEUE)]
    rc, found = check(capsys, tree, {"stack.yaml": EVENTS_CFN + EVENTS_GRANTS})
    assert of_rule(found, "IG2203") == [] and rc == 0


def test_a_target_with_a_role_is_not_a_resource_policy_target(tree, capsys):
    with_role = EVENTS_CFN.replace("          Arn: !GetAtt JobsQueue.Arn\n",
                                   "          Arn: !GetAtt JobsQueue.Arn\n          RoleArn: !GetAtt HandlerRole.Arn\n")
    rc, found = check(capsys, tree, {"stack.yaml": with_role})
    assert missing(found, "IG2203") == [("events.amazonaws.com", "lambda:InvokeFunction", FUNCTION),
                                        ("events.amazonaws.com", "sns:Publish", TOPIC)]


EVENTS_TF = TF_BASE + """
resource "aws_cloudwatch_event_rule" "nightly" {
  name                = "nightly"
  schedule_expression = "rate(1 day)"
}

resource "aws_cloudwatch_event_target" "queue" {
  rule = aws_cloudwatch_event_rule.nightly.name
  arn  = aws_sqs_queue.jobs.arn
}

resource "aws_cloudwatch_event_target" "topic" {
  rule = aws_cloudwatch_event_rule.nightly.name
  arn  = aws_sns_topic.orders.arn
}

resource "aws_cloudwatch_event_target" "function" {
  rule = aws_cloudwatch_event_rule.nightly.name
  arn  = aws_lambda_function.handler.arn
}
"""


def test_terraform_event_targets(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": EVENTS_TF})
    assert rc == 1
    assert missing(found, "IG2203") == [("events.amazonaws.com", "lambda:InvokeFunction", FUNCTION),
                                        ("events.amazonaws.com", "sns:Publish", TOPIC),
                                        ("events.amazonaws.com", "sqs:SendMessage", QUEUE)]
    assert {f["origin"]["resource"] for f in of_rule(found, "IG2203")} == {
        "aws_cloudwatch_event_target.queue", "aws_cloudwatch_event_target.topic", "aws_cloudwatch_event_target.function"}
    granted = EVENTS_TF + tf_queue_policy("events.amazonaws.com", "aws_cloudwatch_event_rule.nightly.arn") \
        + tf_topic_policy("events.amazonaws.com", "aws_cloudwatch_event_rule.nightly.arn") \
        + tf_permission("events", "events.amazonaws.com", "aws_cloudwatch_event_rule.nightly.arn")
    rc, found = check(capsys, tree, {"main.tf": granted})
    assert of_rule(found, "IG2203") == [] and rc == 0


def test_terraform_event_target_with_a_role_is_left_to_the_role(tree, capsys):
    with_role = EVENTS_TF.replace("  arn  = aws_sqs_queue.jobs.arn\n",
                                  "  arn  = aws_sqs_queue.jobs.arn\n  role_arn = aws_iam_role.handler.arn\n")
    rc, found = check(capsys, tree, {"main.tf": with_role})
    assert ("events.amazonaws.com", "sqs:SendMessage", QUEUE) not in missing(found, "IG2203")
    assert len(missing(found, "IG2203")) == 2


# ------------------------------------------------------------------ IG2204 log subscriptions

LOG_GROUP_SOURCE = "arn:aws:logs:us-east-1:000000000000:log-group:/app/orders:*"
LOGS_CFN = CFN_BASE + """
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /app/orders
  Errors:
    Type: AWS::Logs::SubscriptionFilter
    Properties:
      LogGroupName: !Ref AppLogs
      FilterPattern: ERROR
      DestinationArn: !GetAtt Handler.Arn
"""


def test_cloudformation_log_subscription_to_a_function(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": LOGS_CFN})
    assert rc == 1
    assert missing(found, "IG2204") == [("logs.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    assert of_rule(found, "IG2204")[0]["origin"]["resource"] == "Errors"
    rc, found = check(capsys, tree, {"stack.yaml": LOGS_CFN + permission("LogsInvoke", "logs.amazonaws.com",
                                                                         "!GetAtt AppLogs.Arn")})
    assert of_rule(found, "IG2204") == [] and rc == 0
    other = permission("LogsInvoke", "logs.amazonaws.com", "arn:aws:logs:us-east-1:000000000000:log-group:/other:*")
    rc, found = check(capsys, tree, {"stack.yaml": LOGS_CFN + other})
    assert missing(found, "IG2204") == [("logs.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    assert LOG_GROUP_SOURCE in str(of_rule(found, "IG2204")[0]["fix"])


LOGS_TF = TF_BASE + """
resource "aws_cloudwatch_log_group" "app" {
  name = "/app/orders"
}

resource "aws_cloudwatch_log_subscription_filter" "errors" {
  name            = "errors"
  log_group_name  = aws_cloudwatch_log_group.app.name
  filter_pattern  = "ERROR"
  destination_arn = aws_lambda_function.handler.arn
}
"""


def test_terraform_log_subscription_to_a_function(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": LOGS_TF})
    assert rc == 1
    assert missing(found, "IG2204") == [("logs.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    granted = LOGS_TF + tf_permission("logs", "logs.amazonaws.com", '"${aws_cloudwatch_log_group.app.arn}:*"')
    rc, found = check(capsys, tree, {"main.tf": granted})
    assert of_rule(found, "IG2204") == [] and rc == 0


def test_a_kinesis_destination_is_not_a_lambda_permission(tree, capsys):
    kinesis = LOGS_TF.replace("destination_arn = aws_lambda_function.handler.arn",
                              'destination_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/logs"')
    rc, found = check(capsys, tree, {"main.tf": kinesis})
    assert of_rule(found, "IG2204") == []


# ------------------------------------------------------------------ IG2205 API Gateway

API_CFN = CFN_BASE + """
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: orders
  Items:
    Type: AWS::ApiGateway::Resource
    Properties:
      RestApiId: !Ref Api
      ParentId: !GetAtt Api.RootResourceId
      PathPart: items
  GetItems:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Items
      HttpMethod: GET
      AuthorizationType: NONE
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Handler.Arn}/invocations"
"""


def _api_source(found, rule="IG2205"):
    """The aws:SourceArn the finding's fix asks for."""
    return of_rule(found, rule)[0]["fix"]["text"].split("aws:SourceArn = ")[1].split()[0]


def test_cloudformation_rest_method_invoking_a_function(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": API_CFN})
    assert rc == 1
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    source = _api_source(found)
    assert source.startswith("arn:aws:execute-api:us-east-1:000000000000:") and source.endswith("/prod/GET/items")
    every = permission("ApiInvoke", "apigateway.amazonaws.com",
                       '!Sub "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/*/*"')
    rc, found = check(capsys, tree, {"stack.yaml": API_CFN + every})
    assert of_rule(found, "IG2205") == [] and rc == 0
    this = every.replace("${Api}/*/*/*", "${Api}/*/GET/items")
    rc, found = check(capsys, tree, {"stack.yaml": API_CFN + this})
    assert of_rule(found, "IG2205") == []
    post_only = every.replace("${Api}/*/*/*", "${Api}/*/POST/items")
    rc, found = check(capsys, tree, {"stack.yaml": API_CFN + post_only})
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]


def test_cloudformation_method_on_the_root_resource(tree, capsys):
    root = API_CFN.replace("ResourceId: !Ref Items", "ResourceId: !GetAtt Api.RootResourceId")
    rc, found = check(capsys, tree, {"stack.yaml": root})
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    assert _api_source(found).endswith("/prod/GET/")
    every = permission("ApiInvoke", "apigateway.amazonaws.com",
                       '!Sub "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"')
    rc, found = check(capsys, tree, {"stack.yaml": root + every})
    assert of_rule(found, "IG2205") == []


def test_a_mock_or_http_integration_invokes_no_function(tree, capsys):
    mock = API_CFN.replace("Type: AWS_PROXY", "Type: MOCK")
    rc, found = check(capsys, tree, {"stack.yaml": mock})
    assert of_rule(found, "IG2205") == []
    http = API_CFN.replace("Type: AWS_PROXY", "Type: HTTP_PROXY").replace(
        'Uri: !Sub "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Handler.Arn}/invocations"',
        "Uri: https://example.com/items")
    rc, found = check(capsys, tree, {"stack.yaml": http})
    assert of_rule(found, "IG2205") == []


HTTP_API_CFN = CFN_BASE + """
  HttpApi:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: orders
      ProtocolType: HTTP
  HandlerIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref HttpApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !GetAtt Handler.Arn
      PayloadFormatVersion: "2.0"
  GetItems:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref HttpApi
      RouteKey: GET /items
      Target: !Sub "integrations/${HandlerIntegration}"
"""


def test_cloudformation_http_api_integration(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": HTTP_API_CFN})
    assert rc == 1
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    assert _api_source(found).endswith("/$default/ANY/")
    every = permission("ApiInvoke", "apigateway.amazonaws.com",
                       '!Sub "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*"')
    rc, found = check(capsys, tree, {"stack.yaml": HTTP_API_CFN + every})
    assert of_rule(found, "IG2205") == [] and rc == 0
    rest = every.replace("${HttpApi}/*", "${Other}/*").replace("Resources:", "Resources:")
    rc, found = check(capsys, tree, {"stack.yaml": HTTP_API_CFN + rest.replace(
        "${Other}", "abcdef1234")})
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]


API_TF = TF_BASE + """
resource "aws_api_gateway_rest_api" "orders" {
  name = "orders"
}

resource "aws_api_gateway_resource" "items" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_rest_api.orders.root_resource_id
  path_part   = "items"
}

resource "aws_api_gateway_method" "get_items" {
  rest_api_id   = aws_api_gateway_rest_api.orders.id
  resource_id   = aws_api_gateway_resource.items.id
  http_method   = "GET"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "get_items" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.items.id
  http_method             = aws_api_gateway_method.get_items.http_method
  integration_http_method = "POST"
  type                    = "AWS_PROXY"
  uri                     = aws_lambda_function.handler.invoke_arn
}

resource "aws_apigatewayv2_api" "http" {
  name          = "orders-http"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "handler" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.handler.invoke_arn
  payload_format_version = "2.0"
}
"""


def test_terraform_rest_and_http_api_integrations(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": API_TF})
    assert rc == 1
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)] * 2
    assert {f["origin"]["resource"] for f in of_rule(found, "IG2205")} == {
        "aws_api_gateway_integration.get_items", "aws_apigatewayv2_integration.handler"}
    rest_only = API_TF + tf_permission("rest", "apigateway.amazonaws.com",
                                       '"${aws_api_gateway_rest_api.orders.execution_arn}/*/*/*"')
    rc, found = check(capsys, tree, {"main.tf": rest_only})
    assert [f["origin"]["resource"] for f in of_rule(found, "IG2205")] == ["aws_apigatewayv2_integration.handler"]
    both = rest_only + tf_permission("http", "apigateway.amazonaws.com",
                                     '"${aws_apigatewayv2_api.http.execution_arn}/*/*"')
    rc, found = check(capsys, tree, {"main.tf": both})
    assert of_rule(found, "IG2205") == [] and rc == 0


# ------------------------------------------------------------------ odd input


def test_odd_shapes_are_skipped_without_a_crash(tree, capsys):
    odd = CFN_BASE + """
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets: not-a-list
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        QueueConfigurations: nope
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
  Delivery:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Orders
      Protocol: sqs
  Errors:
    Type: AWS::Logs::SubscriptionFilter
    Properties:
      LogGroupName: !ImportValue shared-logs
      FilterPattern: ""
      DestinationArn: !GetAtt Handler.Arn
  GetItems:
    Type: AWS::ApiGateway::Method
    Properties:
      HttpMethod: GET
      Integration: {Type: AWS_PROXY, Uri: [1, 2]}
"""
    rc, found = check(capsys, tree, {"stack.yaml": odd})
    # a destination that is not there (or an import: None) infers nothing; the log subscription names its
    # function, but its log group's name is an import: the source ARN cannot be resolved, unknown
    assert {f["rule"] for f in found if f["rule"].startswith("IG22")} <= {"IG2204"}
    unknown = of_rule(found, "IG2204")
    assert unknown and all(f["decision"] == "unknown" for f in unknown)


def test_an_imported_destination_infers_nothing_an_imported_source_is_unknown(tree, capsys):
    imported = SUBSCRIPTION.replace("Endpoint: !GetAtt JobsQueue.Arn", "Endpoint: !ImportValue shared-queue-arn")
    rc, found = check(capsys, tree, {"stack.yaml": imported})
    assert of_rule(found, "IG2202") == []
    source = SUBSCRIPTION.replace("TopicArn: !Ref Orders", "TopicArn: !ImportValue shared-topic-arn") \
        + queue_policy("sns.amazonaws.com", "ArnEquals: {aws:SourceArn: !Ref Orders}")
    rc, found = check(capsys, tree, {"stack.yaml": source})
    unknown = of_rule(found, "IG2202")
    assert [f["decision"] for f in unknown] == ["unknown"] and rc == 1
    assert "could not be resolved offline" in unknown[0]["message"]


def test_a_nested_resource_is_checked_with_its_whole_path(tree, capsys):
    nested = API_CFN.replace("""      ResourceId: !Ref Items
""", """      ResourceId: !Ref Item
""") + """
  V1:
    Type: AWS::ApiGateway::Resource
    Properties:
      RestApiId: !Ref Api
      ParentId: !GetAtt Api.RootResourceId
      PathPart: v1
  Item:
    Type: AWS::ApiGateway::Resource
    Properties:
      RestApiId: !Ref Api
      ParentId: !Ref Items
      PathPart: "{id}"
"""
    nested = nested.replace("      ParentId: !GetAtt Api.RootResourceId\n      PathPart: items",
                            "      ParentId: !Ref V1\n      PathPart: items")
    rc, found = check(capsys, tree, {"stack.yaml": nested})
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    assert _api_source(found).endswith("/prod/GET/v1/items/{id}")
    this = permission("ApiInvoke", "apigateway.amazonaws.com",
                      '!Sub "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/v1/items/*"')
    rc, found = check(capsys, tree, {"stack.yaml": nested + this})
    assert of_rule(found, "IG2205") == [] and rc == 0
    rc, found = check(capsys, tree, {"stack.yaml": nested + this.replace("/v1/items/*", "/items/*")})
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]


def test_terraform_nested_resource_path(tree, capsys):
    nested = API_TF.replace('''  parent_id   = aws_api_gateway_rest_api.orders.root_resource_id
  path_part   = "items"''', '''  parent_id   = aws_api_gateway_resource.v1.id
  path_part   = "items"''') + '''
resource "aws_api_gateway_resource" "v1" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_rest_api.orders.root_resource_id
  path_part   = "v1"
}
'''
    granted = nested + tf_permission("rest", "apigateway.amazonaws.com",
                                     '"${aws_api_gateway_rest_api.orders.execution_arn}/*/GET/v1/items"') \
        + tf_permission("http", "apigateway.amazonaws.com", '"${aws_apigatewayv2_api.http.execution_arn}/*/*"')
    rc, found = check(capsys, tree, {"main.tf": granted})
    assert of_rule(found, "IG2205") == [] and rc == 0
    rc, found = check(capsys, tree, {"main.tf": granted.replace("/*/GET/v1/items", "/*/GET/items")})
    assert [f["origin"]["resource"] for f in of_rule(found, "IG2205")] == ["aws_api_gateway_integration.get_items"]


# ------------------------------------------------------------------ IG2206 load balancer targets

ALB_CFN = CFN_BASE + """
  HandlerTargets:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      Name: handler-targets
      TargetType: lambda
      Targets:
        - Id: !GetAtt Handler.Arn
"""


def test_cloudformation_lambda_target_group(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": ALB_CFN})
    assert rc == 1
    assert missing(found, "IG2206") == [("elasticloadbalancing.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    source = of_rule(found, "IG2206")[0]["fix"]["text"].split("aws:SourceArn = ")[1]
    assert source.startswith("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/handler-targets/")
    granted = ALB_CFN + permission("AlbInvoke", "elasticloadbalancing.amazonaws.com", "!Ref HandlerTargets")
    rc, found = check(capsys, tree, {"stack.yaml": granted})
    assert of_rule(found, "IG2206") == [] and rc == 0
    instances = ALB_CFN.replace("TargetType: lambda", "TargetType: instance")
    rc, found = check(capsys, tree, {"stack.yaml": instances})
    assert of_rule(found, "IG2206") == []


ALB_TF = TF_BASE + """
resource "aws_lb_target_group" "handler" {
  name        = "handler-targets"
  target_type = "lambda"
}

resource "aws_lb_target_group_attachment" "handler" {
  target_group_arn = aws_lb_target_group.handler.arn
  target_id        = aws_lambda_function.handler.arn
  depends_on       = [aws_lambda_permission.alb]
}
"""


def test_terraform_lambda_target_group_attachment(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": ALB_TF})
    assert rc == 1
    assert missing(found, "IG2206") == [("elasticloadbalancing.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
    assert of_rule(found, "IG2206")[0]["origin"]["resource"] == "aws_lb_target_group_attachment.handler"
    granted = ALB_TF + tf_permission("alb", "elasticloadbalancing.amazonaws.com", "aws_lb_target_group.handler.arn")
    rc, found = check(capsys, tree, {"main.tf": granted})
    assert of_rule(found, "IG2206") == [] and rc == 0
    alb = granted.replace("aws_lb_target_group", "aws_alb_target_group")
    rc, found = check(capsys, tree, {"main.tf": alb})
    assert of_rule(found, "IG2206") == [] and rc == 0
    rc, found = check(capsys, tree, {"main.tf": ALB_TF.replace("aws_lb_target_group", "aws_alb_target_group")})
    assert missing(found, "IG2206") == [("elasticloadbalancing.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]


def test_synthesized_target_group_ids_never_read_as_an_account():
    import re
    from iamgate.sources.cloudformation.resources import no_account_run
    assert not re.search(r"[0-9]{12}", no_account_run("4d0b803722589354"))
    assert no_account_run("0123456789012345") == "0123456b8901234f"


def test_a_service_principal_gets_the_context_aws_fills_in():
    from iamgate.engine.request import request_context
    from iamgate.model import Principal
    ctx = request_context(Principal(id="sns.amazonaws.com", type="service", arn="sns.amazonaws.com"), QUEUE,
                          "eu-west-1", {"aws:SourceArn": (TOPIC,)})
    assert ctx == {"aws:PrincipalServiceName": "sns.amazonaws.com", "aws:PrincipalIsAWSService": "true",
                   "aws:RequestedRegion": "us-east-1", "aws:SecureTransport": "true", "aws:SourceArn": (TOPIC,)}


def test_no_policy_at_the_destination_is_said_as_such(tree, capsys):
    from tests.cli import run
    from tests.rules.packs.wiring import write
    write(tree, {"stack.yaml": LOGS_CFN})
    rc, out, err = run(capsys, "check")
    assert rc == 1
    assert f"implicit deny: {FUNCTION} has no resource-based policy in the scanned files" in out
    assert "AWS-owned" not in out
    assert "  logs.amazonaws.com  (service)\n" in out  # located per finding, at each destination


# ------------------------------------------------------------------ IG2207 encrypted destinations

KEY_CFN = """
  JobsKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Account
            Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: kms:*
            Resource: "*"
"""
SERVICE_KEY_STATEMENT = """          - Sid: Service
            Effect: Allow
            Principal: {{Service: {service}}}
            Action: [kms:GenerateDataKey*, kms:Decrypt]
            Resource: "*"
"""
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def encrypted(stack: str, service: str = "") -> str:
    """``stack`` with its queue encrypted by a key of its own, whose policy lets ``service`` in (if given)."""
    key = KEY_CFN + (SERVICE_KEY_STATEMENT.format(service=service) if service else "")
    return stack.replace("      QueueName: jobs\n", "      QueueName: jobs\n      KmsMasterKeyId: !Ref JobsKey\n") + key


def _key_arn(found, rule="IG2207"):
    arns = {f["resource"] for f in of_rule(found, rule)}
    assert len(arns) == 1 and next(iter(arns)).startswith("arn:aws:kms:us-east-1:000000000000:key/")
    return next(iter(arns))


def test_sns_to_an_encrypted_queue_needs_the_key(tree, capsys):
    policy = queue_policy("sns.amazonaws.com", "ArnEquals: {aws:SourceArn: !Ref Orders}")
    stack = encrypted(SUBSCRIPTION) + policy
    rc, found = check(capsys, tree, {"stack.yaml": stack})
    assert rc == 1 and of_rule(found, "IG2202") == []
    key = _key_arn(found)
    assert missing(found, "IG2207") == [("sns.amazonaws.com", a, key) for a in KEY_ACTIONS]
    f = of_rule(found, "IG2207")[0]
    assert f["blocked_by"] == ["kms-key-policy"] and f["location"]["line"] == line_of(stack, "JobsKey:")
    assert "add to the key policy JobsKey" in f["fix"]["text"] and "allowing sns.amazonaws.com kms:" in f["fix"]["text"]
    rc, found = check(capsys, tree, {"stack.yaml": encrypted(SUBSCRIPTION, "sns.amazonaws.com") + policy})
    assert of_rule(found, "IG2207") == [] and rc == 0
    rc, found = check(capsys, tree, {"stack.yaml": encrypted(SUBSCRIPTION, "s3.amazonaws.com") + policy})
    assert missing(found, "IG2207") == [("sns.amazonaws.com", a, key) for a in KEY_ACTIONS]


def test_an_unencrypted_queue_or_an_aws_managed_key_needs_no_key_grant(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": S3_CFN + S3_GRANTS})
    assert of_rule(found, "IG2207") == []
    managed = S3_CFN.replace("      QueueName: jobs\n", "      QueueName: jobs\n      KmsMasterKeyId: alias/aws/sqs\n")
    rc, found = check(capsys, tree, {"stack.yaml": managed + S3_GRANTS})
    assert of_rule(found, "IG2207") == []


def test_s3_and_eventbridge_to_an_encrypted_queue(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": encrypted(S3_CFN) + S3_GRANTS})
    assert of_rule(found, "IG2201") == []
    assert missing(found, "IG2207") == [("s3.amazonaws.com", a, _key_arn(found)) for a in KEY_ACTIONS]
    rc, found = check(capsys, tree, {"stack.yaml": encrypted(S3_CFN, "s3.amazonaws.com") + S3_GRANTS})
    assert of_rule(found, "IG2207") == [] and rc == 0
    rc, found = check(capsys, tree, {"stack.yaml": encrypted(EVENTS_CFN) + EVENTS_GRANTS})
    assert missing(found, "IG2207") == [("events.amazonaws.com", a, _key_arn(found)) for a in KEY_ACTIONS]
    rc, found = check(capsys, tree, {"stack.yaml": encrypted(EVENTS_CFN, "events.amazonaws.com") + EVENTS_GRANTS})
    assert of_rule(found, "IG2207") == [] and rc == 0


KEY_TF = """
resource "aws_kms_key" "jobs" {
  description = "jobs"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([{
      Sid       = "Account"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }], var.service_statements)
  })
}

data "aws_caller_identity" "current" {}
"""


def tf_encrypted(config: str, services: str = "") -> str:
    statements = "" if not services else (
        '[{ Sid = "Service", Effect = "Allow", Principal = { Service = "' + services + '" }, '
        'Action = ["kms:GenerateDataKey*", "kms:Decrypt"], Resource = "*" }]')
    key = KEY_TF.replace("var.service_statements", statements or "[]")
    return config.replace('  name = "jobs"\n', '  name = "jobs"\n  kms_master_key_id = aws_kms_key.jobs.key_id\n') + key


def test_terraform_encrypted_queue_behind_a_subscription_and_an_event_target(tree, capsys):
    sns = tf_encrypted(SNS_TF) + tf_queue_policy("sns.amazonaws.com", "aws_sns_topic.orders.arn") \
        + tf_permission("sns", "sns.amazonaws.com", "aws_sns_topic.orders.arn")
    rc, found = check(capsys, tree, {"main.tf": sns})
    assert of_rule(found, "IG2202") == []
    assert missing(found, "IG2207") == [("sns.amazonaws.com", a, _key_arn(found)) for a in KEY_ACTIONS]
    assert {f["origin"]["resource"] for f in of_rule(found, "IG2207")} == {"aws_sns_topic_subscription.jobs"}
    granted = tf_encrypted(SNS_TF, "sns.amazonaws.com") + tf_queue_policy("sns.amazonaws.com", "aws_sns_topic.orders.arn") \
        + tf_permission("sns", "sns.amazonaws.com", "aws_sns_topic.orders.arn")
    rc, found = check(capsys, tree, {"main.tf": granted})
    assert of_rule(found, "IG2207") == [] and rc == 0
    events = tf_encrypted(EVENTS_TF)
    rc, found = check(capsys, tree, {"main.tf": events})
    assert missing(found, "IG2207") == [("events.amazonaws.com", a, _key_arn(found)) for a in KEY_ACTIONS]
    rc, found = check(capsys, tree, {"main.tf": tf_encrypted(EVENTS_TF, "events.amazonaws.com")})
    assert of_rule(found, "IG2207") == []


def test_terraform_bucket_notification_to_an_encrypted_queue(tree, capsys):
    grants = tf_queue_policy("s3.amazonaws.com", "aws_s3_bucket.uploads.arn") \
        + tf_topic_policy("s3.amazonaws.com", "aws_s3_bucket.uploads.arn") \
        + tf_permission("s3", "s3.amazonaws.com", "aws_s3_bucket.uploads.arn")
    rc, found = check(capsys, tree, {"main.tf": tf_encrypted(S3_TF) + grants})
    assert missing(found, "IG2207") == [("s3.amazonaws.com", a, _key_arn(found)) for a in KEY_ACTIONS]
    rc, found = check(capsys, tree, {"main.tf": tf_encrypted(S3_TF, "s3.amazonaws.com") + grants})
    assert of_rule(found, "IG2207") == [] and rc == 0


def test_a_destination_defined_elsewhere_is_unknown_not_missing(tree, capsys):
    external = SNS_TF.replace("endpoint  = aws_sqs_queue.jobs.arn",
                              'endpoint  = "arn:aws:sqs:us-east-1:000000000000:shared-jobs"')
    rc, found = check(capsys, tree, {"main.tf": external + tf_permission("sns", "sns.amazonaws.com",
                                                                         "aws_sns_topic.orders.arn")})
    unknown = of_rule(found, "IG2202")
    assert [(f["action"], f["resource"], f["decision"]) for f in unknown] == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:shared-jobs", "unknown")]
    assert "is not defined in the scanned files" in unknown[0]["message"]


def test_with_an_account_the_source_account_is_the_real_one(tree, capsys):
    manifest = "version: 1\nsettings: {account: '111122223333', region: eu-west-1}\n"
    stack = SUBSCRIPTION + queue_policy("sns.amazonaws.com", "StringEquals: {aws:SourceAccount: '111122223333'}")
    rc, found = check(capsys, tree, {"stack.yaml": stack, "iamgate.yaml": manifest})
    assert of_rule(found, "IG2202") == []
    other = stack.replace("{aws:SourceAccount: '111122223333'}", "{aws:SourceAccount: '444455556666'}")
    rc, found = check(capsys, tree, {"stack.yaml": other, "iamgate.yaml": manifest})
    assert missing(found, "IG2202") == [("sns.amazonaws.com", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:jobs")]


SAM_API = """
Transform: AWS::Serverless-2016-10-31
Resources:
  OrdersApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
  Items:
    Type: AWS::ApiGateway::Resource
    Properties:
      RestApiId: !Ref OrdersApi
      ParentId: !GetAtt OrdersApi.RootResourceId
      PathPart: items
  GetItems:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref OrdersApi
      ResourceId: !Ref Items
      HttpMethod: GET
      AuthorizationType: NONE
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Handler.Arn}/invocations"
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: handler
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(e, c): pass"
      Events:
        Get:
          Type: Api
          Properties:
            RestApiId: !Ref OrdersApi
            Path: /items
            Method: get
"""


def test_sam_api_event_permission_covers_the_method_it_serves(tree, capsys):
    """SAM adds the permission of an Api event (``${OrdersApi}/*/GET/items``): a method of that API on
    that path is let in; one the event does not serve is not."""
    rc, out = _summary(capsys, tree, {"template.yaml": SAM_API})
    assert out["findings"] == [] and rc == 0
    assert out["summary"]["requirements"] == out["summary"]["satisfied"] >= 1
    rc, found = check(capsys, tree, {"template.yaml": SAM_API.replace("Method: get", "Method: post")})
    assert missing(found, "IG2205") == [("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION)]
