"""Policy documents (the JSON grammar) turned into model Policies and Statements.

Readers of every format end here: they hand over a document as plain Python data (dicts, lists,
strings) plus, where they know them, the line of each statement.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .model import Condition, Location, Policy, Statement

# how each policy type (a Decision.blocked_by name or a policy kind) is called in sentences
POLICY_WORDS = {
    "identity": "identity-based policy", "boundary": "permissions boundary", "session": "session policy",
    "scp": "service control policy", "rcp": "resource control policy", "resource": "resource-based policy",
    "trust": "role trust policy", "kms-key-policy": "key policy", "vpc_endpoint": "VPC endpoint policy",
}


class PolicyError(ValueError):
    """A document that is not an IAM policy; the message says what is wrong."""


def _strings(value: Any, element: str) -> Tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(_scalar(v, element) for v in value)
    return (_scalar(value, element),)


def _scalar(value: Any, element: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise PolicyError(f"{element}: expected a string or a list of strings, got {type(value).__name__}")


def _principal(value: Any, element: str) -> Dict[str, Tuple[str, ...]]:
    if value == "*":
        return {"*": ("*",)}
    if isinstance(value, str):  # a bare ARN or account: the AWS form
        return {"AWS": (value,)}
    if isinstance(value, Mapping):
        return {str(k): _strings(v, f"{element}.{k}") for k, v in value.items()}
    raise PolicyError(f'{element}: expected "*" or an object such as {{"AWS": [...]}}')


def _conditions(value: Any) -> Tuple[Condition, ...]:
    if not isinstance(value, Mapping):
        raise PolicyError("Condition: expected an object of operators")
    out: List[Condition] = []
    for operator, block in value.items():
        if not isinstance(block, Mapping):
            raise PolicyError(f"Condition.{operator}: expected an object of condition keys")
        for key, vals in block.items():
            out.append(Condition(str(operator), str(key), _strings(vals, f"Condition.{operator}.{key}")))
    return tuple(out)


def parse_statement(raw: Any, index: int = 0, location: Optional[Location] = None,
                    unresolved: frozenset = frozenset()) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"Statement[{index}]: expected an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f'Statement[{index}].Effect: must be "Allow" or "Deny", got {effect!r}')

    def opt(name: str) -> Optional[Tuple[str, ...]]:
        return _strings(raw[name], f"Statement[{index}].{name}") if name in raw else None

    principals = _principal(raw["Principal"], f"Statement[{index}].Principal") if "Principal" in raw else None
    not_principals = (_principal(raw["NotPrincipal"], f"Statement[{index}].NotPrincipal")
                      if "NotPrincipal" in raw else None)
    sid = raw.get("Sid")
    return Statement(
        effect=effect,
        actions=opt("Action"),
        not_actions=opt("NotAction"),
        resources=opt("Resource"),
        not_resources=opt("NotResource"),
        principals=principals,
        not_principals=not_principals,
        conditions=_conditions(raw["Condition"]) if "Condition" in raw else (),
        sid=str(sid) if sid is not None else None,
        location=location,
        unresolved=unresolved,
    )


def parse_policy(doc: Any, name: str, kind: str, location: Optional[Location] = None,
                 statement_location: Optional[Callable[[int], Optional[Location]]] = None,
                 arn: Optional[str] = None) -> Policy:
    """A policy document (``{"Version": …, "Statement": …}``) as a Policy.

    ``statement_location(i)`` gives the location of the i-th statement where the reader knows it.
    """
    if not isinstance(doc, Mapping):
        raise PolicyError("a policy document must be a JSON object")
    if "Statement" not in doc:
        raise PolicyError('a policy document needs a "Statement" element')
    raw = doc["Statement"]
    statements: Sequence[Any] = raw if isinstance(raw, list) else [raw]
    version = doc.get("Version")
    parsed = tuple(parse_statement(s, i, statement_location(i) if statement_location else location)
                   for i, s in enumerate(statements))
    return Policy(name=name, kind=kind, statements=parsed, location=location,
                  version=str(version) if version is not None else None, arn=arn)


UNKNOWN_ELEMENTS = frozenset({"Sid", "Effect", "Action", "Resource", "Principal", "Condition"})


def unresolved_policy(name: str, kind: str, location: Optional[Location] = None,
                      arn: Optional[str] = None) -> Policy:
    """A policy known to be attached but whose content is unknown (e.g. a managed policy missing from
    an export). It may allow or deny anything, so the engine reports what it could decide as unknown."""
    st = Statement(effect="Allow", actions=("*",), resources=("*",), principals={"*": ("*",)},
                   location=location, unresolved=UNKNOWN_ELEMENTS)
    return Policy(name=name, kind=kind, statements=(st,), location=location, arn=arn)
