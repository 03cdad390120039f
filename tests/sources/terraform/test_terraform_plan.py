"""The Terraform plan reader (``terraform show -json``): real plans from the corpus and small ones."""
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from iamgate.model import Location
from iamgate.rules.builtin import lint
from iamgate.sources import ReadOptions
from iamgate.sources.terraform.plan import read
from iamgate.sources.terraform.resources import generated_name

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "terraform"
VALIDATOR = CORPUS / "terraform-iam-policy-validator" / "iam_check" / "test"
CHECKOV = CORPUS / "checkov" / "tests" / "terraform" / "runner" / "resources"
ACCOUNT = "111122223333"
OPTS = ReadOptions(account=ACCOUNT, region="eu-west-1")

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not available")


def read_corpus(path: Path, options: ReadOptions = OPTS):
    """The plan read and linted, as ``read_inventory`` with the lint the pipeline adds reports it."""
    inv = read(str(path.relative_to(CORPUS)), path.read_text(encoding="utf-8"), options)
    assert inv is not None
    return replace(inv, problems=inv.problems + lint(inv))


def by_id(inv) -> Dict[str, Any]:
    return {p.id: p for p in inv.principals}


def summary(policy) -> List[Any]:
    return [(s.effect, s.actions, s.resources) for s in policy.statements]


def errors(inv) -> List[str]:
    return [f.message for f in inv.problems if f.severity == "error"]


# ============================================================================ corpus


@needs_corpus
def test_identity_policies_plan():
    inv = read_corpus(VALIDATOR / "identity_policies" / "test_plan.json")
    p = by_id(inv)
    assert set(p) == {"aws_iam_role.example", "aws_iam_role.test_role", "aws_iam_user.lb"}
    example = p["aws_iam_role.example"]
    assert example.arn == f"arn:aws:iam::{ACCOUNT}:role/yak_role" and "yak_role" in example.aliases
    assert [(q.name, summary(q)) for q in example.identity_policies] == [
        ("my_inline_policy", [("Allow", ("ec2:Accept*",), ("*",))]),
        ("policy-8675309", [("Allow", ("ec2:Apply*",), ("*",))])]
    assert example.trust_policy.statements[0].principals == {"Service": ("ec2.amazonaws.com",)}
    # aws_iam_role_policy.test_policy: its role (known after apply) refers to aws_iam_role.test_role.id
    assert [(q.name, summary(q)) for q in p["aws_iam_role.test_role"].identity_policies] == [
        ("test_policy", [("Allow", ("ec2:Assign*",), ("*",))])]
    user = p["aws_iam_user.lb"]
    assert user.arn == f"arn:aws:iam::{ACCOUNT}:user/system/loadbalancer"
    assert [(q.name, summary(q)) for q in user.identity_policies] == [("test", [("Allow", ("ec2:Describe*",), ("*",))])]
    assert [q.name for q in inv.policies] == ["test_policy"]
    assert not inv.unresolved and not errors(inv)  # "Sid": "" of older providers is accepted


@needs_corpus
def test_bucket_policy_plans():
    inv = read_corpus(VALIDATOR / "multiple_policies" / "test_plan.json")
    [rp] = inv.resource_policies
    assert rp.type == "aws_s3_bucket_policy" and rp.resource == "arn:aws:s3:::my-tf-test-bucket"
    s = rp.policy.statements[0]
    assert s.principals == {"AWS": ("123456789012",)} and s.actions == ("s3:ListBucket", "s3:GetObject")
    assert [q.name for q in by_id(inv)["aws_iam_user.lb"].identity_policies] == ["test"]

    inv = read_corpus(VALIDATOR / "no_access_granted" / "test_plan.json")
    assert sorted((rp.resource, rp.policy.statements[0].resources) for rp in inv.resource_policies) == [
        ("arn:aws:s3:::my-tf-test-bucket", ("arn:aws:s3:::example",)),
        ("arn:aws:s3:::other-tf-test-bucket", ("arn:aws:s3:::other",))]
    assert by_id(inv)["aws_iam_user.lb"].identity_policies == ()


