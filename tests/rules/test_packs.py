"""Rule packs: the shipped ones validate and document every rule; users add their own (--rules DIR,
the manifest's rules:), turn rules off and re-rate them; a bad pack is an input error naming it."""
import json
import os

import pytest

from iamgate.rules.packs import PackError, builtin_packs, load_pack
from iamgate.rules.registry import BUILTIN, default_rules
from tests.cli import run
from tests.rules.packs.wiring import check, of_rule

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

USER_PACK = """
pack: house
rules:
  - id: HS2001
    name: worker-reads-archive
    severity: warning
    title: Workers read the archive bucket
    url: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
    docs:
      what: Every Lambda function's role can read the archive bucket's objects.
      why: House rule.
      example: "Worker: {Type: AWS::Lambda::Function}"
      fix: Grant s3:GetObject on the archive.
    infer:
      - types: [AWS::Lambda::Function]
        principal: {self: true}
        needs:
          - actions: [s3:GetObject]
            resource: "arn:{partition}:s3:::archive-{account}/*"
"""

STACK = """
Resources:
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: "sqs:SendMessage", Resource: "*"}
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: !GetAtt WorkerRole.Arn
"""


def test_every_shipped_pack_validates_and_every_rule_is_documented():
    packs = builtin_packs()
    # loaded without the schema at start-up: validated here
    from iamgate.rules.packs import REPO_PACKS, pack_files
    assert [load_pack(f) for f in pack_files(REPO_PACKS)] == list(packs)
    assert {p.name for p in packs} >= {"lambda"}
    rules = default_rules()
    for pack in packs:
        assert os.path.basename(pack.file) == f"{pack.name}.yaml", pack.file
        for r in pack.rules:
            rule = rules[r.id]
            assert rule.pack == pack.name and rule.url.startswith("https://")
            assert all((rule.what, rule.why, rule.example, rule.fix)), r.id
            assert bool(rule.infer) != bool(rule.check), r.id  # data or a registered function
    # ids and names are unique across the built-in rules and every pack
    assert len({r.id for r in rules}) == len({r.name for r in rules}) == len(rules)


def test_inferred_rules_name_only_actions_the_catalog_knows():
    from iamgate import catalog
    for rule in default_rules():
        for entry in rule.infer:
            for need in entry.needs:
                for action in need.actions:
                    assert catalog.canonical_action(action) == action, (rule.id, action)


def test_a_pack_that_does_not_validate_names_the_file_and_the_element(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(USER_PACK.replace("severity: warning", "severity: loud"))
    with pytest.raises(PackError, match=r"bad.yaml: rules\[0\].severity: 'loud' is not one of"):
        load_pack(str(bad))
    bad.write_text("pack: x\nrules: [\n")
    with pytest.raises(PackError, match=r"bad.yaml:\d+: not a valid YAML rule pack"):
        load_pack(str(bad))


def test_on_is_not_a_key_yaml_would_turn_into_true(tmp_path):
    """YAML 1.1 reads a bare `on:` key as the boolean true: packs say `types:` (schema rejects on)."""
    bad = tmp_path / "on.yaml"
    bad.write_text(USER_PACK.replace("- types:", "- on:"))
    with pytest.raises(PackError, match="'types' is a required property"):
        load_pack(str(bad))


def test_user_pack_from_the_command_line_infers_its_requirements(tree, capsys):
    (tree / "house").mkdir()
    (tree / "house" / "archive.yaml").write_text(USER_PACK)
    rc, found = check(capsys, tree, {"stack.yaml": STACK}, "--rules", "house", "stack.yaml")
    [f] = of_rule(found, "HS2001")
    assert f["severity"] == "warning" and f["action"] == "s3:GetObject"
    assert f["resource"] == "arn:aws:s3:::archive-000000000000/*"
    assert f["origin"]["resource"] == "Worker" and rc == 0  # a warning does not fail --fail-on error
    rc, out, _ = run(capsys, "rules", "--rules", "house", "HS2001")
    assert rc == 0 and "HS2001 worker-reads-archive (warning, missing-permission)" in out


def test_manifest_rules_add_packs_disable_and_re_rate(tree, capsys):
    (tree / "ci" / "rules").mkdir(parents=True)
    (tree / "ci" / "rules" / "archive.yaml").write_text(USER_PACK)
    manifest = "version: 1\nrules:\n  packs: [ci/rules]\n  severity: {worker-reads-archive: error}\n"
    rc, found = check(capsys, tree, {"stack.yaml": STACK, "iamgate.yaml": manifest}, "stack.yaml")
    assert [f["severity"] for f in of_rule(found, "HS2001")] == ["error"] and rc == 1
    manifest = "version: 1\nrules:\n  packs: [ci/rules]\n  disable: [HS2001]\n"
    rc, found = check(capsys, tree, {"stack.yaml": STACK, "iamgate.yaml": manifest}, "stack.yaml")
    assert of_rule(found, "HS2001") == [] and rc == 0


def test_a_rule_the_manifest_names_that_does_not_exist_is_an_input_error(tree, capsys):
    (tree / "iamgate.yaml").write_text("version: 1\nrules:\n  disable: [IG9999]\n")
    (tree / "stack.yaml").write_text(STACK)
    rc, out, err = run(capsys, "check", "stack.yaml")
    assert rc == 2 and "iamgate.yaml: rules: no rule 'IG9999'" in err and "Traceback" not in err


def test_a_pack_rule_cannot_take_a_built_in_id(tree, capsys):
    (tree / "house").mkdir()
    (tree / "house" / "x.yaml").write_text(USER_PACK.replace("HS2001", "IG1001"))
    (tree / "stack.yaml").write_text(STACK)
    rc, out, err = run(capsys, "check", "--rules", "house", "stack.yaml")
    assert rc == 2 and "rule IG1001 (worker-reads-archive): its id is already taken by IG1001" in err
    rc, out, err = run(capsys, "check", "--rules", "nowhere", "stack.yaml")
    assert rc == 2 and "nowhere: no such rules folder" in err


def test_disabling_a_lint_rule_drops_its_findings(tree, capsys):
    stack = STACK.replace('"sqs:SendMessage"', '"sqs:SendMesage"')
    rc, found = check(capsys, tree, {"stack.yaml": stack}, "stack.yaml")
    assert of_rule(found, "IG3003") and rc == 1
    rc, found = check(capsys, tree, {"stack.yaml": stack, "iamgate.yaml": "version: 1\nrules: {disable: [unknown-action]}\n"},
                      "stack.yaml")
    assert of_rule(found, "IG3003") == [] and rc == 0


def test_docs_rules_md_is_generated_from_the_rules(capsys):
    rc, out, _ = run(capsys, "rules", "--format", "markdown")
    with open(os.path.join(ROOT, "docs", "rules.md"), encoding="utf-8") as fh:
        assert fh.read() == out, "docs/rules.md is stale: iamgate rules --format markdown > docs/rules.md"
    for rule in default_rules():
        assert f"## {rule.id} {rule.name}" in out


def test_rules_json_lists_pack_rules_with_their_pack(capsys):
    rc, out, _ = run(capsys, "rules", "--format", "json")
    rules = {r["id"]: r for r in json.loads(out)["rules"]}
    assert rules["IG2101"]["pack"] == "lambda" and "pack" not in rules["IG1001"]
    assert set(rules) >= {r.id for r in BUILTIN}
