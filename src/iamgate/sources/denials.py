"""AccessDenied messages, read: whatever a user pastes after a denied call, as the
:class:`~iamgate.model.ParsedDenial` it describes (or an :class:`~iamgate.model.EncodedMessage`
that still has to be decoded).

:func:`parse_message` reads the message itself, with the AWS CLI's ``An error occurred (…) when
calling the X operation:`` prefix, an SDK's tail (``(Service: Amazon S3; Status Code: 403; …)``,
``status code: 403, request id: …``), an XML error body, a CloudTrail event
(``errorMessage``/``errorCode``; a ``Records`` file or ``aws cloudtrail lookup-events`` output
gives its first denied event), an encoded authorization message, or the JSON
``aws sts decode-authorization-message`` returns. It returns None for text that is none of these.

The message forms follow the IAM User Guide ("Troubleshoot access denied error messages"):
``User: ARN is not authorized to perform: ACTION [on resource: RESOURCE] because no TYPE allows
the ACTION action`` for an implicit deny and ``… with an explicit deny in a(n) TYPE[: POLICY-ARN]``
for an explicit one; older messages stop after the resource (or say only ``with an explicit deny``).

An input reader like the others in ``sources/``: text in, data out, nothing read or decided here.
It imports the model and the catalog (the canonical spelling of actions) only. ``explain`` judges
what it returns against the code (``findings/explain.py``); :func:`action_from_event` and
:func:`resource_from_event` map any CloudTrail event, denied or not, to the IAM action and resource
it asked for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .. import catalog
from ..model import ContextValue, EncodedMessage, Parsed, ParsedDenial
from .bounds import loads

__all__ = ["Caller", "EncodedMessage", "Parsed", "ParsedDenial", "action_from_event", "parse_caller",
           "parse_message", "policy_type_of", "resource_from_event"]


# ----------------------------------------------------------------------------- policy types

_TYPE_PATTERNS: Tuple[Tuple[str, str], ...] = (
    (r"identity[- ]based polic(?:y|ies)", "identity"),
    (r"resource[- ]based polic(?:y|ies)", "resource"),
    (r"permissions? boundar(?:y|ies)(?: polic(?:y|ies))?", "boundary"),
    (r"session polic(?:y|ies)", "session"),
    (r"service control polic(?:y|ies)", "scp"),
    (r"resource control polic(?:y|ies)", "rcp"),
    (r"vpc endpoint polic(?:y|ies)", "vpc_endpoint"),
    (r"(?:role )?trust polic(?:y|ies)", "trust"),
)


def policy_type_of(words: str) -> Optional[str]:
    """``"a service control policy"`` -> ``"scp"``; None for words naming no known policy type."""
    text = words.strip().lower()
    for pattern, kind in _TYPE_PATTERNS:
        if re.search(pattern, text):
            return kind
    return None


# ----------------------------------------------------------------------------- callers


@dataclass(frozen=True)
class Caller:
    """The principal a message names, split into its parts (``kind`` as in ``ParsedDenial.caller_kind``)."""

    arn: Optional[str]
    kind: Optional[str]
    account: Optional[str] = None
    partition: Optional[str] = None
    role_name: Optional[str] = None
    session_name: Optional[str] = None
    user_name: Optional[str] = None


def parse_caller(text: Optional[str]) -> Caller:
    """The principal named by a message: an ARN, ``anonymous``, or a service principal."""
    if not text:
        return Caller(None, None)
    value = text.strip().strip("\"'`")
    if value.lower() == "anonymous" or value == "*":
        return Caller(value, "anonymous")
    if value.endswith(".amazonaws.com") or value.endswith(".amazonaws.com.cn"):
        return Caller(value, "service")
    m = re.fullmatch(r"arn:([^:]+):(iam|sts)::([^:]*):(.+)", value)
    if not m:
        return Caller(value, "unknown")
    partition, service, account, rest = m.groups()
    kind, _, tail = rest.partition("/")
    acct = account or None
    if service == "sts" and kind == "assumed-role":
        role, _, session = tail.partition("/")
        return Caller(value, "assumed-role", acct, partition, role_name=role or None, session_name=session or None)
    if service == "sts" and kind == "federated-user":
        return Caller(value, "federated-user", acct, partition, user_name=tail or None)
    if service == "iam" and kind == "user":
        return Caller(value, "user", acct, partition, user_name=tail.rsplit("/", 1)[-1] or None)
    if service == "iam" and kind == "role":
        return Caller(value, "role", acct, partition, role_name=tail.rsplit("/", 1)[-1] or None)
    if service == "iam" and rest == "root":
        return Caller(value, "root", acct, partition)
    return Caller(value, "unknown", acct, partition)


def _action(raw: Optional[str]) -> Optional[str]:
    if not raw:
        return None
    return catalog.canonical_action(raw) or raw


# ----------------------------------------------------------------------------- text messages

_ERROR_CODES = re.compile(r"\b(AccessDenied(?:Exception)?|UnauthorizedOperation|UnauthorizedAccess|"
                          r"AuthorizationError(?:Exception)?|AuthorizationFailure|KMSAccessDeniedException|"
                          r"Forbidden|NotAuthorized(?:Exception)?|AccessDeniedForDependencyException)\b")
_CLI_PREFIX = re.compile(r"An error occurred \((?P<code>[^)]*)\) when calling the (?P<op>\w+) operation"
                         r"(?: \([^)]*\))?:\s*")
_GO_PREFIX = re.compile(r"operation error (?P<svc>[^:,]+): (?P<op>\w+), .*?api error (?P<code>\w+):\s*")
_TAIL_CODE = re.compile(r"\(Service: [^)]*?Error Code: (?P<code>\w+)")
_ENCODED = re.compile(r"(?:\.\s*)?Encoded authorization failure message:\s*(?P<blob>[A-Za-z0-9_\-+/=]+)", re.I)
_CORE = re.compile(r"(?:(?:\bUser|\bPrincipal)\s*:\s*)?(?:(?P<caller>[^\s]+)\s+is\s+)?not authorized to perform"
                   r":?\s+(?P<action>[A-Za-z0-9-]+:[A-Za-z0-9*]+)", re.I)
_PHRASE = re.compile(r"not authorized to perform", re.I)
_CALLER_WINDOW = 1024  # the longest caller ARN looked for before "not authorized to perform"


def _core(body: str) -> Optional["re.Match[str]"]:
    """``_CORE``'s first match, looked for only around each "not authorized to perform": searched
    over a whole message, its ``[^\\s]+`` made a long run without spaces (32 KB: 12 s) quadratic."""
    for n, phrase in enumerate(_PHRASE.finditer(body)):
        if n == 16:  # a message says it once; a text that repeats it thousands of times is not one
            break
        m = _CORE.search(body, max(0, phrase.start() - _CALLER_WINDOW), phrase.end() + _CALLER_WINDOW)
        if m is not None:
            return m
    return None


_TAILS = re.compile(r"\s*\((?:Service|Request ?ID)\b|\s*,?\s*status code:\s*\d|\s+\(?request id:|"
                    r"\s*</Message>|\s+Unable to |\s+Traceback ", re.I)
_EXEC_ROLE = re.compile(r"execution role does not have permissions to call (?P<op>\w+) on (?P<svc>[\w ]+?)"
                        r"(?:\.|$|\s)", re.I)
_SERVICE_NAMES = {"amazon s3": "s3", "s3": "s3", "amazondynamodbv2": "dynamodb", "dynamodb": "dynamodb",
                  "amazonsqs": "sqs", "sqs": "sqs", "awskms": "kms", "kms": "kms", "awslambda": "lambda",
                  "lambda": "lambda", "ec2": "ec2", "amazonec2": "ec2", "awssecuritytokenservice": "sts",
                  "sts": "sts", "amazonsns": "sns", "sns": "sns", "kinesis": "kinesis",
                  "cloudwatch logs": "logs", "logs": "logs", "secrets manager": "secretsmanager"}


def _normalize(text: str) -> str:
    """One line: XML bodies unwrapped, Terraform's box-drawing margins and escaped newlines removed."""
    t = text.strip()
    m = re.search(r"<Message>(.*?)</Message>", t, re.S)
    if m:
        code = re.search(r"<Code>(.*?)</Code>", t, re.S)
        t = m.group(1) + (f" (Service: ; Error Code: {code.group(1)})" if code else "")
    t = re.sub(r"(?m)^\s*[│┃]\s?", " ", t)
    t = t.replace("\\n", " ").replace("\\t", " ")
    return re.sub(r"\s+", " ", t).strip()


