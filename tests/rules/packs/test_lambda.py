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


# ---------------------------------------------------------------------------------------------------------
# IG2102-IG2115: one CloudFormation template, one Terraform configuration and one SAM template, each with
# a role that has an unrelated permission; the wiring under test is added to them, then the permission.

ACCOUNT = "000000000000"


def _statements_cfn(grants):
    """CloudFormation statements of (actions, resource) pairs, indented for the role's policy."""
    out = ""
    for actions, resource in grants:
        out += (f"              - Effect: Allow\n"
                f"                Action: [{', '.join(actions)}]\n"
                f"                Resource: {resource}\n")
    return out


UNRELATED = [(["s3:GetObject"], '"arn:aws:s3:::unrelated/*"')]


def cfn(function="", resources="", grants=UNRELATED, role="WorkerRole"):
    """A stack: a role (``grants``), the function ``Worker`` running as it (``function``: more properties,
    indented 6), and ``resources`` (indented 2)."""
    return (
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        f"  {role}:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal: {Service: lambda.amazonaws.com}\n"
        "            Action: sts:AssumeRole\n"
        "      Policies:\n"
        "        - PolicyName: worker\n"
        "          PolicyDocument:\n"
        '            Version: "2012-10-17"\n'
        "            Statement:\n"
        + _statements_cfn(grants) +
        "  Worker:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties:\n"
        "      FunctionName: worker\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        '      Code: {ZipFile: "def handler(e, c): pass"}\n'
        f"      Role: !GetAtt {role}.Arn\n"
        + function + resources)


def sam(function="", resources="", grants=UNRELATED):
    """A SAM template: the function ``Worker`` with a role of its own, ``ExecRole`` (not the one SAM would
    generate, so SAM attaches nothing), ``function`` (indented 6) and ``resources`` (indented 2)."""
    return (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  ExecRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal: {Service: lambda.amazonaws.com}\n"
        "            Action: sts:AssumeRole\n"
        "      Policies:\n"
        "        - PolicyName: worker\n"
        "          PolicyDocument:\n"
        '            Version: "2012-10-17"\n'
        "            Statement:\n"
        + _statements_cfn(grants) +
        "  Worker:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      FunctionName: worker\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        '      InlineCode: "def handler(e, c): pass"\n'
        "      Role: !GetAtt ExecRole.Arn\n"
        + function + resources)


def tf(function="", resources="", grants=(('["s3:GetObject"]', '"arn:aws:s3:::unrelated/*"'),)):
    """A configuration: the role ``worker`` with an inline policy (``grants``: HCL actions and resource),
    the function ``worker`` (``function``: more arguments, blocks) and ``resources``."""
    statements = ",\n      ".join(f'{{ Effect = "Allow", Action = {a}, Resource = {r} }}' for a, r in grants)
    return f'''
resource "aws_iam_role" "worker" {{
  name = "worker"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = {{ Service = "lambda.amazonaws.com" }}, Action = "sts:AssumeRole" }}]
  }})
}}

resource "aws_iam_role_policy" "worker" {{
  role = aws_iam_role.worker.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {statements}
    ]
  }})
}}

resource "aws_lambda_function" "worker" {{
  function_name = "worker"
  role          = aws_iam_role.worker.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "worker.zip"
{function}}}
{resources}'''


def arn(service, rest):
    return f"arn:aws:{service}:us-east-1:{ACCOUNT}:{rest}"


ENI_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
               "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"]


def expect(role, actions, resource):
    return [(role, a, resource) for a in sorted(actions)]


# --------------------------------------------------------------------- IG2102 Kinesis

KINESIS = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
           "kinesis:GetShardIterator", "kinesis:ListShards"]
STREAM = arn("kinesis", "stream/clicks")
LIST_STREAMS = (["kinesis:ListStreams"], '"*"')  # it takes no resource


def kinesis(role, stream=STREAM):
    return sorted(expect(role, KINESIS, stream) + [(role, "kinesis:ListStreams", "*")])
CFN_STREAM = """\
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {Name: clicks, ShardCount: 1}
"""


def test_kinesis_mapping_cloudformation(tree, capsys):
    mapping = CFN_STREAM + """\
  ClicksMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt Clicks.Arn
      StartingPosition: LATEST
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping)})
    assert rc == 1
    assert missing(found, "IG2102") == kinesis("WorkerRole")
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[(KINESIS, "!GetAtt Clicks.Arn"), LIST_STREAMS])})
    assert of_rule(found, "IG2102") == []
    # a grant on another stream does not do
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[(KINESIS, arn("kinesis", "stream/other"))])})
    assert missing(found, "IG2102") == kinesis("WorkerRole")


def test_kinesis_mapping_terraform(tree, capsys):
    mapping = '''
resource "aws_kinesis_stream" "clicks" {
  name        = "clicks"
  shard_count = 1
}

resource "aws_lambda_event_source_mapping" "clicks" {
  event_source_arn  = aws_kinesis_stream.clicks.arn
  function_name     = aws_lambda_function.worker.arn
  starting_position = "LATEST"
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping)})
    assert rc == 1
    assert missing(found, "IG2102") == kinesis("aws_iam_role.worker")
    actions = "[" + ", ".join(f'"{a}"' for a in KINESIS) + "]"
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping, grants=[(actions, "aws_kinesis_stream.clicks.arn"),
                                                                               ('["kinesis:ListStreams"]', '"*"')])})
    assert of_rule(found, "IG2102") == []


def test_kinesis_event_sam(tree, capsys):
    events = """\
      Events:
        Clicks:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: LATEST
