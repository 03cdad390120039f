"""Tests for iamgate.sources.terraform.hcl: values as python-hcl2 gives them, exact lines, .tf.json
normalisation, the parse cache (never trusted) and parse_many."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from iamgate.sources.terraform import hcl
from iamgate.sources.terraform.hcl import (
    ATTR_LINES_KEY,
    LINE_KEY,
    HclError,
    ParsedFile,
    cache_key,
    default_cache_dir,
    parse_cached,
    parse_many,
    parse_text,
)

CORPUS = Path("/work/shared/corpus/terraform")

MODULE = r'''# IAM for the orders worker { not a block
/* a block comment with } braces {
resource "aws_iam_role" "fake" {
*/
variable "env" {
  type    = string // a comment with a } brace
  default = "prod"
}

locals {
  prefix = "orders-${var.env}"
  braces = "{not a block} ${var.env}}"
}

resource "aws_iam_role" "worker" {
  name = "${local.prefix}-worker"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = {
    Team = "orders" # a trailing { comment
  }
  inline_policy {
    name   = "read"
    policy = <<-EOT
      {
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        "Note": "resource \"x\" \"y\" { and EOF"
      }
    EOT
  }
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "write" {
  role   = aws_iam_role.worker.id
  policy = <<EOF
{ "Statement": [ { "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*" } ] }
EOF
  name   = "write"
}

data "aws_iam_policy_document" "extra" {
  statement {
    sid     = "Read"
    actions = ["s3:GetObject"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111122223333:root"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceVpce"
      values   = ["vpce-1"]
    }
  }
  dynamic "statement" {
    for_each = var.extra_statements
    content {
      actions   = statement.value.actions
      resources = statement.value.resources
      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test = condition.value.test
        }
      }
    }
  }
}

module "queue" {
  source = "./queue"
  for_each = toset(["a", "b"])
  name = each.key
}

output "role_arn" {
  value = aws_iam_role.worker.arn
}
'''


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the only line of ``text`` containing ``marker``."""
    hits = [i for i, line in enumerate(text.split("\n"), 1) if marker in line]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (LINE_KEY, ATTR_LINES_KEY)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def blocks_of(parsed: ParsedFile) -> List[tuple]:
    return [(b.kind, b.labels, strip_lines(b.body)) for b in parsed.blocks]


@pytest.fixture(scope="module")
def module() -> ParsedFile:
    return parse_text("infra/main.tf", MODULE)


@pytest.fixture(autouse=True)
def _no_env_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never the real user cache: the default points into this test's tmp_path."""
    monkeypatch.delenv("IAMGATE_NO_CACHE", raising=False)
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "default-cache"))


# ---------------------------------------------------------------------------------------------
# Native syntax


def test_blocks_kinds_labels_and_lines(module: ParsedFile) -> None:
    got = [(b.kind, b.labels, b.line) for b in module.blocks]
    assert got == [
        ("variable", ("env",), 5),
        ("locals", (), 10),
        ("resource", ("aws_iam_role", "worker"), 15),
        ("resource", ("aws_iam_role_policy", "write"), 40),
        ("data", ("aws_iam_policy_document", "extra"), 48),
        ("module", ("queue",), 77),
        ("output", ("role_arn",), 83),
    ]
    assert all(b.body[LINE_KEY] == b.line for b in module.blocks)
    assert module.path == "infra/main.tf" and module.attributes == {}


def test_attribute_lines_around_heredocs_comments_and_jsonencode(module: ParsedFile) -> None:
    role = module.blocks[2].body
    assert role[ATTR_LINES_KEY] == {
        "name": 16,
        "assume_role_policy": 17,
        "tags": 25,
        "max_session_duration": line_of(MODULE, "max_session_duration"),
    }
    inline = role["inline_policy"][0]
    assert inline[LINE_KEY] == line_of(MODULE, "inline_policy {")
    assert inline[ATTR_LINES_KEY] == {"name": 29, "policy": 30}
    write = module.blocks[3].body
    assert write[ATTR_LINES_KEY] == {"role": 41, "policy": 42, "name": 45}
    assert module.blocks[0].body[ATTR_LINES_KEY] == {"type": 6, "default": 7}
    assert module.blocks[1].body[ATTR_LINES_KEY] == {"prefix": 11, "braces": 12}
    assert module.blocks[5].body[ATTR_LINES_KEY] == {"source": 78, "for_each": 79, "name": 80}


