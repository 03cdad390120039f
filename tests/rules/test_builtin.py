"""Tests for iamgate.rules.builtin: the lint checks over parsed policies, and ``lint`` over an inventory."""
from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from iamgate.model import Finding, Inventory, Location, Policy, Principal, Statement
from iamgate.policy import parse_policy, suggest_operator
from iamgate.rules import builtin
from iamgate.rules.registry import default_rules
from iamgate.rules.builtin import Check, check_policy, lint
from iamgate.sources.jsonpos import load

from ..policy_samples import (BUCKET_POLICY_WITHOUT_PRINCIPAL, CORPUS, IDENTITY_POLICY_WITH_PRINCIPAL,
                              REAL, UNKNOWN_CONDITION_OPERATOR)

FILE = "policies/app.json"


# the checks of registry.py (IG30xx); the policy-lint pack's (IG31xx) are tested in tests/rules/packs
BUILTIN_CHECKS = [c for c in builtin.CHECKS if c.rule.startswith("IG30")]


def semantics(text: str, kind: str = "identity", name: str = "app") -> List[Finding]:
    data, positions = load(textwrap.dedent(text).strip() + "\n")
    policy = parse_policy(data, name, kind, Location(FILE, 1),
                          lambda i: Location(FILE, positions.line(("Statement", i))))
    return check_policy(policy, BUILTIN_CHECKS)


def brief(findings: List[Finding]) -> List[Tuple[str, str, str, Optional[int]]]:
    return [(f.kind, f.severity, f.message, f.location.line if f.location else None) for f in findings]


# ------------------------------------------------------------------------------------- checks


def test_bucket_policy_without_principal() -> None:
    text = BUCKET_POLICY_WITHOUT_PRINCIPAL
    assert brief(semantics(text, "resource", "OrdersBucketPolicy")) == [
        ("invalid-policy", "warning", "OrdersBucketPolicy: Statement[0]: missing Principal or NotPrincipal: "
                                      "AWS rejects a resource policy statement without one", 4)]


def test_identity_policy_with_principal() -> None:
    text = IDENTITY_POLICY_WITH_PRINCIPAL
    assert brief(semantics(text)) == [
        ("invalid-policy", "error", "app: Statement[0]: Principal is not allowed in an identity policy", 4)]


def test_unknown_condition_operator() -> None:
    text = UNKNOWN_CONDITION_OPERATOR
    assert brief(semantics(text)) == [
        ("invalid-policy", "error", 'app: Statement[0].Condition: unknown condition operator "StringEqualz" — '
                                    "did you mean StringEquals?", 4)]


POLICY = """
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "Orders",
          "Effect": "Allow",
          "Action": %s,
          "Resource": "arn:aws:s3:::orders-prod/*"
        }
      ]
    }"""


def test_unknown_action_with_suggestion() -> None:
    [finding] = semantics(POLICY % '["s3:GetObject", "s3:GetObjects"]')
    assert finding == Finding(kind="unknown-action", rule="IG3003", severity="error",
                              message="unknown action s3:GetObjects — did you mean s3:GetObject?",
                              action="s3:GetObjects", location=Location(FILE, 4),
                              path=("Statement", 0, "Action"))


def test_unknown_service_prefix() -> None:
    assert brief(semantics(POLICY % '"s4:GetObject"')) == [
        ("unknown-action", "error", 'unknown service prefix "s4" in s4:GetObject — did you mean s3?', 4)]


def test_not_action_and_patterns() -> None:
    text = POLICY.replace('"Action"', '"NotAction"') % '["s3:Get*", "ec2:*Foo", "*", "s3:ListObjects"]'
    assert brief(semantics(text)) == [
        ("unknown-action", "error", "ec2:*Foo matches no ec2 action", 4),
        ("unknown-action", "error", "unknown action s3:ListObjects — did you mean s3:ListBucket?", 4),
    ]


