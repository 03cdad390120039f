"""``iamgate hook FILE...`` (the pre-commit hook): the changed files mapped to what they belong
to — a template with its nested stacks and the templates nesting it, a Terraform file's module, a
policy file — and check's analysis, outputs and exit code on that part only."""
import json

import pytest

from iamgate.commands.hook import targets
from iamgate.pipeline import load_manifest
from iamgate.sources import Exclude
from ..cli import run
from ..hook_samples import module, stack, write_repo


@pytest.fixture
def repo(tree):
    write_repo(tree)
    return tree


def findings(out):
    return sorted((f["rule"], f.get("principal"), f.get("action")) for f in json.loads(out)["findings"]
                  if f["severity"] == "error")


def test_a_changed_template_is_checked_alone(repo, capsys):
    (repo / "orders" / "stack.yaml").write_text(stack("WorkerRole", "JobsQueue", ["sqs:SendMessage"]))
    rc, out, _ = run(capsys, "hook", "orders/stack.yaml", "--format", "json")
    assert rc == 1
    assert findings(out) == [("IG1001", "WorkerRole", "sqs:ReceiveMessage")]
    # billing/stack.yaml was not read: its manifest entry is not an error of this commit
    assert "BillingRole" not in out
    rc, out, err = run(capsys, "hook", "billing/stack.yaml")
    assert (rc, err) == (0, ""), out
    assert "1 of 1 requirements met" in out


def test_the_fixed_template_passes(repo, capsys):
    rc, out, _ = run(capsys, "hook", "orders/stack.yaml", "--format", "json")
    assert rc == 0 and findings(out) == []


def test_a_terraform_file_checks_its_module(repo, capsys):
    (repo / "infra" / "main.tf").write_text(module(["sqs:ReceiveMessage"]))
    (repo / "infra" / "prod.tfvars").write_text('env = "prod"\n')
    for changed in ("infra/main.tf", "infra/prod.tfvars"):
        rc, out, _ = run(capsys, "hook", changed, "--format", "json")
        assert rc == 1
        assert findings(out) == [("IG2101", "aws_iam_role.worker", "sqs:DeleteMessage"),
                                 ("IG2101", "aws_iam_role.worker", "sqs:GetQueueAttributes")]


def test_files_iamgate_does_not_read_are_nothing_to_do(repo, capsys):
    (repo / "orders" / "stack.yaml").write_text(stack("WorkerRole", "JobsQueue", ["sqs:SendMessage"]))
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (repo / ".aws-sam" / "build").mkdir(parents=True)
    (repo / ".aws-sam" / "build" / "template.yaml").write_text(stack("WorkerRole", "JobsQueue", ["sqs:SendMessage"]))
    (repo / "infra" / ".terraform" / "modules" / "m").mkdir(parents=True)
    (repo / "infra" / ".terraform" / "modules" / "m" / "main.tf").write_text(module(["sqs:ReceiveMessage"]))
    assert run(capsys, "hook", "package.json", "README.md", ".github/workflows/ci.yml", "deleted.yaml",
               "gone/main.tf", ".aws-sam/build/template.yaml", "infra/.terraform/modules/m/main.tf") == (0, "", "")
    assert run(capsys, "hook") == (0, "", "")


def test_a_change_to_the_manifest_checks_everything(repo, capsys):
    (repo / "billing" / "stack.yaml").write_text(stack("BillingRole", "InvoicesQueue", ["sqs:SendMessage"]))
    for name in ("iamgate.yaml", str(repo / "iamgate.yaml")):
        rc, out, _ = run(capsys, "hook", name, "--format", "json")
        assert rc == 1
        assert findings(out) == [("IG1001", "BillingRole", "sqs:ReceiveMessage")]


def test_a_file_the_manifest_names_checks_everything(repo, capsys):
    (repo / "guardrails").mkdir()
    (repo / "guardrails" / "scp.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "sqs:ReceiveMessage", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    (repo / "iamgate.yaml").write_text("version: 1\nguardrails:\n  scp: [guardrails/scp.json]\n"
                                       + (repo / "iamgate.yaml").read_text().split("\n", 1)[1])
    rc, out, _ = run(capsys, "hook", "guardrails/scp.json", "--format", "json")
    assert rc == 1
    # the whole repository: both stacks and the module, each denied by the new guardrail
    assert findings(out) == [("IG1001", "BillingRole", "sqs:ReceiveMessage"),
                             ("IG1001", "WorkerRole", "sqs:ReceiveMessage"),
                             ("IG2101", "aws_iam_role.worker", "sqs:ReceiveMessage")]


