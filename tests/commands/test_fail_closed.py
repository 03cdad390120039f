"""The gate fails closed, through the command line: a file that cannot be read makes the exit code 2
whatever --fail-on says; a decision that depends on an unresolved value is `unknown` and fails
unless --allow-unknown; an AWS managed policy the snapshot does not know is unresolved, never an
empty policy (which would turn `unknown` into a confident implicit deny, or a pass)."""
import json

import pytest

from ..cli import run

TRUST = "{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}"
STACK = f"""AWSTemplateFormatVersion: '2010-09-09'
Resources:
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: orders-worker
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{TRUST}]
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub
                  - "${{Arn}}/*"
                  - Arn: !ImportValue shared-bucket-arn
  ReaderRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: reader
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{TRUST}]
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccessButNotReally
"""
MANIFEST = """version: 1
settings: {account: "111122223333", region: us-east-1}
principals:
  - principal: %s
    needs:
      - actions: s3:GetObject
        resources: "arn:aws:s3:::orders-prod/x"
"""
TERRAFORM = """resource "aws_iam_role" "worker" {
  name               = "worker"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow",
    Principal = {Service = "lambda.amazonaws.com"}, Action = "sts:AssumeRole"}]})
}
resource "aws_iam_role_policy_attachment" "ro" {
  role       = aws_iam_role.worker.name
  policy_arn = "arn:aws:iam::aws:policy/NoSuchManagedPolicy"
}
"""
GOOD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


# ---------------------------------------------------------------------------------------------
# An unreadable input: exit 2, whatever --fail-on says


BROKEN = {
    "stack.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  R: [unclosed\n",
    "policy.json": '{"Version": "2012-10-17", "Statement": [',
    "main.tf": 'resource "aws_iam_role" "r" {\n  name = \n',
    "plan.json": '{"format_version": "1.2", "terraform_version": "1.5.0", "planned_values": {',
}


@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("fail_on", ["error", "warning", "note", "never"])
def test_unreadable_file_fails_check_whatever_fail_on_says(tree, capsys, name, fail_on):
    (tree / "good.json").write_text(json.dumps(GOOD))
    (tree / name).write_text(BROKEN[name])
    for fmt in ("text", "json"):
        rc, out, err = run(capsys, "check", "--fail-on", fail_on, "--format", fmt)
        assert rc == 2, (fmt, out, err)
        assert name in out
    rc, _, _ = run(capsys, "check", "--fail-on", fail_on, "--allow-unknown")
    assert rc == 2


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_unreadable_file_fails_inventory(tree, capsys, name):
    (tree / "good.json").write_text(json.dumps(GOOD))
    (tree / name).write_text(BROKEN[name])
    for fmt in ("text", "json"):
        rc, out, err = run(capsys, "inventory", "--format", fmt)
        assert rc == 2, (fmt, out, err)
        assert name in out


