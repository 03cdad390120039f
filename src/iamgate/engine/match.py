"""Action, resource and principal matching, with IAM wildcards and policy variables.

Everything here is pure and cached: a pattern is compiled to a regular expression once.

Semantics (IAM User Guide, "IAM JSON policy elements" and "Policy variables"):

- ``*`` matches any run of characters and ``?`` exactly one. Actions match case-insensitively;
  resources and ARNs case-sensitively.
- In a Resource ARN the partition, service, region and account segments are matched one by one, a
  wildcard never crossing into the next segment. In the resource part the resource type (the text
  before the first ``/`` or ``:``, where the ARN names an account) is matched literally, the rest
  with wildcards that may cross ``/`` and ``:``.
- A "short" ARN (fewer than six segments, e.g. ``arn:aws:sqs:us-east-1``) is read differently per
  policy type, the way IAM does: identity-side policies pad it with wildcards and treat a mismatch
  as an error (so a NotResource does not apply either); resource policies read it literally unless it
  holds a wildcard; SCPs only accept it when it ends in ``*``, RCPs never.
- Policy variables ``${key}`` and ``${key, 'default'}`` (policy version 2012-10-17 only) are replaced
  by the request's single value for the key, literally (a ``*`` in the value is not a wildcard);
  ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters. A missing key with no default,
  or a multi-valued key, makes the pattern an error: it matches nothing, in a Not-element too.
- In a Resource ARN, variables are replaced only in the resource part, after the fifth colon: "You
  can't use a variable to replace parts of the ARN before the fifth colon, such as the service or
  account" (IAM User Guide, "IAM policy elements: Variables and tags"). Before it, ``${…}`` is
  literal text, which no request's partition, service, region or account contains.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

from ..model import ContextValue  # noqa: E402,F401
Context = Mapping[str, ContextValue]  # keys lower-cased; a tuple is a multi-valued key

_VAR = re.compile(r"\$\{([^}]*)\}")


class PatternError(Exception):
    """A pattern that cannot be evaluated for this request (undefined variable, invalid ARN)."""


# --------------------------------------------------------------------------- globs


@lru_cache(maxsize=65536)
def _glob_regex(pattern: str, ignore_case: bool) -> "re.Pattern[str]":
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcard match of a whole string: ``*`` any run, ``?`` one character."""
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


def has_variables(pattern: str) -> bool:
    return "${" in pattern


# ------------------------------------------------------------------- policy variables


def _variable_value(body: str, context: Context) -> Tuple[bool, str]:
    """(is_literal_text, replacement) for the inside of one ``${…}``."""
    name, default = body, None
    if "," in body:
        name, _, rest = body.partition(",")
        rest = rest.strip()
        if len(rest) >= 2 and rest[0] == rest[-1] == "'":
            default = rest[1:-1]
        else:
            raise PatternError(f"malformed policy variable ${{{body}}}")
    name = name.strip()
    if name in ("*", "?", "$"):
        return True, name
    value = context.get(name.lower())
    if value is None:
        if default is None:
            raise PatternError(f"the request has no value for ${{{name}}}")
        return False, default
    if isinstance(value, tuple):
        raise PatternError(f"${{{name}}} is multi-valued and cannot be used as a policy variable")
    return False, value


def substitute(pattern: str, context: Context) -> str:
    """Replace policy variables, escaping values so that their wildcards stay literal.

    The result is a *glob* in which a literal ``*``/``?`` from a variable is written as a private
    escape (``\\x00*``); use :func:`glob_match_escaped` on it.
    """
    def repl(m: "re.Match[str]") -> str:
        literal_wild, value = _variable_value(m.group(1), context)
        if literal_wild:
            return "\x00" + value if value in "*?" else value
        return value.replace("*", "\x00*").replace("?", "\x00?")
    return _VAR.sub(repl, pattern)


def substitute_resource(pattern: str, context: Context) -> str:
    """:func:`substitute` for a Resource/NotResource pattern: in an ARN only the resource part (after
    the fifth colon) takes variables; the partition, service, region and account stay as written."""
    if not pattern.startswith("arn:"):
        return substitute(pattern, context)
    parts = pattern.split(":", 5)
    if len(parts) < 6 or "${" not in parts[5]:
        return pattern
    return ":".join(parts[:5]) + ":" + substitute(parts[5], context)