@needs_corpus
def test_public_access_plan_resource_policies():
    inv = read_corpus(VALIDATOR / "public_access" / "test_plan.json")
    found = {rp.type: rp for rp in inv.resource_policies}
    assert set(found) == {
        "aws_s3_bucket_policy", "aws_sns_topic_policy", "aws_api_gateway_rest_api_policy",
        "aws_opensearch_domain_policy", "aws_backup_vault_policy", "aws_dynamodb_resource_policy",
        "aws_kinesis_resource_policy", "aws_codeartifact_domain_permissions_policy",
        "aws_s3tables_table_bucket_policy", "aws_lambda_permission"}
    assert len([rp for rp in inv.resource_policies if rp.type == "aws_s3_bucket_policy"]) == 2
    # written as a constant in the configuration
    assert found["aws_sns_topic_policy"].resource == "arn:aws:sns:us-east-2:123456789012:my-topic-with-policy"
    # the plan's provider deploys to us-east-2, whatever the manifest says
    assert found["aws_opensearch_domain_policy"].resource == f"arn:aws:es:us-east-2:{ACCOUNT}:domain/tf-test"
    assert found["aws_opensearch_domain_policy"].policy.statements[0].principals == {"*": ("*",)}
    assert found["aws_backup_vault_policy"].resource == f"arn:aws:backup:us-east-2:{ACCOUNT}:backup-vault:example"
    rest = found["aws_api_gateway_rest_api_policy"]
    assert rest.resource.startswith(f"arn:aws:execute-api:us-east-2:{ACCOUNT}:")
    assert rest.policy.statements[0].conditions[0].key == "aws:SourceIp"
    permission = found["aws_lambda_permission"]
    assert permission.resource == f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:lambda_called_from_sns"
    assert permission.policy.statements[0].actions == ("lambda:InvokeFunction",)
    roles = by_id(inv)
    assert set(roles) == {"aws_iam_role.default", "aws_iam_role.test_role"}
    assert all(r.identity_policies == () and r.trust_policy is not None for r in roles.values())
    assert [f.action for f in inv.problems if f.kind == "unknown-action"] == ["SNS:Receive"]


@needs_corpus
def test_role_inline_policy_plan_in_one_line():
    inv = read_corpus(VALIDATOR / "role_inline_assume_policy" / "test_plan.json")
    [role] = inv.principals
    assert role.tags == {"tag-key": "tag-value"} and role.location.line == 1
    assert [(q.name, summary(q)) for q in role.identity_policies] == [
        ("my_inline_policy", [("Allow", ("ec2:Describe*",), ("*",))])]
    assert not inv.unresolved and not errors(inv)


@needs_corpus
def test_checkov_plans():
    inv = read_corpus(CHECKOV / "plan_with_iam_policies" / "tfplan.json")
    p = by_id(inv)
    role = p["aws_iam_role.example"]
    # no name in the configuration: the provider makes one up; iamgate's is stable
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/{generated_name('aws_iam_role.example')}"
    assert [summary(q) for q in role.identity_policies] == [[("Allow", ("iam:*",), ("*",))]]
    assert [summary(q) for q in p["aws_iam_user.fail_3"].identity_policies] == [[("Allow", ("iam:*",), ("*",))]]
    # the policy where the plan writes it; its statement where the data source that rendered it has it
    where = "checkov/tests/terraform/runner/resources/plan_with_iam_policies/tfplan.json"
    assert role.identity_policies[0].location == Location(where, 86)
    assert role.identity_policies[0].statements[0].location == Location(where, 346)

    # the document's resources are known only after apply: unresolved, never guessed
    inv = read_corpus(CHECKOV / "plan_with_iam_data_block" / "tfplan.json")
    [rp] = inv.resource_policies
    assert rp.resource == "arn:aws:s3:::my-tf-test-bucket"
    s = rp.policy.statements[0]
    assert s.actions == ("*",) and s.resources == ("*", "*") and s.unresolved == {"Resource"}
    assert len(inv.unresolved) == 2 and all("known after apply" in u.expression for u in inv.unresolved)


@needs_corpus
def test_every_corpus_plan_is_read():
    plans = [p for p in CORPUS.rglob("*.json") if '"format_version"' in p.read_text(encoding="utf-8", errors="ignore")]
    assert len(plans) >= 8
    for path in plans:
        inv = read_corpus(path)
        assert not [f for f in inv.problems if f.kind == "parse-error"], path


# ============================================================================ small plans


