"""What is read while walking a directory: JSON and YAML files that are no IAM input (tsconfig.json
with comments, package.json, workflows, docker-compose) are skipped silently; a file that looks like
an input but is broken still fails closed; a file named on the command line is always read."""
import json
import os
import shutil
from pathlib import Path

import pytest

from iamgate.sources import looks_like_input
from iamgate.sources.iam_json import looks_like_iam_json
from ..cli import run

ROOT = Path(__file__).resolve().parent.parent.parent
REPRO = ROOT.parent / "shared" / "repro" / "json-tsconfig"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
"""

TSCONFIG = """\
{
  // compiler settings
  "compilerOptions": {
    "target": "es2020",
    "strict": true,   /* trailing commas are fine for tsc */
  },
}
"""

PACKAGE = json.dumps({"name": "orders", "version": "1.0.0", "scripts": {"build": "tsc"},
                      "devDependencies": {"aws-cdk-lib": "^2.100.0"}}, indent=2)

WORKFLOW = """\
name: deploy
on: [push]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "::notice::deploying ${{ github.sha }}"
"""

COMPOSE = """\
services:
  web:
    image: nginx
    ports: ["8080:80"]
    environment: &env
      - A=1
  worker: {image: worker, environment: *env}
"""

BROKEN_POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
                 '"Resource": "*"},]}')

BROKEN_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  R:
    Type: AWS::IAM::Role
    Properties: {AssumeRolePolicyDocument: [unclosed
"""


def inventory(capsys, *paths):
    rc, out, err = run(capsys, "inventory", "--format", "json", *paths)
    return rc, json.loads(out), err


@pytest.fixture
def project(tree):
    """A real-looking repository: one template among the JSON and YAML every project has."""
    (tree / "template.yaml").write_text(TEMPLATE)
    (tree / "tsconfig.json").write_text(TSCONFIG)
    (tree / "package.json").write_text(PACKAGE)
    (tree / ".github" / "workflows").mkdir(parents=True)
    (tree / ".github" / "workflows" / "deploy.yml").write_text(WORKFLOW)
    (tree / "docker-compose.yaml").write_text(COMPOSE)
    (tree / "test" / "fixtures").mkdir(parents=True)
    (tree / "test" / "fixtures" / "event.json").write_text('{"body": "{\\"id\\": 1}", ')  # truncated on purpose
    return tree


@pytest.mark.skipif(not REPRO.is_dir(), reason="needs ../shared/repro")
def test_the_reproduction_reads_the_template_and_skips_tsconfig(tree, capsys):
    for f in REPRO.iterdir():
        shutil.copy(f, tree / f.name)
    rc, doc, err = inventory(capsys, ".")
    assert rc == 0, (doc, err)
    assert [p["id"] for p in doc["principals"]] == ["R"]
    assert doc["problems"] == []


def test_files_that_are_no_input_are_skipped_silently(project, capsys):
    for command in ("inventory", "check"):
        rc, out, err = run(capsys, command, ".")
        assert rc == 0, (command, out, err)
        assert "tsconfig" not in out + err and "package.json" not in out + err and "event.json" not in out + err
    _, doc, _ = inventory(capsys, ".")
    assert [p["id"] for p in doc["principals"]] == ["R"] and doc["problems"] == []


@pytest.mark.parametrize("name, text, message", [
    ("policy.json", BROKEN_POLICY, "policy.json: not valid JSON"),
    ("iam/scp.json", '{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}', "iam/scp.json: not valid JSON"),
    ("template.yaml", BROKEN_TEMPLATE, "template.yaml: not valid YAML"),
    ("stack.json", '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"R": {"Type": "AWS::SQS::Queue",}}}',
     "stack.json: not valid JSON"),
    ("plan.json", '{"format_version": "1.2", "planned_values": {', "plan.json: not valid JSON"),
])
def test_a_broken_file_that_looks_like_an_input_still_fails_closed(project, capsys, name, text, message):
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    (project / name).write_text(text)
    rc, out, err = run(capsys, "inventory", ".")
    assert rc == 2, (out, err)
    assert message in out + err
    assert "tsconfig" not in out + err


def test_an_escaped_key_still_looks_like_a_policy(project, capsys):
    (project / "p.json").write_text('{"Version": "2012-10-17", "\\u0053tatement": [{"Effect": "Allow", '
                                    '"Action": "s3:GetObject", "Resource": "*"}]}')
    assert looks_like_iam_json((project / "p.json").read_text().replace("2012-10-17", "x"))
    _, doc, _ = inventory(capsys, ".")
    assert [p["name"] for p in doc["policies"]] == ["p"]


@pytest.mark.parametrize("name", ["tsconfig.json", "test/fixtures/event.json"])
def test_a_file_named_on_the_command_line_is_read_and_an_error(project, capsys, name):
    rc, out, err = run(capsys, "inventory", name)
    assert rc == 2, (out, err)
    assert f"{os.path.normpath(name)}: not valid JSON" in out + err


def test_a_valid_file_named_on_the_command_line_that_is_no_input_is_a_warning(project, capsys):
    rc, out, err = run(capsys, "inventory", "package.json", "--format", "json")
    problems = json.loads(out)["problems"]
    assert [p["severity"] for p in problems] == ["warning"] and "not an input iamgate reads" in problems[0]["message"]


@pytest.mark.parametrize("text, expected", [
    (TSCONFIG, False), (PACKAGE, False), (WORKFLOW, False), (COMPOSE, False), ("", True), (" \n", True),
    (TEMPLATE, True), (BROKEN_TEMPLATE, True), (BROKEN_POLICY, True),
    ('{"PolicyName": "p", "PolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%7D"}', True),
    ('{"PolicyVersion": {"Document": {}}}', True), ('{"RoleDetailList": []}', True),
    ('{"format_version": "1.2", "terraform_version": "1.5.0"}', True),
    ('{"Records": [{"eventSource": "s3.amazonaws.com"}]}', True),
    ('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}', True),
])
def test_looks_like_input(text, expected):
    assert looks_like_input(text) is expected
