"""The check pipeline on in-memory inventories: selectors, unknowns, resource and key policies."""
import json

from iamgate.findings.check import check as check_scope
from iamgate.model import find_principals
from iamgate.pipeline import scope_from
from iamgate.manifest import load_manifest
from iamgate.model import Inventory, Location, Principal, ResourcePolicy
from iamgate.policy import parse_policy, unresolved_policy
from iamgate.sources.iam_json import read

ACCOUNT = "111122223333"


def role(name, *statements, boundary=None, extra=()):
    arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    pol = parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name, "identity",
                       statement_location=lambda i: Location("infra.json", 10 + i))
    return Principal(id=name, type="role", arn=arn, account=ACCOUNT, identity_policies=(pol,) + tuple(extra),
                     boundary=boundary, location=Location("infra.json", 5), aliases=(name, arn, f"Logical{name}"))


def manifest(text):
    return load_manifest("iamgate.yaml", "version: 1\nsettings: {account: '111122223333', region: eu-west-1}\n" + text)


def check(inventory, manifest, files={}):
    return check_scope(scope_from(inventory, manifest, files))


def results(report):
    return {(o.requirement.action, o.requirement.resource): o.decision.result for o in report.outcomes}


def test_selectors_and_pseudo_parameters():
    inv = Inventory(principals=(role("worker", {"Effect": "Allow", "Action": "sqs:SendMessage",
                                                "Resource": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"}),))
    assert find_principals(inv, "LogicalWorker")[0].id == "worker"
    assert find_principals(inv, f"arn:aws:iam::{ACCOUNT}:role/worker")[0].id == "worker"
    m = manifest("principals:\n  - principal: Logicalworker\n    needs:\n"
                 "      - actions: [sqs:sendmessage, 'sqs:Send*']\n"
                 "        resources: 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs'\n")
    report = check(inv, m)
    got = results(report)
    jobs = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
    # the canonical spelling and the expansion of sqs:Send* name the same action: decided once
    assert got == {("sqs:SendMessage", jobs): "allow"}
    assert (report.requirements, report.satisfied) == (1, 1)


def test_unknown_action_is_reported_with_a_suggestion():
    inv = Inventory(principals=(role("worker"),))
    report = check(inv, manifest("principals:\n  - principal: worker\n    needs:\n      - actions: s3:GetObjects\n"))
    (f,) = [f for f in report.findings if f.kind == "unknown-action"]
    assert "did you mean s3:GetObject?" in f.message and f.location == Location("iamgate.yaml", 6)


def test_a_missing_managed_policy_makes_denies_unknown_but_keeps_known_allows():
    placeholder = unresolved_policy("ReadOnlyAccess", "identity", Location("export.json", 40),
                                    "arn:aws:iam::aws:policy/ReadOnlyAccess")
    inv = Inventory(principals=(role("worker", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                                     extra=(placeholder,)),))
    m = manifest("principals:\n  - principal: worker\n    needs:\n"
                 "      - actions: [s3:GetObject, s3:PutObject]\n        resources: arn:aws:s3:::b/k\n")
    got = results(check(inv, m))
    assert got == {("s3:GetObject", "arn:aws:s3:::b/k"): "allow", ("s3:PutObject", "arn:aws:s3:::b/k"): "unknown"}


def test_kms_key_outside_the_code_is_unknown_and_inside_it_is_decided():
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k1"
    worker = role("worker", {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
    m = manifest(f"principals:\n  - principal: worker\n    needs:\n      - actions: kms:Decrypt\n        resources: {key}\n")
    report = check(Inventory(principals=(worker,)), m)
    (o,) = report.outcomes
    assert o.decision.result == "unknown" and "key policy" in o.note
    key_policy = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:*",
         "Resource": "*"}]}, "KeyPolicy", "resource")
    inv = Inventory(principals=(worker,), resource_policies=(ResourcePolicy(key, "AWS::KMS::Key", key_policy),))
    (o,) = check(inv, m).outcomes
    assert o.decision.result == "implicit_deny" and o.decision.blocked_by == ("kms-key-policy",)


def test_bucket_policy_applies_to_objects_and_cross_account_needs_it():
    other = "444455556666"
    bucket = "arn:aws:s3:::partner-drop"
    worker = role("worker", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{bucket}/*"})
    m = manifest(f"principals:\n  - principal: worker\n    needs:\n      - actions: s3:PutObject\n"
                 f"        resources: {bucket}/in/x.csv\n")
    deny = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{bucket}/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{bucket}/in/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}, "BucketPolicy", "resource")
    inv = Inventory(principals=(worker,), resource_policies=(ResourcePolicy(bucket, "AWS::S3::BucketPolicy", deny),))
    (o,) = check(inv, m).outcomes
    assert o.decision.result == "explicit_deny"  # the ACL condition key is absent from the request
    m2 = manifest(f"principals:\n  - principal: worker\n    needs:\n      - actions: s3:PutObject\n"
                  f"        resources: {bucket}/in/x.csv\n        context: {{s3:x-amz-acl: bucket-owner-full-control}}\n")
    (o,) = check(inv, m2).outcomes
    assert o.decision.result == "allow"
    # a queue in another account whose policy is not in the code: unknown, not denied
    m3 = manifest(f"principals:\n  - principal: worker\n    needs:\n      - actions: sqs:SendMessage\n"
                  f"        resources: arn:aws:sqs:eu-west-1:{other}:q\n")
    worker2 = role("worker", {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})
    (o,) = check(Inventory(principals=(worker2,)), m3).outcomes
    assert o.decision.result == "unknown" and other in o.note


def test_two_principals_with_one_name_is_a_manifest_error():
    a, b = role("worker"), role("worker")
    report = check(Inventory(principals=(a, b)), manifest("principals:\n  - principal: worker\n    needs:\n"
                                                           "      - actions: s3:GetObject\n"))
    (f,) = [f for f in report.findings if f.kind == "manifest-error"]
    assert "matches 2 principals" in f.message


def test_external_principal_from_policy_files():
    deploy = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"}]}, "deploy-role", "identity")
    m = manifest("principals:\n  - principal: arn:aws:iam::111122223333:role/ci-deploy\n"
                 "    policies: [ci/deploy-role.json]\n    needs:\n"
                 "      - actions: [cloudformation:CreateStack, iam:CreateRole]\n")
    got = results(check(Inventory(), m, files={"ci/deploy-role.json": (deploy,)}))
    assert got == {("cloudformation:CreateStack", "*"): "allow", ("iam:CreateRole", "*"): "implicit_deny"}


def test_check_reads_account_export_end_to_end():
    export = {"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [{
        "RoleName": "app", "Arn": f"arn:aws:iam::{ACCOUNT}:role/app", "Path": "/",
        "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "dynamodb:GetItem",
             "Resource": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders"}]}}],
        "AttachedManagedPolicies": [], "Tags": [{"Key": "team", "Value": "orders"}]}]}
    inv = read("export.json", json.dumps(export, indent=1))
    m = manifest("principals:\n  - principal: app\n    needs:\n      - actions: [dynamodb:GetItem, dynamodb:Query]\n"
                 "        resources: arn:aws:dynamodb:eu-west-1:111122223333:table/orders\n")
    report = check(inv, m)
    (f,) = [f for f in report.findings if f.kind == "missing-permission"]
    assert f.action == "dynamodb:Query" and f.decision.result == "implicit_deny"
    assert f.location.file == "export.json"


def test_an_action_that_takes_no_resource_is_required_on_star_and_the_arn_statement_is_named():
    pipelines = f"arn:aws:codepipeline:eu-west-1:{ACCOUNT}:*"
    inv = Inventory(principals=(role("deployer", {"Sid": "Pipelines", "Effect": "Allow",
                                                  "Action": ["codepipeline:ListPipelines", "codepipeline:GetPipeline"],
                                                  "Resource": pipelines}),))
    m = manifest("principals:\n  - principal: deployer\n    needs:\n"
                 "      - actions: [codepipeline:ListPipelines, codepipeline:GetPipeline]\n"
                 f"        resources: ['{pipelines}', 'arn:aws:codepipeline:eu-west-1:{ACCOUNT}:orders']\n")
    report = check(inv, m)
    # ListPipelines is authorized against "*" whatever the manifest names: one requirement, on "*"
    assert results(report) == {("codepipeline:ListPipelines", "*"): "implicit_deny",
                               ("codepipeline:GetPipeline", pipelines): "allow",
                               ("codepipeline:GetPipeline", f"arn:aws:codepipeline:eu-west-1:{ACCOUNT}:orders"): "allow"}
    (f,) = [f for f in report.findings if f.kind == "missing-permission"]
    assert f.message == (f'codepipeline:ListPipelines on *: implicit deny (identity) — codepipeline:ListPipelines '
                         f'takes no resource: AWS authorizes it against "*", not {pipelines}')
    assert f.details[1] == 'codepipeline:ListPipelines takes no resource: AWS authorizes it against "*" only'
    assert f.details[-1] == (f"nearest: Pipelines (infra.json:10) allows codepipeline:ListPipelines on {pipelines}, "
                             'not on "*": use "Resource": "*" for it')
    # written as "*" in the manifest: the same requirement, without the note
    m = manifest("principals:\n  - principal: deployer\n    needs:\n      - actions: codepipeline:ListPipelines\n")
    (o,) = check(inv, m).outcomes
    assert (o.requirement.resource, o.decision.result, o.note) == ("*", "implicit_deny", "")
    star = Inventory(principals=(role("deployer", {"Effect": "Allow", "Action": "codepipeline:List*",
                                                   "Resource": "*"}),))
    m = manifest("principals:\n  - principal: deployer\n    needs:\n      - actions: codepipeline:ListPipelines\n"
                 f"        resources: '{pipelines}'\n")
    assert results(check(star, m)) == {("codepipeline:ListPipelines", "*"): "allow"}



def test_an_ambiguous_selector_names_the_selector_that_picks_each_principal(tree, capsys):
    # two stacks define the same logical ID, in templates named for their stacks (not generic names)
    from ..cli import run
    from iamgate.model import selector_for
    from iamgate.sources import ReadOptions, read_inventory
    body = ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Worker:\n    Type: AWS::IAM::Role\n"
            "    Properties:\n      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}\n"
            "      Policies:\n        - PolicyName: p\n          PolicyDocument: {Version: '2012-10-17', Statement: "
            "[{Effect: Allow, Action: 'sqs:SendMessage', Resource: '%s'}]}\n")
    (tree / "stacks").mkdir()
    (tree / "stacks" / "orders.yaml").write_text(body % "*")
    (tree / "stacks" / "billing.yaml").write_text(body % "arn:aws:sqs:eu-west-1:111122223333:invoices")
    (tree / "iamgate.yaml").write_text("version: 1\nsettings: {account: '111122223333', region: eu-west-1}\n"
                                       "principals:\n  - principal: Worker\n    needs:\n"
                                       "      - {actions: sqs:SendMessage, resources: "
                                       "'arn:aws:sqs:eu-west-1:111122223333:jobs'}\n")
    rc, out, _ = run(capsys, "check", "stacks")
    assert rc == 2
    assert ('principal "Worker" matches 2 principals: Worker (stacks/billing.yaml:3), Worker '
            '(stacks/orders.yaml:3); select one with "stacks/billing.yaml:Worker" or "stacks/orders.yaml:Worker"') \
        in out
    # the suggested selector works, though it is not among the principal's listed names
    inv = read_inventory(["stacks"], ReadOptions(account=ACCOUNT))
    orders = next(p for p in inv.principals if p.location.file == "stacks/orders.yaml")
    assert "stacks/orders.yaml:Worker" not in orders.aliases
    assert find_principals(inv, "stacks/orders.yaml:Worker") == [orders]
    assert find_principals(inv, "./stacks/orders.yaml:Worker") == [orders]
    assert find_principals(inv, "stacks/orders.yaml:Nobody") == []
    assert selector_for(inv, orders) == "stacks/orders.yaml:Worker"
    (tree / "iamgate.yaml").write_text((tree / "iamgate.yaml").read_text().replace(
        "principal: Worker", "principal: stacks/orders.yaml:Worker"))
    rc, out, err = run(capsys, "check", "stacks")
    assert rc == 0, out + err
    assert "1 of 1 requirements met" in out


def test_the_selector_for_a_principal_is_its_id_when_that_is_unique():
    from iamgate.model import selector_for
    a, b = role("worker"), role("reader")
    inv = Inventory(principals=(a, b))
    assert selector_for(inv, a) == "worker"
    # the same name twice, and nothing else tells them apart: no selector
    twin = Inventory(principals=(a, role("worker")))
    assert selector_for(twin, a) is None


def test_an_allowed_request_keeps_no_near_miss_unless_the_account_check_reads_them():
    """An allowed request's near misses explain nothing and are not kept, not even made; but with
    the stand-in account a near-missed statement naming another account could apply in the real
    one, and the decision is unknown (``account_checked``), as it was when every one was made."""
    from iamgate.model import ASSUMED_ACCOUNT
    read_it = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders/*"}
    guard = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders/*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": "444455556666"}}}
    needs = "principals:\n  - principal: worker\n    needs:\n      - actions: s3:GetObject\n" \
            "        resources: arn:aws:s3:::orders/a.pdf\n"
    real = Inventory(principals=(role("worker", read_it, guard),))
    (outcome,) = check(real, manifest(needs)).outcomes
    assert outcome.decision.result == "allow" and outcome.decision.near_misses() == ()
    assert [t.outcome for t in outcome.decision.trace] == ["applied"]
    arn = f"arn:aws:iam::{ASSUMED_ACCOUNT}:role/worker"
    stand_in = Inventory(principals=(Principal(id="worker", type="role", arn=arn, account=ASSUMED_ACCOUNT,
                                               identity_policies=real.principals[0].identity_policies,
                                               location=Location("infra.json", 5), aliases=("worker", arn)),))
    (outcome,) = check(stand_in, load_manifest("iamgate.yaml", "version: 1\n" + needs)).outcomes
    assert outcome.decision.result == "unknown" and "names account 444455556666" in outcome.note
