"""The root module's `backend "s3"` block in Inventory.resources, as the pseudo-resource
``terraform.backend`` (issue 13: the deploy role needs the state bucket, object and lock)."""
import json

import pytest

from iamgate.catalog.terraform import backend_actions
from iamgate.model import Location
from iamgate.sources import ReadOptions, read_inventory

OPTS = ReadOptions(account="111122223333", region="eu-west-1")

MAIN = """\
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }

  backend "s3" {
    bucket         = "acme-tfstate"
    key            = "network/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "tf-locks"
    use_lockfile   = true
    encrypt        = true
  }
}

module "app" {
  source = "./modules/app"
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}
"""

CHILD = """\
terraform {
  backend "s3" {
    bucket = "ignored-in-a-child-module"
    key    = "x"
  }
}
resource "aws_sns_topic" "t" { name = "t" }
"""


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))


def read(tmp_path, monkeypatch, files):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return read_inventory(["."], OPTS)


def backends(inv):
    return [r for r in inv.resources if r.type == "terraform_backend_s3"]


def test_root_backend_is_a_pseudo_resource(tmp_path, monkeypatch):
    inv = read(tmp_path, monkeypatch, {"main.tf": MAIN, "modules/app/main.tf": CHILD})
    [backend] = backends(inv)  # the child module's backend is ignored, as Terraform does
    assert backend.id == "terraform.backend" and backend.arn is None
    assert dict(backend.properties) == {"bucket": "acme-tfstate", "key": "network/terraform.tfstate",
                                        "region": "eu-west-1", "dynamodb_table": "tf-locks",
                                        "use_lockfile": True, "workspace_key_prefix": None}
    assert backend.location == Location("main.tf", 7)
    assert {r.id for r in inv.resources} == {"terraform.backend", "aws_sqs_queue.jobs", "module.app.aws_sns_topic.t"}
    assert ("s3:PutObject", "arn:aws:s3:::acme-tfstate/network/terraform.tfstate.tflock") in \
        backend_actions(backend.properties)


def test_json_syntax_and_string_flags(tmp_path, monkeypatch):
    config = {"terraform": {"backend": {"s3": {"bucket": "b", "key": "k", "use_lockfile": "true"}}},
              "resource": {"aws_sqs_queue": {"q": {"name": "q"}}}}
    inv = read(tmp_path, monkeypatch, {"main.tf.json": json.dumps(config, indent=1)})
    [backend] = backends(inv)
    assert backend.properties["bucket"] == "b" and backend.properties["use_lockfile"] is True
    assert backend.properties["region"] is None


def test_partial_and_other_backends(tmp_path, monkeypatch):
    partial = 'terraform {\n  backend "s3" {}\n}\nresource "aws_sqs_queue" "q" { name = "q" }\n'
    inv = read(tmp_path, monkeypatch, {"main.tf": partial})
    [backend] = backends(inv)
    assert set(backend.properties.values()) == {None}
    assert backend_actions(backend.properties) == ()  # given at `terraform init`: nothing known


@pytest.mark.parametrize("text", [
    'terraform {\n  backend "local" {\n    path = "x.tfstate"\n  }\n}\nresource "aws_sqs_queue" "q" { name = "q" }\n',
    'terraform {\n  required_version = ">= 1.5"\n}\nresource "aws_sqs_queue" "q" { name = "q" }\n',
    'resource "aws_sqs_queue" "q" { name = "q" }\n',
])
def test_no_s3_backend_no_pseudo_resource(tmp_path, monkeypatch, text):
    inv = read(tmp_path, monkeypatch, {"main.tf": text})
    assert backends(inv) == [] and [r.id for r in inv.resources] == ["aws_sqs_queue.q"]
