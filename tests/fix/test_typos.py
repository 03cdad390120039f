"""A malformed action (``"ec2:CreateImage,"``) is corrected where it is written: the same file and
line, in every syntax, through ``iamgate check --fix-diff`` and ``--fix``; and the missing permission
it causes gets that same correction, not a new statement."""
import json
import subprocess

import pytest

from ..cli import run

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Builder:
    Type: AWS::IAM::Role
    Properties:
      RoleName: builder
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: ec2.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: images
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action:
                  - "ec2:CreateImage,"
                  - s3:GetObject s3:PutObject
                Resource: "*"
              - Effect: Allow
                Action: "sqs:SendMessage sqs:ReceiveMessage"
                Resource: "*"
              - Effect: Allow
                Action: [sns:Publish, logs:CreateLogStream logs:PutLogEvents]
                Resource: "*"
"""
POLICY = """\
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["ec2:CreateImage,", "s3:GetObject s3:PutObject"], "Resource": "*"},
    {"Effect": "Allow", "Action": "ec2: DescribeImages", "Resource": "*"}
  ]
}
"""
TERRAFORM = """\
resource "aws_iam_role" "builder" {
  name = "builder"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "images" {
  role = aws_iam_role.builder.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "ec2:CreateImage,"
        Resource = "*"
      },
    ]
  })
}

data "aws_iam_policy_document" "more" {
  statement {
    actions   = ["s3:GetObject s3:PutObject", "ec2: DescribeImages"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "more" {
  role   = aws_iam_role.builder.id
  policy = data.aws_iam_policy_document.more.json
}
"""


def changes(diff: str, file: str):
    """The removed and added lines of ``file`` in a unified diff."""
    out, current = ([], []), None
    for line in diff.splitlines():
        if line.startswith("diff --git"):
            current = line.endswith(f" b/{file}")
        elif current and line[:1] in "-+" and not line.startswith(("---", "+++")):
            out[line[0] == "+"].append(line[1:])
    return out


@pytest.mark.parametrize("name, text, removed, added", [
    ("stack.yaml", TEMPLATE,
     ['                  - "ec2:CreateImage,"', "                  - s3:GetObject s3:PutObject",
      '                Action: "sqs:SendMessage sqs:ReceiveMessage"',
      "                Action: [sns:Publish, logs:CreateLogStream logs:PutLogEvents]"],
     ['                  - "ec2:CreateImage"', "                  - s3:GetObject", "                  - s3:PutObject",
      '                Action: ["sqs:SendMessage", "sqs:ReceiveMessage"]',
      "                Action: [sns:Publish, logs:CreateLogStream, logs:PutLogEvents]"]),
    ("policy.json", POLICY,
     ['    {"Effect": "Allow", "Action": ["ec2:CreateImage,", "s3:GetObject s3:PutObject"], "Resource": "*"},',
      '    {"Effect": "Allow", "Action": "ec2: DescribeImages", "Resource": "*"}'],
     ['    {"Effect": "Allow", "Action": ["ec2:CreateImage", "s3:GetObject", "s3:PutObject"], "Resource": "*"},',
      '    {"Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}']),
    ("main.tf", TERRAFORM,
     ['        Action   = "ec2:CreateImage,"', '    actions   = ["s3:GetObject s3:PutObject", "ec2: DescribeImages"]'],
     ['        Action   = "ec2:CreateImage"', '    actions   = ["s3:GetObject", "s3:PutObject", "ec2:DescribeImages"]']),
])
def test_fix_diff_corrects_the_typo_on_its_own_line(tree, capsys, name, text, removed, added):
    (tree / name).write_text(text, encoding="utf-8")
    rc, diff, _ = run(capsys, "check", name, "--fix-diff")
    assert changes(diff, name) == (removed, added)
    subprocess.run(["git", "init", "-q"], cwd=tree, check=True)
    subprocess.run(["git", "apply", "--check", "-"], cwd=tree, input=diff, text=True, check=True)
    rc, out, _ = run(capsys, "check", name, "--format", "json")
    findings = json.loads(out)["findings"]
    assert findings and all(f["rule"] == "IG3003" and f["fix"]["file"] == name for f in findings)
    assert findings[0]["fix"]["text"].startswith('correct "ec2:CreateImage," to "ec2:CreateImage" (')
    # applied, nothing is left to report
    rc, _, err = run(capsys, "check", name, "--fix")
    assert f"fixed {name}" in err
    rc, out, _ = run(capsys, "check", name, "--format", "json")
    assert json.loads(out)["findings"] == [] and rc == 0


def test_the_text_report_shows_the_correction_under_the_finding(tree, capsys):
    (tree / "stack.yaml").write_text(TEMPLATE, encoding="utf-8")
    rc, out, _ = run(capsys, "check", "stack.yaml")
    assert ('  ✗ malformed action "ec2:CreateImage,": invalid character (line 18)  [IG3003]\n'
            '      fix: correct "ec2:CreateImage," to "ec2:CreateImage" (stack.yaml:20)\n') in out


MANIFEST = """\
version: 1
settings: {account: "111122223333", region: us-east-1}
principals:
  - principal: Builder
    needs:
      - actions: [ec2:CreateImage, sqs:ReceiveMessage, ec2:DeleteSnapshot]
        resources: "*"
"""


def test_a_missing_permission_caused_by_the_typo_gets_the_typo_fix(tree, capsys):
    (tree / "stack.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tree / "iamgate.yaml").write_text(MANIFEST, encoding="utf-8")
    rc, out, _ = run(capsys, "check", "stack.yaml", "--format", "json")
    missing = {f["action"]: f["fix"] for f in json.loads(out)["findings"] if f["kind"] == "missing-permission"}
    assert missing["ec2:CreateImage"]["text"] == 'correct "ec2:CreateImage," to "ec2:CreateImage" (stack.yaml:20)'
    assert missing["sqs:ReceiveMessage"]["line"] == 24
    assert "correct" not in missing["ec2:DeleteSnapshot"]["text"]  # no typo grants it: a statement is added
    rc, diff, _ = run(capsys, "check", "stack.yaml", "--fix-diff")
    removed, added = changes(diff, "stack.yaml")
    assert '                  - "ec2:CreateImage"' in added and "ec2:CreateImage" not in "".join(
        a for a in added if a != '                  - "ec2:CreateImage"')