def test_binary_file_fails_with_fail_on_never(tree, capsys):
    (tree / "good.json").write_text(json.dumps(GOOD))
    (tree / "policy.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    rc, out, _ = run(capsys, "check", "--fail-on", "never")
    assert rc == 2 and "policy.json: is not UTF-8 text (byte 0)" in out


def test_a_manifest_file_that_cannot_be_read_fails_with_fail_on_never(tree, capsys):
    (tree / "good.json").write_text(json.dumps(GOOD))
    (tree / "iamgate.yaml").write_text("version: 1\nguardrails:\n  scp: [org/root.json]\n")
    rc, out, err = run(capsys, "check", "--fail-on", "never")
    assert rc == 2, out + err
    assert "org/root.json" in out + err


def test_a_readable_tree_passes_with_fail_on_never(tree, capsys):
    (tree / "good.json").write_text(json.dumps(GOOD))
    rc, _, err = run(capsys, "check", "--fail-on", "never")
    assert rc == 0, err


# ---------------------------------------------------------------------------------------------
# Unresolved values: unknown, and the gate fails unless --allow-unknown


def findings(capsys, *argv):
    rc, out, err = run(capsys, "check", "--format", "json", *argv)
    return rc, json.loads(out)["findings"]


def test_a_decision_on_an_unresolved_value_is_unknown_and_fails(tree, capsys):
    (tree / "stack.yaml").write_text(STACK)
    (tree / "iamgate.yaml").write_text(MANIFEST % "WorkerRole")
    rc, found = findings(capsys)
    assert rc == 1
    decided = [f for f in found if f["kind"] == "missing-permission"]
    assert [(f["principal"], f["decision"], f["severity"]) for f in decided] == [("WorkerRole", "unknown", "error")]
    assert any(f["kind"] == "unresolved" and "shared-bucket-arn" in f["message"] for f in found)

    rc, found = findings(capsys, "--allow-unknown")
    assert rc == 0
    assert {f["severity"] for f in found if f["kind"] in ("missing-permission", "unresolved")} == {"warning"}
    rc, _ = findings(capsys, "--allow-unknown", "--fail-on", "warning")
    assert rc == 1


@pytest.mark.parametrize("files, selector", [
    ({"stack.yaml": STACK}, "ReaderRole"),
    ({"main.tf": TERRAFORM}, "aws_iam_role.worker"),
])
def test_an_unknown_aws_managed_policy_is_unresolved_not_empty(tree, capsys, files, selector):
    for name, text in files.items():
        (tree / name).write_text(text)
    (tree / "iamgate.yaml").write_text(MANIFEST % selector)
    rc, found = findings(capsys)
    assert rc == 1
    decided = [f for f in found if f["kind"] == "missing-permission"]
    assert [(f["principal"], f["decision"]) for f in decided] == [(selector, "unknown")]
    unresolved = [f for f in found if f["kind"] == "unresolved"]
    assert any("could not resolve AWS managed policy arn:aws:iam::aws:policy/" in f["message"]
               and "not in the snapshot" in f["message"] for f in unresolved)
    rc, out, _ = run(capsys, "check", "--allow-unknown")
    assert rc == 0 and "unknown:" in out
    rc, out, _ = run(capsys, "inventory", "--format", "json")
    assert rc == 0
    assert any("arn:aws:iam::aws:policy/" in u["expression"] for u in json.loads(out)["unresolved"])


# ---------------------------------------------------------------------------------------------
# simulate, explain and diff: their answer without an unreadable file is incomplete, so exit 2


ALLOWED = "arn:aws:s3:::orders-prod/x"
DENIAL = ("User: arn:aws:sts::111122223333:assumed-role/reader/i-0abc is not authorized to perform: s3:GetObject "
          f'on resource: "{ALLOWED}" because no identity-based policy allows the s3:GetObject action')
READER = f"""AWSTemplateFormatVersion: '2010-09-09'
Resources:
  ReaderRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: reader
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{TRUST}]
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: '2012-10-17'
            Statement: [{{Effect: Allow, Action: s3:GetObject, Resource: "{ALLOWED}"}}]
"""


def test_simulate_and_explain_fail_closed_on_an_unreadable_file(tree, capsys):
    (tree / "stack.yaml").write_text(READER)
    (tree / "iamgate.yaml").write_text('version: 1\nsettings: {account: "111122223333", region: us-east-1}\n')
    rc, out, err = run(capsys, "simulate", "ReaderRole", "s3:GetObject", ALLOWED, ".")
    assert rc == 0 and "allow" in out.lower(), out + err
    rc, _, err = run(capsys, "explain", DENIAL, ".")
    assert rc == 0, err

    (tree / "guardrail.json").write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Deny"')
    rc, out, err = run(capsys, "simulate", "ReaderRole", "s3:GetObject", ALLOWED, ".", "--format", "json")
    assert rc == 2 and json.loads(out)
    assert err.startswith("iamgate: guardrail.json: not valid JSON")
    rc, out, err = run(capsys, "explain", DENIAL, ".")
    assert rc == 2 and out
    assert err.startswith("iamgate: guardrail.json: not valid JSON")


def test_diff_fails_closed_on_an_unreadable_file(tree, capsys, monkeypatch):
    import shutil
    import subprocess
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (tree / "stack.yaml").write_text(READER)

    def git(*args):
        subprocess.run(["git", *args], cwd=tree, check=True, capture_output=True)
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", "commit", "-q",
        "--allow-empty", "-m", "empty")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", "commit", "-q",
        "-m", "base")
    rc, _, err = run(capsys, "diff", "HEAD", ".")
    assert rc == 0, err
    (tree / "scp.json").write_bytes(b"\xff\xfe not text")
    rc, out, err = run(capsys, "diff", "HEAD", ".")
    assert rc == 2 and out
    assert err == "iamgate: scp.json: is not UTF-8 text (byte 0)\n"
