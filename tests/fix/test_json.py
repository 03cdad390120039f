"""The JSON writers (CloudFormation JSON, policy files): each fix applied to a copy of the files,
the check re-run, the finding gone."""
import json

from .helpers import by_action, fix_and_recheck, missing, write


# ---------------------------------------------------------------------------------------------
# CloudFormation JSON: a merge into a string Action, two actions as one statement, a key policy


CFN_JSON = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "reports-111122223333"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "reports"}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "Admins", "Effect": "Allow",
                           "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/admins"}},
                           "Action": "kms:*", "Resource": "*"}]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "reporter",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "reporter", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "Queue", "Effect": "Allow", "Action": "sqs:ReceiveMessage",
                 "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}},
                {"Sid": "Keys", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}}]}},
    },
}


def test_cloudformation_json_template(tmp_path, monkeypatch):
    write(tmp_path, {
        "stack.json": json.dumps(CFN_JSON, indent=2) + "\n",
        "iamgate.yaml": """
            version: 1
            settings: {account: "111122223333", region: eu-west-1}
            principals:
              - principal: Role
                needs:
                  - actions: [s3:PutObject, s3:DeleteObject]
                    resources: "${Bucket.Arn}/*"
                  - actions: sqs:DeleteMessage
                    resources: "${Queue.Arn}"
                  - actions: kms:Decrypt
                    resources: "${Key.Arn}"
            """,
    })
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["stack.json"])
    found = by_action(before)
    put, delete = found["s3:PutObject"].fix, found["s3:DeleteObject"].fix
    assert put is delete  # one statement for both actions on the same resource
    assert '"Action": ["s3:PutObject", "s3:DeleteObject"]' in put.text
    assert '"Resource": {"Fn::Sub": "${Bucket.Arn}/*"}' in put.text

    merge = found["sqs:DeleteMessage"].fix
    assert merge.text.splitlines()[1].strip() == '"Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],'

    key = found["kms:Decrypt"].fix  # Role does not refer to Key: the key policy names the role
    assert '"Principal": {"AWS": {"Fn::GetAtt": ["Role", "Arn"]}}' in key.text

    assert missing(after) == set()
    json.loads((tmp_path / "stack.json").read_text())  # still JSON
    assert [f for f in after.findings if f.severity == "error"] == []


# ---------------------------------------------------------------------------------------------
# JSON policy files a manifest names: identity (single statement), boundary, SCP level


def test_json_policy_files_boundary_and_scp(tmp_path, monkeypatch):
    write(tmp_path, {
        "infra/.keep": "",
        "ci/deploy-role.json": """
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": "arn:aws:s3:::artifacts"
                }
            }
            """,
        "ci/boundary.json": """
            {
              "Version": "2012-10-17",
              "Statement": [
                {
                  "Sid": "Services",
                  "Effect": "Allow",
                  "Action": [
                    "s3:*",
                    "sqs:*"
                  ],
                  "Resource": "*"
                }
              ]
            }
            """,
        "org/root.json": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}]}, indent=2),
        "org/workloads.json": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Allowed", "Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"}]}, indent=2),
        "iamgate.yaml": """
            version: 1
            settings: {account: "111122223333", region: eu-west-1}
            guardrails:
              scp: [org/root.json, org/workloads.json]
            principals:
              - principal: arn:aws:iam::111122223333:role/ci-deploy
                policies: [ci/deploy-role.json]
                boundary: ci/boundary.json
                needs:
                  - actions: s3:PutObject
                    resources: "arn:aws:s3:::artifacts/*"
                  - actions: ssm:GetParameter
                    resources: "arn:aws:ssm:eu-west-1:111122223333:parameter/ci/token"
            """,
    })
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["infra"])
    found = by_action(before)
    assert found["ssm:GetParameter"].decision.blocked_by == ("identity", "boundary", "scp")
    text = found["ssm:GetParameter"].fix.text
    assert 'add to policy "deploy-role" (ci/deploy-role.json:1):' in text
    assert 'and add ssm:GetParameter to statement Services of the permissions boundary "boundary"' in text
    assert 'and add ssm:GetParameter to statement Allowed of the service control policy "workloads"' in text
    assert {e.file for e in found["ssm:GetParameter"].fix.edits} == {
        "ci/deploy-role.json", "ci/boundary.json", "org/workloads.json"}

    role = json.loads((tmp_path / "ci/deploy-role.json").read_text())
    assert isinstance(role["Statement"], list) and len(role["Statement"]) == 3  # the object became a list
    boundary = (tmp_path / "ci/boundary.json").read_text()
    assert '        "sqs:*",\n        "ssm:GetParameter"\n      ],' in boundary  # one item a line, as written

    assert missing(after) == set()
    assert [f for f in after.findings if f.severity == "error"] == []