"""
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_STREAM)})
    assert missing(found, "IG2102") == kinesis("ExecRole")
    assert of_rule(found, "IG2102")[0]["origin"]["resource"] == "Worker"
    assert of_rule(found, "IG2102")[0]["origin"]["property"] == "Events.Clicks"
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_STREAM,
                                                          grants=[(KINESIS, "!GetAtt Clicks.Arn"), LIST_STREAMS])})
    assert of_rule(found, "IG2102") == []


def test_kinesis_consumer_arn_reads_its_stream_and_subscribes_to_the_consumer(tree, capsys):
    """A consumer ARN written out: the stream is the part before /consumer/ (a ``matches`` group)."""
    consumer = STREAM + "/consumer/fanout:1700000000"
    mapping = f"""\
  ClicksMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: "{consumer}"
      StartingPosition: LATEST
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping)})
    assert missing(found, "IG2102") == sorted(kinesis("WorkerRole") + [("WorkerRole", "kinesis:SubscribeToShard", consumer)])
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[
        (KINESIS, f'"{STREAM}"'), LIST_STREAMS, (["kinesis:SubscribeToShard"], f'"{STREAM}/consumer/*"')])})
    assert of_rule(found, "IG2102") == []


def test_kinesis_consumer_of_the_stack_subscribes_on_an_arn_known_only_at_deploy(tree, capsys):
    mapping = CFN_STREAM + """\
  Fanout:
    Type: AWS::Kinesis::StreamConsumer
    Properties: {ConsumerName: fanout, StreamARN: !GetAtt Clicks.Arn}
  ClicksMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt Fanout.ConsumerARN
      StartingPosition: LATEST
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[(KINESIS, "!GetAtt Clicks.Arn"), LIST_STREAMS])})
    left = of_rule(found, "IG2102")
    assert [(f["action"], f["resource"], f["decision"]) for f in left] == [("kinesis:SubscribeToShard", "*", "unknown")]
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[
        (KINESIS, "!GetAtt Clicks.Arn"), LIST_STREAMS, (["kinesis:SubscribeToShard"], '"*"')])})
    assert of_rule(found, "IG2102") == []


# --------------------------------------------------------------------- IG2103 DynamoDB streams

DDB = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
DDB_LIST = (["dynamodb:ListStreams"], '"*"')


def ddb(role, stream):
    return sorted(expect(role, DDB, stream) + [(role, "dynamodb:ListStreams", "*")])
CFN_TABLE = """\
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
"""


def test_dynamodb_stream_mapping_cloudformation(tree, capsys):
    mapping = CFN_TABLE + """\
  OrdersMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !GetAtt Worker.Arn
      EventSourceArn: !GetAtt Orders.StreamArn
      StartingPosition: TRIM_HORIZON
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping)})
    assert rc == 1
    stream = of_rule(found, "IG2103")[0]["resource"]
    assert stream.startswith(arn("dynamodb", "table/orders/stream/"))  # the stream, not the table
    assert missing(found, "IG2103") == ddb("WorkerRole", stream)
    # the table's ARN is not the stream's
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[(DDB, "!GetAtt Orders.Arn"), DDB_LIST])})
    assert missing(found, "IG2103") == expect("WorkerRole", DDB, stream)
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping,
                                                       grants=[(DDB, '!Sub "${Orders.Arn}/stream/*"'), DDB_LIST])})
    assert of_rule(found, "IG2103") == []


def test_dynamodb_stream_mapping_terraform(tree, capsys):
    mapping = '''
resource "aws_dynamodb_table" "orders" {
  name             = "orders"
  hash_key         = "id"
  billing_mode     = "PAY_PER_REQUEST"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_lambda_event_source_mapping" "orders" {
  event_source_arn  = aws_dynamodb_table.orders.stream_arn
  function_name     = aws_lambda_function.worker.arn
  starting_position = "LATEST"
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping)})
    stream = of_rule(found, "IG2103")[0]["resource"]
    assert stream.startswith(arn("dynamodb", "table/orders/stream/"))
    assert missing(found, "IG2103") == ddb("aws_iam_role.worker", stream)
    actions = "[" + ", ".join(f'"{a}"' for a in DDB) + "]"
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping, grants=[
        (actions, '"${aws_dynamodb_table.orders.arn}/stream/*"'), ('["dynamodb:ListStreams"]', '"*"')])})
    assert of_rule(found, "IG2103") == []


def test_dynamodb_event_sam(tree, capsys):
    events = """\
      Events:
        Orders:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: LATEST
"""
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_TABLE)})
    assert {(p, a) for p, a, _ in missing(found, "IG2103")} == {("ExecRole", a) for a in DDB + ["dynamodb:ListStreams"]}
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_TABLE,
                                                          grants=[(DDB, '!Sub "${Orders.Arn}/stream/*"'), DDB_LIST])})
    assert of_rule(found, "IG2103") == []


# --------------------------------------------------------------------- IG2104 MSK

KAFKA = ["kafka:DescribeClusterV2"]
ANY_KAFKA = ENI_ACTIONS + ["kafka:GetBootstrapBrokers"]  # they take no resource
CFN_MSK = """\
  Events:
    Type: AWS::MSK::Cluster
    Properties:
      ClusterName: events
      KafkaVersion: "3.6.0"
      NumberOfBrokerNodes: 2
      BrokerNodeGroupInfo: {InstanceType: kafka.m5.large, ClientSubnets: [subnet-0a, subnet-0b]}
"""


def test_msk_mapping_cloudformation(tree, capsys):
    mapping = CFN_MSK + """\
  EventsMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !Ref Events
      Topics: [orders]
      StartingPosition: LATEST
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping)})
    assert rc == 1
    got = missing(found, "IG2104")
    clusters = {r for _, a, r in got if a == "kafka:DescribeClusterV2"}
    assert len(clusters) == 1 and next(iter(clusters)).startswith(arn("kafka", "cluster/events/"))
    cluster = next(iter(clusters))
    assert got == sorted(expect("WorkerRole", ANY_KAFKA, "*") + expect("WorkerRole", KAFKA, cluster))
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[(KAFKA, "!Ref Events"),
                                                                                  (ANY_KAFKA, '"*"')])})
    assert of_rule(found, "IG2104") == []


def test_msk_mapping_terraform(tree, capsys):
    mapping = '''
