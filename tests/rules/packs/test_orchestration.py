"""rules/orchestration.yaml: what Step Functions, EventBridge rules, Scheduler and Pipes do with the
role the code gives them."""
import pytest

from tests.rules.packs.wiring import origin, check, line_of, missing, of_rule

ACCOUNT = "arn:aws:{}:us-east-1:000000000000:{}"
FN = ACCOUNT.format("lambda", "function:resize")
LEGACY_FN = ACCOUNT.format("lambda", "function:legacy")
TOPIC = ACCOUNT.format("sns", "alerts")
QUEUE = ACCOUNT.format("sqs", "jobs")
TABLE = ACCOUNT.format("dynamodb", "table/orders")
TASK = ACCOUNT.format("ecs", "task-definition/process:1")
GLUE_JOB = ACCOUNT.format("glue", "job/nightly-etl")
CHILD = ACCOUNT.format("states", "stateMachine:child")

# what the machine's Task states call: rule -> [(action, resource)]
MACHINE_NEEDS = {
    "IG2401": [("lambda:InvokeFunction", LEGACY_FN), ("lambda:InvokeFunction", FN)],
    "IG2402": [("sns:Publish", TOPIC)],
    "IG2403": [("sqs:SendMessage", QUEUE)],
    "IG2404": [("dynamodb:DeleteItem", TABLE), ("dynamodb:GetItem", TABLE), ("dynamodb:PutItem", TABLE),
               ("dynamodb:UpdateItem", TABLE)],
    "IG2405": [("ecs:RunTask", TASK)],
    "IG2406": [("glue:StartJobRun", GLUE_JOB)],
    "IG2407": [("states:StartExecution", CHILD)],
}
ALL_ACTIONS = sorted({a for needs in MACHINE_NEEDS.values() for a, _ in needs})

TRUST = """
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: states.amazonaws.com}
            Action: sts:AssumeRole"""

CFN = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  MachineRole:
    Type: AWS::IAM::Role
    Properties:%(trust)s
      Policies:
        - PolicyName: machine
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogDelivery]
                Resource: "*"
  FnRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Resize:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: resize
      Runtime: python3.12
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: !GetAtt FnRole.Arn
  Legacy:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: legacy
      Runtime: python3.12
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: !GetAtt FnRole.Arn
  Alerts:
    Type: AWS::SNS::Topic
    Properties: {TopicName: alerts}
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {QueueName: jobs}
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
  ProcessTask:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: process
      RequiresCompatibilities: [FARGATE]
      Cpu: "256"
      Memory: "512"
      NetworkMode: awsvpc
      ContainerDefinitions: [{Name: app, Image: "public.ecr.aws/docker/library/busybox:latest"}]
  Child:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: child
      RoleArn: !GetAtt MachineRole.Arn
      Definition: {StartAt: Done, States: {Done: {Type: Succeed}}}
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: orders
      RoleArn: !GetAtt MachineRole.Arn
      Definition:
        StartAt: Resize
        States:
          Resize:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {FunctionName: !GetAtt Resize.Arn, Payload.$: "$"}
            Next: FanOut
          FanOut:
            Type: Parallel
            Branches:
              - StartAt: Notify
                States:
                  Notify:
                    Type: Task
                    Resource: arn:aws:states:::sns:publish
                    Parameters: {TopicArn: !Ref Alerts, Message.$: "$"}
                    End: true
              - StartAt: Enqueue
                States:
                  Enqueue:
                    Type: Task
                    Resource: arn:aws:states:::sqs:sendMessage.waitForTaskToken
                    Parameters: {QueueUrl: !Ref Jobs, MessageBody.$: "$"}
                    End: true
            Next: EachItem
          EachItem:
            Type: Map
            ItemsPath: $.items
            ItemProcessor:
              ProcessorConfig: {Mode: INLINE}
              StartAt: Load
              States:
                Load:
                  Type: Task
                  Resource: arn:aws:states:::dynamodb:getItem
                  Parameters: {TableName: !Ref Orders, Key: {id: {S.$: "$.id"}}}
                  Next: Save
                Save:
                  Type: Task
                  Resource: arn:aws:states:::dynamodb:putItem
                  Parameters: {TableName: !Ref Orders, Item: {id: {S.$: "$.id"}}}
                  Next: Touch
                Touch:
                  Type: Task
                  Resource: arn:aws:states:::dynamodb:updateItem
                  Parameters: {TableName: orders, Key: {id: {S.$: "$.id"}}, UpdateExpression: "SET n = :n"}
                  Next: Forget
                Forget:
                  Type: Task
                  Resource: arn:aws:states:::dynamodb:deleteItem
                  Parameters: {TableName: !Ref Orders, Key: {id: {S.$: "$.id"}}}
                  End: true
            Next: Process
          Process:
            Type: Task
            Resource: arn:aws:states:::ecs:runTask.sync
            Parameters: {LaunchType: FARGATE, TaskDefinition: !Ref ProcessTask}
            Next: Transform
          Transform:
            Type: Task
            Resource: arn:aws:states:::glue:startJobRun.sync
            Parameters: {JobName: nightly-etl}
            Next: RunChild
          RunChild:
            Type: Task
            Resource: arn:aws:states:::states:startExecution.sync:2
            Parameters: {StateMachineArn: !Ref Child, Input.$: "$"}
            End: true
  LegacyMachine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !GetAtt MachineRole.Arn
      DefinitionString: !Sub |
        {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "${Legacy.Arn}", "End": true}}}
