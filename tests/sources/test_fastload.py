"""Reading large account exports fast without loosening the grammar (issue 15): each distinct
document is validated once, positions are looked up only for a finding, and a bad document deep in
a big export gives the same finding, at the same line, as it does on its own."""
from __future__ import annotations

import copy
import json
from typing import Any, Dict, List

import pytest

from iamgate.model import Location
from iamgate.sources import grammar
from iamgate.sources.grammar import validate_document
from iamgate.sources.iam_json import read

ACCOUNT = "123456789012"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def inline(i: int) -> Dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": f"Read{k}", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::bucket-{i % 5}-{k}", f"arn:aws:s3:::bucket-{i % 5}-{k}/*"],
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": f"team{k}"}}} for k in range(6)]}


def export(roles: int, docs: Any = inline) -> Dict[str, Any]:
    return {"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [
        {"RoleName": f"role{i}", "Arn": f"arn:aws:iam::{ACCOUNT}:role/role{i}", "Path": "/",
         "AssumeRolePolicyDocument": TRUST,
         "RolePolicyList": [{"PolicyName": "app", "PolicyDocument": docs(i)}]} for i in range(roles)]}


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """The grammars documents were validated against, one entry per validation, from a cold cache."""
    calls: List[str] = []
    check = grammar._check

    def counting(data: Any, name: str, kind: str) -> Any:
        calls.append(name)
        return check(data, name, kind)

    monkeypatch.setattr(grammar, "_CACHE", {})
    monkeypatch.setattr(grammar, "_check", counting)
    return calls


def line_of(text: str, needle: str, occurrence: int = 0) -> int:
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def test_a_bad_document_deep_in_a_big_export_gives_the_same_finding_at_its_line() -> None:
    def docs(i: int) -> Dict[str, Any]:
        doc = inline(i)
        if i == 377:
            doc["Statement"][4]["Effect"] = "allow"
        return doc

    big = json.dumps(export(400, docs), indent=2)
    inventory = read("big.json", big)
    assert [(f.rule, f.message, f.location) for f in inventory.problems] == [
        ("IG3002", 'big.json: inline policy app of role role377: Statement[4].Effect: "allow" is not one of '
                   'Allow, Deny (Effect is case-sensitive: write "Allow")',
         Location("big.json", line_of(big, '"Effect": "allow"'), inventory.problems[0].location.column))]
    assert len(inventory.principals) == 400
    # the same document alone: the same message
    small = json.dumps(export(1, lambda i: docs(377)), indent=2)
    alone = read("big.json", small).problems
    assert [f.message for f in alone] == [f.message.replace("role377", "role0") for f in inventory.problems]


def test_identical_documents_are_validated_once(counted: List[str]) -> None:
    inventory = read("export.json", json.dumps(export(200)))
    assert len(inventory.principals) == 200 and not inventory.problems
    # five distinct inline policies (i % 5) and one trust policy shared by every role
    assert sorted(counted) == ["identity"] * 5 + ["trust"]


def test_identical_bad_documents_each_get_their_finding_at_their_own_line(counted: List[str]) -> None:
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                   "Resource": "Q.Arn"}]}
    text = json.dumps(export(3, lambda i: copy.deepcopy(bad)), indent=2)
    problems = read("export.json", text).problems
    assert [(f.message, f.location.line) for f in problems] == [
        (f'export.json: inline policy app of role role{i}: Statement[0].Resource: "Q.Arn" is not an ARN or "*"',
         line_of(text, '"Resource": "Q.Arn"', i)) for i in range(3)]
    assert counted == ["identity", "trust"]


def test_the_cache_tells_kinds_apart(counted: List[str]) -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                   "Action": "s3:GetObject", "Resource": "*"}]}
    nowhere = lambda path: None  # noqa: E731
    identity = validate_document(doc, "identity", nowhere, "p")
    resource = validate_document(doc, "resource", nowhere, "p")
    assert [f.message for f in identity] == ["p: Statement[0]: Principal is not allowed in an identity policy"]
    assert resource == []
    assert validate_document(copy.deepcopy(doc), "identity", nowhere, "p") == identity
    assert counted == ["identity", "resource"]


def test_a_valid_document_looks_up_no_position() -> None:
    asked: List[Any] = []

    def location_of(path: Any) -> Location:
        asked.append(path)
        return Location("f.json", 1)

    assert validate_document(inline(0), "identity", location_of, "p") == []
    assert asked == []


def test_a_yaml_date_version_is_judged_as_its_iso_string(counted: List[str]) -> None:
    import datetime

    as_date = dict(inline(0), Version=datetime.date(2012, 10, 17))
    old_date = dict(inline(0), Version=datetime.date(2012, 10, 18))
    nowhere = lambda path: None  # noqa: E731
    assert validate_document(as_date, "identity", nowhere, "p") == []
    assert [f.message for f in validate_document(old_date, "identity", nowhere, "p")] == [
        'p: Version: "2012-10-18" is not one of 2008-10-17, 2012-10-17']
    assert validate_document(dict(as_date), "identity", nowhere, "p") == []
    assert counted == ["identity", "identity"]


def test_odd_values_are_validated_uncached_and_never_crash(counted: List[str]) -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": object(), "Resource": "*"}]}
    nowhere = lambda path: None  # noqa: E731
    first = validate_document(doc, "identity", nowhere, "p")
    second = validate_document(doc, "identity", nowhere, "p")
    assert first == second and len(first) == 1
    assert counted == ["identity", "identity"]


def test_keys_that_json_would_write_alike_do_not_share_a_verdict(counted: List[str]) -> None:
    nowhere = lambda path: None  # noqa: E731
    as_text = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                       "Resource": "*", "1": "x"}]}
    as_int = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                      "Resource": "*", 1: "x"}]}
    assert [f.message for f in validate_document(as_text, "identity", nowhere, "p")] == [
        'p: Statement[0]: unknown element "1"']
    validate_document(as_int, "identity", nowhere, "p")
    assert counted == ["identity", "identity"]