resource "aws_msk_cluster" "events" {
  cluster_name           = "events"
  kafka_version          = "3.6.0"
  number_of_broker_nodes = 2
  broker_node_group_info {
    instance_type  = "kafka.m5.large"
    client_subnets = ["subnet-0a", "subnet-0b"]
    security_groups = ["sg-0a"]
  }
}

resource "aws_lambda_event_source_mapping" "events" {
  event_source_arn  = aws_msk_cluster.events.arn
  function_name     = aws_lambda_function.worker.arn
  topics            = ["orders"]
  starting_position = "LATEST"
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping)})
    got = missing(found, "IG2104")
    cluster = next(r for _, a, r in got if a == "kafka:DescribeClusterV2")
    assert cluster.startswith(arn("kafka", "cluster/events/"))
    assert got == sorted(expect("aws_iam_role.worker", ANY_KAFKA, "*") + expect("aws_iam_role.worker", KAFKA, cluster))
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping, grants=[
        ('["kafka:DescribeClusterV2"]', "aws_msk_cluster.events.arn"),
        ("[" + ", ".join(f'"{a}"' for a in ANY_KAFKA) + "]", '"*"')])})
    assert of_rule(found, "IG2104") == []


def test_msk_event_sam(tree, capsys):
    events = """\
      Events:
        Orders:
          Type: MSK
          Properties:
            Stream: !Ref Events
            Topics: [orders]
            StartingPosition: LATEST
"""
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_MSK)})
    assert {a for _, a, _ in missing(found, "IG2104")} == set(KAFKA + ANY_KAFKA)
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_MSK, grants=[
        (KAFKA, "!Ref Events"), (ANY_KAFKA, '"*"')])})
    assert of_rule(found, "IG2104") == []


# --------------------------------------------------------------------- IG2105 / IG2106 Kafka secrets, VPC

CFN_SECRET = """\
  KafkaCredentials:
    Type: AWS::SecretsManager::Secret
    Properties: {Name: kafka-credentials}
"""


def test_self_managed_kafka_secret_and_vpc_cloudformation(tree, capsys):
    mapping = CFN_SECRET + """\
  KafkaMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      Topics: [orders]
      StartingPosition: TRIM_HORIZON
      SelfManagedEventSource: {Endpoints: {KafkaBootstrapServers: ["b-1.kafka.internal:9096"]}}
      SourceAccessConfigurations:
        - {Type: SASL_SCRAM_512_AUTH, URI: !Ref KafkaCredentials}
        - {Type: VPC_SUBNET, URI: "subnet:subnet-0a"}
        - {Type: VPC_SECURITY_GROUP, URI: "security_group:sg-0a"}
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping)})
    assert rc == 1
    [secret] = [f["resource"] for f in of_rule(found, "IG2105")]
    assert secret.startswith(arn("secretsmanager", "secret:kafka-credentials-"))
    assert missing(found, "IG2105") == [("WorkerRole", "secretsmanager:GetSecretValue", secret)]
    assert of_rule(found, "IG2105")[0]["origin"]["resource"] == "KafkaMapping"
    assert of_rule(found, "IG2105")[0]["origin"]["property"] == "SourceAccessConfigurations[0]"
    assert missing(found, "IG2106") == expect("WorkerRole", ENI_ACTIONS, "*")
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[
        (["secretsmanager:GetSecretValue"], "!Ref KafkaCredentials"), (ENI_ACTIONS, '"*"')])})
    assert of_rule(found, "IG2105") == [] and of_rule(found, "IG2106") == []


def test_self_managed_kafka_terraform(tree, capsys):
    mapping = '''
resource "aws_secretsmanager_secret" "kafka" {
  name = "kafka-credentials"
}

resource "aws_lambda_event_source_mapping" "kafka" {
  function_name     = aws_lambda_function.worker.arn
  topics            = ["orders"]
  starting_position = "TRIM_HORIZON"
  self_managed_event_source {
    endpoints = { KAFKA_BOOTSTRAP_SERVERS = "b-1.kafka.internal:9096" }
  }
  source_access_configuration {
    type = "SASL_SCRAM_256_AUTH"
    uri  = aws_secretsmanager_secret.kafka.arn
  }
  source_access_configuration {
    type = "VPC_SUBNET"
    uri  = "subnet:subnet-0a"
  }
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping)})
    [secret] = [f["resource"] for f in of_rule(found, "IG2105")]
    assert secret.startswith(arn("secretsmanager", "secret:kafka-credentials-"))
    assert missing(found, "IG2105") == [("aws_iam_role.worker", "secretsmanager:GetSecretValue", secret)]
    assert missing(found, "IG2106") == expect("aws_iam_role.worker", ENI_ACTIONS, "*")
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping, grants=[
        ('["secretsmanager:GetSecretValue"]', "aws_secretsmanager_secret.kafka.arn"),
        ("[" + ", ".join(f'"{a}"' for a in ENI_ACTIONS) + "]", '"*"')])})
    assert of_rule(found, "IG2105") == [] and of_rule(found, "IG2106") == []


def test_self_managed_kafka_event_sam(tree, capsys):
    events = """\
      Events:
        Orders:
          Type: SelfManagedKafka
          Properties:
            KafkaBootstrapServers: ["b-1.kafka.internal:9096"]
            Topics: [orders]
            SourceAccessConfigurations:
              - {Type: BASIC_AUTH, URI: !Ref KafkaCredentials}
              - {Type: VPC_SUBNET, URI: "subnet:subnet-0a"}
