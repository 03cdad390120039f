"""iamgate explain: AccessDenied messages judged against the shipped account-export example
(orders-worker, maria, two SCP levels). The message forms themselves: tests/sources/test_denials.py."""
import json

import pytest

from iamgate.findings.explain import exit_code, explain
from iamgate.pipeline import scope_from
from iamgate.report.explain import render_json, render_text
from iamgate.sources.denials import parse_message

from ..explain_samples import (ACCT, OBJECT, QUEUE, QUEUE_URL, SESSION, account_export, cloudtrail_event, decoded,
                               run)

@pytest.fixture(scope="module")
def code(tmp_path_factory):
    return account_export(tmp_path_factory)


def test_the_code_agrees_and_names_the_nearest_statement(code):
    e = run(code, f'User: {SESSION} is not authorized to perform: s3:PutObject on resource: "{OBJECT}" because no '
                  "identity-based policy allows the s3:PutObject action")
    assert e.conclusion == "agrees" and e.decision.result == "implicit_deny"
    assert e.selector == "orders-worker" and e.principal.arn == f"arn:aws:iam::{ACCT}:role/orders-worker"
    assert e.cause[0] == "implicit deny: no identity-based policy allows s3:PutObject"
    assert e.cause[1].startswith("nearest: ReadOrders (") and "account-authorization-details.json:50" in e.cause[1]
    assert exit_code(e) == 1
    text = render_text(e)
    assert "THE CODE AGREES" in text and "nearest: ReadOrders" in text and "policies considered:" in text


def test_assumed_role_session_is_mapped_to_the_role(code):
    e = run(code, f"User: {SESSION} is not authorized to perform: sqs:ReceiveMessage on resource: {QUEUE}")
    assert (e.selector, e.principal.id) == ("orders-worker", "orders-worker")
    assert e.context["aws:PrincipalArn"] == f"arn:aws:iam::{ACCT}:role/orders-worker"
    assert e.context["aws:userid"].endswith(":task-1")  # the session name from the message
    other_account = run(code, "User: arn:aws:sts::444455556666:assumed-role/orders-worker/x is not authorized to "
                              f"perform: sqs:ReceiveMessage on resource: {QUEUE}")
    assert other_account.conclusion == "not-found"


def test_the_code_allows_it_so_the_deployed_policy_differs(code):
    e = run(code, f"User: {SESSION} is not authorized to perform: sqs:ReceiveMessage on resource: {QUEUE} because "
                  "no identity-based policy allows the sqs:ReceiveMessage action")
    assert e.conclusion == "code-allows" and e.decision.result == "allow"
    assert "deployed policies differ from the code" in e.summary and "outside the repository" in e.summary
    assert any(c.startswith("allowed by: ConsumeJobs (") for c in e.cause)
    assert any("aws iam list-role-policies --role-name orders-worker" in a for a in e.advice)
    assert exit_code(e) == 0


def test_an_scp_deny_the_code_does_not_have_points_at_the_guardrails(code):
    e = run(code, f"User: {SESSION} is not authorized to perform: sqs:ReceiveMessage on resource: {QUEUE} with an "
                  "explicit deny in a service control policy: "
                  "arn:aws:organizations::999988887777:policy/o-abc/service_control_policy/p-2kgnabcd")
    assert e.conclusion == "code-allows"
    assert "org/root.json, org/workloads-ou.json" in e.advice[0]
    assert f"aws organizations list-policies-for-target --target-id {ACCT} --filter SERVICE_CONTROL_POLICY" \
        in e.advice[0]
    assert "aws organizations describe-policy --policy-id p-2kgnabcd" in e.advice[1]


def test_an_rcp_deny_when_the_code_has_no_rcps(code):
    e = run(code, f"User: {SESSION} is not authorized to perform: sqs:ReceiveMessage on resource: {QUEUE} with an "
                  "explicit deny in a resource control policy")
    assert e.conclusion == "code-allows"
    assert "no RCPs (none are in the scanned files)" in e.advice[0] and "RESOURCE_CONTROL_POLICY" in e.advice[0]
    assert any("guardrails.rcp" in a for a in e.advice)


def test_session_and_vpc_endpoint_denies_come_from_outside_the_code(code):
    sess = run(code, f"User: {SESSION} is not authorized to perform: sqs:ReceiveMessage on resource: {QUEUE} "
                     "because no session policy allows the sqs:ReceiveMessage action")
    assert sess.conclusion == "code-allows" and "session policy" in sess.advice[0] and "task-1" in sess.advice[0]
    event = cloudtrail_event(eventSource="sqs.amazonaws.com", eventName="ReceiveMessage", resources=[],
                             requestParameters={"queueUrl": QUEUE_URL},
                             errorMessage=f"User: {SESSION} is not authorized to perform: sqs:ReceiveMessage on "
                                          f"resource: {QUEUE} because no VPC endpoint policy allows the "
                                          "sqs:ReceiveMessage action")
    vpce = run(code, json.dumps(event))
    assert vpce.conclusion == "code-allows"
    assert "--vpc-endpoint-ids vpce-0a1b2c3d" in vpce.advice[0]


def test_the_code_denies_it_for_another_reason(code):
    e = run(code, f'User: {SESSION} is not authorized to perform: s3:PutObject on resource: "{OBJECT}" with an '
                  "explicit deny in a permissions boundary")
    assert e.conclusion == "agrees-other-cause"
    assert "no identity-based policy allows it" in e.summary and "explicit deny in a permissions boundary" in e.summary
    assert "workload-boundary" in e.advice[0]