def test_action_in_another_case_is_valid() -> None:
    assert semantics(POLICY % '["S3:getobject", "DynamoDB:query", "sqs:SENDMESSAGE", "iam:pass*"]') == []


def test_unresolved_placeholders_are_not_unknown_actions() -> None:
    statement = Statement(effect="Allow", actions=("s3:Get*Object*",), resources=("*",),
                          location=Location(FILE, 3), unresolved=frozenset({"Action"}))
    assert check_policy(Policy("app", "identity", (statement,))) == []
    assert check_policy(Policy("app", "identity", (Statement(effect="Allow", actions=("s3:Nope*",),
                                                             resources=("*",)),),
                               location=Location(FILE, 1)))[0].location == Location(FILE, 1)


def test_version_missing_wrong_and_old() -> None:
    missing = POLICY.replace('"Version": "2012-10-17",', "") % '"s3:GetObject"'
    assert brief(semantics(missing)) == [
        ("invalid-policy", "warning", 'app: no Version: policy variables such as ${aws:username} are not '
                                      'substituted (add "Version": "2012-10-17")', 1)]
    wrong = POLICY.replace("2012-10-17", "2012-10-18") % '"s3:GetObject"'
    assert brief(semantics(wrong)) == [
        ("invalid-policy", "error", 'app: Version "2012-10-18" is not one of 2012-10-17, 2008-10-17', 1)]
    old = (POLICY.replace("2012-10-17", "2008-10-17").replace("orders-prod/*", "orders-prod/${aws:username}/*")
           % '"s3:GetObject"')
    assert brief(semantics(old)) == [
        ("invalid-policy", "warning", "app: Statement[0]: Version 2008-10-17 does not substitute policy "
                                      'variables: ${…} is matched as literal text (use "Version": "2012-10-17")', 4)]
    assert semantics(old.replace("${aws:username}", "home")) == []


def test_operator_suggestions() -> None:
    assert suggest_operator("ForAnyValues:StringLike") == "ForAnyValue:StringLike"
    assert suggest_operator("StringEqualsIfExist") == "StringEqualsIfExists"
    assert suggest_operator("NullIfExists") == "Null"
    assert suggest_operator("Whatever") is None


# ------------------------------------------------------------------------------------- real world


@pytest.mark.parametrize("name,kind,where", REAL, ids=[r[0].rsplit("/", 1)[1] for r in REAL])
def test_real_world_policies_are_valid(name: str, kind: str, where: Tuple[str, ...]) -> None:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip("../shared/corpus is not present")
    data, positions = load(path.read_text(encoding="utf-8"))
    for key in where:
        data = data[key]
    assert len(json.dumps(data)) > 300
    assert check_policy(parse_policy(data, name, kind), BUILTIN_CHECKS) == []


# ------------------------------------------------------------------------------------- lint


def linted(inv: Inventory) -> Inventory:
    return replace(inv, problems=inv.problems + lint(inv))


def rules_of(findings) -> List[Tuple[str, Optional[int]]]:
    return [(f.rule, f.location.line if f.location else None) for f in findings]


TYPO = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: s3:GetObjects
                Resource: "*"
