"""The Terraform writer: each fix applied to a copy of the files, the check re-run, the finding
gone."""
import shutil

from iamgate.model import Edit
from iamgate.report.text import fix_lines

from .helpers import EXAMPLES, by_action, fix_and_recheck, missing, wiring_gaps, write


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
    # the example's wiring gap stays: S3 needs a queue policy, which no fix writes for the user
    assert wiring_gaps(after) == {("IG2201", "s3.amazonaws.com", "sqs:SendMessage")}
    assert [f for f in after.findings if f.severity == "error" and f.rule != "IG2201"] == []


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
