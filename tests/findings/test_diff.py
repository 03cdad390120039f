"""iamgate diff: effective-permission changes between a git revision and the working tree.

The git tests build a small repository in tmp_path (a CloudFormation template, a Terraform
configuration and a manifest), commit it, change the working tree, and diff.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess

import pytest

from iamgate.findings.check import check
from iamgate.findings.diff import PermissionDiff, compare, diff_scopes, newly_failing
from iamgate.manifest import load_manifest
from iamgate.pipeline import gather_revisions, scope_from
from iamgate.report.diff import render_json, render_markdown, render_text
from iamgate.sources import read_inventory
from iamgate.sources import options_from
from iamgate.sources.git import WORKING_TREE, DiffError, checkout_revision

from ..diff_samples import BUCKET, changes

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

ACCOUNT = "111122223333"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"

STACK = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: orders-data
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: worker
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Objects
                Effect: Allow
                Action: [s3:GetObject, s3:DeleteObject]
                Resource: !Sub "${Bucket.Arn}/*"
              - Sid: Consume
                Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage]
                Resource: !GetAtt Queue.Arn
"""

AUDIT_ROLE = """\
  AuditRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: audit
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: sqs:Get*
                Resource: !GetAtt Queue.Arn
"""

DENY = """\
              - Sid: NoDeletes
                Effect: Deny
                Action: s3:DeleteObject
                Resource: "*"
"""

MAIN_TF = """\
resource "aws_dynamodb_table" "orders" {
  name     = "orders"
  hash_key = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_iam_role" "app" {
  name = "app"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "app" {
  name = "app"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["dynamodb:GetItem"], Resource = aws_dynamodb_table.orders.arn }]
  })
}
"""

MANIFEST = """\
version: 1
settings:
  account: "111122223333"
  region: us-east-1
principals:
  - principal: WorkerRole
    needs:
      - actions: [sqs:ReceiveMessage, sqs:DeleteMessage]
        resources: "${Queue.Arn}"
      - actions: s3:DeleteObject
        resources: "${Bucket.Arn}/incoming/*"
  - principal: aws_iam_role.app
    needs:
      - actions: dynamodb:GetItem
        resources: "${aws_dynamodb_table.orders.arn}"
"""


# ----------------------------------------------------------------------------- helpers


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


@pytest.fixture
def repo(tmp_path, git_env, monkeypatch):
    """A committed base, then the working-tree changes the tests look for."""
    root = tmp_path / "repo"
    write(root / "infra" / "stack.yaml", STACK)
    write(root / "tf" / "main.tf", MAIN_TF)
    write(root / "iamgate.yaml", MANIFEST)
    git(root, "init", "-q")
    git(root, "config", "user.name", "iamgate tests")
    git(root, "config", "user.email", "tests@example.com")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "tag", "base")
    stack = root / "infra" / "stack.yaml"
    edit(stack, "Action: [s3:GetObject, s3:DeleteObject]",                 # add an action
         "Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]")
    edit(stack, "Action: [sqs:ReceiveMessage, sqs:DeleteMessage]", "Action: sqs:ReceiveMessage")  # remove one
    edit(stack, "                Resource: !GetAtt Queue.Arn\n",           # add a Deny and a principal
         "                Resource: !GetAtt Queue.Arn\n" + DENY + AUDIT_ROLE)
    edit(root / "tf" / "main.tf", "Resource = aws_dynamodb_table.orders.arn", 'Resource = "*"')  # widen
    monkeypatch.chdir(root)
    return root


def read_side(root, manifest_dir):
    """Inventory and check report of a tree (the base checkout or the working tree)."""
    manifest = load_manifest(str(manifest_dir / "iamgate.yaml"), (manifest_dir / "iamgate.yaml").read_text())
    options = options_from(manifest.settings, manifest.resolve)
    inventory = read_inventory([str(root / "infra"), str(root / "tf")], options)
    return inventory, check(scope_from(inventory, manifest))


def run_diff(base_ref, paths=(), manifest_path=None):
    """What the diff command does: both sides gathered, then each checked, then compared."""
    base, head, notes = gather_revisions(base_ref, paths, manifest_path)
    return diff_scopes(base, head, base_label=base_ref, head_label=WORKING_TREE, notes=notes)


def by_key(diff: PermissionDiff):
    return {p.key: p for p in diff.principals}


