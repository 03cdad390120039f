"""Tests for iamgate.sources.grammar: the cfn-lint policy grammar of a raw document, and which of its
findings are about elements a reader could not resolve."""
from __future__ import annotations

import datetime
import json
import subprocess
import sys
import textwrap
from typing import Any, Callable, List, Optional, Tuple

import pytest

from iamgate.model import Finding, Location, Policy, Statement
from iamgate.sources.grammar import about_unresolved, validate_document
from iamgate.sources.jsonpos import load

from ..policy_samples import (BUCKET_POLICY_WITHOUT_PRINCIPAL, CORPUS, IDENTITY_POLICY_WITH_PRINCIPAL,
                              REAL, UNKNOWN_CONDITION_OPERATOR)

FILE = "policies/app.json"


def doc_of(text: str) -> Tuple[Any, Callable[[tuple], Optional[Location]]]:
    """A JSON document and a location_of that knows every value's line, as a reader would."""
    data, positions = load(textwrap.dedent(text).strip() + "\n")
    return data, lambda path: Location(FILE, positions.line(path)) if path in positions else None


def grammar(text: str, kind: str = "identity", name: str = "app") -> List[Tuple[str, str, Optional[int]]]:
    data, location_of = doc_of(text)
    return [(f.severity, f.message, f.location.line if f.location else None)
            for f in validate_document(data, kind, location_of, name)]


# ------------------------------------------------------------------------------------- grammar


def test_typo_in_effect_names_the_element_and_its_line() -> None:
    assert grammar("""
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "ReadObjects",
              "Effect": "Alow",
              "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::orders-prod/*"
            }
          ]
        }""") == [("error", 'app: Statement[0].Effect: "Alow" is not one of Allow, Deny', 6)]


def test_finding_fields() -> None:
    data, location_of = doc_of('{"Version": "2012-10-17", "Statement": {"Effect": "Permit", '
                               '"Action": "sqs:SendMessage", "Resource": "*"}}')
    [finding] = validate_document(data, "identity", location_of, "queue-writer")
    assert finding == Finding(kind="invalid-policy", rule="IG3002", severity="error",
                              message='queue-writer: Statement.Effect: "Permit" is not one of Allow, Deny',
                              location=Location(FILE, 1), path=("Statement", "Effect"))


def test_action_and_not_action_together() -> None:
    assert grammar("""
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Action": "dynamodb:Query",
              "NotAction": "dynamodb:DeleteTable",
              "Resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
            }
          ]
        }""") == [("error", "app: Statement[0]: Action and NotAction cannot be used together: use one", 7)]


def test_identity_statement_without_resource() -> None:
    assert grammar("""
        {
          "Version": "2012-10-17",
          "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::orders-prod"},
            {
              "Effect": "Allow",
              "Action": ["s3:GetObject", "s3:PutObject"]
            }
          ]
        }""") == [("error", "app: Statement[1]: missing Resource or NotResource", 5)]


def test_duplicate_sid_points_at_the_second_one() -> None:
    assert grammar("""
        {
          "Version": "2012-10-17",
          "Statement": [
            {"Sid": "ReadObjects", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::orders-prod/*"},
            {"Sid": "ReadObjects", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::orders-prod"}
          ]
        }""") == [("error", 'app: Statement[1].Sid: duplicate Sid "ReadObjects" (also Statement[0])', 6)]


def test_bucket_policy_without_principal() -> None:
    text = BUCKET_POLICY_WITHOUT_PRINCIPAL
    assert grammar(text, "resource", "OrdersBucketPolicy") == [
        ("error", "OrdersBucketPolicy: Statement[0]: missing Principal or NotPrincipal", 4)]


def test_identity_policy_with_principal() -> None:
    text = IDENTITY_POLICY_WITH_PRINCIPAL
    assert grammar(text) == [("error", "app: Statement[0]: Principal is not allowed in an identity policy", 6)]


def test_scp_uses_the_identity_grammar_and_rcp_the_resource_grammar() -> None:
    statement = '{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}'
    scp = f'{{"Version": "2012-10-17", "Statement": [{statement}]}}'
    assert grammar(scp, "scp") == []
    assert grammar(scp, "rcp") == [("error", "app: Statement[0]: missing Principal or NotPrincipal", 1)]
    with_principal = scp.replace('"Effect"', '"Principal": "*", "Effect"')
    assert grammar(with_principal, "rcp") == []
    assert grammar(with_principal, "scp") == [
        ("error", "app: Statement[0]: Principal is not allowed in a service control policy", 1)]


