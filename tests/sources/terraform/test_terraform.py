"""The Terraform reader on the shipped example and on real modules from ../shared/corpus."""
import shutil
from pathlib import Path

import pytest

from iamgate.model import Location
from iamgate.sources import read_inventory
from iamgate.sources import ReadOptions

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus" / "terraform"
OPTS = ReadOptions(account="111122223333", region="eu-west-1")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))


def principal(inv, selector):
    found = [p for p in inv.principals if selector == p.id or selector in p.aliases]
    assert len(found) == 1, [p.id for p in inv.principals]
    return found[0]


def statements(p):
    return {st.sid: st for pol in p.identity_policies for st in pol.statements}


def line(path, fragment, start=1):
    for i, text in enumerate(Path(path).read_text().splitlines(), 1):
        if i >= start and fragment in text:
            return i
    raise AssertionError(fragment)


def test_example_with_a_local_module(monkeypatch):
    monkeypatch.chdir(ROOT)
    inv = read_inventory(["examples/terraform"], OPTS)
    worker = principal(inv, "module.worker.aws_iam_role.this")
    assert worker.arn == "arn:aws:iam::111122223333:role/orders-prod-worker"  # env from terraform.tfvars
    assert {"orders-prod-worker", "aws_iam_role.this"} <= set(worker.aliases)
    sts = statements(worker)
    module_file = "examples/terraform/modules/worker/main.tf"
    assert set(sts["ReadInvoices"].resources) == {"arn:aws:s3:::orders-prod-invoices-111122223333",
                                                  "arn:aws:s3:::orders-prod-invoices-111122223333/*"}
    document = line(module_file, 'data "aws_iam_policy_document" "worker"')
    assert sts["ReadInvoices"].location == Location(module_file, line(module_file, "statement {", document))
    # a statement built by a dynamic block points at the dynamic block
    consume = sts["ConsumeJobs0"]
    assert consume.resources == ("arn:aws:sqs:eu-west-1:111122223333:orders-prod-jobs",)
    assert consume.location.line == line(module_file, 'dynamic "statement"')
    assert any(p.name == "AWSLambdaBasicExecutionRole" for p in worker.identity_policies)
    assert worker.trust_policy.statements[0].principals == {"Service": ("ecs-tasks.amazonaws.com",)}
    (key,) = [r for r in inv.resource_policies if r.type == "aws_kms_key"]
    assert key.policy.statements[0].sid == "KeyAdministrators"
    refs = dict(inv.references)
    assert refs["aws_sqs_queue.jobs.arn"] == "arn:aws:sqs:eu-west-1:111122223333:orders-prod-jobs"
    assert refs["module.worker.role_arn"] == worker.arn


