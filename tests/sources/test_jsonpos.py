"""Tests for iamgate.sources.jsonpos: same values as json.loads, exact positions, json's errors."""
from __future__ import annotations

import gc
import json
import math
from pathlib import Path
from typing import Any, Iterator, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamgate.sources.bounds import MAX_DEPTH
from iamgate.sources.jsonpos import JsonError, Positions, _load_eager, load
from ..strategies import examples

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


# ---------------------------------------------------------------------------------------------
# The fast parse against the plain one (_load_eager, the parser load used before it)


def outcome(parse: Any, text: str) -> Any:
    """What ``parse(text)`` gives: ``("data", repr, positions)`` or ``("error", type, details)``."""
    try:
        data, pos = parse(text)
    except JsonError as e:
        return "error", JsonError, (e.message, e.line, e.column, str(e))
    except Exception as e:  # noqa: BLE001 - whatever the plain parser raises, the fast one must too
        return "error", type(e), str(e)
    return "data", repr(data), pos  # repr: NaN equals itself, 1 and 1.0 and True differ


def probes(paths: list) -> list:
    """Every recorded path, and paths next to them that are not there: a child, a sibling."""
    out = []
    for path in paths:
        out += [path, path + ("?",), path + (0,), path + (99,), path[:-1] + ("nope",)]
    return out


def assert_same_as_eager(text: str) -> None:
    """``load`` answers every query as ``_load_eager`` does: data, errors, and every position,
    whichever query comes first (the insides of a shallow container are recorded on demand)."""
    expected = outcome(_load_eager, text)
    got = outcome(load, text)
    assert got[:2] == expected[:2], text
    if expected[0] == "error":
        assert got[2] == expected[2], text
        return
    eager: Positions = expected[2]
    paths = list(eager)
    queries = probes(paths)
    # point queries first, deepest first: each reaches into a container not yet recorded
    pos = load(text)[1]
    for path in sorted(queries, key=len, reverse=True):
        assert pos.nearest(path) == eager.nearest(path), (text, path)
        assert pos.line(path) == eager.line(path), (text, path)
        assert (path in pos) == (path in eager), (text, path)
        if path in eager:
            assert pos[path] == eager[path] and pos.offset(path) == eager.offset(path), (text, path)
        else:
            with pytest.raises(KeyError):
                pos[path]
    assert list(pos) == paths and len(pos) == len(eager)
    # iteration first, then the same queries: recorded in the same order, with the same answers
    pos = load(text)[1]
    assert list(pos) == paths and len(pos) == len(eager)
    assert all(pos.get(path) == eager.get(path) for path in queries)
    assert dict(pos.items()) == dict(eager.items())


WHITESPACE = ["", " ", "\n", "\t", "\r\n", "\n    ", " \t "]
TRICKY = '[]{}",:\\/ \t\n\x00\x1fé😀'


def scalars() -> st.SearchStrategy:
    """A scalar as written: json.dumps of a value (ASCII-only or not) or one of json's constants."""
    values = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False)
              | st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=8))
    return (st.tuples(values, st.booleans()).map(lambda v: json.dumps(v[0], ensure_ascii=v[1]))
            | st.sampled_from(["NaN", "-Infinity", "Infinity", "-0", "0.0", "1e5", "-1.5E-3", '"\\u00e9"',
                               '"[{\\"}]"', '"${aws:username}"', '"\\\\"', '"\\ud83d\\ude00"']))


def documents() -> st.SearchStrategy:
    """JSON text as a tree of containers: keys from a small set (so duplicates), any nesting."""
    keys = st.sampled_from(["a", "b", "Statement", "x[", "}", '"q"', "é"]).map(json.dumps)
    return st.recursive(
        scalars(),
        lambda children: (st.lists(children, max_size=5).map(lambda items: ("[", items))
                          | st.lists(st.tuples(keys, children), max_size=5).map(lambda items: ("{", items))),
        max_leaves=30,
    )