@lru_cache(maxsize=65536)
def _escaped_glob_regex(pattern: str, ignore_case: bool) -> "re.Pattern[str]":
    parts = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\x00" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match_escaped(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if "\x00" not in pattern:
        return glob_match(pattern, value, ignore_case)
    return _escaped_glob_regex(pattern, ignore_case).fullmatch(value) is not None


def literal(pattern: str) -> str:
    """The text of an escaped glob with the escapes removed (for exact comparisons)."""
    return pattern.replace("\x00", "")


def pattern_match(pattern: str, value: str, context: Context, ignore_case: bool = False,
                  variables: bool = True) -> bool:
    """Glob match after policy-variable substitution; raises PatternError."""
    if variables and "${" in pattern:
        return glob_match_escaped(substitute(pattern, context), value, ignore_case)
    return glob_match(pattern, value, ignore_case)


# --------------------------------------------------------------------------- actions


def action_matches(pattern: str, action: str) -> bool:
    """``s3:Get*`` against ``s3:GetObject``; case-insensitive, service and name separately."""
    if pattern == "*":
        return True
    p_service, sep, p_name = pattern.partition(":")
    a_service, _, a_name = action.partition(":")
    if not sep:
        return False
    return glob_match(p_service, a_service, True) and glob_match(p_name, a_name, True)


def _glob_part(text: str, star: str) -> str:
    return "".join(star if c == "*" else "." if c == "?" else re.escape(c) for c in text)


@lru_cache(maxsize=16384)
def actions_regex(patterns: Tuple[str, ...]) -> "re.Pattern[str]":
    """One compiled matcher for an Action element: the same answers as ``action_matches`` on each."""
    parts = []
    for p in patterns:
        if p == "*":
            parts.append(".*")
            continue
        service, sep, name = p.partition(":")
        if not sep:
            continue  # not an action pattern: matches nothing
        parts.append(_glob_part(service, "[^:]*") + ":" + _glob_part(name, ".*"))
    return re.compile("(?:" + "|".join(parts) + ")" if parts else "(?!)", re.IGNORECASE | re.DOTALL)


def action_service(pattern: str) -> Optional[str]:
    """The service prefix a pattern is confined to (lower case), or None if it spans services."""
    service, sep, _ = pattern.partition(":")
    if not sep or "*" in service or "?" in service:
        return None
    return service.lower()


# --------------------------------------------------------------------------- ARNs


