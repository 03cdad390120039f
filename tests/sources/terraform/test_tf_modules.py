"""Registry and git modules read from where `terraform init` installed them (.terraform/modules),
the advice when it has not run, paths in messages relative to the working directory, and unknown
module inputs reported at the caller's module block."""
import json
import os
from pathlib import Path

import pytest

from iamgate.sources import ReadOptions, read_inventory
from ...cli import run

OPTS = ReadOptions(account="111122223333", region="eu-west-1")
ROLE = "module.ci_role.aws_iam_role.this"
TRUST = ('jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "sts:AssumeRole", '
         'Principal = {Service = "codebuild.amazonaws.com"}}]})')

# the root configuration: a registry module and a git module (with a //subfolder), each given inputs
ROOT = {
    "main.tf": """
variable "env" {
  default = "prod"
}

module "ci_role" {
  source  = "acme/ci-role/aws"
  version = "1.2.0"

  name        = "ci-${var.env}"
  bucket_arns = ["arn:aws:s3:::artifacts-${var.env}", "arn:aws:s3:::cache-${var.env}"]
}

module "deployer" {
  source = "git::https://git.example.com/acme/iam.git//modules/deployer?ref=v3.0.0"

  stack = "orders"
}
""",
    "iamgate.yaml": """version: 1
settings: {account: "111122223333", region: eu-west-1}
principals:
  - principal: module.ci_role.aws_iam_role.this
    needs:
      - {actions: s3:GetObject, resources: "arn:aws:s3:::artifacts-prod/builds/1.zip"}
  - principal: orders-deployer
    needs:
      - {actions: cloudformation:UpdateStack,
         resources: "arn:aws:cloudformation:eu-west-1:111122223333:stack/orders/*"}
""",
}

# a copy of a small registry-style module as `terraform init` lays it out: the module, a local
# submodule of it (installed with it), and the git module's repository with the subfolder used
INSTALLED = {
    ".terraform/modules/ci_role/variables.tf": """
variable "name" {
  type = string
}

variable "bucket_arns" {
  type    = list(string)
  default = []
}
""",
    ".terraform/modules/ci_role/main.tf": """
resource "aws_iam_role" "this" {
  name                 = var.name
  assume_role_policy   = %s
  permissions_boundary = module.boundary.arn
}

module "boundary" {
  source  = "acme/boundary/aws"
  version = "0.3.0"

  name = "${var.name}-boundary"
}

module "policy" {
  source = "./modules/policy"

  role        = aws_iam_role.this.name
  bucket_arns = var.bucket_arns
}

output "arn" {
  value = aws_iam_role.this.arn
}
""" % TRUST,
    ".terraform/modules/ci_role/modules/policy/main.tf": """
variable "role" {}
variable "bucket_arns" {}

data "aws_iam_policy_document" "read" {
  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = flatten([for arn in var.bucket_arns : [arn, "${arn}/*"]])
  }
}

resource "aws_iam_role_policy" "read" {
  name   = "read-artifacts"
  role   = var.role
  policy = data.aws_iam_policy_document.read.json
}
""",
    # a registry module called by the registry module: installed under its own key, ci_role.boundary
    ".terraform/modules/ci_role.boundary/main.tf": """
variable "name" {}

resource "aws_iam_policy" "this" {
  name   = var.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{Sid = "Ceiling", Effect = "Allow", Action = ["s3:*", "logs:*"], Resource = "*"}]
  })
}

output "arn" {
  value = aws_iam_policy.this.arn
}
""",
    ".terraform/modules/deployer/modules/deployer/main.tf": """
variable "stack" {}

resource "aws_iam_role" "deployer" {
  name               = "${var.stack}-deployer"
  assume_role_policy = %s

  inline_policy {
    name = "deploy"
    policy = jsonencode({
      Version   = "2012-10-17"
      Statement = [{
        Sid      = "UpdateStack"
        Effect   = "Allow"
        Action   = ["cloudformation:UpdateStack", "cloudformation:DescribeStacks"]
        Resource = "arn:aws:cloudformation:*:*:stack/${var.stack}/*"
      }]
    })
  }
}
""" % TRUST,
    # a module of the git repository that the configuration does not call: never read
    ".terraform/modules/deployer/modules/admin/main.tf": """
resource "aws_iam_role" "admin" {
  name               = "admin"
  assume_role_policy = "{}"
}
""",
}

