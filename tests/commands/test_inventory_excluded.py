"""``iamgate inventory`` lists what a false Condition, ``count = 0`` or an empty ``for_each`` leaves
out, with the parameters it depends on and the values used: a template whose IAM sits behind a
default-off parameter must not look empty (issue 11)."""
import json

from ..cli import run

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  EnableAdmin:
    Type: String
    Default: "false"
  Env:
    Type: String
    Default: dev
Conditions:
  CreateAdmin: !Equals [!Ref EnableAdmin, "true"]
  IsProd: !Equals [!Ref Env, prod]
  AdminInProd: !And [!Condition CreateAdmin, !Condition IsProd]
Resources:
  AdminRole:
    Type: AWS::IAM::Role
    Condition: AdminInProd
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Reporter:
    Type: AWS::Serverless::Function
    Condition: CreateAdmin
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: .
      Policies: [AWSLambdaBasicExecutionRole]
  Always:
    Type: AWS::SQS::Queue
"""

TERRAFORM = """\
variable "create_admin" {
  type    = bool
  default = false
}

variable "extra_roles" {
  type    = map(string)
  default = {}
}

resource "aws_iam_role" "admin" {
  count = var.create_admin ? 1 : 0
  name  = "admin"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role" "extra" {
  for_each           = var.extra_roles
  name               = each.key
  assume_role_policy = "{}"
}
"""


def inventory(capsys, *argv):
    rc, out, err = run(capsys, "inventory", "--format", "json", *argv)
    assert rc == 0 and "Traceback" not in err, err
    return json.loads(out)


def test_cloudformation_and_sam_resources_behind_false_conditions_are_listed(tree, capsys):
    (tree / "stack.yaml").write_text(TEMPLATE)
    doc = inventory(capsys, "stack.yaml")
    assert doc["principals"] == []
    excluded = {e["id"]: e for e in doc["excluded"]}
    assert excluded["AdminRole"] == {
        "id": "AdminRole", "type": "AWS::IAM::Role", "reason": "Condition AdminInProd is false",
        "depends_on": ["EnableAdmin=false", "Env=dev"], "location": {"file": "stack.yaml", "line": 15}}
    # the SAM function and the role SAM would generate for it, named as the user wrote them
    assert excluded["Reporter"]["type"] == "AWS::Serverless::Function"
    assert excluded["Reporter"]["depends_on"] == ["EnableAdmin=false"]
    assert excluded["ReporterRole"]["generated_by"] == "Reporter"
    assert "Always" not in excluded
    # the text says the same, and the parameter values that bring them in
    rc, out, _ = run(capsys, "inventory", "stack.yaml")
    assert "left out: AWS::IAM::Role AdminRole — Condition AdminInProd is false (EnableAdmin=false, Env=dev)" in out
    assert out.rstrip().endswith("left out by conditions")
    # with the parameter on, they are principals and nothing is left out
    (tree / "iamgate.yaml").write_text("version: 1\nsettings:\n  parameters: {EnableAdmin: 'true', Env: prod}\n")
    doc = inventory(capsys, "stack.yaml")
    assert {p["id"] for p in doc["principals"]} == {"AdminRole", "ReporterRole"}
    assert doc["excluded"] == []


def test_terraform_count_zero_and_empty_for_each_are_listed(tree, capsys):
    (tree / "main.tf").write_text(TERRAFORM)
    doc = inventory(capsys, ".")
    assert doc["principals"] == []
    assert doc["excluded"] == [
        {"id": "aws_iam_role.admin", "type": "aws_iam_role", "reason": "count = 0",
         "depends_on": ["create_admin=false"], "location": {"file": "main.tf", "line": 11}},
        {"id": "aws_iam_role.extra", "type": "aws_iam_role", "reason": "for_each is empty",
         "depends_on": ["extra_roles={}"], "location": {"file": "main.tf", "line": 20}}]
    (tree / "terraform.tfvars").write_text('create_admin = true\n')
    doc = inventory(capsys, ".")
    assert [p["id"] for p in doc["principals"]] == ["aws_iam_role.admin[0]"]
    assert [e["id"] for e in doc["excluded"]] == ["aws_iam_role.extra"]
