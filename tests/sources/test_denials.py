"""AccessDenied messages: every form AWS produces (the message with its CLI and SDK wrappings, a
CloudTrail event, an encoded or decoded authorization message), parsed by sources/denials.py."""
import json

import pytest

from iamgate.sources.denials import EncodedMessage, ParsedDenial, parse_message

from ..explain_samples import ACCT, OBJECT, QUEUE, QUEUE_URL, SESSION, cloudtrail_event, decoded

FIELDS = ("caller_arn", "caller_kind", "role_name", "session_name", "user_name", "account", "action", "resource",
          "denial", "policy_type")


def fields(p):
    assert isinstance(p, ParsedDenial), p
    return {k: getattr(p, k) for k in FIELDS}


def session(action, resource, denial, policy_type, account=ACCT, role="orders-worker", name="task-1"):
    return {"caller_arn": f"arn:aws:sts::{account}:assumed-role/{role}/{name}", "caller_kind": "assumed-role",
            "role_name": role, "session_name": name, "user_name": None, "account": account, "action": action,
            "resource": resource, "denial": denial, "policy_type": policy_type}


def user(name, action, resource, denial, policy_type, account=ACCT):
    return {"caller_arn": f"arn:aws:iam::{account}:user/{name}", "caller_kind": "user", "role_name": None,
            "session_name": None, "user_name": name, "account": account, "action": action, "resource": resource,
            "denial": denial, "policy_type": policy_type}


# ============================================================================ implicit denies


def test_implicit_identity_based_policy():
    p = parse_message(f'User: {SESSION} is not authorized to perform: s3:PutObject on resource: "{OBJECT}" '
                      "because no identity-based policy allows the s3:PutObject action")
    assert fields(p) == session("s3:PutObject", OBJECT, "implicit", "identity")
    assert (p.policy_arn, p.operation, p.error_code, p.encoded_message, p.source) == (None, None, None, None, "message")


def test_implicit_resource_based_policy():
    p = parse_message(f"User: {SESSION} is not authorized to perform: s3:GetObject on resource: "
                      '"arn:aws:s3:::shared-444455556666/k" because no resource-based policy allows the '
                      "s3:GetObject action")
    assert fields(p) == session("s3:GetObject", "arn:aws:s3:::shared-444455556666/k", "implicit", "resource")


def test_implicit_permissions_boundary():
    p = parse_message(f"User: arn:aws:iam::{ACCT}:user/maria is not authorized to perform: iam:CreateRole on "
                      f"resource: arn:aws:iam::{ACCT}:role/x because no permissions boundary allows the "
                      "iam:CreateRole action")
    assert fields(p) == user("maria", "iam:CreateRole", f"arn:aws:iam::{ACCT}:role/x", "implicit", "boundary")


def test_implicit_session_policy():
    p = parse_message(f"User: {SESSION} is not authorized to perform: dynamodb:PutItem on resource: "
                      f"arn:aws:dynamodb:eu-west-1:{ACCT}:table/orders because no session policy allows the "
                      "dynamodb:PutItem action")
    assert fields(p) == session("dynamodb:PutItem", f"arn:aws:dynamodb:eu-west-1:{ACCT}:table/orders",
                                "implicit", "session")


def test_implicit_service_control_policy():
    p = parse_message("User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform: "
                      "codecommit:ListRepositories because no service control policy allows the "
                      "codecommit:ListRepositories action")
    assert fields(p) == user("MaryMajor", "codecommit:ListRepositories", None, "implicit", "scp", "777788889999")


def test_implicit_vpc_endpoint_policy():
    p = parse_message(f'User: {SESSION} is not authorized to perform: s3:GetObject on resource: "{OBJECT}" '
                      "because no VPC endpoint policy allows the s3:GetObject action")
    assert fields(p) == session("s3:GetObject", OBJECT, "implicit", "vpc_endpoint")


# ============================================================================ explicit denies


@pytest.mark.parametrize("words, kind", [
    ("an identity-based policy", "identity"),
    ("a resource-based policy", "resource"),
    ("a permissions boundary", "boundary"),
    ("a session policy", "session"),
    ("a service control policy", "scp"),
    ("a resource control policy", "rcp"),
    ("a VPC endpoint policy", "vpc_endpoint"),
])
def test_explicit_deny_in_each_policy_type(words, kind):
    p = parse_message(f"User: {SESSION} is not authorized to perform: sqs:ReceiveMessage on resource: {QUEUE} "
                      f"with an explicit deny in {words}")
    assert fields(p) == session("sqs:ReceiveMessage", QUEUE, "explicit", kind)
    assert p.policy_arn is None


