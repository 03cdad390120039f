"""findings/deploy.py: what a principal with deploys: must be able to do, over real readers'
inventories, with the deploy data given by the test (the installed data: tests/findings/test_deploy_check.py)."""
import json
import textwrap
from types import SimpleNamespace

from iamgate import pipeline
from iamgate.catalog.deploy import DeployActions
from iamgate.findings.deploy import deploy_needs, target

QUEUE = "arn:aws:sqs:eu-west-1:111122223333:jobs"

CFN_DATA = {
    "AWS::SQS::Queue": DeployActions("AWS::SQS::Queue", create=("sqs:CreateQueue", "sqs:GetQueueAttributes"),
                                     update=("sqs:SetQueueAttributes",), delete=("sqs:DeleteQueue",),
                                     read=("sqs:GetQueueAttributes",)),
    "AWS::IAM::Role": DeployActions("AWS::IAM::Role", create=("iam:CreateRole", "iam:PutRolePolicy"),
                                    update=("iam:UpdateRole",), delete=("iam:DeleteRole",)),
    "AWS::Lambda::Function": DeployActions("AWS::Lambda::Function", create=("lambda:CreateFunction",),
                                           update=("lambda:UpdateFunctionCode",), delete=("lambda:DeleteFunction",),
                                           problems=("schema of AWS::Lambda::Function names lambda:Nope, which IAM "
                                                     "does not know",)),
}
TF_DATA = {
    ("aws_s3_bucket", "managed"): DeployActions("aws_s3_bucket", create=("s3:CreateBucket",), update=("s3:PutBucketTagging",),
                                                delete=("s3:DeleteBucket",), read=("s3:GetBucketTagging", "s3:ListBucket"),
                                                conditional={"tags": ("s3:PutBucketTagging",)}),
    ("aws_s3_bucket_policy", "managed"): DeployActions("aws_s3_bucket_policy", create=("s3:PutBucketPolicy",),
                                                       update=("s3:PutBucketPolicy",), delete=("s3:DeleteBucketPolicy",),
                                                       read=("s3:GetBucketPolicy",)),
    ("aws_caller_identity", "data"): DeployActions("aws_caller_identity", read=("sts:GetCallerIdentity",)),
}


def fake_cfn():
    return SimpleNamespace(
        actions=lambda t, region="us-east-1": CFN_DATA.get(t) or DeployActions(t, known=False, problems=(
            f"no resource schema with handlers for {t} in the installed cfn-lint",)),
        stack_actions=lambda: ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
                               "cloudformation:DescribeStacks"))


def fake_tf():
    return SimpleNamespace(
        actions=lambda t, mode="managed": TF_DATA.get((t, mode)) or DeployActions(t, known=False),
        backend_actions=lambda config: ())


STACK = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: jobs}
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: worker
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: worker
      Runtime: python3.12
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: !GetAtt WorkerRole.Arn
  Widget:
    Type: AWS::Made::Up
"""

MANIFEST = """
version: 1
settings: {account: "111122223333", region: eu-west-1}
principals:
  - principal: arn:aws:iam::111122223333:role/ci-deploy
    policies: [ci/deploy.json]
    deploys: [infra/]