def test_a_nested_template_is_checked_through_its_parent(repo, capsys):
    (repo / "orders" / "parent.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Billing:\n'
        "    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ../billing/stack.yaml\n")
    (repo / "top.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Orders:\n'
        "    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: orders/parent.yaml\n")
    manifest = load_manifest(None)
    assert targets(["billing/stack.yaml"], manifest, Exclude()) == ["billing/stack.yaml", "orders/parent.yaml",
                                                                   "top.yaml"]
    assert targets(["orders/stack.yaml"], manifest, Exclude()) == ["orders/stack.yaml"]
    assert targets(["infra/main.tf", "infra/other.tf"], manifest, Exclude()) == ["infra"]
    assert targets(["iamgate.yaml"], manifest, Exclude()) is None
    assert targets(["vars/prod.tfvars"], manifest, Exclude(), var_files=["vars/prod.tfvars"]) is None
    assert targets(["rules/mine.yaml"], manifest, Exclude(), rule_dirs=["rules"]) is None
    # the nested stack is read once, as the parent's (not as a stack of its own beside it)
    (repo / "billing" / "stack.yaml").write_text(stack("BillingRole", "InvoicesQueue", ["sqs:SendMessage"]))
    rc, out, _ = run(capsys, "hook", "billing/stack.yaml", "--format", "json")
    assert rc == 1
    assert [f[:2] for f in findings(out)] == [("IG1001", "BillingRole")]


def test_excluded_files_are_not_checked(repo, capsys):
    (repo / "orders" / "stack.yaml").write_text(stack("WorkerRole", "JobsQueue", ["sqs:SendMessage"]))
    rc, out, _ = run(capsys, "hook", "orders/stack.yaml", "--exclude", "orders")
    assert rc == 0, out


def test_a_reference_into_another_stack_checks_everything(repo, capsys):
    # WorkerRole (orders) needs the billing stack's queue too: the orders stack alone cannot say
    (repo / "iamgate.yaml").write_text(
        (repo / "iamgate.yaml").read_text().replace('"${JobsQueue.Arn}"', '["${JobsQueue.Arn}", "${InvoicesQueue.Arn}"]'))
    rc, out, err = run(capsys, "hook", "orders/stack.yaml", "--format", "json")
    assert "checking the whole repository" in err
    assert rc == 1
    assert findings(out) == [("IG1001", "WorkerRole", "sqs:ReceiveMessage")]
    assert "IG0202" not in out


def test_a_renamed_principal_in_a_changed_file_is_still_an_error(repo, capsys):
    (repo / "iamgate.yaml").write_text((repo / "iamgate.yaml").read_text().replace(
        "principal: WorkerRole", "principal: orders/stack.yaml:WorkerRole"))
    (repo / "orders" / "stack.yaml").write_text(stack("Worker2Role", "JobsQueue"))
    rc, out, _ = run(capsys, "hook", "orders/stack.yaml", "--format", "json")
    assert rc == 2
    assert [f[0] for f in findings(out)] == ["IG0102"]


def test_the_changed_files_win_over_the_configured_paths(repo, capsys, monkeypatch):
    # check's paths from the environment (or the manifest's check: paths) are the whole repository's:
    # the hook checks the changed files' part, and falls back to those paths, never to "."
    monkeypatch.setenv("IAMGATE_PATHS", "billing")
    (repo / "orders" / "stack.yaml").write_text(stack("WorkerRole", "JobsQueue", ["sqs:SendMessage"]))
    rc, out, _ = run(capsys, "hook", "orders/stack.yaml", "--format", "json")
    assert rc == 1 and findings(out) == [("IG1001", "WorkerRole", "sqs:ReceiveMessage")]
    rc, out, _ = run(capsys, "hook", "iamgate.yaml", "--format", "json")
    assert rc == 2 and findings(out) == [("IG0102", "WorkerRole", None)]  # orders/ is not in "billing"