def test_explicit_deny_naming_the_policy_arn():
    scp = "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd"
    p = parse_message("An error occurred (AccessDenied) when calling the ListRoles operation: User: "
                      "arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: "
                      f"arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy: {scp}")
    assert fields(p) == user("Matt", "iam:ListRoles", "arn:aws:iam::123456789012:role/*", "explicit", "scp",
                             "123456789012")
    assert (p.policy_arn, p.operation, p.error_code) == (scp, "ListRoles", "AccessDenied")
    boundary = parse_message(f"User: {SESSION} is not authorized to perform: s3:PutObject on resource: "
                             f'"{OBJECT}" with an explicit deny in a permissions boundary: '
                             f"arn:aws:iam::{ACCT}:policy/workload-boundary.")
    assert boundary.policy_type == "boundary" and boundary.policy_arn == f"arn:aws:iam::{ACCT}:policy/workload-boundary"


# ============================================================================ role trust policy (sts:AssumeRole)


def test_assume_role_without_reason():
    p = parse_message("An error occurred (AccessDenied) when calling the AssumeRole operation: User: "
                      f"arn:aws:iam::{ACCT}:user/ci is not authorized to perform: sts:AssumeRole on resource: "
                      f"arn:aws:iam::{ACCT}:role/orders-worker")
    assert fields(p) == user("ci", "sts:AssumeRole", f"arn:aws:iam::{ACCT}:role/orders-worker", None, None)
    assert (p.operation, p.error_code) == ("AssumeRole", "AccessDenied")


def test_assume_role_from_a_session_with_resource_based_reason():
    p = parse_message(f"User: arn:aws:sts::{ACCT}:assumed-role/Karpenter-Handler/i-084d38 is not authorized to "
                      f"perform: sts:AssumeRole on resource: arn:aws:iam::{ACCT}:role/EksAdminRole because no "
                      "resource-based policy allows the sts:AssumeRole action")
    assert fields(p) == session("sts:AssumeRole", f"arn:aws:iam::{ACCT}:role/EksAdminRole", "implicit", "resource",
                                role="Karpenter-Handler", name="i-084d38")


def test_assume_role_with_web_identity_names_no_caller():
    p = parse_message("An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: "
                      "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    assert fields(p) == {"caller_arn": None, "caller_kind": None, "role_name": None, "session_name": None,
                         "user_name": None, "account": None, "action": "sts:AssumeRoleWithWebIdentity",
                         "resource": None, "denial": None, "policy_type": None}


# ============================================================================ wrappings and variations


def test_s3_quoted_resource_with_trailing_period():
    p = parse_message('User: arn:aws:iam::123456789012:user/deploy-bot is not authorized to perform: '
                      's3:GetObject on resource: "arn:aws:s3:::my-prod-bucket/config json.txt" because no '
                      "identity-based policy allows the s3:GetObject action.")
    assert fields(p) == user("deploy-bot", "s3:GetObject", "arn:aws:s3:::my-prod-bucket/config json.txt",
                             "implicit", "identity", "123456789012")


def test_no_on_resource():
    p = parse_message(f"User: arn:aws:iam::{ACCT}:user/maria is not authorized to perform: iam:ListRoles "
                      "with an explicit deny in an identity-based policy")
    assert fields(p) == user("maria", "iam:ListRoles", None, "explicit", "identity")


def test_cli_prefix_with_retries_and_lowercase_sqs_action():
    p = parse_message("An error occurred (AccessDenied) when calling the ReceiveMessage operation (reached max "
                      f"retries: 4): User: {SESSION} is not authorized to perform: sqs:receivemessage on resource: "
                      f"{QUEUE} because no identity-based policy allows the sqs:receivemessage action")
    assert fields(p) == session("sqs:ReceiveMessage", QUEUE, "implicit", "identity")  # canonical spelling
    assert (p.operation, p.error_code) == ("ReceiveMessage", "AccessDenied")


def test_java_sdk_tail():
    p = parse_message(f'User: {SESSION} is not authorized to perform: s3:GetObject on resource: "{OBJECT}" because '
                      "no VPC endpoint policy allows the s3:GetObject action (Service: Amazon S3; Status Code: 403; "
                      "Error Code: AccessDenied; Request ID: 4Q7YHZ8M; S3 Extended Request ID: abc=; Proxy: null)")
    assert fields(p) == session("s3:GetObject", OBJECT, "implicit", "vpc_endpoint")
    assert p.error_code == "AccessDenied"