"""
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_SECRET)})
    assert [(p, a) for p, a, _ in missing(found, "IG2105")] == [("ExecRole", "secretsmanager:GetSecretValue")]
    assert missing(found, "IG2106") == expect("ExecRole", ENI_ACTIONS, "*")
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_SECRET, grants=[
        (["secretsmanager:GetSecretValue"], "!Ref KafkaCredentials"), (ENI_ACTIONS, '"*"')])})
    assert of_rule(found, "IG2105") == [] and of_rule(found, "IG2106") == []


# --------------------------------------------------------------------- IG2107 Amazon MQ

CFN_BROKER = CFN_SECRET + """\
  Broker:
    Type: AWS::AmazonMQ::Broker
    Properties:
      BrokerName: orders
      EngineType: ACTIVEMQ
      EngineVersion: "5.18"
      HostInstanceType: mq.t3.micro
      DeploymentMode: SINGLE_INSTANCE
      PubliclyAccessible: false
      AutoMinorVersionUpgrade: true
      Users: [{Username: app, Password: "not-a-real-password"}]
"""


def test_mq_mapping_cloudformation(tree, capsys):
    mapping = CFN_BROKER + """\
  BrokerMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt Broker.Arn
      Queues: [orders]
      SourceAccessConfigurations:
        - {Type: BASIC_AUTH, URI: !Ref KafkaCredentials}
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping)})
    got = missing(found, "IG2107")
    [broker] = {r for _, a, r in got if a == "mq:DescribeBroker"}
    assert broker.startswith(arn("mq", "broker:orders:b-"))
    assert got == sorted(expect("WorkerRole", ENI_ACTIONS, "*") + [("WorkerRole", "mq:DescribeBroker", broker)])
    assert [a for _, a, _ in missing(found, "IG2105")] == ["secretsmanager:GetSecretValue"]
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[
        (["mq:DescribeBroker"], "!GetAtt Broker.Arn"), (ENI_ACTIONS, '"*"'),
        (["secretsmanager:GetSecretValue"], "!Ref KafkaCredentials")])})
    assert of_rule(found, "IG2107") == [] and of_rule(found, "IG2105") == []


def test_mq_mapping_terraform(tree, capsys):
    mapping = '''
resource "aws_mq_broker" "orders" {
  broker_name        = "orders"
  engine_type        = "ActiveMQ"
  engine_version     = "5.18"
  host_instance_type = "mq.t3.micro"
  user {
    username = "app"
    password = "not-a-real-password"
  }
}

resource "aws_lambda_event_source_mapping" "orders" {
  event_source_arn = aws_mq_broker.orders.arn
  function_name    = aws_lambda_function.worker.arn
  queues           = ["orders"]
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping)})
    got = missing(found, "IG2107")
    [broker] = {r for _, a, r in got if a == "mq:DescribeBroker"}
    assert broker.startswith(arn("mq", "broker:orders:b-"))
    assert got == sorted(expect("aws_iam_role.worker", ENI_ACTIONS, "*")
                         + [("aws_iam_role.worker", "mq:DescribeBroker", broker)])
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping, grants=[
        ('["mq:DescribeBroker"]', "aws_mq_broker.orders.arn"),
        ("[" + ", ".join(f'"{a}"' for a in ENI_ACTIONS) + "]", '"*"')])})
    assert of_rule(found, "IG2107") == []


def test_mq_event_sam(tree, capsys):
    events = """\
      Events:
        Orders:
          Type: MQ
          Properties:
            Broker: !GetAtt Broker.Arn
            Queues: [orders]
            SourceAccessConfigurations: [{Type: BASIC_AUTH, URI: !Ref KafkaCredentials}]
"""
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_BROKER)})
    assert {a for _, a, _ in missing(found, "IG2107")} == set(ENI_ACTIONS + ["mq:DescribeBroker"])
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_BROKER, grants=[
        (["mq:DescribeBroker"], "!GetAtt Broker.Arn"), (ENI_ACTIONS, '"*"'),
        (["secretsmanager:GetSecretValue"], "!Ref KafkaCredentials")])})
    assert of_rule(found, "IG2107") == [] and of_rule(found, "IG2105") == []


# --------------------------------------------------------------------- IG2108 DocumentDB

RDS_ANY = ["rds:DescribeDBClusterParameters", "rds:DescribeDBSubnetGroups"]
DOCS = arn("rds", "cluster:docs")


def test_documentdb_mapping_cloudformation(tree, capsys):
    """CloudFormation gives no ARN attribute for AWS::DocDB::DBCluster: templates build it with !Sub."""
    mapping = CFN_SECRET + """\
  Docs:
    Type: AWS::DocDB::DBCluster
    Properties: {DBClusterIdentifier: docs, MasterUsername: app, MasterUserPassword: not-a-real-password}
  DocsMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !Sub "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:${Docs}"
      StartingPosition: LATEST
      DocumentDBEventSourceConfig: {DatabaseName: app}
      SourceAccessConfigurations: [{Type: BASIC_AUTH, URI: !Ref KafkaCredentials}]
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping)})
    assert missing(found, "IG2108") == sorted(expect("WorkerRole", ENI_ACTIONS + RDS_ANY, "*")
                                              + [("WorkerRole", "rds:DescribeDBClusters", DOCS)])
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[
        (["rds:DescribeDBClusters"], f'"{DOCS}"'), (ENI_ACTIONS + RDS_ANY, '"*"')])})
    assert of_rule(found, "IG2108") == []


def test_documentdb_mapping_terraform(tree, capsys):
    mapping = '''
