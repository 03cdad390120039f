"""``iamgate explain "MESSAGE"``: an AccessDenied message from AWS, judged against the code.

:func:`explain` takes the message as ``sources/denials.py`` parsed it (a
:class:`~iamgate.model.ParsedDenial`, an :class:`~iamgate.model.EncodedMessage`, or None for text
that is not an AccessDenied message), finds the caller among the principals of the scope, decides
the request as ``iamgate simulate`` does, and compares: the code denies it the same way
(``agrees``), denies it for another reason (``agrees-other-cause``), grants it (``code-allows``:
the deployed policies differ from the code, or the deny comes from outside the repository),
cannot decide it (``unknown``), or has no such principal (``not-found``). A message that names no
caller or action is ``incomplete``, one whose details are encoded is ``encoded`` (the
``sts decode-authorization-message`` step is named), anything else ``unparsed``.

Pure: it takes a Scope and the parsed message (it never reads files, nor imports ``sources/`` or
the pipeline); the proposed fix comes from ``fix`` when the caller passes ``read_text``. The
:class:`Explanation` is rendered by ``report/explain.py``; :func:`exit_code` is what the command
returns for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .. import catalog
from ..engine.match import split_arn
from ..engine.request import (decide_requirement, default_context, policies_considered, request_context,
                             resource_policies_for, trust_policies_for)
from ..model import (ContextValue, Decision, EncodedMessage, Fix, Inventory, Manifest, Parsed, ParsedDenial, Policy,
                     Principal, Requirement, Scope, find_principals, selector_for)
from ..policy import POLICY_WORDS
from .check import selectors_hint
from .diagnose import cause_lines

CONCLUSIONS = ("agrees", "agrees-other-cause", "code-allows", "unknown", "not-found", "incomplete",
               "encoded", "unparsed")


# ============================================================================ explanations


@dataclass(frozen=True)
class Explanation:
    """The message, the principal it names in the code, how the code decides it, and what follows.

    ``conclusion`` is one of :data:`CONCLUSIONS`; ``summary`` says it in a sentence, ``cause`` says
    why the code denies it (or which statements grant it), ``advice`` what to look at next.
    """

    conclusion: str
    summary: str
    parsed: Optional[ParsedDenial] = None
    encoded: Optional[EncodedMessage] = None
    selector: Optional[str] = None
    principal: Optional[Principal] = None
    action: Optional[str] = None
    resource: Optional[str] = None
    decision: Optional[Decision] = None
    note: str = ""
    cause: Tuple[str, ...] = ()
    advice: Tuple[str, ...] = ()
    fix: Optional[Fix] = None
    context: Mapping[str, object] = field(default_factory=dict)
    considered: Tuple[Tuple[str, Policy], ...] = ()
    principals: Tuple[str, ...] = ()  # the code's principals, when the caller is not among them
    caller_in_code: bool = True  # False when only the trust policy of a role in the code was judged


_TRUST_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
                  "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext")


def explain(scope: Scope,
            parsed: Optional[Parsed], read_text: Optional[Callable[[str], Optional[str]]] = None) -> Explanation:
    """Explain an AccessDenied message, as :func:`iamgate.sources.denials.parse_message` parsed it
    (None: the text was not one), against the code (same scope as ``simulate``).

    ``read_text(path)`` gives the current text of a file, so that an explanation the code agrees
    with carries the fix (in the file's own syntax); without it there is no fix.
    """
    if parsed is None:
        return Explanation("unparsed", "This is not an AccessDenied message iamgate recognises: paste the whole "
                                       "error (\"User: … is not authorized to perform: …\"), a CloudTrail event "
                                       "with errorCode AccessDenied, or a decoded authorization message.")
    if isinstance(parsed, EncodedMessage):
        return _encoded(parsed)
    if not parsed.action or not parsed.caller_arn:
        return _incomplete(parsed, scope.read or scope.inventory)
    action = parsed.action
    if catalog.canonical_action(action) is None:
        chk = catalog.check_action(action)
        hint = f" (did you mean {chk.suggestion}?)" if chk.suggestion else ""
        return Explanation("unknown", f"The IAM action catalog does not know {action}{hint}: the code cannot be "
                                      "asked about it.", parsed, action=action, resource=parsed.resource)
    resource = parsed.resource or "*"
    found = _find_caller(scope, parsed)
    if isinstance(found, str):
        trust = _trust_only(scope, parsed, action, resource)
        return trust or _not_found(parsed, scope.read or scope.inventory, found)
    selector, principal = found
    return _judge(scope, parsed, selector, principal, action, resource, read_text)


# ----------------------------------------------------------------------------- finding the caller


def _candidates(p: ParsedDenial) -> List[str]:
    """Selectors that may name the caller in the code: the name first (what a user would type), then the ARN."""
    out: List[str] = []
    if p.caller_kind in ("assumed-role", "role") and p.role_name:
        out.append(p.role_name)
        if p.caller_kind == "role" and p.caller_arn:
            out.append(p.caller_arn)
        if p.account and p.partition:
            out.append(f"arn:{p.partition}:iam::{p.account}:role/{p.role_name}")
    elif p.caller_kind == "user" and p.user_name:
        out += [a for a in (p.user_name, p.caller_arn) if a]
    return list(dict.fromkeys(out))


def _same_account(principal: Principal, account: Optional[str]) -> bool:
    if not account or not re.fullmatch(r"\d{12}", account) or not principal.account:
        return True
    return principal.account == account


def _find_caller(scope: Scope,
                 p: ParsedDenial) -> Union[Tuple[str, Principal], str]:
    """(selector, principal) for the caller, or why there is none."""
    if p.caller_kind == "federated-user":
        return (f"{p.caller_arn} is a federated user (GetFederationToken): its permissions are the calling IAM "
                "user's policies intersected with the session policy passed to GetFederationToken; neither "
                "names it in the code")
    if p.caller_kind == "root":
        return (f"{p.caller_arn} is the account root user: identity policies do not apply to it, only SCPs, "
                "RCPs and resource policies can deny it")
    if p.caller_kind in ("service", "anonymous"):
        return f"{p.caller_arn} is not an IAM principal that the code defines"
    selectors = _candidates(p)
    ambiguous = ""
    # the scope's principals are complete: the manifest's policy files are added, and a principal
    # outside the code that the manifest gives by its policy files is there under its selector
    for sel in selectors:
        found = [q for q in find_principals(scope.inventory, sel) if _same_account(q, p.account)]
        if len(found) == 1:
            # named as a manifest would select it (WorkerRole, svc-a/template.yaml:Fn,
            # aws_iam_role.worker), not by the role name the message gives
            return selector_for(scope.inventory, found[0]) or sel, found[0]
        if len(found) > 1 and not ambiguous:
            names = ", ".join(f"{q.id} ({q.location})" if q.location else q.id for q in found)
            ambiguous = (f"{sel} matches {len(found)} principals in the code: {names}"
                         + selectors_hint(scope.inventory, found, sel))
    if ambiguous:
        return ambiguous
    shown = p.role_name if p.caller_kind == "assumed-role" else p.caller_arn
    return f"no principal in the code answers to {shown}"


# ----------------------------------------------------------------------------- deciding


def _context(principal: Principal, p: ParsedDenial, resource: str, settings_region: str) -> Dict[str, ContextValue]:
    """What ``simulate`` puts in the request context, and what the message adds."""
    region = p.context.get("aws:RequestedRegion")
    region = region if isinstance(region, str) else settings_region
    extra: Dict[str, ContextValue] = {}
    userid = default_context(principal.type, principal.arn, principal.account, None, {}, region).get("aws:userid")
    if p.session_name and isinstance(userid, str) and userid.endswith(":iamgate"):
        extra["aws:userid"] = userid[: -len("iamgate")] + p.session_name
    extra.update(p.context)
    return request_context(principal, resource, region, extra)  # type: ignore[return-value]


def _decide(scope: Scope,
            p: ParsedDenial, selector: str, principal: Principal, action: str, resource: str
            ) -> Tuple[Decision, str, Dict[str, ContextValue], Tuple[Tuple[str, Policy], ...]]:
    ctx = _context(principal, p, resource, scope.region)
    req = Requirement(selector, action, resource, {}, None)
    decision, note = decide_requirement(scope, principal, req, ctx)
    considered = policies_considered(scope, principal, action, resource)
    if note == "" and resource == "*" and not p.resource:
        note = "the message names no resource: decided for every resource (*)"
    return decision, note, ctx, considered


def _message_kinds(p: ParsedDenial, action: str, resource: str) -> Tuple[str, ...]:
    """The blocker names of the code's decision that the message's policy type stands for."""
    if p.policy_type == "resource":
        if action in _TRUST_ACTIONS and ":role/" in resource:
            return ("trust", "resource")
        if action.startswith("kms:"):
            return ("kms-key-policy", "resource")
        return ("resource",)
    return (p.policy_type,) if p.policy_type else ()


def _judge(scope: Scope,
           p: ParsedDenial, selector: str, principal: Principal, action: str, resource: str, read_text: Optional[Callable[[str], Optional[str]]] = None) -> Explanation:
    decision, note, ctx, considered = _decide(scope, p, selector, principal, action, resource)
    req = Requirement(selector, action, resource, ctx, None)
    common = dict(parsed=p, selector=selector, principal=principal, action=action, resource=resource,
                  decision=decision, note=note, context=ctx, considered=considered)
    said = aws_says(p)
    if decision.result == "allow":
        grants = tuple(_grant_lines(decision))
        summary = (f"The code grants {action} to {selector}, yet AWS denied it ({said}): the deployed "
                   "policies differ from the code, or the deny comes from a policy outside the repository.")
        return Explanation("code-allows", summary, cause=grants,
                           advice=tuple(_advice(p, principal, scope, resource, drift=True)), **common)
    cause = tuple(cause_lines(principal, req, decision, note)) + tuple(_named_statements(p, decision))
    if decision.result == "unknown":
        summary = f"The code cannot decide {action} for {selector}: {note or 'a value could not be resolved'}."
        return Explanation("unknown", summary, cause=cause,
                           advice=tuple(_advice(p, principal, scope, resource, drift=False)), **common)
    fix = _proposed_fix(principal, req, decision, scope, note, read_text)
    code_said = _code_said(decision)
    if _same_cause(p, decision, action, resource):
        summary = (f"The code denies it too ({code_said}), as AWS says ({said})." if p.denial or p.policy_type else
                   f"The code denies it too ({code_said}); the message does not say which policy denied it.")
        return Explanation("agrees", summary, cause=cause, fix=fix, **common)
    summary = (f"The code denies it too, but for another reason: {code_said}; AWS names {said}. AWS reports one "
               "policy type when several deny, so both may hold: fix the code's cause, then check the one AWS names.")
    advice = tuple(_advice(p, principal, scope, resource, drift=False)) \
        if p.policy_type or p.denial else ()
    return Explanation("agrees-other-cause", summary, cause=cause, advice=advice, fix=fix, **common)


def _same_cause(p: ParsedDenial, decision: Decision, action: str, resource: str) -> bool:
    want = "explicit_deny" if p.denial == "explicit" else "implicit_deny" if p.denial == "implicit" else None
    if want is not None and decision.result != want:
        return False
    kinds = _message_kinds(p, action, resource)
    return not kinds or bool(set(kinds) & set(decision.blocked_by))


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def aws_says(p: ParsedDenial) -> str:
    """What AWS says denied the request, in words (the summaries and the text report use it)."""
    word = POLICY_WORDS.get(p.policy_type or "", p.policy_type or "")
    if p.denial == "explicit":
        return f"an explicit deny in {_a(word)}" if word else "an explicit deny"
    if p.denial == "implicit":
        return f"no {word} allows it" if word else "an implicit deny"
    if p.policy_type == "resource":
        return "the resource policy (missing, not allowing it, or denying it)"
    return "access denied, without naming the policy"


def _code_said(d: Decision) -> str:
    words = " and ".join(POLICY_WORDS.get(b, b) for b in d.blocked_by)
    if d.result == "explicit_deny":
        return f"an explicit deny in the {words}" if words else "an explicit deny"
    parts = ["no identity-based policy allows it" if b == "identity" else
             f"the {POLICY_WORDS.get(b, b)} does not allow it" for b in d.blocked_by]
    return "implicit deny: " + "; ".join(parts) if parts else "implicit deny"


def _grant_lines(d: Decision) -> List[str]:
    out = []
    for t in d.applied("Allow"):
        where = f" ({t.location})" if t.location else ""
        sid = t.statement.sid or f'a statement of "{t.policy_name}"'
        out.append(f"allowed by: {sid}{where} in the {POLICY_WORDS.get(t.policy_kind, t.policy_kind)} "
                   f"\"{t.policy_name}\"")
    return out


def _named_statements(p: ParsedDenial, d: Decision) -> List[str]:
    """A decoded message names the matched statements by Sid: point at them in the code."""
    out = []
    for sid in p.statements:
        hits = [t for t in d.trace if t.statement.sid == sid]
        if hits and hits[0].location:
            out.append(f"AWS matched statement {sid}: {hits[0].location} in \"{hits[0].policy_name}\"")
        else:
            out.append(f"AWS matched statement {sid}, which is not among the statements the code evaluated")
    return out


def _proposed_fix(principal: Principal, req: Requirement, decision: Decision, scope: Scope, note: str,
                  read_text: Optional[Callable[[str], Optional[str]]]) -> Optional[Fix]:
    """The fix ``iamgate check`` would propose for the same missing permission."""
    if read_text is None or decision.result == "unknown":
        return None
    from .check import finding_for
    from ..fix import add_fixes
    from ..model import Outcome, Report
    outcome = Outcome(req.principal, principal, req, decision, note)
    report = add_fixes(Report((finding_for(outcome),), (outcome,), 1, scope.read or scope.inventory), scope,
                       read_text)
    return report.findings[0].fix


# ----------------------------------------------------------------------------- outside the code


def _policy_id(arn: Optional[str]) -> Optional[str]:
    return arn.rsplit("/", 1)[-1] if arn else None


def _scope_lines(kind: str, target: str, files: Sequence[str], named: Optional[str]) -> List[str]:
    filt = "SERVICE_CONTROL_POLICY" if kind == "scp" else "RESOURCE_CONTROL_POLICY"
    word = "SCPs" if kind == "scp" else "RCPs"
    where = f"the {word} in {', '.join(files)}" if files else f"no {word} (none are in the scanned files)"
    out = [f"the code holds {where}; AWS evaluates the {word} attached to the account, every organizational "
           f"unit above it and the root: list them with `aws organizations list-policies-for-target "
           f"--target-id {target} --filter {filt}`, and for each parent (`aws organizations list-parents "
           f"--child-id {target}`) up to the root"]
    if named:
        out.append(f"AWS names the policy: `aws organizations describe-policy --policy-id {_policy_id(named)}`")
    if not files:
        out.append(f"add the {word} to guardrails.{kind} in iamgate.yaml (one file per level, root first) so "
                   "that `iamgate check` sees them")
    return out


def _guardrail_files(kind: str, inventory: Inventory, manifest: Optional[Manifest]) -> List[str]:
    levels = inventory.scp if kind == "scp" else inventory.rcp
    names = [str(p.location.file) if p.location else p.name for level in levels for p in level]
    if manifest is not None:
        names += list(manifest.scp if kind == "scp" else manifest.rcp)
    return list(dict.fromkeys(names))


def _resource_policy_command(resource: str) -> str:
    parts = split_arn(resource)
    if not parts:
        return "the service's get-*-policy command"
    service, region, account, rest = parts[2], parts[3], parts[4], parts[5]
    if service == "s3":
        return f"`aws s3api get-bucket-policy --bucket {rest.split('/')[0]}`"
    if service == "sqs":
        return (f"`aws sqs get-queue-attributes --queue-url https://sqs.{region}.amazonaws.com/{account}/{rest} "
                "--attribute-names Policy`")
    if service == "sns":
        return f"`aws sns get-topic-attributes --topic-arn {resource}`"
    if service == "kms":
        return f"`aws kms get-key-policy --key-id {resource} --policy-name default`"
    if service == "lambda":
        return f"`aws lambda get-policy --function-name {resource}`"
    if service == "secretsmanager":
        return f"`aws secretsmanager get-resource-policy --secret-id {resource}`"
    if service == "iam" and rest.startswith("role/"):
        return f"`aws iam get-role --role-name {rest.rsplit('/', 1)[-1]} --query Role.AssumeRolePolicyDocument`"
    if service == "ecr":
        return f"`aws ecr get-repository-policy --repository-name {rest.partition('/')[2]}`"
    return "the service's get-*-policy command"


def _identity_command(principal: Principal) -> str:
    name = (principal.arn or principal.id).rsplit("/", 1)[-1]
    if principal.type == "user":
        return (f"`aws iam list-user-policies --user-name {name}`, `aws iam list-attached-user-policies "
                f"--user-name {name}` and `aws iam list-groups-for-user --user-name {name}`")
    return (f"`aws iam list-role-policies --role-name {name}` and `aws iam list-attached-role-policies "
            f"--role-name {name}`")


def _advice(p: ParsedDenial, principal: Principal, scope: Scope,
            resource: str, drift: bool) -> List[str]:
    """Where to look for the policy AWS names when the code does not deny it that way."""
    kind = p.policy_type
    name = (principal.arn or principal.id).rsplit("/", 1)[-1]
    account = p.account or principal.account or "ACCOUNT_ID"
    out: List[str] = []
    if kind in ("scp", "rcp"):
        target = account
        if kind == "rcp":
            parts = split_arn(resource)
            target = parts[4] if parts and parts[4] else account
        out += _scope_lines(kind, target, _guardrail_files(kind, scope.inventory, scope.manifest), p.policy_arn)
    elif kind == "vpc_endpoint":
        vpce = p.context.get("aws:SourceVpce")
        out.append("the request went through a VPC endpoint whose policy does not allow it (iamgate does not read "
                   "VPC endpoint policies): `aws ec2 describe-vpc-endpoints --vpc-endpoint-ids "
                   f"{vpce if isinstance(vpce, str) else 'VPCE_ID'} --query 'VpcEndpoints[].PolicyDocument'`")
    elif kind == "session":
        session = f" for session {p.session_name}" if p.session_name else ""
        out.append("a session policy was passed when the session was created (AssumeRole, AssumeRoleWithSAML or "
                   "AssumeRoleWithWebIdentity with --policy or --policy-arns, GetFederationToken, or an IAM "
                   f"Identity Center permission set); it is not in the code: find the AssumeRole event{session} "
                   "with `aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,"
                   "AttributeValue=AssumeRole` and read requestParameters.policy and policyArns")
    elif kind == "boundary":
        differs = "differs from" if drift else "may differ from"
        if principal.boundary is None:
            out.append(f"the deployed {name} has a permissions boundary the code does not set: "
                       f"`aws iam get-{'user' if principal.type == 'user' else 'role'} "
                       f"--{'user' if principal.type == 'user' else 'role'}-name {name} "
                       "--query '*.PermissionsBoundary'`")
        else:
            where = f" ({principal.boundary.location})" if principal.boundary.location else ""
            out.append(f"the deployed permissions boundary {differs} \"{principal.boundary.name}\"{where}: "
                       f"`aws iam get-policy --policy-arn {p.policy_arn or principal.boundary.arn or 'BOUNDARY_ARN'}` "
                       "and `aws iam get-policy-version` of its default version")
    elif kind == "identity":
        differ = "differ from the code (not deployed yet, edited by hand, or managed elsewhere)" if drift else \
            "may differ from the code"
        out.append(f"the deployed identity policies of {name} {differ}: list them with {_identity_command(principal)}")
        if p.policy_arn:
            out.append(f"AWS names the policy: `aws iam get-policy --policy-arn {p.policy_arn}`")
    elif kind in ("resource", "trust"):
        in_code = resource_policies_for(scope, resource) or trust_policies_for(scope, resource)
        if in_code:
            out.append(f"the deployed resource policy of {resource} differs from the code: "
                       f"{_resource_policy_command(resource)}")
        else:
            out.append(f"the resource policy of {resource} is not in the scanned files: "
                       f"{_resource_policy_command(resource)}")
        if action_is_kms(p):
            out.append("for KMS, the key policy must allow the caller (or delegate to IAM by trusting the account)")
    else:
        if p.action in _TRUST_ACTIONS and ":role/" in resource:
            out.append(f"the trust policy of {resource} must allow the caller: {_resource_policy_command(resource)}")
        out.append("the message does not say which policy type denied it; check, in turn: the deployed identity "
                   f"policies ({_identity_command(principal)}), the permissions boundary, a session policy, "
                   "the organization's SCPs and RCPs, the resource policy "
                   f"({_resource_policy_command(resource)}), and a VPC endpoint policy")
    if drift and kind in ("identity", "boundary", None):
        out.append("if the code is what should be deployed, deploy it; `iamgate diff` shows what changed between "
                   "revisions")
    if p.encoded_message:
        out.append("AWS also sent an encoded authorization message naming the statement: decode it with "
                   f"`{EncodedMessage(p.encoded_message, '').command}` and pass the result to iamgate explain")
    return out


def action_is_kms(p: ParsedDenial) -> bool:
    return bool(p.action and p.action.lower().startswith("kms:"))


# ----------------------------------------------------------------------------- other conclusions


def _principal_names(inventory: Inventory) -> Tuple[str, ...]:
    return tuple(f"{q.id} ({q.type}{', ' + q.arn if q.arn and q.arn != q.id else ''})"
                 for q in sorted(inventory.principals, key=lambda q: q.id))


def _not_found(p: ParsedDenial, inventory: Inventory, why: str) -> Explanation:
    names = _principal_names(inventory)
    summary = f"The caller is not in the code: {why}."
    return Explanation("not-found", summary, p, action=p.action, resource=p.resource, principals=names,
                       advice=("name one of the principals below with `iamgate simulate PRINCIPAL ACTION RESOURCE`, "
                               "or scan the files that define the caller",))


def _incomplete(p: ParsedDenial, inventory: Inventory) -> Explanation:
    missing = " and ".join(w for w, v in (("the caller", p.caller_arn), ("the action", p.action)) if not v)
    advice = []
    if p.operation:
        advice.append("find the failed call in CloudTrail and pass the event to iamgate explain: `aws cloudtrail "
                      f"lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue={p.operation}` "
                      "(S3 object calls are recorded only by a trail with data events)")
    else:
        advice.append("pass the CloudTrail event of the failed call (errorCode AccessDenied) to iamgate explain")
    if p.action in ("sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"):
        advice.append("the trust policy of the role passed to the call must name the identity provider as a "
                      "Federated principal and match the token's claims (aud, sub; SAML:aud); the message does "
                      "not say which role: simulate it with the role's trust policy in the scanned files")
    if p.action and not p.caller_arn:
        advice.append(f"or decide it for the principal you expect: `iamgate simulate PRINCIPAL {p.action} RESOURCE`")
    if p.encoded_message:
        advice.append(f"decode the encoded message: `{EncodedMessage(p.encoded_message, '').command}`")
    summary = (f"The message does not name {missing}"
               + (" (S3 and other services leave the details out for requests from another account or "
                  "organization)" if not p.caller_arn and not p.action else "") + ".")
    return Explanation("incomplete", summary, p, action=p.action, resource=p.resource,
                       principals=_principal_names(inventory), advice=tuple(advice))


def _encoded(e: EncodedMessage) -> Explanation:
    summary = ("The details of this denial are encoded. Decode them (the caller needs "
               "sts:DecodeAuthorizationMessage, in the same account) and pass the JSON to iamgate explain.")
    return Explanation("encoded", summary, encoded=e,
                       advice=(f"`{e.command}`",
                               f"iamgate explain \"$({e.command})\""))


def _trust_only(scope: Scope,
                p: ParsedDenial, action: str, resource: str) -> Optional[Explanation]:
    """AssumeRole by a caller outside the code on a role in it: the trust policy can still be judged."""
    if action not in _TRUST_ACTIONS or not trust_policies_for(scope, resource) or not p.caller_arn:
        return None
    kind = {"assumed-role": "assumed-role", "user": "user", "role": "role"}.get(p.caller_kind or "")
    if kind is None:
        return None
    caller = Principal(id=p.caller_arn, type=kind, arn=p.caller_arn, account=p.account)  # type: ignore[arg-type]
    decision, note, ctx, considered = _decide(scope, p, p.caller_arn, caller, action, resource)
    req = Requirement(p.caller_arn, action, resource, ctx, None)
    common = dict(parsed=p, selector=p.caller_arn, principal=caller, action=action, resource=resource,
                  decision=decision, note=note, context=ctx, considered=considered, caller_in_code=False)
    if "trust" in decision.blocked_by:
        return Explanation("agrees", f"The trust policy of {resource} in the code does not let {p.caller_arn} "
                                     f"assume it ({_code_said(decision)}); the caller itself is not in the code.",
                           cause=tuple(cause_lines(caller, req, decision, note)), **common)
    if decision.result == "allow":
        return Explanation("code-allows", f"The trust policy of {resource} in the code trusts {p.caller_arn} "
                                          "itself, yet AWS denied it: the deployed trust policy differs, or the "
                                          "deny comes from outside the repository.",
                           cause=tuple(_grant_lines(decision)),
                           advice=tuple(_advice(p, caller, scope, resource, drift=True)), **common)
    return Explanation("unknown", f"The trust policy of {resource} in the code trusts the caller's account, so "
                                  f"the caller's own policies decide, and {p.caller_arn} is not in the code.",
                       cause=tuple(_grant_lines(decision)) + tuple(cause_lines(caller, req, decision, note)),
                       advice=(f"check that the caller's identity policies allow {action} on {resource}",),
                       **common)


# ============================================================================ the command's exit code


def exit_code(expl: Explanation) -> int:
    """The exit code the command line should use: 1 when the code denies the request (the code has
    the finding), 0 when it grants it (the cause is outside the code), 2 when the input cannot be
    explained (not recognised, encoded, incomplete, caller not in the code)."""
    if expl.conclusion in ("agrees", "agrees-other-cause", "unknown"):
        return 1
    if expl.conclusion == "code-allows":
        return 0
    return 2