def render(node: Any, gaps: list) -> str:
    """The text of ``node``, with the whitespace from ``gaps`` (cycled) between its tokens."""
    count = [0]

    def gap() -> str:
        count[0] += 1
        return gaps[count[0] % len(gaps)] if gaps else ""

    def text(n: Any) -> str:
        if isinstance(n, str):
            return n
        kind, items = n
        if kind == "[":
            inner = ",".join(gap() + text(item) + gap() for item in items)
            return "[" + (inner or gap()) + "]"
        inner = ",".join(gap() + key + gap() + ":" + gap() + text(item) + gap() for key, item in items)
        return "{" + (inner or gap()) + "}"

    return gap() + text(node) + gap()


@examples(300)
@given(documents(), st.lists(st.sampled_from(WHITESPACE), max_size=6))
def test_load_matches_the_plain_parser(node: Any, gaps: list) -> None:
    assert_same_as_eager(render(node, gaps))


@examples(300)
@given(documents(), st.lists(st.sampled_from(WHITESPACE), max_size=3), st.data())
def test_broken_documents_fail_as_the_plain_parser_fails(node: Any, gaps: list, data: Any) -> None:
    text = render(node, gaps)
    at = data.draw(st.integers(0, len(text)))
    if data.draw(st.booleans()):
        text = text[:at] + text[at + 1:]
    else:
        text = text[:at] + data.draw(st.sampled_from(list('[]{}",:0 \\') + ["nul", "\x01", "١"])) + text[at:]
    assert_same_as_eager(text)


@pytest.mark.parametrize("text", [
    '{"a": [1], "a": 2}', '{"a": 2, "a": {"b": [1]}}', '{"s": {"a": 1, "a": [2, 3]}}',
    '[{"a": {"b": 1}}, {"a": {"b": 1}, "a": {"c": 2}}]',
    '{"Statement": [{"Sid": "]", "Action": ["[", "{"]}, {"x": "\\"]}"}]}',
    '{"r": ["]", ["]", ["]", [1, "["], "["], "["]}',  # brackets in strings cannot hide depth
    "[1١]", '[{"a": 1١}]', "[1, 2]]", '\ufeff{"a": [1]}', '\ufeff\ufeff{"a": [1]}', "[12345" + "6" * 5000 + "]",
    '{"a": [{"b": NaN, "c": -Infinity}]}', "[[], {}, [[]], [{}], {\"a\": {}}]", '{"":{"":[""]}}',
    ])
def test_edge_cases_match_the_plain_parser(text: str) -> None:
    assert_same_as_eager(text)


@pytest.mark.parametrize("inner", [
    "[1]", '{"a": [1]}', '[{"a": 1}]', "[]", "1", '{"a": {"b": {"c": [1]}}}',
    '{"r": ["]", ["]", ["]", [1], "["], "["], "["]}',  # 5 deep; 2 if strings were not skipped
])
@pytest.mark.parametrize("levels", range(MAX_DEPTH - 5, MAX_DEPTH + 2))
def test_the_depth_bound_is_the_plain_parsers(levels: int, inner: str) -> None:
    for text in ("[" * levels + inner + "]" * levels, '{"k": ' * levels + inner + "}" * levels):
        assert_same_as_eager(text)


@pytest.mark.parametrize("levels", range(MAX_DEPTH - 12, MAX_DEPTH + 2))
def test_a_list_decoded_whole_keeps_the_depth_bound(levels: int) -> None:
    """The second list under a key is decoded whole: as deep as the bound allows, or deeper."""
    for inner in ("[" * levels + "]" * levels, "[" + '{"k": ' * levels + "1" + "}" * levels + "]"):
        assert_same_as_eager('{"S": [[1]], "x": {"S": ' + inner + "}}")
        assert_same_as_eager('{"S": [[1]], "x": {"y": {"S": [[' + "[" * levels + "]" * levels + "]]}}}")


def test_corpus_files_match_the_plain_parser(corpus_json: list) -> None:
    for path in corpus_json:
        assert_same_as_eager(path.read_text(encoding="utf-8"))


def test_account_export_matches_the_plain_parser() -> None:
    """The shape of get-account-authorization-details, compact and indented as the AWS CLI writes it."""
    statements = [{"Sid": f"S{i}", "Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"],
                   "Resource": f"arn:aws:s3:::bucket-{i}/${{aws:username}}/*"} for i in range(4)]
    statements.append({"Effect": "Deny", "Action": "*", "Resource": "*",
                       "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}})
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    roles = [{"RoleName": f"role-{i}", "Arn": f"arn:aws:iam::111122223333:role/role-{i}",
              "AssumeRolePolicyDocument": trust, "InstanceProfileList": [], "Tags": [{"Key": "team", "Value": "a"}],
              "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": {"Version": "2012-10-17",
                                                                             "Statement": statements}}]}
             for i in range(12)]
    export = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": []}
    for indent in (None, 4):
        assert_same_as_eager(json.dumps(export, indent=indent))


