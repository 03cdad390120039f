"""Terraform that real repositories write and the reader once got wrong: each case on its
reproduction in ../shared/repro (skipped when absent) and on a small input written here."""

import pytest

from iamgate.sources import ReadOptions, read_inventory
from iamgate.sources.terraform.types import apply_type, parse_type

from ...cli import run
from ...repro import copy_repro

OPTS = ReadOptions(account="111122223333", region="eu-west-1")


pytestmark = pytest.mark.usefixtures("private_cache")


def write(folder, files):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def principal(inv, selector):
    found = [p for p in inv.principals if selector == p.id or selector in p.aliases]
    assert len(found) == 1, [p.id for p in inv.principals]
    return found[0]


TRUST = ('jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "sts:AssumeRole", '
         'Principal = {Service = "lambda.amazonaws.com"}}]})')


# ---------------------------------------------------------------------------------------- optional()


def test_repro_optional_attributes_are_null_or_their_default(tmp_path, monkeypatch, capsys):
    folder = copy_repro("tf-optional", tmp_path)
    monkeypatch.chdir(folder)
    rc, out, err = run(capsys, "check", ".")
    assert rc == 0, out + err
    assert "1 of 1 requirements met" in out
    assert "could not resolve" not in out
    inv = read_inventory(["."], ReadOptions(account="111122223333", region="us-east-1"))
    worker = principal(inv, "worker")
    assert worker.arn == "arn:aws:iam::111122223333:role/worker"  # path "/" from optional(string, "/")
    assert worker.boundary is None  # optional(string) left out: null, no boundary
    assert not inv.unresolved


OPTIONAL_MODULE = """
variable "roles" {
  type = map(object({
    name     = string
    path     = optional(string, "/service/")
    boundary = optional(string)
    policy = optional(object({
      actions   = list(string)
      resources = optional(list(string), ["*"])
      conditions = optional(list(object({
        test     = optional(string, "StringEquals")
        variable = string
        values   = list(string)
      })), [])
    }), { actions = ["s3:ListAllMyBuckets"] })
  }))
}

resource "aws_iam_role" "this" {
  for_each             = var.roles
  name                 = each.value.name
  path                 = each.value.path
  permissions_boundary = each.value.boundary
  assume_role_policy   = %s
}

data "aws_iam_policy_document" "p" {
  for_each = var.roles
  statement {
    sid       = "Main"
    actions   = each.value.policy.actions
    resources = each.value.policy.resources
    dynamic "condition" {
      for_each = each.value.policy.conditions
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }
}

resource "aws_iam_role_policy" "p" {
  for_each = var.roles
  role     = aws_iam_role.this[each.key].id
  policy   = data.aws_iam_policy_document.p[each.key].json
}
""" % TRUST

OPTIONAL_ROOT = """
module "svc" {
  source = "./mod"
  roles = {
    reader = {
      name   = "reader"
      policy = {
        actions    = ["s3:GetObject"]
        resources  = ["arn:aws:s3:::data/*"]
        conditions = [{ variable = "s3:ExistingObjectTag/team", values = ["core"] }]
      }
    }
    lister = { name = "lister", boundary = null }
    capped = { name = "capped", path = "/x/", boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess" }
  }
}
"""


def test_optional_attributes_resolve_for_each_dynamic_blocks_and_boundaries(tmp_path):
    write(tmp_path, {"main.tf": OPTIONAL_ROOT, "mod/main.tf": OPTIONAL_MODULE})
    inv = read_inventory([str(tmp_path)], OPTS)
    assert not inv.unresolved, inv.unresolved
    reader = principal(inv, "reader")
    assert reader.arn == "arn:aws:iam::111122223333:role/service/reader"  # the default path
    assert reader.boundary is None
    (st,) = [s for pol in reader.identity_policies for s in pol.statements]
    assert st.actions == ("s3:GetObject",) and st.resources == ("arn:aws:s3:::data/*",)
    (cond,) = st.conditions  # the condition's test is its optional default
    assert (cond.operator, cond.key, cond.values) == ("StringEquals", "s3:ExistingObjectTag/team", ("core",))
    lister = principal(inv, "lister")  # the whole policy object is a default with defaults of its own
    (st,) = [s for pol in lister.identity_policies for s in pol.statements]
    assert st.actions == ("s3:ListAllMyBuckets",) and st.resources == ("*",) and not st.conditions
    assert lister.boundary is None  # an explicit null stays null
    capped = principal(inv, "capped")
    assert capped.arn == "arn:aws:iam::111122223333:role/x/capped"
    assert capped.boundary is not None and capped.boundary.name == "ReadOnlyAccess"


