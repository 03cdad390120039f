"""Condition operators on realistic keys, including the absent-key and multi-value rules."""
import pytest

from iamgate.engine.conditions import condition_matches, is_known_operator
from iamgate.engine.evaluate import normalize_context
from iamgate.model import Condition


def holds(operator, key, values, context):
    return condition_matches(Condition(operator, key, tuple(values)), normalize_context(context))


@pytest.mark.parametrize("operator,values,request_value,expected", [
    ("StringEquals", ["vpce-0abc"], "vpce-0abc", True),
    ("StringEquals", ["vpce-0abc"], "VPCE-0ABC", False),
    ("StringEqualsIgnoreCase", ["vpce-0abc"], "VPCE-0ABC", True),
    ("StringLike", ["team-*"], "team-payments", True),
    ("StringNotLike", ["team-*"], "ops", True),
    ("NumericLessThanEquals", ["3600"], "900", True),
    ("NumericLessThan", ["3600"], "not-a-number", False),
    ("DateGreaterThan", ["2026-01-01T00:00:00Z"], "2026-11-28T08:00:00Z", True),
    ("DateLessThan", ["2026-01-01"], "1767225599", True),  # epoch seconds
    ("Bool", ["true"], "TRUE", True),
    ("IpAddress", ["203.0.113.0/24"], "203.0.113.7", True),
    ("IpAddress", ["2001:db8::/32"], "2001:db8:1::1", True),
    ("NotIpAddress", ["203.0.113.0/24"], "198.51.100.1", True),
    ("ArnLike", ["arn:aws:iam::*:role/ci-*"], "arn:aws:iam::111122223333:role/ci-deploy", True),
    ("ArnNotLike", ["arn:aws:iam::*:role/ci-*"], "arn:aws:iam::111122223333:role/app", True),
    ("ArnEquals", ["arn:aws:sns:us-east-1:111122223333:orders"], "not-an-arn", False),
    ("BinaryEquals", ["QmluYXJ5VmFsdWU="], "QmluYXJ5VmFsdWU=", True),
])
def test_operators(operator, values, request_value, expected):
    assert holds(operator, "k:key", values, {"k:key": request_value}) is expected


def test_keys_are_case_insensitive():
    assert holds("StringEquals", "AWS:SourceVpce", ["vpce-1"], {"aws:sourcevpce": "vpce-1"})


def test_absent_key():
    ctx = {}
    assert not holds("StringEquals", "aws:SourceVpce", ["vpce-1"], ctx)
    assert holds("StringNotEquals", "aws:SourceVpce", ["vpce-1"], ctx)  # negated: true when absent
    assert holds("StringEqualsIfExists", "aws:SourceVpce", ["vpce-1"], ctx)
    assert holds("Null", "aws:SourceVpce", ["true"], ctx)
    assert not holds("Null", "aws:SourceVpce", ["false"], ctx)
    assert holds("ForAllValues:StringEquals", "aws:TagKeys", ["a"], ctx)
    assert not holds("ForAnyValue:StringEquals", "aws:TagKeys", ["a"], ctx)


def test_multi_valued_keys():
    ctx = {"aws:TagKeys": ["team", "cost-center"]}
    assert holds("ForAllValues:StringEquals", "aws:TagKeys", ["team", "cost-center", "env"], ctx)
    assert not holds("ForAllValues:StringEquals", "aws:TagKeys", ["team"], ctx)
    assert holds("ForAnyValue:StringEquals", "aws:TagKeys", ["team"], ctx)
    assert not holds("ForAnyValue:StringEquals", "aws:TagKeys", ["env"], ctx)
    assert holds("ForAnyValue:StringNotEquals", "aws:TagKeys", ["team"], ctx)


def test_policy_variables_in_values():
    ctx = {"aws:username": "alice", "s3:prefix": "home/alice/"}
    assert holds("StringLike", "s3:prefix", ["home/${aws:username}/*"], ctx)
    # an undefined variable is an error, and a negation does not turn it into a match
    assert not holds("StringNotEquals", "s3:prefix", ["${aws:userid}"], ctx)


def test_malformed_values_never_match():
    assert not holds("IpAddress", "aws:SourceIp", ["not-a-cidr"], {"aws:SourceIp": "10.0.0.1"})
    assert not holds("NotIpAddress", "aws:SourceIp", ["not-a-cidr"], {"aws:SourceIp": "10.0.0.1"})
    assert not holds("DateNotEquals", "aws:CurrentTime", ["yesterday"], {"aws:CurrentTime": "2026-01-01"})


def test_operator_names():
    assert is_known_operator("ForAnyValue:StringLikeIfExists")
    assert is_known_operator("Null")
    assert not is_known_operator("StringEqualz")
    assert not is_known_operator("NullIfExists")


def test_the_engine_compares_exactly_the_operators_the_policy_language_names():
    from iamgate.engine import conditions
    from iamgate.policy import OPERATOR_NAMES

    assert set(conditions._COMPARE) == set(OPERATOR_NAMES) - {"Null"}
    assert all(is_known_operator(name) and is_known_operator(f"ForAllValues:{name}") for name in OPERATOR_NAMES)