def test_nested_and_dynamic_block_lines(module: ParsedFile) -> None:
    doc = module.blocks[4].body
    static = doc["statement"][0]
    assert static[LINE_KEY] == 49
    assert static[ATTR_LINES_KEY] == {"sid": 50, "actions": 51}
    assert static["principals"][0][LINE_KEY] == 52
    assert static["principals"][0][ATTR_LINES_KEY] == {"type": 53, "identifiers": 54}
    assert static["condition"][0][LINE_KEY] == 56
    assert static["condition"][0][ATTR_LINES_KEY] == {"test": 57, "variable": 58, "values": 59}
    dynamic = doc["dynamic"][0]["statement"]
    assert dynamic[LINE_KEY] == 62
    assert dynamic[ATTR_LINES_KEY] == {"for_each": 63}
    content = dynamic["content"][0]
    assert content[LINE_KEY] == 64
    assert content[ATTR_LINES_KEY] == {"actions": 65, "resources": 66}
    inner = content["dynamic"][0]["condition"]
    assert inner[LINE_KEY] == 67 and inner[ATTR_LINES_KEY] == {"for_each": 68}
    assert inner["content"][0][LINE_KEY] == 69
    assert inner["content"][0][ATTR_LINES_KEY] == {"test": 70}


def test_values_are_python_hcl2_raw_values(module: ParsedFile) -> None:
    variable, local, role, write, doc, queue, output = (b.body for b in module.blocks)
    assert variable["type"] == "string" and variable["default"] == '"prod"'
    assert local["prefix"] == '"orders-${var.env}"'
    assert local["braces"] == '"{not a block} ${var.env}}"'
    assert role["name"] == '"${local.prefix}-worker"'
    assert role["assume_role_policy"].startswith("${jsonencode({Version = \"2012-10-17\"")
    assert role["tags"] == {"Team": '"orders"'}
    assert role["max_session_duration"] == 3600
    assert role["inline_policy"][0]["policy"].startswith('"<<-EOT\n')
    assert write["role"] == "${aws_iam_role.worker.id}"
    assert doc["statement"][0]["actions"] == ['"s3:GetObject"']
    assert doc["dynamic"][0]["statement"]["for_each"] == "${var.extra_statements}"
    assert queue["for_each"] == '${toset(["a", "b"])}'
    assert output["value"] == "${aws_iam_role.worker.arn}"
    # no python-hcl2 markers, no comments
    text = json.dumps([b.body for b in module.blocks])
    assert "__is_block__" not in text and "__comments__" not in text


def test_same_values_as_hcl2_loads(module: ParsedFile) -> None:
    import hcl2
    from hcl2.utils import SerializationOptions

    expected = hcl2.loads(MODULE, serialization_options=SerializationOptions(with_comments=False))
    role = expected["resource"][0]['"aws_iam_role"']['"worker"']
    ours = strip_lines(module.blocks[2].body)
    for name in ("name", "assume_role_policy", "tags", "max_session_duration"):
        assert ours[name] == role[name]
    assert ours["inline_policy"][0]["policy"] == role["inline_policy"][0]["policy"]


def test_crlf_and_bom_give_the_same_lines() -> None:
    crlf = "\ufeff" + MODULE.replace("\n", "\r\n")
    parsed = parse_text("main.tf", crlf)
    assert [(b.kind, b.line) for b in parsed.blocks] == [(b.kind, b.line) for b in parse_text("m.tf", MODULE).blocks]
    assert parsed.blocks[2].body[ATTR_LINES_KEY]["tags"] == 25


def test_quoted_and_keyword_labels_and_attribute_names() -> None:
    parsed = parse_text("m.tf", 'thing "a\\"b" c {\n  for_each = 1\n  in = 2\n}\n')
    (block,) = parsed.blocks
    assert block.labels == ('a"b', "c")
    assert block.body[ATTR_LINES_KEY] == {"for_each": 2, "in": 3}