def test_optional_defaults_apply_to_a_variable_default_and_through_lists_sets_and_tuples(tmp_path):
    write(tmp_path, {"main.tf": """
variable "users" {
  type = list(object({ name = string, path = optional(string, "/people/") }))
  default = [{ name = "ana" }, { name = "bo", path = "/ops/" }]
}
resource "aws_iam_user" "u" {
  for_each = { for u in var.users : u.name => u }
  name     = each.key
  path     = each.value.path
}
"""})
    inv = read_inventory([str(tmp_path)], OPTS)
    assert principal(inv, "ana").arn == "arn:aws:iam::111122223333:user/people/ana"
    assert principal(inv, "bo").arn == "arn:aws:iam::111122223333:user/ops/bo"


def test_type_constraints_fill_nested_optional_attributes():
    spec = parse_type('${set(tuple([object({a = optional(number, 1)}), map(object({b = optional(bool)}))]))}')
    value = [[{}, {"k": {"c": 2}}], [{"a": 5}, {}]]
    assert apply_type(value, spec) == [[{"a": 1}, {"k": {"c": 2, "b": None}}], [{"a": 5}, {}]]
    # a type without optional attributes needs nothing; what is not a type is left alone
    assert parse_type("${map(object({a = string}))}") is None
    assert parse_type('"map"') is None and parse_type("${object(") is None
    spec = parse_type('${object({o = optional(object({x = optional(string, "d")}), {})})}')
    assert apply_type({}, spec) == {"o": {"x": "d"}}
    assert apply_type(None, spec) is None  # a null object stays null
    assert apply_type([1], spec) == [1]  # a value of another shape is not converted (nor rejected)


# ---------------------------------------------------------------------------------------- module outputs


def test_repro_a_module_output_passed_to_another_module_resolves(tmp_path, monkeypatch, capsys):
    folder = copy_repro("tf-module-output", tmp_path)
    monkeypatch.chdir(folder)
    rc, out, err = run(capsys, "check", ".")
    assert rc == 0, out + err
    assert "1 of 1 requirements met" in out and "could not resolve" not in out
    inv = read_inventory(["."], ReadOptions(account="111122223333", region="us-east-1"))
    key_arn = dict(inv.references)["module.a.key_arn"]
    assert key_arn.startswith("arn:aws:kms:us-east-1:111122223333:key/")
    (st,) = [s for pol in principal(inv, "r").identity_policies for s in pol.statements]
    assert st.resources == (key_arn,) and not st.unresolved


CHAIN = {
    "main.tf": """
module "storage" {
  source = "./modules/storage"
  name   = "reports"
}
module "access" {
  source     = "./modules/access"
  bucket_arn = module.storage.bucket_arn
  key_arns   = module.storage.key_arns
}
module "app" {
  source   = "./modules/app"
  policies = module.access.policy_json
}
""",
    "modules/storage/main.tf": """
variable "name" {}
resource "aws_s3_bucket" "b" { bucket = "acme-${var.name}" }
resource "aws_kms_key" "k" { description = var.name }
output "bucket_arn" { value = aws_s3_bucket.b.arn }
output "key_arns" { value = [aws_kms_key.k.arn] }
""",
    "modules/access/main.tf": """
variable "bucket_arn" {}
variable "key_arns" { type = list(string) }
data "aws_iam_policy_document" "p" {
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arn}/*"]
  }
  statement {
    sid       = "Decrypt"
    actions   = ["kms:Decrypt"]
    resources = var.key_arns
  }
}
output "policy_json" { value = data.aws_iam_policy_document.p.json }
""",
    "modules/app/main.tf": """
variable "policies" {}
resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = %s
}
resource "aws_iam_role_policy" "app" {
  role   = aws_iam_role.app.id
  policy = var.policies
}
""" % TRUST,
    "iamgate.yaml": """version: 1
settings: {account: "111122223333", region: eu-west-1}
principals:
  - principal: app
    needs:
      - {actions: s3:GetObject, resources: "arn:aws:s3:::acme-reports/2026/q1.csv"}
      - {actions: kms:Decrypt, resources: "${module.storage.aws_kms_key.k.arn}"}
""",
}


def test_outputs_flow_through_a_chain_of_modules(tmp_path, monkeypatch, capsys):
    write(tmp_path, CHAIN)
    inv = read_inventory([str(tmp_path)], OPTS)
    assert not inv.unresolved, inv.unresolved
    sts = {s.sid: s for pol in principal(inv, "app").identity_policies for s in pol.statements}
    assert sts["Read"].resources == ("arn:aws:s3:::acme-reports/*",)
    (key,) = sts["Decrypt"].resources
    assert key.startswith("arn:aws:kms:eu-west-1:111122223333:key/")
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "check", ".")
    assert rc == 0, out + err
    assert "2 of 2 requirements met" in out