resource "aws_docdb_cluster" "docs" {
  cluster_identifier = "docs"
  master_username    = "app"
  master_password    = "not-a-real-password"
}

resource "aws_lambda_event_source_mapping" "docs" {
  event_source_arn  = aws_docdb_cluster.docs.arn
  function_name     = aws_lambda_function.worker.arn
  starting_position = "LATEST"
  document_db_event_source_config {
    database_name = "app"
  }
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping)})
    assert missing(found, "IG2108") == sorted(expect("aws_iam_role.worker", ENI_ACTIONS + RDS_ANY, "*")
                                              + [("aws_iam_role.worker", "rds:DescribeDBClusters", DOCS)])
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping, grants=[
        ('["rds:DescribeDBClusters"]', "aws_docdb_cluster.docs.arn"),
        ("[" + ", ".join(f'"{a}"' for a in ENI_ACTIONS + RDS_ANY) + "]", '"*"')])})
    assert of_rule(found, "IG2108") == []


def test_documentdb_event_sam(tree, capsys):
    events = f"""\
      Events:
        Docs:
          Type: DocumentDB
          Properties:
            Cluster: "{DOCS}"
            DatabaseName: app
            StartingPosition: LATEST
            SourceAccessConfigurations: [{{Type: BASIC_AUTH, URI: !Ref KafkaCredentials}}]
"""
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_SECRET)})
    assert ("ExecRole", "rds:DescribeDBClusters", DOCS) in missing(found, "IG2108")
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_SECRET, grants=[
        (["rds:DescribeDBClusters"], f'"{DOCS}"'), (ENI_ACTIONS + RDS_ANY, '"*"')])})
    assert of_rule(found, "IG2108") == []


# --------------------------------------------------------------------- IG2109 on-failure destinations

CFN_FAILED = """\
  Failed:
    Type: AWS::SNS::Topic
    Properties: {TopicName: failed-batches}
  FailedBucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: failed-batches}
"""


def test_on_failure_destination_cloudformation(tree, capsys):
    mapping = CFN_STREAM + CFN_FAILED + """\
  ClicksMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt Clicks.Arn
      StartingPosition: LATEST
      DestinationConfig:
        OnFailure: {Destination: !Ref Failed}
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping)})
    assert missing(found, "IG2109") == [("WorkerRole", "sns:Publish", arn("sns", "failed-batches"))]
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=mapping, grants=[(["sns:Publish"], "!Ref Failed")])})
    assert of_rule(found, "IG2109") == []
    # an S3 bucket: its objects and the bucket itself
    to_s3 = mapping.replace("Destination: !Ref Failed", "Destination: !GetAtt FailedBucket.Arn")
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=to_s3)})
    assert missing(found, "IG2109") == [("WorkerRole", "s3:ListBucket", "arn:aws:s3:::failed-batches"),
                                        ("WorkerRole", "s3:PutObject", "arn:aws:s3:::failed-batches/*")]
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=to_s3, grants=[
        (["s3:ListBucket"], "!GetAtt FailedBucket.Arn"), (["s3:PutObject"], '!Sub "${FailedBucket.Arn}/*"')])})
    assert of_rule(found, "IG2109") == []


def test_on_failure_destination_terraform(tree, capsys):
    mapping = '''
resource "aws_kinesis_stream" "clicks" {
  name        = "clicks"
  shard_count = 1
}

resource "aws_sqs_queue" "failed" {
  name = "failed-batches"
}

resource "aws_lambda_event_source_mapping" "clicks" {
  event_source_arn  = aws_kinesis_stream.clicks.arn
  function_name     = aws_lambda_function.worker.arn
  starting_position = "LATEST"
  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failed.arn
    }
  }
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping)})
    assert missing(found, "IG2109") == [("aws_iam_role.worker", "sqs:SendMessage", arn("sqs", "failed-batches"))]
    rc, found = check(capsys, tree, {"main.tf": tf(resources=mapping, grants=[('["sqs:SendMessage"]',
                                                                                "aws_sqs_queue.failed.arn")])})
    assert of_rule(found, "IG2109") == []


def test_on_failure_destination_sam(tree, capsys):
    events = """\
      Events:
        Clicks:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: LATEST
            DestinationConfig:
              OnFailure: {Type: SNS, Destination: !Ref Failed}
"""
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_STREAM + CFN_FAILED)})
    assert missing(found, "IG2109") == [("ExecRole", "sns:Publish", arn("sns", "failed-batches"))]
    rc, found = check(capsys, tree, {"template.yaml": sam(function=events, resources=CFN_STREAM + CFN_FAILED,
                                                          grants=[(["sns:Publish"], "!Ref Failed")])})
    assert of_rule(found, "IG2109") == []


# --------------------------------------------------------------------- IG2110 VPC

VPC_ACTIONS = ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
               "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses"]
CFN_VPC = """\
      VpcConfig:
        SubnetIds: [subnet-0a, subnet-0b]
        SecurityGroupIds: [sg-0a]