def test_trust_policy_grammar() -> None:
    good = """
        {
          "Version": "2012-10-17",
          "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
          ]
        }"""
    assert grammar(good, "trust") == []
    bad = good.replace('"Action"', '"Resource": "*", "Action"')
    assert grammar(bad, "trust") == [("error", "app: Statement[0]: Resource is not allowed in a trust policy", 4)]


def test_principal_values() -> None:
    text = """
        {
          "Version": "2012-10-17",
          "Statement": [
            {"Effect": "Allow", "Principal": "arn:aws:iam::111122223333:root", "Action": "sqs:SendMessage",
             "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ["111122223333", "orders-role"]},
             "Action": "sqs:SendMessage", "Resource": "*"}
          ]
        }"""
    assert grammar(text, "resource") == [
        ("error", 'app: Statement[0].Principal: "arn:aws:iam::111122223333:root" is not "*": name principals '
                  'in an object, e.g. {"AWS": "arn:aws:iam::111122223333:root"}', 4),
        ("error", 'app: Statement[1].Principal.AWS[1]: "orders-role" is not "*", a 12-digit account ID or an '
                  "IAM principal ARN", 6),
    ]


def test_grammar_details() -> None:
    text = """
        {
          "Version": "2012-10-18",
          "Statment": [],
          "Statement": {
            "Sid": "read orders",
            "Effect": "Allow",
            "Actions": "s3:GetObject",
            "Action": [],
            "Resource": "orders-prod"
          }
        }"""
    assert grammar(text) == [
        ("error", 'app: Version: "2012-10-18" is not one of 2008-10-17, 2012-10-17', 2),
        ("error", 'app: unknown element "Statment" — did you mean Statement?', 3),
        ("error", 'app: Statement.Sid: "read orders" may contain only letters and digits (A-Z, a-z, 0-9)', 5),
        ("error", 'app: Statement: unknown element "Actions" — did you mean Action?', 7),
        ("error", "app: Statement.Action: must not be empty", 8),
        ("error", 'app: Statement.Resource: "orders-prod" is not an ARN or "*"', 9),
    ]


def test_wrong_types() -> None:
    assert grammar('["s3:GetObject"]') == [("error", "app: expected an object, got a list", 1)]
    assert grammar('{"Statement": ["Allow s3:GetObject"]}') == [
        ("error", "app: Statement[0]: expected an object, got a string", 1)]
    assert grammar('{"Version": "2012-10-17"}') == [("error", "app: missing Statement", 1)]


def test_unknown_condition_operator() -> None:
    text = UNKNOWN_CONDITION_OPERATOR
    assert grammar(text) == [
        ("error", 'app: Statement[0].Condition: unknown condition operator "StringEqualz" — did you mean '
                  "StringEquals?", 9)]


def test_one_error_per_statement_element_the_most_specific() -> None:
    text = """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Action": "s3:ListBucket",
              "Resource": "arn:aws:s3:::orders-prod",
              "Condition": {
                "Null": {"s3:prefix": "yes"},
                "NumericLessThanEquals": {"s3:max-keys": [100]}
              }
            }
          ]
        }"""
    assert grammar(text) == [
        ("error", "app: Statement[0].Condition.NumericLessThanEquals.s3:max-keys[0]: expected a string, "
                  "got a number", 10)]


def test_location_falls_back_to_the_closest_known_ancestor() -> None:
    data, _ = doc_of("""
        {
          "Version": "2012-10-17",
          "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"Null": {"aws:TokenIssueTime": "yes"}}}
          ]
        }""")
    statements = {("Statement", 0): Location("t.yaml", 12), ("Statement", 1): Location("t.yaml", 17)}
    [finding] = validate_document(data, "identity", statements.get, "app")
    assert finding.message == 'app: Statement[1].Condition.Null.aws:TokenIssueTime: "yes" is not one of true, false'
    assert finding.location == Location("t.yaml", 17)
    assert validate_document({"Statement": 5}, "identity", lambda path: None, "app")[0].location is None


