"""Tests for iamgate.manifest: loading and validating iamgate.yaml, references, request context."""
from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from importlib import resources

import jsonschema
import pytest

from iamgate.manifest import (
    Manifest,
    ManifestError,
    Need,
    PrincipalEntry,
    Reference,
    Settings,
    expand_references,
    find_manifest,
    load_manifest,
    substitute,
)
from iamgate.engine.request import default_context, merge_context

# The example from DESIGN.md, verbatim.
DESIGN_EXAMPLE = """\
version: 1
settings:
  account: "111122223333"        # resolves AWS::AccountId, data.aws_caller_identity, ${aws:...}
  region: us-east-1
  partition: aws
  parameters: {Env: prod}        # CloudFormation parameter values (defaults are used otherwise)
  variables: {env: prod}         # Terraform variable values (defaults and *.tfvars otherwise)
guardrails:                      # policies that apply but do not live in this repo
  scp: [org/root.json, org/workloads-ou.json]   # one file per level, root first; each level must allow
  rcp: []
principals:
  - principal: OrderWorkerRole   # CFN logical ID, Terraform address, role/user name, or ARN
    needs:
      - actions: [s3:GetObject, s3:PutObject]
        resources: ["arn:aws:s3:::orders-${Env}/*"]
      - actions: sqs:ReceiveMessage
        resources: "${OrdersQueue.Arn}"          # references into the code: CFN GetAtt style or
                                                 # Terraform style ${aws_sqs_queue.orders.arn}
        context: {aws:SourceVpce: vpce-0abc}     # request context for conditions
  - principal: arn:aws:iam::111122223333:role/ci-deploy
    policies: [ci/deploy-role.json]   # a principal that does not live in the scanned code: its
    boundary: ci/boundary.json        # identity policies (and boundary) given as files
    deploys: [infra/]            # must be able to create, update and delete everything defined there
"""


def load(text: str, path: str = "iamgate.yaml") -> Manifest:
    return load_manifest(path, textwrap.dedent(text))


def error_of(text: str, path: str = "iamgate.yaml") -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load(text, path)
    return info.value


# ---------------------------------------------------------------------------------------------
# The schema file