def tree_state(root):
    index = (root / ".git" / "index").read_bytes()
    return (git(root, "status", "--porcelain", "--untracked-files=all"), hashlib.sha256(index).hexdigest(),
            git(root, "rev-parse", "HEAD"), git(root, "worktree", "list", "--porcelain"),
            git(root, "stash", "list"), sorted(os.listdir(root / ".git")))


# ----------------------------------------------------------------------------- compare on real trees


@needs_git
def test_compare_inventories_of_base_checkout_and_working_tree(repo, tmp_path):
    base_dir = tmp_path / "base"
    checkout_revision(str(repo), "base", str(base_dir))
    assert (base_dir / "infra" / "stack.yaml").read_text() == STACK
    base_inv, base_report = read_side(base_dir, base_dir)
    head_inv, head_report = read_side(repo, repo)
    diff = compare(base_inv, head_inv, base_report, head_report, base_label="base")
    ps = by_key(diff)
    assert sorted(ps) == ["AuditRole", "WorkerRole", "aws_iam_role.app"]
    assert diff.unchanged == 0

    worker = ps["WorkerRole"]
    assert worker.status == "changed"
    assert changes(worker.gained) == {("s3:PutObject", f"{BUCKET}/*")}
    # DeleteObject is still in the Allow, but the new unconditional Deny takes it away
    assert changes(worker.lost) == {("sqs:DeleteMessage", QUEUE), ("s3:DeleteObject", f"{BUCKET}/*")}
    assert changes(worker.new_denies) == {("s3:DeleteObject", "*")}
    assert worker.removed_denies == ()
    assert worker.new_wildcards == ()  # no wildcard that the base did not have

    app = ps["aws_iam_role.app"]
    assert changes(app.gained) == {("dynamodb:GetItem", "*")}
    assert app.lost == ()  # the table is covered by "*"
    assert [(w.element, w.pattern, w.services, w.broad) for w in app.new_wildcards] == [
        ("Resource", "*", ("dynamodb",), True)]
    assert app.new_denies == ()

    audit = ps["AuditRole"]
    assert audit.status == "added"
    assert changes(audit.gained) == {
        ("sqs:GetQueueAttributes", QUEUE), ("sqs:GetQueueUrl", QUEUE)}  # sqs:Get* through the catalog
    assert [(w.element, w.pattern, w.broad) for w in audit.new_wildcards] == [("Action", "sqs:Get*", False)]

    failing = {(r.principal, r.action, r.resource, r.now, r.was) for r in diff.requirements_failing}
    assert failing == {("WorkerRole", "sqs:DeleteMessage", QUEUE, "implicit_deny", "allow"),
                       ("WorkerRole", "s3:DeleteObject", f"{BUCKET}/incoming/*", "explicit_deny", "allow")}
    assert newly_failing(diff) == 2
    assert diff.requirements_fixed == ()


