"""Known classes of disagreement between iamgate and iam-simulate.

Each entry is one class: a ``trigger`` on the features of a minimized case (``compare.features``)
and the two decisions, a ``verdict`` and the evidence:

* ``verdict="oracle"`` — a documented deviation of iam-simulate: AWS's documentation says iamgate is
  right (``doc`` quotes the sentence, ``url`` points at it). Tolerated by the test.
* ``verdict="conflict"`` — a scored conformance case expects what iam-simulate does while AWS's text
  says otherwise; iamgate follows the conformance case (``doc`` says "scored conformance case …
  expects …; AWS's text says …"). Tolerated by the test.
* ``verdict="engine-bug"`` — iamgate is wrong, an open bug. The test xfails on these (naming them),
  unless iamgate allows what iam-simulate denies there: a false allow is only ever tolerated in an
  "oracle" or "conflict" class, whose documentation says iamgate is right.

Any disagreement outside these classes fails the test.
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
        "oracle: NotPrincipal naming only the IAM user does not exempt its federated user sessions", "oracle",
        "NotPrincipal with Deny exempts the principals it lists, and for temporary credentials the session "
        "itself must be listed: 'The assumed-role user is identified by the role session name ...' (the "
        "documented example lists the session ARN, the role ARN and the account). A federated user session "
        "(arn:aws:sts::<account>:federated-user/<name>) is another principal than the IAM user that called "
        "GetFederationToken; iam-simulate exempts the session when only the IAM user is listed.",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html",
        lambda f, ours, theirs: f["caller"] == "federated-user" and f["not_principal_names_user_not_session"]
        and ours == "explicit_deny" and theirs != "explicit_deny"),
    Deviation(
        "oracle: an account principal does not name a web identity or SAML caller", "oracle",
        "AWS account principals: 'You can specify AWS account identifiers in the Principal element of a "
        "resource-based policy ... This delegates authority to the account. When you allow access to a "
        "different account, an administrator in that account must then grant access to an identity (IAM user "
        "or role) in that account.' A caller of AssumeRoleWithWebIdentity / AssumeRoleWithSAML is no IAM "
        "identity of the account ('Calling AssumeRoleWithWebIdentity does not require the use of Amazon Web "
        "Services security credentials', STS API Reference); it is named by its provider as a Federated "
        "principal, or by '*'. iam-simulate matches an account principal (Allow, Deny or NotPrincipal) "
        "against the account of the caller's identity provider. Whether a Deny naming the account stops "
        "such a caller is not documented: iamgate fails closed and takes it to deny (so this class holds "
        "no false allow: iamgate denies where iam-simulate lets an account-naming Allow grant).",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts",
        lambda f, ours, theirs: f["caller"] in ("web-identity", "saml") and f["names_account"]),
    Deviation(
        "oracle: policy variable before the fifth colon of an ARN condition value", "oracle",
        "The fifth-colon rule is the Resource element's ('You can't use a variable to replace parts of the "
        "ARN before the fifth colon'); in the Condition element variables are replaced wherever they are: "
        "'You can use policy variables in the Resource element and in string comparisons in the Condition "
        "element', and AWS's own IAM Access Analyzer bucket policy compares aws:PrincipalArn with "
        "\"arn:aws:iam::${aws:PrincipalAccount}:role/service-role/AccessAnalyzerMonitorServiceRole*\" "
        "(IAM User Guide, 'IAM Access Analyzer policy generation'), which only works if the account "
        "segment is substituted. iam-simulate leaves such a variable literal in Arn* condition values.",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html",
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
        "oracle: Date operators comparing an epoch value with an ISO 8601 value", "oracle",
        "aws:EpochTime / Date condition operators: 'Use this key to compare the date and time of the "
        "request in epoch or Unix time with the value that you specify in the policy. This key also "
        "accepts the number of seconds since January 1, 1970.' A date is a date in either notation; "
        "iam-simulate does not compare an epoch value with an ISO 8601 one.",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-epochtime",
        lambda f, ours, theirs: f["date_mixed_formats"]),
    Deviation(
        "oracle: same-account resource policy naming the session ARN is not limited by the session policy",
        "oracle",
        "'A resource-based policy can also specify the ARN of the session as a principal. In that case, the "
        "permissions from the resource-based policy are added after the session is created. The "
        "resource-based policy permissions are not limited by the session policy.' (IAM User Guide, Session "
        "policies) and, for a federated user session made without any session policy (AWS's 'Carol' "
        "example), GetFederationToken: 'if you do not pass any session policies, then the resulting "
        "federated user session has no permissions. ... If that policy specifically references the "
        "federated user session in the Principal element of the policy, the session has the permissions "
        "allowed by the policy.' (STS API Reference). iam-simulate applies the session policy first, "
        "whatever the resource policy names.",
        "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html",
        lambda f, ours, theirs: f["caller"] == "federated-user" and f["account"] == "same"
        and f["resource_names_caller_arn"] and ours == "allow" and theirs == "implicit_deny"),
)


def by_class() -> Dict[str, Deviation]:
    return {d.cls: d for d in KNOWN_DEVIATIONS}


def tolerated_false_allow(verdict: str) -> bool:
    """A false allow by iamgate is tolerated only where AWS's documentation says iamgate is right."""
    return verdict in ("oracle", "conflict")
