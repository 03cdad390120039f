"""Deploy checks end to end (issue 13): `iamgate check` with a manifest whose principal deploys
paths, decided against the installed deploy data (cfn-lint's bundled schemas, pike's vendored
mappings)."""
import json
import textwrap


from tests.cli import run

ACCOUNT = "111122223333"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources="*", **extra):
    return dict({"Effect": "Allow", "Action": actions, "Resource": resources}, **extra)


def write(tree, files):
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(textwrap.dedent(text).lstrip() if name.endswith((".yaml", ".tf")) else text)


def check(capsys, tree, files, *argv):
    write(tree, files)
    rc, out, err = run(capsys, "check", "--format", "json", *argv)
    assert "Traceback" not in err and "internal error" not in err, err
    return rc, json.loads(out)["findings"] if out else [], err


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
"""

MANIFEST = f"""
version: 1
settings: {{account: "{ACCOUNT}", region: eu-west-1}}
principals:
  - principal: arn:aws:iam::{ACCOUNT}:role/ci-deploy
    policies: [ci/deploy.json]
    deploys: [infra/]
"""

# what AWS::Lambda::Function's handlers call beyond lambda:* (its bundled schema lists them)
LAMBDA_EXTRAS = ["elasticfilesystem:DescribeMountTargets", "s3files:ListMountTargets", "s3:GetObjectVersion"]
def deploy_role(*statements):
    return {"ci/deploy.json": policy(*statements)}


def of(found, rule):
    return [f for f in found if f["rule"] == rule]


def test_a_role_passed_to_lambda_without_passrole(tree, capsys):
    grants = allow(["sqs:*", "lambda:*", "cloudformation:*", "iam:CreateRole", "iam:DeleteRole", "iam:GetRole",
                    "iam:UpdateRole", "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:GetRolePolicy",
                    "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListRolePolicies",
                    "iam:ListAttachedRolePolicies", "iam:UpdateAssumeRolePolicy", "iam:ListRoleTags",
                    "iam:UpdateRoleDescription", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
                    "ec2:Describe*", "kms:*", "s3:GetObject", "iam:ListInstanceProfilesForRole",
                    "iam:ListRoles", "iam:GetRolePolicy"] + LAMBDA_EXTRAS)
    files = dict({"infra/stack.yaml": STACK, "iamgate.yaml": MANIFEST}, **deploy_role(grants))
    rc, found, _ = check(capsys, tree, files)
    deploy = of(found, "IG1101")
    assert rc == 1 and deploy, found
    passrole = [f for f in deploy if f["action"] == "iam:PassRole"]
    assert passrole and passrole[0]["resource"] == f"arn:aws:iam::{ACCOUNT}:role/worker"
    assert passrole[0]["origin"]["resource"] == "Worker"
    # every other deploy action of the stack is granted
    assert {f["action"] for f in deploy} == {"iam:PassRole"}, deploy
    granted = dict(grants, Action=grants["Action"] + ["iam:PassRole"])
    rc, found, _ = check(capsys, tree, deploy_role(granted))
    assert of(found, "IG1101") == [] and rc == 0, found


def test_a_new_resource_type_the_deploy_role_lacks_names_the_resource(tree, capsys):
    grants = allow(["sqs:*", "lambda:*", "iam:*", "cloudformation:*", "ec2:Describe*", "kms:*", "s3:GetObject"]
                   + LAMBDA_EXTRAS)
    stack = STACK + """
  Events:
    Type: AWS::SNS::Topic
    Properties: {TopicName: events}
"""
    rc, found, _ = check(capsys, tree, dict({"infra/stack.yaml": stack, "iamgate.yaml": MANIFEST},
                                           **deploy_role(grants)))
    deploy = of(found, "IG1101")
    assert rc == 1 and deploy and {f["origin"]["resource"] for f in deploy} == {"Events"}, deploy
    assert "sns:CreateTopic" in {f["action"] for f in deploy}
    create = next(f for f in deploy if f["action"] == "sns:CreateTopic")
    assert create["resource"] == f"arn:aws:sns:eu-west-1:{ACCOUNT}:events"
    assert create["origin"]["location"]["line"] == stack.lstrip("\n").splitlines().index("  Events:") + 1


def test_cdk_bootstrap_layout_deploy_role_passes_the_execution_role(tree, capsys):
    """CDK's bootstrap: the deploy role calls CloudFormation and passes the execution role, which
    CloudFormation uses to create the resources."""
    manifest = MANIFEST + f"    cloudformation_role: arn:aws:iam::{ACCOUNT}:role/cdk-exec\n" + f"""
  - principal: arn:aws:iam::{ACCOUNT}:role/cdk-exec
    policies: [ci/exec.json]
