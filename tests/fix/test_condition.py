"""A statement that allows the action on the resource but whose condition the request fails: the
fix keeps the condition. It adds the request's value to the condition's values where that is safe
(StringEquals/StringLike/ArnEquals/ArnLike, a plain value on one line), and otherwise proposes no
edit and says what the request must carry. It never adds an unconditional grant beside it."""
import json
from pathlib import Path

import pytest

from iamgate.sources.cloudformation.loader import load_template_text

from ..repro import copy_repro
from .helpers import fix_and_recheck, missing, run_check, write


MANIFEST = """
    version: 1
    settings: {account: "111122223333"}
    principals:
      - principal: Publisher
        needs:
          - actions: events:PutEvents
            resources: "arn:aws:events:us-east-1:111122223333:event-bus/orders"
            context: {events:source: other.app}
          - actions: sqs:SendMessage
            resources: "arn:aws:sqs:us-east-1:111122223333:orders"
"""

YAML = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Bus:
        Type: AWS::Events::EventBus
        Properties: {Name: orders}
      Queue:
        Type: AWS::SQS::Queue
        Properties: {QueueName: orders}
      Publisher:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
          Policies:
            - PolicyName: publish
              PolicyDocument:
                Version: "2012-10-17"
                Statement:
                  - Sid: PutOrderEvents
                    Effect: Allow
                    Action: [events:PutEvents]
                    Resource: !GetAtt Bus.Arn
                    Condition:
                      %s:
                        events:source: "my.app"  # the orders service only
                  - Sid: Send
                    Effect: Allow
                    Action: sqs:SendMessage
                    Resource: !GetAtt Queue.Arn