RECORDS = [
    {"Key": "", "Source": "", "Dir": "."},
    {"Key": "ci_role", "Source": "registry.terraform.io/acme/ci-role/aws", "Version": "1.2.0",
     "Dir": ".terraform/modules/ci_role"},
    {"Key": "ci_role.boundary", "Source": "registry.terraform.io/acme/boundary/aws", "Version": "0.3.0",
     "Dir": ".terraform/modules/ci_role.boundary"},
    {"Key": "ci_role.policy", "Source": "./modules/policy", "Dir": ".terraform/modules/ci_role/modules/policy"},
    {"Key": "deployer", "Source": "git::https://git.example.com/acme/iam.git//modules/deployer?ref=v3.0.0",
     "Dir": ".terraform/modules/deployer/modules/deployer"},
]


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def modules_json(root: Path, records=None, text=None) -> Path:
    path = root / ".terraform" / "modules" / "modules.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else json.dumps({"Modules": records or RECORDS}))
    return path


@pytest.fixture
def infra(tree):
    """A configuration after `terraform init`, in the folder infra/ of the working directory."""
    root = tree / "infra"
    write(root, ROOT)
    write(root, INSTALLED)
    modules_json(root)
    return root


def unresolved(doc):
    return [u["expression"] for u in doc["unresolved"]]