def test_go_sdk_forms_and_terraform_margins():
    v1 = parse_message(f"AccessDeniedException: User: {SESSION} is not authorized to perform: kms:Decrypt on "
                       f"resource: arn:aws:kms:eu-west-1:{ACCT}:key/1234 because no identity-based policy allows "
                       "the kms:Decrypt action\n\tstatus code: 400, request id: 01b4ba14-9af0")
    assert fields(v1) == session("kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCT}:key/1234", "implicit", "identity")
    assert v1.error_code == "AccessDeniedException"
    tf = parse_message("│ Error: putting object: operation error S3: PutObject, https response error StatusCode: "
                       f"403, RequestID: X, HostID: Y, api error AccessDenied: User: {SESSION} is not authorized\n"
                       f'│ to perform: s3:PutObject on resource: "{OBJECT}" because no identity-based policy\n'
                       "│ allows the s3:PutObject action\n│ ")
    assert fields(tf) == session("s3:PutObject", OBJECT, "implicit", "identity")
    assert (tf.operation, tf.error_code) == ("PutObject", "AccessDenied")


def test_kms_lambda_dynamodb_variations():
    kms = parse_message(f"An error occurred (AccessDeniedException) when calling the Decrypt operation: User: "
                        f"{SESSION} is not authorized to perform: kms:Decrypt on the resource associated with this "
                        "ciphertext because the resource does not exist in this Region, no resource-based policies "
                        "allow access, or a resource-based policy explicitly denies access")
    assert fields(kms) == session("kms:Decrypt", None, None, "resource")
    fn = f"arn:aws:lambda:eu-west-1:{ACCT}:function:orders"
    lam = parse_message(f"User: {SESSION} is not authorized to perform: lambda:invokefunction on resource: {fn} "
                        "because no resource-based policy allows the lambda:InvokeFunction action")
    assert fields(lam) == session("lambda:InvokeFunction", fn, "implicit", "resource")
    role = parse_message("The provided execution role does not have permissions to call ReceiveMessage on SQS")
    assert (role.caller_arn, role.action, role.resource) == (None, "sqs:ReceiveMessage", None)
    table = f"arn:aws:dynamodb:eu-west-1:{ACCT}:table/orders"
    ddb = parse_message(f"An error occurred (AccessDeniedException) when calling the GetItem operation: User: "
                        f"{SESSION} is not authorized to perform: dynamodb:GetItem on resource: {table} with an "
                        "explicit deny in an identity-based policy")
    assert fields(ddb) == session("dynamodb:GetItem", table, "explicit", "identity")


def test_xml_error_body_and_sdk_json_error():
    xml = parse_message("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
                        f"{SESSION} is not authorized to perform: sts:AssumeRole on resource: "
                        f"arn:aws:iam::444455556666:role/SecurityMonkey</Message></Error></ErrorResponse>")
    assert fields(xml) == session("sts:AssumeRole", "arn:aws:iam::444455556666:role/SecurityMonkey", None, None)
    assert xml.error_code == "AccessDenied"
    body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException",
                       "message": f"User: {SESSION} is not authorized to perform: dynamodb:Query on resource: "
                                  f"arn:aws:dynamodb:eu-west-1:{ACCT}:table/t"})
    assert parse_message(body).error_code == "AccessDeniedException"


def test_caller_kinds():
    def kind(caller):
        return parse_message(f"User: {caller} is not authorized to perform: s3:ListBucket on resource: "
                             "arn:aws:s3:::b").caller_kind
    assert kind(f"arn:aws:sts::{ACCT}:federated-user/Bob") == "federated-user"
    assert kind(f"arn:aws:iam::{ACCT}:root") == "root"
    assert kind(f"arn:aws:iam::{ACCT}:role/path/x") == "role"
    assert kind("anonymous") == "anonymous"
    fed = parse_message(f"User: arn:aws:sts::{ACCT}:federated-user/Bob is not authorized to perform: s3:ListBucket")
    assert (fed.user_name, fed.account) == ("Bob", ACCT)


# ============================================================================ old forms


def test_old_form_without_because():
    p = parse_message(f"User: arn:aws:iam::{ACCT}:user/maria is not authorized to perform: s3:PutObject on "
                      f"resource: {OBJECT}")
    assert fields(p) == user("maria", "s3:PutObject", OBJECT, None, None)


