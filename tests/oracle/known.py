"""Known classes of disagreement between iamgate and iam-simulate.

Each entry is one class: a ``trigger`` on the features of a minimized case (``compare.features``)
and the two decisions, a ``verdict`` and the evidence:

* ``verdict="oracle"`` — a documented deviation of iam-simulate: AWS's documentation says iamgate is
  right (``doc`` quotes the sentence, ``url`` points at it). Tolerated by the test.
* ``verdict="engine-bug"`` — iamgate is wrong; "engine bug, being fixed" on another branch. The test
  tolerates these classes only (as xfail), so this list can be emptied when the fix lands; any other
  disagreement fails it, and a false allow by iamgate is never tolerated silently: it is listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict

Trigger = Callable[[Dict[str, Any], str, str], bool]


@dataclass(frozen=True)
class Deviation:
    cls: str
    verdict: str   # "oracle" (iamgate is right) or "engine-bug" (being fixed)
    doc: str
    url: str
    trigger: Trigger


_RANK = {"explicit_deny": 0, "implicit_deny": 1, "allow": 2}


def _denies(d: str) -> bool:
    return d in ("implicit_deny", "explicit_deny")


KNOWN_DEVIATIONS = (
    Deviation(
        "engine-bug: RCPs not applied to service-principal callers", "engine-bug",
        "engine bug, being fixed. RCPs apply to AWS service principals too (hence the RCP examples' "
        "aws:PrincipalIsAWSService exemptions); they do not apply to service-linked roles.",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html",
        lambda f, ours, theirs: f["caller"] == "service" and "rcp" in f["policies"]
        and _RANK.get(ours, -1) > _RANK.get(theirs, 3)),
    Deviation(
        "engine-bug: resource-policy Deny+NotPrincipal vs a caller with a permissions boundary (non-role)",
        "engine-bug",
        "engine bug, being fixed. 'The NotPrincipal element with a Deny effect will always deny any IAM "
        "principal that has a permissions boundary policy attached, regardless of the values specified "
        "in the NotPrincipal element.'",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html",
        lambda f, ours, theirs: f["deny_not_principal_in_resource"] and "permissions_boundary" in f["policies"]
        and theirs == "explicit_deny" and ours != "explicit_deny"),
    Deviation(
        "engine-bug: resource policy naming an IAM user does not reach its federated-user session",
        "engine-bug",
        "engine bug, being fixed. Session policies: 'A resource-based policy can specify the ARN of the user "
        "or role as a principal. In that case, the permissions from the resource-based policy are added to "
        "the role or user's identity-based policy before the session is created.' (A Deny naming the user "
        "reaches the session the same way.)",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session",
        lambda f, ours, theirs: f["caller"] == "federated-user" and f["resource_names_user_of_session"]),
    Deviation(
        "engine-bug: policy variable substituted before the ARN's fifth colon", "engine-bug",
        "engine bug, being fixed. Policy variables are only replaced in the resource part of an ARN "
        "(after the fifth colon).",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html",
        lambda f, ours, theirs: f["resource_variables_before_fifth_colon"]),
    Deviation(
        "engine-bug: policy variable substituted before the fifth colon of an ARN condition value", "engine-bug",
        "engine bug, to confirm with the engine branch: the same rule as in Resource is assumed (the User "
        "Guide states the fifth-colon rule for the Resource element; iam-simulate applies it to Arn* "
        "condition values too, iamgate substitutes there).",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html",
        lambda f, ours, theirs: f["condition_arn_variables_before_fifth_colon"]),
    Deviation(
        "oracle: policy variables in a policy whose Version is not 2012-10-17", "oracle",
        "'If you do not include a Version element, the value defaults to 2008-10-17, but newer features, "
        "such as policy variables, will not work with your policy. For example, variables such as "
        "${aws:username} aren't recognized as variables and are instead treated as literal strings in the "
        "policy.' (iam-simulate substitutes them whatever the Version.)",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html",
        lambda f, ours, theirs: f["old_version_with_variables"]),
    Deviation(
        "oracle: NotPrincipal naming only the role does not exempt the role's sessions", "oracle",
        "NotPrincipal with Deny: 'If an assumed-role user (someone who is using a role) is being evaluated, "
        "AWS might validate the account first, then the role, and then the assumed-role user. The "
        "assumed-role user is identified by the role session name ...' — the documented exemption lists "
        "the assumed-role session ARN itself ('Principals must always name a specific session'); "
        "iam-simulate exempts every session of a role named in NotPrincipal.",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html",
        lambda f, ours, theirs: f["caller"] == "assumed-role" and f["not_principal_names_role_not_session"]
        and ours == "explicit_deny" and theirs != "explicit_deny"),
    Deviation(
        "engine-bug (new): web identity caller of a provider without an ARN (cognito) judged cross-account",
        "engine-bug",
        "engine bug, reported (not yet being fixed). AssumeRoleWithWebIdentity is authorized by the role's "
        "trust policy (which names the identity provider as a Federated principal), not by identity "
        "policies: a web identity has none. iamgate treats a caller without an account as cross-account and "
        "requires an identity-side Allow, so it denies every such call.",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html",
        lambda f, ours, theirs: f["caller"] == "web-identity" and f["account"] == "cross"
        and ours == "implicit_deny" and theirs == "allow"),
    Deviation(
        "oracle: Date operators comparing an epoch value with an ISO 8601 value", "oracle",
        "aws:EpochTime / Date condition operators: 'Use this key to compare the date and time of the "
        "request in epoch or Unix time with the value that you specify in the policy. This key also "
        "accepts the number of seconds since January 1, 1970.' A date is a date in either notation; "
        "iam-simulate does not compare an epoch value with an ISO 8601 one.",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-epochtime",
        lambda f, ours, theirs: f["date_mixed_formats"]),
    Deviation(
        "engine-bug: policy variable substituted in a Numeric/Date/IpAddress/Bool condition", "engine-bug",
        "engine bug, being fixed. 'You can use policy variables in the Resource element and in string "
        "comparisons in the Condition element.'",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html",
        lambda f, ours, theirs: f["variables_in_typed_conditions"]),
    Deviation(
        "engine-bug: federated user without a session policy gets its IAM user's permissions", "engine-bug",
        "engine bug, being fixed. 'In most cases if you do not pass a policy with the GetFederationToken API "
        "call, the resulting temporary security credentials have no permissions. However, a resource-based "
        "policy can provide additional permissions for the session.'",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_getfederationtoken.html",
        lambda f, ours, theirs: f["caller"] == "federated-user" and not f["session_policy_passed"]
        and ours == "allow" and _denies(theirs)),
    Deviation(
        "oracle: same-account resource policy naming the session ARN is not limited by the session policy",
        "oracle",
        "'A resource-based policy can specify the ARN of the user or role as a principal ... A "
        "resource-based policy can also specify the ARN of the session as a principal. In that case, the "
        "permissions from the resource-based policy are added after the session is created. The "
        "resource-based policy permissions are not limited by the session policy.' (iam-simulate "
        "applies the session policy first, whatever the resource policy names; this class appears once "
        "the engine fix for 'session ARN limited by the session policy' lands.)",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session",
        lambda f, ours, theirs: f["caller"] in ("assumed-role", "federated-user") and f["account"] == "same"
        and ("session" in f["policies"] or f["caller"] == "federated-user") and f["resource_names_caller_arn"]
        and ours == "allow"
        and theirs == "implicit_deny"),
)


def by_class() -> Dict[str, Deviation]:
    return {d.cls: d for d in KNOWN_DEVIATIONS}