"""


def test_readers_no_longer_lint_and_lint_finds_what_they_read() -> None:
    from iamgate.sources import ReadOptions, cloudformation, iam_json

    cfn = cloudformation.read("stack.yaml", TYPO, ReadOptions(account="111122223333"))
    policy = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "*"}]})
    doc = iam_json.read("policy.json", policy)
    for inv in (cfn, doc):
        assert inv is not None
        assert "IG3003" not in {f.rule for f in inv.problems}
        [finding] = lint(inv)
        assert (finding.rule, finding.action) == ("IG3003", "s3:GetObjects")
        assert finding.path == ("Statement", 0, "Action")
    assert rules_of(lint(cfn)) == [("IG3003", 18)]


def test_the_pipeline_adds_lint_findings_once_after_reading(tmp_path: Path) -> None:
    from iamgate.model import Settings
    from iamgate.pipeline import read_scope
    from iamgate.sources import read_inventory

    (tmp_path / "stack.yaml").write_text(TYPO, encoding="utf-8")
    assert read_inventory([str(tmp_path)]).problems == ()  # the readers only read
    inv = read_scope([str(tmp_path)], None, Settings()).read
    assert [f.rule for f in inv.problems] == ["IG3003"]


def _boom(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    raise KeyError("Resource")


def test_a_check_that_raises_becomes_an_ig9002_note_naming_its_rule() -> None:
    typo = {"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "*"}
    policy = parse_policy({"Version": "2012-10-17", "Statement": [typo, typo]}, "app", "identity", Location(FILE, 3))
    boom = Check("IG3010", _boom, per_statement=True, origins=frozenset({"code"}))
    findings = lint(Inventory(policies=(policy,)), [*builtin.CHECKS, boom])
    # the other checks still run; the failing one is reported once for the policy, then left out
    assert [(f.rule, f.kind, f.severity) for f in findings] == [
        ("IG3003", "unknown-action", "error"), ("IG9002", "rule-error", "note"), ("IG3003", "unknown-action", "error")]
    assert findings[1].message == ("rule IG3010 (variables-in-2008-policy) failed on policies/app.json: app: "
                                   "KeyError: 'Resource'")
    assert findings[1].location == Location(FILE, 3)


def test_every_registered_check_reports_a_lint_rule_of_the_registry() -> None:
    assert [c.rule for c in builtin.CHECKS] == ["IG3007", "IG3008", "IG3003", "IG3004", "IG3005", "IG3006",
                                                "IG3009", "IG3010", "IG3101", "IG3102", "IG3103", "IG3104",
                                                "IG3105", "IG3106", "IG3107", "IG3108", "IG3109", "IG3110"]
    assert all(default_rules()[c.rule].id.startswith("IG3") for c in builtin.CHECKS)
    # a pack rule implemented by a check names it, and the check reports that rule
    packs = {r.check: r.id for r in default_rules() if r.check}
    for c in builtin.CHECKS:
        if not c.rule.startswith("IG300") and not c.rule.startswith("IG301"):
            assert packs.get(c.run.__name__) == c.rule, c
    for name, rule in packs.items():
        assert any(c.run.__name__ == name and c.rule == rule for c in builtin.CHECKS), (name, rule)


def _policy(statement: dict, kind: str = "identity", version: Optional[str] = None, **fields) -> Policy:
    doc = {"Statement": [statement], **({"Version": version} if version else {})}
    return replace(parse_policy(doc, "p", kind, Location(FILE, 1)), **fields)


UNKNOWN = {"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "*"}


def test_what_runs_is_decided_by_the_policys_origin() -> None:
    code = _policy(UNKNOWN)
    assert [f.rule for f in check_policy(code)] == ["IG3007", "IG3003"]
    # SAM's policy templates: SAM's missing Version is not news, an unknown action is SAM's (a warning)
    sam = replace(code, origin="sam-policy-template", origin_name="SQSPollerPolicy")
    [finding] = check_policy(sam)
    assert (finding.rule, finding.severity) == ("IG3004", "warning")
    assert finding.message.endswith("(in SAM policy template SQSPollerPolicy)")
    # a Lambda permission: the reader wrote the document, the user only its values
    permission = _policy({"Effect": "Allow", "Action": "lambda:InvokeFunctio", "Resource": "*"}, "resource",
                         origin="properties")
    assert [f.rule for f in check_policy(permission)] == ["IG3003"]  # no IG3006 (Principal), no IG3007
    # AWS's own policies are not the user's to fix: only an unknown action, a warning naming the policy
    aws = replace(code, name="AWSLambdaBasicExecutionRole", origin="aws-managed")
    [finding] = check_policy(aws)
    assert (finding.rule, finding.severity, finding.action) == ("IG3004", "warning", "s3:GetObjects")
    assert finding.message.endswith("(in AWS managed policy AWSLambdaBasicExecutionRole)")


def test_an_aws_managed_policy_with_many_unknown_actions_is_one_warning_per_element() -> None:
    retired = [f"evidently:{a}" for a in ("GetFeature", "GetLaunch", "GetProject", "ListFeatures", "ListLaunches",
                                           "ListProjects", "GetSegment")]
    policy = _policy({"Effect": "Allow", "Action": ["s3:GetObject", *retired], "Resource": "*"},
                     version="2012-10-17", name="ReadOnlyAccess", origin="aws-managed")
    [finding] = check_policy(policy)
    assert (finding.rule, finding.path, finding.action) == ("IG3004", ("Statement", 0, "Action"), None)
    assert finding.message == ("7 actions the IAM catalog does not know: evidently:GetFeature, evidently:GetLaunch, "
                               "evidently:GetProject, evidently:ListFeatures, evidently:ListLaunches, … (2 more) "
                               "(in AWS managed policy ReadOnlyAccess)")


def test_a_policy_the_grammar_rejected_gets_no_semantic_invalid_policy_findings() -> None:
    with_principal = {**UNKNOWN, "Principal": "*"}
    assert [f.rule for f in check_policy(_policy(with_principal, version="2012-10-17"))] == ["IG3003", "IG3005"]
    rejected = _policy(with_principal, version="2012-10-17", grammar_rejected=True)
    assert [f.rule for f in check_policy(rejected)] == ["IG3003"]


def test_each_distinct_document_is_checked_once_whatever_it_is_attached_as() -> None:
    managed = _policy({**UNKNOWN, "Principal": "*"}, version="2012-10-17")
    role = Principal("r", "role", identity_policies=(managed,), boundary=replace(managed, kind="boundary"))
    inv = Inventory(principals=(role,), policies=(managed,), documents=(managed,))
    # one document: checked once, as read (an identity policy)
    assert [(f.rule, f.message) for f in lint(inv)] == [
        ("IG3003", "unknown action s3:GetObjects — did you mean s3:GetObject?"),
        ("IG3005", "p: Statement[0]: Principal is not allowed in an identity policy")]


def test_a_policy_attached_to_nothing_read_is_still_checked() -> None:
    """An AWS::IAM::Policy for a role of another stack is in no principal: Inventory.documents has it."""
    text = TYPO.replace("  Role:\n    Type: AWS::IAM::Role", "  Other:\n    Type: AWS::SQS::Queue\n  Role:\n"
                                                          "    Type: AWS::IAM::Policy")
    text = text.replace("      Policies:\n        - PolicyName: read\n          PolicyDocument:",
                        "      Roles: [!ImportValue other-role]\n      PolicyName: read\n      PolicyDocument:")
    from iamgate.sources import ReadOptions, cloudformation
    inv = cloudformation.read("stack.yaml", text, ReadOptions(account="111122223333"))
    assert inv is not None and inv.principals == ()
    assert [f.rule for f in lint(inv)] == ["IG3003"]


def test_placeholders_whose_every_statement_is_unknown_are_not_checked() -> None:
    from iamgate.policy import unresolved_policy
    placeholder = unresolved_policy("managed policy", "identity", Location(FILE, 2))
    assert lint(Inventory(documents=(replace(placeholder, version=None),))) == ()


def test_lint_findings_join_the_problems_of_their_file_in_reading_order() -> None:
    from iamgate.model import add_problems

    def at(file: str, rule: str = "IG0001") -> Finding:
        return Finding(kind="parse-error", rule=rule, severity="error", message=f"{file} {rule}",
                       location=Location(file, 1))

    docs = tuple(replace(_policy(UNKNOWN), location=Location(f, 1)) for f in ("a.yaml", "b.json", "d.yaml"))
    inv = Inventory(problems=(at("a.yaml"), at("unreadable.yaml"), at("d.yaml")), documents=docs)
    found = [at("d.yaml", "IG3003"), at("a.yaml", "IG3003"), at("b.json", "IG3003"), Finding(
        kind="rule-error", rule="IG9002", severity="note", message="nowhere")]
    # a.yaml's after its problem; b.json (no problem of its own) before d.yaml, the next file read
    # that has one; what is about no file read last
    assert [f.message for f in add_problems(inv, found).problems] == [
        "a.yaml IG0001", "a.yaml IG3003", "unreadable.yaml IG0001", "b.json IG3003", "d.yaml IG0001",
        "d.yaml IG3003", "nowhere"]


# ------------------------------------------------------------------------- once per source location


CHILD = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Fn:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AmazonSageMakerFullAccess
  Images:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref Fn]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: ["ec2:CreateImage,", "s3:GetObjekt"]
            Resource: !Sub "arn:aws:s3:::${AWS::StackName}/*"
"""
PARENT = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: ./child.yaml
"""


def _roles(n: int) -> str:
    roles = "".join(f"""\
  R{i}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonSageMakerFullAccess]
