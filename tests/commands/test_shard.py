"""check --shard K/N and merge-reports: a monorepo split by stack and Terraform root module, each
shard reading only its units, and the shards' JSON reports merged into what one unsharded run says."""
import json
import pathlib
import shutil

import pytest

from iamgate.shard import parse_shard, shard_of, units, ShardError

from ..cli import run
from ..hook_samples import module, stack

pytestmark = pytest.mark.usefixtures("private_cache")

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

PARENT = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Network:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: ./child.yaml
"""

POLICY = """\
{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:Get*"], "Resource": "*"}]}
"""

MANIFEST = """\
version: 1
settings:
  account: "111122223333"
  region: eu-west-1
  parameters: {Env: prod}
principals:
  - principal: orders/stack.yaml:WorkerRole
    needs:
      - actions: [sqs:ReceiveMessage, sqs:DeleteMessage]
        resources: "${OrdersQueue.Arn}"
  - principal: BillingRole
    needs:
      - actions: [sqs:ReceiveMessage]
        resources: "${InvoicesQueue.Arn}"
  - principal: orders-worker-prod
    needs:
      - actions: [s3:GetObject, s3:PutObject]
        resources: "${InvoicesBucket.Arn}/2026/*"
      - actions: [sqs:ReceiveMessage, sqs:DeleteMessage]
        resources: "${JobsQueue.Arn}"
  - principal: module.worker.aws_iam_role.this
    needs:
      - actions: [s3:GetObject, s3:DeleteObject]
        resources: "${aws_s3_bucket.invoices.arn}/2026/*"
  - principal: arn:aws:iam::111122223333:role/ci-deployer   # lives outside the code
    policies: [policies/ci-deployer.json]
    needs:
      - actions: [s3:GetObject, s3:PutObject]
        resources: "arn:aws:s3:::artifacts/*"
  - principal: arn:aws:iam::111122223333:role/billing-deployer
    policies: [policies/billing-deployer.json]
    deploys: [billing]
  - principal: GoneRole                 # in no file: IG0102, once, after the merge too
    needs:
      - actions: [sqs:ReceiveMessage]
        resources: "*"
  - principal: NetworkRole
    needs:
      - actions: [sqs:ReceiveMessage, sqs:PurgeQueue]
        resources: "${NetQueue.Arn}"
"""


def write_repo(root: pathlib.Path) -> pathlib.Path:
    """Two stacks, the shipped examples' stack and Terraform root (with its child module), a nested
    stack, a second Terraform root whose Lambda wiring misses a permission (IG2101), a policy file."""
    files = {
        "orders/stack.yaml": stack("WorkerRole", "OrdersQueue", ("sqs:ReceiveMessage",)),
        "billing/stack.yaml": stack("BillingRole", "InvoicesQueue"),
        "infra/lambda/main.tf": module(("sqs:ReceiveMessage",)),
        "net/parent.yaml": PARENT,
        "net/child.yaml": stack("NetworkRole", "NetQueue"),
        "policies/readers.json": POLICY,
        "iamgate.yaml": MANIFEST,
        "policies/billing-deployer.json": (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudformation:*", '
            '"Resource": "*"}]}\n'),
        "policies/ci-deployer.json": (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
            '"Resource": "arn:aws:s3:::artifacts/*"}]}\n'),
        "README.md": "# monorepo\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    shutil.copy(EXAMPLES / "cloudformation" / "orders-stack.yaml", root / "shop-stack.yaml")
    shutil.copytree(EXAMPLES / "terraform", root / "tf", ignore=shutil.ignore_patterns("iamgate.yaml"))
    return root


def findings(text):
    doc = json.loads(text)
    return sorted((json.dumps(f, sort_keys=True) for f in doc["findings"])), doc["summary"]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """The repository, the working directory; the reports go to ``out`` beside it."""
    (tmp_path / "repo").mkdir()
    (tmp_path / "out").mkdir()
    write_repo(tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path / "out"


def test_units_are_stacks_and_terraform_roots(repo):
    found = units(["."])
    assert list(found) == ["billing/stack.yaml", "infra/lambda", "net/parent.yaml", "orders/stack.yaml",
                           "policies/billing-deployer.json", "policies/ci-deployer.json", "policies/readers.json", "shop-stack.yaml", "tf"]
    assert found["net/parent.yaml"] == {"net/parent.yaml", "net/child.yaml"}  # the child goes with it
    assert found["tf"] == {"tf/main.tf", "tf/modules/worker/main.tf"}  # a called module is no root
    assert all(1 <= shard_of(u, 3) <= 3 for u in found)
    assert shard_of("tf", 3) == int(__import__("hashlib").sha256(b"tf").hexdigest(), 16) % 3 + 1


def test_a_nesting_cycle_is_read_by_one_shard(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cyc = 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  S:\n    Type: AWS::CloudFormation::Stack\n' \
          '    Properties:\n      TemplateURL: ./{}\n'
    (tmp_path / "a.yaml").write_text(cyc.format("b.yaml"))
    (tmp_path / "b.yaml").write_text(cyc.format("a.yaml"))
    (tmp_path / "m").mkdir()
    (tmp_path / "n").mkdir()
    (tmp_path / "m" / "main.tf").write_text('module "n" {\n  source = "../n"\n}\n')
    (tmp_path / "n" / "main.tf.json").write_text('{"module": {"m": {"source": "../m"}}}\n')
    (tmp_path / "odd.json").write_text("[1, 2")  # not an input: read by no one
    assert units(["."]) == {"a.yaml": {"a.yaml", "b.yaml"}, "m": {"m/main.tf", "n/main.tf.json"}}


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0", ""])
def test_bad_shard_values(text):
    with pytest.raises(ShardError):
        parse_shard(text)


def test_bad_shard_is_a_usage_error(repo, capsys):
    rc, _, err = run(capsys, "check", "--shard", "4/3")
    assert rc == 2 and "--shard takes K/N" in err


@pytest.mark.parametrize("n", [2, 3])
def test_sharded_then_merged_equals_unsharded(repo, capsys, n):
    rc, out, err = run(capsys, "check", "--format", "json")
    assert rc == 2, err  # IG0102, a manifest error
    whole, summary = findings(out)
    rules = {json.loads(f)["rule"] for f in whole}
    # the run finds what each unit holds: missing permissions of manifest entries of four units,
    # an inferred one (IG2101) in a Terraform root, a lint finding in a policy file
    assert {"IG1001", "IG2101"} <= rules and len(whole) >= 6
    assert [json.loads(f)["principal"] for f in whole if json.loads(f)["rule"] == "IG0102"] == ["GoneRole"]
    assert any(json.loads(f).get("principal") == "arn:aws:iam::111122223333:role/ci-deployer" for f in whole)
    assert any(json.loads(f).get("principal") == "arn:aws:iam::111122223333:role/billing-deployer"
               and json.loads(f).get("action", "").startswith("sqs:") for f in whole)  # deploys: billing
    reports = []
    for k in range(1, n + 1):
        rc, out, err = run(capsys, "check", "--shard", f"{k}/{n}", "--format", f"json:../out/shard{k}.json")
        assert rc in (0, 1), err
        reports.append(f"../out/shard{k}.json")
        part, _ = findings((repo / f"shard{k}.json").read_text())
        assert len(part) < len(whole) or n == 1
    rc, out, err = run(capsys, "merge-reports", *reports, "--format", "json")
    assert rc == 2, err
    merged, merged_summary = findings(out)
    assert merged == whole
    assert merged_summary == summary


def test_merge_reports_renders_text_and_sarif(repo, capsys):
    for k in (1, 2):
        run(capsys, "check", "--shard", f"{k}/2", "--format", f"json:../out/s{k}.json")
    rc, out, _ = run(capsys, "merge-reports", "../out/s1.json", "../out/s2.json", "--format", "sarif:../out/m.sarif", "--format", "text")
    assert rc == 2
    assert "requirements met" in out
    sarif = json.loads((repo / "m.sarif").read_text())
    unsharded = run(capsys, "check", "--format", "sarif")[1]
    assert len(sarif["runs"][0]["results"]) == len(json.loads(unsharded)["runs"][0]["results"])


def test_merge_reports_rejects_what_is_not_a_report(repo, capsys):
    (repo / "x.json").write_text('{"a": 1}')
    rc, _, err = run(capsys, "merge-reports", "../out/x.json")
    assert rc == 2 and "not a JSON report" in err
    rc, _, err = run(capsys, "merge-reports", "missing.json")
    assert rc == 2 and "cannot read" in err
    rc, _, err = run(capsys, "merge-reports", "../out/x.json", "--format", "junit")
    assert rc == 2
    # a shard object that is not as check writes it is ignored, never a crash
    (repo / "odd.json").write_text('{"summary": {}, "findings": [], "shard": {"missing": [1, null], "principals": 3}}')
    rc, out, err = run(capsys, "merge-reports", "../out/odd.json", "--format", "json")
    assert rc == 0 and json.loads(out)["findings"] == [], err


def test_jobs_sets_the_parse_pool_size(repo, capsys, monkeypatch):
    from iamgate import parallel
    monkeypatch.setattr(parallel, "WORKERS", None)
    rc, _, err = run(capsys, "check", "--jobs", "1", "--format", "json:../out/j.json")
    assert rc == 2, err
    assert parallel.WORKERS == 1
    rc, _, err = run(capsys, "check", "--jobs", "0")
    assert rc == 2 and "--jobs" in err