""" % {"trust": TRUST}

GRANT_CFN = """                Action: [logs:CreateLogDelivery]
                Resource: "*\""""


def granted_cfn(actions):
    return GRANT_CFN.replace("[logs:CreateLogDelivery]", "[logs:CreateLogDelivery, " + ", ".join(actions) + "]")


@pytest.mark.parametrize("rule", sorted(MACHINE_NEEDS))
def test_cloudformation_state_machine_role_needs_what_its_tasks_call(tree, capsys, rule):
    rc, found = check(capsys, tree, {"stack.yaml": CFN})
    assert rc == 1
    assert missing(found, rule) == [("MachineRole", a, r) for a, r in MACHINE_NEEDS[rule]]
    assert all(f["decision"] == "implicit_deny" and f["blocked_by"] == ["identity"] for f in of_rule(found, rule))


def test_cloudformation_where_each_requirement_comes_from(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": CFN})
    origins = {(f["rule"], f["action"]): origin(f) for f in found if f["rule"].startswith("IG24")}
    assert origins[("IG2402", "sns:Publish")] == "Machine (Definition.States.Notify)"  # in a Parallel branch
    assert origins[("IG2404", "dynamodb:PutItem")] == "Machine (Definition.States.Save)"  # in a Map
    assert sorted(origin(f) for f in of_rule(found, "IG2401")) == [
        "LegacyMachine (DefinitionString.json.States.Call)", "Machine (Definition.States.Resize)"]
    f = next(f for f in of_rule(found, "IG2405"))
    assert f["origin"]["location"] == {"file": "stack.yaml", "line": line_of(CFN, "  Machine:")}


def test_cloudformation_state_machine_passes_when_its_role_allows_every_call(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": CFN.replace(GRANT_CFN, granted_cfn(ALL_ACTIONS))})
    assert [f for f in found if f["rule"].startswith("IG24")] == [] and rc == 0


def test_cloudformation_grant_on_the_exact_arns(tree, capsys):
    """Granting each call on its own ARN passes; granting it on another resource does not."""
    statements = "\n".join(f"              - {{Effect: Allow, Action: [{a}], Resource: \"{r}\"}}"
                           for needs in MACHINE_NEEDS.values() for a, r in needs)
    exact = CFN.replace(GRANT_CFN, GRANT_CFN + "\n" + statements)
    rc, found = check(capsys, tree, {"stack.yaml": exact})
    assert [f for f in found if f["rule"].startswith("IG24")] == [] and rc == 0
    wrong = exact.replace(f'Resource: "{TABLE}"}}', f'Resource: "{TABLE}-archive"}}')
    rc, found = check(capsys, tree, {"stack.yaml": wrong})
    assert missing(found, "IG2404") == [("MachineRole", a, TABLE) for a, _ in MACHINE_NEEDS["IG2404"]]


def test_an_unresolved_definition_substitution_is_decided_on_every_queue(tree, capsys):
    """DefinitionSubstitutions are not applied: ${Q} is no queue, the call is decided on "*"."""
    template = CFN.replace("Parameters: {QueueUrl: !Ref Jobs, MessageBody.$: \"$\"}",
                           "Parameters: {QueueUrl: \"${Q}\", MessageBody.$: \"$\"}")
    template = template.replace("      StateMachineName: orders\n",
                                "      StateMachineName: orders\n      DefinitionSubstitutions: {Q: !Ref Jobs}\n")
    rc, found = check(capsys, tree, {"stack.yaml": template})
    unknown = of_rule(found, "IG2403")
    assert [(f["action"], f["resource"], f["decision"]) for f in unknown] == [("sqs:SendMessage", "*", "unknown")]
    assert "could not be resolved offline" in unknown[0]["message"]


TF = """
resource "aws_iam_role" "machine" {
  name = "machine"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "states.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "machine" {
  role = aws_iam_role.machine.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["logs:CreateLogDelivery"], Resource = "*" }]
  })
}

resource "aws_iam_role" "fn" {
  name = "fn"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_lambda_function" "resize" {
  function_name = "resize"
  role          = aws_iam_role.fn.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "resize.zip"
}

resource "aws_lambda_function" "legacy" {
  function_name = "legacy"
  role          = aws_iam_role.fn.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "legacy.zip"
}

resource "aws_sns_topic" "alerts" {
  name = "alerts"
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_dynamodb_table" "orders" {
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_ecs_task_definition" "process" {
  family                   = "process"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  network_mode             = "awsvpc"
  container_definitions    = jsonencode([{ name = "app", image = "busybox" }])
}

resource "aws_sfn_state_machine" "child" {
  name       = "child"
  role_arn   = aws_iam_role.machine.arn
  definition = jsonencode({ StartAt = "Done", States = { Done = { Type = "Succeed" } } })
}

resource "aws_sfn_state_machine" "orders" {
  name     = "orders"
  role_arn = aws_iam_role.machine.arn
  definition = jsonencode({
    StartAt = "Resize"
    States = {
      Resize = {
        Type       = "Task"
        Resource   = "arn:aws:states:::lambda:invoke"
        Parameters = { FunctionName = aws_lambda_function.resize.arn, "Payload.$" = "$" }
        Next       = "FanOut"
      }
      FanOut = {
        Type = "Parallel"
        Branches = [
          { StartAt = "Notify", States = { Notify = { Type = "Task", Resource = "arn:aws:states:::sns:publish",
              Parameters = { TopicArn = aws_sns_topic.alerts.arn, "Message.$" = "$" }, End = true } } },
          { StartAt = "Enqueue", States = { Enqueue = { Type = "Task", Resource = "arn:aws:states:::sqs:sendMessage",
              Parameters = { QueueUrl = aws_sqs_queue.jobs.url, "MessageBody.$" = "$" }, End = true } } },
        ]
        Next = "EachItem"
      }
      EachItem = {
        Type = "Map"
        ItemProcessor = {
          ProcessorConfig = { Mode = "INLINE" }
          StartAt = "Load"
          States = {
            Load   = { Type = "Task", Resource = "arn:aws:states:::dynamodb:getItem",
                       Parameters = { TableName = aws_dynamodb_table.orders.name }, Next = "Save" }
            Save   = { Type = "Task", Resource = "arn:aws:states:::dynamodb:putItem",
                       Parameters = { TableName = aws_dynamodb_table.orders.name }, Next = "Touch" }
            Touch  = { Type = "Task", Resource = "arn:aws:states:::dynamodb:updateItem",
                       Parameters = { TableName = aws_dynamodb_table.orders.name }, Next = "Forget" }
            Forget = { Type = "Task", Resource = "arn:aws:states:::dynamodb:deleteItem",
                       Parameters = { TableName = aws_dynamodb_table.orders.name }, End = true }
          }
        }
        Next = "Process"
      }
      Process = {
        Type       = "Task"
        Resource   = "arn:aws:states:::ecs:runTask.sync"
        Parameters = { LaunchType = "FARGATE", TaskDefinition = aws_ecs_task_definition.process.arn }
        Next       = "Transform"
      }
      Transform = {
        Type       = "Task"
        Resource   = "arn:aws:states:::glue:startJobRun.sync"
        Parameters = { JobName = "nightly-etl" }
        Next       = "RunChild"
      }
      RunChild = {
        Type       = "Task"
        Resource   = "arn:aws:states:::states:startExecution.sync:2"
        Parameters = { StateMachineArn = aws_sfn_state_machine.child.arn }
        End        = true
      }
    }
  })
}

resource "aws_sfn_state_machine" "legacy" {
  name     = "legacy"
  role_arn = aws_iam_role.machine.arn
  definition = <<-EOT
    {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "${aws_lambda_function.legacy.arn}", "End": true}}}
  EOT
}
"""


def test_terraform_state_machine_role_needs_what_its_tasks_call(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": TF})
    assert rc == 1
    for rule, needs in MACHINE_NEEDS.items():
        assert missing(found, rule) == [("aws_iam_role.machine", a, r) for a, r in needs], rule
    origins = {(f["rule"], f["action"]): origin(f) for f in found}
    assert origins[("IG2403", "sqs:SendMessage")] == "aws_sfn_state_machine.orders (definition.json.States.Enqueue)"
    rc, found = check(capsys, tree, {"main.tf": TF.replace('["logs:CreateLogDelivery"]',
                                                           str(["logs:CreateLogDelivery"] + ALL_ACTIONS)
                                                           .replace("'", '"'))})
    assert [f for f in found if f["rule"].startswith("IG24")] == [] and rc == 0


def test_terraform_templatefile_definition(tree, capsys):
    """templatefile() is read with its variables: the function ARN is the one the module gives."""
    tf = TF.replace('''  definition = <<-EOT
    {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "${aws_lambda_function.legacy.arn}", "End": true}}}
  EOT''', '''  definition = templatefile("${path.module}/legacy.asl.json", { fn = aws_lambda_function.legacy.arn })''')
    assert tf != TF
    asl = '{"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "${fn}", "End": true}}}\n'
    rc, found = check(capsys, tree, {"main.tf": tf, "legacy.asl.json": asl})
    assert ("aws_iam_role.machine", "lambda:InvokeFunction", LEGACY_FN) in missing(found, "IG2401")
    assert {origin(f) for f in of_rule(found, "IG2401")} == {
        "aws_sfn_state_machine.legacy (definition.json.States.Call)",
        "aws_sfn_state_machine.orders (definition.json.States.Resize)"}


SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  ExecRole:
    Type: AWS::IAM::Role
    Properties:%(trust)s
      Policies:
        - PolicyName: machine
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogDelivery]
                Resource: "*"
  Resize:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: resize
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(e, c): pass"
  Alerts:
    Type: AWS::SNS::Topic
    Properties: {TopicName: alerts}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Role: !GetAtt ExecRole.Arn
      Definition:
        StartAt: Resize
        States:
          Resize:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {FunctionName: !GetAtt Resize.Arn}
            Next: Notify
          Notify:
            Type: Task
            Resource: arn:aws:states:::sns:publish
            Parameters: {TopicArn: !Ref Alerts, Message: done}
            End: true
""" % {"trust": TRUST}


def test_sam_state_machine_with_a_role_of_its_own(tree, capsys):
    rc, found = check(capsys, tree, {"template.yaml": SAM})
    assert rc == 1
    assert missing(found, "IG2401") == [("ExecRole", "lambda:InvokeFunction", FN)]
    assert missing(found, "IG2402") == [("ExecRole", "sns:Publish", TOPIC)]
    assert origin(of_rule(found, "IG2401")[0]) == "Machine (Definition.States.Resize)"
    rc, found = check(capsys, tree, {"template.yaml": SAM.replace(
        GRANT_CFN, granted_cfn(["lambda:InvokeFunction", "sns:Publish"]))})
    assert [f for f in found if f["rule"].startswith("IG24")] == [] and rc == 0


def test_sam_generated_role_gets_what_the_policy_templates_grant(tree, capsys):
    template = SAM.replace("      Role: !GetAtt ExecRole.Arn\n",
                           "      Policies:\n        - LambdaInvokePolicy: {FunctionName: !Ref Resize}\n")
    rc, found = check(capsys, tree, {"template.yaml": template})
    assert missing(found, "IG2401") == []
    assert missing(found, "IG2402") == [("MachineRole", "sns:Publish", TOPIC)]
    template = template.replace("        - LambdaInvokePolicy: {FunctionName: !Ref Resize}\n",
                                "        - LambdaInvokePolicy: {FunctionName: !Ref Resize}\n"
                                "        - SNSPublishMessagePolicy: {TopicName: !GetAtt Alerts.TopicName}\n")
    rc, found = check(capsys, tree, {"template.yaml": template})
    assert [f for f in found if f["rule"].startswith("IG24")] == []


def test_odd_definitions_do_not_crash(tree, capsys):
    odd = CFN.replace("Parameters: {FunctionName: !GetAtt Resize.Arn, Payload.$: \"$\"}", "Parameters: resize") \
        .replace("StartAt: Notify\n                States:", "StartAt: Notify\n                States: []\n"
                 "                Unused:")
    odd = odd.replace('"Resource": "${Legacy.Arn}"', '"Resource": null')
    rc, found = check(capsys, tree, {"stack.yaml": odd})
    unknown = of_rule(found, "IG2401")
    assert [(f["resource"], f["decision"]) for f in unknown] == [("*", "unknown")]
    assert missing(found, "IG2402") == []
    broken = CFN.replace('"Resource": "${Legacy.Arn}", "End": true}}}', '"Resource": "${Legacy.Arn}", "End"')
    rc, found = check(capsys, tree, {"stack.yaml": broken})
    assert missing(found, "IG2401") == [("MachineRole", "lambda:InvokeFunction", FN)]


# ---------------------------------------------------------------- EventBridge rules, Scheduler, Pipes

MACHINE = ACCOUNT.format("states", "stateMachine:orders")
STREAM = ACCOUNT.format("kinesis", "stream/clicks")
BUS = ACCOUNT.format("events", "event-bus/audit")
REPORT = ACCOUNT.format("lambda", "function:report")
SQS_READ = ("sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")
KINESIS_READ = ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                "kinesis:GetShardIterator", "kinesis:ListShards")

DYNAMODB_READ = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
ORDERS_STREAM = ACCOUNT.format("dynamodb", "table/orders/stream/")  # the label is made up offline: a prefix

WIRED_NEEDS = {
    "IG2410": ("EventsRole", [("ecs:RunTask", TASK), ("events:PutEvents", BUS), ("kinesis:PutRecord", STREAM),
                              ("states:StartExecution", MACHINE)]),
    "IG2411": ("SchedulerRole", [("lambda:InvokeFunction", REPORT), ("sqs:SendMessage", QUEUE)]),
    "IG2412": ("PipeRole", sorted([(a, STREAM) for a in KINESIS_READ] + [(a, QUEUE) for a in SQS_READ]
                                  + [(a, ORDERS_STREAM) for a in DYNAMODB_READ])),
    "IG2413": ("PipeRole", [("lambda:InvokeFunction", REPORT), ("states:StartExecution", MACHINE)]),
}


def streams_cut(found):
    """The stream ARNs with their label (a time the readers make up offline) cut off."""
    return [(p, a, r[:len(ORDERS_STREAM)] if r.startswith(ORDERS_STREAM) else r) for p, a, r in found]


def _role(name, service):
    return f"""
  {name}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {{Effect: Allow, Principal: {{Service: {service}}}, Action: sts:AssumeRole}}
      Policies:
        - PolicyName: base
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogDelivery]
                Resource: "*\""""


WIRED_CFN = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:""" + _role("EventsRole", "events.amazonaws.com") + _role("SchedulerRole", "scheduler.amazonaws.com") \
    + _role("PipeRole", "pipes.amazonaws.com") + _role("MachineRole", "states.amazonaws.com") + """
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: orders
      RoleArn: !GetAtt MachineRole.Arn
      Definition: {StartAt: Done, States: {Done: {Type: Succeed}}}
  Report:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: report
      Runtime: python3.12
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: !GetAtt MachineRole.Arn
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {Name: clicks, ShardCount: 1}
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {QueueName: jobs}
  Audit:
    Type: AWS::Events::EventBus
    Properties: {Name: audit}
  Cluster:
    Type: AWS::ECS::Cluster
    Properties: {ClusterName: work}
  ProcessTask:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: process
      ContainerDefinitions: [{Name: app, Image: "public.ecr.aws/docker/library/busybox:latest"}]
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: cron(0 3 * * ? *)
      Targets:
        - {Id: machine, Arn: !Ref Machine, RoleArn: !GetAtt EventsRole.Arn}
        - {Id: clicks, Arn: !GetAtt Clicks.Arn, RoleArn: !GetAtt EventsRole.Arn}
        - {Id: audit, Arn: !GetAtt Audit.Arn, RoleArn: !GetAtt EventsRole.Arn}
        - Id: process
          Arn: !GetAtt Cluster.Arn
          RoleArn: !GetAtt EventsRole.Arn
          EcsParameters: {TaskDefinitionArn: !Ref ProcessTask, LaunchType: FARGATE}
        - {Id: report, Arn: !GetAtt Report.Arn}
  Hourly:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(1 hour)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target: {Arn: !GetAtt Report.Arn, RoleArn: !GetAtt SchedulerRole.Arn}
  Daily:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(1 day)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target: {Arn: !GetAtt Jobs.Arn, RoleArn: !GetAtt SchedulerRole.Arn, Input: "{}"}
  Universal:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(1 day)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target: {Arn: "arn:aws:scheduler:::aws-sdk:sqs:purgeQueue", RoleArn: !GetAtt SchedulerRole.Arn}
  JobsPipe:
    Type: AWS::Pipes::Pipe
    Properties:
      RoleArn: !GetAtt PipeRole.Arn
      Source: !GetAtt Jobs.Arn
      Target: !Ref Machine
  ClicksPipe:
    Type: AWS::Pipes::Pipe
    Properties:
      RoleArn: !GetAtt PipeRole.Arn
      Source: !GetAtt Clicks.Arn
      SourceParameters: {KinesisStreamParameters: {StartingPosition: LATEST}}
      Target: !GetAtt Report.Arn
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  OrdersPipe:
    Type: AWS::Pipes::Pipe
    Properties:
      RoleArn: !GetAtt PipeRole.Arn
      Source: !GetAtt Orders.StreamArn
      SourceParameters: {DynamoDBStreamParameters: {StartingPosition: LATEST}}
      Target: !GetAtt Report.Arn
"""

BASE_GRANT = """                Action: [logs:CreateLogDelivery]
                Resource: "*\""""


def _granting(text, grant, actions):
    assert grant in text
    return text.replace(grant, grant.replace("logs:CreateLogDelivery", ", ".join(["logs:CreateLogDelivery"] + actions)))


@pytest.mark.parametrize("rule", sorted(WIRED_NEEDS))
def test_cloudformation_targets_and_sources_need_the_role_they_name(tree, capsys, rule):
    rc, found = check(capsys, tree, {"stack.yaml": WIRED_CFN})
    assert rc == 1
    role, needs = WIRED_NEEDS[rule]
    assert streams_cut(missing(found, rule)) == [(role, a, r) for a, r in needs]
    actions = sorted({a for a, _ in needs})
    granted = WIRED_CFN.replace(_role(role, _service(role)), _granting(_role(role, _service(role)), BASE_GRANT,
                                                                       actions))
    rc, found = check(capsys, tree, {"stack.yaml": granted})
    assert missing(found, rule) == []


def _service(role):
    return {"EventsRole": "events.amazonaws.com", "SchedulerRole": "scheduler.amazonaws.com",
            "PipeRole": "pipes.amazonaws.com"}[role]


def test_cloudformation_origins_of_targets(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": WIRED_CFN})
    origins = {(f["rule"], f["action"]): origin(f) for f in found}
    assert origins[("IG2410", "ecs:RunTask")] == "Nightly (Targets[3])"
    assert origins[("IG2411", "sqs:SendMessage")] == "Daily (Target.Arn)"
    assert origins[("IG2413", "states:StartExecution")].startswith("JobsPipe")


WIRED_TF = """
locals {
  trust = { for s in ["events", "scheduler", "pipes", "states"] : s => jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "${s}.amazonaws.com" }, Action = "sts:AssumeRole" }]
  }) }
}

resource "aws_iam_role" "events" {
  name               = "events"
  assume_role_policy = local.trust["events"]
}

resource "aws_iam_role_policy" "events" {
  role   = aws_iam_role.events.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["logs:CreateLogDelivery"], Resource = "*" }] })
}

resource "aws_iam_role" "scheduler" {
  name               = "scheduler"
  assume_role_policy = local.trust["scheduler"]
}

resource "aws_iam_role_policy" "scheduler" {
  role   = aws_iam_role.scheduler.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["logs:CreateLogDelivery"], Resource = "*" }] })
}

resource "aws_iam_role" "pipe" {
  name               = "pipe"
  assume_role_policy = local.trust["pipes"]
}

resource "aws_iam_role_policy" "pipe" {
  role   = aws_iam_role.pipe.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["logs:CreateLogDelivery"], Resource = "*" }] })
}

resource "aws_iam_role" "machine" {
  name               = "machine"
  assume_role_policy = local.trust["states"]
}

resource "aws_sfn_state_machine" "orders" {
  name       = "orders"
  role_arn   = aws_iam_role.machine.arn
  definition = jsonencode({ StartAt = "Done", States = { Done = { Type = "Succeed" } } })
}

resource "aws_lambda_function" "report" {
  function_name = "report"
  role          = aws_iam_role.machine.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "report.zip"
}

resource "aws_kinesis_stream" "clicks" {
  name        = "clicks"
  shard_count = 1
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_cloudwatch_event_bus" "audit" {
  name = "audit"
}

resource "aws_ecs_cluster" "work" {
  name = "work"
}

resource "aws_ecs_task_definition" "process" {
  family                = "process"
  container_definitions = jsonencode([{ name = "app", image = "busybox" }])
}

resource "aws_cloudwatch_event_rule" "nightly" {
  name                = "nightly"
  schedule_expression = "cron(0 3 * * ? *)"
}

resource "aws_cloudwatch_event_target" "machine" {
  rule     = aws_cloudwatch_event_rule.nightly.name
  arn      = aws_sfn_state_machine.orders.arn
  role_arn = aws_iam_role.events.arn
}

resource "aws_cloudwatch_event_target" "clicks" {
  rule     = aws_cloudwatch_event_rule.nightly.name
  arn      = aws_kinesis_stream.clicks.arn
  role_arn = aws_iam_role.events.arn
}

resource "aws_cloudwatch_event_target" "audit" {
  rule     = aws_cloudwatch_event_rule.nightly.name
  arn      = aws_cloudwatch_event_bus.audit.arn
  role_arn = aws_iam_role.events.arn
}

resource "aws_cloudwatch_event_target" "process" {
  rule     = aws_cloudwatch_event_rule.nightly.name
  arn      = aws_ecs_cluster.work.arn
  role_arn = aws_iam_role.events.arn
  ecs_target {
    task_definition_arn = aws_ecs_task_definition.process.arn
    launch_type         = "FARGATE"
  }
}

resource "aws_cloudwatch_event_target" "report" {
  rule = aws_cloudwatch_event_rule.nightly.name
  arn  = aws_lambda_function.report.arn
}

resource "aws_scheduler_schedule" "hourly" {
  name                = "hourly"
  schedule_expression = "rate(1 hour)"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.report.arn
    role_arn = aws_iam_role.scheduler.arn
  }
}

resource "aws_scheduler_schedule" "daily" {
  name                = "daily"
  schedule_expression = "rate(1 day)"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_sqs_queue.jobs.arn
    role_arn = aws_iam_role.scheduler.arn
  }
}

resource "aws_pipes_pipe" "jobs" {
  name     = "jobs"
  role_arn = aws_iam_role.pipe.arn
  source   = aws_sqs_queue.jobs.arn
  target   = aws_sfn_state_machine.orders.arn
}

resource "aws_dynamodb_table" "orders" {
  name             = "orders"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "id"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_pipes_pipe" "orders" {
  name     = "orders"
  role_arn = aws_iam_role.pipe.arn
  source   = aws_dynamodb_table.orders.stream_arn
  target   = aws_lambda_function.report.arn
}

resource "aws_pipes_pipe" "clicks" {
  name     = "clicks"
  role_arn = aws_iam_role.pipe.arn
  source   = aws_kinesis_stream.clicks.arn
  target   = aws_lambda_function.report.arn
  source_parameters {
    kinesis_stream_parameters {
      starting_position = "LATEST"
    }
  }
}
"""

TF_ROLES = {"EventsRole": "events", "SchedulerRole": "scheduler", "PipeRole": "pipe"}


@pytest.mark.parametrize("rule", sorted(WIRED_NEEDS))
def test_terraform_targets_and_sources_need_the_role_they_name(tree, capsys, rule):
    role, needs = WIRED_NEEDS[rule]
    tf_role = TF_ROLES[role]
    rc, found = check(capsys, tree, {"main.tf": WIRED_TF})
    assert rc == 1
    assert streams_cut(missing(found, rule)) == [(f"aws_iam_role.{tf_role}", a, r) for a, r in needs]
    grant = f'resource "aws_iam_role_policy" "{tf_role}" {{\n  role   = aws_iam_role.{tf_role}.id\n' \
            '  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ' \
            '["logs:CreateLogDelivery"]'
    assert grant in WIRED_TF
    actions = sorted({a for a, _ in WIRED_NEEDS[rule][1]})
    rc, found = check(capsys, tree, {"main.tf": WIRED_TF.replace(grant, grant.replace(
        '"logs:CreateLogDelivery"', ", ".join(f'"{a}"' for a in ["logs:CreateLogDelivery"] + actions)))})
    assert missing(found, rule) == []


ODD = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Unknown: {Type: String}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: states.amazonaws.com}, Action: sts:AssumeRole}
  A:
    Type: AWS::StepFunctions::StateMachine
    Properties: {RoleArn: !GetAtt Role.Arn, Definition: "not a mapping"}
  B:
    Type: AWS::StepFunctions::StateMachine
    Properties: {RoleArn: !GetAtt Role.Arn, DefinitionString: [1, 2]}
  C:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !GetAtt Role.Arn
      Definition: {States: {X: {Type: Task, Resource: arn:aws:states:::sns:publish, Parameters: [a]},
                            Y: {Type: Task, Resource: 7}, Z: null, W: [1]}}
  D:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !Ref Unknown
      Definition: {States: {X: {Type: Task, Resource: arn:aws:states:::sns:publish, Parameters: {TopicArn: x}}}}
  Rule:
    Type: AWS::Events::Rule
    Properties: {Targets: "nope"}
  Rule2:
    Type: AWS::Events::Rule
    Properties: {Targets: [null, 3, {Arn: !Ref Unknown, RoleArn: !GetAtt Role.Arn}]}
  Schedule:
    Type: AWS::Scheduler::Schedule
    Properties: {Target: [1, 2]}
  Pipe:
    Type: AWS::Pipes::Pipe
    Properties: {RoleArn: !GetAtt Role.Arn, Source: null, Target: {Arn: x}}
