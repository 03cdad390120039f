"""Realistic AccessDenied inputs and the shipped account-export example read as ``iamgate explain``
reads it, shared by the tests of the parser (sources/test_denials.py), the judge
(findings/test_explain.py) and the renderer (report/test_explain_render.py)."""
import os
import shutil

from iamgate.findings.explain import explain
from iamgate.manifest import load_manifest
from iamgate.pipeline import scope_from
from iamgate.sources import read_inventory, read_policy_files
from iamgate.sources import options_from
from iamgate.sources.denials import parse_message

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "account-export")
ACCT = "111122223333"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/orders-worker/task-1"
OBJECT = f"arn:aws:s3:::orders-prod-{ACCT}/invoices/x"
QUEUE = f"arn:aws:sqs:eu-west-1:{ACCT}:order-jobs"
QUEUE_URL = f"https://sqs.eu-west-1.amazonaws.com/{ACCT}/order-jobs"


def cloudtrail_event(**extra):
    event = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLEWORKER01:task-1", "arn": SESSION,
                         "accountId": ACCT, "sessionContext": {
                             "sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCT}:role/orders-worker",
                                               "userName": "orders-worker"},
                             "attributes": {"mfaAuthenticated": "false"}}},
        "eventSource": "s3.amazonaws.com", "eventName": "PutObject", "awsRegion": "eu-west-1",
        "sourceIPAddress": "10.0.1.17", "errorCode": "AccessDenied", "errorMessage": "Access Denied",
        "requestParameters": {"bucketName": f"orders-prod-{ACCT}", "key": "invoices/x"},
        "resources": [{"type": "AWS::S3::Object", "ARN": OBJECT},
                      {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::orders-prod-{ACCT}"}],
        "vpcEndpointId": "vpce-0a1b2c3d", "recipientAccountId": ACCT,
    }
    event.update(extra)
    return event


def decoded(region="us-east-1", resource=f"arn:aws:sqs:us-east-1:{ACCT}:order-jobs", explicit=True):
    return {"allowed": False, "explicitDeny": explicit,
            "matchedStatements": {"items": [{"statementId": "DenyOutsideEU", "effect": "DENY",
                                             "principals": {"items": [{"value": "AROAEXAMPLEWORKER01"}]},
                                             "actions": {"items": [{"value": "*"}]},
                                             "resources": {"items": [{"value": "*"}]}}]},
            "failures": {"items": []},
            "context": {"principal": {"id": "AROAEXAMPLEWORKER01:task-1", "arn": SESSION},
                        "action": "sqs:ReceiveMessage", "resource": resource,
                        "conditions": {"items": [
                            {"key": "aws:RequestedRegion", "values": {"items": [{"value": region}]}},
                            {"key": "aws:PrincipalTag/team", "values": {"items": [{"value": "orders"}]}},
                            {"key": "sqs:MessageAttributeNames", "values": {"items": [{"value": "a"},
                                                                                     {"value": "b"}]}}]}}}


def account_export(tmp_path_factory):
    """The example as explain sees it: (inventory, manifest, guardrail files), read from a copy."""
    root = tmp_path_factory.mktemp("explain") / "acct"
    shutil.copytree(EXAMPLE, root)
    path = str(root / "iamgate.yaml")
    with open(path, encoding="utf-8") as fh:
        manifest = load_manifest(path, fh.read())
    inventory = read_inventory([str(root)], options_from(manifest.settings, manifest.resolve))
    kinds = {manifest.resolve(f): "scp" for f in manifest.scp}
    files, problems = read_policy_files(list(kinds), kinds)
    assert not problems and len(files) == 2
    return inventory, manifest, files


def run(code, message):
    inventory, manifest, files = code
    return explain(scope_from(inventory, manifest, files), parse_message(message))