@lru_cache(maxsize=16384)  # a request's resource is split again for every statement it meets
def split_arn(arn: str) -> Optional[Tuple[str, str, str, str, str, str]]:
    """``arn:partition:service:region:account:resource`` or None if it is not a full ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]


_SEP = re.compile(r"[/:]")


@lru_cache(maxsize=16384)
def _typed(text: str) -> Optional[Tuple[str, str]]:
    """A resource part as (its resource type with the separator, the rest), or None without one."""
    m = _SEP.search(text)
    return (text[:m.end()], text[m.end():]) if m else None


def _resource_part_match(pattern: str, value: str, has_account: bool) -> bool:
    if has_account:
        tp, tv = _typed(pattern), _typed(value)
        if tp is not None and tv is not None:
            # the resource type ("instance/", "function:") is matched literally
            if literal(tp[0]) != tv[0]:
                return False
            return glob_match_escaped(tp[1], tv[1])
    return glob_match_escaped(pattern, value)


@lru_cache(maxsize=16384)
def _segments(pattern: str) -> Tuple[str, ...]:
    return tuple(pattern.split(":", 5))


def _full_arn_match(pattern: str, value: str) -> bool:
    """Segment-wise match of a full ARN pattern (variables already substituted)."""
    pp = _segments(pattern)
    vp = split_arn(value)
    if vp is None:
        # the request resource is not an ARN ("*" for wildcard-only actions, or free text)
        return glob_match_escaped(pattern, value)
    if len(pp) != 6:
        return False
    for i in range(1, 5):
        if pp[i] == vp[i] and "\x00" not in pp[i]:
            continue  # written alike: a glob matches itself (an escaped wildcard is not itself)
        if not glob_match_escaped(pp[i], vp[i]):
            return False
    return _resource_part_match(pp[5], vp[5], bool(vp[4]))


@lru_cache(maxsize=16384)
def element_services(patterns: Tuple[str, ...]) -> Optional[FrozenSet[str]]:
    """The services whose full ARNs a Resource element's patterns can match (their service
    segments, written without a wildcard); None when any pattern could match another service (a
    wildcard there, a short or non-ARN pattern, ``*``). Variables are substituted only after the
    fifth colon, so the service is as written."""
    services = set()
    for p in patterns:
        parts = p.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or any(c in parts[2] for c in "*?$\x00"):
            return None
        services.add(parts[2])
    return frozenset(services)


class AllowIndex:
    """The Allow statements of some policies that name resources (not ``*``), by the service their
    Resource names (``element_services``), for the question a diagnosis and a fix ask of every
    missing permission: which of them allow something on this very resource?"""

    def __init__(self, policies: Sequence[Any]) -> None:
        self.policies = policies
        self.by_service: Dict[str, List[Tuple[int, Any, Any]]] = {}
        self.anywhere: List[Tuple[int, Any, Any]] = []
        self._memo: Dict[Any, List[Tuple[Any, Any]]] = {}
        n = 0
        for policy in policies:
            for st in policy.statements:
                if st.effect != "Allow" or st.resources is None or "*" in st.resources:
                    continue
                n += 1
                services = element_services(st.resources)
                if services is None:
                    self.anywhere.append((n, policy, st))
                else:
                    for service in services:
                        self.by_service.setdefault(service, []).append((n, policy, st))

    def covering(self, resource: str, context: Context) -> List[Tuple[Any, Any]]:
        """(policy, statement) for each statement whose Resource matches ``resource``, in order
        (remembered: a diagnosis and then a fix ask it of the same missing permission)."""
        try:
            key: Any = (resource, tuple(sorted(context.items())))
            hash(key)
        except TypeError:
            key = None
        found = self._memo.get(key) if key is not None else None
        if found is None:
            found = self._covering(resource, context)
            if key is not None:
                if len(self._memo) >= 1024:
                    self._memo.clear()
                self._memo[key] = found
        return list(found)

    def _covering(self, resource: str, context: Context) -> List[Tuple[Any, Any]]:
        parts = split_arn(resource)
        if parts is None:
            candidates = sorted({e[0]: e for e in self.anywhere + [e for es in self.by_service.values() for e in es]
                                 }.values(), key=lambda e: e[0])
        else:
            candidates = sorted(self.anywhere + self.by_service.get(parts[2], []), key=lambda e: e[0])
        return [(policy, st) for _, policy, st in candidates
                if resource_element_applies(st.resources, resource, context, False)]


_ALLOW_INDEXES: Dict[int, AllowIndex] = {}


def allow_index(policies: Sequence[Any]) -> AllowIndex:
    """The ``AllowIndex`` of ``policies`` (a principal's identity policies: one tuple for all its
    requirements), built once; a few hundred are kept."""
    found = _ALLOW_INDEXES.get(id(policies))
    if found is None or found.policies is not policies:
        if len(_ALLOW_INDEXES) >= 512:
            _ALLOW_INDEXES.clear()
        found = _ALLOW_INDEXES[id(policies)] = AllowIndex(policies)
    return found


@lru_cache(maxsize=16384)
def literal_arns(patterns: Tuple[str, ...]) -> Optional[FrozenSet[str]]:
    """A Resource element's patterns as a set when every one is a full ARN written without a
    wildcard, a policy variable or an escape, else None. Such a pattern matches a resource exactly
    when it is that resource (``resource_matches``: segment by segment, each a glob without a
    wildcard, case-sensitive; a resource that is not an ARN, or ``*``, compared whole), and can
    be no error: the set answers for the element at once."""
    for p in patterns:
        if not p.startswith("arn:") or p.count(":") < 5 or "*" in p or "?" in p or "$" in p or "\x00" in p:
            return None
    return frozenset(patterns)


RESOURCE_POLICY_TYPES = ("resource",)


def resource_matches(pattern: str, resource: str, context: Context, policy_type: str = "identity",
                     variables: bool = True) -> Optional[bool]:
    """Does a Resource pattern match the request's resource?

    Returns True/False, or None when the pattern is an *error* for this request (undefined policy
    variable, a short ARN that IAM rejects for this policy type): an error matches in neither
    Resource nor NotResource.
    """
    try:
        if pattern == "*":
            return True
        if resource == "*":
            # a wildcard-only action: only a statement for "*" can cover it
            return False
        if variables and "${" in pattern:
            pattern = substitute_resource(pattern, context)
        if not pattern.startswith("arn:"):
            return glob_match_escaped(pattern, resource)
        n_segments = pattern.count(":") + 1
        if n_segments >= 6:
            return _full_arn_match(pattern, resource)
        return _short_arn_match(pattern, resource, policy_type)
    except PatternError:
        return None


def _short_arn_match(pattern: str, resource: str, policy_type: str) -> Optional[bool]:
    """IAM's reading of an ARN with fewer than six segments, per policy type."""
    wild = "*" in pattern or "?" in pattern
    if policy_type == "rcp":
        return None
    if policy_type == "scp":
        if not pattern.endswith("*") or "*" in pattern[:-1] or "?" in pattern:
            return None
        return glob_match_escaped(pattern, resource) or None
    if policy_type in RESOURCE_POLICY_TYPES and not wild:
        return False
    padded = pattern + ":*" * (6 - (pattern.count(":") + 1))
    return _full_arn_match(padded, resource) or None


