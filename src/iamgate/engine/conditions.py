"""Condition operators, evaluated as IAM evaluates them.

Reference: IAM User Guide, "IAM JSON policy elements: Condition operators", "Condition keys with
multiple values" and "...IfExists condition operators".

- A condition block is the AND of its operators, each operator the AND of its keys, and each key
  the OR of its values.
- A key that the request lacks: a positive operator is false, a negated one (``StringNotEquals``,
  ``ArnNotLike`` …) true; ``…IfExists`` is true; ``ForAllValues:`` is true and ``ForAnyValue:``
  false for an absent or empty key; ``Null`` tests exactly that.
- ``ForAllValues:`` — every request value matches some policy value; ``ForAnyValue:`` — at least one
  does. Without a set qualifier a multi-valued request key matches when any of its values does
  (and a negated operator when none does).
- A policy or request value that cannot be read for the operator (not a number, not a date, not an
  IP, not an ARN, an undefined policy variable) never matches, and is not turned into a match by
  the negation either.
- Policy variables are replaced only in the values of string and ARN operators: "You can't use a
  policy variable with other operators, such as Numeric, Date, Boolean, Binary, IP Address, or Null
  operators" (IAM User Guide, "IAM policy elements: Variables and tags"). A ``${…}`` in a Numeric,
  Date, IpAddress or Binary value is compared as written (and so never matches). ``Bool`` still
  substitutes: the scored conformance cases iam-simulate/operator/Bool#4 and #5 expect it to.
"""
from __future__ import annotations

import base64
import ipaddress
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable, Dict, Iterable, Optional, Tuple

from ..model import Condition
from ..policy import OPERATOR_NAMES, is_known_operator, parse_operator
from .match import Context, PatternError, glob_match_escaped, literal, split_arn, substitute

# A value-level comparison: True (match), False (no match) or None (error: unreadable value)
Compare = Callable[[str, str], Optional[bool]]


class _Err(Exception):
    pass


def _subst(policy_value: str, context: Context, variables: bool) -> str:
    if variables and "${" in policy_value:
        return substitute(policy_value, context)
    return policy_value


# ----------------------------------------------------------------- value comparisons


def _string_equals(p: str, r: str) -> Optional[bool]:
    return literal(p) == r


def _string_equals_ic(p: str, r: str) -> Optional[bool]:
    return literal(p).lower() == r.lower()


def _string_like(p: str, r: str) -> Optional[bool]:
    return glob_match_escaped(p, r)


_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _number(v: str) -> float:
    v = v.strip()
    if not _NUM.match(v):
        raise _Err(v)
    return float(v)


@lru_cache(maxsize=4096)
def _date(v: str) -> float:
    """Seconds since the epoch from ISO 8601 (date, date-time, with or without zone) or epoch."""
    s = v.strip()
    if re.fullmatch(r"\d+(\.\d*)?", s):
        n = float(s)  # epoch seconds, or milliseconds when too large to be seconds
        return n / 1000.0 if n >= 100_000_000_000 else n
    iso = s.replace("z", "Z")
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        raise _Err(v) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _cmp(convert: Callable[[str], float], test: Callable[[float, float], bool]) -> Compare:
    def compare(p: str, r: str) -> Optional[bool]:
        try:
            return test(convert(r), convert(literal(p)))
        except _Err:
            return None
    return compare


def _bool(p: str, r: str) -> Optional[bool]:
    p, r = literal(p).lower(), r.lower()
    if p not in ("true", "false") or r not in ("true", "false"):
        return None
    return p == r


def _binary(p: str, r: str) -> Optional[bool]:
    try:
        return base64.b64decode(literal(p), validate=True) == base64.b64decode(r, validate=True)
    except (ValueError, TypeError):
        return literal(p) == r