def test_schema_ships_with_the_package_and_is_valid_2020_12():
    text = resources.files("iamgate").joinpath("data", "manifest.schema.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


# ---------------------------------------------------------------------------------------------
# Loading


def test_design_example_loads_with_every_field():
    m = load_manifest("repo/iamgate.yaml", DESIGN_EXAMPLE)
    assert m.file == "repo/iamgate.yaml"
    assert m.settings == Settings(account="111122223333", region="us-east-1", partition="aws",
                                  parameters={"Env": "prod"}, variables={"env": "prod"}, var_files=())
    assert m.scp == ("org/root.json", "org/workloads-ou.json")
    assert m.rcp == ()
    worker, ci = m.principals
    assert worker == PrincipalEntry(
        selector="OrderWorkerRole",
        needs=(
            Need(actions=("s3:GetObject", "s3:PutObject"), resources=("arn:aws:s3:::orders-${Env}/*",),
                 context={}, line=14),
            Need(actions=("sqs:ReceiveMessage",), resources=("${OrdersQueue.Arn}",),
                 context={"aws:SourceVpce": "vpce-0abc"}, line=16),
        ),
        line=12,
    )
    assert ci.selector == "arn:aws:iam::111122223333:role/ci-deploy"
    assert ci.needs == ()
    assert ci.policies == ("ci/deploy-role.json",)
    assert ci.boundary == "ci/boundary.json"
    assert ci.deploys == ("infra/",)
    assert ci.line == 20
    # paths stay as written; resolve() makes them relative to the working directory
    assert m.resolve("org/root.json") == os.path.join("repo", "org", "root.json")
    assert m.resolve(ci.boundary) == os.path.join("repo", "ci", "boundary.json")
    assert m.resolve("infra/") == os.path.join("repo", "infra")


def test_manifest_values_are_frozen_and_hashable():
    m = load_manifest("iamgate.yaml", DESIGN_EXAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.file = "other.yaml"  # type: ignore[misc]
    assert hash(m) == hash(load_manifest("iamgate.yaml", DESIGN_EXAMPLE))
    assert dataclasses.asdict(m)["principals"][0]["selector"] == "OrderWorkerRole"


def test_minimal_manifest_gets_defaults():
    m = load("version: 1\n")
    assert m.settings == Settings()
    assert (m.settings.account, m.settings.region, m.settings.partition) == (None, "us-east-1", "aws")
    assert (m.scp, m.rcp, m.principals) == ((), (), ())


def test_actions_as_string_or_list_and_resources_default_to_star():
    m = load("""\
        version: 1
        principals:
          - principal: Worker
            needs:
              - actions: sqs:SendMessage
              - actions: [s3:GetObject, s3:ListBucket]
                resources: [arn:aws:s3:::b, "arn:aws:s3:::b/*"]
              - actions: [kms:Decrypt]
                resources: arn:aws:kms:us-east-1:111122223333:key/abc
        """)
    n1, n2, n3 = m.principals[0].needs
    assert n1.actions == ("sqs:SendMessage",) and n1.resources == ("*",)
    assert n2.actions == ("s3:GetObject", "s3:ListBucket")
    assert n2.resources == ("arn:aws:s3:::b", "arn:aws:s3:::b/*")
    assert n3.resources == ("arn:aws:kms:us-east-1:111122223333:key/abc",)
    assert (n1.line, n2.line, n3.line) == (5, 6, 8)


def test_context_values_are_normalised_to_strings():
    m = load("""\
        version: 1
        principals:
          - principal: Worker
            needs:
              - actions: s3:GetObject
                context:
                  aws:SecureTransport: false
                  aws:MultiFactorAuthPresent: true
                  aws:MultiFactorAuthAge: 300
                  s3:max-keys: 010
                  aws:CurrentTime: 2012-10-17
                  aws:SourceVpce: [vpce-1, vpce-2]
                  aws:TagKeys: [team, 7, yes]
                  aws:SourceIp: "10.0.0.1"
        """)
    assert m.principals[0].needs[0].context == {
        "aws:SecureTransport": "false",
        "aws:MultiFactorAuthPresent": "true",
        "aws:MultiFactorAuthAge": "300",
        "s3:max-keys": "010",              # as written, not YAML 1.1 octal
        "aws:CurrentTime": "2012-10-17",   # an unquoted date stays the text as written
        "aws:SourceVpce": ("vpce-1", "vpce-2"),
        "aws:TagKeys": ("team", "7", "true"),
        "aws:SourceIp": "10.0.0.1",
    }


def test_settings_yaml_gotchas():
    m = load("""\
        version: 1
        settings:
          account: 011122223333
          parameters: {Env: prod, Count: 3, Enabled: true, Since: 2024-01-31}
          variables: {env: prod, replicas: 2, tags: {team: a}, start: 2024-01-31}
          var_files: [env/prod.tfvars]
        """)
    s = m.settings
    assert s.account == "011122223333"  # the digits as written (YAML would read an octal int)
    assert s.parameters == {"Env": "prod", "Count": "3", "Enabled": "true", "Since": "2024-01-31"}
    assert s.variables == {"env": "prod", "replicas": 2, "tags": {"team": "a"}, "start": "2024-01-31"}
    assert s.var_files == ("env/prod.tfvars",)
    assert m.resolve(s.var_files[0]) == os.path.join("env", "prod.tfvars")


def test_unquoted_account_int_is_accepted():
    assert load("version: 1\nsettings: {account: 111122223333}\n").settings.account == "111122223333"


def test_partition_follows_the_region_unless_written():
    assert load("version: 1\nsettings: {region: cn-north-1}\n").settings.partition == "aws-cn"
    assert load("version: 1\nsettings: {region: us-gov-west-1}\n").settings.partition == "aws-us-gov"
    assert load("version: 1\nsettings: {region: eu-west-1}\n").settings.partition == "aws"
    written = load("version: 1\nsettings: {region: cn-north-1, partition: aws}\n")
    assert written.settings.partition == "aws"


def test_guardrail_paths_resolve_relative_to_the_manifest_dir(tmp_path):
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "root.json").write_text("{}")
    manifest_path = str(tmp_path / "iamgate.yaml")
    m = load_manifest(manifest_path, "version: 1\nguardrails:\n  scp: [org/root.json, ../shared/ou.json]\n"
                                     "  rcp: [./org/rcp.json]\n")
    assert m.scp == ("org/root.json", "../shared/ou.json")
    assert m.resolve(m.scp[0]) == str(tmp_path / "org" / "root.json")
    assert os.path.isfile(m.resolve(m.scp[0]))
    assert m.resolve(m.scp[1]) == os.path.normpath(str(tmp_path.parent / "shared" / "ou.json"))
    assert m.resolve(m.rcp[0]) == str(tmp_path / "org" / "rcp.json")
    assert m.resolve("/abs/scp.json") == "/abs/scp.json"


def test_yaml_merge_keys_are_followed():
    m = load("""\
        version: 1
        principals:
          - principal: A
            needs:
              - &read {actions: s3:GetObject, resources: "arn:aws:s3:::b/*"}
              - <<: *read
                actions: s3:PutObject
        """)
    assert [n.actions for n in m.principals[0].needs] == [("s3:GetObject",), ("s3:PutObject",)]
    assert m.principals[0].needs[1].resources == ("arn:aws:s3:::b/*",)


# ---------------------------------------------------------------------------------------------
# Errors: one line, the file, the line of the offending element and its path


def test_needz_typo_names_line_and_path():
    e = error_of("""\
        version: 1
        principals:
          - principal: OrderWorkerRole
            needz:
              - actions: s3:GetObject
        """)
    assert (e.file, e.line, e.path) == ("iamgate.yaml", 4, "principals[0].needz")
    assert "'needz' is not allowed (unknown key)" in e.message
    assert "did you mean 'needs'" in e.message
    assert str(e).startswith("iamgate.yaml:4: principals[0].needz: 'needz' is not allowed (unknown key)")


def test_typo_inside_a_need_points_at_the_key():
    e = error_of("""\
        version: 1
        principals:
          - principal: A
            needs:
              - actions: s3:GetObject
              - actions: s3:PutObject
                resource: "*"
        """)
    assert (e.line, e.path) == (7, "principals[0].needs[1].resource")
    assert "did you mean 'resources'" in e.message


def test_first_error_in_document_order():
    e = error_of("""\
        version: 1
        principals:
          - principal: A
            needs: [{actions: 5}]
          - principal: B
            needz: []
        """)
    assert (e.line, e.path) == (4, "principals[0].needs[0].actions")
    assert e.message == "expected a string or a list, got a number (5)"


def test_unknown_top_level_key():
    e = error_of("version: 1\nsettings: {}\nguardrail:\n  scp: [a.json]\n")
    assert (e.line, e.path) == (3, "guardrail")
    assert str(e) == ("iamgate.yaml:3: guardrail: 'guardrail' is not allowed (unknown key); "
                      "did you mean 'guardrails'?")


def test_unknown_key_in_settings_and_guardrails():
    assert error_of("version: 1\nsettings:\n  acount: '111122223333'\n").path == "settings.acount"
    e = error_of("version: 1\nguardrails:\n  scp: []\n  scps: []\n")
    assert (e.line, e.path) == (4, "guardrails.scps")


def test_bad_account():
    e = error_of('version: 1\nsettings:\n  account: "12345"\n')
    assert str(e) == "iamgate.yaml:3: settings.account: '12345' is not a 12-digit AWS account ID"
    assert error_of("version: 1\nsettings:\n  account: 12345\n").line == 3


def test_stack_outputs_are_keyed_as_the_template_reads_them():
    m = load_manifest("iamgate.yaml", "version: 1\nsettings:\n  stack_outputs:\n"
                                      "    Child.Outputs.QueueArn: arn:aws:sqs:us-east-1:111122223333:jobs\n"
                                      "    Net/Jobs.Outputs.TopicArn: arn:aws:sns:us-east-1:111122223333:t\n")
    assert dict(m.settings.stack_outputs) == {"Child.Outputs.QueueArn": "arn:aws:sqs:us-east-1:111122223333:jobs",
                                              "Net/Jobs.Outputs.TopicArn": "arn:aws:sns:us-east-1:111122223333:t"}
    e = error_of("version: 1\nsettings:\n  stack_outputs:\n    Child.QueueArn: x\n")
    assert str(e) == ("iamgate.yaml:4: settings.stack_outputs: 'Child.QueueArn' is not a nested stack output: "
                      "write <LogicalId>.Outputs.<OutputName>, as in !GetAtt Child.Outputs.QueueArn")
    assert error_of("version: 1\nsettings:\n  stack_outputs: {Child.Outputs.Q: [a]}\n").line == 3


def test_bad_partition_and_region():
    e = error_of("version: 1\nsettings: {partition: aws-xx}\n")
    assert e.path == "settings.partition" and "'aws-xx' is not one of: aws, aws-cn" in e.message
    e = error_of("version: 1\nsettings:\n  region: us-east1\n")
    assert (e.line, e.path) == (3, "settings.region")


def test_version_missing_or_wrong():
    e = error_of("principals: []\n")
    assert (e.line, e.path, e.message) == (1, "", "missing required key 'version'")
    assert str(e) == "iamgate.yaml:1: missing required key 'version'"
    e = error_of("version: 2\n")
    assert (e.line, e.path) == (1, "version") and "must be 1, got 2" in e.message


def test_entry_without_needs_policies_or_deploys():
    e = error_of("version: 1\nprincipals:\n  - principal: A\n    boundary: b.json\n")
    assert (e.line, e.path) == (3, "principals[0]")
    assert "at least one of 'needs', 'policies' or 'deploys'" in e.message


def test_entry_without_principal():
    e = error_of("version: 1\nprincipals:\n  - needs: [{actions: s3:GetObject}]\n")
    assert (e.line, e.path, e.message) == (3, "principals[0]", "missing required key 'principal'")


def test_need_without_actions_and_empty_lists():
    assert error_of("version: 1\nprincipals:\n  - principal: A\n    needs:\n      - resources: '*'\n"
                    ).message == "missing required key 'actions'"
    e = error_of("version: 1\nprincipals:\n  - principal: A\n    needs:\n      - actions: []\n")
    assert (e.line, e.path, e.message) == (5, "principals[0].needs[0].actions", "must not be empty")
    e = error_of("version: 1\nprincipals:\n  - principal: A\n    needs: []\n")
    assert e.path == "principals[0].needs"


def test_wrong_types():
    e = error_of("version: 1\nprincipals:\n  - principal: A\n    policies: ci/x.json\n")
    assert (e.line, e.path) == (4, "principals[0].policies")
    assert e.message == "expected a list, got a string ('ci/x.json')"
    e = error_of("version: 1\nsettings:\n")
    assert e.path == "settings" and e.message == "expected a mapping, got nothing (null)"
    e = error_of("version: 1\nprincipals:\n  - principal: A\n    needs:\n      - actions: x\n"
                 "        context: {aws:SourceVpce: {a: b}}\n")
    assert e.path == 'principals[0].needs[0].context["aws:SourceVpce"]'
    assert e.line == 6


def test_yaml_syntax_error_has_line_and_column():
    e = error_of("version: 1\nprincipals:\n  - principal: A\n   needs: x: y\n")
    assert e.line == 4 and e.path == ""
    assert e.message.startswith("invalid YAML: ") and "column" in e.message
    e = error_of('version: 1\nsettings:\n  region: "us-east-1\n')
    assert e.line is not None and e.message.startswith("invalid YAML")


def test_empty_file():
    for text in ("", "\n\n", "# just a comment\n"):
        e = error_of(text)
        assert (e.line, e.path) == (None, "")
        assert str(e) == "iamgate.yaml: the manifest is empty: it needs at least 'version: 1'"


def test_top_level_not_a_mapping():
    e = error_of("- principal: A\n")
    assert e.line == 1 and "must be a mapping" in e.message and "got a list" in e.message
    assert "must be a mapping" in error_of("just text\n").message


def test_duplicate_key_and_unknown_tag_and_several_documents():
    e = error_of("version: 1\nprincipals:\n  - principal: A\n    needs: [{actions: x}]\n    principal: B\n")
    assert (e.line, e.path) == (5, "principals[0].principal")
    assert "duplicate key 'principal' (first at line 3)" in e.message
    e = error_of("version: 1\nsettings:\n  account: !Ref AccountId\n")
    assert e.line == 3 and "!Ref" in e.message
    assert error_of("version: 1\n---\nversion: 1\n").line == 2


def test_error_is_a_single_line_without_traceback_text():
    e = error_of("version: 1\nprincipals:\n  - principal: A\n    needz: []\n")
    assert "\n" not in str(e) and "Traceback" not in str(e)


# ---------------------------------------------------------------------------------------------
# find_manifest


def test_find_manifest(tmp_path):
    assert find_manifest(str(tmp_path)) is None
    (tmp_path / ".iamgate.yaml").write_text("version: 1\n")
    assert find_manifest(str(tmp_path)) == str(tmp_path / ".iamgate.yaml")
    (tmp_path / "iamgate.yaml").write_text("version: 1\n")
    assert find_manifest(str(tmp_path)) == str(tmp_path / "iamgate.yaml")


# ---------------------------------------------------------------------------------------------
# References


@pytest.mark.parametrize("text, kind", [
    ("${Env}", "cfn-ref"),
    ("${OrdersQueue}", "cfn-ref"),
    ("${OrdersQueue.Arn}", "cfn-getatt"),
    ("${Database.Endpoint.Address}", "cfn-getatt"),
    ("${AWS::AccountId}", "pseudo"),
    ("${AWS::Region}", "pseudo"),
    ("${AWS::Partition}", "pseudo"),
    ("${AWS::URLSuffix}", "pseudo"),
    ("${AWS::StackName}", "pseudo"),
    ("${aws_sqs_queue.jobs.arn}", "terraform"),
    ("${aws_sqs_queue.jobs[0].arn}", "terraform"),
    ("${module.worker.role_arn}", "terraform"),
    ("${var.env}", "terraform"),
    ("${local.bucket_name}", "terraform"),
    ("${data.aws_caller_identity.current.account_id}", "terraform"),
    ("${ var.env }", "terraform"),
])
def test_reference_classification(text, kind):
    (ref,) = expand_references(text)
    assert ref.kind == kind
    assert ref.text == text[2:-1].strip()
    assert (ref.start, ref.end) == (0, len(text))


@pytest.mark.parametrize("text", [
    "arn:aws:s3:::home/${aws:username}/*",
    "arn:aws:s3:::b/${aws:PrincipalTag/team}/*",
    "arn:aws:s3:::b/${s3:prefix}",
    "arn:aws:s3:::b/${cognito-identity.amazonaws.com:sub}",
    "arn:aws:s3:::b/${aws:username, 'anon'}",
    "arn:aws:s3:::b/${*}${?}${$}",
    "arn:aws:s3:::b/${!Literal}",
    "arn:aws:s3:::b/${}",
    "arn:aws:s3:::b/${unterminated",
    "arn:aws:s3:::plain/*",
])
def test_policy_variables_and_literals_are_not_references(text):
    assert expand_references(text) == []


def test_references_in_context_of_a_resource_string():
    text = "arn:${AWS::Partition}:s3:::orders-${Env}-${AWS::AccountId}/${aws:username}/*"
    refs = expand_references(text)
    assert [(r.kind, r.text) for r in refs] == [
        ("pseudo", "AWS::Partition"), ("cfn-ref", "Env"), ("pseudo", "AWS::AccountId")]
    assert [text[r.start:r.end] for r in refs] == ["${AWS::Partition}", "${Env}", "${AWS::AccountId}"]
    getatt = expand_references("${Db.Endpoint.Address}")[0]
    assert (getatt.name, getatt.attribute) == ("Db", "Endpoint.Address")
    tf = expand_references("${module.worker.role_arn}")[0]
    assert (tf.name, tf.attribute) == ("module", None)


def test_substitute_resolves_known_and_reports_unresolved():
    values = {"Env": "prod", "AWS::AccountId": "111122223333", "AWS::Partition": "aws"}
    text = "arn:${AWS::Partition}:s3:::orders-${Env}-${Missing}/${aws:username}/${var.suffix}"
    out, unresolved = substitute(text, lambda r: values.get(r.text))
    assert out == "arn:aws:s3:::orders-prod-${Missing}/${aws:username}/${var.suffix}"
    assert [(r.kind, r.text) for r in unresolved] == [("cfn-ref", "Missing"), ("terraform", "var.suffix")]
    assert [text[r.start:r.end] for r in unresolved] == ["${Missing}", "${var.suffix}"]


def test_substitute_getatt_terraform_and_escape():
    def resolve(r: Reference):
        return {"cfn-getatt": "arn:aws:sqs:us-east-1:111122223333:orders",
                "terraform": "arn:aws:sqs:us-east-1:111122223333:jobs"}.get(r.kind)

    assert substitute("${OrdersQueue.Arn}", resolve) == ("arn:aws:sqs:us-east-1:111122223333:orders", [])
    assert substitute("${aws_sqs_queue.jobs.arn}", resolve) == ("arn:aws:sqs:us-east-1:111122223333:jobs", [])
    assert substitute("arn:aws:s3:::b/${!Literal}", resolve) == ("arn:aws:s3:::b/${Literal}", [])
    assert substitute("no refs", resolve) == ("no refs", [])


# ---------------------------------------------------------------------------------------------
# Request context

ROLE_ARN = "arn:aws:iam::111122223333:role/orders-worker"
USER_ARN = "arn:aws:iam::111122223333:user/deploy/alice"


def test_default_context_for_a_role_with_tags():
    ctx = default_context("role", ROLE_ARN, "111122223333", "orders-worker",
                          {"team": "orders", "env": "prod"}, "eu-west-1")
    userid = ctx.pop("aws:userid")
    assert ctx == {
        "aws:PrincipalArn": ROLE_ARN,
        "aws:PrincipalAccount": "111122223333",
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalTag/team": "orders",
        "aws:PrincipalTag/env": "prod",
        "aws:RequestedRegion": "eu-west-1",
        "aws:SecureTransport": "true",
    }
    assert userid.startswith("AROA") and userid.endswith(":iamgate") and len(userid) == 21 + len(":iamgate")
    # synthetic but stable, and distinct per role
    assert default_context("role", ROLE_ARN, "111122223333", None, {}, "eu-west-1")["aws:userid"] == userid
    other = default_context("role", ROLE_ARN + "2", "111122223333", None, {}, "eu-west-1")
    assert other["aws:userid"] != userid


def test_default_context_for_a_user():
    ctx = default_context("user", USER_ARN, None, "alice", {"cost-center": "42"}, "us-east-1")
    assert set(ctx) == {"aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:userid",
                        "aws:username", "aws:PrincipalTag/cost-center", "aws:RequestedRegion",
                        "aws:SecureTransport"}
    assert ctx["aws:PrincipalType"] == "User"
    assert ctx["aws:PrincipalAccount"] == "111122223333"  # from the ARN
    assert ctx["aws:username"] == "alice"
    assert ctx["aws:userid"].startswith("AIDA") and len(ctx["aws:userid"]) == 21


def test_default_context_other_principal_types():
    root = default_context("root", "arn:aws:iam::111122223333:root", "111122223333", None, {}, "us-east-1")
    assert root["aws:PrincipalType"] == "Account" and root["aws:userid"] == "111122223333"
    session = default_context("assumed-role", "arn:aws:sts::111122223333:assumed-role/orders-worker/s1",
                              None, None, {}, "us-east-1")
    assert session["aws:PrincipalArn"] == ROLE_ARN and session["aws:PrincipalType"] == "AssumedRole"
    fed = default_context("federated-user", "arn:aws:sts::111122223333:federated-user/bob", "111122223333",
                          "bob", {}, "us-east-1")
    assert fed["aws:PrincipalType"] == "FederatedUser" and "aws:username" not in fed
    unknown_arn = default_context("role", None, None, "r", {}, "us-east-1")
    assert "aws:PrincipalArn" not in unknown_arn and "aws:PrincipalAccount" not in unknown_arn
    with pytest.raises(ValueError):
        default_context("group", None, None, "g", {}, "us-east-1")


def test_need_context_overrides_defaults_case_insensitively():
    m = load("""\
        version: 1
        principals:
          - principal: OrderWorkerRole
            needs:
              - actions: s3:PutObject
                context:
                  AWS:SecureTransport: false
                  aws:sourcevpce: vpce-0abc
                  aws:principaltag/team: payments
        """)
    need = m.principals[0].needs[0]
    default = default_context("role", ROLE_ARN, "111122223333", "orders-worker", {"team": "orders"},
                              m.settings.region)
    merged = merge_context(default, need.context)
    assert merged["AWS:SecureTransport"] == "false"
    assert "aws:SecureTransport" not in merged
    assert merged["aws:sourcevpce"] == "vpce-0abc"
    assert merged["aws:principaltag/team"] == "payments" and "aws:PrincipalTag/team" not in merged
    assert merged["aws:RequestedRegion"] == "us-east-1"
    assert default["aws:SecureTransport"] == "true"  # the default is not modified
    assert merge_context(default, {}) == default


def _readme_manifest() -> str:
    """The ```yaml block of README.md's manifest section."""
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    section = readme[readme.index("## The manifest"):]
    start = section.index("```yaml\n") + len("```yaml\n")
    return section[start:section.index("```", start)]


def _schema_keys(node, defs, prefix=""):
    """Every key path the shipped schema accepts (settings.account, principals[].needs[].context, …)."""
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    out = set()
    for key, sub in (node.get("properties") or {}).items():
        out.add(prefix + key)
        out |= _schema_keys(sub, defs, prefix + key + ".")
    if isinstance(node.get("items"), dict):
        out |= _schema_keys(node["items"], defs, prefix.rstrip(".") + "[].")
    return out


def test_readme_manifest_example_is_valid_and_shows_every_key_the_schema_accepts():
    text = _readme_manifest()
    manifest = load_manifest("iamgate.yaml", text)  # raises ManifestError when it does not validate
    assert manifest.settings.partition == "aws" and manifest.principals[1].deploys
    schema = json.loads(resources.files("iamgate").joinpath("data/manifest.schema.json").read_text())
    keys = _schema_keys(schema, schema.get("$defs", {}))
    import yaml
    shown = _schema_keys_of(yaml.safe_load(text))
    assert keys - shown == set(), "README's manifest example leaves these keys out"


def _schema_keys_of(value, prefix=""):
    out = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            if prefix.endswith(("parameters.", "variables.", "imports.", "dynamic_references.", "stack_outputs.",
                                "context.")):
                continue
            out.add(prefix + str(key))
            out |= _schema_keys_of(sub, prefix + str(key) + ".")
    elif isinstance(value, list):
        for item in value:
            out |= _schema_keys_of(item, prefix.rstrip(".") + "[].")
    return out


def test_deploys_that_define_nothing_deployable_are_a_warning(tmp_path, monkeypatch, capsys):
    from .cli import run
    monkeypatch.chdir(tmp_path)
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "role.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudformation:CreateStack", "Resource": "*"}]}))
    (tmp_path / "iamgate.yaml").write_text(
        "version: 1\nsettings: {account: '111122223333'}\nprincipals:\n"
        "  - principal: arn:aws:iam::111122223333:role/ci-deploy\n    policies: [infra/role.json]\n"
        "    deploys: [infra]\n")
    rc, out, _ = run(capsys, "check", "--format", "json", "infra")
    (f,) = json.loads(out)["findings"]
    assert (rc, f["rule"], f["severity"]) == (0, "IG0104", "warning")
    assert f["location"] == {"file": "iamgate.yaml", "line": 4}
    assert run(capsys, "check", "infra", "--fail-on", "warning")[0] == 1
