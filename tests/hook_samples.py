"""A small repository as the hook meets it: two CloudFormation stacks with the manifest's
requirements on them, and a Terraform module whose wiring implies a requirement (rules/lambda.yaml,
IG2101). ``write_repo`` lays it out; each piece takes the actions its policy grants, so that a test
makes one of them fail by granting less."""
import pathlib

GRANTED = ("sqs:SendMessage", "sqs:ReceiveMessage")


def stack(role: str, queue: str, actions=GRANTED) -> str:
    return f"""\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  {queue}:
    Type: AWS::SQS::Queue
  {role}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [{", ".join(actions)}]
                Resource: !GetAtt {queue}.Arn
"""


MANIFEST = """\
version: 1
principals:
  - principal: WorkerRole
    needs:
      - actions: [sqs:ReceiveMessage]
        resources: "${JobsQueue.Arn}"
  - principal: BillingRole
    needs:
      - actions: [sqs:ReceiveMessage]
        resources: "${InvoicesQueue.Arn}"
"""


def module(actions=("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")) -> str:
    quoted = ", ".join(f'"{a}"' for a in actions)
    return f"""\
resource "aws_sqs_queue" "jobs" {{
  name = "jobs"
}}

resource "aws_iam_role" "worker" {{
  name = "worker"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = {{ Service = "lambda.amazonaws.com" }}, Action = "sts:AssumeRole" }}]
  }})
}}

resource "aws_iam_role_policy" "worker" {{
  role = aws_iam_role.worker.id
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [
      {{ Effect = "Allow", Action = [{quoted}], Resource = aws_sqs_queue.jobs.arn }},
      {{ Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "arn:aws:logs:*:*:*" }},
    ]
  }})
}}

resource "aws_lambda_function" "worker" {{
  function_name = "worker"
  role          = aws_iam_role.worker.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "worker.zip"
}}

resource "aws_lambda_event_source_mapping" "jobs" {{
  event_source_arn = aws_sqs_queue.jobs.arn
  function_name    = aws_lambda_function.worker.arn
}}
"""


def write_repo(root: pathlib.Path) -> None:
    """orders/stack.yaml (WorkerRole, JobsQueue), billing/stack.yaml (BillingRole, InvoicesQueue),
    infra/main.tf, the manifest, and files iamgate does not read."""
    for folder in ("orders", "billing", "infra"):
        (root / folder).mkdir(exist_ok=True)
    (root / "orders" / "stack.yaml").write_text(stack("WorkerRole", "JobsQueue"))
    (root / "billing" / "stack.yaml").write_text(stack("BillingRole", "InvoicesQueue"))
    (root / "infra" / "main.tf").write_text(module())
    (root / "iamgate.yaml").write_text(MANIFEST)
    (root / "package.json").write_text('{"name": "orders", "private": true}\n')
    (root / "README.md").write_text("# orders\n")
