"""Several templates with the same generic file name (svc-a/template.yaml, svc-b/template.yaml):
each is its own stack, named after its folder, and each principal can be selected by its logical ID
qualified with its template's path. On the reproduction in ../shared/repro (skipped when absent)
and on a small input written here."""
from pathlib import Path

import pytest

from iamgate.sources import ReadOptions, read_inventory
from iamgate.sources.cloudformation.template import stack_name_for

from ...cli import run
from ...repro import copy_repro

ACCOUNT = "111122223333"


pytestmark = pytest.mark.usefixtures("private_cache")


def write(folder, files):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


SAM = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - DynamoDBReadPolicy: {TableName: %s}
"""

ROLE = """{"Resources": {"Worker": {"Type": "AWS::IAM::Role", "Properties": {
  "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
  "Policies": [{"PolicyName": "q", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}}]}}}}
"""

MANIFEST = """version: 1
settings: {account: "%s", region: us-east-1}
principals:
  - principal: %s
    needs:
      - {actions: dynamodb:GetItem, resources: "arn:aws:dynamodb:us-east-1:%s:table/orders"}
"""


def test_the_stack_name_is_the_folder_for_a_generic_file_name_and_the_stem_otherwise():
    assert stack_name_for("svc-a/template.yaml") == "svc-a"
    assert stack_name_for("deploy/billing_api/packaged.yml") == "billing-api"
    assert stack_name_for("infra/cfn.json") == "infra"
    assert stack_name_for("infra/Template.YAML") == "infra"
    assert stack_name_for("./svc-a/./template.yaml") == "svc-a"
    assert stack_name_for("/srv/build/api/template.yaml") == "api"
    # a bare name is the template in the current directory: that folder's name
    assert stack_name_for("template.yaml") == Path.cwd().name.replace("_", "-").replace(".", "-")
    # a file named for its stack keeps today's rule, whatever its folder
    assert stack_name_for("examples/orders-stack.yaml") == "orders-stack"
    assert stack_name_for("svc/queue_worker.template.yaml") == "queue-worker-template"


def test_same_named_templates_are_two_stacks_with_distinct_roles(tmp_path, monkeypatch):
    write(tmp_path, {"orders/template.yaml": SAM % "orders", "billing/template.yaml": SAM % "invoices"})
    monkeypatch.chdir(tmp_path)
    inv = read_inventory(["orders", "billing"], ReadOptions(account=ACCOUNT, region="us-east-1"))
    roles = {p.location.file: p for p in inv.principals}
    assert set(roles) == {"orders/template.yaml", "billing/template.yaml"}
    a, b = roles["orders/template.yaml"], roles["billing/template.yaml"]
    assert a.arn.startswith(f"arn:aws:iam::{ACCOUNT}:role/orders-FnRole-")
    assert b.arn.startswith(f"arn:aws:iam::{ACCOUNT}:role/billing-FnRole-")
    assert a.arn != b.arn
    # the qualified aliases: the generated role's logical ID and the SAM function's
    assert {"orders/template.yaml:FnRole", "orders/template.yaml:Fn", "Fn"} <= set(a.aliases)
    assert "billing/template.yaml:Fn" in b.aliases and "orders/template.yaml:Fn" not in b.aliases


def test_a_plain_role_gets_a_qualified_alias_too(tmp_path, monkeypatch):
    write(tmp_path, {"a/template.json": ROLE, "b/template.json": ROLE})
    monkeypatch.chdir(tmp_path)
    inv = read_inventory(["a", "b"], ReadOptions(account=ACCOUNT))
    names = sorted(p.arn.split("/")[-1].rsplit("-", 1)[0] for p in inv.principals)
    assert names == ["a-Worker", "b-Worker"]
    assert sorted(a for p in inv.principals for a in p.aliases if a.endswith(":Worker")) == [
        "a/template.json:Worker", "b/template.json:Worker"]


def test_the_logical_id_is_ambiguous_and_the_qualified_alias_selects_one(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"orders/template.yaml": SAM % "orders", "billing/template.yaml": SAM % "invoices",
                     "iamgate.yaml": MANIFEST % (ACCOUNT, "Fn", ACCOUNT)})
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "check", "orders", "billing")
    assert rc == 2
    assert ('principal "Fn" matches 2 principals: FnRole (orders/template.yaml:5), '
            'FnRole (billing/template.yaml:5); select one with "orders/template.yaml:Fn" or '
            '"billing/template.yaml:Fn"') in out

    # the orders function reads the orders table: met
    (tmp_path / "iamgate.yaml").write_text(MANIFEST % (ACCOUNT, "orders/template.yaml:Fn", ACCOUNT))
    rc, out, err = run(capsys, "check", "orders", "billing")
    assert rc == 0, out + err
    # the manifest's requirement, and what each function's wiring implies (its log group), are met
    assert "0 missing" in out and " of " in out
    met, total = out.rsplit("\n", 2)[-2].split(" · ")[1].split(" requirements met")[0].split(" of ")
    assert met == total
    # the billing function reads only the invoices table: missing
    (tmp_path / "iamgate.yaml").write_text(MANIFEST % (ACCOUNT, "billing/template.yaml:Fn", ACCOUNT))
    rc, out, err = run(capsys, "check", "orders", "billing")
    assert rc == 1, out + err
    assert "1 missing" in out and "dynamodb:GetItem" in out


def test_reproduction_same_filename(tmp_path, monkeypatch, capsys):
    folder = copy_repro("same-filename", tmp_path)
    monkeypatch.chdir(folder)
    inv = read_inventory(["svc-a", "svc-b"], ReadOptions(account=ACCOUNT))
    arns = sorted(p.arn for p in inv.principals)
    assert arns[0].startswith(f"arn:aws:iam::{ACCOUNT}:role/svc-a-FnRole-")
    assert arns[1].startswith(f"arn:aws:iam::{ACCOUNT}:role/svc-b-FnRole-")

    rc, out, err = run(capsys, "check", "svc-a", "svc-b")
    assert rc == 2
    assert ('principal "Fn" matches 2 principals: FnRole (svc-a/template.yaml:5), '
            'FnRole (svc-b/template.yaml:5); select one with "svc-a/template.yaml:Fn" or '
            '"svc-b/template.yaml:Fn"') in out

    manifest = (folder / "iamgate.yaml").read_text().replace("principal: Fn", "principal: svc-b/template.yaml:Fn")
    (folder / "iamgate.yaml").write_text(manifest)
    rc, out, err = run(capsys, "check", "svc-a", "svc-b")
    assert rc == 0, out + err
    # the manifest's requirement, and what each function's wiring implies (its log group), are met
    assert "0 missing" in out and " of " in out
    met, total = out.rsplit("\n", 2)[-2].split(" · ")[1].split(" requirements met")[0].split(" of ")
    assert met == total