# A requirement's resource may itself be a pattern ("every object under orders/"). An Allow must
# cover every resource it names; a Deny applies if it could hit any of them.
_STAR = "\ue000" * 24  # private-use characters no policy contains; long enough for any run of "?"
_QMARK = "\ue001"


def concretize(pattern: str) -> str:
    """A representative of a resource pattern: matched by a glob only if the glob covers the pattern."""
    return pattern.replace("*", _STAR).replace("?", _QMARK)


@lru_cache(maxsize=65536)
def globs_intersect(a: str, b: str) -> bool:
    """Whether two IAM globs match at least one common string."""
    n, m = len(a), len(b)
    seen = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == n and j == m:
            return True
        ca = a[i] if i < n else None
        cb = b[j] if j < m else None
        if ca == "*":
            stack.append((i + 1, j))
            if j < m:
                stack.append((i, j + 1))
            continue
        if cb == "*":
            stack.append((i, j + 1))
            if i < n:
                stack.append((i + 1, j))
            continue
        if ca is None or cb is None:
            continue
        if ca == "?" or cb == "?" or ca == cb:
            stack.append((i + 1, j + 1))
    return False


def resource_element_applies_to_pattern(patterns: Sequence[str], requested: str, context: Context, negated: bool,
                                        effect: str, policy_type: str = "identity", variables: bool = True) -> bool:
    """Resource/NotResource against a requirement that names a resource *pattern*.

    Allow: Resource must cover all of it; NotResource must exclude none of it. Deny: Resource applies
    if it overlaps; NotResource unless it covers all of it.
    """
    rep = concretize(requested)

    def covers(p: str) -> bool:
        return bool(resource_matches(p, rep, context, policy_type, variables))

    def overlaps(p: str) -> bool:
        try:
            q = substitute_resource(p, context) if variables and "${" in p else p
        except PatternError:
            return False
        return globs_intersect(literal(q), requested)

    if effect == "Allow":
        return (not any(overlaps(p) for p in patterns)) if negated else any(covers(p) for p in patterns)
    return (not any(covers(p) for p in patterns)) if negated else any(overlaps(p) for p in patterns)


def resource_element_applies(patterns: Sequence[str], resource: str, context: Context, negated: bool,
                             policy_type: str = "identity", variables: bool = True) -> bool:
    """Whether a Resource (negated=False) or NotResource (negated=True) element applies."""
    any_match = False
    any_error = False
    for p in patterns:
        m = resource_matches(p, resource, context, policy_type, variables)
        if m is None:
            any_error = True
        elif m:
            any_match = True
            if not negated:
                return True
    if not negated:
        return False
    return not any_match and not any_error


# --------------------------------------------------------------------------- principals


def _account_of(arn: str) -> Optional[str]:
    parts = split_arn(arn)
    return parts[4] if parts else None


def role_arn_of_session(session_arn: str) -> Optional[str]:
    """``arn:aws:sts::1:assumed-role/R/s`` -> ``arn:aws:iam::1:role/R`` (paths are not known)."""
    parts = split_arn(session_arn)
    if not parts or parts[2] != "sts" or not parts[5].startswith("assumed-role/"):
        return None
    name = parts[5].split("/")[1]
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{name}"