""" for i in range(1, n + 1))
    refs = ", ".join(f"!Ref R{i}" for i in range(1, n + 1))
    return f"""\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
{roles}  Shared:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: shared
      Roles: [{refs}]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:GetObjekt
            Resource: "*"
"""


def _lint_findings(capsys, *paths: str) -> List[dict]:
    from ..cli import run
    rc, out, _ = run(capsys, "check", *paths, "--format", "json")
    return [f for f in json.loads(out)["findings"] if f["rule"] in ("IG3003", "IG3004")]


def test_an_unknown_action_in_a_nested_template_read_under_two_parents_is_reported_once(tree, capsys) -> None:
    (tree / "child.yaml").write_text(CHILD, encoding="utf-8")
    (tree / "a.yaml").write_text(PARENT, encoding="utf-8")
    (tree / "b.yaml").write_text(PARENT.replace("Child:", "Kid:"), encoding="utf-8")
    found = _lint_findings(capsys, "a.yaml", "b.yaml")
    # the ManagedPolicy is two policies (each stack names it), one text: each mistake once, where written
    assert [(f["rule"], f["action"], f["location"]["file"], f["location"]["line"]) for f in found] == [
        ("IG3004", "elastic-inference:Connect", "child.yaml", 13),
        ("IG3003", "ec2:CreateImage,", "child.yaml", 21),
        ("IG3003", "s3:GetObjekt", "child.yaml", 21)]
    assert found[0]["severity"] == "warning"
    assert found[0]["message"].endswith("(in AWS managed policy AmazonSageMakerFullAccess)")


def test_a_policy_attached_to_three_roles_is_reported_once(tree, capsys) -> None:
    (tree / "stack.yaml").write_text(_roles(3), encoding="utf-8")
    found = _lint_findings(capsys, "stack.yaml")
    # one inline policy for three roles, one AWS managed policy attached three times
    assert sorted((f["rule"], f["action"]) for f in found) == [
        ("IG3003", "s3:GetObjekt"), ("IG3004", "elastic-inference:Connect")]


def test_an_action_entry_without_a_wildcard_matches_the_escalation_actions_as_its_glob_would():
    """``_escalation_matches`` compares an entry without ``*`` or ``?`` as written (no pattern
    compiled): the same actions as the glob, whatever its case or the characters a regex would read."""
    from iamgate.rules import lint
    entries = [e for a in sorted(lint._ESCALATION_ACTIONS) for e in (a, a.upper(), a + "x", a[:-1])]
    entries += ["s3:GetObject", "iam:Pass.Role", "iam:pass[r]ole", "iam:PassRole ", "", "iam:*Role", "*", "iam:?assRole"]
    for entry in entries:
        glob = frozenset(a for a in lint._ESCALATION_ACTIONS if lint._glob(entry).fullmatch(a.lower()))
        assert lint._escalation_matches(entry) == glob, entry
    assert lint._escalation_matches("IAM:PASSROLE") == {a for a in lint._ESCALATION_ACTIONS if a.lower() == "iam:passrole"}
    assert lint._escalation_matches("iam:PassRole")
