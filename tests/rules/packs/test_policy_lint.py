"""rules/policy-lint.yaml (IG3101-IG3110, rules/lint.py) and ``check --unused`` (IG1004).

Each rule: an input that it reports (the exact rule, statement line and element path) and the same
input corrected, which it does not report."""
import json
from pathlib import Path
from typing import Dict, List

import pytest

from iamgate import pipeline
from iamgate.model import Finding
from iamgate.rules.registry import default_rules
from tests.rules.packs.wiring import check, line_of, of_rule, write

LINT = [f"IG31{n:02d}" for n in range(1, 11)]


def lint(root: Path, files: Dict[str, str]) -> List[Finding]:
    """The IG31xx findings of reading ``files`` (written under ``root``), in reading order."""
    write(root, files)
    return [f for f in pipeline.gather([str(root)]).inventory.problems if f.rule in LINT or f.rule == "IG9002"]


def rules(found: List[Finding]) -> List[str]:
    return [f.rule for f in found]


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


def statement_line(text: str, index: int) -> int:
    """The line of the ``index``-th statement's opening brace in ``policy()``'s output."""
    lines = text.splitlines()
    opening = [i for i, line in enumerate(lines, 1) if line == "    {"]
    return opening[index]


def test_the_pack_names_a_registered_check_for_every_rule():
    from iamgate.rules import builtin
    registered = {c.run.__name__: c.rule for c in builtin.CHECKS}
    pack = [r for r in default_rules() if r.pack == "policy-lint"]
    assert [r.id for r in pack] == LINT
    assert all(registered[r.check] == r.id for r in pack)
    assert all(r.url.startswith("https://") and r.what and r.why and r.example and r.fix for r in pack)


# ------------------------------------------------------------------------------ IG3101-IG3103


NOT_ACTION = {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "arn:aws:s3:::reports/*"}


def test_allow_with_not_action(tree):
    text = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}, NOT_ACTION)
    [f] = lint(tree, {"app.json": text})
    assert (f.rule, f.severity, f.kind) == ("IG3101", "warning", "over-permissive")
    assert f.path == ("Statement", 1, "NotAction") and f.location.line == statement_line(text, 1)
    assert "grants every action that applies to its resources but iam:*, organizations:*" in f.message
    # the same grant written as Action, and NotAction in a Deny (a guardrail), are not reported
    deny = {**NOT_ACTION, "Effect": "Deny"}
    assert lint(tree, {"app.json": policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, deny)}) == []


