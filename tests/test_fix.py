"""Fixes: each syntax's fix applied to a copy of the files, the check re-run, the finding gone.

Every pipeline test runs the real readers, the manifest, the check and ``add_fixes``, writes the
fixes with ``apply_fixes``, checks again (the findings are gone and nothing new appeared) and has
``git apply --check`` accept the unified diff of the same fixes.
"""
import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from iamgate.findings.check import check
from iamgate.pipeline import scope_from
from iamgate.fix import add_fixes, apply_fixes, unified_diff
from iamgate.fix.edits import apply_edits
from iamgate.report.text import fix_lines
from iamgate.manifest import load_manifest
from iamgate.model import Edit, Fix
from iamgate.scan import read_inventory, read_policy_files
from iamgate.sources import options_from

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def read_text(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def run_check(paths, manifest_path="iamgate.yaml"):
    """The pipeline as ``iamgate check`` runs it (in the working directory)."""
    manifest = load_manifest(manifest_path, read_text(manifest_path))
    inventory = read_inventory(paths, options_from(manifest.settings, manifest.resolve))
    kinds = {manifest.resolve(f): "scp" for f in manifest.scp}
    kinds.update({manifest.resolve(f): "rcp" for f in manifest.rcp})
    for entry in manifest.principals:
        for f in entry.policies:
            kinds.setdefault(manifest.resolve(f), "identity")
        if entry.boundary:
            kinds.setdefault(manifest.resolve(entry.boundary), "boundary")
    files, problems = read_policy_files(list(kinds), kinds)
    assert not problems
    scope = scope_from(inventory, manifest, files, options_from(manifest.settings, manifest.resolve))
    return add_fixes(check(scope), scope, read_text)


def missing(report):
    return {(f.principal, f.action, f.resource) for f in report.findings if f.kind == "missing-permission"}


def git_apply_check(root: Path, diff: str) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_NOSYSTEM="1", HOME=str(root))
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
    assert git("init", "-q").returncode == 0
    assert git("add", "-A").returncode == 0
    assert git("commit", "-q", "-m", "base").returncode == 0
    (root / "fix.diff").write_text(diff)
    result = git("apply", "--check", "fix.diff")
    assert result.returncode == 0, result.stderr + diff


def fix_and_recheck(root: Path, paths, manifest_path="iamgate.yaml"):
    """Findings before, the fixes, and the findings after applying them."""
    before = run_check(paths, manifest_path)
    fixes = [f.fix for f in before.findings if f.fix is not None]
    diff = unified_diff(fixes, read_text)
    git_apply_check(root, diff)
    written = apply_fixes(fixes, read_text, write_text)
    assert written
    after = run_check(paths, manifest_path)
    return before, diff, after


def by_action(report):
    return {f.action: f for f in report.findings if f.kind == "missing-permission"}


# ---------------------------------------------------------------------------------------------
# CloudFormation YAML: identity (new statement), boundary (flow list), key policy (cycle)


def test_cloudformation_yaml_example(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLES / "cloudformation", tmp_path / "cfn")
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["cfn"], "cfn/iamgate.yaml")
    found = by_action(before)
    assert set(found) == {"s3:PutObject", "sns:Publish", "kms:GenerateDataKey"}

    put = found["s3:PutObject"].fix
    assert fix_lines(put) == [
        'fix: add to policy "worker" (cfn/orders-stack.yaml:80):',
        "       - Effect: Allow",
        "         Action: s3:PutObject",
        '         Resource: !Sub "${InvoicesBucket.Arn}/2026/*"',
    ]
    assert [(e.start, e.end) for e in put.edits] == [(101, 100)]
    assert put.edits[0].text.startswith("              - Effect: Allow\n                Action: s3:PutObject\n")

    boundary = found["sns:Publish"].fix
    assert boundary.text.startswith('add sns:Publish to statement WorkloadServices of the permissions boundary '
                                    '"WorkerBoundary"')
    assert boundary.edits == (Edit("cfn/orders-stack.yaml", 61, 61,
                                   "            Action: [s3:*, sqs:*, kms:*, logs:*, sns:Publish]\n"),)

    # WorkerRole refers to InvoicesKey: naming it in the key policy would be a circular
    # dependency, so the key policy names the account and the role's policy grants the rest
    key = found["kms:GenerateDataKey"].fix
    assert "the key policy of InvoicesKey" in key.text and "circular" in key.text
    assert 'AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"' in key.text

    assert missing(after) == set()
    assert [f for f in after.findings if f.severity == "error"] == []