def principal_value_matches(kind: str, value: str, principal: "RequestPrincipal", negated: bool = False) -> bool:
    """One value of a Principal element (``AWS``, ``Service``, ``Federated``, ``CanonicalUser``).

    A role ARN names the role's sessions in ``Principal``, and an IAM user's ARN the federated user
    sessions it made (``RequestPrincipal.issuer``); in ``NotPrincipal`` they do not: a session must
    be listed itself (or its account) to be excluded.
    """
    if kind == "*" or value == "*":
        if kind in ("*", "AWS"):
            return True
        # "Service": "*" and the like are not valid principals; they match nothing
        return False
    if kind == "AWS":
        # an AWS account or IAM ARN names IAM identities (and their sessions); a web identity or
        # SAML caller is none (only "*" above names it)
        if principal.type in ("service", "anonymous", "web-identity", "saml"):
            return False
        if re.fullmatch(r"\d{12}", value):
            return principal.account == value
        if value.endswith(":root") and value.startswith("arn:"):
            return principal.account is not None and _account_of(value) == principal.account
        if principal.arn is None:
            return False
        if value == principal.arn:
            return True
        if negated:
            return False
        # a role ARN in a Principal also names every session of that role
        if principal.type == "assumed-role":
            role = role_arn_of_session(principal.arn)
            if role is not None and _strip_path(value) == role:
                return True
        if principal.type in ("iam-role", "iam-user") and _strip_path(value) == _strip_path(principal.arn):
            return True
        # an IAM user's ARN also names its federated user sessions (GetFederationToken)
        if principal.type == "federated-user" and principal.issuer is not None \
                and _strip_path(value) == _strip_path(principal.issuer):
            return True
        return False
    if kind == "Service":
        return principal.type == "service" and principal.arn is not None and \
            value.lower() == principal.arn.lower()
    if kind == "Federated":
        return principal.type in ("federated-user", "web-identity", "saml") and principal.arn is not None \
            and value == principal.arn
    if kind == "CanonicalUser":
        return principal.canonical_id is not None and value == principal.canonical_id
    return False


def _strip_path(arn: str) -> str:
    """``arn:aws:iam::1:role/path/Name`` -> ``arn:aws:iam::1:role/Name``."""
    parts = split_arn(arn)
    if not parts or parts[2] != "iam":
        return arn
    rtype, _, rest = parts[5].partition("/")
    if rtype not in ("role", "user") or "/" not in rest:
        return arn
    return f"arn:{parts[1]}:iam::{parts[4]}:{rtype}/{rest.rsplit('/', 1)[1]}"


class RequestPrincipal:
    """The caller, as the principal matching of resource policies needs it."""

    __slots__ = ("type", "arn", "account", "canonical_id", "has_boundary", "issuer")

    def __init__(self, type: str, arn: Optional[str], account: Optional[str],
                 canonical_id: Optional[str] = None, has_boundary: bool = False,
                 issuer: Optional[str] = None) -> None:
        self.has_boundary = has_boundary
        # a federated user's session issuer: the IAM user that called GetFederationToken
        self.issuer = issuer
        self.type = type
        self.arn = arn
        self.account = account
        self.canonical_id = canonical_id


def _deny_names_provider_account(element: Mapping[str, Tuple[str, ...]], principal: RequestPrincipal) -> bool:
    """A Deny whose Principal names the account of a web identity or SAML caller's provider.

    AWS does not say whether an account principal names such a caller (it names IAM identities,
    and these callers have none); in an Allow it is not taken to grant, and in a Deny it is taken
    to deny: where the documentation leaves the answer open, the gate fails closed."""
    if principal.type not in ("web-identity", "saml") or not principal.account:
        return False
    for kind, values in element.items():
        for v in values if kind == "AWS" else ():
            if v == principal.account or (v.startswith("arn:") and v.endswith(":root")
                                          and _account_of(v) == principal.account):
                return True
    return False


# callers that can carry a permissions boundary: IAM users and roles, and the sessions made from them
BOUNDARY_CALLERS = frozenset({"iam-user", "iam-role", "assumed-role", "federated-user"})


def principal_element_applies(element: Mapping[str, Tuple[str, ...]], principal: RequestPrincipal,
                              negated: bool, effect: str = "Deny") -> bool:
    """Whether a Principal (``negated=False``) or NotPrincipal (``negated=True``) element applies.

    A NotPrincipal in a Deny never excludes a caller that has a permissions boundary: "The
    NotPrincipal element with a Deny effect will always deny any IAM principal that has a
    permissions boundary policy attached, regardless of the values specified in the NotPrincipal
    element" (IAM User Guide, "AWS JSON policy elements: NotPrincipal"). (With an Allow, which AWS
    does not support, the listed callers stay excluded.)
    """
    if negated and effect == "Deny" and principal.has_boundary and principal.type in BOUNDARY_CALLERS:
        return True
    if not negated and effect == "Deny" and _deny_names_provider_account(element, principal):
        return True
    matched = any(principal_value_matches(kind, v, principal, negated)
                  for kind, values in element.items() for v in values)
    return not matched if negated else matched