def test_yaml_dates_are_read_as_written() -> None:
    doc = {"Version": datetime.date(2012, 10, 17),
           "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                          "Condition": {"DateLessThan": {"aws:CurrentTime": datetime.date(2030, 1, 1)}}}]}
    assert validate_document(doc, "identity", lambda path: None, "app") == []


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown policy kind 'identiy'"):
        validate_document({"Statement": []}, "identiy", lambda path: None, "app")


def test_ecr_repository_policy_needs_no_resource() -> None:
    text = ('{"Version": "2012-10-17", "Statement": [{"Sid": "Pull", "Effect": "Allow", '
            '"Principal": {"AWS": "arn:aws:iam::111122223333:root"}, '
            '"Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}')
    assert grammar(text, "ecr") == []
    assert grammar(text, "resource") == [("error", "app: Statement[0]: missing Resource or NotResource", 1)]


def test_cfn_lint_is_never_imported() -> None:
    code = textwrap.dedent("""
        import sys
        import iamgate.sources.grammar as v
        found = v.validate_document({"Statement": [{"Effect": "Alow"}]}, "identity", lambda p: None, "p")
        assert len(found) == 3, found
        assert "cfnlint" not in sys.modules, "cfnlint was imported"
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------------- real world


@pytest.mark.parametrize("name,kind,where", REAL, ids=[r[0].rsplit("/", 1)[1] for r in REAL])
def test_real_world_policies_are_valid(name: str, kind: str, where: Tuple[str, ...]) -> None:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip("../shared/corpus is not present")
    data, positions = load(path.read_text(encoding="utf-8"))
    for key in where:
        data = data[key]
    assert len(json.dumps(data)) > 300
    location_of = lambda p: Location(name, positions.line(where + p)) if where + p in positions else None
    assert validate_document(data, kind, location_of, name) == []


def test_every_schema_keyword_is_understood() -> None:
    """A new cfn-lint keyword in the IAM schemas would otherwise be ignored silently."""
    from iamgate.sources import grammar as validate

    known = set(validate._validator_class().VALIDATORS) | {"$id", "definitions", "then", "else", "cfnLint"}
    found: set = set()

    def walk(schema: Any) -> None:
        if isinstance(schema, dict):
            found.update(schema)
            for key, value in schema.items():
                if key in ("properties", "patternProperties", "definitions"):
                    for sub in value.values():
                        walk(sub)
                elif key in ("items", "additionalProperties", "if", "then", "else", "not"):
                    walk(value)
                elif key in ("allOf", "anyOf", "oneOf"):
                    for sub in value:
                        walk(sub)

    for name in validate._SCHEMA_FILES:
        walk(validate._schema(name))
    assert {"requiredXor", "uniqueKeys", "cfnLint"} <= found
    assert found <= known, found - known


# ------------------------------------------------------------------------------------- unresolved elements


def _grammar_finding(message: str, path: tuple) -> Finding:
    return Finding(kind="invalid-policy", rule="IG3002", severity="error", message=message, path=path)


def _statements(*unresolved: frozenset) -> Policy:
    return Policy("app", "identity", tuple(Statement(effect="Allow", actions=("*",), resources=("*",),
                                                     unresolved=u) for u in unresolved))


def test_about_unresolved_decides_on_the_path() -> None:
    policy = _statements(frozenset(), frozenset({"Action", "Resource"}))
    # in an element a reader could not resolve: dropped, whatever the message says
    assert about_unresolved(_grammar_finding("app: anything", ("Statement", 1, "NotAction")), policy)
    assert about_unresolved(_grammar_finding("app: x", ("Statement", 1, "Resource", 0)), policy)
    # the same element of a statement that was resolved: kept
    assert not about_unresolved(_grammar_finding("app: Statement[0].Action: x", ("Statement", 0, "Action")), policy)
    # a Statement written as one object has paths without an index
    single = _statements(frozenset({"Condition"}))
    assert about_unresolved(_grammar_finding("app: Statement.Condition: x", ("Statement", "Condition", "Null")),
                            single)


def test_a_finding_whose_message_names_an_unresolved_element_but_whose_path_does_not_is_kept() -> None:
    policy = _statements(frozenset({"Action"}))
    about_statement = _grammar_finding("app: Statement[0]: Action and Resource: missing Resource or NotResource",
                                       ("Statement", 0))
    assert not about_unresolved(about_statement, policy)
    elsewhere = _grammar_finding('app: Statement[0].Sid: "Read Action" may contain only letters and digits',
                                 ("Statement", 0, "Sid"))
    assert not about_unresolved(elsewhere, policy)
    assert not about_unresolved(_grammar_finding("app: Statement[0].Action in Version", ("Version",)), policy)


def test_documents_equal_but_for_a_values_type_each_get_their_own_verdict() -> None:
    """The verdict is remembered per distinct document: 1, 1.0, True and "1" are four documents."""
    from iamgate.sources import grammar as g

    def doc(sid: Any) -> Any:
        return {"Version": "2012-10-17",
                "Statement": [{"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}

    sids = ["1", 1, 1.0, True, None, "1"]
    where = lambda path: Location(FILE, 1)  # noqa: E731
    remembered = [[f.message for f in validate_document(doc(s), "identity", where, "app", plain=True)]
                  for s in sids]
    fresh = []
    for s in sids:
        g._CACHE.clear()
        fresh.append([f.message for f in validate_document(doc(s), "identity", where, "app", plain=True)])
    assert remembered == fresh
    assert remembered[0] == [] and all(remembered[k] for k in (1, 2, 3, 4))