def test_explicit_deny_the_code_has_too(code):
    e = run(code, f"User: arn:aws:iam::{ACCT}:user/maria is not authorized to perform: s3:GetObject on resource: "
                  f'"arn:aws:s3:::orders-prod-{ACCT}/secrets/db.txt" with an explicit deny in an identity-based policy')
    assert (e.conclusion, e.selector) == ("agrees", "maria")
    assert e.cause[0].startswith("explicit deny: NoSecrets (") and '"analyst-read" denies it' in e.cause[0]


def test_an_unknown_caller_lists_the_principals(code):
    e = run(code, f"User: arn:aws:iam::{ACCT}:user/bob is not authorized to perform: s3:GetObject on resource: "
                  f'"{OBJECT}" because no identity-based policy allows the s3:GetObject action')
    assert e.conclusion == "not-found" and "user/bob" in e.summary
    assert e.principals == (f"maria (user, arn:aws:iam::{ACCT}:user/maria)",
                            f"orders-worker (role, arn:aws:iam::{ACCT}:role/orders-worker)")
    assert exit_code(e) == 2
    fed = run(code, f"User: arn:aws:sts::{ACCT}:federated-user/orders-worker is not authorized to perform: "
                    f"s3:GetObject on resource: {OBJECT}")
    assert fed.conclusion == "not-found" and "GetFederationToken" in fed.summary


def test_trust_policy_of_a_role_in_the_code_judges_an_outside_caller(code):
    e = run(code, "An error occurred (AccessDenied) when calling the AssumeRole operation: User: "
                  f"arn:aws:iam::{ACCT}:user/ci is not authorized to perform: sts:AssumeRole on resource: "
                  f"arn:aws:iam::{ACCT}:role/orders-worker")
    assert e.conclusion == "agrees" and e.decision.blocked_by == ("trust",) and not e.caller_in_code
    assert "trust policy" in e.summary
    assert "the trust policy of" in render_text(e)


def test_decoded_message_is_decided_with_its_request_context(code):
    e = run(code, json.dumps(decoded()))
    assert e.conclusion == "agrees" and e.decision.result == "explicit_deny" and "scp" in e.decision.blocked_by
    assert e.context["aws:RequestedRegion"] == "us-east-1"
    assert any(c.startswith("AWS matched statement DenyOutsideEU: ") and "workloads-ou.json:10" in c
               for c in e.cause)


def test_cloudtrail_event_is_explained(code):
    e = run(code, json.dumps(cloudtrail_event()))
    assert (e.conclusion, e.selector, e.action, e.resource) == ("agrees", "orders-worker", "s3:PutObject", OBJECT)
    assert e.context["aws:SourceVpce"] == "vpce-0a1b2c3d"
    assert e.context["aws:userid"] == "AROAEXAMPLEWORKER01:task-1"  # the event's, not a made-up one


def test_encoded_incomplete_and_unrecognised_messages(code):
    enc = run(code, "Encoded authorization failure message: AbC-123_x")
    assert enc.conclusion == "encoded" and "sts:DecodeAuthorizationMessage" in enc.summary
    assert enc.advice[0] == ("`aws sts decode-authorization-message --encoded-message AbC-123_x --query "
                             "DecodedMessage --output text`")
    bare = run(code, "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied")
    assert bare.conclusion == "incomplete" and "AttributeValue=PutObject" in bare.advice[0]
    assert run(code, "hello").conclusion == "unparsed"
    assert {exit_code(x) for x in (enc, bare)} == {2}


def test_an_explanation_the_code_agrees_with_carries_the_fix(code):
    inventory, manifest, files = code
    message = (f'User: {SESSION} is not authorized to perform: s3:PutObject on resource: "{OBJECT}" because no '
               "identity-based policy allows the s3:PutObject action")

    def read_text(path):
        try:
            return open(path, encoding="utf-8").read()
        except OSError:
            return None
    e = explain(scope_from(inventory, manifest, files), parse_message(message), read_text)
    assert e.conclusion == "agrees"
    # the policy lives in an account export: the fix says where to add the statement, with no edit
    assert e.fix is not None and e.fix.edits == () and '"Action": "s3:PutObject"' in e.fix.text
    assert "fix" in render_text(e) and json.loads(render_json(e))["fix"]["text"] == e.fix.text
    assert explain(scope_from(inventory, manifest, files), parse_message(message)).fix is None  # no file access, no fix


CFN = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: orders-worker
      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}
"""

TF = """resource "aws_iam_role" "reader" {
  name               = "orders-reader"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = []})
}
"""


@pytest.mark.parametrize("role, selector", [("orders-worker", "WorkerRole"), ("orders-reader", "aws_iam_role.reader")])
def test_the_caller_is_named_as_a_manifest_selects_it_with_its_arn(tree, capsys, role, selector):
    from ..cli import run as cli
    (tree / "stack.yaml").write_text(CFN)
    (tree / "main.tf").write_text(TF)
    (tree / "iamgate.yaml").write_text(f"version: 1\nsettings: {{account: '{ACCT}', region: eu-west-1}}\n")
    message = (f"User: arn:aws:sts::{ACCT}:assumed-role/{role}/s-1 is not authorized to perform: sqs:SendMessage "
               f"on resource: {QUEUE} because no identity-based policy allows the sqs:SendMessage action")
    arn = f"arn:aws:iam::{ACCT}:role/{role}"
    rc, out, err = cli(capsys, "explain", "--format", "json", message, ".")
    doc = json.loads(out)
    assert rc == 1, err
    assert (doc["conclusion"], doc["principal"], doc["arn"]) == ("agrees", selector, arn)
    rc, out, err = cli(capsys, "explain", message, ".")
    assert f"  in code:  {selector} ({arn})" in out
