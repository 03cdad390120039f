"""Unresolved values fail only what depends on them (DESIGN.md, "Unresolvable values are never
guessed"): on their own a note per file and expression; the account iamgate puts into a synthesized
ARN no note at all; a requirement that an unresolved Allow might grant is unknown (IG1002); one the
known statements allow while an unresolved Deny might block it is allowed with an IG0203 error."""
import json
import os

from ..cli import run

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  LogBucket:
    Type: String
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Archive:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "archive-${AWS::AccountId}"
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
        - PolicyName: work
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage]
                Resource: !GetAtt Jobs.Arn
              - Effect: Allow
                Action: s3:PutObject
                Resource: "*"
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub "${Archive.Arn}/*"
              - Sid: NoLogTampering
                Effect: Deny
                Action: s3:PutObject
                Resource: !Sub "arn:aws:s3:::${LogBucket}/*"
              - Effect: Allow
                Action: kms:Decrypt
                Resource: !Sub "arn:aws:kms:eu-west-1:${AWS::AccountId}:key/*"
"""


def line(text):
    """The line of TEMPLATE that holds ``text``."""
    return next(i for i, t in enumerate(TEMPLATE.splitlines(), 1) if text in t)


def findings(capsys, *argv):
    rc, out, err = run(capsys, "check", "--format", "json", *argv)
    assert "Traceback" not in err, err
    return rc, json.loads(out)["findings"]


def test_without_a_manifest_unresolved_values_are_grouped_notes_and_the_gate_passes(tmp_path, monkeypatch,
                                                                                       capsys):
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    monkeypatch.chdir(tmp_path)
    rc, found = findings(capsys, "stack.yaml")
    assert rc == 0
    assert {f["severity"] for f in found} == {"note"}
    by_expr = {f["message"].split(" — ")[0]: f for f in found}
    # without settings.account, AWS::AccountId is the stand-in for the account the stack deploys into
    # (the bucket name behind ${Archive.Arn} and the key ARN agree with each other): not a note
    assert not any("AWS::AccountId" in expr for expr in by_expr)
    parameter = by_expr["could not resolve Ref LogBucket (a parameter with no default and no value in the manifest)"]
    assert parameter["location"] == {"file": "stack.yaml", "line": line("Type: String")}
    assert len(found) == 1 and all(f["rule"] == "IG0201" for f in found)
    assert not any(f["location"]["line"] == line("Jobs:") for f in found)


def test_a_decision_that_depends_on_an_unresolved_value_is_an_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    (tmp_path / "iamgate.yaml").write_text(
        "version: 1\nsettings: {region: eu-west-1}\nprincipals:\n  - principal: WorkerRole\n    needs:\n"
        "      - actions: s3:PutObject\n        resources: arn:aws:s3:::reports/today.csv\n"
        "      - actions: kms:Decrypt\n        resources: arn:aws:kms:eu-west-1:111122223333:key/k1\n")
    monkeypatch.chdir(tmp_path)
    rc, found = findings(capsys, "stack.yaml")
    assert rc == 1
    errors = [f for f in found if f["severity"] == "error"]
    # s3:PutObject: allowed by a known statement, but the Deny on ${LogBucket}/* could still match
    (deny,) = [f for f in errors if f["rule"] == "IG0203"]
    assert deny["action"] == "s3:PutObject"
    assert deny["location"] == {"file": "stack.yaml", "line": line("Sid: NoLogTampering")}
    assert '"NoLogTampering"' in deny["message"] and "is allowed" in deny["message"]
    # kms:Decrypt: only an Allow whose account is unresolved could grant it: unknown
    (unknown,) = [f for f in errors if f["rule"] == "IG1002"]
    assert unknown["action"] == "kms:Decrypt" and unknown["decision"] == "unknown"
    assert len(errors) == 2
    # --allow-unknown: what could not be resolved or decided is reported as warnings, and passes
    rc, found = findings(capsys, "stack.yaml", "--allow-unknown")
    assert rc == 0 and {f["rule"] for f in found if f["severity"] == "warning"} == {"IG0201", "IG0203", "IG1002"}


def test_the_shipped_examples_carry_a_wiring_gap_found_without_a_manifest(capsys, monkeypatch):
    """Without a manifest, each example fails on exactly the gap its code carries (issue 12): no
    unresolved-value noise, no unknown decisions."""
    monkeypatch.chdir(ROOT)
    for example, rule in (("examples/cloudformation", "IG2202"), ("examples/terraform", "IG2201")):
        rc, found = findings(capsys, example)
        assert rc == 1, (example, found)
        assert {f["rule"] for f in found if f["severity"] != "note"} == {rule}, example
        assert all(f.get("decision") != "unknown" for f in found), example
    # an account export has no wiring: what it carries is the policy lint's warnings on what it grants
    # on "*": the export's analyst-read (s3:Get*… on "*"), and, with no manifest to say they are SCPs,
    # org/*.json read as identity policies of "*" on "*" (with the manifest they are checked as SCPs)
    rc, found = findings(capsys, "examples/account-export")
    assert rc == 0, found
    warned = sorted((f["rule"], f["location"]["file"].rsplit("/", 1)[-1]) for f in found if f["severity"] != "note")
    assert warned == sorted([("IG3104", "account-authorization-details.json")]
                            + [(r, scp) for scp in ("root.json", "workloads-ou.json") for r in ("IG3104", "IG3105", "IG3106")])
    assert all(f["kind"] == "over-permissive" and f["severity"] == "warning" for f in found if f["severity"] != "note")


def test_terraform_synthesized_arns_give_no_note(tmp_path, monkeypatch, capsys):
    (tmp_path / "main.tf").write_text('''
resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_iam_role" "worker" {
  name               = "worker"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "work" {
  role   = aws_iam_role.worker.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sqs:ReceiveMessage", Resource = aws_sqs_queue.jobs.arn }]
  })
}
''')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    rc, found = findings(capsys, ".")
    assert (rc, found) == (0, [])
    # with the account given, the requirement on the queue is decided (allowed)
    (tmp_path / "iamgate.yaml").write_text(
        "version: 1\nsettings: {account: '111122223333', region: eu-west-1}\nprincipals:\n"
        "  - principal: aws_iam_role.worker\n    needs:\n      - actions: sqs:ReceiveMessage\n"
        "        resources: ${aws_sqs_queue.jobs.arn}\n")
    rc, found = findings(capsys, ".")
    assert (rc, found) == (0, [])
