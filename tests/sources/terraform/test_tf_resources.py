"""The Terraform resource model: synthesized attributes, aws_iam_policy_document rendering, and
resources turned into principals, resource policies and guardrails."""
import json
from dataclasses import replace
from typing import Any, Dict, Optional

import pytest

from iamgate.engine.evaluate import PolicySet, Request, decide
from iamgate.model import Inventory, Location
from iamgate.rules.builtin import lint
from iamgate.sources import ReadOptions
from iamgate.sources.documents import build_policy
from iamgate.sources.terraform.inventory import build_inventory, queue_arn
from iamgate.sources.terraform.policy_document import policy_document_id, policy_document_json, policy_document_value
from iamgate.sources.terraform.resources import ACCOUNT_UNKNOWN, TfResource, generated_name, synthesize
from iamgate.sources.values import Partial, Unknown

ACCOUNT = "111122223333"
OPTS = ReadOptions(account=ACCOUNT, region="eu-west-1")
FILE = "infra/main.tf"


def res(address: str, values: Dict[str, Any], line: int = 1, mode: str = "managed",
        lines: Optional[Dict[tuple, int]] = None) -> TfResource:
    """A TfResource from its address (``module.x.type.name[0]``)."""
    parts = address.split(".")
    module = ""
    while parts[0] == "module":
        module = ".".join(filter(None, [module, parts[0], parts[1]]))
        parts = parts[2:]
    if parts[0] == "data":
        parts = parts[1:]
        mode = "data"
    rtype, name = parts[0], parts[1]
    index = None
    if "[" in name:
        name, _, rest = name.partition("[")
        raw = rest.rstrip("]")
        index = int(raw) if raw.isdigit() else raw.strip('"')
    table = lines or {}
    return TfResource(address=address, mode=mode, type=rtype, name=name, module=module, index=index,
                      values=values, location=Location(FILE, line), line_of=lambda path: table.get(tuple(path)))


def doc(*statements: Dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ASSUME_LAMBDA = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                     "Action": "sts:AssumeRole"})


def principal(inv, selector):
    found = [p for p in inv.principals if selector in p.aliases]
    assert len(found) == 1, [p.aliases for p in inv.principals]
    return found[0]


def linted(inv: Inventory) -> Inventory:
    """The inventory with the lint findings ``read_inventory`` with the lint the pipeline adds adds after reading."""
    return replace(inv, problems=inv.problems + lint(inv))


def actions(policy):
    return [a for st in policy.statements for a in (st.actions or ())]


# ============================================================================ synthesize