# ---------------------------------------------------------------------------------------------
# CloudFormation YAML: trust policy, block-style Action merge, a single-statement resource policy


TRUST_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          Sid: OwnAccount
          Effect: Allow
          Principal:
            AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
          Action: sqs:*
          Resource: !GetAtt Queue.Arn
  Target:
    Type: AWS::IAM::Role
    Properties:
      RoleName: target
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Caller:
    Type: AWS::IAM::Role
    Properties:
      RoleName: caller
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: caller
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Assume
                Effect: Allow
                Action: sts:AssumeRole
                Resource: "*"
              - Sid: Consume
                Effect: Allow
                Action:
                  - sqs:ReceiveMessage
                Resource: !GetAtt Queue.Arn
"""


def test_cloudformation_trust_resource_policy_and_block_merge(tmp_path, monkeypatch):
    write(tmp_path, {
        "infra/stack.yaml": TRUST_TEMPLATE,
        "partner.json": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:eu-west-1:111122223333:jobs"}]}, indent=2),
        "iamgate.yaml": """
            version: 1
            settings: {account: "111122223333", region: eu-west-1}
            principals:
              - principal: Caller
                needs:
                  - actions: sts:AssumeRole
                    resources: "${Target.Arn}"
                  - actions: sqs:DeleteMessage
                    resources: "${Queue.Arn}"
              - principal: arn:aws:iam::444455556666:role/partner
                policies: [partner.json]
                needs:
                  - actions: sqs:SendMessage
                    resources: arn:aws:sqs:eu-west-1:111122223333:jobs
            """,
    })
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["infra"])
    found = by_action(before)
    assert found["sts:AssumeRole"].decision.blocked_by == ("trust",)
    trust = found["sts:AssumeRole"].fix
    assert trust.text.startswith("add to the trust policy of Target (infra/stack.yaml:")
    assert "AWS: !GetAtt Caller.Arn" in trust.text and "Resource" not in trust.text

    merge = found["sqs:DeleteMessage"].fix
    assert merge.text.startswith("add sqs:DeleteMessage to statement Consume")
    assert [e.text for e in merge.edits] == ["                  - sqs:DeleteMessage\n"]

    cross = found["sqs:SendMessage"].fix
    assert found["sqs:SendMessage"].decision.blocked_by == ("resource",)
    assert "the resource policy QueuePolicy" in cross.text
    assert 'AWS: "arn:aws:iam::444455556666:role/partner"' in cross.text
    assert "Resource: !GetAtt Queue.Arn" in cross.text
    assert "          - Sid: OwnAccount\n" in diff  # the single statement became a list item

    assert missing(after) == set()
    assert [f for f in after.findings if f.severity == "error"] == []


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
# Terraform: aws_iam_policy_document in a module, jsonencode key policy in the root


def test_terraform_example(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLES / "terraform", tmp_path / "tf")
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["tf"], "tf/iamgate.yaml")
    found = by_action(before)
    put = found["s3:PutObject"].fix
    assert fix_lines(put) == [
        'fix: add to policy "worker" (tf/modules/worker/main.tf:47):',
        "       statement {",
        '         sid       = "S3PutObject"',
        '         actions   = ["s3:PutObject"]',
        '         resources = ["${var.bucket_arn}/2026/*"]',  # the module's own name for the bucket
        "       }",
    ]
    assert put.file == "tf/modules/worker/main.tf" and put.edits[0].start == 37

    key = found["kms:GenerateDataKey"].fix
    assert key.text.startswith("add to the key policy of aws_kms_key.invoices (tf/main.tf:32):")
    assert "    }, {\n      Effect    = \"Allow\"\n" in key.edits[0].text

    assert missing(after) == set()
    assert [f for f in after.findings if f.severity == "error"] == []


JSONENCODE_TF = """
resource "aws_s3_bucket" "data" {
  bucket = "data-111122223333"
}

