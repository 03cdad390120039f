"""Raw IAM JSON: policy documents, AWS CLI policy envelopes and account authorization exports.

What is recognised, by content (the file name does not matter):

- a policy document ``{"Version": …, "Statement": …}``, or a JSON list of them;
- ``aws iam get-policy-version`` output ``{"PolicyVersion": {"Document": …}}``,
  ``get-role-policy``/``get-user-policy``/``get-group-policy`` output
  ``{"PolicyName": …, "PolicyDocument": …}``, and ``get-role``/``create-role`` output
  ``{"Role": {"AssumeRolePolicyDocument": …}}`` (its trust policy);
- ``aws iam get-account-authorization-details`` output (``UserDetailList``, ``GroupDetailList``,
  ``RoleDetailList``, ``Policies``): every user and role becomes a Principal with its inline,
  attached managed (default version only) and, for users, group policies.

A document may be a URL-encoded JSON string, as the IAM API returns them. SCP and RCP files are
plain policy documents: the manifest decides their kind through ``read_policy_file``.

Is this an IAM input? ``looks_like_iam_json(text)`` answers from the text alone, before any parsing,
so that it answers for a broken file too: it is true when the text holds one of ``SIGNS`` — the
keys a document, an envelope or an export is recognised by (``Statement``, ``PolicyDocument``,
``PolicyVersion``, ``UserDetailList``, ``GroupDetailList``, ``RoleDetailList``) or a policy
language version (``2012-10-17``, ``2008-10-17``) — anywhere, ``\\uXXXX`` escapes decoded first
(a URL-encoded document still spells its keys). Every file ``read`` recognises holds one of them,
so the answer is never "no" for a file that would have been read; it may be "yes" for a file that
then turns out not to be IAM JSON (``read`` returns None) or to be broken JSON (a parse error: a
file that looks like a policy and cannot be read fails closed). ``sources.read_file`` asks it
before reading a JSON file found by walking a directory.

Everything here is pure: the caller reads the file and passes its text and display path.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping  # isinstance: four times quicker than typing.Mapping's
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import unquote

from .. import parallel
from ..catalog.managed import is_aws_managed_arn
from ..model import Deferred, Finding, FindingKind, Inventory, Location, Policy, Principal, Unresolved
from ..policy import PolicyError, parse_policy, parse_statement, unresolved_policy
from .bounds import loads
from .grammar import Verdict, about_unresolved, validate_document, verdicts
from .jsonpos import JsonError, Path, Positions, load

__all__ = ["SIGNS", "TRUST_ACTIONS", "SourceError", "is_gaad", "looks_like_iam_json", "read", "read_policy_file"]

_VERSIONS = ("2012-10-17", "2008-10-17")
# ${name} with no colon is a placeholder (a templatefile() template, a documentation example), never
# an IAM policy variable (${aws:username}); %{…} is a template directive
_PLACEHOLDER = re.compile(r"(?<!\$)\$\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}|%\{[^}]*\}")
_GAAD_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList")
# the words one of which every file ``read`` recognises holds (the module docstring says why)
SIGNS = ("Statement", "PolicyDocument", "PolicyVersion") + _GAAD_LISTS + _VERSIONS
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def looks_like_iam_json(text: str) -> bool:
    """Whether ``text`` may be a policy document, a CLI envelope or an account export: it holds
    one of ``SIGNS``, as written or once its ``\\uXXXX`` escapes are decoded. True for broken JSON
    that holds one (it must then be a parse error, not skipped)."""
    if any(sign in text for sign in SIGNS):
        return True
    if "\\u" not in text:
        return False
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return any(sign in decoded for sign in SIGNS)


class SourceError(PolicyError):
    """A file (or a part of one) that is not what it should be; ``location`` says where."""

    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.file = location.file
        self.line = location.line
        self.column = location.column


# ---------------------------------------------------------------------------------------------
# Per-file context


@dataclass
class _File:
    """The file being read: where things are, and what went wrong so far."""

    path: str
    positions: Positions
    problems: List[Finding] = field(default_factory=list)
    unresolved: List[Unresolved] = field(default_factory=list)
    policy_documents: List[Policy] = field(default_factory=list)  # every policy read, for Inventory.documents
    # False when the text holds no placeholder, no escape and no %: then no document of the file,
    # decoded from a string or not, can hold one (each document need not be written out to look)
    placeholders_possible: bool = True
    # the grammar's verdict on documents validated ahead by a child (``_Ahead``), by (id, kind)
    verdicts: Any = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return PurePath(self.path).stem or self.path

    def loc(self, path: Path) -> Location:
        line, column = self.positions.nearest(path)
        return Location(self.path, line, column)

    def problem(self, kind: FindingKind, message: str, location: Location) -> None:
        self.problems.append(_finding(kind, message, location))


_RULES = {"parse-error": "IG0001", "invalid-policy": "IG3001"}  # rules/registry.py documents them


def _finding(kind: FindingKind, message: str, location: Location) -> Finding:
    return Finding(kind=kind, rule=_RULES[kind], severity="error", message=message, location=location)


# ---------------------------------------------------------------------------------------------
# Policy documents


@dataclass(frozen=True)
class _Doc:
    """A policy document found at ``path``; ``encoded`` when it was written as a JSON string."""

    data: Any
    path: Path
    encoded: bool = False
    error: Optional[str] = None
    kind: Optional[str] = None  # the kind its envelope says (a role's AssumeRolePolicyDocument: trust)

    def sub(self, path: Path) -> Path:
        """The file path of an element of the document (the string itself when encoded)."""
        return self.path if self.encoded else self.path + path


def _decode(raw: str) -> Any:
    """A policy document written as a string: plain JSON, or URL-encoded JSON."""
    if raw.lstrip().startswith("{"):
        try:
            return loads(raw)
        except ValueError:
            pass
    try:
        return loads(unquote(raw))
    except ValueError:
        raise PolicyError("the policy document is a string that is neither JSON nor URL-encoded JSON") from None


def _open(raw: Any, path: Path) -> _Doc:
    if isinstance(raw, str):
        try:
            return _Doc(_decode(raw), path, encoded=True)
        except PolicyError as e:
            return _Doc(None, path, encoded=True, error=str(e))
    return _Doc(raw, path)


def _statement_path(doc: _Doc, index: int) -> Path:
    statements = doc.data.get("Statement") if isinstance(doc.data, Mapping) else None
    return doc.sub(("Statement", index) if isinstance(statements, list) else ("Statement",))


def _statement_locations(file: _File, doc: _Doc) -> Callable[[int], Union[Location, Deferred]]:
    """The location of the i-th statement of ``doc`` (``_statement_path``), with what the path
    depends on (is Statement a list?) looked at once per document instead of once per statement.
    Written in the file: found when first read (``Deferred``): a report names few statements, and
    the positions of the others are never recorded (``jsonpos`` decodes a list of them whole)."""
    statements = doc.data.get("Statement") if isinstance(doc.data, Mapping) else None
    if isinstance(statements, list) and not doc.encoded:  # file.loc(doc.sub(("Statement", i))), unrolled
        base, nearest, name = doc.path + ("Statement",), file.positions.nearest, file.path
        return lambda i: Deferred(lambda: Location(name, *nearest(base + (i,))))
    if isinstance(statements, list):
        return lambda i: file.loc(doc.sub(("Statement", i)))
    return lambda i: file.loc(doc.sub(("Statement",)))


_ELEMENT = re.compile(r"^(?:Statement\[\d+\]\.)?([A-Za-z]+)")


def _error_path(doc: _Doc, message: str) -> Path:
    """Where in ``doc`` the PolicyError ``message`` points: the failing statement and element."""
    data = doc.data
    if not isinstance(data, Mapping) or "Statement" not in data:
        return doc.sub(())
    raw = data["Statement"]
    for i, statement in enumerate(raw if isinstance(raw, list) else [raw]):
        try:
            parse_statement(statement, i)
        except PolicyError:
            path = _statement_path(doc, i)
            element = _ELEMENT.match(message)
            if element and isinstance(statement, Mapping) and element.group(1) in statement and not doc.encoded:
                path += (element.group(1),)
            return path
    return doc.sub(())


def _build(file: _File, doc: _Doc, name: str, kind: str, subject: str, where: Path,
           arn: Optional[str] = None) -> Policy:
    """``doc`` as a Policy; raises SourceError naming the file, ``subject`` and the problem."""
    if doc.error is not None:
        raise SourceError(f"{file.path}: {subject}: {doc.error}", file.loc(doc.path))
    try:
        return parse_policy(doc.data, name, kind, location=file.loc(where),
                            statement_location=_statement_locations(file, doc), arn=arn)
    except PolicyError as e:
        raise SourceError(f"{file.path}: {subject}: {e}", file.loc(_error_path(doc, str(e)))) from None


def _try_build(file: _File, doc: _Doc, name: str, kind: str, subject: str, where: Path,
               arn: Optional[str] = None, origin: str = "code") -> Optional[Policy]:
    """``doc`` as a Policy, with its grammar findings recorded; None if it cannot be read.

    Placeholders such as ``${account_id}`` (a ``templatefile()`` template read on its own, a
    documented example) are values not known here: written as ``*`` and marked unresolved.
    """
    doc, holes = _without_placeholders(doc) if file.placeholders_possible else (doc, {})
    grammar = [] if doc.error is not None else validate_document(
        doc.data, kind, lambda path: file.loc(doc.sub(path)), f"{file.path}: {subject}", plain=True,
        verdict=file.verdicts.get((id(doc.data), kind)))
    try:
        policy = _build(file, doc, name, kind, subject, where, arn)
    except SourceError as e:
        if grammar:
            file.problems.extend(grammar)
        else:
            file.problem("invalid-policy", e.message, e.location)
        return None
    if holes:
        policy = dataclasses.replace(policy, statements=tuple(
            dataclasses.replace(st, unresolved=st.unresolved | holes.get(i, frozenset()))
            for i, st in enumerate(policy.statements)))
        grammar = [f for f in grammar if not about_unresolved(f, policy)]
    file.problems.extend(grammar)
    if grammar:
        policy = dataclasses.replace(policy, grammar_rejected=True)
    if origin != "code":
        policy = dataclasses.replace(policy, origin=origin)  # type: ignore[arg-type]
    file.policy_documents.append(policy)
    return policy


_HOLE_ELEMENT = {"Action": "Action", "NotAction": "Action", "Resource": "Resource", "NotResource": "Resource",
            "Principal": "Principal", "NotPrincipal": "Principal", "Condition": "Condition"}


def _may_hold_placeholders(text: str) -> bool:
    """Whether any document of ``text`` may hold a placeholder. Every ``_PLACEHOLDER`` holds ``${``
    or ``%``, and the regex alone scans a large export twenty times slower than ``in`` looks for them."""
    return "\\u" in text or "%" in text or ("${" in text and _PLACEHOLDER.search(text) is not None)


def _without_placeholders(doc: _Doc) -> Tuple[_Doc, Dict[int, frozenset]]:
    """The document with placeholder pieces written as ``*``, and per statement the elements that held one."""
    data = doc.data
    raw = data.get("Statement") if isinstance(data, Mapping) else None
    if raw is None or not _PLACEHOLDER.search(json.dumps(raw)):
        return doc, {}
    statements = raw if isinstance(raw, list) else [raw]
    holes: Dict[int, frozenset] = {}
    fixed = []
    for i, st in enumerate(statements):
        if not isinstance(st, Mapping):
            fixed.append(st)
            continue
        marked = set()
        new = {}
        for key, value in st.items():
            text = json.dumps(value)
            if key in _HOLE_ELEMENT and _PLACEHOLDER.search(text):
                marked.add(_HOLE_ELEMENT[key])
                value = json.loads(_PLACEHOLDER.sub("*", text))
            new[key] = value
        if marked:
            holes[i] = frozenset(marked)
        fixed.append(new)
    data = dict(data, Statement=fixed if isinstance(raw, list) else fixed[0])
    return dataclasses.replace(doc, data=data), holes


# the actions a role trust policy grants (what STS authorizes against a role's trust policy)
TRUST_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML",
                 "sts:TagSession", "sts:SetSourceIdentity")


def _trust_action(action: Any) -> bool:
    """``sts:AssumeRole`` (any case), or an ``sts:`` pattern that matches one of ``TRUST_ACTIONS``."""
    if not isinstance(action, str) or not action.lower().startswith("sts:"):
        return False
    pattern = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                                 for c in action.lower()))
    return any(pattern.fullmatch(a.lower()) for a in TRUST_ACTIONS)


def _trust_statement(st: Any) -> bool:
    if not isinstance(st, Mapping) or "Resource" in st or "NotResource" in st or "NotAction" in st:
        return False
    if "Principal" not in st and "NotPrincipal" not in st:
        return False
    actions = st.get("Action")
    actions = actions if isinstance(actions, list) else [actions]
    return bool(actions) and all(_trust_action(a) for a in actions)


def _kind_of(data: Any) -> str:
    """The kind of a standalone document, from its shape (see ``read``): a trust policy, a resource
    policy or an identity policy."""
    raw = data.get("Statement") if isinstance(data, Mapping) else None
    statements = raw if isinstance(raw, list) else [raw]
    if statements and all(_trust_statement(st) for st in statements):
        return "trust"
    has_principal = any(isinstance(st, Mapping) and ("Principal" in st or "NotPrincipal" in st) for st in statements)
    return "resource" if has_principal else "identity"


# ---------------------------------------------------------------------------------------------
# Recognising what a file holds


def _foreign(data: Mapping[str, Any]) -> bool:
    """A CloudFormation template or a Terraform plan/state in JSON: some other reader's."""
    if "AWSTemplateFormatVersion" in data or isinstance(data.get("Resources"), Mapping):
        return True
    return "format_version" in data and any(k in data for k in (
        "planned_values", "resource_changes", "terraform_version", "values", "prior_state"))


def is_gaad(data: Any) -> bool:
    """Is ``data`` an account export (``aws iam get-account-authorization-details`` output)?"""
    if not isinstance(data, Mapping) or _foreign(data):
        return False
    if any(isinstance(data.get(k), list) for k in _GAAD_LISTS):
        return True
    policies = data.get("Policies")
    return isinstance(policies, list) and any(
        isinstance(p, Mapping) and "PolicyVersionList" in p for p in policies)


_Found = Tuple[_Doc, Optional[str], Path]  # document, its name if the file says, where it begins


def _recognise(value: Any, path: Path) -> Optional[_Found]:
    """The policy document held by ``value`` (a document, a CLI envelope or a string), if any."""
    if isinstance(value, Mapping):
        if _foreign(value):
            return None
        if "Statement" in value:
            return _Doc(value, path), None, path
        version = value.get("PolicyVersion")
        if isinstance(version, Mapping) and "Document" in version:
            return _open(version["Document"], path + ("PolicyVersion", "Document")), None, path
        role = value.get("Role")  # aws iam get-role / create-role output
        if isinstance(role, Mapping) and "AssumeRolePolicyDocument" in role:
            name = role.get("RoleName")
            doc = dataclasses.replace(_open(role["AssumeRolePolicyDocument"],
                                            path + ("Role", "AssumeRolePolicyDocument")), kind="trust")
            return doc, f"{name} trust policy" if isinstance(name, str) else None, path
        if "PolicyDocument" in value:
            name = value.get("PolicyName")
            return (_open(value["PolicyDocument"], path + ("PolicyDocument",)),
                    name if isinstance(name, str) else None, path)
        if value.get("Version") in _VERSIONS:  # a policy without statements: ours, and invalid
            return _Doc(value, path), None, path
        return None
    if isinstance(value, str):
        doc = _open(value, path)
        if doc.error is None and isinstance(doc.data, Mapping) and "Statement" in doc.data:
            return doc, None, path
    return None


_Entry = Union[Tuple[_Doc, str, Path], int]  # a named document, or the index of a list element that is not one


def _entries(file: _File, data: Any) -> Optional[List[_Entry]]:
    """The policy documents of a file; ``None`` when the file holds none (not ours)."""
    if isinstance(data, list):
        found = [_recognise(v, (i,)) for i, v in enumerate(data)]
        if not any(found):
            return None
        return [i if f is None else (f[0], f[1] or f"{file.stem}[{i}]", f[2]) for i, f in enumerate(found)]
    f = _recognise(data, ())
    return None if f is None else [(f[0], f[1] or file.stem, f[2])]


# ---------------------------------------------------------------------------------------------
# get-account-authorization-details


@dataclass(frozen=True)
class _Managed:
    """A managed policy of the export: its default version, or why it cannot be used."""

    name: str
    arn: str
    policy: Optional[Policy]
    reason: str = ""


@dataclass(frozen=True)
class _Missing:
    """A managed policy a principal or group attaches that cannot be resolved."""

    name: str
    arn: str
    reason: str
    path: Path


def _items(file: _File, data: Mapping[str, Any], key: str, name_key: str,
           parent: Path = ()) -> List[Tuple[Path, Mapping[str, Any]]]:
    """The objects of list ``key`` that carry a ``name_key``; every other entry is a problem."""
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        file.problem("parse-error", f"{file.path}: {key} must be a list", file.loc(parent + (key,)))
        return []
    out = []
    for i, item in enumerate(raw):
        path = parent + (key, i)
        if isinstance(item, Mapping) and isinstance(item.get(name_key), str):
            out.append((path, item))
        else:
            file.problem("parse-error", f"{file.path}: {key}[{i}] is not an object with a {name_key}",
                         file.loc(path))
    return out


def _default_version(entry: Mapping[str, Any]) -> Optional[int]:
    """Index of the default version in PolicyVersionList (``IsDefaultVersion``, else ``DefaultVersionId``)."""
    versions = entry.get("PolicyVersionList")
    if not isinstance(versions, list):
        return None
    dicts = [(k, v) for k, v in enumerate(versions) if isinstance(v, Mapping)]
    for k, v in dicts:
        if v.get("IsDefaultVersion") is True:
            return k
    default_id = entry.get("DefaultVersionId")
    for k, v in dicts:
        if default_id is not None and v.get("VersionId") == default_id:
            return k
    return None


def _managed_policies(file: _File, data: Mapping[str, Any]) -> Dict[str, _Managed]:
    out: Dict[str, _Managed] = {}
    for path, entry in _items(file, data, "Policies", "PolicyName"):
        name, arn = entry["PolicyName"], entry.get("Arn")
        if not isinstance(arn, str):
            file.problem("parse-error", f"{file.path}: managed policy {name} has no Arn", file.loc(path))
            continue
        k = _default_version(entry)
        if k is None or "Document" not in entry["PolicyVersionList"][k]:
            out[arn] = _Managed(name, arn, None, "no default version document in the export")
            continue
        doc = _open(entry["PolicyVersionList"][k]["Document"], path + ("PolicyVersionList", k, "Document"))
        policy = _try_build(file, doc, name, "identity", f"managed policy {name}", path, arn=arn,
                            origin="aws-managed" if is_aws_managed_arn(arn) else "code")  # AWS's statements
        out[arn] = _Managed(name, arn, policy, "" if policy else "its default version is not a valid policy")
    return out


def _inline(file: _File, owner: Mapping[str, Any], key: str, path: Path, owner_desc: str) -> List[Policy]:
    out = []
    for entry_path, entry in _items(file, owner, key, "PolicyName", path):
        name = entry["PolicyName"]
        doc = _open(entry.get("PolicyDocument"), entry_path + ("PolicyDocument",))
        policy = _try_build(file, doc, name, "identity", f"inline policy {name} of {owner_desc}", entry_path)
        if policy is not None:
            out.append(policy)
    return out


def _attached(file: _File, owner: Mapping[str, Any], path: Path, managed: Mapping[str, _Managed],
              ) -> List[Union[Policy, _Missing]]:
    out: List[Union[Policy, _Missing]] = []
    for entry_path, entry in _items(file, owner, "AttachedManagedPolicies", "PolicyArn", path):
        arn = entry["PolicyArn"]
        name = entry.get("PolicyName") if isinstance(entry.get("PolicyName"), str) else arn.rsplit("/", 1)[-1]
        found = managed.get(arn)
        if found is not None and found.policy is not None:
            out.append(found.policy)
        else:
            out.append(_Missing(name, arn, found.reason if found else "not in the export", entry_path))
    return out


def _missing(file: _File, m: _Missing, owner_desc: str, path: Optional[Path] = None) -> None:
    file.unresolved.append(Unresolved(
        f"managed policy {m.name} {m.arn} ({m.reason}; attached to {owner_desc})",
        file.loc(m.path if path is None else path)))


def _m_path(m: _Missing, path: Optional[Path]) -> Path:
    return m.path if path is None else path


def _collect(file: _File, policies: Sequence[Union[Policy, _Missing]], owner_desc: str,
             into: List[Policy], path: Optional[Path] = None) -> None:
    for p in policies:
        if isinstance(p, _Missing):
            _missing(file, p, owner_desc, path)
            # attached but unknown: decisions it could change are unknown, never implicit denies
            into.append(unresolved_policy(p.name, "identity", file.loc(_m_path(p, path)), p.arn))
        elif not any(p is q for q in into):  # the same managed policy attached twice counts once
            into.append(p)


def _boundary(file: _File, entity: Mapping[str, Any], path: Path, managed: Mapping[str, _Managed],
              owner_desc: str) -> Optional[Policy]:
    raw = entity.get("PermissionsBoundary")
    if not isinstance(raw, Mapping) or not isinstance(raw.get("PermissionsBoundaryArn"), str):
        return None
    arn = raw["PermissionsBoundaryArn"]
    found = managed.get(arn)
    if found is not None and found.policy is not None:
        return dataclasses.replace(found.policy, kind="boundary")
    name = found.name if found else arn.rsplit("/", 1)[-1]
    reason = found.reason if found else "not in the export"
    file.unresolved.append(Unresolved(
        f"permissions boundary {name} {arn} ({reason}; of {owner_desc})",
        file.loc(path + ("PermissionsBoundary",))))
    return unresolved_policy(name, "boundary", file.loc(path + ("PermissionsBoundary",)), arn)


def _tags(raw: Any) -> Dict[str, str]:
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return {str(t["Key"]): str(t.get("Value", "")) for t in raw if isinstance(t, Mapping) and "Key" in t}
    return {}


def _account(arn: Optional[str]) -> Optional[str]:
    parts = arn.split(":") if arn else []
    if len(parts) < 6 or not parts[4]:
        return None
    return parts[4]


def _unique(values: Sequence[Optional[str]]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


@dataclass(frozen=True)
class _Group:
    inline: Tuple[Policy, ...]
    attached: Tuple[Union[Policy, _Missing], ...]


def _groups(file: _File, data: Mapping[str, Any], managed: Mapping[str, _Managed]) -> Dict[str, _Group]:
    out = {}
    for path, group in _items(file, data, "GroupDetailList", "GroupName"):
        name = group["GroupName"]
        out[name] = _Group(tuple(_inline(file, group, "GroupPolicyList", path, f"group {name}")),
                           tuple(_attached(file, group, path, managed)))
    return out


def _user(file: _File, path: Path, user: Mapping[str, Any], managed: Mapping[str, _Managed],
          groups: Mapping[str, _Group]) -> Principal:
    name = user["UserName"]
    desc = f"user {name}"
    policies = _inline(file, user, "UserPolicyList", path, desc)
    _collect(file, _attached(file, user, path, managed), desc, policies)
    member_of = user.get("GroupList")
    for k, group_name in enumerate(member_of if isinstance(member_of, list) else []):
        where = path + ("GroupList", k)
        group = groups.get(group_name) if isinstance(group_name, str) else None
        if group is None:
            file.unresolved.append(Unresolved(f"group {group_name} of {desc} (not in the export)", file.loc(where)))
            policies.append(unresolved_policy(f"group {group_name}", "identity", file.loc(where)))
            continue
        _collect(file, group.inline, f"group {group_name} of {desc}", policies)
        _collect(file, group.attached, f"group {group_name} of {desc}", policies, where)
    arn = user.get("Arn") if isinstance(user.get("Arn"), str) else None
    return Principal(id=name, type="user", arn=arn, account=_account(arn), identity_policies=tuple(policies),
                     boundary=_boundary(file, user, path, managed, desc), tags=_tags(user.get("Tags")),
                     location=file.loc(path), aliases=_unique([name, arn]))


def _role(file: _File, path: Path, role: Mapping[str, Any], managed: Mapping[str, _Managed]) -> Principal:
    name = role["RoleName"]
    desc = f"role {name}"
    policies = _inline(file, role, "RolePolicyList", path, desc)
    _collect(file, _attached(file, role, path, managed), desc, policies)
    trust = None
    if "AssumeRolePolicyDocument" in role:
        doc = _open(role["AssumeRolePolicyDocument"], path + ("AssumeRolePolicyDocument",))
        trust = _try_build(file, doc, "AssumeRolePolicyDocument", "trust", f"trust policy of {desc}", doc.path)
    profiles = role.get("InstanceProfileList")
    profile_names = [p.get("InstanceProfileName") for p in profiles if isinstance(p, Mapping)] \
        if isinstance(profiles, list) else []
    arn = role.get("Arn") if isinstance(role.get("Arn"), str) else None
    return Principal(id=name, type="role", arn=arn, account=_account(arn), identity_policies=tuple(policies),
                     boundary=_boundary(file, role, path, managed, desc), tags=_tags(role.get("Tags")),
                     location=file.loc(path), trust_policy=trust,
                     aliases=_unique([name, arn] + [n for n in profile_names if isinstance(n, str)]))


def _gaad_documents(data: Mapping[str, Any]) -> List[Tuple[Any, str]]:
    """The policy documents of an export written as objects, with the kind each is read as: what
    a child validates ahead (``_send_verdicts``). A document missed here, or the wrong shape, is
    only validated where it is read, as any document."""
    out: List[Tuple[Any, str]] = []

    def each(key: str, within: Any = data) -> List[Any]:
        items = within.get(key) if isinstance(within, dict) else None
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    for entry in each("Policies"):
        k = _default_version(entry)  # the version read
        if k is not None and isinstance(entry["PolicyVersionList"][k].get("Document"), dict):
            out.append((entry["PolicyVersionList"][k]["Document"], "identity"))
    for key, policies in (("GroupDetailList", "GroupPolicyList"), ("UserDetailList", "UserPolicyList"),
                          ("RoleDetailList", "RolePolicyList")):
        for owner in each(key):
            out += [(p["PolicyDocument"], "identity") for p in each(policies, owner)
                    if isinstance(p.get("PolicyDocument"), dict)]
            if key == "RoleDetailList" and isinstance(owner.get("AssumeRolePolicyDocument"), dict):
                out.append((owner["AssumeRolePolicyDocument"], "trust"))
    return out


# An export this large (in characters) has its documents validated by a child forked before this
# process parses the file: it reads the text with json.loads (four times quicker than parsing with
# positions) and validates the documents in the order this process reads them, sending verdicts
# as it goes; this process, once it has parsed the file, takes each verdict as it meets the
# document, and where the child has not got there yet validates from the last document back
# (``_Ahead``). Below this size a fork costs more than it saves.
_AHEAD = 2_000_000
_BATCH = 64  # documents a verdict message holds


def _send_verdicts(text: str, send: Callable[[Any], None]) -> None:
    """What the forked child does: the number of documents of the export ``text``
    (``_gaad_documents``), then ``(start, verdicts)`` for runs of them, from the first on."""
    data = loads(text[1:] if text.startswith("\ufeff") else text)
    if not is_gaad(data):
        return
    documents = _gaad_documents(data)
    send(len(documents))
    for start in range(0, len(documents), _BATCH):
        send((start, verdicts(documents[start:start + _BATCH])))


def _validating(text: str) -> Optional[parallel.Stream]:
    """The child validating a large export (``_send_verdicts``), started before this process
    parses ``text``; None for a smaller file (every document is validated where it is read)."""
    if len(text) < _AHEAD or not any(f'"{key}"' in text for key in _GAAD_LISTS):
        return None
    return parallel.fork_stream(lambda send: _send_verdicts(text, send))


class _Ahead:
    """The grammar's verdicts on the export's documents, for ``_try_build`` to take as it meets
    each (``get((id(document), kind))``): from the first on from the child (``_send_verdicts``);
    when the next one has not come yet, this process validates a run from the last back instead of
    waiting, until what the two have covered meets. The child read the same text into the same
    data (it says how many documents it found, which must be the number found here); a document
    not covered (the child failed, ended or sent something else; a document that is not one of
    them) gets None: it is validated where it is read."""

    def __init__(self, data: Mapping[str, Any], child: parallel.Stream) -> None:
        self._documents = _gaad_documents(data)
        self._index = {(id(doc), kind): i for i, (doc, kind) in enumerate(self._documents)}
        self._found: List[Verdict] = []  # the child's, from the first on
        self._there = len(self._documents)  # validated here: [there, n)
        self._tail: List[Optional[Verdict]] = [None] * len(self._documents)  # their verdicts, by index
        self._child: Optional[parallel.Stream] = child
        if child.next() != len(self._documents):
            self.close()

    def get(self, key: Tuple[int, str]) -> Optional[Verdict]:
        i = self._index.get(key)
        if i is None:
            return None
        while len(self._found) <= i < self._there and self._child is not None:
            if not self._take(self._child.ready()) and len(self._found) <= i:
                start = max(len(self._found), self._there - _BATCH)  # not come yet: a run from the back
                self._tail[start:self._there] = verdicts(self._documents[start:self._there])
                self._there = start
        if len(self._found) >= self._there:
            self.close()  # all covered
        if i < len(self._found):
            return self._found[i]
        return self._tail[i] if i >= self._there else None

    def _take(self, pieces: List[Any]) -> bool:
        """The child's runs, in order; False when none came. One out of order ends the child."""
        for piece in pieces:
            start, given = piece if isinstance(piece, tuple) and len(piece) == 2 else (None, None)
            if start != len(self._found) or not isinstance(given, list) or not given:
                self.close()  # not the next run: the rest is validated here
                return False
            self._found += given[:max(0, self._there - start)]
        return bool(pieces)

    def close(self) -> None:
        if self._child is not None:
            self._child.cancel()
            self._child = None


def _read_gaad(file: _File, data: Mapping[str, Any], child: Optional[parallel.Stream] = None) -> Inventory:
    ahead = _Ahead(data, child) if child is not None else None
    if ahead is not None:
        file.verdicts = ahead
    try:
        managed = _managed_policies(file, data)
        groups = _groups(file, data, managed)
        principals = [_user(file, path, user, managed, groups)
                      for path, user in _items(file, data, "UserDetailList", "UserName")]
        principals += [_role(file, path, role, managed)
                       for path, role in _items(file, data, "RoleDetailList", "RoleName")]
    finally:
        if ahead is not None:
            ahead.close()
    return Inventory(principals=tuple(principals),
                     policies=tuple(m.policy for m in managed.values() if m.policy is not None),
                     unresolved=tuple(file.unresolved), problems=tuple(file.problems),
                     documents=tuple(file.policy_documents))


# ---------------------------------------------------------------------------------------------
# Entry points


def _load(path: str, text: str) -> Tuple[Any, Positions]:
    """Parse the file, or raise SourceError (kind parse-error) saying why it is unreadable."""
    if not text.strip():
        raise SourceError(f"{path}: the file is empty", Location(path, 1, 1))
    try:
        return load(text)
    except JsonError as e:
        raise SourceError(f"{path}: not valid JSON: {e.message}", Location(path, e.line, e.column)) from None


def read(path: str, text: str, options: Any = None) -> Optional[Inventory]:
    """The IAM content of a JSON file; ``None`` when the file is valid JSON but not IAM JSON.

    ``path`` is the display path used in every Location. Bad content never raises: it comes
    back as ``Inventory.problems`` (``parse-error`` or ``invalid-policy``).

    A standalone document is validated as the kind its shape says it is (a policy file carries no
    attachment that would say):

    - a **trust policy** when every statement has a ``Principal`` (or ``NotPrincipal``), no
      ``Resource``/``NotResource``, and an ``Action`` whose every entry is one of ``TRUST_ACTIONS``
      (``sts:AssumeRole``, ``…WithWebIdentity``, ``…WithSAML``, ``sts:TagSession``,
      ``sts:SetSourceIdentity``, any case) or an ``sts:`` pattern matching one (``sts:AssumeRole*``).
      A role's trust policy is the one policy whose statements name no resource: the role is the
      resource (``aws iam create-role --assume-role-policy-document file://trust.json``). So is the
      ``AssumeRolePolicyDocument`` of ``aws iam get-role`` output, whatever its shape;
    - otherwise a **resource policy** when any statement has a ``Principal`` (a bucket or queue
      policy saved to a file) — so a statement with a ``Principal`` in a file that is otherwise an
      identity policy is still reported (the other statements lack a ``Principal``);
    - otherwise an **identity policy**.
    """
    child = _validating(text)
    try:
        data, positions = _load(path, text)
    except SourceError as e:
        if child is not None:
            child.cancel()
        return Inventory(problems=(_finding("parse-error", e.message, e.location),))
    file = _File(path, positions, placeholders_possible=_may_hold_placeholders(text))
    if is_gaad(data):
        return _read_gaad(file, data, child)
    if child is not None:
        child.cancel()
    entries = _entries(file, data)
    if entries is None:
        return None
    policies = []
    for entry in entries:
        if isinstance(entry, int):
            file.problem("invalid-policy", f"{path}: element [{entry}] is not a policy document",
                         file.loc((entry,)))
            continue
        doc, name, where = entry
        policy = _try_build(file, doc, name, doc.kind or _kind_of(doc.data), f"policy {name}", where)
        if policy is not None:
            policies.append(policy)
    return Inventory(policies=tuple(policies), problems=tuple(file.problems), documents=tuple(file.policy_documents))


def read_policy_file(path: str, text: str, kind: str) -> Tuple[Policy, ...]:
    """The policies of a file a manifest names (``policies:``, ``boundary:``, ``guardrails:``).

    Every policy gets ``kind``. Raises SourceError (a PolicyError) with the file, line and a
    clear message when the file is not JSON or not one or more policy documents.
    """
    data, positions = _load(path, text)
    file = _File(path, positions, placeholders_possible=_may_hold_placeholders(text))
    if is_gaad(data):
        raise SourceError(f"{path}: an account authorization export (get-account-authorization-details), "
                          "not a policy document", file.loc(()))
    entries = _entries(file, data)
    if entries is None:
        raise SourceError(f'{path}: not a policy document (expected {{"Version": ..., "Statement": [...]}}, '
                          "a list of them, or aws iam get-policy-version output)", file.loc(()))
    policies = []
    for entry in entries:
        if isinstance(entry, int):
            raise SourceError(f"{path}: element [{entry}] is not a policy document", file.loc((entry,)))
        doc, name, where = entry
        policies.append(_build(file, doc, name, kind, f"policy {name}", where))
    return tuple(policies)