"""


def test_vpc_function_cloudformation(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=CFN_VPC)})
    assert rc == 1
    assert missing(found, "IG2110") == expect("WorkerRole", VPC_ACTIONS, "*")
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=CFN_VPC, grants=[(VPC_ACTIONS, '"*"')])})
    assert of_rule(found, "IG2110") == []
    # only the network interfaces of the account: ec2:DescribeNetworkInterfaces needs "*"
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=CFN_VPC, grants=[
        (VPC_ACTIONS, '!Sub "arn:aws:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*"')])})
    assert "ec2:DescribeNetworkInterfaces" in {a for _, a, _ in missing(found, "IG2110")}
    # no subnets: not in a VPC
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function="      VpcConfig: {SubnetIds: [], SecurityGroupIds: []}\n")})
    assert of_rule(found, "IG2110") == []


def test_vpc_function_terraform(tree, capsys):
    vpc = '''  vpc_config {
    subnet_ids         = ["subnet-0a", "subnet-0b"]
    security_group_ids = ["sg-0a"]
  }
'''
    rc, found = check(capsys, tree, {"main.tf": tf(function=vpc)})
    assert missing(found, "IG2110") == expect("aws_iam_role.worker", VPC_ACTIONS, "*")
    rc, found = check(capsys, tree, {"main.tf": tf(function=vpc, grants=[
        ("[" + ", ".join(f'"{a}"' for a in VPC_ACTIONS) + "]", '"*"')])})
    assert of_rule(found, "IG2110") == []


def test_vpc_function_sam(tree, capsys):
    rc, found = check(capsys, tree, {"template.yaml": sam(function=CFN_VPC)})
    assert missing(found, "IG2110") == expect("ExecRole", VPC_ACTIONS, "*")
    rc, found = check(capsys, tree, {"template.yaml": sam(function=CFN_VPC, grants=[(VPC_ACTIONS, '"*"')])})
    assert of_rule(found, "IG2110") == []


def test_vpc_function_sam_generated_role_gets_the_vpc_policy(tree, capsys):
    """Without Role, SAM attaches AWSLambdaVPCAccessExecutionRole to the role it generates."""
    template = sam(function=CFN_VPC).replace("      Role: !GetAtt ExecRole.Arn\n", "")
    rc, found = check(capsys, tree, {"template.yaml": template})
    assert of_rule(found, "IG2110") == []


# --------------------------------------------------------------------- IG2111 dead-letter queue

CFN_DLQ = """\
  Dlq:
    Type: AWS::SQS::Queue
    Properties: {QueueName: worker-dlq}
"""
DLQ = arn("sqs", "worker-dlq")


def test_dead_letter_queue_cloudformation(tree, capsys):
    fn = "      DeadLetterConfig: {TargetArn: !GetAtt Dlq.Arn}\n"
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn, resources=CFN_DLQ)})
    assert missing(found, "IG2111") == [("WorkerRole", "sqs:SendMessage", DLQ)]
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn, resources=CFN_DLQ,
                                                       grants=[(["sqs:SendMessage"], "!GetAtt Dlq.Arn")])})
    assert of_rule(found, "IG2111") == []


def test_dead_letter_topic_terraform(tree, capsys):
    fn = '''  dead_letter_config {
    target_arn = aws_sns_topic.dead.arn
  }
'''
    topic = '''
resource "aws_sns_topic" "dead" {
  name = "worker-dead-letters"
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(function=fn, resources=topic)})
    assert missing(found, "IG2111") == [("aws_iam_role.worker", "sns:Publish", arn("sns", "worker-dead-letters"))]
    rc, found = check(capsys, tree, {"main.tf": tf(function=fn, resources=topic,
                                                   grants=[('["sns:Publish"]', "aws_sns_topic.dead.arn")])})
    assert of_rule(found, "IG2111") == []


def test_dead_letter_queue_sam(tree, capsys):
    fn = "      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Dlq.Arn}\n"
    rc, found = check(capsys, tree, {"template.yaml": sam(function=fn, resources=CFN_DLQ)})
    assert missing(found, "IG2111") == [("ExecRole", "sqs:SendMessage", DLQ)]
    rc, found = check(capsys, tree, {"template.yaml": sam(function=fn, resources=CFN_DLQ,
                                                          grants=[(["sqs:SendMessage"], "!GetAtt Dlq.Arn")])})
    assert of_rule(found, "IG2111") == []
    # SAM grants its generated role sqs:SendMessage on the queue itself
    rc, found = check(capsys, tree, {"template.yaml": sam(function=fn, resources=CFN_DLQ).replace(
        "      Role: !GetAtt ExecRole.Arn\n", "")})
    assert of_rule(found, "IG2111") == []


# --------------------------------------------------------------------- IG2112 asynchronous destinations

CFN_ASYNC = CFN_DLQ + """\
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: results}
  Async:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref Worker
      Qualifier: $LATEST
      DestinationConfig:
        OnSuccess: {Destination: !GetAtt Bus.Arn}
        OnFailure: {Destination: !GetAtt Dlq.Arn}