@needs_git
def test_run_diff_end_to_end_and_markdown_shape(repo):
    diff = run_diff("base")
    assert diff.base_label == "base" and diff.head_label == "working tree"
    assert newly_failing(diff) == 2
    ps = by_key(diff)
    assert changes(ps["WorkerRole"].gained) == {("s3:PutObject", f"{BUCKET}/*")}
    # base-side locations are shown under their working-tree names, never the temporary checkout
    lost = {c.action: c.grant.source for c in ps["WorkerRole"].lost}
    assert str(lost["sqs:DeleteMessage"]) == os.path.join("infra", "stack.yaml") + ":30"

    md = render_markdown(diff)
    lines = md.splitlines()
    assert lines[0] == "## iamgate: IAM permission changes (`base` → working tree)"
    assert lines[2] == ("**2 requirements newly failing** · **2 new wildcards** · principals: 2 changed, "
                        "1 added (of 3) · 4 permissions gained · 2 lost · 1 new deny")
    assert "### ⚠️ Requirements that newly fail" in lines
    assert ("| `WorkerRole` | `sqs:DeleteMessage` | `arn:aws:sqs:us-east-1:111122223333:jobs` | "
            "**implicit deny** | allowed |") in lines
    assert "### `WorkerRole` (role, `infra/stack.yaml:11`)" in lines
    assert "### `AuditRole` (added, role, `infra/stack.yaml:38`)" in lines
    assert "- **⚠️ New wildcard: Resource `*` for dynamodb actions** — `tf/main.tf:21`" in lines
    assert "- New explicit deny: `s3:DeleteObject` on `*` — `infra/stack.yaml:34`" in lines
    assert "| ➕ gained | `s3:PutObject` | `arn:aws:s3:::orders-data/*` |" in lines
    assert "| ➖ lost | `sqs:DeleteMessage` | `arn:aws:sqs:us-east-1:111122223333:jobs` |" in lines
    table = lines.index("| | Actions | Resource |")
    assert lines[table + 1] == "|---|---|---|"
    # HTML is limited to details/summary
    assert set(re.findall(r"</?([a-zA-Z]+)", md)) <= {"details", "summary"}
    assert "iamgate-diff-" not in md

    text = render_text(diff)
    assert "  + s3:PutObject on arn:aws:s3:::orders-data/*" in text
    assert "  - sqs:DeleteMessage on arn:aws:sqs:us-east-1:111122223333:jobs" in text
    assert '  ! new wildcard: Resource "*" for dynamodb actions (tf/main.tf:21)' in text
    assert "  ! new explicit deny: s3:DeleteObject on * (infra/stack.yaml:34)" in text
    assert "explicit deny (was: allowed)" in text

    doc = json.loads(render_json(diff))
    assert doc["version"] == 1 and doc["base"] == "base"
    assert doc["summary"]["requirements_newly_failing"] == 2
    assert doc["summary"]["principals_added"] == 1 and doc["summary"]["new_denies"] == 1
    assert [p["principal"] for p in doc["principals"]] == ["AuditRole", "WorkerRole", "aws_iam_role.app"]
    worker = doc["principals"][1]
    assert worker["gained"] == [{"action": "s3:PutObject", "resource": f"{BUCKET}/*", "conditional": False,
                                 "location": {"file": os.path.join("infra", "stack.yaml"), "line": 26}}]
    assert render_json(run_diff("base")) == render_json(diff)  # stable


@needs_git
def test_working_tree_and_index_are_left_alone(repo):
    git(repo, "add", "tf/main.tf")  # something staged, something not
    (repo / "untracked.txt").write_text("x")
    git(repo, "status")  # let git refresh its index first
    before = tree_state(repo)
    run_diff("base", ["infra", "tf"])
    assert tree_state(repo) == before


@needs_git
def test_paths_are_mapped_from_a_subdirectory_and_new_paths_count_as_added(repo, monkeypatch):
    write(repo / "new" / "extra.yaml", STACK.replace("WorkerRole", "ExtraRole").replace("orders-data", "extra")
          .replace("QueueName: jobs", "QueueName: extra-jobs").replace("RoleName: worker", "RoleName: extra"))
    monkeypatch.chdir(repo / "infra")
    diff = run_diff("base", [".", "../new"], manifest_path="../iamgate.yaml")
    ps = by_key(diff)
    assert sorted(ps) == ["AuditRole", "ExtraRole", "WorkerRole"]
    assert ps["ExtraRole"].status == "added"
    assert str(ps["WorkerRole"].location) == "stack.yaml:11"


@needs_git
def test_manifest_missing_in_base_makes_failing_requirements_new(repo):
    git(repo, "rm", "-q", "--cached", "iamgate.yaml")
    git(repo, "commit", "-q", "-m", "no manifest")
    diff = run_diff("HEAD")
    failing = {(r.action, r.was) for r in diff.requirements_failing}
    assert failing == {("sqs:DeleteMessage", "absent"), ("s3:DeleteObject", "absent")}


@needs_git
def test_only_the_working_tree_is_kept_in_the_cache(repo, monkeypatch, tmp_path):
    """The base revision is read from a new temporary folder at every run: its manifest and plans
    are not kept (entries shown under that folder would never be read again); the working tree's
    manifest is."""
    monkeypatch.delenv("IAMGATE_NO_CACHE")
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    for _ in range(2):
        run_diff("base")
    assert len(list((tmp_path / "cache" / "manifests").iterdir())) == 1
    assert len(list((tmp_path / "cache" / "tfroots").iterdir())) == 1  # the working tree's scan