def test_a_module_reference_that_cannot_resolve_names_what_is_missing(tmp_path):
    files = dict(CHAIN)
    files["main.tf"] = CHAIN["main.tf"].replace("module.storage.bucket_arn", "module.store.bucket_arn") \
        .replace("module.storage.key_arns", "module.storage.keys")
    write(tmp_path, files)
    inv = read_inventory([str(tmp_path)], OPTS)
    said = [u.expression for u in inv.unresolved]
    assert any('module.store.bucket_arn (no module "store" is called in the root module)' in s for s in said), said
    assert any('module.storage.keys (module.storage has no output "keys")' in s for s in said), said
    assert not any("no attribute" in s for s in said), said


# ---------------------------------------------------------------------------------------- multi-line for


def test_repro_an_object_for_whose_arrow_starts_a_line_is_parsed(tmp_path, monkeypatch, capsys):
    folder = copy_repro("hcl-multiline-for", tmp_path)
    monkeypatch.chdir(folder)
    rc, out, err = run(capsys, "inventory", ".")
    assert rc == 0, out + err
    assert "error" not in out + err
    inv = read_inventory(["."], OPTS)
    assert not inv.problems
    role = principal(inv, "aws_iam_role.r")
    assert role.location.line == 9  # the lines after the rewritten expression are where they were


SPLIT_FOR = """
variable "connections" {
  default = [
    { account = "111111111111", env = "dev" },
    { account = "222222222222", env = "" },
  ]
}

locals {
  # cloudposse/terraform-aws-components modules/tgw/hub/remote-state.tf writes its keys this way
  by_key = { for c in var.connections :
    (length(c.env) > 0 ? "${c.account}-${c.env}" : c.account) # the map key
    => c
  }
  labels = [for c in var.connections : c.env if c.env != ""]
}

resource "aws_iam_role" "peer" {
  for_each           = local.by_key
  name               = "peer-${each.key}"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole",
                   Principal = { AWS = "arn:aws:iam::${each.value.account}:root" } }]
  })
}

resource "aws_iam_role_policy" "peer" {
  for_each = local.by_key
  role     = aws_iam_role.peer[each.key].id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{
    Sid = "Describe", Effect = "Allow", Action = "ec2:DescribeTransitGateways", Resource = "*" }] })
}
"""


def test_a_split_object_for_is_evaluated_and_lines_after_it_are_kept(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"main.tf": SPLIT_FOR})
    inv = read_inventory([str(tmp_path)], OPTS)
    assert not inv.problems and not inv.unresolved, (inv.problems, inv.unresolved)
    dev = principal(inv, 'aws_iam_role.peer["111111111111-dev"]')
    other = principal(inv, 'aws_iam_role.peer["222222222222"]')
    assert dev.arn == "arn:aws:iam::111122223333:role/peer-111111111111-dev"
    assert dev.trust_policy.statements[0].principals == {"AWS": ("arn:aws:iam::111111111111:root",)}
    assert other.arn == "arn:aws:iam::111122223333:role/peer-222222222222"
    assert dev.location.line == SPLIT_FOR.splitlines().index('resource "aws_iam_role" "peer" {') + 1
    (st,) = [s for pol in dev.identity_policies for s in pol.statements]
    assert st.location.line == SPLIT_FOR.splitlines().index('resource "aws_iam_role_policy" "peer" {') + 1 + 3
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "inventory", ".")
    assert rc == 0 and "peer-111111111111-dev" in out, out + err


def test_the_rewrite_touches_only_object_for_arrows_outside_strings_heredocs_and_comments():
    from iamgate.sources.terraform.hcl import HclError, join_for_arrows, parse_text
    assert join_for_arrows('x = { for c in v : c => c }\n') is None  # nothing to do
    assert join_for_arrows('x = [for c in v : c\n]\n') is None
    text = ('a = <<EOF\n{ for c in v : c\n=> c }\nEOF\n'
            'b = "{ for c in v : c"\n'
            '# { for c in v : c\n'
            'c = { for c in v : "${c}"\n  // key\n  => [c]\n  ... }\n'
            'd = 1\n')
    joined = join_for_arrows(text)
    assert joined.startswith('a = <<EOF\n{ for c in v : c\n=> c }\nEOF\nb = "{ for c in v : c"\n# { for c in v : c\n')
    assert 'c = { for c in v : "${c}" => [c]\n  ... \n\n}\nd = 1\n' in joined
    assert joined.count("\n") == text.count("\n")
    parsed = parse_text("t.tf", text)
    assert parsed.attributes["c"] == '${{for c in v : "${c}" => [c]...}}'
    assert parsed.attributes["__attr_lines__"]["d"] == 11  # as written
    # a file that fails for another reason reports its own error, where it is
    with pytest.raises(HclError) as error:
        parse_text("t.tf", 'x = { for c in v : c\n => c }\ny = = 2\n')
    assert error.value.line == 3
