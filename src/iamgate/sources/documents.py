"""Policy documents built from resolved infrastructure code, with unknown pieces marked.

CloudFormation and Terraform readers resolve what they can; what they cannot becomes an
``Unknown`` (a whole value) or a ``Partial`` (a string with unknown pieces). Here such a document
becomes a model Policy: an unknown piece is written as ``*`` (so patterns still over-approximate)
and the statement records the element in ``Statement.unresolved``; an unknown statement or an
unknown effect becomes a statement whose content is entirely unknown. The engine never lets such a
statement decide alone: it reports the decisions it could change as ``unknown``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, FrozenSet, List, Mapping, Optional, Tuple

from ..model import Location, Policy, Statement, Unresolved
from ..policy import UNKNOWN_ELEMENTS, PolicyError, parse_statement, unresolved_policy
from .bounds import loads
from .values import Partial, Unknown, unknowns_in

_ELEMENT_OF = {"Action": "Action", "NotAction": "Action", "Resource": "Resource", "NotResource": "Resource",
               "Principal": "Principal", "NotPrincipal": "Principal", "Condition": "Condition",
               "Effect": "Effect", "Sid": "Sid"}

_TOKEN = "\ue010IAMGATE{}\ue011"


def starred(value: Any) -> Any:
    """The value with every unknown piece written as ``*``."""
    if isinstance(value, Unknown):
        return "*"
    if isinstance(value, Partial):
        return value.text("*")
    if isinstance(value, dict):
        return {k: starred(v) for k, v in value.items()}
    if isinstance(value, list):
        return [starred(v) for v in value]
    return value


def from_json_string(value: Any) -> Tuple[Any, List[Unknown]]:
    """A document given as a JSON string (``!Sub`` JSON, ``jsonencode`` output) parsed, with its
    unknown pieces kept as Unknowns where they stood."""
    if isinstance(value, str):
        return loads(value), []
    holes: List[Unknown] = []
    pieces: List[str] = []
    for p in value:
        if isinstance(p, Unknown):
            pieces.append(_TOKEN.format(len(holes)))
            holes.append(p)
        else:
            pieces.append(p)
    return _restore(loads("".join(pieces)), holes), holes


def _restore(data: Any, holes: List[Unknown]) -> Any:
    if isinstance(data, str):
        if "\ue010IAMGATE" not in data:
            return data
        parts: List[Any] = []
        rest = data
        while "\ue010IAMGATE" in rest:
            before, _, after = rest.partition("\ue010IAMGATE")
            num, _, rest = after.partition("\ue011")
            parts.append(before)
            parts.append(holes[int(num)])
        parts.append(rest)
        parts = [p for p in parts if p != ""]
        return parts[0] if len(parts) == 1 and isinstance(parts[0], Unknown) else Partial(parts)
    if isinstance(data, dict):
        return {k: _restore(v, holes) for k, v in data.items()}
    if isinstance(data, list):
        return [_restore(v, holes) for v in data]
    return data


def unknown_statements(value: Any) -> FrozenSet[int]:
    """The indexes of the statements of a resolved document that are wholly unknown (a statement
    under ``Fn::If`` on a condition known only at deployment): ``build_policy`` makes each an
    unresolved placeholder, and the grammar, which sees it written as ``*``, must not judge it
    (``grammar.about_unresolved``). Empty when Statement is not a list."""
    raw = value.get("Statement") if isinstance(value, dict) else None
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(i for i, st in enumerate(raw) if isinstance(st, Unknown))


def build_policy(value: Any, name: str, kind: str, location: Location,
                 statement_line: Callable[[Any, int], Optional[int]] = lambda raw, i: None,
                 arn: Optional[str] = None) -> Tuple[Policy, List[Unknown]]:
    """A Policy from a resolved document; raises PolicyError when it is no policy at all.

    Returns the policy and every Unknown that went into it (for ``unresolved`` findings).
    """
    if isinstance(value, Unknown):
        return unresolved_policy(name, kind, location, arn), [value]
    unknowns: List[Unknown] = []
    if isinstance(value, (str, Partial)):
        try:
            value, holes = from_json_string(value)
        except ValueError as e:
            raise PolicyError(f"the policy document is a string that is not JSON ({e})") from None
        unknowns.extend(holes)
    if not isinstance(value, dict):
        raise PolicyError("a policy document must be an object")
    raw = value.get("Statement")
    if raw is None:
        raise PolicyError('a policy document needs a "Statement" element')
    if isinstance(raw, Unknown):
        return unresolved_policy(name, kind, location, arn), unknowns + [raw]
    statements = raw if isinstance(raw, list) else [raw]
    out: List[Statement] = []
    for i, st in enumerate(statements):
        line = statement_line(st, i)
        where = replace(location, line=line, column=None) if line else location
        if isinstance(st, Unknown) or (isinstance(st, dict) and isinstance(st.get("Effect"), (Unknown, Partial))):
            unknowns.extend(unknowns_in(st))
            out.append(replace(unresolved_policy(name, kind, where).statements[0]))
            continue
        if not isinstance(st, dict):
            raise PolicyError(f"Statement[{i}]: expected an object")
        elements = frozenset(_ELEMENT_OF.get(k, k) for k, v in st.items() if unknowns_in(v))
        unknowns.extend(unknowns_in(st))
        parsed = parse_statement(starred(st), i, where, elements)
        out.append(parsed)
    version = value.get("Version")
    version = version if isinstance(version, str) else None
    return Policy(name=name, kind=kind, statements=tuple(out), location=location, version=version, arn=arn), unknowns


@dataclass
class Attached:
    """A policy attached by a resource of its own, and the names of the roles, users and groups it
    attaches to (matched against the principals once all are read)."""

    policy: Policy
    roles: List[Any] = field(default_factory=list)
    users: List[Any] = field(default_factory=list)
    groups: List[Any] = field(default_factory=list)


def managed_policy_for(arn: Any, kind: str, where: Location, owner: str, customer: Mapping[str, Policy] = {}
                       ) -> Optional[Tuple[Policy, Optional[Unresolved]]]:
    """The policy a managed policy ARN names: one the scanned code defines (``customer``, keyed by the
    ARN with unknown pieces as ``*``), an AWS managed policy from the snapshot, or a placeholder whose
    content is unknown (with the Unresolved that says why). None when the ARN itself is not known."""
    from ..catalog.managed import is_aws_managed_arn, managed_policy
    for key in (arn, starred(arn)):
        if isinstance(key, str) and key in customer:
            found = customer[key]
            return (replace(found, kind=kind) if found.kind != kind else found), None
    if not isinstance(arn, str):
        return None
    name = arn.rsplit("/", 1)[-1]
    if is_aws_managed_arn(arn):
        found = managed_policy(arn)
        if found is not None:
            return replace(found, kind=kind, location=where), None
        why = f"AWS managed policy {arn} (not in the snapshot; of {owner})"
    else:
        why = f"managed policy {arn} (not defined in the scanned files; of {owner})"
    return unresolved_policy(name, kind, where, arn), Unresolved(why, where)


__all__ = ["build_policy", "unknown_statements", "Attached", "managed_policy_for", "UNKNOWN_ELEMENTS"]
