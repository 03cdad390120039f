"""Tests for iamgate.sources.jsonpos: same values as json.loads, exact positions, json's errors."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterator, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamgate.sources.jsonpos import JsonError, Positions, load

CORPUS = Path("/work/shared/corpus")


@pytest.fixture(scope="module")
def corpus_json() -> list:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    return sorted(CORPUS.rglob("*.json"))


def walk(value: Any, path: Tuple = ()) -> Iterator[Tuple[Tuple, Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, path + (i,))


def line_starts(text: str) -> list:
    return [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]


def first_char(value: Any) -> str:
    if isinstance(value, dict):
        return "{"
    if isinstance(value, list):
        return "["
    if isinstance(value, str):
        return '"'
    return json.dumps(value)[0]


def check_positions(text: str, data: Any, positions: Positions) -> None:
    """Every value of ``data`` has a position, and the text there starts that value."""
    paths = list(walk(data))
    assert len(positions) == len(paths)
    starts = line_starts(text)
    for path, value in paths:
        line, column = positions[path]
        at = starts[line - 1] + column - 1
        assert text[at] == first_char(value), (path, line, column)
        if not isinstance(value, (dict, list)):
            decoded, _ = json.JSONDecoder().raw_decode(text, at)
            assert decoded == value or (isinstance(value, float) and math.isnan(value))


# ---------------------------------------------------------------------------------------------
# Positions


POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "caf\\u00e9 \\"quoted\\" \\ud83d\\ude00",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": "*"
    },
    {"Effect": "Deny", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": false}}}
  ]
}
"""


def test_positions_of_a_policy_document() -> None:
    data, pos = load(POLICY)
    assert data == json.loads(POLICY)
    assert data["Statement"][0]["Sid"] == 'café "quoted" \U0001F600'
    assert pos[()] == (1, 1)
    assert pos[("Version",)] == (2, 14)
    assert pos[("Statement",)] == (3, 16)
    assert pos[("Statement", 0)] == (4, 5)
    assert pos[("Statement", 0, "Sid")] == (5, 14)
    assert pos[("Statement", 0, "Effect")] == (6, 17)
    assert pos[("Statement", 0, "Action", 1)] == (7, 34)
    assert pos[("Statement", 1)] == (10, 5)
    assert pos[("Statement", 1, "Condition", "Bool", "aws:SecureTransport")] == (10, 88)
    check_positions(POLICY, data, pos)


def test_columns_count_characters_after_escapes_and_non_ascii() -> None:
    text = '["é😀\\n", "x", {"ключ": [true, null, -1.5e3]}]'
    data, pos = load(text)
    assert data == ["é😀\n", "x", {"ключ": [True, None, -1500.0]}]
    assert pos[(1,)] == (1, 10)  # é, 😀 and the two-character escape count as written
    assert pos[(2, "ключ", 2)] == (1, 37)
    check_positions(text, data, pos)


def test_crlf_lines_and_bom() -> None:
    text = '\ufeff{\r\n  "a": 1,\r\n  "b": [\r\n    2\r\n  ]\r\n}\r\n'
    data, pos = load(text)
    assert data == {"a": 1, "b": [2]}
    assert pos[()] == (1, 1)
    assert pos[("a",)] == (2, 8)
    assert pos[("b", 0)] == (4, 5)


def test_duplicate_keys_keep_the_last_like_json() -> None:
    text = '{"a": 1,\n "a": [2]}'
    data, pos = load(text)
    assert data == json.loads(text) == {"a": [2]}
    assert pos[("a",)] == (2, 7)


def test_positions_helpers() -> None:
    data, pos = load(POLICY)
    assert pos.line(("Statement", 1)) == 10
    assert pos.line(("Statement", 7)) is None
    assert ("Statement", 0, "Resource") in pos and ("Nope",) not in pos
    assert pos.nearest(("Statement", 0, "Condition", "x")) == pos[("Statement", 0)]
    assert pos.nearest(("Missing", 3)) == (1, 1)
    assert pos.linecol(pos.offset(("Version",))) == (2, 14)


def test_scalar_documents_and_constants() -> None:
    for text in ['"x"', " 42 ", "-0.5", "true", "null", "[]", "{}", "NaN", "[Infinity, -Infinity]"]:
        data, pos = load(text)
        expected = json.loads(text)
        assert data == expected or (isinstance(data, float) and math.isnan(data))
        assert type(data) is type(expected)
        assert pos[()] == (1, len(text) - len(text.lstrip()) + 1)


def test_numbers_keep_json_types() -> None:
    data, _ = load('[1, 1.0, 1e2, -0, 12345678901234567890]')
    assert data == [1, 1.0, 100.0, 0, 12345678901234567890]
    assert [type(v) for v in data] == [int, float, float, int, int]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=60, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2, "\t"]), st.booleans())
def test_any_document_matches_json_loads(value: Any, indent: Any, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    data, pos = load(text)
    assert data == json.loads(text)
    check_positions(text, data, pos)


def test_corpus_files_match_json_loads(corpus_json: list) -> None:
    assert corpus_json
    for path in corpus_json:
        text = path.read_text(encoding="utf-8")
        data, pos = load(text)
        assert data == json.loads(text), path
        check_positions(text, data, pos)


# ---------------------------------------------------------------------------------------------
# Errors


BAD = [
    "",
    "   \n  ",
    "{",
    '{"a" 1}',
    '{"a": 1,}',
    '{"a": 1 "b": 2}',
    "{'a': 1}",
    "[1,]",
    "[1 2]",
    '"abc',
    '"a\x01b"',
    '"bad \\x escape"',
    '{"a": 1} x',
    "tru",
    '{\n  "Statement": [\n    {"Effect": "Allow",,}\n  ]\n}',
    "[\n1,\n2\n",
    "-",
    "01",
]


@pytest.mark.parametrize("text", BAD)
def test_errors_are_reported_where_json_reports_them(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(JsonError) as got:
        load(text)
    assert (got.value.line, got.value.column) == (expected.value.lineno, expected.value.colno)
    assert got.value.message == expected.value.msg
    assert isinstance(got.value, ValueError)
    assert f"line {got.value.line}, column {got.value.column}" in str(got.value)


def test_error_message_and_position_inside_a_policy() -> None:
    text = '{\n  "Statement": [\n    {"Effect": "Allow" "Action": "s3:*"}\n  ]\n}'
    with pytest.raises(JsonError) as e:
        load(text)
    assert (e.value.message, e.value.line, e.value.column) == ("Expecting ',' delimiter", 3, 24)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(JsonError) as e:
        load("[" * 100_000 + "]" * 100_000)
    assert "deep" in e.value.message


# ---------------------------------------------------------------------------------------------
# Speed


def test_one_megabyte_export_parses_with_positions() -> None:
    """Its speed is measured by bench/bench_jsonpos.py, not asserted here (a shared CI machine)."""
    statement = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "kms:Decrypt"],
                 "Resource": ["arn:aws:s3:::bucket-é/*", "*"],
                 "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["a", "b"], "n": 1.5}}}
    doc = {"Policies": [{"PolicyName": f"p{i}", "Document": {"Version": "2012-10-17", "Statement": [statement] * 3}}
                        for i in range(1100)]}
    text = json.dumps(doc, indent=2)
    assert len(text) > 1_000_000
    data, pos = load(text)
    assert data == doc
    assert pos[("Policies", 1099, "Document", "Statement", 2)][0] > 1