def resource(address: str, values: Optional[Dict[str, Any]], mode: str = "managed", index: Any = None) -> Dict:
    parts = address.split(".")
    while parts[0] == "module":
        parts = parts[2:]
    if parts[0] == "data":
        parts = parts[1:]
    out: Dict[str, Any] = {"address": address, "mode": mode, "type": parts[0], "name": parts[1].split("[")[0],
                           "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0}
    if index is not None:
        out["index"] = index
    if values is not None:
        out["values"] = values
    return out


def change(address: str, after_unknown: Dict[str, Any]) -> Dict[str, Any]:
    return {"address": address, "change": {"actions": ["create"], "after_unknown": after_unknown}}


def config(address: str, expressions: Dict[str, Any], mode: str = "managed") -> Dict[str, Any]:
    parts = address.split(".")
    if parts[0] == "data":
        parts = parts[1:]
    return {"address": address, "mode": mode, "type": parts[0], "name": parts[1], "expressions": expressions}


def ref(*names: str) -> Dict[str, Any]:
    refs: List[str] = []
    for n in names:
        refs += [n, n.rsplit(".", 1)[0]]
    return {"references": refs}


def plan(resources: List[Dict], changes: List[Dict] = (), configuration: Optional[Dict] = None,
         children: List[Dict] = (), prior: List[Dict] = (), provider_region: Optional[str] = None) -> str:
    data: Dict[str, Any] = {"format_version": "1.2", "terraform_version": "1.9.0",
                            "planned_values": {"root_module": {"resources": resources,
                                                               "child_modules": list(children)}},
                            "resource_changes": list(changes)}
    if prior:
        data["prior_state"] = {"format_version": "1.0", "values": {"root_module": {"resources": list(prior)}}}
    if configuration is not None or provider_region:
        data["configuration"] = dict(configuration or {"root_module": {}})
        if provider_region:
            data["configuration"]["provider_config"] = {"aws": {"name": "aws", "expressions": {
                "region": {"constant_value": provider_region}}}}
    return json.dumps(data, indent=2)


TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def policy_json(action: str, resource: str = "*") -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})


def test_not_a_plan_and_broken_plans():
    assert read("x.json", json.dumps({"Version": "2012-10-17", "Statement": []})) is None
    assert read("state.json", json.dumps({"format_version": "1.0", "values": {"root_module": {}}})) is None
    broken = '{\n  "format_version": "1.2",\n  "planned_values": {\n    "root_module": {,}\n  }\n}'
    inv = read("plans/broken.json", broken)
    [problem] = inv.problems
    assert problem.kind == "parse-error" and problem.location == Location("plans/broken.json", 4, 21)
    assert problem.message.startswith("plans/broken.json: not valid JSON")