def _meta(t: str) -> Tuple[Optional[str], Optional[str]]:
    """(operation, error code) from the CLI/SDK wrapping of a message."""
    for rx in (_CLI_PREFIX, _GO_PREFIX):
        m = rx.search(t)
        if m:
            return m.group("op"), m.group("code")
    java = _TAIL_CODE.search(t)  # Java SDK: "(Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; …)"
    if java:
        return None, java.group("code")
    code = _ERROR_CODES.search(t)
    return None, code.group(1) if code else None


def _split_resource(rest: str) -> Tuple[Optional[str], str]:
    """``on resource: "arn…" because …`` -> (resource or None, the text after the resource)."""
    m = re.match(r"on (?:(?:the|this) )?resource(?:\s+associated with [^.]*?(?=\s+because\b|$))?\s*:?\s*(?P<r>.*)",
                 rest, re.I)
    if not m:
        return None, rest
    r = m.group("r")
    if r[:1] in "\"'`":
        q = r[0]
        end = r.find(q, 1)
        value, after = (r[1:end], r[end + 1:]) if end > 0 else (r[1:], "")
        return value or None, after.strip()
    token, _, after = r.partition(" ")
    token = token.rstrip(".,;")
    if token.startswith("arn:") or token == "*":
        return token, after.strip()
    # no ARN ("on resource: role TestReadOnly with an explicit deny"): keep the reason that follows
    reason = re.search(r"\b(because\b|with an explicit deny\b).*", r, re.I)
    return None, reason.group(0) if reason else ""


