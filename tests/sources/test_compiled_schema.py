"""The compiled policy grammar (``sources/compiled_schema.py``) gives jsonschema's verdict.

``grammar.py`` asks the compiled function whether a document is valid and runs jsonschema's error
walk only when it says no, so a document the compiled code passes but jsonschema rejects would lose
its findings. These tests hold the two equal: on drawn documents near the grammar's edges (every
element, wrong types, case, booleans that are not numbers, Sid repeats, condition operators the
grammar does and does not know), on every policy document of the corpus and on mutations of them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import given, strategies as st

from iamgate.sources import grammar
from iamgate.sources.compiled_schema import Unsupported, compile_schema, equal, pointer

from ..strategies import examples

GRAMMARS = ("identity", "resource", "trust", "ecr")
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def jsonschema_says(doc: Any, name: str) -> bool:
    return bool(grammar._validator(name).is_valid(doc))


def compiled_says(doc: Any, name: str) -> bool:
    compiled = grammar._compiled(name)
    assert compiled is not None, "the shipped grammar compiles"
    return compiled(doc)


# ------------------------------------------------------------------------------ drawn documents

STRINGS = st.sampled_from([
    "*", "Allow", "Deny", "allow", "", "s3:GetObject", "s3:*", "sts:AssumeRole", "iam:PassRole",
    "arn:aws:s3:::bucket/*", "arn:aws:sqs:us-east-1:111122223333:q", "bucket/*", "arn:aws:iam::111122223333:root",
    "arn:aws:iam::111122223333:role/r", "111122223333", "arn:aws:sts::111122223333:assumed-role/r/s",
    "lambda.amazonaws.com", "2012-10-17", "2008-10-17", "2012-10-18", "true", "false", "True", "S1", "S 1",
    "execute-api:/prod/GET/x", "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1",
    "aws:SourceArn", "${aws:username}",
])
SCALARS = st.one_of(STRINGS, st.booleans(), st.integers(-2, 2), st.sampled_from([1.0, 1.5, None]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(STRINGS, inner, max_size=2)), max_leaves=6)
OPERATORS = st.sampled_from(["StringEquals", "StringLike", "ForAnyValue:StringLike", "ForAllValues:StringEquals",
                             "ArnLike", "Bool", "Null", "NumericLessThan", "DateGreaterThan", "IpAddress",
                             "StringEqualsIfExists", "BinaryEquals", "stringequals", "Foo"])
CONDITION_VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
CONDITIONS = st.one_of(st.dictionaries(OPERATORS, st.one_of(st.dictionaries(STRINGS, CONDITION_VALUES, max_size=2),
                                                            VALUES), max_size=2), VALUES)
PRINCIPALS = st.one_of(STRINGS, st.dictionaries(st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "Bad"]),
                                                st.one_of(STRINGS, st.lists(STRINGS, max_size=3), SCALARS), max_size=2),
                       VALUES)
ACTIONS = st.one_of(STRINGS, st.lists(STRINGS, max_size=3), VALUES)
ELEMENT = {"Sid": st.one_of(STRINGS, SCALARS), "Effect": st.one_of(STRINGS, SCALARS), "Action": ACTIONS,
           "NotAction": ACTIONS, "Resource": ACTIONS, "NotResource": ACTIONS, "Principal": PRINCIPALS,
           "NotPrincipal": PRINCIPALS, "Condition": CONDITIONS, "Other": VALUES}


@st.composite
def statements(draw: Any) -> Any:
    """A statement of one of the grammars' shapes, then as many as two of its elements changed,
    dropped or added: near the edge, where the verdicts of a wrong compiler would part."""
    shape = draw(st.sampled_from(["identity", "resource", "trust"]))
    statement: dict = {"Effect": draw(st.sampled_from(["Allow", "Deny"])),
                       draw(st.sampled_from(["Action", "NotAction"])): draw(st.one_of(
                           st.sampled_from(["s3:GetObject", "sts:AssumeRole", "*"]),
                           st.lists(st.sampled_from(["s3:GetObject", "iam:PassRole", "s3:*"]), max_size=3)))}
    if shape != "trust":
        statement[draw(st.sampled_from(["Resource", "NotResource"]))] = draw(st.one_of(
            st.sampled_from(["*", "arn:aws:s3:::bucket/*", "arn:aws:sqs:us-east-1:111122223333:q"]),
            st.lists(st.sampled_from(["*", "arn:aws:s3:::b", "execute-api:/prod/GET/x"]), min_size=1, max_size=2)))
    if shape != "identity":
        statement[draw(st.sampled_from(["Principal", "NotPrincipal"]))] = draw(st.sampled_from(
            ["*", {"AWS": "arn:aws:iam::111122223333:root"}, {"Service": ["lambda.amazonaws.com"]},
             {"AWS": ["111122223333", "*"]}, {"Federated": "cognito-identity.amazonaws.com"}]))
    if draw(st.booleans()):
        statement["Sid"] = draw(st.sampled_from(["S1", "S2", "S 1"]))
    if draw(st.booleans()):
        statement["Condition"] = draw(st.dictionaries(OPERATORS, st.dictionaries(STRINGS, CONDITION_VALUES, max_size=2),
                                                      min_size=1, max_size=2))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
        key = draw(st.sampled_from(sorted(ELEMENT)))
        if key in statement and draw(st.booleans()):
            del statement[key]
        else:
            statement[key] = draw(ELEMENT[key])
    return statement if draw(st.integers(0, 19)) else draw(VALUES)


@st.composite
def documents(draw: Any) -> Any:
    body = draw(st.one_of(st.lists(statements(), max_size=2), statements()))
    version = draw(st.sampled_from(["2012-10-17", "2012-10-17", "2008-10-17", None]))
    doc = {"Version": draw(SCALARS) if version is None else version, "Statement": body}
    if draw(st.booleans()):
        doc.pop("Version")
    if draw(st.integers(0, 5)) == 0:
        doc[draw(st.sampled_from(["Id", "Extra", "Statement"]))] = draw(VALUES)
    return doc if draw(st.integers(0, 19)) else draw(VALUES)


@examples(600)
@given(doc=documents(), name=st.sampled_from(GRAMMARS))
def test_drawn_documents_get_jsonschemas_verdict(doc: Any, name: str) -> None:
    assert compiled_says(doc, name) == jsonschema_says(doc, name)


def test_the_drawn_documents_reach_both_verdicts() -> None:
    """The strategy is not all rejects: valid documents of every grammar are among the draws."""
    valid = {"identity": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
             "resource": {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}},
             "trust": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                      "Action": "sts:AssumeRole"}]},
             "ecr": {"Statement": [{"Sid": "S1", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}]}}
    for name, doc in valid.items():
        assert compiled_says(doc, name) is True and jsonschema_says(doc, name) is True
        duplicated = {"Statement": [doc["Statement"], doc["Statement"]] if isinstance(doc["Statement"], dict)
                      else doc["Statement"] * 2}
        for st_ in duplicated["Statement"]:
            st_.setdefault("Sid", "S1")
        repeats_sid = name != "ecr"  # cfn-lint's ECR grammar has no uniqueKeys
        assert compiled_says(duplicated, name) is jsonschema_says(duplicated, name) is not repeats_sid


# ------------------------------------------------------------------------------ the corpus


def policy_documents(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        if "Statement" in data:
            yield data
        for value in data.values():
            if isinstance(value, str) and value.lstrip().startswith("{") and "Statement" in value:
                try:
                    yield from policy_documents(json.loads(value))
                except ValueError:
                    pass
            else:
                yield from policy_documents(value)
    elif isinstance(data, list):
        for value in data:
            yield from policy_documents(value)


def mutations(doc: Any) -> Iterator[Any]:
    yield doc
    raw = doc.get("Statement")
    for i, statement in enumerate(raw if isinstance(raw, list) else [raw]):
        if not isinstance(statement, dict):
            continue
        for key in list(statement):
            for value in (None, True, [], "*", [statement[key]], "s3 GetObject"):
                changed = dict(statement, **{key: value})
                yield dict(doc, Statement=[changed] if isinstance(raw, list) else changed)
            yield dict(doc, Statement={k: v for k, v in statement.items() if k != key})
        if i >= 1:
            break


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_every_corpus_policy_and_its_mutations_get_jsonschemas_verdict() -> None:
    seen = 0
    for path in sorted(CORPUS.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        for doc in list(policy_documents(data))[:8]:
            for variant in mutations(doc):
                for name in GRAMMARS:
                    assert compiled_says(variant, name) == jsonschema_says(variant, name), (path, variant, name)
                    seen += 1
    assert seen > 1000


# ------------------------------------------------------------------------------ the compiler itself


def compiled(schema: Any) -> Any:
    from jsonschema import Draft7Validator

    return compile_schema(schema, lambda ref, base: (pointer(schema, ref.partition("#")[2]), base),
                          known=Draft7Validator.VALIDATORS)


@pytest.mark.parametrize("schema, instance, valid", [
    ({"enum": [1]}, True, False),                     # True is not 1
    ({"enum": [True, "a"]}, 1, False),
    ({"const": [1, "a"]}, [1, "a"], True),
    ({"const": {"a": [False]}}, {"a": [0]}, False),
    ({"type": "integer"}, 2.0, True),                 # Draft 7: an integral float is an integer
    ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False),
    ({"type": "array"}, (1, 2), False),               # a tuple is not a JSON array
    ({"oneOf": [{"type": "string"}, {"minItems": 1}]}, "s", False),  # valid under both
    ({"oneOf": [{"type": "string"}, {"type": "array"}]}, [], True),
    ({"if": {"type": "string"}, "then": {"const": "*"}, "else": {"type": "array"}}, 3, False),
    ({"items": [{"type": "string"}, {"type": "integer"}]}, ["a", 1, None], True),
    ({"additionalProperties": {"type": "string"}, "patternProperties": {"^x": {"type": "integer"}}},
     {"xa": 1, "b": "s"}, True),
    ({"additionalProperties": False, "patternProperties": {"^x": True}}, {"xa": 1, "b": "s"}, False),
    ({"definitions": {"n": {"anyOf": [{"type": "null"}, {"items": {"$ref": "#/definitions/n"}, "type": "array"}]}},
      "$ref": "#/definitions/n"}, [[None, [[]]]], True),   # recursive: a call, not written in place
    ({"definitions": {"n": {"anyOf": [{"type": "null"}, {"items": {"$ref": "#/definitions/n"}, "type": "array"}]}},
      "$ref": "#/definitions/n"}, [[None, [[1]]]], False),
    ({"cfnLint": ["ignored"], "x-anything": 1}, 5, True),  # not keywords: ignored, as jsonschema does
])
def test_keywords_mean_what_jsonschema_means(schema: Any, instance: Any, valid: bool) -> None:
    from jsonschema import Draft7Validator

    assert Draft7Validator(schema).is_valid(instance) is valid
    assert compiled(schema)(instance) is valid


@pytest.mark.parametrize("keyword", [{"format": "uri"}, {"maxLength": 3}, {"not": {}}, {"type": "decimal"}])
def test_a_keyword_it_does_not_implement_is_refused(keyword: Any) -> None:
    with pytest.raises(Unsupported):
        compiled({"properties": {"a": keyword}})


def test_equal_sets_booleans_apart_from_numbers_at_any_depth() -> None:
    assert equal([1, {"a": True}], [1, {"a": True}])
    assert not equal([1, {"a": True}], [1, {"a": 1}])
    assert not equal({"a": 1}, {"a": 1, "b": 2})


def test_the_keyword_lists_are_jsonschemas() -> None:
    """The compiled validators name the keywords of jsonschema's classes without importing it."""
    from jsonschema import Draft7Validator, Draft202012Validator

    from iamgate.sources.compiled_schema import DRAFT7_KEYWORDS, DRAFT202012_KEYWORDS

    assert DRAFT7_KEYWORDS == set(Draft7Validator.VALIDATORS)
    assert DRAFT202012_KEYWORDS == set(Draft202012Validator.VALIDATORS)


@pytest.mark.parametrize("instance, valid", [({"a": 1}, True), ({"b": 1}, True), ({"a": 1, "b": 2}, False),
                                             ({}, False), ([], True), ("a", True)])
def test_a_written_keyword_is_the_expression_its_value_writes(instance: Any, valid: bool) -> None:
    from iamgate.sources.compiled_schema import Written

    def one_of(v: str, names: Any, const: Any) -> str:
        return f"not isinstance({v}, dict) or (" + " + ".join(f"({const(n)} in {v})" for n in names) + ") == 1"

    check = compile_schema({"oneKey": ["a", "b"]}, lambda ref, base: ({}, base), known=(),
                           extra={"oneKey": Written(one_of)})
    assert check(instance) is valid