def test_tfvars_attributes() -> None:
    parsed = parse_text("prod.tfvars", 'env = "prod"\n\nsizes = { a = 1 }\n')
    assert parsed.blocks == ()
    assert parsed.attributes == {"env": '"prod"', "sizes": {"a": 1}, ATTR_LINES_KEY: {"env": 1, "sizes": 3}}
    parsed = parse_text("prod.tfvars.json", '{\n  "env": "prod-${x}",\n  "n": 2\n}')
    assert parsed.attributes == {"env": '"prod-$${x}"', "n": 2, ATTR_LINES_KEY: {"env": 2, "n": 3}}


@pytest.mark.parametrize("text, line, column, words", [
    ('resource "a" "b" {\n  name = \n}\n', 2, 10, "expected an expression"),
    ('resource "a" "b" {\n  name = "x\n}\n', 2, 10, "unterminated string"),
    ('locals {\n  a = <<EOF\nnever closed\n}\n', 2, 7, "no line closes <<EOF"),
    ('locals {\n  a = [1, 2\n}\n', 3, 1, 'unexpected "}"'),
    ('locals {\n  a = 1\n}\n}\n', 4, 1, 'unexpected "}"'),
    ('locals {\n  a = 1\n  a = 2\n}\n', 3, 3, '"a" is already defined as an attribute at line 2'),
    ('x {\n  a = 1\n  a {}\n}\n', 3, 3, '"a" is already defined as an attribute'),
    ('locals {\n  a = {\n', 3, 1, "end of file"),
])
def test_parse_errors_carry_line_and_column(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(HclError) as info:
        parse_text("bad.tf", text)
    assert (info.value.line, info.value.column) == (line, column), info.value
    assert words in info.value.message
    assert "Token(" not in info.value.message and "\n" not in info.value.message


def test_hcl_error_pickles_and_compares() -> None:
    error = HclError("unexpected x", 3, 4)
    assert pickle.loads(pickle.dumps(error)) == error
    assert str(error) == "unexpected x (line 3, column 4)"


# ---------------------------------------------------------------------------------------------
# JSON syntax

JSON_MODULE = r'''{
  "//": "the same configuration in Terraform's JSON syntax",
  "variable": {
    "env": {"type": "string", "default": "prod"}
  },
  "resource": {
    "aws_iam_role": {
      "worker": {
        "name": "${local.prefix}-worker",
        "depends_on": ["aws_iam_policy.base"],
        "provider": "aws.west",
        "tags": {"Team": "orders", "cost center": "42", "a-b": 1},
        "inline_policy": {
          "name": "read",
          "policy": "{\"Statement\": []}\n"
        },
        "lifecycle": {"ignore_changes": ["tags"], "create_before_destroy": true}
      }
    }
  },
  "data": {
    "aws_iam_policy_document": {
      "extra": {
        "statement": [
          {
            "actions": ["s3:GetObject"],
            "principals": {"type": "AWS", "identifiers": ["*"]},
            "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": [true, 1, null]}]
          }
        ],
        "dynamic": {
          "statement": {
            "for_each": "${var.extra}",
            "content": {"actions": "${statement.value}"}
          }
        }
      }
    }
  },
  "module": {"queue": {"source": "./queue", "providers": {"aws": "aws.west"}, "count": 2}},
  "locals": [{"a": "back\\slash \"quoted\" $${literal}"}, {"b": 1.5}],
  "moved": {"from": "aws_iam_role.old", "to": "aws_iam_role.worker"}
}
'''

NATIVE_EQUIVALENT = r'''variable "env" {
  type    = string
  default = "prod"
}
resource "aws_iam_role" "worker" {
  name       = "${local.prefix}-worker"
  depends_on = [aws_iam_policy.base]
  provider   = aws.west
  tags = {
    Team          = "orders"
    "cost center" = "42"
    a-b           = 1
  }
  inline_policy {
    name   = "read"
    policy = "{\"Statement\": []}\n"
  }
  lifecycle {
    ignore_changes        = [tags]
    create_before_destroy = true
  }
}
data "aws_iam_policy_document" "extra" {
  statement {
    actions = ["s3:GetObject"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = [true, 1, null]
    }
  }
  dynamic "statement" {
    for_each = "${var.extra}"
    content {
      actions = "${statement.value}"
    }
  }
}
module "queue" {
  source    = "./queue"
  providers = { aws = aws.west }
  count     = 2
}
locals {
  a = "back\\slash \"quoted\" $${literal}"
}
locals {
  b = 1.5
}
moved {
  from = aws_iam_role.old
  to   = aws_iam_role.worker
}
'''


def test_tf_json_normalises_to_the_native_parse() -> None:
    # Written so that the documented differences do not arise: quoted object keys only where
    # the key is not an identifier, templates written as templates ("${x}"), no exponents.
    ours = parse_text("main.tf.json", JSON_MODULE)
    native = parse_text("main.tf", NATIVE_EQUIVALENT)
    assert blocks_of(ours) == blocks_of(native)


def test_tf_json_documented_differences() -> None:
    ours = parse_text("m.tf.json", '{"locals": {"a": "${var.x}", "b": {"Name": 1}, "c": 1e3}}')
    native = parse_text("m.tf", 'locals {\n  a = var.x\n  b = {"Name" = 1}\n  c = 1e3\n}\n')
    assert strip_lines(ours.blocks[0].body) == {"a": '"${var.x}"', "b": {"Name": 1}, "c": 1000.0}
    assert strip_lines(native.blocks[0].body) == {"a": "${var.x}", "b": {'"Name"': 1}, "c": "${1e3}"}


def test_tf_json_lines() -> None:
    parsed = parse_text("main.tf.json", JSON_MODULE)
    kinds = [(b.kind, b.labels, b.line) for b in parsed.blocks]
    assert kinds == [
        ("variable", ("env",), 4),
        ("resource", ("aws_iam_role", "worker"), 8),
        ("data", ("aws_iam_policy_document", "extra"), 23),
        ("module", ("queue",), 40),
        ("locals", (), 41),
        ("locals", (), 41),
        ("moved", (), 42),
    ]
    role = parsed.blocks[1].body
    assert role[ATTR_LINES_KEY] == {"name": 9, "depends_on": 10, "provider": 11, "tags": 12}
    assert role["inline_policy"][0][LINE_KEY] == 13
    assert role["inline_policy"][0][ATTR_LINES_KEY] == {"name": 14, "policy": 15}
    assert role["lifecycle"][0][ATTR_LINES_KEY] == {"ignore_changes": 17, "create_before_destroy": 17}
    doc = parsed.blocks[2].body
    assert doc["statement"][0][LINE_KEY] == 25
    assert doc["statement"][0]["principals"][0][LINE_KEY] == 27
    assert doc["statement"][0]["condition"][0][ATTR_LINES_KEY]["values"] == 28
    dynamic = doc["dynamic"][0]["statement"]
    assert dynamic[LINE_KEY] == 32 and dynamic[ATTR_LINES_KEY] == {"for_each": 33}
    assert dynamic["content"][0][LINE_KEY] == 34


def test_tf_json_literal_arguments_and_errors() -> None:
    parsed = parse_text("m.tf.json", '{"variable": {"v": {"default": "${x}", "description": "%{y}"}},'
                                     ' "terraform": {"required_version": ">= 1.5"}}')
    assert strip_lines(parsed.blocks[0].body) == {"default": '"$${x}"', "description": '"%%{y}"'}
    assert parsed.blocks[1].body["required_version"] == '">= 1.5"'
    with pytest.raises(HclError) as info:
        parse_text("m.tf.json", '{\n  "resource": {\n    "aws_iam_role": "nope"\n  }\n}')
    assert (info.value.line, info.value.column) == (3, 21)
    with pytest.raises(HclError) as info:
        parse_text("m.tf.json", '{\n  "locals": {\n    "a": 1,\n  }\n}')
    assert info.value.line == 4


# ---------------------------------------------------------------------------------------------
# Cache


def entry_files(cache: Path) -> List[Path]:
    return sorted(p for p in cache.rglob("*.json") if not p.name.startswith(".tmp"))


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Counts real parses (``_payload`` calls) made in this process."""
    calls: List[str] = []
    real = hcl._payload

    def payload(kind: str, text: str) -> Dict[str, Any]:
        calls.append(text)
        return real(kind, text)

    monkeypatch.setattr(hcl, "_payload", payload)
    return calls


def forbid_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(kind: str, text: str) -> Dict[str, Any]:
        raise AssertionError("parsed although the cache holds the answer")

    monkeypatch.setattr(hcl, "_payload", fail)


def test_cache_hit_does_not_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = parse_cached("a/main.tf", MODULE, cache_dir=str(tmp_path))
    assert len(entry_files(tmp_path)) == 1
    forbid_parsing(monkeypatch)
    warm = parse_cached("b/other.tf", MODULE, cache_dir=str(tmp_path))
    assert warm.blocks == cold.blocks and warm.path == "b/other.tf"
    assert {b.file for b in warm.blocks} == {"b/other.tf"} and cold.blocks[0].file == "a/main.tf"
    monkeypatch.undo()
    json_cold = parse_cached("m.tf.json", JSON_MODULE, cache_dir=str(tmp_path))
    forbid_parsing(monkeypatch)
    assert parse_cached("m.tf.json", JSON_MODULE, cache_dir=str(tmp_path)) == json_cold


def test_cached_error_reproduces_the_same_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = 'locals {\n  a = [1, 2\n}\n'
    with pytest.raises(HclError) as first:
        parse_cached("bad.tf", bad, cache_dir=str(tmp_path))
    forbid_parsing(monkeypatch)
    with pytest.raises(HclError) as second:
        parse_cached("bad.tf", bad, cache_dir=str(tmp_path))
    assert second.value == first.value and str(second.value) == str(first.value)


def test_key_depends_on_kind_text_and_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cache_key("hcl", "a = 1") != cache_key("json", "a = 1")
    assert cache_key("hcl", "a = 1") != cache_key("hcl", "a = 2")
    key = cache_key("hcl", "a = 1")
    monkeypatch.setattr(hcl, "_HCL2_VERSION", "0.0.0-other")
    assert cache_key("hcl", "a = 1") != key
    monkeypatch.undo()
    monkeypatch.setattr(hcl, "FORMAT_VERSION", "other")
    assert cache_key("hcl", "a = 1") != key


def corrupt_cases(entry: bytes, other_entry: bytes) -> Dict[str, bytes]:
    header, body = entry.split(b"\n", 1)
    meta = json.loads(header)
    bad_sum = dict(meta, sha256="0" * 64)
    bad_format = dict(meta, format="iamgate-hcl/0")
    lying_payload = json.dumps({"blocks": [["resource", ["x"], {}, 1]], "attributes": {}}).encode()
    wrong_shape = dict(meta, size=len(lying_payload), sha256=hashlib.sha256(lying_payload).hexdigest())
    return {
        "truncated": entry[: len(entry) // 2],
        "empty": b"",
        "not json": b"\x80\x81 garbage\n{{{",
        "header only": header + b"\n",
        "wrong checksum": json.dumps(bad_sum).encode() + b"\n" + body,
        "wrong format": json.dumps(bad_format).encode() + b"\n" + body,
        "another key": other_entry,
        "wrong shape": json.dumps(wrong_shape).encode() + b"\n" + lying_payload,
        "pickle": pickle.dumps({"blocks": []}),
    }


@pytest.mark.parametrize("case", ["truncated", "empty", "not json", "header only", "wrong checksum",
                                  "wrong format", "another key", "wrong shape", "pickle"])
def test_corrupt_entry_is_ignored_and_replaced(tmp_path: Path, counted: List[str], case: str) -> None:
    small = 'resource "aws_iam_role" "r" {\n  name = "r"\n}\n'
    other = 'resource "aws_iam_role" "s" {\n  name = "s"\n}\n'
    expected = parse_cached("m.tf", small, cache_dir=str(tmp_path / "ref"))
    parse_cached("o.tf", other, cache_dir=str(tmp_path / "ref"))
    entries = {p.read_bytes() for p in entry_files(tmp_path / "ref")}
    cache = tmp_path / "cache"
    parse_cached("m.tf", small, cache_dir=str(cache))
    (path,) = entry_files(cache)
    good = path.read_bytes()
    (other_entry,) = entries - {good}
    path.write_bytes(corrupt_cases(good, other_entry)[case])
    counted.clear()
    assert parse_cached("m.tf", small, cache_dir=str(cache)) == expected
    assert len(counted) == 1  # ignored, parsed again
    assert path.read_bytes() == good  # and replaced
    assert parse_cached("m.tf", small, cache_dir=str(cache)) == expected
    assert len(counted) == 1


def test_no_cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: List[str]) -> None:
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    assert default_cache_dir() is None
    first = parse_cached("m.tf", MODULE, cache_dir=str(tmp_path / "c"))
    second = parse_cached("m.tf", MODULE, cache_dir=str(tmp_path / "c"))
    assert first == second and len(counted) == 2
    assert not (tmp_path / "c").exists()
    assert parse_many([("m.tf", MODULE)], cache_dir=str(tmp_path / "c")) == [first]
    assert not (tmp_path / "c").exists()


def test_unusable_cache_dir_just_parses(tmp_path: Path, counted: List[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = parse_cached("m.tf", MODULE, cache_dir=str(blocker / "cache"))
    assert result.blocks and len(counted) == 1
    assert parse_many([("m.tf", MODULE), ("x.tf", "{")], cache_dir=str(blocker / "cache"))[0] == result


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "explicit"))
    assert default_cache_dir() == str(tmp_path / "explicit")
    monkeypatch.delenv("IAMGATE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == os.path.join(str(tmp_path / "xdg"), "iamgate")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == os.path.join(str(tmp_path / "home"), ".cache", "iamgate")
    # the default is used (and created lazily) when no directory is given
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "lazy"))
    assert not (tmp_path / "lazy").exists()
    parse_cached("m.tf", "locals {\n  a = 1\n}\n")
    assert len(entry_files(tmp_path / "lazy")) == 1


# ---------------------------------------------------------------------------------------------
# parse_many

ITEMS = [
    ("a/main.tf", MODULE),
    ("a/broken.tf", 'resource "x" "y" {\n  name = \n}\n'),
    ("a/gen.tf.json", JSON_MODULE),
    ("b/main.tf", MODULE),  # the same content elsewhere
    ("b/broken.tf.json", '{"resource": [1]}'),
    ("b/vars.tf", 'variable "v" {}\n'),
]


def check_many(results: list) -> None:
    assert len(results) == len(ITEMS)
    assert [type(r).__name__ for r in results] == ["ParsedFile", "HclError", "ParsedFile", "ParsedFile",
                                                   "HclError", "ParsedFile"]
    assert [r.path for r in results if isinstance(r, ParsedFile)] == ["a/main.tf", "a/gen.tf.json",
                                                                       "b/main.tf", "b/vars.tf"]
    assert results[0].blocks == results[3].blocks
    assert results[0].blocks[2].body is not results[3].blocks[2].body  # separate copies
    assert results[1].line == 2
    assert results[0] == parse_text("a/main.tf", MODULE)


def test_parse_many_order_and_error_isolation(tmp_path: Path, counted: List[str]) -> None:
    cold = parse_many(ITEMS, cache_dir=str(tmp_path), workers=1)
    assert len(counted) == 5  # the repeated content is parsed once
    warm = parse_many(ITEMS, cache_dir=str(tmp_path), workers=1)
    assert len(counted) == 5 and warm == cold
    check_many(cold)
    check_many(warm)


def watch_pool(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    """Records how many results each process pool delivered."""
    delivered: List[int] = []
    real = hcl._run_pool

    def run_pool(*args: Any) -> list:
        results = real(*args)
        delivered.append(sum(r is not None for r in results))
        return results

    monkeypatch.setattr(hcl, "_run_pool", run_pool)
    return delivered


def test_parse_many_in_a_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hcl, "PARALLEL_MIN_LINES", 0)
    monkeypatch.setattr(hcl, "PARALLEL_MIN_LINES_SPAWN", 0)
    pooled = watch_pool(monkeypatch)
    cold = parse_many(ITEMS, cache_dir=str(tmp_path), workers=2)
    check_many(cold)
    assert pooled == [5]  # the pool delivered all five distinct contents
    assert len(entry_files(tmp_path)) == 5
    forbid_parsing(monkeypatch)
    assert parse_many(ITEMS, cache_dir=str(tmp_path), workers=2) == cold


def test_parse_many_in_a_spawned_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The start method of a process that has threads (and of macOS and Windows)."""
    import multiprocessing

    monkeypatch.setattr(hcl, "PARALLEL_MIN_LINES_SPAWN", 0)
    monkeypatch.setattr(hcl, "_mp_context", lambda: multiprocessing.get_context("spawn"))
    pooled = watch_pool(monkeypatch)
    check_many(parse_many(ITEMS, cache_dir=str(tmp_path), workers=2))
    assert pooled == [5] and len(entry_files(tmp_path)) == 5


def test_parse_many_falls_back_when_no_pool_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    monkeypatch.setattr(hcl, "PARALLEL_MIN_LINES", 0)
    monkeypatch.setattr(hcl, "PARALLEL_MIN_LINES_SPAWN", 0)
    monkeypatch.setattr(hcl, "_mp_context", lambda: SimpleNamespace(get_start_method=lambda: "fork"))
    pooled = watch_pool(monkeypatch)
    check_many(parse_many(ITEMS, workers=4))
    assert pooled == [0]


def test_parse_many_turns_internal_errors_into_hcl_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    real = hcl._payload

    def flaky(kind: str, text: str) -> Dict[str, Any]:
        if "variable" in text and "resource" not in text:
            raise KeyError("boom")
        return real(kind, text)

    monkeypatch.setattr(hcl, "_payload", flaky)
    results = parse_many(ITEMS, workers=1)
    assert isinstance(results[5], HclError) and "internal error" in results[5].message
    assert isinstance(results[0], ParsedFile)


# ---------------------------------------------------------------------------------------------
# The shared corpus


def corpus_items() -> List[tuple]:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name.endswith((".tf", ".tf.json")))
    return [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in paths]