_IMPLICIT = re.compile(r"because no (?P<type>.+?) allows?\b(?: the (?P<act>\S+) action)?", re.I)
_EXPLICIT = re.compile(r"with an explicit deny(?: in (?:an? |the )?(?P<type>.+?))?(?::\s*(?P<arn>arn:\S+))?\s*$", re.I)
_AMBIGUOUS_RESOURCE = re.compile(r"because the resource does not exist|no resource-based policies allow", re.I)


def _reason(text: str) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(denial, policy type, policy ARN) from ``because no … allows …`` / ``with an explicit deny …``."""
    t = text.strip().rstrip(".").strip()
    m = _EXPLICIT.search(t)
    if m:
        words = m.group("type") or ""
        return "explicit", policy_type_of(words) if words else None, (m.group("arn") or "").rstrip(".") or None
    if _AMBIGUOUS_RESOURCE.search(t):  # KMS: "… no resource-based policies allow access, or … explicitly denies"
        return None, "resource", None
    m = _IMPLICIT.search(t)
    if m:
        return "implicit", policy_type_of(m.group("type")), None
    return None, None, None


def _parse_text(text: str) -> Optional[Parsed]:
    t = _normalize(text)
    if not t:
        return None
    enc = _ENCODED.search(t)
    blob = enc.group("blob") if enc else None
    body = (t[:enc.start()] + " " + t[enc.end():]).strip() if enc else t
    operation, code = _meta(body)
    core = _core(body)
    if core is None:
        return _parse_without_core(t, body, blob, operation, code)
    rest = body[core.end():]
    tail = _TAILS.search(rest)
    if tail:
        rest = rest[:tail.start()]
    rest = rest.strip()
    resource, reason_text = _split_resource(rest)
    denial, ptype, parn = _reason(reason_text)
    caller = parse_caller(core.group("caller"))
    return _denial(caller, _action(core.group("action")), resource, denial, ptype, text,
                   policy_arn=parn, operation=operation, error_code=code, encoded_message=blob)


def _parse_without_core(t: str, body: str, blob: Optional[str], operation: Optional[str],
                        code: Optional[str]) -> Optional[Parsed]:
    """Messages that name no caller and action in the usual words."""
    ex = _EXEC_ROLE.search(body)
    if ex:  # Lambda: "The provided execution role does not have permissions to call X on SQS"
        svc = _SERVICE_NAMES.get(ex.group("svc").strip().lower(), ex.group("svc").strip().lower().replace(" ", ""))
        return _denial(Caller(None, None), _action(f"{svc}:{ex.group('op')}"), None, None, None, t,
                       operation=ex.group("op"), error_code=code)
    if blob:
        return EncodedMessage(blob, t, operation, code)
    if code or re.search(r"\baccess denied\b|\bnot authorized\b", t, re.I):
        return _denial(Caller(None, None), None, None, None, None, t, operation=operation, error_code=code)
    return None


def _denial(caller: Caller, action: Optional[str], resource: Optional[str], denial: Optional[str],
            policy_type: Optional[str], raw: str, **extra: Any) -> ParsedDenial:
    return ParsedDenial(caller_arn=caller.arn, caller_kind=caller.kind, action=action, resource=resource,
                        denial=denial, policy_type=policy_type, raw=raw, role_name=caller.role_name,
                        session_name=caller.session_name, user_name=caller.user_name, account=caller.account,
                        partition=caller.partition, **extra)


# ----------------------------------------------------------------------------- JSON messages

# CloudTrail eventSource -> IAM service prefix, where they differ
_EVENT_SOURCES = {"monitoring": "cloudwatch", "email": "ses", "streams.dynamodb": "dynamodb",
                  "elasticmapreduce": "elasticmapreduce", "es": "es", "sso-directory": "sso-directory",
                  "kinesisvideo": "kinesisvideo", "execute-api": "execute-api"}
# CloudTrail eventName -> IAM action name, where they differ
_EVENT_NAMES = {("s3", "ListObjects"): "ListBucket", ("s3", "ListObjectsV2"): "ListBucket",
                ("s3", "ListObjectVersions"): "ListBucketVersions", ("s3", "HeadObject"): "GetObject",
                ("s3", "HeadBucket"): "ListBucket", ("s3", "CreateMultipartUpload"): "PutObject",
                ("s3", "UploadPart"): "PutObject", ("s3", "CompleteMultipartUpload"): "PutObject",
                ("s3", "DeleteObjects"): "DeleteObject", ("lambda", "Invoke"): "InvokeFunction"}
_CLOUDTRAIL_TYPES = {"AssumedRole": "assumed-role", "IAMUser": "user", "FederatedUser": "federated-user",
                     "Root": "root", "AWSService": "service", "AWSAccount": "unknown"}


def action_from_event(source: str, name: str) -> Optional[str]:
    """The IAM action of a CloudTrail event (``eventSource``, ``eventName``): ``s3:ListBucket`` for
    ``s3.amazonaws.com``/``ListObjects``; None when either is empty."""
    if not source or not name:
        return None
    prefix = source.split(".amazonaws.com")[0]
    prefix = _EVENT_SOURCES.get(prefix, prefix)
    op = re.sub(r"\d{8}(?:v\d+)?$", "", name)  # Lambda's "GetFunction20150331v2"
    op = _EVENT_NAMES.get((prefix, op), op)
    return _action(f"{prefix}:{op}")


def resource_from_event(event: Mapping[str, Any], action: Optional[str]) -> Optional[str]:
    """The resource a CloudTrail event acted on: the longest ARN of its ``resources`` (the object
    rather than its bucket), else one built from ``requestParameters``; None when neither names it."""
    arns = [r.get("ARN") for r in event.get("resources") or () if isinstance(r, dict) and r.get("ARN")]
    if arns:
        return max(arns, key=len)  # the object rather than its bucket
    params = event.get("requestParameters") or {}
    if not isinstance(params, dict):
        return None
    region, account = event.get("awsRegion", ""), event.get("recipientAccountId", "")
    if params.get("bucketName"):
        key = params.get("key")
        return f"arn:aws:s3:::{params['bucketName']}" + (f"/{key}" if key else "")
    for k in ("roleArn", "topicArn", "functionName", "keyId", "secretId", "streamARN", "stateMachineArn"):
        v = params.get(k)
        if isinstance(v, str) and v.startswith("arn:"):
            return v
    url = params.get("queueUrl")
    if isinstance(url, str):
        m = re.match(r"https://(?:sqs\.)?([a-z0-9-]+)\.(?:queue\.)?amazonaws\.com[^/]*/(\d{12})/([^/?]+)", url)
        if m:
            return f"arn:aws:sqs:{m.group(1)}:{m.group(2)}:{m.group(3)}"
    if params.get("tableName") and region and account:
        return f"arn:aws:dynamodb:{region}:{account}:table/{params['tableName']}"
    return None


def _event_context(event: Mapping[str, Any]) -> Dict[str, ContextValue]:
    ctx: Dict[str, ContextValue] = {}
    if event.get("awsRegion"):
        ctx["aws:RequestedRegion"] = str(event["awsRegion"])
    if event.get("vpcEndpointId"):
        ctx["aws:SourceVpce"] = str(event["vpcEndpointId"])
    ip = event.get("sourceIPAddress")
    if isinstance(ip, str) and re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", ip):
        ctx["aws:SourceIp"] = ip
    ident = event.get("userIdentity") or {}
    if isinstance(ident.get("principalId"), str) and ident.get("type") in ("AssumedRole", "IAMUser"):
        ctx["aws:userid"] = ident["principalId"]  # the real unique ID ("AROA…:session"), not a made-up one
    attrs = (ident.get("sessionContext") or {}).get("attributes") or {}
    if attrs.get("mfaAuthenticated") in ("true", "false"):
        ctx["aws:MultiFactorAuthPresent"] = attrs["mfaAuthenticated"]
    return ctx


def _from_cloudtrail(event: Mapping[str, Any], raw: str) -> Optional[Parsed]:
    code = event.get("errorCode")
    if not code or not _ERROR_CODES.search(str(code)) and "denied" not in str(code).lower():
        return None  # an event that AWS allowed, or failed for another reason
    ident = event.get("userIdentity") or {}
    caller = parse_caller(ident.get("arn")) if ident.get("arn") else Caller(
        ident.get("invokedBy"), _CLOUDTRAIL_TYPES.get(ident.get("type", ""), "unknown") if ident else None,
        ident.get("accountId"))
    if caller.kind == "assumed-role" and not caller.role_name:
        issuer = (ident.get("sessionContext") or {}).get("sessionIssuer") or {}
        caller = replace(caller, role_name=issuer.get("userName"))
    message = str(event.get("errorMessage") or "")
    inner = _parse_text(message) if message else None
    action = action_from_event(str(event.get("eventSource", "")), str(event.get("eventName", "")))
    base = inner if isinstance(inner, ParsedDenial) else None
    return ParsedDenial(
        caller_arn=caller.arn or (base.caller_arn if base else None),
        caller_kind=caller.kind or (base.caller_kind if base else None),
        action=(base.action if base and base.action else action),
        resource=(base.resource if base and base.resource else resource_from_event(event, action)),
        denial=base.denial if base else None, policy_type=base.policy_type if base else None, raw=raw,
        role_name=caller.role_name, session_name=caller.session_name, user_name=caller.user_name,
        account=caller.account or ident.get("accountId"), partition=caller.partition,
        policy_arn=base.policy_arn if base else None, operation=str(event.get("eventName") or "") or None,
        error_code=str(code), context=_event_context(event),
        encoded_message=(base.encoded_message if base else (inner.blob if isinstance(inner, EncodedMessage) else None)),
        source="cloudtrail")


def _items(value: Any) -> List[Any]:
    if isinstance(value, dict):
        return list(value.get("items") or [])
    return list(value) if isinstance(value, list) else []


def _from_decoded(doc: Mapping[str, Any], raw: str) -> ParsedDenial:
    """The JSON of ``aws sts decode-authorization-message``."""
    ctx = doc.get("context") or {}
    principal = ctx.get("principal") or {}
    caller = parse_caller(principal.get("arn"))
    conditions: Dict[str, ContextValue] = {}
    for item in _items(ctx.get("conditions")):
        if not isinstance(item, dict) or not item.get("key"):
            continue
        values = tuple(str(v.get("value")) for v in _items(item.get("values")) if isinstance(v, dict))
        conditions[str(item["key"])] = values[0] if len(values) == 1 else values
    statements = tuple(str(s.get("statementId")) for s in _items(doc.get("matchedStatements"))
                       if isinstance(s, dict) and s.get("statementId"))
    if isinstance(principal.get("id"), str) and "aws:userid" not in conditions:
        conditions["aws:userid"] = principal["id"]
    denial = None if doc.get("allowed") else ("explicit" if doc.get("explicitDeny") else "implicit")
    resource = ctx.get("resource")
    return _denial(caller, _action(ctx.get("action")), resource if isinstance(resource, str) else None,
                   denial, None, raw, context=conditions, statements=statements, source="decoded")


def _parse_json(doc: Any, raw: str, depth: int = 0) -> Optional[Parsed]:
    if depth > 3:
        return None
    if isinstance(doc, list):
        records = [r for r in doc if isinstance(r, dict)]
        denied = [r for r in records if r.get("errorCode")]
        return _parse_json((denied or records or [None])[0], raw, depth + 1)
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("DecodedMessage"), str):
        return parse_message(doc["DecodedMessage"])
    if "allowed" in doc and isinstance(doc.get("context"), dict):
        return _from_decoded(doc, raw)
    if "userIdentity" in doc or "eventSource" in doc:
        return _from_cloudtrail(doc, raw)
    if isinstance(doc.get("Records"), list):
        return _parse_json(doc["Records"], raw, depth + 1)
    if isinstance(doc.get("Events"), list):  # aws cloudtrail lookup-events
        events = [loads(e["CloudTrailEvent"]) for e in doc["Events"]
                  if isinstance(e, dict) and isinstance(e.get("CloudTrailEvent"), str)]
        return _parse_json(events, raw, depth + 1)
    if isinstance(doc.get("CloudTrailEvent"), str):
        return _parse_json(loads(doc["CloudTrailEvent"]), raw, depth + 1)
    err = doc.get("Error") if isinstance(doc.get("Error"), dict) else doc
    message = err.get("Message") or err.get("message") or doc.get("errorMessage")
    if isinstance(message, str):
        code = err.get("Code") or err.get("__type") or doc.get("errorType")
        return _parse_text(message + (f" (Service: ; Error Code: {str(code).split('#')[-1]})" if code else ""))
    return None


def parse_message(text: str) -> Optional[Parsed]:
    """What an AccessDenied message says, or None when the text is not one.

    Returns an :class:`EncodedMessage` when the only detail is an encoded authorization message.
    """
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            doc = loads(stripped)
        except ValueError:
            doc = None
        if doc is not None:
            try:
                return _parse_json(doc, text)
            except ValueError:  # an embedded CloudTrailEvent that is not JSON (or nested too deeply)
                pass
    return _parse_text(text)