"""


def test_async_destinations_cloudformation(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=CFN_ASYNC)})
    assert missing(found, "IG2112") == [("WorkerRole", "events:PutEvents", arn("events", "event-bus/results")),
                                        ("WorkerRole", "sqs:SendMessage", DLQ)]
    assert {(f["origin"]["resource"], f["origin"]["property"]) for f in of_rule(found, "IG2112")} == {
        ("Async", "DestinationConfig.OnSuccess"), ("Async", "DestinationConfig.OnFailure")}
    # each destination gets its own action only
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=CFN_ASYNC, grants=[
        (["events:PutEvents"], "!GetAtt Bus.Arn")])})
    assert missing(found, "IG2112") == [("WorkerRole", "sqs:SendMessage", DLQ)]
    rc, found = check(capsys, tree, {"stack.yaml": cfn(resources=CFN_ASYNC, grants=[
        (["events:PutEvents"], "!GetAtt Bus.Arn"), (["sqs:SendMessage"], "!GetAtt Dlq.Arn")])})
    assert of_rule(found, "IG2112") == []


def test_async_destinations_terraform(tree, capsys):
    config = '''
resource "aws_lambda_function" "audit" {
  function_name = "audit"
  role          = aws_iam_role.worker.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "audit.zip"
}

resource "aws_sns_topic" "failed" {
  name = "worker-failed"
}

resource "aws_lambda_function_event_invoke_config" "worker" {
  function_name = aws_lambda_function.worker.function_name
  destination_config {
    on_success {
      destination = aws_lambda_function.audit.arn
    }
    on_failure {
      destination = aws_sns_topic.failed.arn
    }
  }
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(resources=config)})
    assert missing(found, "IG2112") == [
        ("aws_iam_role.worker", "lambda:InvokeFunction", arn("lambda", "function:audit")),
        ("aws_iam_role.worker", "sns:Publish", arn("sns", "worker-failed"))]
    rc, found = check(capsys, tree, {"main.tf": tf(resources=config, grants=[
        ('["lambda:InvokeFunction"]', "aws_lambda_function.audit.arn"), ('["sns:Publish"]', "aws_sns_topic.failed.arn")])})
    assert of_rule(found, "IG2112") == []


def test_async_destinations_sam(tree, capsys):
    fn = """\
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt Dlq.Arn}
"""
    rc, found = check(capsys, tree, {"template.yaml": sam(function=fn, resources=CFN_DLQ)})
    assert missing(found, "IG2112") == [("ExecRole", "sqs:SendMessage", DLQ)]
    rc, found = check(capsys, tree, {"template.yaml": sam(function=fn, resources=CFN_DLQ,
                                                          grants=[(["sqs:SendMessage"], "!GetAtt Dlq.Arn")])})
    assert of_rule(found, "IG2112") == []


# --------------------------------------------------------------------- IG2113 logging

LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]


def streams(group):
    return arn("logs", f"log-group:{group}:log-stream:*")


def test_log_group_default_and_configured_cloudformation(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": cfn()})
    assert missing(found, "IG2113") == expect("WorkerRole", LOG_ACTIONS, streams("/aws/lambda/worker"))
    assert {f["severity"] for f in of_rule(found, "IG2113")} == {"warning"} and rc == 0
    rc, found = check(capsys, tree, {"stack.yaml": cfn(grants=[
        (LOG_ACTIONS, '!Sub "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/worker:*"')])})
    assert of_rule(found, "IG2113") == []
    # a log group of its own
    fn = "      LoggingConfig: {LogGroup: !Ref WorkerLogs, LogFormat: JSON}\n"
    logs = "  WorkerLogs:\n    Type: AWS::Logs::LogGroup\n    Properties: {LogGroupName: /app/worker}\n"
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn, resources=logs)})
    assert missing(found, "IG2113") == expect("WorkerRole", LOG_ACTIONS, streams("/app/worker"))
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn, resources=logs,
                                                       grants=[(LOG_ACTIONS, "!GetAtt WorkerLogs.Arn")])})
    assert of_rule(found, "IG2113") == []


def test_log_group_of_a_synthesized_function_name(tree, capsys):
    template = cfn().replace("      FunctionName: worker\n", "")
    rc, found = check(capsys, tree, {"stack.yaml": template})
    [(role, _, group)] = {(p, "", r) for p, _, r in missing(found, "IG2113")}
    assert role == "WorkerRole" and group.startswith(arn("logs", "log-group:/aws/lambda/stack-Worker-"))
    rc, found = check(capsys, tree, {"stack.yaml": cfn(grants=[(LOG_ACTIONS, '"arn:aws:logs:*:*:log-group:/aws/lambda/*"')])
                                     .replace("      FunctionName: worker\n", "")})
    assert of_rule(found, "IG2113") == []


def test_log_group_terraform(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": tf()})
    assert missing(found, "IG2113") == expect("aws_iam_role.worker", LOG_ACTIONS, streams("/aws/lambda/worker"))
    fn = '''  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.worker.name
  }
'''
    logs = '''
resource "aws_cloudwatch_log_group" "worker" {
  name = "/app/worker"
}
'''
    # the provider's arn has no ":*": a grant on it does not cover the group's streams
    rc, found = check(capsys, tree, {"main.tf": tf(function=fn, resources=logs, grants=[
        ('["logs:CreateLogStream", "logs:PutLogEvents"]', "aws_cloudwatch_log_group.worker.arn")])})
    assert missing(found, "IG2113") == expect("aws_iam_role.worker", LOG_ACTIONS, streams("/app/worker"))
    rc, found = check(capsys, tree, {"main.tf": tf(function=fn, resources=logs, grants=[
        ('["logs:CreateLogStream", "logs:PutLogEvents"]', '"${aws_cloudwatch_log_group.worker.arn}:*"')])})
    assert of_rule(found, "IG2113") == []


def test_log_group_sam(tree, capsys):
    rc, found = check(capsys, tree, {"template.yaml": sam()})
    assert missing(found, "IG2113") == expect("ExecRole", LOG_ACTIONS, streams("/aws/lambda/worker"))
    rc, found = check(capsys, tree, {"template.yaml": sam(grants=[(LOG_ACTIONS, '"arn:aws:logs:*:*:*"')])})
    assert of_rule(found, "IG2113") == []
    # SAM's generated role has AWSLambdaBasicExecutionRole
    rc, found = check(capsys, tree, {"template.yaml": sam().replace("      Role: !GetAtt ExecRole.Arn\n", "")})
    assert of_rule(found, "IG2113") == []


# --------------------------------------------------------------------- IG2114 X-Ray

XRAY = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def test_active_tracing_cloudformation(tree, capsys):
    fn = "      TracingConfig: {Mode: Active}\n"
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn)})
    assert missing(found, "IG2114") == expect("WorkerRole", XRAY, "*")
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn, grants=[(XRAY, '"*"')])})
    assert of_rule(found, "IG2114") == []
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function="      TracingConfig: {Mode: PassThrough}\n")})
    assert of_rule(found, "IG2114") == []


def test_active_tracing_terraform(tree, capsys):
    fn = '''  tracing_config {
    mode = "Active"
  }
'''
    rc, found = check(capsys, tree, {"main.tf": tf(function=fn)})
    assert missing(found, "IG2114") == expect("aws_iam_role.worker", XRAY, "*")
    rc, found = check(capsys, tree, {"main.tf": tf(function=fn, grants=[
        ('["xray:PutTraceSegments", "xray:PutTelemetryRecords"]', '"*"')])})
    assert of_rule(found, "IG2114") == []


def test_active_tracing_sam(tree, capsys):
    rc, found = check(capsys, tree, {"template.yaml": sam(function="      Tracing: Active\n")})
    assert missing(found, "IG2114") == expect("ExecRole", XRAY, "*")
    rc, found = check(capsys, tree, {"template.yaml": sam(function="      Tracing: Active\n", grants=[(XRAY, '"*"')])})
    assert of_rule(found, "IG2114") == []


# --------------------------------------------------------------------- IG2115 environment key

CFN_KEY = """\
  EnvKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: kms:*
            Resource: "*"
