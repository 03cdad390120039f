"""Inventory.resources from Terraform: one per managed resource instance (by its full address), its
synthesized ARN, its evaluated arguments with references to other resources kept as ResourceRef."""
import json
from pathlib import Path

import pytest

from iamgate.model import Location, ResourceRef
from iamgate.sources import read_inventory
from iamgate.sources import ReadOptions
from iamgate.sources.terraform.plan import read as read_plan

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus" / "terraform"
ACCOUNT = "111122223333"
OPTS = ReadOptions(account=ACCOUNT, region="eu-west-1")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))


def line_of(text: str, needle: str) -> int:
    [found] = [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == needle]
    return found


def by_id(inv):
    resources = {r.id: r for r in inv.resources}
    assert len(resources) == len(inv.resources), [r.id for r in inv.resources]
    return resources


def read_module(tmp_path, monkeypatch, files, options=OPTS):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return read_inventory(["."], options)


# ------------------------------------------------------------------------------------ the example


def test_the_shipped_example_lists_root_and_module_resources(monkeypatch):
    monkeypatch.chdir(ROOT)
    inv = read_inventory(["examples/terraform"], OPTS)
    res = by_id(inv)
    assert list(res) == ["aws_s3_bucket.invoices", "aws_sqs_queue.jobs", "aws_kms_key.invoices",
                         "aws_s3_bucket_notification.invoices", "module.worker.aws_iam_role.this", "module.worker.aws_iam_role_policy.worker",
                         "module.worker.aws_iam_role_policy_attachment.logs"]  # data sources are not resources
    main = (ROOT / "examples/terraform/main.tf").read_text()
    module = (ROOT / "examples/terraform/modules/worker/main.tf").read_text()
    assert res["aws_sqs_queue.jobs"].location == Location("examples/terraform/main.tf",
                                                          line_of(main, 'resource "aws_sqs_queue" "jobs" {'))
    assert res["module.worker.aws_iam_role.this"].location == Location(
        "examples/terraform/modules/worker/main.tf", line_of(module, 'resource "aws_iam_role" "this" {'))
    assert res["aws_sqs_queue.jobs"].type == "aws_sqs_queue"
    assert res["aws_sqs_queue.jobs"].arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders-prod-jobs"
    assert res["aws_s3_bucket.invoices"].properties == {"bucket": f"orders-prod-invoices-{ACCOUNT}"}
    role = res["module.worker.aws_iam_role.this"]
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/orders-prod-worker"
    assert role.arn == [p for p in inv.principals if p.id == "module.worker.aws_iam_role.this"][0].arn
    # inside the module, references are to the module's own resources, by their full address
    attachment = res["module.worker.aws_iam_role_policy_attachment.logs"]
    assert attachment.arn is None
    assert attachment.properties == {
        "role": ResourceRef("module.worker.aws_iam_role.this", "name", "orders-prod-worker"),
        "policy_arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
    policy = res["module.worker.aws_iam_role_policy.worker"].properties
    assert policy["role"] == ResourceRef("module.worker.aws_iam_role.this", "id", "orders-prod-worker")
    assert json.loads(policy["policy"])["Statement"][2]["Resource"] == res["aws_sqs_queue.jobs"].arn


# ------------------------------------------------------------------------------------ references

CONFIG = """\
resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_sqs_queue" "dlq" {
  name = "jobs-dlq"
  tags = { source = aws_sqs_queue.jobs.arn, "team" = "orders" }
}

resource "aws_lambda_function" "worker" {
  function_name = "worker"
  role          = aws_iam_role.worker.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "worker.zip"
}

resource "aws_iam_role" "worker" {
  name               = "worker"
  assume_role_policy = "{}"
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn = aws_sqs_queue.jobs.arn
  function_name    = aws_lambda_function.worker.function_name
  batch_size       = 10
  enabled          = true
  depends_on       = [aws_iam_role.worker]

  destination_config {
    on_failure {
      destination_arn = "${aws_sqs_queue.dlq.arn}"
    }
  }
}

data "aws_iam_policy_document" "unused" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.jobs.arn]
  }
}
"""


def test_event_source_mapping_refers_to_its_queue_and_function(tmp_path, monkeypatch):
    inv = read_module(tmp_path, monkeypatch, {"main.tf": CONFIG})
    res = by_id(inv)
    assert "data.aws_iam_policy_document.unused" not in res and len(res) == 5
    queue_arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
    assert res["aws_sqs_queue.jobs"].arn == queue_arn
    mapping = res["aws_lambda_event_source_mapping.jobs"]
    assert mapping.type == "aws_lambda_event_source_mapping"
    assert mapping.location == Location("main.tf", line_of(CONFIG, 'resource "aws_lambda_event_source_mapping" "jobs" {'))
    assert mapping.properties == {
        "event_source_arn": ResourceRef("aws_sqs_queue.jobs", "arn", queue_arn),
        "function_name": ResourceRef("aws_lambda_function.worker", "function_name", "worker"),
        "batch_size": 10,
        "enabled": True,
        # nested blocks are lists of dicts; a quoted "${reference}" is the reference itself
        "destination_config": [{"on_failure": [{"destination_arn": ResourceRef(
            "aws_sqs_queue.dlq", "arn", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs-dlq")}]}],
    }  # no depends_on: meta-arguments are not the resource's
    assert res["aws_sqs_queue.dlq"].properties["tags"] == {
        "source": ResourceRef("aws_sqs_queue.jobs", "arn", queue_arn), "team": "orders"}
    worker = res["aws_lambda_function.worker"]
    assert worker.arn == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:worker"
    assert worker.properties["role"] == ResourceRef("aws_iam_role.worker", "arn", f"arn:aws:iam::{ACCOUNT}:role/worker")


def test_unknown_values_are_none_also_in_references(tmp_path, monkeypatch):
    inv = read_module(tmp_path, monkeypatch, {"main.tf": CONFIG + 'variable "size" {}\n'
                      'resource "aws_sqs_queue" "sized" {\n  name = "sized"\n  max_message_size = var.size\n}\n'},
                      ReadOptions(region="eu-west-1"))
    res = by_id(inv)
    assert res["aws_sqs_queue.jobs"].arn is None  # the account is not known
    assert res["aws_lambda_event_source_mapping.jobs"].properties["event_source_arn"] == ResourceRef(
        "aws_sqs_queue.jobs", "arn", None)
    assert res["aws_sqs_queue.sized"].properties == {"name": "sized", "max_message_size": None}


def test_count_and_for_each_instances_by_their_full_address(tmp_path, monkeypatch):
    inv = read_module(tmp_path, monkeypatch, {"main.tf": """\
resource "aws_sqs_queue" "q" {
  count = 2
  name  = "q-${count.index}"
}

resource "aws_sns_topic" "t" {
  for_each = toset(["a", "b"])
  name     = "t-${each.key}"
}

resource "aws_sns_topic_subscription" "s" {
  for_each  = aws_sns_topic.t
  topic_arn = aws_sns_topic.t[each.key].arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.q[1].arn
}

resource "aws_sqs_queue_policy" "both" {
  count     = 1
  queue_url = aws_sqs_queue.q[0].id
  policy    = "{}"
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_iam_role" "r" {
  name                = "r"
  assume_role_policy  = "{}"
  managed_policy_arns = [aws_sqs_queue.q[0].arn, "arn:aws:iam::aws:policy/ReadOnlyAccess", aws_sqs_queue.q[1].arn]
  description         = join(",", aws_sqs_queue.q[*].arn)
}
"""})
    res = by_id(inv)
    assert list(res) == ["aws_sqs_queue.q[0]", "aws_sqs_queue.q[1]", 'aws_sns_topic.t["a"]', 'aws_sns_topic.t["b"]',
                         'aws_sns_topic_subscription.s["a"]', 'aws_sns_topic_subscription.s["b"]',
                         "aws_sqs_queue_policy.both[0]", "aws_iam_role.r"]
    q1 = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q-1"
    assert res["aws_sqs_queue.q[1]"].arn == q1
    assert res['aws_sns_topic.t["b"]'].arn == f"arn:aws:sns:eu-west-1:{ACCOUNT}:t-b"
    sub = res['aws_sns_topic_subscription.s["b"]'].properties
    assert sub["topic_arn"] == ResourceRef('aws_sns_topic.t["b"]', "arn", f"arn:aws:sns:eu-west-1:{ACCOUNT}:t-b")
    assert sub["endpoint"] == ResourceRef("aws_sqs_queue.q[1]", "arn", q1)
    policy = res["aws_sqs_queue_policy.both[0]"].properties
    assert policy == {"queue_url": ResourceRef("aws_sqs_queue.q[0]", "id",
                                               f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/q-0"),
                      "policy": "{}"}  # no count, no lifecycle
    # a tuple of references: each element that is one is kept as one
    assert res["aws_iam_role.r"].properties["managed_policy_arns"] == [
        ResourceRef("aws_sqs_queue.q[0]", "arn", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q-0"),
        "arn:aws:iam::aws:policy/ReadOnlyAccess", ResourceRef("aws_sqs_queue.q[1]", "arn", q1)]
    # an expression over references is its value
    assert res["aws_iam_role.r"].properties["description"] == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q-0,{q1}"


def test_module_resources_and_values_passed_in_through_variables(tmp_path, monkeypatch):
    inv = read_module(tmp_path, monkeypatch, {
        "main.tf": 'resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n\n'
                   'module "consumer" {\n  source    = "./consumer"\n  queue_arn = aws_sqs_queue.jobs.arn\n}\n',
        "consumer/main.tf": 'variable "queue_arn" {}\n\n'
                            'resource "aws_lambda_function" "f" {\n  function_name = "consumer"\n'
                            '  role = "arn:aws:iam::111122223333:role/x"\n}\n\n'
                            'resource "aws_lambda_event_source_mapping" "m" {\n'
                            '  event_source_arn = var.queue_arn\n'
                            '  function_name    = aws_lambda_function.f.arn\n}\n'})
    res = by_id(inv)
    mapping = res["module.consumer.aws_lambda_event_source_mapping.m"]
    assert mapping.location == Location("consumer/main.tf", line_of(
        (tmp_path / "consumer/main.tf").read_text(), 'resource "aws_lambda_event_source_mapping" "m" {'))
    # a variable is a value, not a reference: only what the module's own code refers to is a ResourceRef
    assert mapping.properties == {
        "event_source_arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs",
        "function_name": ResourceRef("module.consumer.aws_lambda_function.f", "arn",
                                     f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:consumer")}


# ------------------------------------------------------------------------------------ plans


def test_plan_resources_with_unknowns_and_configuration_references():
    plan = {
        "format_version": "1.2", "terraform_version": "1.9.0",
        "planned_values": {"root_module": {
            "resources": [
                {"address": "aws_sqs_queue.jobs", "mode": "managed", "type": "aws_sqs_queue", "name": "jobs",
                 "values": {"name": "jobs", "fifo_queue": False}},
                {"address": "aws_sqs_queue.done", "mode": "managed", "type": "aws_sqs_queue", "name": "done",
                 "values": {"name": "done", "arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:done"}},
                {"address": "aws_lambda_event_source_mapping.jobs", "mode": "managed",
                 "type": "aws_lambda_event_source_mapping", "name": "jobs",
                 "values": {"batch_size": 10,
                            "destination_config": [{"on_failure": [{"destination_arn":
                                                                    f"arn:aws:sqs:eu-west-1:{ACCOUNT}:done"}]}]}},
                {"address": "data.aws_caller_identity.current", "mode": "data", "type": "aws_caller_identity",
                 "name": "current", "values": {"account_id": ACCOUNT}}],
            "child_modules": [{"address": "module.app", "resources": [
                {"address": "module.app.aws_sns_topic.t[0]", "mode": "managed", "type": "aws_sns_topic",
                 "name": "t", "index": 0, "values": {"name": "t0"}}]}]}},
        "resource_changes": [
            {"address": "aws_sqs_queue.jobs", "change": {"actions": ["create"], "after_unknown": {"arn": True}}},
            {"address": "aws_lambda_event_source_mapping.jobs",
             "change": {"actions": ["create"], "after_unknown": {"event_source_arn": True, "function_name": True,
                                                                 "uuid": True}}}],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_lambda_event_source_mapping.jobs", "mode": "managed",
             "type": "aws_lambda_event_source_mapping", "name": "jobs", "expressions": {
                 "event_source_arn": {"references": ["aws_sqs_queue.jobs.arn", "aws_sqs_queue.jobs"]},
                 "function_name": {"references": ["var.function", "var"]},
                 "batch_size": {"constant_value": 10},
                 "destination_config": [{"on_failure": [{"destination_arn": {
                     "references": ["aws_sqs_queue.done.arn", "aws_sqs_queue.done"]}}]}]}}]}},
    }
    text = json.dumps(plan, indent=2)
    inv = read_plan("tfplan.json", text, OPTS)
    res = by_id(inv)
    assert list(res) == ["aws_sqs_queue.jobs", "aws_sqs_queue.done", "aws_lambda_event_source_mapping.jobs",
                         "module.app.aws_sns_topic.t[0]"]
    # values["arn"] when the plan knows it; otherwise synthesized as for HCL
    assert res["aws_sqs_queue.done"].arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:done"
    assert res["aws_sqs_queue.jobs"].arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
    assert res["module.app.aws_sns_topic.t[0]"].arn == f"arn:aws:sns:eu-west-1:{ACCOUNT}:t0"
    mapping = res["aws_lambda_event_source_mapping.jobs"]
    lines = text.splitlines()
    assert mapping.location.file == "tfplan.json"
    assert lines[mapping.location.line - 1].strip() == "{" and \
        lines[mapping.location.line].strip() == '"address": "aws_lambda_event_source_mapping.jobs",'
    assert mapping.properties == {
        # known after apply: a reference all the same, its value not known yet
        "event_source_arn": ResourceRef("aws_sqs_queue.jobs", "arn", None),
        "function_name": None,  # known after apply, and a variable is no reference to a resource
        "batch_size": 10,
        "destination_config": [{"on_failure": [{"destination_arn": ResourceRef(
            "aws_sqs_queue.done", "arn", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:done")}]}],
    }  # no uuid: an attribute the configuration does not set is the provider's, not an argument


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_every_corpus_plan_lists_its_managed_resources():
    plans = [p for p in CORPUS.rglob("*.json") if '"format_version"' in p.read_text(encoding="utf-8", errors="ignore")]
    assert len(plans) >= 8
    total = 0
    for path in plans:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)

        def managed(module):
            own = [r["address"] for r in module.get("resources", []) if r.get("mode") == "managed"]
            return own + [a for child in module.get("child_modules", []) for a in managed(child)]
        expected = managed(data.get("planned_values", {}).get("root_module", {}))
        inv = read_plan(str(path), text, OPTS)
        assert [r.id for r in inv.resources] == expected, path
        total += len(expected)
    assert total >= 20