def test_allow_with_not_resource_in_cloudformation(tree):
    cfn = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Reader:
        Type: AWS::IAM::ManagedPolicy
        Properties:
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                NotResource: arn:aws:s3:::payroll/*
    """
    [f] = lint(tree, {"stack.yaml": cfn})
    assert (f.rule, f.severity, f.path) == ("IG3102", "warning", ("Statement", 0, "NotResource"))
    assert f.location.line == line_of(cfn, "- Effect: Allow")
    fixed = cfn.replace("NotResource: arn:aws:s3:::payroll/*", "Resource: arn:aws:s3:::reports/*")
    assert lint(tree, {"stack.yaml": fixed}) == []


def test_unknown_action_in_the_not_action_of_an_allow(tree):
    typo = {**NOT_ACTION, "NotAction": ["iam:*", "organisations:*"]}
    found = lint(tree, {"app.json": policy(typo)})
    assert rules(found) == ["IG3101", "IG3103"]
    f = found[1]
    assert (f.severity, f.kind, f.action, f.path) == ("error", "invalid-policy", "organisations:*",
                                                      ("Statement", 0, "NotAction"))
    assert "did you mean organizations?" in f.message and "excludes nothing" in f.message
    assert rules(lint(tree, {"app.json": policy(NOT_ACTION)})) == ["IG3101"]
    # in a Deny an unknown NotAction entry widens nothing that is granted: IG3003 reports the typo alone
    assert lint(tree, {"app.json": policy({**typo, "Effect": "Deny"})}) == []


# ------------------------------------------------------------------------------ IG3104


def test_wildcard_actions_on_every_resource_report_only_actions_that_take_one(tree):
    text = policy({"Effect": "Allow", "Action": ["s3:Get*", "s3:ListAllMyBuckets"], "Resource": "*"})
    [f] = lint(tree, {"app.json": text})
    assert (f.rule, f.severity, f.path) == ("IG3104", "warning", ("Statement", 0, "Action"))
    from iamgate import catalog
    from iamgate.engine.evaluate import takes_no_resource
    everything = catalog.expand_action("s3:Get*")
    n = len([a for a in everything if not takes_no_resource(a)])
    assert 0 < n < len(everything)  # s3:GetAccessPoint… take none: they are left out
    assert f.message.startswith(f'app: Statement[0]: s3:Get* on Resource "*" grants {n} actions that take a '
                                "resource on every resource: s3:GetAccelerateConfiguration, ")
    assert "s3:ListAllMyBuckets" not in f.message
    named = lint(tree, {"app.json": policy({"Effect": "Allow", "Action": ["s3:Get*"],
                                            "Resource": "arn:aws:s3:::reports/*"})})
    assert named == []


@pytest.mark.parametrize("actions", [["s3:ListAllMyBuckets"], ["logs:DescribeLogGroups"], ["s3:ListAllMy*"],
                                     ["logs:DescribeLogGroup?"], ["ec2:Describe*"]])
def test_actions_that_take_no_resource_on_every_resource_are_not_reported(tree, actions):
    """AWS authorizes them against "*" whatever the policy says (docs/actions-without-resources.md);
    ec2:Describe* are List-level actions (enumeration, no data)."""
    assert lint(tree, {"app.json": policy({"Effect": "Allow", "Action": actions, "Resource": "*"})}) == []


def test_wildcard_in_terraform(tree):
    tf = """
    resource "aws_iam_policy" "app" {
      name   = "app"
      policy = jsonencode({
        Version   = "2012-10-17"
        Statement = [{ Effect = "Allow", Action = ["dynamodb:*"], Resource = "*" }]
      })
    }
    """
    [f] = lint(tree, {"main.tf": tf})
    assert f.rule == "IG3104" and "dynamodb:* on Resource \"*\" grants" in f.message
    assert f.location.file.endswith("main.tf")
    fixed = tf.replace('Resource = "*"', 'Resource = "arn:aws:dynamodb:us-east-1:111122223333:table/orders"')
    assert lint(tree, {"main.tf": fixed}) == []


def test_aws_managed_policies_are_not_linted(tree):
    cfn = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Admin:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
          ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess, arn:aws:iam::aws:policy/PowerUserAccess]
    """
    assert lint(tree, {"stack.yaml": cfn}) == []
    # nor a file that is a copy of one (a repository of AWS's policies), however it is named on disk
    from iamgate.catalog.managed import managed_policy
    doc = managed_policy("PowerUserAccess")
    raw = [{"Effect": s.effect, **({"Action": list(s.actions)} if s.actions else {}),
            **({"NotAction": list(s.not_actions)} if s.not_actions else {}),
            **({"Resource": list(s.resources)} if s.resources else {})} for s in doc.statements]
    assert lint(tree, {"PowerUserAccess.json": policy(*raw)}) == []
    assert "IG3101" in rules(lint(tree, {"mine.json": policy(*raw)}))


# ------------------------------------------------------------------------------ IG3105


def test_pass_role_on_every_role(tree):
    text = policy({"Effect": "Allow", "Action": ["lambda:CreateFunction", "iam:PassRole"], "Resource": "*"})
    found = lint(tree, {"app.json": text})
    assert rules(found) == ["IG3105"]
    assert (found[0].path, found[0].action) == (("Statement", 0, "Resource"), "iam:PassRole")
    # through iam:* on every role of an account
    found = lint(tree, {"app.json": policy({"Effect": "Allow", "Action": "iam:*",
                                            "Resource": "arn:aws:iam::111122223333:role/*"})})
    assert "IG3105" in rules(found) and "(through iam:*)" in of(found, "IG3105").message
    # named roles, or the service it may be passed to, are fine
    assert lint(tree, {"app.json": policy({"Effect": "Allow", "Action": "iam:PassRole",
                                           "Resource": "arn:aws:iam::111122223333:role/app-fn"})}) == []
    scoped = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
              "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}
    assert lint(tree, {"app.json": policy(scoped)}) == []


def of(found: List[Finding], rule: str) -> Finding:
    [f] = [f for f in found if f.rule == rule]
    return f


# ------------------------------------------------------------------------------ IG3106


def test_privilege_escalation_combinations_in_one_policy(tree):
    text = policy({"Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"},
                  {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/*"})
    found = lint(tree, {"app.json": text})
    f = of(found, "IG3106")
    assert f.severity == "warning" and f.path == ("Statement", 0, "Action")
    assert f.message == ("app: Statements 0, 1: grants 1 known privilege-escalation path: iam:PassRole + "
                         "lambda:CreateFunction + lambda:InvokeFunction — whoever holds this policy can make "
                         "themselves administrator")
    # one half alone is no path
    assert "IG3106" not in rules(lint(tree, {"app.json": policy(json.loads(text)["Statement"][0])}))


def test_privilege_escalation_single_actions_and_what_is_not_one(tree):
    tf = """
    resource "aws_iam_user_policy" "ops" {
      user   = "ops"
      policy = jsonencode({
        Version   = "2012-10-17"
        Statement = [{ Effect = "Allow", Action = ["iam:PutRolePolicy", "iam:GetRole"], Resource = "*" }]
      })
    }
    """
    [f] = lint(tree, {"main.tf": tf})
    assert f.rule == "IG3106" and "iam:PutRolePolicy" in f.message
    # the caller's own credentials, service-linked roles, and conditioned grants are not escalation
    own = tf.replace('Resource = "*"', 'Resource = "arn:aws:iam::111122223333:user/${aws:username}"')
    own = own.replace('["iam:PutRolePolicy", "iam:GetRole"]', '["iam:CreateAccessKey", "iam:UpdateLoginProfile"]')
    assert lint(tree, {"main.tf": own}) == []
    slr = tf.replace('Resource = "*"', 'Resource = "arn:aws:iam::*:role/aws-service-role/s3.data-source.lustre.fsx'
                                        '.amazonaws.com/*"')
    assert lint(tree, {"main.tf": slr}) == []
    assert lint(tree, {"main.tf": tf.replace('Resource = "*"', 'Resource = "arn:aws:s3:::bucket"')}) == []


# ------------------------------------------------------------------------------ IG3107


QUEUE_POLICY = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  JobsPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Jobs]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: sqs:SendMessage
            Resource: !GetAtt Jobs.Arn
"""


def test_public_resource_policy(tree):
    [f] = lint(tree, {"stack.yaml": QUEUE_POLICY})
    assert (f.rule, f.severity, f.path) == ("IG3107", "warning", ("Statement", 0, "Principal"))
    assert f.location.line == line_of(QUEUE_POLICY, "- Effect: Allow")
    narrowed = QUEUE_POLICY + "            Condition: {ArnEquals: {aws:SourceArn: !Ref Topic}}\n"
    assert lint(tree, {"stack.yaml": narrowed}) == []
    # a negated or IfExists condition does not narrow who may call
    loose = QUEUE_POLICY + "            Condition: {StringEqualsIfExists: {aws:SourceAccount: '111122223333'}}\n"
    assert rules(lint(tree, {"stack.yaml": loose})) == ["IG3107"]
    named = QUEUE_POLICY.replace('Principal: "*"', "Principal: {Service: sns.amazonaws.com}")
    assert lint(tree, {"stack.yaml": named}) == []


def test_public_lambda_permission_in_terraform(tree):
    tf = """
    resource "aws_lambda_permission" "anyone" {
      statement_id  = "AllowAnyone"
      action        = "lambda:InvokeFunction"
      function_name = "worker"
      principal     = "*"
    }
    """
    [f] = lint(tree, {"main.tf": tf})
    assert f.rule == "IG3107" and "lambda:InvokeFunction" in f.message
    fixed = tf.replace('principal     = "*"', 'principal     = "*"\n  source_account = "111122223333"')
    assert lint(tree, {"main.tf": fixed}) == []


# ------------------------------------------------------------------------------ IG3108


TRUST = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  AuditRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: "arn:aws:iam::123456789012:root"}
            Action: sts:AssumeRole
"""


def test_cross_account_trust_without_external_id(tree):
    [f] = lint(tree, {"stack.yaml": TRUST})
    assert (f.rule, f.severity, f.path) == ("IG3108", "warning", ("Statement", 0, "Principal"))
    assert "lets account 123456789012 assume the role" in f.message
    with_id = TRUST + "            Condition: {StringEquals: {sts:ExternalId: 'c0ffee'}}\n"
    assert lint(tree, {"stack.yaml": with_id}) == []
    org = TRUST + "            Condition: {StringEquals: {aws:PrincipalOrgID: o-abc123}}\n"
    assert lint(tree, {"stack.yaml": org}) == []
    # the role's own account (written !Sub, read as the stand-in account) is not another account
    own = TRUST.replace('"arn:aws:iam::123456789012:root"', '!Sub "arn:aws:iam::${AWS::AccountId}:root"')
    assert lint(tree, {"stack.yaml": own}) == []


def test_cross_account_trust_knows_the_role_account_from_settings(tree):
    manifest = "version: 1\nsettings: {account: '123456789012'}\n"
    write(tree, {"iamgate.yaml": manifest, "stack.yaml": TRUST})
    scope = pipeline.gather([str(tree / "stack.yaml")], str(tree / "iamgate.yaml"))
    assert [f.rule for f in scope.inventory.problems if f.rule.startswith("IG31")] == []
    other = TRUST.replace("123456789012", "210987654321")
    write(tree, {"stack.yaml": other})
    scope = pipeline.gather([str(tree / "stack.yaml")], str(tree / "iamgate.yaml"))
    assert [f.rule for f in scope.inventory.problems if f.rule.startswith("IG31")] == ["IG3108"]


def test_trust_of_anyone_in_terraform(tree):
    tf = """
    resource "aws_iam_role" "open" {
      name = "open"
      assume_role_policy = jsonencode({
        Version   = "2012-10-17"
        Statement = [{ Effect = "Allow", Principal = { AWS = "*" }, Action = "sts:AssumeRole" }]
      })
    }
    """
    [f] = lint(tree, {"main.tf": tf})
    assert f.rule == "IG3108" and 'lets anyone (Principal "*")' in f.message
    pinned = tf.replace('Action = "sts:AssumeRole" }',
                        'Action = "sts:AssumeRole", Condition = { StringEquals = { "aws:PrincipalAccount" = '
                        '"111122223333" } } }')
    assert lint(tree, {"main.tf": pinned}) == []
    service = tf.replace('AWS = "*"', 'Service = "lambda.amazonaws.com"')
    assert lint(tree, {"main.tf": service}) == []


# ------------------------------------------------------------------------------ IG3109 / IG3110


def test_condition_key_the_action_does_not_have_in_an_allow(tree):
    text = policy({"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
                   "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"],
                   "Condition": {"StringLike": {"s3:prefix": "team-a/*"}}})
    [f] = lint(tree, {"app.json": text})
    assert (f.rule, f.severity, f.kind) == ("IG3109", "warning", "invalid-policy")
    assert f.path == ("Statement", 0, "Condition", "StringLike", "s3:prefix")
    assert f.message == ("app: Statement[0].Condition: AWS never sets s3:prefix on the request of s3:GetObject "
                         "(not a condition key of it in the IAM catalog), so the condition is always false and "
                         "this Allow never grants s3:GetObject")
    listing = text.replace('"s3:GetObject"', '"s3:ListBucketVersions"')
    assert lint(tree, {"app.json": listing}) == []
    # IfExists and Null say what an absent key means: not reported; nor are aws: keys
    for operator in ("StringLikeIfExists", "Null"):
        assert lint(tree, {"app.json": text.replace('"StringLike"', f'"{operator}"')}) == []
    assert lint(tree, {"app.json": text.replace("s3:prefix", "aws:SourceVpce")}) == []


def test_condition_key_a_pattern_never_has(tree):
    text = policy({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*",
                   "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}})
    found = lint(tree, {"app.json": text})
    assert rules(found) == ["IG3104", "IG3109"]
    # a pattern one of whose actions has the key: the condition selects those actions
    assert rules(lint(tree, {"app.json": text.replace("s3:Get*", "s3:*Object")})) == ["IG3104"]


def test_condition_key_the_action_does_not_have_in_a_deny(tree):
    cfn = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Vault:
        Type: AWS::S3::Bucket
      VaultPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Vault
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Deny
                Principal: "*"
                Action: s3:GetObject
                Resource: !Sub "${Vault.Arn}/*"
                Condition: {StringNotEquals: {s3:x-amz-server-side-encryption: "aws:kms"}}
    """
    [f] = lint(tree, {"stack.yaml": cfn})
    assert (f.rule, f.severity) == ("IG3110", "warning")
    assert f.message.endswith("so the condition is always true and this Deny applies to s3:GetObject whatever "
                              "the value")
    assert lint(tree, {"stack.yaml": cfn.replace("Action: s3:GetObject", "Action: s3:PutObject")}) == []
    positive = cfn.replace("StringNotEquals", "StringEquals")
    [f] = lint(tree, {"stack.yaml": positive})
    assert f.rule == "IG3110" and "always false and this Deny never applies to s3:GetObject" in f.message


def test_keys_the_catalog_attaches_to_no_action_and_issuer_keys_are_not_judged(tree):
    """states:HTTPEndpoint is documented for states:InvokeHTTPEndpoint but attached to no action in
    the data; ec2:SourceInstanceARN is on every request an instance profile's credentials sign, and
    s3:DataAccessPointAccount on every request made through an access point."""
    for action, key in (("states:InvokeHTTPEndpoint", "states:HTTPEndpoint"),
                        ("ec2:StartInstances", "ec2:SourceInstanceARN"),
                        ("s3:GetObject", "s3:DataAccessPointAccount")):
        text = policy({"Effect": "Deny", "Action": action, "Resource": "*",
                       "Condition": {"StringNotLike": {key: "x"}}})
        assert lint(tree, {"app.json": text}) == []


# ------------------------------------------------------------------------------ odd input


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:x": ["a"]}}},
    {"Effect": "Allow", "Principal": {"AWS": ["*", "123"]}, "Action": "*", "Resource": "*"},
    {"Effect": "Allow", "Action": ["*"], "NotResource": ["arn:aws:s3:::x"]},
    {"Effect": "Allow", "NotAction": "nonsense", "Resource": "*"},
    {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"s3:": "x"}}},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"nokey": "x"}}},
])
def test_odd_statements_never_make_a_check_fail(tree, statement):
    found = lint(tree, {"app.json": policy(statement)})
    assert "IG9002" not in rules(found)


# ------------------------------------------------------------------------------ the corpus


CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"


def test_the_real_world_corpus_is_linted_without_failure():
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    problems = pipeline.gather([str(CORPUS)]).inventory.problems
    assert [f.message for f in problems if f.rule == "IG9002"] == []
    assert not any(f.rule == "IG3104" and "ListAllMyBuckets" in f.message for f in problems)


# ------------------------------------------------------------------------------ --unused


UNUSED_CFN = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:SendMessage, s3:GetObject]
                Resource: !GetAtt JobsQueue.Arn
  IdleRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: idle
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt JobsQueue.Arn}]
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): pass"}
      Role: !GetAtt WorkerRole.Arn
  JobsMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt JobsQueue.Arn
"""


def test_unused_notes_the_granted_actions_no_requirement_uses(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": UNUSED_CFN}, "--unused")
    [f] = of_rule(found, "IG1004")
    assert (f["severity"], f["kind"], f["principal"]) == ("note", "over-permissive", "WorkerRole")
    assert f["message"] == ("WorkerRole: 2 allowed actions no requirement uses: s3 1 (s3:GetObject); "
                            "sqs 1 (sqs:SendMessage)")
    assert f["location"]["line"] == line_of(UNUSED_CFN, "WorkerRole:")
    assert rc == 0  # a note fails nothing
    # without the flag, or once the grant is what the requirements use, no note (IdleRole has none)
    rc, found = check(capsys, tree, {"stack.yaml": UNUSED_CFN})
    assert of_rule(found, "IG1004") == []
    trimmed = UNUSED_CFN.replace(", sqs:SendMessage, s3:GetObject]", "]")
    rc, found = check(capsys, tree, {"stack.yaml": trimmed}, "--unused")
    assert of_rule(found, "IG1004") == []


def test_unused_expands_wildcards_through_the_catalog(tree, capsys):
    wide = UNUSED_CFN.replace("[sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:SendMessage, "
                              "s3:GetObject]", "sqs:*")
    rc, found = check(capsys, tree, {"stack.yaml": wide}, "--unused")
    [f] = of_rule(found, "IG1004")
    from iamgate import catalog
    n = len(catalog.expand_action("sqs:*")) - 3
    assert f["message"].startswith(f"WorkerRole: {n} allowed actions no requirement uses: sqs {n} (")
    assert "sqs:ReceiveMessage" not in f["message"]


def test_unused_counts_the_manifest_requirements_as_used(tree, capsys):
    manifest = """
    version: 1
    principals:
      - principal: WorkerRole
        needs:
          - actions: [s3:GetObject]
            resources: "*"
      - principal: IdleRole
        needs:
          - actions: [sqs:SendMessage]
            resources: "${JobsQueue.Arn}"
    """
    rc, found = check(capsys, tree, {"stack.yaml": UNUSED_CFN, "iamgate.yaml": manifest}, "--unused")
    # WorkerRole's s3:GetObject is required (and denied: the grant is on the queue); IdleRole uses all it has
    assert [(f["principal"], f["message"]) for f in of_rule(found, "IG1004")] == [
        ("WorkerRole", "WorkerRole: 1 allowed action no requirement uses: sqs 1 (sqs:SendMessage)")]
    assert rc == 1


# ------------------------------------------------------------------------------ what grants


def test_a_managed_policy_used_only_as_a_boundary_grants_nothing(tree):
    cfn = """
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Cap:
        Type: AWS::IAM::ManagedPolicy
        Properties:
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: ["s3:*", "iam:PassRole"], Resource: "*"}]
      Worker:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
          PermissionsBoundary: !Ref Cap
    """
    assert lint(tree, {"stack.yaml": cfn}) == []
    # attached as a policy too, it grants
    attached = cfn + "      ManagedPolicyArns: [!Ref Cap]\n"
    assert rules(lint(tree, {"stack.yaml": attached})) == ["IG3104", "IG3105"]


def test_a_policy_file_the_manifest_names_as_an_scp_is_checked_as_one(tree):
    full_access = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    write(tree, {"org/root.json": full_access})
    alone = pipeline.gather([str(tree / "org")])  # no manifest: a policy file is an identity policy
    assert [f.rule for f in alone.inventory.problems if f.rule.startswith("IG31")] == ["IG3106", "IG3104", "IG3105"]
    write(tree, {"iamgate.yaml": "version: 1\nguardrails: {scp: [org/root.json]}\n"})
    named = pipeline.gather([str(tree / "org")], str(tree / "iamgate.yaml"))
    assert [f.rule for f in named.inventory.problems if f.rule.startswith("IG31")] == []


def test_a_trust_policy_file_of_no_role_is_only_checked_for_anyone(tree):
    """Which account is the role's own is not known: only "*" is surely another account."""
    trust = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
    assert lint(tree, {"trust.json": policy(trust)}) == []
    [f] = lint(tree, {"trust.json": policy({**trust, "Principal": {"AWS": "*"}})})
    assert f.rule == "IG3108" and f.path == ("Statement", 0, "Principal")
