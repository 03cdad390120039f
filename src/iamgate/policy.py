"""The IAM policy language: its words, and policy documents turned into model Policies.

- The words: the policy versions, the statement elements, what each policy kind is called in a
  message, and the condition operators (``OPERATOR_NAMES``, ``parse_operator``,
  ``is_known_operator``, ``suggest_operator``). This is the one list of operator names: the
  engine keys its comparisons by it (``engine/conditions.py``), the grammar and the lint rules
  suggest from it.
- Documents: readers of every format end here (``parse_policy``). They hand over a document as
  plain Python data (dicts, lists, strings) plus, where they know them, the line of each statement.

Imports ``model`` only, so that readers, the engine and the rules can all import it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping  # isinstance: four times quicker than typing.Mapping's
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .model import Condition, Location, Policy, Statement

# how each policy type (a Decision.blocked_by name or a policy kind) is called in sentences
POLICY_WORDS = {
    "identity": "identity-based policy", "boundary": "permissions boundary", "session": "session policy",
    "scp": "service control policy", "rcp": "resource control policy", "resource": "resource-based policy",
    "trust": "role trust policy", "kms-key-policy": "key policy", "vpc_endpoint": "VPC endpoint policy",
}



VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_ELEMENTS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                      "Resource", "NotResource", "Condition")
PRINCIPAL_ELEMENTS = ("Principal", "NotPrincipal")
# policies attached to an identity, which may not name a Principal; and those that must
IDENTITY_KINDS = ("identity", "boundary", "session", "scp")
PRINCIPAL_REQUIRED_KINDS = ("resource", "trust")
# a policy kind as messages name it ("ecr": ECR repository policies, a grammar of their own)
KIND_LABEL: Dict[str, str] = {
    "identity": "an identity policy", "boundary": "a permissions boundary",
    "session": "a session policy", "scp": "a service control policy",
    "rcp": "a resource control policy", "resource": "a resource policy", "trust": "a trust policy",
    "vpc_endpoint": "a VPC endpoint policy", "ecr": "an ECR repository policy",
}


# ------------------------------------------------------------------------------ condition operators

# IAM's condition operators, canonically spelt. Each but Null also takes ``IfExists``; each may be
# qualified by a set operator (``ForAnyValue:StringLike``). Matching ignores case.
OPERATOR_NAMES: Tuple[str, ...] = (
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
    "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals",
    "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
)
SET_QUALIFIERS = ("ForAllValues", "ForAnyValue")
_BASES = frozenset(n.lower() for n in OPERATOR_NAMES)
_QUALIFIERS = frozenset(q.lower() for q in SET_QUALIFIERS)
_NAMES_IF_EXISTS = OPERATOR_NAMES + tuple(n + "IfExists" for n in OPERATOR_NAMES if n != "Null")


def parse_operator(operator: str) -> Tuple[Optional[str], str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> (``foranyvalue``, ``stringlike``, True)."""
    qualifier = None
    op = operator
    if ":" in op:
        q, _, op = op.partition(":")
        qualifier = q.lower()
    base = op.lower()
    if_exists = False
    if base.endswith("ifexists") and base != "null":
        base = base[: -len("ifexists")]
        if_exists = True
    return qualifier, base, if_exists


def is_known_operator(operator: str) -> bool:
    qualifier, base, if_exists = parse_operator(operator)
    if qualifier is not None and qualifier not in _QUALIFIERS:
        return False
    if base == "null":
        return not if_exists
    return base in _BASES


def closest(word: str, candidates: Sequence[str], cutoff: float = 0.75) -> Optional[str]:
    """The candidate spelt most like ``word`` (ignoring case), if one is close enough."""
    import difflib  # only when something is misspelt: it costs start-up time
    found = difflib.get_close_matches(word.lower(), [c.lower() for c in candidates], 1, cutoff)
    if not found:
        return None
    return next(c for c in candidates if c.lower() == found[0])


def suggest_operator(operator: str) -> Optional[str]:
    """A known condition operator close to an unknown one (``StringEqualz`` -> ``StringEquals``)."""
    qualifier, base, if_exists = parse_operator(operator)
    prefix = ""
    if qualifier is not None:
        fixed = closest(qualifier, SET_QUALIFIERS, 0.6)
        if fixed is None:
            return None
        prefix = fixed + ":"
    if base == "null" and if_exists:
        name: Optional[str] = "Null"  # Null takes no IfExists
    else:
        name = closest(operator.rpartition(":")[2], _NAMES_IF_EXISTS)
    if name is None:
        return None
    suggestion = prefix + name
    if suggestion.lower() == operator.lower() or not is_known_operator(suggestion):
        return None
    return suggestion