"""


def _statements(path):
    doc = load_template_text(Path(path).read_text())
    for res in doc["Resources"].values():
        for pol in res.get("Properties", {}).get("Policies", []) or []:
            yield from pol["PolicyDocument"]["Statement"]


def _puts(path):
    return [st for st in _statements(path) if "events:PutEvents" in json.dumps(st.get("Action"))]


def test_reproduction_widens_the_condition(tmp_path, monkeypatch):
    folder = copy_repro("fix-drops-condition", tmp_path)
    monkeypatch.chdir(folder)
    original = Path("template.yaml").read_text()
    before, diff, after = fix_and_recheck(folder, ["template.yaml"])
    assert missing(before) and not missing(after)
    text = Path("template.yaml").read_text()
    assert "StringEquals: {events:source: [my.app, other.app]}" in text
    assert '!Sub "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"' in text
    assert len(text.splitlines()) == len(original.splitlines())  # one line changed, nothing added
    puts = _puts("template.yaml")
    assert len(puts) == 1 and puts[0]["Condition"] == {"StringEquals": {"events:source": ["my.app", "other.app"]}}
    assert "arn:aws:events:us-east-1" not in text


def test_yaml_block_condition_gets_the_value_in_its_own_quotes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"iamgate.yaml": MANIFEST, "stack.yaml": YAML % "StringEquals"})
    before, diff, after = fix_and_recheck(tmp_path, ["stack.yaml"])
    assert {a for _, a, _ in missing(before)} == {"events:PutEvents"}
    assert not missing(after)
    text = (tmp_path / "stack.yaml").read_text()
    assert 'events:source: ["my.app", "other.app"]  # the orders service only' in text
    assert "Resource: !GetAtt Bus.Arn" in text and "arn:aws:events" not in text
    puts = _puts(tmp_path / "stack.yaml")
    assert len(puts) == 1 and puts[0]["Condition"] == {"StringEquals": {"events:source": ["my.app", "other.app"]}}
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert changed == ['-                    events:source: "my.app"  # the orders service only',
                       '+                    events:source: ["my.app", "other.app"]  # the orders service only']


def test_json_template_condition_widened(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = load_template_text(__import__("textwrap").dedent(YAML % "StringLike").replace("!GetAtt Bus.Arn", "{\"Fn::GetAtt\": [Bus, Arn]}")
                             .replace("!GetAtt Queue.Arn", "{\"Fn::GetAtt\": [Queue, Arn]}"))
    doc = json.loads(json.dumps(doc))
    body = json.dumps(doc, indent=2)
    # one line per condition, as people write it
    body = body.replace('{\n                      "events:source": "my.app"\n                    }',
                        '{"events:source": "my.app"}')
    assert '{"events:source": "my.app"}' in body
    write(tmp_path, {"iamgate.yaml": MANIFEST, "stack.json": body + "\n"})
    before, diff, after = fix_and_recheck(tmp_path, ["stack.json"])
    assert {a for _, a, _ in missing(before)} == {"events:PutEvents"}
    assert not missing(after)
    text = (tmp_path / "stack.json").read_text()
    assert '{"events:source": ["my.app", "other.app"]}' in text
    data = json.loads(text)
    st = data["Resources"]["Publisher"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert len(st) == 2
    assert st[0]["Condition"] == {"StringLike": {"events:source": ["my.app", "other.app"]}}
    assert st[0]["Resource"] == {"Fn::GetAtt": ["Bus", "Arn"]}


@pytest.mark.parametrize("condition, needs", [
    ("StringNotEquals: {events:source: other.app}", "events:source other than other.app (StringNotEquals)"),
    ("StringEqualsIfExists: {events:source: my.app}", "events:source = my.app (StringEqualsIfExists)"),
    ("StringEquals: {events:source: my.app, aws:SourceAccount: '111122223333'}", "events:source = my.app"),
])
def test_unsafe_condition_gets_text_and_no_edit(tmp_path, monkeypatch, condition, needs):
    monkeypatch.chdir(tmp_path)
    yaml = (YAML % "StringEquals").replace('StringEquals:\n                        events:source: "my.app"'
                                            '  # the orders service only', condition)
    assert condition in yaml
    write(tmp_path, {"iamgate.yaml": MANIFEST, "stack.yaml": yaml})
    original = (tmp_path / "stack.yaml").read_text()
    report = run_check(["stack.yaml"])
    fixes = [f.fix for f in report.findings if f.kind == "missing-permission" and f.action == "events:PutEvents"]
    assert len(fixes) == 1 and fixes[0] is not None
    fix = fixes[0]
    assert fix.edits == ()
    assert "the request must carry " + needs in fix.text
    assert "statement PutOrderEvents" in fix.text and "unconditional" in fix.text
    assert (tmp_path / "stack.yaml").read_text() == original


TF = '''
    resource "aws_iam_role" "publisher" {
      name               = "publisher"
      assume_role_policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Principal = {Service = "lambda.amazonaws.com"}, Action = "sts:AssumeRole"}]})
    }

    resource "aws_cloudwatch_event_bus" "orders" {
      name = "orders"
    }

    data "aws_iam_policy_document" "publish" {
      statement {
        sid       = "PutOrderEvents"
        actions   = ["events:PutEvents"]
        resources = [aws_cloudwatch_event_bus.orders.arn]
        condition {
          test     = "%s"
          variable = "events:source"
          values   = ["my.app"]
        }
      }
    }

    resource "aws_iam_role_policy" "publish" {
      role   = aws_iam_role.publisher.id
      policy = data.aws_iam_policy_document.publish.json
    }
'''

TF_MANIFEST = '''
    version: 1
    settings: {account: "111122223333", region: us-east-1}
    principals:
      - principal: aws_iam_role.publisher
        needs:
          - actions: events:PutEvents
            resources: "${aws_cloudwatch_event_bus.orders.arn}"
            context: {events:source: other.app}
'''


def test_terraform_condition_values_widened(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"iamgate.yaml": TF_MANIFEST, "main.tf": TF % "StringEquals"})
    before, diff, after = fix_and_recheck(tmp_path, ["main.tf"])
    assert {a for _, a, _ in missing(before)} == {"events:PutEvents"}
    assert not missing(after)
    text = (tmp_path / "main.tf").read_text()
    assert 'values   = ["my.app", "other.app"]' in text
    assert text.count("statement {") == 1 and text.count("condition {") == 1
    assert "resources = [aws_cloudwatch_event_bus.orders.arn]" in text and "arn:aws:events" not in text


def test_terraform_negated_condition_gets_text_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"iamgate.yaml": TF_MANIFEST.replace("other.app", "my.app"), "main.tf": TF % "StringNotEquals"})
    report = run_check(["main.tf"])
    fixes = [f.fix for f in report.findings if f.kind == "missing-permission"]
    assert len(fixes) == 1 and fixes[0] is not None and fixes[0].edits == ()
    assert "the request must carry events:source other than my.app (StringNotEquals)" in fixes[0].text


def test_reproduction_command_exits_1_until_the_fix_is_applied(tmp_path, monkeypatch, capsys):
    from ..cli import run
    monkeypatch.chdir(copy_repro("fix-drops-condition", tmp_path))
    rc, diff, err = run(capsys, "check", "template.yaml", "--fix-diff")
    assert rc == 1 and "events:source" in diff and "no file edit" not in err
    rc, out, err = run(capsys, "check", "template.yaml", "--fix")
    assert rc == 0 and "fixed template.yaml" in err