"""


def test_environment_key_cloudformation(tree, capsys):
    fn = "      KmsKeyArn: !GetAtt EnvKey.Arn\n      Environment: {Variables: {STAGE: prod}}\n"
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn, resources=CFN_KEY)})
    [key] = {r for _, _, r in missing(found, "IG2115")}
    assert key.startswith(arn("kms", "key/"))
    assert missing(found, "IG2115") == [("WorkerRole", "kms:Decrypt", key)]
    assert of_rule(found, "IG2115")[0]["decision"] == "implicit_deny"
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn, resources=CFN_KEY,
                                                       grants=[(["kms:Decrypt"], "!GetAtt EnvKey.Arn")])})
    assert of_rule(found, "IG2115") == []


def test_environment_key_terraform(tree, capsys):
    fn = "  kms_key_arn = aws_kms_key.env.arn\n"
    key = '''
data "aws_caller_identity" "current" {}

resource "aws_kms_key" "env" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" },
                   Action = "kms:*", Resource = "*" }]
  })
}
'''
    rc, found = check(capsys, tree, {"main.tf": tf(function=fn, resources=key)})
    [(role, action, resource)] = missing(found, "IG2115")
    assert (role, action) == ("aws_iam_role.worker", "kms:Decrypt") and resource.startswith(arn("kms", "key/"))
    rc, found = check(capsys, tree, {"main.tf": tf(function=fn, resources=key,
                                                   grants=[('["kms:Decrypt"]', "aws_kms_key.env.arn")])})
    assert of_rule(found, "IG2115") == []


def test_environment_key_sam(tree, capsys):
    fn = "      KmsKeyArn: !GetAtt EnvKey.Arn\n"
    rc, found = check(capsys, tree, {"template.yaml": sam(function=fn, resources=CFN_KEY)})
    assert [(p, a) for p, a, _ in missing(found, "IG2115")] == [("ExecRole", "kms:Decrypt")]
    # (a grant on the key's own ARN would do too, but this stack's synthesized key ID holds twelve digits in a
    # row, which check.account_checked takes for another account: a grant on the account's keys avoids it)
    rc, found = check(capsys, tree, {"template.yaml": sam(function=fn, resources=CFN_KEY, grants=[
        (["kms:Decrypt"], '!Sub "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"')])})
    assert of_rule(found, "IG2115") == []


# --------------------------------------------------------------------- odd input

def test_odd_values_infer_nothing_and_do_not_crash(tree, capsys):
    fn = ("      VpcConfig: subnet-0a\n      TracingConfig: Active\n      DeadLetterConfig: [arn:aws:sqs:us-east-1:1:x]\n"
          "      LoggingConfig: {LogGroup: [a, b]}\n      KmsKeyArn: ''\n")
    odd = """\
  Odd:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: 42
      SourceAccessConfigurations: BASIC_AUTH
      DestinationConfig: {OnFailure: not-an-arn}
  OddAsync:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref Worker
      Qualifier: $LATEST
      DestinationConfig: [1, 2]
"""
    rc, found = check(capsys, tree, {"stack.yaml": cfn(function=fn, resources=odd)})
    assert [f for f in found if f["rule"] in {f"IG21{n:02d}" for n in range(2, 16)} - {"IG2113"}] == []


def test_two_templates_with_the_same_logical_ids_are_each_checked(tree, capsys):
    """A reference means the resource of its own template: the same logical IDs in two stacks make
    no requirement disappear (they used to be ambiguous, and every inferred requirement vanished)."""
    rc, found = check(capsys, tree, {"a.yaml": CFN, "b.yaml": CFN.replace("QueueName: jobs", "QueueName: jobs2")},
                      "a.yaml", "b.yaml")
    got = sorted((f["principal"], f["resource"].rsplit(":", 1)[-1]) for f in of_rule(found, "IG2101"))
    assert got == sorted([("a.yaml:WorkerRole", "jobs")] * 3 + [("b.yaml:WorkerRole", "jobs2")] * 3)
    assert rc == 1