resource "aws_sns_topic" "events" {
  name = "events"
}

resource "aws_iam_role" "app" {
  name = "app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "app" {
  name = "app"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Read"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${aws_s3_bucket.data.arn}/*"
      },
    ]
  })
}
"""


def test_terraform_jsonencode_inline_policy(tmp_path, monkeypatch):
    write(tmp_path, {
        "main.tf": JSONENCODE_TF,
        "iamgate.yaml": """
            version: 1
            settings: {account: "111122223333", region: eu-west-1}
            principals:
              - principal: aws_iam_role.app
                needs:
                  - actions: [s3:PutObject, s3:DeleteObject]
                    resources: "${aws_s3_bucket.data.arn}/*"
                  - actions: sns:Publish
                    resources: "${aws_sns_topic.events.arn}"
            """,
    })
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["main.tf"])
    found = by_action(before)
    put, delete = found["s3:PutObject"].fix, found["s3:DeleteObject"].fix
    assert put is delete
    assert put.edits == (Edit("main.tf", 30, 30,
                              '        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]\n'),)
    publish = found["sns:Publish"].fix
    assert fix_lines(publish)[1:] == [
        "       {",
        '         Effect   = "Allow"',
        '         Action   = "sns:Publish"',
        "         Resource = aws_sns_topic.events.arn",
        "       }",
    ]
    assert "+      {\n+        Effect   = \"Allow\"\n" in diff and "+      },\n" in diff  # after the trailing comma

    assert missing(after) == set()
    assert [f for f in after.findings if f.severity == "error"] == []


def test_terraform_document_in_another_file_of_the_module(tmp_path, monkeypatch):
    write(tmp_path, {
        "tf/policy.tf": """
            data "aws_iam_policy_document" "app" {
              statement {
                sid       = "Send"
                actions   = ["sqs:SendMessage"]
                resources = [aws_sqs_queue.jobs.arn]
              }
            }
            """,
        "tf/main.tf": """
            resource "aws_sqs_queue" "jobs" {
              name = "jobs"
            }

            resource "aws_iam_role" "app" {
              name               = "app"
              assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{
                Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }] })
            }

            resource "aws_iam_role_policy" "app" {
              role   = aws_iam_role.app.id
              policy = data.aws_iam_policy_document.app.json
            }
            """,
        "iamgate.yaml": """
            version: 1
            settings: {account: "111122223333", region: eu-west-1}
            principals:
              - principal: aws_iam_role.app
                needs:
                  - actions: sqs:DeleteMessage
                    resources: "${aws_sqs_queue.jobs.arn}"
                  - actions: sqs:ListQueues
                    resources: "*"
            """,
    })
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["tf"])
    found = by_action(before)
    merge = found["sqs:DeleteMessage"].fix
    assert merge.file == "tf/policy.tf"
    assert merge.text.splitlines()[1].strip() == 'actions   = ["sqs:SendMessage", "sqs:DeleteMessage"]'
    assert found["sqs:ListQueues"].fix.text.startswith('add to policy "aws_iam_role_policy.app" (tf/policy.tf:1):')
    assert missing(after) == set()


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


# ---------------------------------------------------------------------------------------------
# Where iamgate does not edit: an account export, an explicit deny


def test_account_export_and_explicit_deny_get_text_only(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLES / "account-export", tmp_path / "acct")
    monkeypatch.chdir(tmp_path / "acct")
    report = run_check(["."])
    found = by_action(report)
    put = found["s3:PutObject"].fix
    assert put.edits == ()
    assert put.text.startswith('the policy "worker" lives in AWS (read from account-authorization-details.json:')
    assert '"Action": "s3:PutObject",' in put.text

    deny = found["s3:GetObject"].fix
    assert deny.edits == ()
    assert deny.text.startswith("narrow statement NoSecrets (account-authorization-details.json:32:29)")
    assert unified_diff([f.fix for f in report.findings if f.fix], read_text) == ""


def test_an_unknown_decision_gets_no_fix():
    from iamgate.model import Inventory, Location, Principal
    from iamgate.policy import parse_policy, unresolved_policy
    known = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, "p", "identity",
        location=Location("p.json", 1), statement_location=lambda i: Location("p.json", 3))
    hole = unresolved_policy("ReadOnlyAccess", "identity", Location("p.json", 9), "arn:aws:iam::aws:policy/X")
    role = Principal(id="r", type="role", arn="arn:aws:iam::111122223333:role/r", account="111122223333",
                     identity_policies=(known, hole), location=Location("p.json", 1), aliases=("r",))
    manifest = load_manifest("iamgate.yaml", "version: 1\nprincipals:\n  - principal: r\n    needs:\n"
                                             "      - {actions: s3:PutObject, resources: 'arn:aws:s3:::b/k'}\n")
    scope = scope_from(Inventory(principals=(role,)), manifest)
    report = add_fixes(check(scope), scope, {"p.json": "{}"}.get)
    (f,) = [f for f in report.findings if f.kind == "missing-permission"]
    assert f.decision.result == "unknown" and f.fix is None


# ---------------------------------------------------------------------------------------------
# Diffs and edits on in-memory files


def test_unified_diff_of_several_edits_in_one_file():
    files = {"p.yaml": "a\nb\nc\nd\n", "q.txt": "x\ny"}
    fixes = [
        Fix("p.yaml", 2, "", (Edit("p.yaml", 3, 2, "one\n"), Edit("p.yaml", 4, 4, "D\n"))),
        Fix("p.yaml", 2, "", (Edit("p.yaml", 3, 2, "one\n"), Edit("p.yaml", 3, 2, "two\n"))),  # same place
        Fix("q.txt", 3, "", (Edit("q.txt", 3, 2, "z\n"),)),  # after a last line with no newline
    ]
    assert apply_edits(files["p.yaml"], [e for f in fixes[:2] for e in f.edits]) == "a\nb\none\ntwo\nc\nD\n"
    diff = unified_diff(fixes, files.get)
    assert diff.startswith("diff --git a/p.yaml b/p.yaml\n--- a/p.yaml\n+++ b/p.yaml\n")
    assert "-y\n\\ No newline at end of file\n+y\n+z\n" in diff
    written = {}
    assert apply_fixes(fixes, files.get, written.__setitem__) == ["p.yaml", "q.txt"]
    assert written == {"p.yaml": "a\nb\none\ntwo\nc\nD\n", "q.txt": "x\ny\nz\n"}


def test_crlf_files_keep_their_line_ending():
    assert apply_edits("a\r\nb\r\n", [Edit("f", 2, 1, "new\n")]) == "a\r\nnew\r\nb\r\n"


def test_fix_lines_indents_the_snippet():
    fix = Fix("f.yaml", 3, 'add to policy "p" (f.yaml:2):\n  - Effect: Allow\nand add to x:\n  y')
    assert fix_lines(fix) == ['fix: add to policy "p" (f.yaml:2):', "       - Effect: Allow",
                              "     and add to x:", "       y"]


# ---------------------------------------------------------------------------------------------
# SAM: a policy generated from a policy template gets a new entry in the resource's Policies list

SAM_TEMPLATE = """
    AWSTemplateFormatVersion: "2010-09-09"
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Orders:
        Type: AWS::Serverless::SimpleTable
      Jobs:
        Type: AWS::SQS::Queue
      Worker:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          CodeUri: src/
          Policies:
            - DynamoDBReadPolicy:
                TableName: !Ref Orders
            - SQSPollerPolicy:
                QueueName: !GetAtt Jobs.QueueName
          Timeout: 10
    """

SAM_MANIFEST = """
    version: 1
    settings: {account: "111122223333", region: eu-west-1}
    principals:
      - principal: Worker
        needs:
          - actions: [dynamodb:GetItem, dynamodb:PutItem]
            resources: "${Orders.Arn}"
          - actions: [sqs:ReceiveMessage, sqs:SendMessage]
            resources: "${Jobs.Arn}"
    """


def test_sam_function_policy_template_gets_a_policies_entry(tmp_path, monkeypatch):
    write(tmp_path, {"template.yaml": SAM_TEMPLATE, "iamgate.yaml": SAM_MANIFEST})
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["template.yaml"])
    found = by_action(before)
    assert set(found) == {"dynamodb:PutItem", "sqs:SendMessage"}
    put = found["dynamodb:PutItem"].fix
    assert put.text.startswith("add to the Policies of function Worker (template.yaml:14):")
    assert put.edits and put.file == "template.yaml"
    text = (tmp_path / "template.yaml").read_text()
    assert ("            QueueName: !GetAtt Jobs.QueueName\n"
            "        - Version: \"2012-10-17\"\n"
            "          Statement:\n"
            "            - Effect: Allow\n"
            "              Action: dynamodb:PutItem\n"
            "              Resource: !GetAtt Orders.Arn\n") in text
    assert "Resource: !GetAtt Jobs.Arn\n      Timeout: 10\n" in text
    assert not missing(after)
    assert not [f for f in after.findings if f.kind == "missing-permission"]
    assert {(f.kind, f.message) for f in after.findings} <= {(f.kind, f.message) for f in before.findings}


@pytest.mark.parametrize("policies", [
    "Policies: [{DynamoDBReadPolicy: {TableName: !Ref Orders}}]",
    "Policies: AmazonDynamoDBReadOnlyAccess",
])
def test_sam_policies_not_a_block_list_get_text_only(tmp_path, monkeypatch, policies):
    template = SAM_TEMPLATE.replace("""
          Policies:
            - DynamoDBReadPolicy:
                TableName: !Ref Orders
            - SQSPollerPolicy:
                QueueName: !GetAtt Jobs.QueueName
    """, "\n          " + policies + "\n")
    assert template != SAM_TEMPLATE
    write(tmp_path, {"template.yaml": template, "iamgate.yaml": SAM_MANIFEST})
    monkeypatch.chdir(tmp_path)
    report = run_check(["template.yaml"])
    fixes = [f.fix for f in report.findings if f.kind == "missing-permission" and f.fix is not None]
    assert fixes and all(not f.edits for f in fixes)


def test_sam_state_machine_policies_at_the_key_indentation(tmp_path, monkeypatch):
    write(tmp_path, {"template.yaml": """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Orders:
            Type: AWS::Serverless::SimpleTable
          Flow:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
              Policies:
              - DynamoDBReadPolicy:
                  TableName: !Ref Orders
        """, "iamgate.yaml": """
        version: 1
        settings: {account: "111122223333", region: eu-west-1}
        principals:
          - principal: Flow
            needs:
              - actions: [dynamodb:PutItem]
                resources: "${Orders.Arn}/index/*"
        """})
    monkeypatch.chdir(tmp_path)
    before, diff, after = fix_and_recheck(tmp_path, ["template.yaml"])
    fix = by_action(before)["dynamodb:PutItem"].fix
    assert fix.text.startswith("add to the Policies of state machine Flow (template.yaml:9):")
    assert ("      - Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n"
            "            Action: dynamodb:PutItem\n"
            "            Resource: !Sub \"${Orders.Arn}/index/*\"\n") in (tmp_path / "template.yaml").read_text()
    assert not missing(after)
    assert {(f.kind, f.message) for f in after.findings} <= {(f.kind, f.message) for f in before.findings}