# ------------------------------------------------------------------------------ words in messages


def show(value: Any, limit: int = 80) -> str:
    """A value as JSON, shortened to ``limit`` characters: how messages quote what was written."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def did_you_mean(suggestion: Optional[str]) -> str:
    return f" — did you mean {suggestion}?" if suggestion else ""


# ------------------------------------------------------------------------------ documents


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


EFFECTS = ("Allow", "Deny")


def _effect(value: Any, index: int) -> str:
    """The Effect a statement has: ``Allow`` or ``Deny``, whatever the case it is written in.

    AWS documents the value as case-sensitive, and the grammar (``sources/grammar.py``) reports any
    other spelling (IG3002); but IAM accepts ``"allow"`` in practice (Control Tower Account Factory
    has shipped a trust policy with it since 2021), so a mis-cased word is read as the word it
    spells: one finding says what is wrong, and the policy still counts. Any other value is no
    effect at all (PolicyError).
    """
    if isinstance(value, str):
        for effect in EFFECTS:
            if value.lower() == effect.lower():
                return effect
    raise PolicyError(f'Statement[{index}].Effect: must be "Allow" or "Deny", got {value!r}')


_STR = frozenset({str})


def _element(raw: Mapping[str, Any], name: str, index: int) -> Optional[Tuple[str, ...]]:
    """The statement's element ``name`` as strings (``_strings``), None when absent. A large export
    has tens of thousands of statements: what they nearly all hold, a string or a list of strings,
    is taken as it is, without building an error message's element name or converting each value."""
    value = raw.get(name, _ABSENT)
    if type(value) is str:
        return (value,)
    if value is _ABSENT:
        return None
    if type(value) is list and _STR.issuperset(map(type, value)):
        return tuple(value)
    return _strings(value, f"Statement[{index}].{name}")


_ABSENT = object()


def parse_statement(raw: Any, index: int = 0, location: Optional[Location] = None,
                    unresolved: frozenset = frozenset()) -> Statement:
    if not isinstance(raw, (dict, Mapping)):  # dict first: typing.Mapping's isinstance is slow
        raise PolicyError(f"Statement[{index}]: expected an object")
    # the elements in this order: it decides which error a statement with several gets. An element
    # is looked for before a call is made to read it (most statements have half of them)
    effect = raw.get("Effect")
    if effect != "Allow" and effect != "Deny":
        effect = _effect(effect, index)
    principals = _principal(raw["Principal"], f"Statement[{index}].Principal") if "Principal" in raw else None
    not_principals = (_principal(raw["NotPrincipal"], f"Statement[{index}].NotPrincipal")
                      if "NotPrincipal" in raw else None)
    actions = _element(raw, "Action", index)
    not_actions = _element(raw, "NotAction", index) if "NotAction" in raw else None
    resources = _element(raw, "Resource", index)
    not_resources = _element(raw, "NotResource", index) if "NotResource" in raw else None
    conditions = _conditions(raw["Condition"]) if "Condition" in raw else ()
    sid = raw.get("Sid")
    return Statement(effect, actions, not_actions, resources, not_resources, principals, not_principals,
                     conditions, str(sid) if sid is not None and type(sid) is not str else sid, location, unresolved)


def parse_policy(doc: Any, name: str, kind: str, location: Optional[Location] = None,
                 statement_location: Optional[Callable[[int], Optional[Location]]] = None,
                 arn: Optional[str] = None) -> Policy:
    """A policy document (``{"Version": …, "Statement": …}``) as a Policy.

    ``statement_location(i)`` gives the location of the i-th statement where the reader knows it.
    """
    if type(doc) is not dict and not isinstance(doc, Mapping):  # dict first: typing.Mapping's isinstance is slow
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


def all_unknown(policy: Policy) -> bool:
    """A placeholder whose every statement is unknown: nothing in it can be checked."""
    return all(st.unresolved >= {"Effect", "Action"} for st in policy.statements)