def test_shallow_containers_are_recorded_on_demand() -> None:
    """Statements are decoded by json's C scanner; what is inside one is recorded when asked for."""
    data, pos = load(POLICY)
    assert pos._lazy == {("Statement", 0): pos.offset(("Statement", 0)),
                         ("Statement", 1): pos.offset(("Statement", 1))}
    assert pos[("Statement", 0, "Action", 1)] == (7, 34)
    assert list(pos._lazy) == [("Statement", 1)]
    check_positions(POLICY, data, pos)
    data, pos = load(json.dumps({"Tags": [{"Key": "a", "Value": "b"}], "Action": ["s3:*"],
                                 "Deep": {"a": {"b": {"c": [1]}}}, "Deeper": {"a": {"b": {"c": {"d": 1}}}}}))
    assert set(pos._lazy) == {("Tags", 0), ("Action",), ("Deep",), ("Deeper", "a")}  # never a list of containers


def test_lists_of_statements_after_the_first_are_decoded_whole() -> None:
    """Once a key's list held only shallow containers, the next list under that key is decoded in
    one call, and where its items begin is found when a query reaches into it."""
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
                                                     {"Effect": "Deny", "Action": "s3:*", "NotResource": ["a"]}]}
    # not every item shallow, and too many brackets to know without a walk (they may hide in strings)
    odd = {"Statement": [{"Sid": "[" * 60}, [[{"deep": 1}]]]}
    text = json.dumps({"Policies": [policy, policy, odd, policy, policy]}, indent=2)
    data, pos = load(text)
    eager = _load_eager(text)[1]
    # the first list and the one after the odd list item by item; the others whole
    assert set(pos._lazy_lists) == {("Policies", 1, "Statement"), ("Policies", 4, "Statement")}
    assert ("Policies", 3, "Statement", 1) in pos._offsets and ("Policies", 1, "Statement", 0) not in pos._offsets
    path = ("Policies", 1, "Statement", 1, "Action")
    assert pos[path] == eager[path]
    assert set(pos._lazy_lists) == {("Policies", 4, "Statement")}
    path = ("Policies", 4, "Statement", 1, "NotResource", 0)
    assert pos.nearest(path) == eager.nearest(path) and pos.nearest(path[:-2]) == eager.nearest(path[:-2])
    assert not pos._lazy_lists
    assert_same_as_eager(text)
    # few brackets: decoded whole without a walk, however deep its items (their depth is bounded)
    deep = {"Statement": [{"Effect": "Allow", "Condition": {"a": {"b": {"c": {"d": ["e"]}}}}}]}
    text = json.dumps({"Policies": [policy, deep]})
    assert set(load(text)[1]._lazy_lists) == {("Policies", 1, "Statement")}
    assert_same_as_eager(text)


def test_collection_is_left_as_it_was() -> None:
    """load leaves the cyclic garbage collector as it found it (a run pauses it: ``cli.main``)."""
    load(POLICY)
    with pytest.raises(JsonError):
        load("[1,]")
    assert gc.isenabled()
    gc.disable()
    try:
        load(POLICY)
        with pytest.raises(JsonError):
            load("[1,]")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_load_leaves_nothing_for_the_garbage_collector() -> None:
    """A run of iamgate pauses the cyclic collector (``cli.main``): the parsers' closures, which
    call each other, are unlinked after each parse, so the text and its offsets go with their
    last reference instead of waiting for a collection that never comes."""
    import gc

    from iamgate.sources.jsonpos import _load_eager, load

    text = json.dumps({"RoleDetailList": [{"RoleName": f"r{i}", "RolePolicyList": [{"PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}] * 3}}]}
        for i in range(20)]}, indent=2)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        data, positions = load(text)
        positions.line(("RoleDetailList", 3, "RolePolicyList", 0, "PolicyDocument", "Statement", 1, "Effect"))
        _load_eager(text)
        del data, positions
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