"""
    exec_policy = policy(allow(["sqs:*", "lambda:*", "iam:*", "ec2:Describe*", "kms:*", "s3:GetObject"] + LAMBDA_EXTRAS))
    deployer = deploy_role(allow(["cloudformation:*"]))
    files = dict({"infra/stack.yaml": STACK, "iamgate.yaml": manifest, "ci/exec.json": exec_policy}, **deployer)
    rc, found, _ = check(capsys, tree, files)
    deploy = of(found, "IG1101")
    # the deploy role may not pass the execution role to CloudFormation
    assert [(f["principal"], f["action"], f["resource"]) for f in deploy] == [
        (f"arn:aws:iam::{ACCOUNT}:role/ci-deploy", "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/cdk-exec")]
    deployer = deploy_role(allow(["cloudformation:*"]), allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/cdk-exec",
                                                             Condition={"StringEquals": {
                                                                 "iam:PassedToService": "cloudformation.amazonaws.com"}}))
    rc, found, _ = check(capsys, tree, deployer)
    assert of(found, "IG1101") == [] and rc == 0, found
    # the execution role without SQS: the queue cannot be created, and the finding names it
    write(tree, {"ci/exec.json": policy(allow(["lambda:*", "iam:*", "ec2:Describe*", "kms:*", "s3:GetObject"]
                                              + LAMBDA_EXTRAS))})
    rc, found, _ = check(capsys, tree, {})
    deploy = of(found, "IG1101")
    assert rc == 1 and {f["principal"] for f in deploy} == {f"arn:aws:iam::{ACCOUNT}:role/cdk-exec"}
    assert {f["origin"]["resource"] for f in deploy} == {"JobsQueue"}


PLAN = {
    "format_version": "1.2", "terraform_version": "1.9.0",
    "planned_values": {"root_module": {"resources": [
        {"address": "aws_s3_bucket.data", "mode": "managed", "type": "aws_s3_bucket", "name": "data",
         "values": {"bucket": "data-bucket", "arn": "arn:aws:s3:::data-bucket"}},
        {"address": "aws_s3_bucket_policy.data", "mode": "managed", "type": "aws_s3_bucket_policy", "name": "data",
         "values": {"bucket": "data-bucket", "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}}]}},
    "resource_changes": [
        {"address": "aws_s3_bucket.data", "mode": "managed", "type": "aws_s3_bucket", "name": "data",
         "change": {"actions": ["no-op"], "before": {}, "after": {}}},
        {"address": "aws_s3_bucket_policy.data", "mode": "managed", "type": "aws_s3_bucket_policy", "name": "data",
         "change": {"actions": ["update"], "before": {}, "after": {}}}],
    "configuration": {"root_module": {"resources": [
        {"address": "aws_s3_bucket_policy.data", "mode": "managed", "type": "aws_s3_bucket_policy", "name": "data",
         "expressions": {"bucket": {"references": ["aws_s3_bucket.data.id", "aws_s3_bucket.data"]}}}]}},
}


def test_a_plan_that_only_updates_a_bucket_policy(tree, capsys):
    manifest = MANIFEST.replace("deploys: [infra/]", "deploys: [infra/plan.json]")
    files = {"infra/plan.json": json.dumps(PLAN), "iamgate.yaml": manifest}
    rc, found, _ = check(capsys, tree, dict(files, **deploy_role(allow("s3:Get*"), allow("s3:List*"))))
    deploy = of(found, "IG1101")
    assert rc == 1 and {f["origin"]["resource"] for f in deploy} == {"aws_s3_bucket_policy.data"}
    assert {f["action"] for f in deploy} == {"s3:PutBucketPolicy"}
    assert {f["resource"] for f in deploy} == {"arn:aws:s3:::data-bucket"}
    # nothing to create or delete: s3:CreateBucket / s3:DeleteBucket are not asked for
    rc, found, _ = check(capsys, tree, deploy_role(allow("s3:Get*"), allow("s3:List*"),
                                                   allow("s3:PutBucketPolicy", "arn:aws:s3:::data-bucket")))
    assert of(found, "IG1101") == [] and rc == 0, found


def test_a_no_op_plan_needs_nothing_beyond_reads(tree, capsys):
    plan = json.loads(json.dumps(PLAN))
    plan["resource_changes"][1]["change"]["actions"] = ["no-op"]
    manifest = MANIFEST.replace("deploys: [infra/]", "deploys: [infra/plan.json]")
    rc, found, _ = check(capsys, tree, dict({"infra/plan.json": json.dumps(plan), "iamgate.yaml": manifest},
                                           **deploy_role(allow("s3:Get*"), allow("s3:List*"))))
    assert of(found, "IG1101") == [] and rc == 0, found
    rc, found, _ = check(capsys, tree, deploy_role(allow("sqs:*")))
    assert {f["action"].split(":")[0] for f in of(found, "IG1101")} == {"s3"}
    assert all(f["action"].startswith(("s3:Get", "s3:List")) for f in of(found, "IG1101"))


def test_deploys_that_define_nothing_is_a_warning(tree, capsys):
    (tree / "infra").mkdir()
    (tree / "other.yaml").write_text(textwrap.dedent(STACK).lstrip())
    rc, found, _ = check(capsys, tree, dict({"iamgate.yaml": MANIFEST}, **deploy_role(allow("*"))), "other.yaml")
    [w] = of(found, "IG0104")
    assert w["severity"] == "warning" and "defines no stack, resource or plan change" in w["message"]


def test_cfn_lint_without_its_schemas_is_an_input_error(tree, capsys, monkeypatch):
    from iamgate.catalog import cloudformation
    empty = tree / "empty"
    empty.mkdir()
    monkeypatch.setattr(cloudformation, "_cfnlint_dir", lambda: str(empty))
    cloudformation._clear_caches()
    try:
        files = dict({"infra/stack.yaml": STACK, "iamgate.yaml": MANIFEST}, **deploy_role(allow("*")))
        write(tree, files)
        rc, out, err = run(capsys, "check")
        assert rc == 2 and "schemas" in err and "Traceback" not in err, err
    finally:
        monkeypatch.undo()
        cloudformation._clear_caches()