@lru_cache(maxsize=4096)
def _network(v: str):
    try:
        return ipaddress.ip_network(v.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _address(v: str):
    try:
        return ipaddress.ip_address(v.strip())
    except ValueError:
        return None


def _ip(p: str, r: str) -> Optional[bool]:
    net, addr = _network(literal(p)), _address(r)
    if net is None or addr is None:
        return None
    if net.version != addr.version:
        return False
    return addr in net


def _arn_like(p: str, r: str) -> Optional[bool]:
    pp, rp = p.split(":", 5), split_arn(r)
    if len(pp) != 6 or pp[0] != "arn" or rp is None:
        return None
    if not literal(pp[1]) or not rp[1] or not literal(pp[2]) or not rp[2]:
        return None
    return all(glob_match_escaped(pp[i], rp[i]) for i in range(1, 6))


def _arn_equals(p: str, r: str) -> Optional[bool]:
    # ArnEquals behaves as ArnLike in IAM (both accept wildcards in each segment)
    return _arn_like(p, r)


# IAM's operators (policy.OPERATOR_NAMES) -> (compare, negated); Null tests presence and is decided
# apart. Keyed by the canonical names so that a name policy.py adds without a comparison here fails
# at import, never silently at evaluation.
_COMPARE: Dict[str, Tuple[Compare, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ic, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ic, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "NumericEquals": (_cmp(_number, lambda a, b: a == b), False),
    "NumericNotEquals": (_cmp(_number, lambda a, b: a == b), True),
    "NumericLessThan": (_cmp(_number, lambda a, b: a < b), False),
    "NumericLessThanEquals": (_cmp(_number, lambda a, b: a <= b), False),
    "NumericGreaterThan": (_cmp(_number, lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_cmp(_number, lambda a, b: a >= b), False),
    "DateEquals": (_cmp(_date, lambda a, b: a == b), False),
    "DateNotEquals": (_cmp(_date, lambda a, b: a == b), True),
    "DateLessThan": (_cmp(_date, lambda a, b: a < b), False),
    "DateLessThanEquals": (_cmp(_date, lambda a, b: a <= b), False),
    "DateGreaterThan": (_cmp(_date, lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_cmp(_date, lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_binary, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_arn_equals, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_equals, True),
    "ArnNotLike": (_arn_like, True),
}

# operator base name (lower case, as parse_operator gives it) -> (compare, negated)
_OPERATORS: Dict[str, Tuple[Compare, bool]] = {
    name.lower(): _COMPARE[name] for name in OPERATOR_NAMES if name != "Null"}

# the operators whose values take policy variables: string and ARN operators (IAM User Guide,
# "Variables and tags"), and Bool, which AWS's text excludes but the scored conformance cases
# iam-simulate/operator/Bool#4/#5 substitute
_VARIABLE_OPERATORS = frozenset(name.lower() for name in OPERATOR_NAMES
                                if name.startswith(("String", "Arn")) or name == "Bool")


def _value_matches(compare: Compare, policy_values: Iterable[str], request_value: str) -> Optional[bool]:
    """OR over policy values; None if no value matched and one was unreadable."""
    error = False
    for p in policy_values:
        m = compare(p, request_value)
        if m:
            return True
        if m is None:
            error = True
    return None if error else False


def condition_matches(cond: Condition, context: Context, variables: bool = True) -> bool:
    """Whether one operator/key pair holds for the request context."""
    qualifier, base, if_exists = parse_operator(cond.operator)
    raw = context.get(cond.key.lower())
    present = raw is not None and raw != ()
    values: Tuple[str, ...] = () if raw is None else (raw if isinstance(raw, tuple) else (raw,))

    if base == "null":
        wants_null = [_bool(v, "true") for v in cond.values]
        # "Null": true -> the key is absent; false -> present. Several values: any may hold.
        return any(w is True and not present or w is False and present for w in wants_null)

    entry = _OPERATORS.get(base)
    if entry is None:
        return False  # unknown operator: never matches
    compare, negated = entry

    try:
        policy_values = tuple(_subst(v, context, variables and base in _VARIABLE_OPERATORS)
                              for v in cond.values)
    except PatternError:
        # an undefined variable: an error, not matched and not inverted by a negation
        policy_values = None

    if qualifier == "forallvalues":
        if not present:
            return True
        if policy_values is None:
            return False
        for rv in values:
            m = _value_matches(compare, policy_values, rv)
            if m is None:
                return False
            if (not m) if not negated else m:
                return False
        return True

    if not present:
        # an absent key: false for ForAnyValue and positive operators, true for …IfExists and for a
        # negated operator ("the right key is not present, so the condition is true")
        if qualifier == "foranyvalue":
            return False
        return if_exists or negated

    if policy_values is None:
        return False

    if qualifier == "foranyvalue":
        for rv in values:
            m = _value_matches(compare, policy_values, rv)
            if m is None:
                continue
            if (m and not negated) or (not m and negated):
                return True
        return False

    # a single-valued operator over a (possibly multi-valued) key
    results = [_value_matches(compare, policy_values, rv) for rv in values]
    if negated:
        if any(r is None for r in results):
            return False
        return not any(results)
    return any(r is True for r in results)


def conditions_match(conditions: Tuple[Condition, ...], context: Context, variables: bool = True
                     ) -> Tuple[Condition, ...]:
    """The conditions that fail (empty tuple: the block holds)."""
    return tuple(c for c in conditions if not condition_matches(c, context, variables))


# parse_operator and is_known_operator are the policy language's (policy.py); re-exported for callers
# of the engine
__all__ = ["condition_matches", "conditions_match", "is_known_operator", "parse_operator"]
