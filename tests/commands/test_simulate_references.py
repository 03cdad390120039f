"""``iamgate simulate PRINCIPAL ACTION RESOURCE``: the resource may be written with the manifest's
references (${OrdersTable.Arn}, ${aws_sqs_queue.jobs.arn}), resolved as check resolves them; one
that cannot be resolved is a usage error naming it."""
import pytest

from ..cli import run

ACCOUNT = "111122223333"

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  OrdersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  ApiRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: orders-api
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: table
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [dynamodb:GetItem, dynamodb:Query]
                Resource: [!GetAtt OrdersTable.Arn, !Sub "${OrdersTable.Arn}/index/*"]
"""

MAIN_TF = """
resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_iam_role" "worker" {
  name = "worker"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow",
    Action = "sts:AssumeRole", Principal = {Service = "lambda.amazonaws.com"}}]})
}

resource "aws_iam_role_policy" "consume" {
  role = aws_iam_role.worker.id
  policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow",
    Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage"], Resource = aws_sqs_queue.jobs.arn}]})
}
"""

MANIFEST = f'version: 1\nsettings: {{account: "{ACCOUNT}", region: eu-west-1}}\nprincipals: []\n'


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))  # not in the scanned tree


@pytest.fixture
def cfn(tmp_path, monkeypatch):
    (tmp_path / "orders-stack.yaml").write_text(TEMPLATE)
    (tmp_path / "iamgate.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_cloudformation_reference_is_the_resource_it_names(cfn, capsys):
    rc, out, err = run(capsys, "simulate", "ApiRole", "dynamodb:Query", "${OrdersTable.Arn}/index/by-customer", ".")
    assert rc == 0, out + err
    assert out.startswith(f"dynamodb:Query on arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders/index/by-customer")
    assert "ALLOWED" in out

    rc, out, err = run(capsys, "simulate", "ApiRole", "dynamodb:PutItem", "${OrdersTable.Arn}", ".")
    assert rc == 1, out + err
    assert out.startswith(f"dynamodb:PutItem on arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders\n")


def test_the_same_answer_as_the_arn_written_out(cfn, capsys):
    by_ref = run(capsys, "simulate", "ApiRole", "dynamodb:GetItem", "${OrdersTable.Arn}", ".")
    by_arn = run(capsys, "simulate", "ApiRole", "dynamodb:GetItem",
                 f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders", ".")
    assert by_ref == by_arn and by_ref[0] == 0


def test_pseudo_parameters_come_from_the_settings(cfn, capsys):
    rc, out, err = run(capsys, "simulate", "ApiRole", "dynamodb:GetItem",
                       "arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders", ".")
    assert rc == 0, out + err
    assert f"on arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders" in out


def test_an_unresolvable_reference_is_a_usage_error_naming_it(cfn, capsys):
    rc, out, err = run(capsys, "simulate", "ApiRole", "dynamodb:GetItem", "${OrderTable.Arn}", ".")
    assert rc == 2
    assert "could not resolve ${OrderTable.Arn} in ${OrderTable.Arn}" in out + err
    assert "ALLOWED" not in out and "DENIED" not in out


def test_an_ambiguous_reference_is_not_guessed(tmp_path, monkeypatch, capsys):
    # the same logical ID in two same-named templates: two tables, so ${OrdersTable.Arn} names none
    for folder in ("eu", "us"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "template.yaml").write_text(TEMPLATE.replace("TableName: orders", "TableName: !Sub "
                                                                          '"orders-${AWS::StackName}"'))
    (tmp_path / "iamgate.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "simulate", "eu/template.yaml:ApiRole", "dynamodb:GetItem", "${OrdersTable.Arn}", ".")
    assert rc == 2
    assert "could not resolve ${OrdersTable.Arn}" in out + err
    rc, out, err = run(capsys, "simulate", "eu/template.yaml:ApiRole", "dynamodb:GetItem",
                       f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders-eu", ".")
    assert rc == 0, out + err


def test_a_terraform_reference_is_the_resource_it_names(tmp_path, monkeypatch, capsys):
    (tmp_path / "main.tf").write_text(MAIN_TF)
    (tmp_path / "iamgate.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "simulate", "aws_iam_role.worker", "sqs:ReceiveMessage",
                       "${aws_sqs_queue.jobs.arn}", ".")
    assert rc == 0, out + err
    assert out.startswith(f"sqs:ReceiveMessage on arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs\n")
    rc, out, err = run(capsys, "simulate", "aws_iam_role.worker", "sqs:SendMessage", "${aws_sqs_queue.jobs.arn}", ".")
    assert rc == 1, out + err
    rc, out, err = run(capsys, "simulate", "aws_iam_role.worker", "sqs:SendMessage", "${aws_sqs_queue.job.arn}", ".")
    assert rc == 2 and "could not resolve ${aws_sqs_queue.job.arn}" in out + err