def test_old_form_explicit_deny_without_policy_type():
    p = parse_message(f"User: arn:aws:iam::{ACCT}:user/tester is not authorized to perform: ec2:RunInstances on "
                      f"resource: arn:aws:ec2:eu-west-1:{ACCT}:instance/* with an explicit deny")
    assert fields(p) == user("tester", "ec2:RunInstances", f"arn:aws:ec2:eu-west-1:{ACCT}:instance/*",
                             "explicit", None)


def test_access_denied_without_details_and_non_messages():
    p = parse_message("An error occurred (AccessDenied) when calling the PutObject operation: Access Denied")
    assert (p.caller_arn, p.action, p.operation, p.error_code) == (None, None, "PutObject", "AccessDenied")
    assert parse_message("Everything is fine") is None
    assert parse_message('{"hello": "world"}') is None


# ============================================================================ CloudTrail, encoded, decoded


def test_cloudtrail_event_fills_the_action_and_resource_from_the_event():
    p = parse_message(json.dumps(cloudtrail_event(), indent=2))
    assert fields(p) == session("s3:PutObject", OBJECT, None, None)
    assert (p.source, p.error_code, p.operation) == ("cloudtrail", "AccessDenied", "PutObject")
    assert dict(p.context) == {"aws:RequestedRegion": "eu-west-1", "aws:SourceVpce": "vpce-0a1b2c3d",
                               "aws:SourceIp": "10.0.1.17", "aws:userid": "AROAEXAMPLEWORKER01:task-1",
                               "aws:MultiFactorAuthPresent": "false"}


def test_cloudtrail_error_message_gives_the_reason_and_records_are_searched():
    event = cloudtrail_event(eventSource="sqs.amazonaws.com", eventName="ReceiveMessage", resources=[],
                             requestParameters={"queueUrl": QUEUE_URL},
                             errorCode="AccessDenied",
                             errorMessage=f"User: {SESSION} is not authorized to perform: sqs:receivemessage on "
                                          f"resource: {QUEUE} with an explicit deny in a service control policy")
    allowed = cloudtrail_event(errorCode=None, errorMessage=None)
    p = parse_message(json.dumps({"Records": [allowed, event]}))
    assert fields(p) == session("sqs:ReceiveMessage", QUEUE, "explicit", "scp")
    no_message = cloudtrail_event(eventSource="sqs.amazonaws.com", eventName="ReceiveMessage", resources=[],
                                  errorMessage=None,
                                  requestParameters={"queueUrl": QUEUE_URL})
    assert fields(parse_message(json.dumps(no_message))) == session("sqs:ReceiveMessage", QUEUE, None, None)
    assert parse_message(json.dumps(allowed)) is None  # AWS allowed it: nothing to explain


def test_encoded_authorization_message():
    e = parse_message("An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are "
                      "not authorized to perform this operation. Encoded authorization failure message: "
                      "XQ_jqde5rHje6j9P-qke7-HNpHWzSWvxYob")
    assert isinstance(e, EncodedMessage)
    assert (e.blob, e.operation, e.error_code) == ("XQ_jqde5rHje6j9P-qke7-HNpHWzSWvxYob", "RunInstances",
                                                   "UnauthorizedOperation")
    assert e.command == ("aws sts decode-authorization-message --encoded-message XQ_jqde5rHje6j9P-qke7-HNpHWzSWvxYob "
                         "--query DecodedMessage --output text")
    both = parse_message(f"User: {SESSION} is not authorized to perform: ec2:RunInstances on resource: "
                         f"arn:aws:ec2:eu-west-1:{ACCT}:instance/* with an explicit deny in a service control policy. "
                         "Encoded authorization failure message: AbC-123_x")
    assert fields(both) == session("ec2:RunInstances", f"arn:aws:ec2:eu-west-1:{ACCT}:instance/*", "explicit", "scp")
    assert both.encoded_message == "AbC-123_x"


def test_decoded_authorization_message():
    p = parse_message(json.dumps(decoded()))
    assert fields(p) == session("sqs:ReceiveMessage", f"arn:aws:sqs:us-east-1:{ACCT}:order-jobs", "explicit", None)
    assert p.statements == ("DenyOutsideEU",) and p.source == "decoded"
    assert dict(p.context) == {"aws:RequestedRegion": "us-east-1", "aws:PrincipalTag/team": "orders",
                               "sqs:MessageAttributeNames": ("a", "b"), "aws:userid": "AROAEXAMPLEWORKER01:task-1"}
    # the CLI's own output, without --query DecodedMessage --output text
    wrapped = parse_message(json.dumps({"DecodedMessage": json.dumps(decoded(explicit=False))}))
    assert wrapped.denial == "implicit" and wrapped.caller_arn == SESSION