def test_registry_and_git_modules_are_read_from_where_terraform_init_installed_them(infra, capsys):
    rc, out, err = run(capsys, "inventory", "--manifest", "infra/iamgate.yaml", "infra", "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert unresolved(doc) == []
    roles = {p["id"]: p for p in doc["principals"]}
    assert set(roles) == {ROLE, "module.deployer.aws_iam_role.deployer"}  # not the uncalled admin module
    role = roles[ROLE]
    assert role["arn"] == "arn:aws:iam::111122223333:role/ci-prod"  # the input name = "ci-${var.env}"
    assert role["location"] == {"file": "infra/.terraform/modules/ci_role/main.tf", "line": 2}
    (policy,) = role["policies"]
    assert policy["name"] == "read-artifacts" and policy["statements"] == 1
    assert policy["location"]["file"] == "infra/.terraform/modules/ci_role/modules/policy/main.tf"
    assert role["boundary"] == {"name": "ci-prod-boundary", "statements": 1}
    deployer = roles["module.deployer.aws_iam_role.deployer"]
    assert deployer["arn"] == "arn:aws:iam::111122223333:role/orders-deployer"
    assert deployer["location"]["file"] == "infra/.terraform/modules/deployer/modules/deployer/main.tf"
    ids = {r["id"] for r in doc["resources"]}
    assert "module.ci_role.module.policy.aws_iam_role_policy.read" in ids
    # the statements, built from the inputs passed through two levels of modules
    inv = read_inventory(["infra"], OPTS)
    (ci,) = [p for p in inv.principals if p.id == ROLE]
    (st,) = ci.identity_policies[0].statements
    assert st.sid == "ReadArtifacts" and set(st.actions) == {"s3:GetObject", "s3:ListBucket"}
    assert set(st.resources) == {"arn:aws:s3:::artifacts-prod", "arn:aws:s3:::artifacts-prod/*",
                                 "arn:aws:s3:::cache-prod", "arn:aws:s3:::cache-prod/*"}
    assert not st.unresolved
    assert dict(inv.references)["module.ci_role.arn"] == "arn:aws:iam::111122223333:role/ci-prod"


def test_a_requirement_on_an_installed_module_is_decided(infra, capsys):
    rc, out, err = run(capsys, "check", "--manifest", "infra/iamgate.yaml", "infra")
    assert rc == 0, out + err
    assert "2 of 2 requirements met" in out and "could not resolve" not in out
    (infra / "iamgate.yaml").write_text(ROOT["iamgate.yaml"].replace("s3:GetObject", "s3:PutObject"))
    rc, out, err = run(capsys, "check", "--manifest", "infra/iamgate.yaml", "infra", "--format", "json")
    assert rc == 1, err
    (missing,) = [f for f in json.loads(out)["findings"] if f["rule"] == "IG1001"]
    assert missing["principal"] == ROLE and missing["action"] == "s3:PutObject"
    assert missing["decision"] == "implicit_deny"


def test_without_terraform_init_the_module_is_named_with_how_to_get_it_read(tree, capsys):
    write(tree / "infra", ROOT)
    rc, out, err = run(capsys, "check", "infra", "--format", "json")
    doc = json.loads(out)
    found = {f["message"]: f["location"] for f in doc["findings"] if f["rule"] == "IG0201"}
    message = ("could not resolve module.ci_role: source acme/ci-role/aws is not installed (no "
               ".terraform/modules/modules.json in infra): run `terraform init` in infra (iamgate then "
               "reads .terraform/modules) or check the plan JSON (`terraform show -json plan.out`)")
    assert found[message] == {"file": "infra/main.tf", "line": 6}
    assert any(m.startswith("could not resolve module.deployer: source git::https://git.example.com/")
               for m in found)
    assert rc == 0 and not err  # notes: no requirement depends on them
    # installed files that no configuration calls are not inputs of their own: .terraform is not walked
    write(tree / "infra", INSTALLED)
    rc, out, _ = run(capsys, "inventory", "infra", "--format", "json")
    assert json.loads(out)["principals"] == []


def test_a_record_missing_from_modules_json_says_to_run_terraform_init_again(infra, capsys):
    modules_json(infra, [r for r in RECORDS if r["Key"] != "deployer"])
    rc, out, _ = run(capsys, "inventory", "infra", "--format", "json")
    (message,) = unresolved(json.loads(out))
    assert message == ("module.deployer: source git::https://git.example.com/acme/iam.git//modules/deployer"
                       "?ref=v3.0.0 is not installed (infra/.terraform/modules/modules.json has no record of "
                       "module.deployer: the configuration changed since `terraform init`): run `terraform "
                       "init` in infra (iamgate then reads .terraform/modules) or check the plan JSON "
                       "(`terraform show -json plan.out`)")


@pytest.mark.parametrize("text, why", [
    ('{"Modules": [{"Key": "ci_role", "Dir": ', "not valid JSON"),
    ('{"Modules": {"ci_role": ".terraform/modules/ci_role"}}', 'no "Modules" list'),
    ('{"Modules": [{"Key": "ci_role"}]}', 'a record without a "Key" and a "Dir"'),
    (json.dumps({"Modules": RECORDS + RECORDS[1:2]}), 'two records for "ci_role"'),
    ("\0\0", "is binary"),
])
def test_a_garbled_modules_json_is_a_note_not_a_crash(infra, capsys, text, why):
    modules_json(infra, text=text)
    rc, out, err = run(capsys, "check", "infra", "--format", "json")
    assert rc == 0 and not err  # notes (no requirement depends on the modules), never an input error
    doc = json.loads(out)
    (note,) = [f for f in doc["findings"] if f["rule"] == "IG0006"]
    assert note["severity"] == "note" and why in note["message"]
    assert note["location"]["file"] == "infra/.terraform/modules/modules.json"
    messages = [f["message"] for f in doc["findings"] if f["rule"] == "IG0201"]
    assert len([m for m in messages if "infra/.terraform/modules/modules.json cannot be read" in m]) == 2


def test_a_module_folder_leading_outside_the_root_folder_is_refused(infra, capsys, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere, {"main.tf": 'resource "aws_iam_role" "this" {\n  name = "stolen"\n'
                                 '  assume_role_policy = "{}"\n}\n'})
    records = [dict(r) for r in RECORDS]
    records[1]["Dir"] = "../elsewhere"
    modules_json(infra, records)
    rc, out, _ = run(capsys, "check", "infra", "--format", "json")
    doc = json.loads(out)
    (note,) = [f for f in doc["findings"] if f["rule"] == "IG0006"]
    assert note["message"] == ("infra/.terraform/modules/modules.json: the folder of module.ci_role "
                               "(../elsewhere) leads outside infra; not read")
    assert any(f["message"].startswith("could not resolve module.ci_role: source acme/ci-role/aws is not read: "
                                       "its folder in infra/.terraform/modules/modules.json (../elsewhere) "
                                       "leads outside infra") for f in doc["findings"])
    rc, out, _ = run(capsys, "inventory", "infra")
    assert "stolen" not in out and "orders-deployer" in out
    # the same through a symbolic link in .terraform/modules, and through a linked file
    modules_json(infra)
    os.rename(infra / ".terraform/modules/ci_role", tmp_path / "moved")
    os.symlink(elsewhere, infra / ".terraform/modules/ci_role")
    rc, out, _ = run(capsys, "check", "infra")
    assert "the folder of module.ci_role (.terraform/modules/ci_role) leads outside infra; not read" in out
    os.remove(infra / ".terraform/modules/ci_role")
    os.rename(tmp_path / "moved", infra / ".terraform/modules/ci_role")
    os.remove(infra / ".terraform/modules/ci_role/main.tf")
    os.symlink(elsewhere / "main.tf", infra / ".terraform/modules/ci_role/main.tf")
    rc, out, _ = run(capsys, "inventory", "infra")
    assert "stolen" not in out
    assert "holds main.tf, a symbolic link that leads outside infra" in out


def test_a_local_path_inside_an_installed_module_cannot_lead_out_of_the_root_folder(infra, capsys, tmp_path):
    write(tmp_path / "elsewhere", {"main.tf": 'variable "role" {}\nvariable "bucket_arns" {}\n'})
    main = infra / ".terraform/modules/ci_role/main.tf"
    main.write_text(main.read_text().replace("./modules/policy", "../../../../elsewhere"))
    rc, out, _ = run(capsys, "inventory", "infra", "--format", "json")
    assert ("module.ci_role.module.policy: source ../../../../elsewhere is not read: leads outside infra"
            in unresolved(json.loads(out)))


def test_an_unknown_module_input_is_reported_at_the_module_block_in_the_callers_file(tree, capsys):
    write(tree / "app", {
        "main.tf": '\nmodule "worker" {\n  source = "./modules/role"\n  name   = "worker"\n}\n',
        "variables.tf": 'variable "unused" {\n  default = 1\n}\n\nvariable "bucket" {}\n',
        "policy.tf": ('resource "aws_iam_role" "r" {\n  name = "r"\n  assume_role_policy = "{}"\n}\n'
                      'resource "aws_iam_role_policy" "p" {\n  role = aws_iam_role.r.id\n'
                      '  policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", '
                      'Action = "s3:GetObject", Resource = "arn:aws:s3:::${var.bucket}/*"}]})\n}\n'),
        "modules/role/variables.tf": 'variable "name" {\n  type = string\n}\n\nvariable "bucket" {\n}\n',
        "modules/role/main.tf": (
            '# the role of a worker\n\nresource "aws_iam_role" "this" {\n  name = var.name\n'
            '  assume_role_policy = "{}"\n}\n\nresource "aws_iam_role_policy" "this" {\n'
            '  role = aws_iam_role.this.id\n  policy = jsonencode({\n    Version = "2012-10-17"\n'
            '    Statement = [{Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:s3:::${var.bucket}/*"}]\n'
            '  })\n}\n'),
    })
    rc, out, _ = run(capsys, "check", "app", "--format", "json")
    where = {f["message"]: f["location"] for f in json.loads(out)["findings"] if f["rule"] == "IG0201"}
    # the child's variable has no value because the caller passes none: the module block, app/main.tf:2
    assert where["could not resolve module.worker var.bucket (no value: the module block passes no bucket "
                 "and the variable has no default)"] == {"file": "app/main.tf", "line": 2}
    # a root variable without a value: where it is declared (variables.tf:5), not policy.tf:5
    assert where["could not resolve var.bucket (no value: set it in the manifest's variables or a .tfvars "
                 "file)"] == {"file": "app/variables.tf", "line": 5}
    # an input built from a value known only at plan time: reported where that value comes from, in
    # the caller's file (the data source, app/main.tf:8), not at that line of the child's main.tf
    (tree / "app" / "main.tf").write_text('\nmodule "worker" {\n  source = "./modules/role"\n  name   = "worker"\n'
                                          '  bucket = "logs-${data.aws_s3_bucket.b.id}"\n}\n\n'
                                          'data "aws_s3_bucket" "b" {\n  bucket = "logs"\n}\n')
    rc, out, _ = run(capsys, "check", "app", "--format", "json")
    where = {f["message"]: f["location"] for f in json.loads(out)["findings"] if f["rule"] == "IG0201"}
    (worker,) = [loc for m, loc in where.items() if "data.aws_s3_bucket.b" in m]
    assert worker == {"file": "app/main.tf", "line": 8}
    # the other way round: a module output with unknowns made in the child, used by the caller's
    # policy, is reported in the child's file (its data source), never at that line of the caller's file
    (tree / "app" / "main.tf").write_text('\n\n\nmodule "worker" {\n  source = "./modules/role"\n}\n')
    (tree / "app" / "policy.tf").write_text(
        (tree / "app" / "policy.tf").read_text().replace('"arn:aws:s3:::${var.bucket}/*"', "module.worker.arn"))
    (tree / "app" / "modules" / "role" / "outputs.tf").write_text(
        'data "aws_s3_bucket" "x" {\n  bucket = "y"\n}\n\noutput "arn" {\n'
        '  value = "arn:aws:s3:::${var.bucket}/${data.aws_s3_bucket.x.id}"\n}\n')
    rc, out, _ = run(capsys, "check", "app", "--format", "json")
    where = {f["message"]: f["location"] for f in json.loads(out)["findings"] if f["rule"] == "IG0201"}
    assert where["could not resolve module.worker var.bucket (no value: the module block passes no bucket "
                 "and the variable has no default)"] == {"file": "app/main.tf", "line": 4}
    assert where["could not resolve data.aws_s3_bucket.x.id (read from AWS at plan time)"] == {
        "file": "app/modules/role/outputs.tf", "line": 1}


def test_no_absolute_path_in_messages_when_run_from_a_parent_folder(tree, capsys, monkeypatch):
    project = tree / "work" / "project"
    write(project / "infra", {
        "main.tf": """
module "network" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.0"
}

module "gone" {
  source = "./modules/gone"
}

resource "aws_iam_role" "r" {
  name               = "r"
  assume_role_policy = file("${path.module}/trust.json")
}

resource "aws_iam_role_policy" "p" {
  role   = aws_iam_role.r.id
  policy = file("../../../secrets/admin.json")
}

resource "aws_iam_role_policy" "q" {
  role   = aws_iam_role.r.id
  policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "s3:GetObject",
                       Resource = "arn:aws:s3:::${var.bucket}/*"}]})
}

variable "bucket" {}
""",
        "terraform.tfvars": "bucket = \n",
    })
    write(tree / "work" / "secrets", {"admin.json": "{}"})
    monkeypatch.chdir(tree / "work")
    texts = []
    for argv in (["check", "project"], ["check", "project", "--format", "json"],
                 ["inventory", "project"], ["inventory", "project", "--format", "json"]):
        rc, out, err = run(capsys, *argv)
        texts.append(out + err)
    text = "\n".join(texts)
    assert str(tree) not in text and os.path.realpath(tree) not in text
    for shown in ("module.network: source terraform-aws-modules/vpc/aws is not installed",
                  "run `terraform init` in project/infra",
                  "module.gone: source ./modules/gone is not a folder (project/infra/modules/gone does not exist)",
                  "file(project/infra/trust.json) (no such file in the scanned tree)",
                  "file(../../../secrets/admin.json) (outside the scanned tree; not read)",
                  "var.bucket (no value",
                  "variable file project/infra/terraform.tfvars could not be read"):
        assert shown in text, shown