@needs_git
def test_removed_principal_fails_its_requirements(repo):
    edit(repo / "tf" / "main.tf", 'resource "aws_iam_role" "app"', 'resource "aws_iam_role" "application"')
    edit(repo / "tf" / "main.tf", "role = aws_iam_role.app.id", "role = aws_iam_role.application.id")
    diff = run_diff("base", ["tf"])
    ps = by_key(diff)
    assert ps["aws_iam_role.app"].status == "removed"
    assert changes(ps["aws_iam_role.app"].lost) == {("dynamodb:GetItem", TABLE)}
    assert ps["aws_iam_role.application"].status == "added"
    missing = [r for r in diff.requirements_failing if r.principal == "aws_iam_role.app"]
    assert [(r.action, r.now, r.was) for r in missing] == [("dynamodb:GetItem", "missing", "allow")]
    assert "<details><summary>" in render_markdown(diff)  # a removed principal's list is folded


@needs_git
def test_no_changes(repo):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head")
    diff = run_diff("HEAD")
    assert diff.principals == () and diff.unchanged == 3 and newly_failing(diff) == 0
    assert "No effective-permission changes." in render_markdown(diff)
    assert render_text(diff).rstrip().endswith("no effective-permission changes · 3 principals")


# ----------------------------------------------------------------------------- errors


@needs_git
def test_run_diff_errors(tmp_path, git_env, repo, monkeypatch):
    with pytest.raises(DiffError, match='unknown revision "v9"'):
        run_diff("v9")
    with pytest.raises(DiffError, match="no such file or directory"):
        run_diff("base", ["nowhere"])
    with pytest.raises(DiffError, match="outside the git repository"):
        run_diff("base", [str(tmp_path)])
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    with pytest.raises(DiffError, match="not in a git working tree"):
        run_diff("HEAD")


@needs_git
def test_unreadable_file_is_noted_under_its_working_tree_name(repo):
    (repo / "infra" / "stack.yaml").write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources: [\n')
    diff = run_diff("base", ["infra"])
    assert diff.notes == ("1 file in working tree could not be read (infra/stack.yaml); what they grant is "
                          "missing from this diff (iamgate check says why)",)
    assert {p.key: p.status for p in diff.principals} == {"WorkerRole": "removed"}
    assert "> 1 file in working tree could not be read" in render_markdown(diff)


DEPLOY_STACK = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {QueueName: jobs}
"""

DEPLOY_MANIFEST = f"""\
version: 1
settings: {{account: "{ACCOUNT}"}}
principals:
  - principal: arn:aws:iam::{ACCOUNT}:role/ci-deploy
    policies: [ci/deploy.json]
    deploys: [app/]
"""


@needs_git
def test_diff_names_the_deploy_requirements_a_new_resource_type_adds(tmp_path, git_env, monkeypatch):
    """Issue 13: a change adding an SNS topic adds its deploy requirements; the deploy role, which
    can deploy queues only, newly fails them, per resource, in text, JSON and Markdown."""
    root = tmp_path / "deploy-repo"
    write(root / "app" / "stack.yaml", DEPLOY_STACK)
    write(root / "ci" / "deploy.json", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["cloudformation:*", "sqs:*"], "Resource": "*"}]}))
    write(root / "iamgate.yaml", DEPLOY_MANIFEST)
    for args in (("init", "-q"), ("config", "user.name", "t"), ("config", "user.email", "t@example.com"),
                 ("config", "commit.gpgsign", "false"), ("add", "-A"), ("commit", "-q", "-m", "base")):
        git(root, *args)
    monkeypatch.chdir(root)
    edit(root / "app" / "stack.yaml", "Properties: {QueueName: jobs}\n",
         "Properties: {QueueName: jobs}\n  Events:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: events}\n")
    diff = run_diff("HEAD")
    added = {(r.source, r.action, r.now) for r in diff.deploy_added}
    assert ("Events", "sns:CreateTopic", "implicit_deny") in added
    assert {r.source for r in diff.deploy_added} == {"Events"}  # the queue's were there before
    failing = {(r.action, r.was) for r in diff.requirements_failing}
    assert ("sns:CreateTopic", "absent") in failing and not any(a.startswith("sqs:") for a, _ in failing)
    assert "Deploy requirements the change adds" in render_text(diff)
    doc = json.loads(render_json(diff))
    assert any(r["source"] == "Events" and r["action"] == "sns:CreateTopic" for r in doc["requirements"]["deploy_added"])
    assert doc["summary"]["deploy_requirements_added"] == len(diff.deploy_added)
    assert "deploy requirement" in render_markdown(diff)