def test_computed_attributes_are_synthesized_and_locations_are_plan_lines():
    text = plan(
        [resource("aws_iam_role.app", {"name": "app", "path": "/", "assume_role_policy": TRUST}),
         resource("aws_sns_topic.events", {"name": "events"})],
        [change("aws_iam_role.app", {"arn": True, "id": True, "unique_id": True, "inline_policy": True,
                                     "managed_policy_arns": True}),
         change("aws_sns_topic.events", {"arn": True, "id": True, "policy": True})],
        {"root_module": {"resources": [config("aws_iam_role.app", {"name": {"constant_value": "app"},
                                                                   "assume_role_policy": {}}),
                                       config("aws_sns_topic.events", {"name": {"constant_value": "events"}})]}})
    inv = read("tfplan.json", text, OPTS)
    [role] = inv.principals
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/app" and role.identity_policies == ()
    assert role.location == Location("tfplan.json", text.splitlines().index("        {") + 1)
    assert inv.resource_policies == () and not inv.unresolved
    refs = dict(inv.references)
    assert refs["aws_sns_topic.events.arn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT}:events"


def test_unknown_values_become_unresolved_with_the_attribute_path():
    text = plan(
        [resource("aws_iam_role.app", {"name": "app", "assume_role_policy": TRUST,
                                       "inline_policy": [{"name": "dyn"}]})],
        [change("aws_iam_role.app", {"arn": True, "inline_policy": [{"policy": True}],
                                     "managed_policy_arns": [True]})],
        {"root_module": {"resources": [config("aws_iam_role.app", {
            "name": {"constant_value": "app"}, "inline_policy": [{"policy": ref("random_id.x.hex")}],
            "managed_policy_arns": ref("aws_iam_policy.a.arn", "aws_iam_policy.b.arn")})]}})
    inv = read("tfplan.json", text, OPTS)
    [role] = inv.principals
    assert len(role.identity_policies) == 2 and all(p.statements[0].unresolved for p in role.identity_policies)
    assert sorted(u.expression for u in inv.unresolved) == [
        "aws_iam_role.app.inline_policy[0].policy (known after apply)",
        "aws_iam_role.app.managed_policy_arns[0] (known after apply)"]


def test_single_references_link_resources_together():
    document = {"statement": [{"actions": ["s3:GetObject"], "resources": [None], "effect": "Allow",
                               "principals": [], "not_principals": [], "condition": [], "sid": None,
                               "not_actions": None, "not_resources": None}],
                "override_policy_documents": None, "source_policy_documents": None, "version": None,
                "policy_id": None}
    text = plan(
        [resource("aws_s3_bucket.data", {"bucket": "orders-data"}),
         resource("aws_iam_role.app", {"name": "app", "assume_role_policy": TRUST}),
         resource("aws_iam_role_policy.read", {"name": "read"}),
         resource("aws_iam_policy.write", {"name": "write", "path": "/",
                                           "policy": policy_json("s3:PutObject", "arn:aws:s3:::orders-data/*")}),
         resource("aws_iam_role_policy_attachment.write", {}),
         resource("data.aws_iam_policy_document.read", document, mode="data")],
        [change("aws_s3_bucket.data", {"arn": True, "id": True}),
         change("aws_iam_role.app", {"arn": True, "id": True}),
         change("aws_iam_role_policy.read", {"role": True, "policy": True, "id": True}),
         change("aws_iam_policy.write", {"arn": True, "id": True}),
         change("aws_iam_role_policy_attachment.write", {"role": True, "policy_arn": True}),
         change("data.aws_iam_policy_document.read", {"json": True, "id": True,
                                                      "statement": [{"resources": [True]}]})],
        {"root_module": {"resources": [
            config("aws_s3_bucket.data", {"bucket": {"constant_value": "orders-data"}}),
            config("aws_iam_role.app", {"name": {"constant_value": "app"}, "assume_role_policy": {}}),
            config("aws_iam_role_policy.read", {"role": ref("aws_iam_role.app.id"),
                                                "policy": ref("data.aws_iam_policy_document.read.json")}),
            config("aws_iam_policy.write", {"name": {"constant_value": "write"}, "policy": {}}),
            config("aws_iam_role_policy_attachment.write", {"role": ref("aws_iam_role.app.name"),
                                                            "policy_arn": ref("aws_iam_policy.write.arn")}),
            config("data.aws_iam_policy_document.read", {"statement": [
                {"actions": {"constant_value": ["s3:GetObject"]}, "resources": ref("aws_s3_bucket.data.arn")}]},
                mode="data")]}})
    inv = read("tfplan.json", text, OPTS)
    [role] = inv.principals
    read_policy, write_policy = role.identity_policies
    # the document's own resources stayed unknown (a list expression is not followed)
    assert read_policy.name == "read" and read_policy.statements[0].unresolved == {"Resource"}
    assert write_policy.name == "write" and summary(write_policy) == [
        ("Allow", ("s3:PutObject",), ("arn:aws:s3:::orders-data/*",))]
    assert [u.expression for u in inv.unresolved] == [
        "data.aws_iam_policy_document.read.statement[0].resources[0] (known after apply)"]


def test_a_policy_argument_is_not_linked_to_a_value_that_is_no_policy():
    text = plan(
        [resource("aws_iam_role.app", {"name": "app", "assume_role_policy": TRUST}),
         resource("aws_iam_role_policy.p", {"name": "p", "role": "app"}),
         resource("aws_s3_bucket.b", {"bucket": "b"})],
        [change("aws_iam_role_policy.p", {"policy": True})],
        {"root_module": {"resources": [config("aws_iam_role_policy.p", {
            "role": {"constant_value": "app"}, "policy": ref("aws_s3_bucket.b.arn")})]}})
    inv = read("tfplan.json", text, OPTS)
    [policy] = inv.principals[0].identity_policies
    assert policy.statements[0].unresolved
    assert [u.expression for u in inv.unresolved] == ["aws_iam_role_policy.p.policy (known after apply)"]


def test_modules_outputs_and_variables():
    child = {"address": "module.worker", "resources": [
        resource("module.worker.aws_iam_role.this", {"name": "worker", "assume_role_policy": TRUST}, index=None),
        resource("module.worker.aws_iam_role_policy.extra", {"name": "extra", "policy": policy_json("sqs:*")})]}
    configuration = {"root_module": {
        "resources": [
            config("aws_iam_role.ci", {"name": {"constant_value": "ci"}, "assume_role_policy": {}}),
            config("aws_iam_role_policy.for_worker", {"role": ref("module.worker.role_name"), "policy": {}})],
        "module_calls": {"worker": {"source": "./worker", "expressions": {"admin_role": ref("aws_iam_role.ci.name")},
                                    "module": {
                                        "outputs": {"role_name": {"expression": ref("aws_iam_role.this.name")}},
                                        "resources": [
                                            config("aws_iam_role.this", {"name": {"constant_value": "worker"}}),
                                            config("aws_iam_role_policy.extra", {"role": ref("var.admin_role"),
                                                                                 "policy": {}})]}}}}}
    text = plan(
        [resource("aws_iam_role.ci", {"name": "ci", "assume_role_policy": TRUST}),
         resource("aws_iam_role_policy.for_worker", {"name": "for-worker", "policy": policy_json("s3:GetObject")})],
        [change("aws_iam_role_policy.for_worker", {"role": True}),
         change("module.worker.aws_iam_role_policy.extra", {"role": True})],
        configuration, children=[child])
    inv = read("tfplan.json", text, OPTS)
    p = by_id(inv)
    worker = p["module.worker.aws_iam_role.this"]
    assert {"aws_iam_role.this", "worker"} <= set(worker.aliases)
    assert [q.name for q in worker.identity_policies] == ["for-worker"]
    assert [q.name for q in p["aws_iam_role.ci"].identity_policies] == ["extra"]
    assert not inv.unresolved


def test_account_region_and_windows_line_endings():
    crlf = '{\r\n  "Version": "2012-10-17",\r\n  "Statement": [\r\n    {"Effect": "Allow", ' \
           '"Action": "s3:GetObject", "Resource": "*"}\r\n  ]\r\n}'
    text = plan([resource("aws_iam_role.r", {"name": "r", "assume_role_policy": TRUST}, index=0),
                 resource("aws_iam_role_policy.p", {"name": "p", "role": "r", "policy": crlf}),
                 resource("aws_sqs_queue.q", {"name": "jobs"})],
                prior=[resource("data.aws_caller_identity.current", {"account_id": "444455556666", "id": "x"},
                                mode="data")],
                provider_region="ap-southeast-2")
    text = text.replace('"address": "aws_iam_role.r"', '"address": "aws_iam_role.r[0]"')
    inv = read("tfplan.json", text, ReadOptions())
    [role] = inv.principals
    assert role.arn == "arn:aws:iam::444455556666:role/r"
    assert {"aws_iam_role.r[0]", "aws_iam_role.r"} <= set(role.aliases)
    assert summary(role.identity_policies[0]) == [("Allow", ("s3:GetObject",), ("*",))]
    assert dict(inv.references)["aws_sqs_queue.q.arn"] == "arn:aws:sqs:ap-southeast-2:444455556666:jobs"
    assert dict(inv.references)["data.aws_caller_identity.current.account_id"] == "444455556666"
    assert not inv.unresolved and not errors(inv)


def test_source_documents_known_only_after_apply_are_followed():
    base_json = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Logs", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]})
    statement = {"actions": ["sqs:SendMessage"], "resources": ["*"], "effect": "Allow", "sid": "Queue",
                 "principals": [], "not_principals": [], "condition": [], "not_actions": None, "not_resources": None}
    text = plan(
        [resource("aws_iam_role.app", {"name": "app", "assume_role_policy": TRUST}),
         resource("aws_iam_role_policy.p", {"name": "p", "role": "app"}),
         resource("data.aws_iam_policy_document.combined", {"statement": [statement], "version": None,
                                                            "source_policy_documents": [None]}, mode="data")],
        [change("aws_iam_role_policy.p", {"policy": True}),
         change("data.aws_iam_policy_document.combined", {"json": True, "source_policy_documents": [True]})],
        {"root_module": {"resources": [
            config("aws_iam_role_policy.p", {"role": {"constant_value": "app"},
                                             "policy": ref("data.aws_iam_policy_document.combined.json")}),
            config("data.aws_iam_policy_document.combined", {
                "source_policy_documents": ref("data.aws_iam_policy_document.base.json"),
                "statement": [{"actions": {"constant_value": ["sqs:SendMessage"]}}]}, mode="data")]}},
        prior=[resource("data.aws_iam_policy_document.base", {"json": base_json}, mode="data")])
    inv = read("tfplan.json", text, OPTS)
    [policy] = inv.principals[0].identity_policies
    assert [(s.sid, s.actions) for s in policy.statements] == [("Logs", ("logs:PutLogEvents",)),
                                                               ("Queue", ("sqs:SendMessage",))]
    assert not inv.unresolved