"""


def gather(tree, files, manifest=MANIFEST):
    for name, text in dict(files, **{"iamgate.yaml": manifest,
                                     "ci/deploy.json": json.dumps({"Version": "2012-10-17", "Statement": []})}).items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(textwrap.dedent(text).lstrip())
    return pipeline.gather(["infra"], "iamgate.yaml")


def needs_of(scope, **data):
    entry = scope.manifest.principals[0]
    return deploy_needs(scope.inventory, entry, scope.manifest, scope.settings, data.get("cfn", fake_cfn()),
                        data.get("tf", fake_tf()))


def test_a_template_needs_its_stack_actions_every_handler_and_passrole(tree):
    scope = gather(tree, {"infra/stack.yaml": STACK})
    needs, warnings = needs_of(scope)
    by = {(n.action, n.resource): n for n in needs}
    stack = "arn:aws:cloudformation:eu-west-1:111122223333:stack/stack/*"  # the stack of infra/stack.yaml
    assert by[("cloudformation:CreateChangeSet", stack)].source == "stack stack"
    assert by[("sqs:CreateQueue", QUEUE)].operations == ("create",)
    assert by[("sqs:DeleteQueue", QUEUE)].location.line == 3
    # the function passes WorkerRole to Lambda: PassRole on that role, with the service it goes to
    passrole = by[("iam:PassRole", "arn:aws:iam::111122223333:role/worker")]
    assert passrole.source == "Worker" and dict(passrole.context) == {"iam:PassedToService": ("lambda.amazonaws.com",)}
    # a type the data does not know is unknown, not skipped
    [made_up] = [n for n in needs if n.type == "AWS::Made::Up"]
    assert made_up.unknown.startswith("no resource schema with handlers for AWS::Made::Up")
    # the data's own fault is a warning, once
    assert [w for w, _ in warnings] == ["schema of AWS::Lambda::Function names lambda:Nope, which IAM does not know"]
    assert all(n.who == "deployer" for n in needs)


def test_with_a_cloudformation_service_role_the_role_deploys_the_resources(tree):
    manifest = MANIFEST + "    cloudformation_role: arn:aws:iam::111122223333:role/cfn-exec\n"
    scope = gather(tree, {"infra/stack.yaml": STACK}, manifest)
    needs, _ = needs_of(scope)
    who = {(n.action, n.who) for n in needs}
    assert ("sqs:CreateQueue", "service-role") in who and ("cloudformation:CreateChangeSet", "deployer") in who
    [pass_cfn] = [n for n in needs if n.action == "iam:PassRole" and n.who == "deployer"]
    assert pass_cfn.resource == "arn:aws:iam::111122223333:role/cfn-exec"
    assert dict(pass_cfn.context) == {"iam:PassedToService": ("cloudformation.amazonaws.com",)}
    assert {n.who for n in needs if n.action == "iam:PassRole" and n.source == "Worker"} == {"service-role"}


def test_sam_needs_the_transform_change_set(tree):
    sam = "Transform: AWS::Serverless-2016-10-31\n" + STACK.replace("AWSTemplateFormatVersion: \"2010-09-09\"\n", "")
    scope = gather(tree, {"infra/template.yaml": sam})
    needs, _ = needs_of(scope)
    assert any(n.action == "cloudformation:CreateChangeSet" and
               n.resource == "arn:aws:cloudformation:eu-west-1:aws:transform/Serverless-2016-10-31" for n in needs)


PLAN = {
    "format_version": "1.2", "terraform_version": "1.9.0",
    "planned_values": {"root_module": {"resources": [
        {"address": "aws_s3_bucket.data", "mode": "managed", "type": "aws_s3_bucket", "name": "data",
         "values": {"bucket": "data-bucket", "tags": {"team": "x"}}},
        {"address": "aws_s3_bucket_policy.data", "mode": "managed", "type": "aws_s3_bucket_policy", "name": "data",
         "values": {"bucket": "data-bucket", "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}}]}},
    "resource_changes": [
        {"address": "aws_s3_bucket.data", "mode": "managed", "type": "aws_s3_bucket", "name": "data",
         "change": {"actions": ["no-op"], "before": {}, "after": {}}},
        {"address": "aws_s3_bucket_policy.data", "mode": "managed", "type": "aws_s3_bucket_policy", "name": "data",
         "change": {"actions": ["update"], "before": {}, "after": {}}},
        {"address": "data.aws_caller_identity.me", "mode": "data", "type": "aws_caller_identity", "name": "me",
         "change": {"actions": ["read"], "before": None, "after": {}}}],
    "configuration": {"root_module": {"resources": [
        {"address": "aws_s3_bucket_policy.data", "mode": "managed", "type": "aws_s3_bucket_policy", "name": "data",
         "expressions": {"bucket": {"references": ["aws_s3_bucket.data.id", "aws_s3_bucket.data"]}}}]}},
}


def test_a_plan_that_only_updates_a_bucket_policy_needs_that_update_and_reads(tree):
    scope = gather(tree, {"infra/plan.json": json.dumps(PLAN)})
    needs, _ = needs_of(scope)
    got = sorted((n.source, n.action, n.operations) for n in needs)
    assert got == [("aws_s3_bucket.data", "s3:GetBucketTagging", ("read",)),
                   ("aws_s3_bucket.data", "s3:ListBucket", ("read",)),
                   ("aws_s3_bucket_policy.data", "s3:GetBucketPolicy", ("read",)),
                   ("aws_s3_bucket_policy.data", "s3:PutBucketPolicy", ("update",)),
                   ("data.aws_caller_identity.me", "sts:GetCallerIdentity", ("read",))]
    bucket = [n for n in needs if n.action == "s3:PutBucketPolicy"][0]
    assert bucket.resource == "arn:aws:s3:::data-bucket"  # the policy's actions act on the bucket


def test_a_no_op_plan_needs_reads_only(tree):
    plan = json.loads(json.dumps(PLAN))
    plan["resource_changes"][1]["change"]["actions"] = ["no-op"]
    scope = gather(tree, {"infra/plan.json": json.dumps(plan)})
    needs, _ = needs_of(scope)
    assert {n.operations for n in needs} == {("read",)}


def test_a_replacement_is_a_delete_and_a_create_and_hcl_needs_everything(tree):
    plan = json.loads(json.dumps(PLAN))
    plan["resource_changes"][0]["change"]["actions"] = ["delete", "create"]
    scope = gather(tree, {"infra/plan.json": json.dumps(plan)})
    needs, _ = needs_of(scope)
    ops = {n.action: n.operations for n in needs if n.source == "aws_s3_bucket.data"}
    assert ops["s3:DeleteBucket"] == ("delete",) and ops["s3:CreateBucket"] == ("create",)
    assert ops["s3:PutBucketTagging"] == ("create",)  # tags are set: the conditional permission
    scope = gather(tree, {"infra/plan.json": "{}", "infra/main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'})
    needs, _ = needs_of(scope)
    assert {n.action for n in needs if n.source == "aws_s3_bucket.b"} == {
        "s3:CreateBucket", "s3:PutBucketTagging", "s3:DeleteBucket", "s3:GetBucketTagging", "s3:ListBucket"}


def test_target_is_the_resource_only_when_the_action_acts_on_its_type():
    assert target("sqs:CreateQueue", QUEUE) == QUEUE
    assert target("iam:PassRole", QUEUE) == "*"
    assert target("sqs:ListQueues", QUEUE) == "*"
    assert target("sqs:CreateQueue", None) == "*"


def test_hcl_data_sources_are_read_at_every_plan(tree):
    hcl = 'data "aws_caller_identity" "me" {}\n\ndata "aws_made_up" "x" {}\n\nresource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'
    scope = gather(tree, {"infra/main.tf": hcl})
    needs, _ = needs_of(scope)
    reads = {(n.source, n.action, n.unknown != "") for n in needs if n.source.startswith("data.")}
    assert reads == {("data.aws_caller_identity.me", "sts:GetCallerIdentity", False),
                     ("data.aws_made_up.x", "(aws_made_up)", True)}
    [me] = [n for n in needs if n.source == "data.aws_caller_identity.me"]
    assert me.operations == ("read",) and me.location.line == 1