@pytest.mark.parametrize("rtype, values, expected", [
    ("aws_s3_bucket", {"bucket": "orders"}, {"id": "orders", "bucket": "orders", "arn": "arn:aws:s3:::orders",
                                             "bucket_regional_domain_name": "orders.s3.eu-west-1.amazonaws.com"}),
    ("aws_sqs_queue", {"name": "jobs"}, {"arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs", "name": "jobs",
                                         "url": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs",
                                         "id": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs"}),
    ("aws_sqs_queue", {"name": "jobs.fifo", "fifo_queue": True}, {"arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs.fifo"}),
    ("aws_sns_topic", {"name": "events"}, {"arn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:events",
                                           "id": f"arn:aws:sns:eu-west-1:{ACCOUNT}:events"}),
    ("aws_iam_role", {"name": "worker", "path": "/service/"}, {"arn": f"arn:aws:iam::{ACCOUNT}:role/service/worker",
                                                               "name": "worker", "id": "worker"}),
    ("aws_iam_user", {"name": "ci"}, {"arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "id": "ci"}),
    ("aws_iam_group", {"name": "devs"}, {"arn": f"arn:aws:iam::{ACCOUNT}:group/devs"}),
    ("aws_iam_policy", {"name": "read", "policy": "{}"}, {"arn": f"arn:aws:iam::{ACCOUNT}:policy/read",
                                                          "id": f"arn:aws:iam::{ACCOUNT}:policy/read",
                                                          "name": "read", "policy": "{}"}),
    ("aws_iam_instance_profile", {"name": "web", "role": "web-role"},
     {"arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/web", "role": "web-role"}),
    ("aws_kms_alias", {"name": "alias/orders", "target_key_id": "k-1"},
     {"arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/orders",
      "target_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k-1"}),
    ("aws_dynamodb_table", {"name": "orders"}, {"arn": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders",
                                                "id": "orders"}),
    ("aws_lambda_function", {"function_name": "api"}, {
        "arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:api", "function_name": "api",
        "qualified_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:api:$LATEST",
        "invoke_arn": "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
                      f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:api/invocations"}),
    ("aws_lambda_function", {"function_name": "api", "publish": True},
     {"qualified_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:api:1"}),
    # the provider trims the API's trailing ":*"
    ("aws_cloudwatch_log_group", {"name": "/aws/lambda/api"},
     {"arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/api"}),
    ("aws_ecr_repository", {"name": "app"}, {"arn": f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app",
                                             "repository_url": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/app"}),
    ("aws_kinesis_stream", {"name": "clicks"}, {"arn": f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/clicks"}),
    ("aws_sfn_state_machine", {"name": "flow"}, {"arn": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:flow"}),
    ("aws_cloudwatch_event_bus", {"name": "orders"}, {"arn": f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/orders"}),
    ("aws_ssm_parameter", {"name": "/app/db"}, {"arn": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/db"}),
    ("aws_ssm_parameter", {"name": "db"}, {"arn": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/db"}),
    ("aws_ecs_cluster", {"name": "main"}, {"arn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/main"}),
    ("aws_opensearch_domain", {"domain_name": "logs"}, {"arn": f"arn:aws:es:eu-west-1:{ACCOUNT}:domain/logs"}),
    ("aws_backup_vault", {"name": "vault"}, {"arn": f"arn:aws:backup:eu-west-1:{ACCOUNT}:backup-vault:vault"}),
])
def test_synthesized_attributes(rtype, values, expected):
    out = synthesize(rtype, "x", values, OPTS, f"{rtype}.x")
    assert {k: out.get(k) for k in expected} == expected


def test_generated_identifiers_have_the_real_shape():
    key = synthesize("aws_kms_key", "k", {}, OPTS, "aws_kms_key.k")
    assert key["arn"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key['key_id']}" and key["id"] == key["key_id"]
    assert len(key["key_id"]) == 36 and key["key_id"].count("-") == 4
    secret = synthesize("aws_secretsmanager_secret", "s", {"name": "db"}, OPTS, "aws_secretsmanager_secret.s")
    prefix = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-"
    assert secret["arn"].startswith(prefix) and len(secret["arn"]) == len(prefix) + 6 and secret["id"] == secret["arn"]
    api = synthesize("aws_api_gateway_rest_api", "api", {"name": "api"}, OPTS, "aws_api_gateway_rest_api.api")
    assert len(api["id"]) == 10
    assert api["execution_arn"] == f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:{api['id']}"
    role = synthesize("aws_iam_role", "r", {"name": "r"}, OPTS, "aws_iam_role.r")
    assert role["unique_id"].startswith("AROA") and len(role["unique_id"]) == 21
    table = synthesize("aws_dynamodb_table", "t", {"name": "t", "stream_enabled": True}, OPTS, "aws_dynamodb_table.t")
    assert table["stream_arn"].startswith(f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t/stream/")


def test_generated_names_are_stable_and_follow_the_provider():
    a = synthesize("aws_s3_bucket", "b", {}, OPTS, "module.m.aws_s3_bucket.b")
    again = synthesize("aws_s3_bucket", "b", {}, OPTS, "module.m.aws_s3_bucket.b")
    other = synthesize("aws_s3_bucket", "b", {}, OPTS, "aws_s3_bucket.b")
    assert a == again and a["bucket"] != other["bucket"]
    assert a["bucket"].startswith("terraform-") and len(a["bucket"]) == len("terraform-") + 26
    assert a["arn"] == f"arn:aws:s3:::{a['bucket']}" and a["id"] == a["bucket"]
    prefixed = synthesize("aws_s3_bucket", "b", {"bucket_prefix": "logs-"}, OPTS, "aws_s3_bucket.b")
    assert prefixed["bucket"].startswith("logs-") and len(prefixed["bucket"]) == 5 + 26
    fifo = synthesize("aws_sqs_queue", "q", {"fifo_queue": True}, OPTS, "aws_sqs_queue.q")
    assert fifo["name"].startswith("terraform-") and fifo["name"].endswith(".fifo")
    assert generated_name("aws_iam_role.r") == synthesize("aws_iam_role", "r", {}, OPTS, "aws_iam_role.r")["name"]


def test_missing_account_and_unknown_pieces_stay_unknown():
    out = synthesize("aws_sqs_queue", "q", {"name": "jobs"}, ReadOptions(), "aws_sqs_queue.q")
    assert isinstance(out["arn"], Partial)
    assert [u.expression for u in out["arn"].unknowns()] == [ACCOUNT_UNKNOWN]
    assert out["arn"].text("*") == "arn:aws:sqs:us-east-1:*:jobs"
    name = Unknown("var.env")
    role = synthesize("aws_iam_role", "r", {"name": Partial(["svc-", name])}, OPTS, "aws_iam_role.r")
    assert role["arn"] == Partial([f"arn:aws:iam::{ACCOUNT}:role/svc-", name])
    required = synthesize("aws_dynamodb_table", "t", {}, OPTS, "aws_dynamodb_table.t")
    assert isinstance(required["name"], Unknown)


def test_region_argument_and_partition():
    cn = ReadOptions(account=ACCOUNT, region="cn-north-1", partition="aws-cn")
    out = synthesize("aws_sqs_queue", "q", {"name": "jobs"}, cn, "aws_sqs_queue.q")
    assert out["arn"] == f"arn:aws-cn:sqs:cn-north-1:{ACCOUNT}:jobs"
    assert out["url"] == f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/jobs"
    west = synthesize("aws_sns_topic", "t", {"name": "t", "region": "us-west-2"}, OPTS, "aws_sns_topic.t")
    assert west["arn"] == f"arn:aws:sns:us-west-2:{ACCOUNT}:t"


def test_unknown_types_give_nothing():
    assert synthesize("aws_instance", "web", {"ami": "ami-1"}, OPTS, "aws_instance.web") == {}


def test_queue_arn_from_url():
    assert queue_arn(f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs", "aws") == \
        f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
    acct = Unknown(ACCOUNT_UNKNOWN)
    partial = queue_arn(Partial(["https://sqs.eu-west-1.amazonaws.com/", acct, "/jobs"]), "aws")
    assert partial == Partial(["arn:aws:sqs:eu-west-1:", acct, ":jobs"])
    assert isinstance(queue_arn(Unknown("x"), "aws"), Unknown)


# ============================================================================ aws_iam_policy_document


def st(**kw: Any) -> Dict[str, Any]:
    return kw


def rendered(values: Dict[str, Any]) -> Any:
    return json.loads(policy_document_json(values))


def without_empty_sids(document: Dict[str, Any]) -> Dict[str, Any]:
    """The provider's documentation still shows ``"Sid": ""``, which current versions omit."""
    return {**document, "Statement": [{k: v for k, v in s.items() if not (k == "Sid" and v == "")}
                                      for s in document["Statement"]]}


def test_rendering_matches_the_provider_byte_for_byte():
    values = {"statement": [st(actions=["s3:ListBucket", "s3:GetObject"], resources=["arn:aws:s3:::b"],
                               principals=[{"type": "AWS", "identifiers": ["*"]}])]}
    assert policy_document_json(values) == (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "Allow",\n'
        '      "Action": [\n        "s3:ListBucket",\n        "s3:GetObject"\n      ],\n'
        '      "Resource": "arn:aws:s3:::b",\n      "Principal": {\n        "AWS": "*"\n      }\n    }\n  ]\n}')
    assert policy_document_json(values, minified=True) == (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],'
        '"Resource":"arn:aws:s3:::b","Principal":{"AWS":"*"}}]}')


def test_the_data_source_id_is_the_crc_of_its_json():
    # from a real plan: prior_state.values of data.aws_iam_policy_document.inline_policy
    json_text = ('{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Sid": "",\n      "Effect": '
                 '"Allow",\n      "Action": "ec2:Apply*",\n      "Resource": "*"\n    }\n  ]\n}')
    assert policy_document_id(json_text) == "2662099322"


def test_principals_conditions_and_policy_variables():
    values = {"version": "2012-10-17", "policy_id": "p1", "statement": [
        st(sid="Trust", actions=["sts:AssumeRole"],
           principals=[{"type": "Service", "identifiers": ["firehose.amazonaws.com"]},
                       {"type": "AWS", "identifiers": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]},
                       {"type": "AWS", "identifiers": ["arn:aws:iam::1:role/c"]}],
           condition=[{"test": "ForAnyValue:StringEquals", "variable": "kms:EncryptionContext:service",
                       "values": ["pi"]},
                      {"test": "ForAnyValue:StringEquals", "variable": "kms:EncryptionContext:aws:pi:service",
                       "values": ["rds"]},
                      {"test": "StringLike", "variable": "s3:prefix", "values": ["", "home/&{aws:username}/"]}]),
        st(effect="Deny", not_actions=["iam:*"], resources=["arn:aws:s3:::b/&{aws:userid}/*"],
           principals=[{"type": "*", "identifiers": ["*"]}], condition=[
               {"test": "Bool", "variable": "aws:SecureTransport", "values": [False]}])]}
    out = rendered(values)
    assert out["Id"] == "p1" and list(out) == ["Version", "Id", "Statement"]
    first, second = out["Statement"]
    assert list(first) == ["Sid", "Effect", "Action", "Principal", "Condition"]
    assert first["Principal"] == {"AWS": ["arn:aws:iam::1:role/b", "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/c"],
                                  "Service": "firehose.amazonaws.com"}
    assert first["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:EncryptionContext:aws:pi:service": "rds",
                                     "kms:EncryptionContext:service": "pi"},
        "StringLike": {"s3:prefix": ["", "home/${aws:username}/"]}}
    assert second == {"Effect": "Deny", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/${aws:userid}/*",
                      "Principal": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def _docs_source() -> str:
    return policy_document_json({"statement": [st(actions=["ec2:*"], resources=["*"]),
                                               st(sid="SidToOverride", actions=["s3:*"], resources=["*"])]})


def test_source_documents_as_in_the_provider_docs():
    out = rendered({"source_policy_documents": [_docs_source()], "statement": [
        st(sid="SidToOverride", actions=["s3:*"], resources=["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"])]})
    assert out == without_empty_sids({"Version": "2012-10-17", "Statement": [
        {"Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Sid": "SidToOverride", "Effect": "Allow", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::somebucket/*", "arn:aws:s3:::somebucket"]}]})


def test_override_documents_as_in_the_provider_docs():
    override = policy_document_json({"statement": [st(sid="SidToOverride", actions=["s3:*"], resources=["*"])]})
    out = rendered({"override_policy_documents": [override], "statement": [
        st(actions=["ec2:*"], resources=["*"]),
        st(sid="SidToOverride", actions=["s3:*"], resources=["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"])]})
    assert out == without_empty_sids({"Version": "2012-10-17", "Statement": [
        {"Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Sid": "SidToOverride", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    # both, and no statements of its own
    source = policy_document_json({"statement": [st(sid="OverridePlaceholder", actions=["ec2:DescribeAccountAttributes"],
                                                    resources=["*"])]})
    override = policy_document_json({"statement": [st(sid="OverridePlaceholder", actions=["s3:GetObject"],
                                                      resources=["*"])]})
    assert rendered({"source_policy_documents": [source], "override_policy_documents": [override]}) == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "OverridePlaceholder", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def test_merging_override_documents_as_in_the_provider_docs():
    one = policy_document_json({"statement": [st(sid="OverridePlaceHolderOne", effect="Allow", actions=["s3:*"],
                                                 resources=["*"])]})
    two = policy_document_json({"statement": [st(effect="Allow", actions=["ec2:*"], resources=["*"]),
                                              st(sid="OverridePlaceHolderTwo", effect="Allow", actions=["iam:*"],
                                                 resources=["*"])]})
    three = policy_document_json({"statement": [st(sid="OverridePlaceHolderOne", effect="Deny", actions=["logs:*"],
                                                   resources=["*"])]})
    out = rendered({"override_policy_documents": [one, two, three], "statement": [
        st(sid="OverridePlaceHolderTwo", effect="Deny", actions=["*"], resources=["*"])]})
    assert [(s.get("Sid"), s["Effect"], s["Action"]) for s in out["Statement"]] == [
        ("OverridePlaceHolderTwo", "Allow", "iam:*"), ("OverridePlaceHolderOne", "Deny", "logs:*"),
        (None, "Allow", "ec2:*")]


def test_source_documents_written_by_hand_are_read_as_the_provider_reads_them():
    hand = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["x"],
         "Principal": {"AWS": ["arn:aws:iam::1:root", "arn:aws:iam::2:root"]},
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-1"]}, "NumericLessThan": {"s3:max-keys": 10}}},
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*", "Principal": "*"}]})
    out = rendered({"source_policy_documents": [hand]})
    first, second = out["Statement"]
    assert first["Action"] == ["s3:GetObject"]  # kept as written, not flattened
    assert first["Principal"] == {"AWS": ["arn:aws:iam::2:root", "arn:aws:iam::1:root"]}
    # single condition values flattened; numbers dropped, as the provider's Go code drops them
    assert first["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}
    assert second["Principal"] == "*"


def _policy_of(values: Dict[str, Any]):
    return build_policy(policy_document_json(values), "p", "identity", Location(FILE, 1))


def test_unknown_values_mark_exactly_their_element():
    bucket = Unknown("aws_s3_bucket.b.arn (known after apply)")
    value = policy_document_json({"statement": [st(actions=["s3:GetObject"], resources=[Partial([bucket, "/*"])]),
                                                st(actions=Unknown("var.actions"), resources=["*"])]})
    assert isinstance(value, Partial)
    policy, unknowns = build_policy(value, "p", "identity", Location(FILE, 1))
    first, second = policy.statements
    assert first.resources == ("*/*",) and first.unresolved == {"Resource"} and first.actions == ("s3:GetObject",)
    assert second.actions == ("*",) and second.unresolved == {"Action"}
    assert {u.expression for u in unknowns} == {bucket.expression, "var.actions"}
    # such a statement never allows on its own: the decision is unknown
    decision = decide(Request(action="s3:GetObject", resource="arn:aws:s3:::other/key"), PolicySet(identity=(policy,)))
    assert decision.result == "unknown"


def test_unknown_principals_conditions_and_statements():
    policy, _ = _policy_of({"statement": [
        st(actions=["s3:*"], resources=["*"], principals=[{"type": "AWS", "identifiers": Unknown("var.arns")}]),
        st(actions=["s3:*"], resources=["*"], condition=[{"test": "StringEquals", "variable": Unknown("var.key"),
                                                          "values": ["x"]}]),
        Unknown("dynamic statement (for_each unknown)")]})
    assert [s.unresolved for s in policy.statements][:2] == [{"Principal"}, {"Condition"}]
    assert policy.statements[2].unresolved >= {"Effect", "Action"}


def test_unknown_source_adds_an_unknown_statement_and_unknown_override_makes_all_unknown():
    policy, unknowns = _policy_of({"source_policy_documents": [Unknown("var.base")],
                                   "statement": [st(actions=["s3:GetObject"], resources=["*"])]})
    assert len(policy.statements) == 2 and policy.statements[0].unresolved and not policy.statements[1].unresolved
    assert isinstance(policy_document_json({"override_policy_documents": [Unknown("var.o")],
                                            "statement": [st(effect="Deny", actions=["*"], resources=["*"])]}),
                      Unknown)


def test_policy_document_value_and_statement_locations():
    values = {"statement": [st(actions=["s3:GetObject"], resources=["*"]), st(actions=["sqs:*"], resources=["*"])]}
    assert policy_document_value(values)["Statement"][1] == {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}
    lines = {("statement", 0): 12, ("statement", 1): 17}
    value = policy_document_json(values, lambda p: lines.get(tuple(p)), file="infra/iam.tf")
    assert value.statement_locations == (Location("infra/iam.tf", 12), Location("infra/iam.tf", 17))


# ============================================================================ build_inventory


def test_role_with_inline_managed_boundary_trust_and_tags():
    customer = res("aws_iam_policy.read", {"name": "read", "policy": doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})}, line=3)
    role = res("module.worker.aws_iam_role.this[0]", {
        "name": "worker", "assume_role_policy": ASSUME_LAMBDA, "tags": {"team": "orders"},
        "permissions_boundary": "arn:aws:iam::aws:policy/PowerUserAccess",
        "inline_policy": [{"name": "logs", "policy": doc({"Effect": "Allow", "Action": "logs:PutLogEvents",
                                                          "Resource": "*"}), "__line__": 14},
                          {"__line__": 20}],
        "managed_policy_arns": ["arn:aws:iam::aws:policy/AWSLambdaExecute", f"arn:aws:iam::{ACCOUNT}:policy/read"],
    }, line=10, lines={("inline_policy", 0, "policy"): 15})
    inv = build_inventory([customer, role], OPTS, FILE)
    p = principal(inv, "aws_iam_role.this")
    assert p.aliases == ("module.worker.aws_iam_role.this[0]", "module.worker.aws_iam_role.this",
                         "aws_iam_role.this[0]", "aws_iam_role.this", "worker", f"arn:aws:iam::{ACCOUNT}:role/worker")
    assert p.arn == f"arn:aws:iam::{ACCOUNT}:role/worker" and p.tags == {"team": "orders"}
    assert [q.name for q in p.identity_policies] == ["logs", "AWSLambdaExecute", "read"]
    assert p.identity_policies[0].location == Location(FILE, 15)
    assert p.boundary.name == "PowerUserAccess" and p.boundary.kind == "boundary"
    assert p.trust_policy.kind == "trust" and p.trust_policy.statements[0].principals == {
        "Service": ("lambda.amazonaws.com",)}
    assert [q.name for q in inv.policies] == ["read"]
    assert not inv.unresolved and not [f for f in inv.problems if f.severity == "error"]


def test_attachments_find_roles_users_and_groups_by_name():
    read = res("aws_iam_policy.read", {"name": "read", "policy": doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})})
    resources = [
        read,
        res("aws_iam_role.app", {"name": "app", "assume_role_policy": ASSUME_LAMBDA}),
        res("aws_iam_role.other", {"name": "other", "assume_role_policy": ASSUME_LAMBDA}),
        res("aws_iam_role_policy.inline", {"role": "app", "name": "queue", "policy": doc(
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})}),
        res("aws_iam_role_policy_attachment.read", {"role": "app", "policy_arn": f"arn:aws:iam::{ACCOUNT}:policy/read"}),
        res("aws_iam_role_policy_attachment.aws", {"role": "app",
                                                   "policy_arn": "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"}),
        res("aws_iam_user.ci", {"name": "ci"}),
        res("aws_iam_user.ops", {"name": "ops"}),
        res("aws_iam_user_policy.ci", {"user": "ci", "name": "deploy", "policy": doc(
            {"Effect": "Allow", "Action": "lambda:UpdateFunctionCode", "Resource": "*"})}),
        res("aws_iam_user_policy_attachment.ci", {"user": "ci", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        res("aws_iam_group.devs", {"name": "devs"}),
        res("aws_iam_group.admins", {"name": "admins"}),
        res("aws_iam_group_policy.devs", {"group": "devs", "name": "devs", "policy": doc(
            {"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"})}),
        res("aws_iam_group_policy_attachment.admins", {"group": "admins",
                                                       "policy_arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}),
        res("aws_iam_user_group_membership.ci", {"user": "ci", "groups": ["devs"]}),
        res("aws_iam_group_membership.admins", {"name": "admins", "group": "admins", "users": ["ops"]}),
        res("aws_iam_policy_attachment.everyone", {"name": "everyone", "policy_arn": f"arn:aws:iam::{ACCOUNT}:policy/read",
                                                   "roles": ["other"], "users": ["ops"], "groups": ["devs"]}),
        res("aws_iam_role_policies_exclusive.app", {"role_name": "app", "policy_names": ["queue"]}),
        res("aws_iam_role_policy_attachments_exclusive.app", {"role_name": "app", "policy_arns": []}),
    ]
    inv = build_inventory(resources, OPTS, FILE)
    names = {p.id: [q.name for q in p.identity_policies] for p in inv.principals}
    assert names == {
        "aws_iam_role.app": ["queue", "read", "AmazonSQSReadOnlyAccess"],
        "aws_iam_role.other": ["read"],
        "aws_iam_user.ci": ["deploy", "ReadOnlyAccess", "devs", "read"],
        "aws_iam_user.ops": ["read", "IAMReadOnlyAccess"],
    }
    assert not inv.unresolved and not [f for f in inv.problems if f.severity == "error"]


def test_attachments_of_unknown_or_undefined_policies_are_never_dropped():
    inv = build_inventory([
        res("aws_iam_role.app", {"name": "app", "assume_role_policy": ASSUME_LAMBDA,
                                 "managed_policy_arns": [Unknown("var.extra_policy")]}),
        res("aws_iam_role_policy_attachment.elsewhere", {"role": "app",
                                                         "policy_arn": f"arn:aws:iam::{ACCOUNT}:policy/shared"}),
        res("aws_iam_role_policy_attachment.gone", {"role": "app", "policy_arn": "arn:aws:iam::aws:policy/NoSuchPolicy"}),
        res("aws_iam_role_policy.lost", {"role": Unknown("module.x.role_name"), "name": "lost",
                                         "policy": doc({"Effect": "Deny", "Action": "*", "Resource": "*"})}),
        res("aws_iam_user.u", {"name": "u"}),
        res("aws_iam_user_group_membership.u", {"user": "u", "groups": ["not-here"]}),
    ], OPTS, FILE)
    role = principal(inv, "app")
    assert len(role.identity_policies) == 3 and all(p.statements[0].unresolved for p in role.identity_policies)
    user = principal(inv, "u")
    assert user.identity_policies[0].statements[0].unresolved
    expressions = " | ".join(u.expression for u in inv.unresolved)
    for expected in ("var.extra_policy", "policy/shared", "NoSuchPolicy", "module.x.role_name", "not-here"):
        assert expected in expressions
    decision = decide(Request(action="s3:GetObject", resource="arn:aws:s3:::b/k"),
                      PolicySet(identity=role.identity_policies))
    assert decision.result == "unknown"


def test_unknown_policy_values_are_unresolved_never_allowed():
    bucket = Unknown("aws_s3_bucket.b.arn (known after apply)")
    inv = build_inventory([res("aws_iam_role.r", {
        "name": "r", "assume_role_policy": ASSUME_LAMBDA,
        "inline_policy": [{"name": "p", "policy": Partial(['{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                                           '"Action":"s3:PutObject","Resource":"', bucket, '/*"}]}'])},
                          {"name": "q", "policy": Unknown("var.policy")}]})], OPTS, FILE)
    p = principal(inv, "r")
    first, second = p.identity_policies
    assert first.statements[0].resources == ("*/*",) and first.statements[0].unresolved == {"Resource"}
    assert second.statements[0].unresolved
    assert {u.expression for u in inv.unresolved} == {bucket.expression, "var.policy"}
    assert not [f for f in inv.problems if f.kind == "invalid-policy"]  # no grammar noise about the placeholders
    decision = decide(Request(action="s3:PutObject", resource="arn:aws:s3:::x/y"),
                      PolicySet(identity=p.identity_policies))
    assert decision.result == "unknown"


def test_instance_profiles_are_aliases_of_their_role():
    inv = build_inventory([res("aws_iam_role.web", {"name": "web", "assume_role_policy": ASSUME_LAMBDA}),
                           res("aws_iam_instance_profile.web", {"name": "web-profile", "role": "web"})], OPTS, FILE)
    assert {"aws_iam_instance_profile.web", "web-profile"} <= set(inv.principals[0].aliases)


def test_statements_are_located_in_their_policy_document_block():
    lines = {("statement", 0): 31}
    document = policy_document_json({"statement": [st(actions=["s3:GetObject"], resources=["*"])]},
                                    lambda p: lines.get(tuple(p)), file="infra/iam.tf")
    inv = build_inventory([res("aws_iam_role.r", {"name": "r", "assume_role_policy": ASSUME_LAMBDA}),
                           res("aws_iam_role_policy.p", {"role": "r", "name": "p", "policy": document}, line=50)],
                          OPTS, FILE)
    policy = principal(inv, "r").identity_policies[0]
    assert policy.location == Location(FILE, 50)
    assert policy.statements[0].location == Location("infra/iam.tf", 31)


def test_problems_in_policies_are_reported_where_they_are():
    inv = linted(build_inventory([
        res("aws_iam_role.r", {"name": "r", "assume_role_policy": ASSUME_LAMBDA}),
        res("aws_iam_role_policy.typo", {"role": "r", "name": "typo", "policy": doc(
            {"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "*"})}, line=7),
        res("aws_iam_role_policy.broken", {"role": "r", "name": "broken", "policy": "{not json"}, line=9),
        res("aws_iam_role_policy.empty_sid", {"role": "r", "name": "old", "policy": doc(
            {"Sid": "", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})}),
    ], OPTS, FILE))
    kinds = sorted((f.kind, f.location.line) for f in inv.problems)
    assert kinds == [("invalid-policy", 9), ("unknown-action", 7)]


def _resource_policy(inv, rtype):
    found = [rp for rp in inv.resource_policies if rp.type == rtype]
    assert len(found) == 1, [rp.type for rp in inv.resource_policies]
    return found[0]


ALLOW_ALL = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "*",
                 "Resource": "*"})


@pytest.mark.parametrize("rtype, values, expected", [
    ("aws_s3_bucket_policy", {"bucket": "orders", "policy": ALLOW_ALL}, "arn:aws:s3:::orders"),
    ("aws_s3_bucket", {"bucket": "logs", "policy": ALLOW_ALL}, "arn:aws:s3:::logs"),
    ("aws_sqs_queue_policy", {"queue_url": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs", "policy": ALLOW_ALL},
     f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"),
    ("aws_sqs_queue", {"name": "jobs", "policy": ALLOW_ALL}, f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"),
    ("aws_sns_topic_policy", {"arn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:t", "policy": ALLOW_ALL},
     f"arn:aws:sns:eu-west-1:{ACCOUNT}:t"),
    ("aws_sns_topic", {"name": "t", "policy": ALLOW_ALL}, f"arn:aws:sns:eu-west-1:{ACCOUNT}:t"),
    ("aws_ecr_repository_policy", {"repository": "app", "policy": doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "ecr:BatchGetImage"})},
     f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app"),
    ("aws_secretsmanager_secret_policy", {"secret_arn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbCdEf",
                                          "policy": ALLOW_ALL},
     f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbCdEf"),
    ("aws_cloudwatch_log_resource_policy", {"policy_name": "x", "policy_document": doc(
        {"Effect": "Allow", "Principal": {"Service": "es.amazonaws.com"}, "Action": "logs:PutLogEvents",
         "Resource": "*"})}, f"arn:aws:logs:eu-west-1:{ACCOUNT}"),
    ("aws_api_gateway_rest_api_policy", {"rest_api_id": "abc123", "policy": ALLOW_ALL},
     f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:abc123"),
    ("aws_opensearch_domain_policy", {"domain_name": "logs", "access_policies": ALLOW_ALL},
     f"arn:aws:es:eu-west-1:{ACCOUNT}:domain/logs"),
    ("aws_backup_vault_policy", {"backup_vault_name": "vault", "policy": ALLOW_ALL},
     f"arn:aws:backup:eu-west-1:{ACCOUNT}:backup-vault:vault"),
    ("aws_cloudwatch_event_bus_policy", {"policy": ALLOW_ALL}, f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/default"),
    ("aws_kms_key_policy", {"key_id": "1234abcd-12ab-34cd-56ef-1234567890ab", "policy": ALLOW_ALL},
     f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
])
def test_resource_policies(rtype, values, expected):
    inv = build_inventory([res(f"{rtype}.x", values, line=4)], OPTS, FILE)
    rp = _resource_policy(inv, rtype)
    assert rp.resource == expected and rp.location == Location(FILE, 4) and rp.policy.kind == "resource"
    assert not [f for f in inv.problems if f.severity == "error"], inv.problems


def test_kms_keys_get_the_default_policy_unless_another_is_set():
    inv = build_inventory([res("aws_kms_key.plain", {}), res("aws_kms_key.managed", {}),
                           res("aws_kms_key_policy.managed", {"key_id": "placeholder", "policy": ALLOW_ALL})],
                          OPTS, FILE)
    plain = synthesize("aws_kms_key", "plain", {}, OPTS, "aws_kms_key.plain")["arn"]
    default = [rp for rp in inv.resource_policies if rp.type == "aws_kms_key"]
    assert [rp.resource for rp in default] == [plain, synthesize("aws_kms_key", "m", {}, OPTS,
                                                                  "aws_kms_key.managed")["arn"]]
    statement = default[0].policy.statements[0]
    assert statement.principals == {"AWS": (f"arn:aws:iam::{ACCOUNT}:root",)} and statement.actions == ("kms:*",)
    # a key policy resource naming the key by its id replaces the key's own policy
    key_id = synthesize("aws_kms_key", "managed", {}, OPTS, "aws_kms_key.managed")["key_id"]
    inv = build_inventory([res("aws_kms_key.managed", {"policy": ALLOW_ALL}),
                           res("aws_kms_key_policy.managed", {"key_id": key_id, "policy": doc(
                               {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"})})],
                          OPTS, FILE)
    assert [rp.type for rp in inv.resource_policies] == ["aws_kms_key_policy"]


def test_lambda_permission_is_one_statement():
    inv = build_inventory([res("aws_lambda_permission.sns", {
        "statement_id": "AllowSNS", "action": "lambda:InvokeFunction", "function_name": "api",
        "principal": "sns.amazonaws.com", "source_arn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:t",
        "source_account": ACCOUNT, "qualifier": "live"})], OPTS, FILE)
    rp = _resource_policy(inv, "aws_lambda_permission")
    assert rp.resource == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:api:live"
    s = rp.policy.statements[0]
    assert s.sid == "AllowSNS" and s.principals == {"Service": ("sns.amazonaws.com",)}
    assert {(c.operator, c.key, c.values) for c in s.conditions} == {
        ("ArnLike", "aws:SourceArn", (f"arn:aws:sns:eu-west-1:{ACCOUNT}:t",)),
        ("StringEquals", "aws:SourceAccount", (ACCOUNT,))}
    cross = build_inventory([res("aws_lambda_permission.acct", {
        "action": "lambda:InvokeFunction", "principal": "444455556666",
        "function_name": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:api", "principal_org_id": "o-abc"})],
        OPTS, FILE)
    s = cross.resource_policies[0].policy.statements[0]
    assert s.sid == "aws_lambda_permission.acct" and s.principals == {"AWS": ("444455556666",)}
    assert [(c.key, c.values) for c in s.conditions] == [("aws:PrincipalOrgID", ("o-abc",))]


def test_guardrails_one_level_per_target():
    deny_regions = doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}})
    allow_list = doc({"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"})
    rcp = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
               "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}})
    scp_a = res("aws_organizations_policy.regions", {"name": "regions", "content": deny_regions})
    scp_b = res("aws_organizations_policy.allow", {"name": "allow", "content": allow_list,
                                                   "type": "SERVICE_CONTROL_POLICY"})
    rcp_a = res("aws_organizations_policy.perimeter", {"name": "perimeter", "content": rcp,
                                                       "type": "RESOURCE_CONTROL_POLICY"})
    unattached = res("aws_organizations_policy.draft", {"name": "draft", "content": deny_regions})
    tagging = res("aws_organizations_policy.tags", {"name": "tags", "content": "{}", "type": "TAG_POLICY"})
    ids = {r.address: synthesize(r.type, r.name, r.values, OPTS, r.address)["id"]
           for r in (scp_a, scp_b, rcp_a)}
    attach = [res("aws_organizations_policy_attachment.root", {"policy_id": ids["aws_organizations_policy.regions"],
                                                               "target_id": "r-root"}),
              res("aws_organizations_policy_attachment.ou", {"policy_id": ids["aws_organizations_policy.allow"],
                                                             "target_id": "ou-1"}),
              res("aws_organizations_policy_attachment.rcp", {"policy_id": ids["aws_organizations_policy.perimeter"],
                                                              "target_id": "r-root"}),
              res("aws_organizations_policy_attachment.full", {"policy_id": "p-FullAWSAccess", "target_id": "ou-1"})]
    inv = build_inventory([scp_a, scp_b, rcp_a, unattached, tagging] + attach, OPTS, FILE)
    assert [[p.name for p in level] for level in inv.scp] == [
        ["regions", "FullAWSAccess (AWS default, assumed attached)"], ["allow"]]
    assert [[p.name for p in level] for level in inv.rcp] == [
        ["perimeter", "RCPFullAWSAccess (AWS default, assumed attached)"]]
    assert inv.scp[0][0].kind == "scp" and inv.rcp[0][0].kind == "rcp"
    assert [p.name for p in inv.policies] == ["draft"]
    assert not inv.unresolved
    # a deny-list level blocks only what it denies
    level = PolicySet(identity=(inv.scp[1][0],), scp=inv.scp)
    assert decide(Request(action="s3:GetObject", resource="arn:aws:s3:::b/k",
                          context={"aws:RequestedRegion": "eu-west-1"}), level).result == "allow"
    assert decide(Request(action="s3:GetObject", resource="arn:aws:s3:::b/k",
                          context={"aws:RequestedRegion": "us-east-1"}), level).result == "explicit_deny"


def test_references_for_manifests():
    inv = build_inventory([res("aws_sqs_queue.jobs", {"name": "jobs"}),
                           res("module.worker.aws_iam_role.this", {"name": "w", "assume_role_policy": ASSUME_LAMBDA})],
                          OPTS, FILE)
    refs = dict(inv.references)
    assert refs["aws_sqs_queue.jobs.arn"] == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
    assert refs["aws_sqs_queue.jobs.url"] == f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs"
    assert refs["module.worker.aws_iam_role.this.arn"] == refs["aws_iam_role.this.arn"] == \
        f"arn:aws:iam::{ACCOUNT}:role/w"
    # attributes with unknown pieces are not references
    inv = build_inventory([res("aws_sqs_queue.jobs", {"name": "jobs"})], ReadOptions(), FILE)
    assert "aws_sqs_queue.jobs.arn" not in dict(inv.references)
    assert dict(inv.references)["aws_sqs_queue.jobs.name"] == "jobs"