def test_variables_precedence_and_unknowns(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text(
        'variable "env" {}\nvariable "team" { default = "core" }\n'
        'resource "aws_iam_role" "r" {\n  name = "${var.team}-${var.env}"\n'
        '  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", '
        'Action = "sts:AssumeRole", Principal = {Service = "ec2.amazonaws.com"}}]})\n}\n'
        'resource "aws_iam_role_policy" "p" {\n  role = aws_iam_role.r.name\n'
        '  policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", '
        'Action = "s3:GetObject", Resource = "arn:aws:s3:::${var.bucket}/*"}]})\n}\n'
        'variable "bucket" {}\n'
        'module "remote" {\n  source = "terraform-aws-modules/s3-bucket/aws"\n}\n')
    monkeypatch.chdir(tmp_path)
    inv = read_inventory(["."], OPTS)
    role = principal(inv, "aws_iam_role.r")
    assert role.arn.endswith(":role/core-*")  # var.env has no value: unknown, never guessed
    (st,) = role.identity_policies[0].statements
    assert st.resources == ("arn:aws:s3:::*/*",) and st.unresolved == frozenset({"Resource"})
    expressions = " ".join(u.expression for u in inv.unresolved)
    assert "var.env" in expressions and "var.bucket" in expressions and "module.remote" in expressions
    # terraform.tfvars < *.auto.tfvars < --var-file < the manifest's variables
    (tmp_path / "terraform.tfvars").write_text('env = "dev"\nbucket = "b1"\n')
    (tmp_path / "z.auto.tfvars").write_text('env = "stage"\n')
    (tmp_path / "prod.tfvars").write_text('env = "prod"\n')
    assert principal(read_inventory(["."], OPTS), "aws_iam_role.r").arn.endswith(":role/core-stage")
    opts = ReadOptions(account="111122223333", var_files=("prod.tfvars",))
    assert principal(read_inventory(["."], opts), "aws_iam_role.r").arn.endswith(":role/core-prod")
    opts = ReadOptions(account="111122223333", var_files=("prod.tfvars",), variables={"env": "qa"})
    inv = read_inventory(["."], opts)
    assert principal(inv, "aws_iam_role.r").arn.endswith(":role/core-qa")
    assert principal(inv, "core-qa").identity_policies[0].statements[0].resources == ("arn:aws:s3:::b1/*",)


def test_count_and_for_each_instances(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text(
        'variable "roles" { default = {reader = "s3:GetObject", writer = "s3:PutObject"} }\n'
        'resource "aws_iam_role" "svc" {\n  for_each = var.roles\n  name = "svc-${each.key}"\n'
        '  assume_role_policy = "{}"\n'
        '  inline_policy {\n    name = "p"\n    policy = jsonencode({Version = "2012-10-17", Statement = '
        '[{Effect = "Allow", Action = each.value, Resource = "*"}]})\n  }\n}\n'
        'resource "aws_iam_user" "ci" {\n  count = 2\n  name = "ci-${count.index}"\n}\n')
    monkeypatch.chdir(tmp_path)
    inv = read_inventory(["."], OPTS)
    reader = principal(inv, 'aws_iam_role.svc["reader"]')
    assert reader.arn.endswith(":role/svc-reader")
    assert reader.identity_policies[0].statements[0].actions == ("s3:GetObject",)
    assert principal(inv, "ci-1").arn == "arn:aws:iam::111122223333:user/ci-1"


@needs_corpus
def test_every_corpus_folder_reads_without_a_crash(monkeypatch):
    monkeypatch.chdir(CORPUS)
    inv = read_inventory(["."], OPTS)
    assert len(inv.principals) > 30
    assert not [p for p in inv.problems if p.kind == "parse-error"]


@needs_corpus
def test_lambda_module_iam(tmp_path, monkeypatch):
    """terraform-aws-lambda's iam.tf, with the variables and locals its other files would declare."""
    shutil.copy(CORPUS / "terraform-aws-lambda" / "iam.tf", tmp_path / "iam.tf")
    (tmp_path / "context.tf").write_text("""
locals { create = true }
variable "create_function" { default = true }
variable "create_layer" { default = false }
variable "create_role" { default = true }
variable "function_name" { default = "orders" }
variable "role_name" { default = null }
variable "policy_name" { default = null }
variable "lambda_at_edge" { default = false }
variable "lambda_at_edge_logs_all_regions" { default = true }
variable "trusted_entities" { default = ["states.amazonaws.com"] }
variable "assume_role_policy_statements" { default = {} }
variable "use_existing_cloudwatch_log_group" { default = false }
variable "attach_create_log_group_permission" { default = true }
variable "attach_cloudwatch_logs_policy" { default = true }
variable "attach_policy_statements" { default = true }
variable "policy_statements" {
  default = {
    dynamodb = {
      effect    = "Allow"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      resources = ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"]
    }
  }
}
resource "aws_cloudwatch_log_group" "lambda" {
  count = 1
  name  = "/aws/lambda/orders"
}
""")
    monkeypatch.chdir(tmp_path)
    inv = read_inventory(["."], OPTS)
    role = principal(inv, "orders")
    assert role.trust_policy is not None
    trusted = {v for st in role.trust_policy.statements for vs in (st.principals or {}).values() for v in vs}
    assert {"lambda.amazonaws.com", "states.amazonaws.com"} <= trusted
    by_name = {p.name: p for p in role.identity_policies}
    logs = by_name["orders-logs"].statements[0]
    assert set(logs.actions) == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    assert set(logs.resources) == {"arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders:*",
                                   "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders:*:*"}
    inline = by_name["orders-inline"].statements[0]
    assert inline.sid == "dynamodb" and set(inline.actions) == {"dynamodb:GetItem", "dynamodb:PutItem"}


@needs_corpus
def test_irsa_roles_from_the_examples():
    inv = read_inventory([str(CORPUS / "terraform-aws-iam" / "examples" / "iam-role-for-service-accounts")], OPTS)
    role = principal(inv, "module.cert_manager_irsa.aws_iam_role.this[0]")
    actions = {a for pol in role.identity_policies for st in pol.statements for a in (st.actions or ())}
    assert "route53:ChangeResourceRecordSets" in actions
    resources = {r for pol in role.identity_policies for st in pol.statements for r in (st.resources or ())}
    assert "arn:aws:route53:::hostedzone/IClearlyMadeThisUp" in resources
    trust = role.trust_policy.statements[0]
    assert trust.actions == ("sts:AssumeRoleWithWebIdentity",)


@needs_corpus
def test_templatefile_policies_of_cloud_gov(tmp_path):
    module = CORPUS / "terraform-provision" / "terraform" / "modules" / "iam_role_policy" / "s3_broker"
    opts = ReadOptions(account="111122223333", variables={"policy_name": "s3-broker", "account_id": "111122223333",
                                                         "aws_partition": "aws-us-gov", "bucket_prefix": "cg"})
    inv = read_inventory([str(module)], opts)
    (policy,) = [p for p in inv.policies if p.name == "s3-broker"]
    first, second = policy.statements
    assert first.resources == ("arn:aws-us-gov:s3:::cg-*", "arn:aws-us-gov:s3:::cg-*/*")
    assert "arn:aws-us-gov:iam::111122223333:user/*" in second.resources
    assert not first.unresolved and not second.unresolved