def test_corpus_parses_with_consistent_lines_cold_and_warm(tmp_path: Path) -> None:
    items = corpus_items()
    cold = parse_many(items, cache_dir=str(tmp_path))
    for (path, text), result in zip(items, cold):
        if isinstance(result, HclError):
            assert result.message and result.line >= 1, path
            continue
        assert isinstance(result, ParsedFile) and result.path == path
        lines = text.split("\n")
        for block in result.blocks:
            check_lines(block.body, block.kind, lines, path)
    assert parse_many(items, cache_dir=str(tmp_path)) == cold


def check_lines(body: Dict[str, Any], kind: str, lines: List[str], path: str) -> None:
    """Each block line starts with its type, each attribute line with its name (.tf) or holds it."""
    source = lines[body[LINE_KEY] - 1]
    if path.endswith(".tf"):
        assert source.lstrip().startswith(kind), (path, body[LINE_KEY], kind)
    for name, line in body[ATTR_LINES_KEY].items():
        text = lines[line - 1].lstrip()
        assert text.startswith(name) or f'"{name}"' in text, (path, line, name)
    for name, value in body.items():
        if name in body[ATTR_LINES_KEY] or name in (LINE_KEY, ATTR_LINES_KEY):
            continue
        for entry in value:
            while LINE_KEY not in entry:
                (entry,) = entry.values()
            check_lines(entry, name, lines, path)


def test_a_change_to_the_parsers_code_changes_every_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """An older parser's cached result (an error it made, a shape it wrote) is never replayed by a
    newer one, even when FORMAT_VERSION was not bumped."""
    from iamgate.sources.terraform import hcl as module
    before = module.cache_key("tf", 'resource "aws_iam_role" "r" {}\n')
    monkeypatch.setattr(module, "code_digest", lambda *files: "another-parser")
    after = module.cache_key("tf", 'resource "aws_iam_role" "r" {}\n')
    assert before != after
    monkeypatch.undo()
    assert module.cache_key("tf", 'resource "aws_iam_role" "r" {}\n') == before