"""


def test_odd_orchestration_inputs_do_not_crash(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": ODD})
    # only the publish whose topic is not given is inferred (on every topic, unknown)
    assert [(f["rule"], f["resource"], f["decision"]) for f in found if f["rule"].startswith("IG24")] == [
        ("IG2402", "*", "unknown")]


def test_a_dynamodb_stream_source_is_decided_on_the_stream_arn(tree, capsys):
    """A grant on the table's streams passes; one on the table alone does not cover its stream."""
    pipe_role = _role("PipeRole", "pipes.amazonaws.com")

    def granting_on(resource):
        statement = ("\n              - {Effect: Allow, Action: [dynamodb:DescribeStream, dynamodb:GetRecords, "
                     f"dynamodb:GetShardIterator], Resource: \"{resource}\"}}")
        return WIRED_CFN.replace(pipe_role, pipe_role + statement)

    rc, found = check(capsys, tree, {"stack.yaml": granting_on(TABLE + "/stream/*")})
    assert [f for f in of_rule(found, "IG2412") if f["action"].startswith("dynamodb:")] == []
    rc, found = check(capsys, tree, {"stack.yaml": granting_on(TABLE)})
    assert sorted(a for _, a, _ in missing(found, "IG2412") if a.startswith("dynamodb:")) == list(DYNAMODB_READ)
