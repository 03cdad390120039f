"""Tests for iamgate.sources.terraform.expressions, .evaluate and .functions: parsing and evaluating
Terraform expressions offline."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import hcl2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamgate.model import Location
from iamgate.sources.documents import build_policy
from iamgate.sources.terraform.evaluate import (
    Bindings, MapScope, OpenObject, Scope, evaluate, evaluate_expression,
)
from iamgate.sources.terraform.expressions import HclSyntaxError, parse, syntax_errors
from iamgate.sources.values import Partial, Unknown, unknowns_in

CORPUS = Path("/work/shared/corpus/terraform")


# ------------------------------------------------------------------------------------------ scopes


class FakeScope(Scope):
    """Root names from a mapping (missing ones are Unknown), files from another."""

    def __init__(self, names: Mapping[str, Any], files: Optional[Mapping[str, str]] = None) -> None:
        self.names = dict(names)
        self.files = dict(files or {})

    def lookup(self, name: str) -> Any:
        return self.names.get(name, Unknown(f"{name} (not defined)"))

    def read_file(self, path: str) -> Optional[str]:
        return self.files.get(path)


U = Unknown("var.u (no value)")

VALUES: Dict[str, Any] = {
    "var": {
        "env": "prod", "name": "orders", "create": True, "off": False, "n": 3, "f": 1.5,
        "services": ["lambda", "states"], "m": {"b": 2, "a": 1}, "empty": [], "nothing": None,
        "objs": [{"name": "a", "tags": {"k": "1"}}, {"name": "b", "tags": {"k": "2"}}],
        "obj": {"name": "solo"}, "u": U, "p": Partial(["arn:aws:s3:::", U, "/*"]),
        "mixed": ["x", U], "arns": ["arn:aws:s3:::a", "arn:aws:s3:::b"],
    },
    "local": {"prefix": "acme", "flag": Unknown("local.flag (depends on a data source)")},
    "aws_s3_bucket": {"b": OpenObject({"bucket": "orders-bucket"})},
    "aws_iam_role": {"this": [OpenObject({"name": "r0"}), OpenObject({"name": "r1"})]},
    "path": {"module": "mod", "root": "."},
}

FILES = {
    "mod/policy.json.tpl": '{"Resource": "arn:aws:s3:::${bucket}/*", "Action": ${jsonencode(actions)}}\n',
    "mod/list.tpl": "%{ for s in items ~}\n- ${s}\n%{ endfor ~}\n",
    "mod/plain.txt": "hello\n",
}


def scope() -> FakeScope:
    return FakeScope(VALUES, FILES)


def ev(expression: str, line: Optional[int] = None) -> Any:
    """Evaluate expression source the way python-hcl2 hands it over (wrapped in ${…})."""
    return evaluate("${" + expression + "}", scope(), line)


def loads_locals(text: str) -> Dict[str, Any]:
    return {k: v for k, v in hcl2.loads(text)["locals"][0].items() if not k.startswith("__")}


# ------------------------------------------------------------------------------------------ literals, templates


@pytest.mark.parametrize("raw, expected", [
    ('"plain"', "plain"),
    ('"role-${var.env}"', "role-prod"),
    ("${var.create ? 1 : 0}", 1),
    (42, 42), (1.5, 1.5), (True, True), (None, None),
    ("${1e3}", 1000), ("${0.25}", 0.25),
    (['"a"', "${var.n}"], ["a", 3]),
    ({"k": '"v"', '"quoted key"': 1, "${(var.env)}": 2}, {"k": "v", "quoted key": 1, "prod": 2}),
    ({"__is_block__": True, "name": '"x"'}, {"name": "x"}),
    ('"esc \\"q\\" \\\\ \\n \\t \\u00e9"', 'esc "q" \\ \n \t é'),
    ('"$${literal} %%{literal}"', "${literal} %{literal}"),
    ('"${var.n}"', 3),  # a lone interpolation is not converted to a string
    ('"n=${var.n} b=${var.create} f=${var.f}"', "n=3 b=true f=1.5"),
    ('"${"nested-${var.env}"}"', "nested-prod"),
    ("bare ${var.env} text", "bare prod text"),
])
def test_raw_values(raw: Any, expected: Any) -> None:
    assert evaluate(raw, scope()) == expected


def test_values_as_python_hcl2_returns_them() -> None:
    values = loads_locals('''
locals {
  name   = "${var.name}-${var.env}"
  count  = var.create ? 2 : 0
  obj    = { a = 1, "b-c" = "x", (var.env) = true }
  list   = ["a", var.n, null]
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:*", Resource = "*" }] })
}
''')
    out = {k: evaluate(v, scope()) for k, v in values.items()}
    assert out == {
        "name": "orders-prod", "count": 2, "obj": {"a": 1, "b-c": "x", "prod": True}, "list": ["a", 3, None],
        "policy": '{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}',
    }


@pytest.mark.parametrize("template, expected", [
    ('"%{ for i, s in ["a", "b"] }${i}:${s};%{ endfor }"', "0:a;1:b;"),
    ('"%{ for s in var.services }[${s}]%{ endfor }"', "[lambda][states]"),
    ('"%{ for k, v in var.m }${k}=${v},%{ endfor }"', "a=1,b=2,"),
    ('"%{ if var.create }yes%{ else }no%{ endif }"', "yes"),
    ('"%{ if var.off }yes%{ endif }!"', "!"),
    ('"%{ if var.env == "prod" }p%{ else }%{ if true }q%{ endif }%{ endif }"', "p"),
    ('"a  %{~ if true ~}  b  %{~ endif ~}  c"', "abc"),
    ('"x ${~ var.env ~} y"', "xprody"),
])
def test_template_directives(template: str, expected: str) -> None:
    assert evaluate(template, scope()) == expected


def test_heredocs_as_python_hcl2_returns_them() -> None:
    values = loads_locals('''
locals {
  plain = <<EOF
{"Resource": "arn:aws:s3:::${var.name}/*",
  "q": "a\\nb $${x}"}
EOF
  indented = <<-EOT
    first ${var.env}
      second

    third
    EOT
  empty = <<EOT
EOT
  loop = <<EOT
%{ for s in var.services ~}
${s}
%{ endfor ~}
EOT
  inside = jsonencode(<<-EOF
    {"a": "${var.env}"}
    EOF
  )
}
''')
    assert values["plain"].startswith('"<<EOF\n')  # the representation this module reads
    out = {k: evaluate(v, scope()) for k, v in values.items()}
    assert out["plain"] == '{"Resource": "arn:aws:s3:::orders/*",\n  "q": "a\\nb ${x}"}\n'
    assert out["indented"] == "first prod\n  second\n\nthird\n"
    assert out["empty"] == ""
    assert out["loop"] == "lambda\nstates\n"
    assert out["inside"] == '"{\\"a\\": \\"prod\\"}\\n"'


def test_heredoc_with_unknown_is_partial() -> None:
    raw = '"<<EOF\n{"Resource": "${aws_s3_bucket.b.arn}"}\nEOF"'
    value = evaluate(raw, scope())
    assert value == Partial(['{"Resource": "', Unknown("aws_s3_bucket.b.arn"), '"}\n'])


# ------------------------------------------------------------------------------------------ expressions


@pytest.mark.parametrize("expression, expected", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("7 / 2", 3.5), ("8 / 2", 4), ("7 % 3", 1), ("-7 % 3", -1),
    ("-var.n", -3), ('"2" + 1', 3), ("1 < 2 && !false", True), ("2 >= 3 || 1 <= 1", True),
    ("1 == 1.0", True), ('1 == "1"', False), ('var.env == "prod"', True), ("[1, 2] == [1, 2]", True),
    ("var.nothing == null", True), ("var.create ? var.env : 0", "prod"),
    ("var.off ? 1 : var.create ? 2 : 3", 3 - 1),
    ("var.m.a", 1), ('var.m["b"]', 2), ("var.services[1]", "states"), ("var.services.0", "lambda"),
    ("var.objs[*].name", ["a", "b"]), ("var.objs.*.name", ["a", "b"]), ("var.objs[*].tags.k", ["1", "2"]),
    ("var.obj[*].name", ["solo"]), ("var.nothing[*]", []), ("var.objs.*.name[1]", "b"),
    ("aws_iam_role.this[1].name", "r1"), ("aws_iam_role.this[*].name", ["r0", "r1"]),
    ('[for s in var.services : "${s}.amazonaws.com"]', ["lambda.amazonaws.com", "states.amazonaws.com"]),
    ('[for k, v in var.m : "${k}=${v}"]', ["a=1", "b=2"]),
    ('[for i, s in var.services : i if s != "lambda"]', [1]),
    ("{for s in var.services : s => upper(s)}", {"lambda": "LAMBDA", "states": "STATES"}),
    ('{for s in ["a", "ab", "b"] : substr(s, 0, 1) => s...}', {"a": ["a", "ab"], "b": ["b"]}),
    ("{for k, v in var.m : k => v if v > 1}", {"b": 2}),
    ("{a = 1, b: 2, \"c\" = 3}", {"a": 1, "b": 2, "c": 3}),
    ("{for = 1, if = 2}", {"for": 1, "if": 2}),
    ('concat([["a"], var.services]...)', ["a", "lambda", "states"]),
    ("max([4, 2]...)", 4),
])
def test_expressions(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


# ------------------------------------------------------------------------------------------ functions


@pytest.mark.parametrize("expression, expected", [
    ('format("%s-%d", "a", 1)', "a-1"), ('format("%05.2f|%-4s|%3d", 3.14159, "x", 7)', "03.14|x   |  7"),
    ('format("%q %v %v %t %%", "a\\"b", [1, "a"], 2, true)', '"a\\"b" [1,"a"] 2 true %'),
    ('format("%[2]s %[1]s", "a", "b")', "b a"), ('format("%x %o %b", 255, 8, 5)', "ff 10 101"),
    ('formatlist("%s.%s", ["a", "b"], "c")', ["a.c", "b.c"]),
    ('join(",", ["a", 1, true])', "a,1,true"), ('join("-", ["a"], ["b", "c"])', "a-b-c"),
    ('split(",", "a,b,,c")', ["a", "b", "", "c"]),
    ("concat([1], [2, 3], [])", [1, 2, 3]),
    ("merge({a = 1, c = 3}, {b = 2}, null, {a = 4})", {"a": 4, "b": 2, "c": 3}),
    ('lookup({a = 1}, "a")', 1), ('lookup({a = 1}, "b", "dflt")', "dflt"),
    ('coalesce("", null, "x", "y")', "x"), ('coalescelist([], ["a"])', ["a"]),
    ('compact(["a", "", null, "b"])', ["a", "b"]), ("flatten([[1, [2]], 3, []])", [1, 2, 3]),
    ('distinct(["b", "a", "b"])', ["b", "a"]), ('element(["a", "b"], 3)', "b"),
    ("length(\"héllo\")", 5), ("length({a = 1})", 1), ("length(var.services)", 2),
    ("keys({b = 1, a = 2})", ["a", "b"]), ("values({b = 1, a = 2})", [2, 1]),
    ('lower("AbC")', "abc"), ('upper("AbC")', "ABC"), ('title("hello world-x_y")', "Hello World-X_y"),
    ('trimspace("  a b \\n")', "a b"), ('trimprefix("arn:aws:x", "arn:")', "aws:x"),
    ('trimsuffix("file.json", ".json")', "file"), ('trim("?!hello?!", "!?")', "hello"),
    ('replace("a-b-c", "-", "_")', "a_b_c"),
    ('replace("arn:aws:iam::1:oidc-provider/oidc.eks/id", "/^(.*provider/)/", "")', "oidc.eks/id"),
    ('replace("hello", "/l(l)/", "$1$${1}x")', "hellxo"),
    ('replace("my_Sid-1", "/[^0-9A-Za-z]*/", "")', "mySid1"),
    ('substr("hello world", 1, 4)', "ello"), ('substr("hello", -3, -1)', "llo"),
    ('contains(["a", "b"], "b")', True), ('contains(["a"], "z")', False),
    ('tolist(toset(["b", "a", "b"]))', ["a", "b"]), ("toset([3, 1, 3])", [1, 3]),
    ('toset(["a", 1])', ["1", "a"]), ("tomap({a = 1})", {"a": 1}),
    ("tostring(1)", "1"), ("tostring(true)", "true"), ("tostring(null)", None), ('tonumber("1.5")', 1.5),
    ('tobool("true")', True),
    ("range(3)", [0, 1, 2]), ("range(1, 4)", [1, 2, 3]), ("range(0, 10, 5)", [0, 5]), ("range(3, 0)", [3, 2, 1]),
    ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
    ('setunion(["b", "a"], ["c", "b"])', ["a", "b", "c"]), ('setintersection(["a", "b"], ["b", "c"])', ["b"]),
    ('setsubtract(["a", "b"], ["a"])', ["b"]), ('setproduct(["a"], [1, 2])', [["a", 1], ["a", 2]]),
    ('sort(["b", "a", "c"])', ["a", "b", "c"]), ("reverse([1, 2, 3])", [3, 2, 1]),
    ('slice(["a", "b", "c"], 1, 3)', ["b", "c"]), ("one([])", None), ('one(["x"])', "x"),
    ("sum([1, 2.5])", 3.5), ("min(3, 1, 2)", 1), ("max([1, 5]...)", 5), ("abs(-2)", 2),
    ("ceil(1.2)", 2), ("floor(1.8)", 1), ("pow(2, 10)", 1024), ("signum(-3)", -1),
    ('parseint("ff", 16)', 255), ('startswith("arn:aws", "arn:")', True), ('endswith("a.json", ".json")', True),
    ('strcontains("hello", "ell")', True),
    ('regex("^arn:([^:]+):", "arn:aws:s3")', ["aws"]), ('regex("[a-z]+", "123abc")', "abc"),
    ('regex("^(?P<p>[^:]+):(?P<s>.*)$", "aws:s3")', {"p": "aws", "s": "s3"}),
    ('regexall("[0-9]", "a1b2")', ["1", "2"]),
    ('base64encode("hi")', "aGk="), ('base64decode("aGk=")', "hi"), ('urlencode("a b&c")', "a+b%26c"),
    ('jsonencode({b = 1, a = [true, null, "x<y"]})', '{"a":[true,null,"x\\u003cy"],"b":1}'),
    ('jsondecode("{\\"a\\": [1, 2.5, {\\"b\\": null}]}")', {"a": [1, 2.5, {"b": None}]}),
    ('yamlencode({a = 1, b = ["x"]})', "a: 1\nb:\n- x\n"), ('yamldecode("a: [1, x]")', {"a": [1, "x"]}),
    ('csvdecode("a,b\\n1,2\\n")', [{"a": "1", "b": "2"}]),
    ('file("${path.module}/plain.txt")', "hello\n"), ('fileexists("mod/plain.txt")', True),
    ('abspath("./a/../b")', "b"), ('dirname("a/b/c.txt")', "a/b"), ('dirname("c.txt")', "."),
    ('basename("a/b/c.txt")', "c.txt"), ('chomp("x\\n\\n")', "x"), ('indent(2, "a\\nb")', "a\n  b"),
    ('alltrue([true, "true"])', True), ('anytrue([false])', False), ('chunklist([1, 2, 3], 2)', [[1, 2], [3]]),
    ('try(var.m.missing, var.m.a, "dflt")', 1), ('try(var.services[5], "dflt")', "dflt"),
    ("can(var.m.missing)", False), ("can(var.m.a)", True), ('can(regex("^a", "b"))', False),
    ('nonsensitive(sensitive("s"))', "s"),
    ('templatefile("${path.module}/list.tpl", {items = ["a", "b"]})', "- a\n- b\n"),
    ('templatestring("x=$${v}", {v = 1})', "x=1"),
])
def test_functions(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize("expression, shown", [
    ('sha256("x")', "sha256(...)"), ("uuid()", "uuid(...)"), ("nosuch(1, 2)", "nosuch(...)"),
    ('provider::aws::arn_parse("x")', "provider::aws::arn_parse(...)"),
    ('file("mod/absent.txt")', "file(mod/absent.txt)"),
    ('templatefile("../outside.tpl", {})', "templatefile(../outside.tpl, ...)"),
])
def test_functions_that_are_not_evaluated_offline(expression: str, shown: str) -> None:
    assert ev(expression, line=7) == Unknown(shown, 7)


def test_templatefile_policy_with_unknowns() -> None:
    value = ev('templatefile("mod/policy.json.tpl", {bucket = aws_s3_bucket.b.bucket, actions = ["s3:GetObject", var.u]})')
    assert value == Partial(['{"Resource": "arn:aws:s3:::orders-bucket/*", "Action": ["s3:GetObject","',
                             U, '"]}\n'])


# ------------------------------------------------------------------------------------------ unknowns


def test_unknown_propagation() -> None:
    arn = Unknown("aws_s3_bucket.b.arn")
    assert ev("aws_s3_bucket.b.arn") == arn
    assert ev('"${aws_s3_bucket.b.arn}/*"') == Partial([arn, "/*"])
    assert ev('"arn:aws:s3:::${var.u}/*"') == Partial(["arn:aws:s3:::", U, "/*"])
    assert ev("var.u.attr[0]") == Unknown("var.u.attr[0] (no value)")
    assert ev("var.u + 1") == Unknown("var.u + 1 (depends on var.u (no value))")
    assert isinstance(ev('var.u == "x"'), Unknown)
    assert isinstance(ev("!var.u"), Unknown)
    assert ev('var.u ? "a" : "b"') == Unknown('var.u ? "a" : "b" (depends on var.u (no value))')
    assert ev('var.u ? "same" : "same"') == "same"
    assert ev("false && var.u") is False and ev("var.u || true") is True
    assert isinstance(ev("true && var.u"), Unknown)
    assert isinstance(ev("[for x in var.u : x]"), Unknown)
    assert isinstance(ev("[for x in var.services : x if var.u]"), Unknown)
    assert ev('[var.u, "x"]') == [U, "x"] and ev("{a = var.u}") == {"a": U}
    assert isinstance(ev("{(var.u) = 1}"), Unknown)
    assert ev("length([var.u, 1])") == 2 and ev("length(var.mixed)") == 2
    assert isinstance(ev("length(var.u)"), Unknown)
    assert ev('join("/", ["a", var.u])') == Partial(["a/", U])
    assert ev('format("arn:aws:s3:::%s/*", var.u)') == Partial(["arn:aws:s3:::", U, "/*"])
    assert ev('concat([var.u], ["a"])') == [U, "a"] and isinstance(ev('concat(var.u, ["a"])'), Unknown)
    assert ev("merge({a = var.u}, {b = 1})") == {"a": U, "b": 1}
    assert ev("upper(var.p)") == Partial(["ARN:AWS:S3:::", Unknown("upper(var.u (no value))"), "/*"])
    assert ev("tostring(var.p)") == VALUES["var"]["p"]
    assert ev('"%{ if var.u }a%{ endif }x"') == Partial([Unknown('%{ if var.u } (depends on var.u (no value))'), "x"])
    assert isinstance(ev("var.services[var.u]"), Unknown)
    assert ev('try(var.u, "d")') == U  # an Unknown is a result, not an error
    assert isinstance(ev("can(var.u)"), Unknown)
    assert ev('contains(var.mixed, "x")') is True and isinstance(ev('contains(var.mixed, "y")'), Unknown)
    assert isinstance(ev("sha256(var.u)"), Unknown) and isinstance(ev("lower(var.u)"), Unknown)
    assert isinstance(ev("local.flag ? 1 : 0"), Unknown)


def test_missing_values_are_unknowns_that_name_the_expression() -> None:
    assert ev("var.nope") == Unknown('var.nope (no attribute "nope")')
    assert ev("var.services[5]", line=3) == Unknown("var.services[5] (index 5 out of range for a list of 2)", 3)
    assert ev("undeclared.x") == Unknown("undeclared.x (not defined)")
    assert ev("aws_iam_role.this.arn").expression.startswith("aws_iam_role.this.arn (cannot get attribute")
    # inside a list the failing element alone becomes unknown
    value = ev('["a", var.nope, 1 + "x"]')
    assert value[0] == "a" and isinstance(value[1], Unknown) and isinstance(value[2], Unknown)
    # a resource's computed attribute is unknown, not an error, even under try()
    assert ev('try(aws_s3_bucket.b.arn, "")') == Unknown("aws_s3_bucket.b.arn")
    assert ev("aws_s3_bucket.b.bucket") == "orders-bucket"


def test_type_errors_become_unknowns() -> None:
    for expression in ('1 + "a"', "null + 1", '"a${[1]}"', '"a${null}"', "var.m[0]", 'lookup({}, "k")',
                       "1 / 0", 'tonumber("x")', "one([1, 2])", 'regex("(", "x")', "var.env.x",
                       "{for s in [1, 1] : s => s}", 'element([], 0)', "range(2000)", 'jsondecode("{")'):
        value = ev(expression)
        assert isinstance(value, Unknown), expression


def test_line_is_carried() -> None:
    assert ev("var.u", line=12) == Unknown("var.u (no value)", 12)
    assert ev('["${var.u}-x"]', line=5) == [Partial([Unknown("var.u (no value)", 5), "-x"])]
    assert evaluate("${var.nope}", scope(), 9).line == 9


# ------------------------------------------------------------------------------------------ policies


POLICY = '''
resource "aws_iam_role_policy" "p" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = aws_s3_bucket.b.arn
      },
      {
        Effect    = "Allow"
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.b.arn}/*"
        Condition = { StringEquals = { "aws:PrincipalTag/team" = "q\\"${var.u}\\\\" } }
      },
    ]
  })
}
'''


def test_jsonencode_with_unknown_arn_round_trips_through_build_policy() -> None:
    raw = hcl2.loads(POLICY)["resource"][0]['"aws_iam_role_policy"']['"p"']["policy"]
    value = evaluate(raw, scope(), line=4)
    assert isinstance(value, Partial)
    policy, unknowns = build_policy(value, "p", "identity", Location("main.tf", 4))
    first, second = policy.statements
    assert first.resources == ("*",) and first.unresolved == frozenset({"Resource"})
    assert first.actions == ("s3:GetObject",)
    assert second.resources == ("*/*",) and second.unresolved == frozenset({"Resource", "Condition"})
    assert {u.expression for u in unknowns} == {"aws_s3_bucket.b.arn", "var.u (no value)"}
    assert all(u.line == 4 for u in unknowns)


def test_jsonencode_places_unknown_lists_and_numbers_as_strings() -> None:
    value = ev('jsonencode({Statement = [{Effect = "Allow", Action = var.u, Resource = "*"}]})')
    policy, _ = build_policy(value, "p", "identity", Location("main.tf", 1))
    assert policy.statements[0].actions == ("*",)
    assert policy.statements[0].unresolved == frozenset({"Action"})


def test_jsondecode_of_a_partial_keeps_unknowns_in_place() -> None:
    value = ev('jsondecode(templatefile("mod/policy.json.tpl", {bucket = var.u, actions = ["s3:*"]}))')
    assert value == {"Resource": Partial(["arn:aws:s3:::", U, "/*"]), "Action": ["s3:*"]}


# ------------------------------------------------------------------------------------------ syntax, scopes, caching


@pytest.mark.parametrize("raw", ["${var.}", "${(1 + 2}", '"${var.a"', '"%{ if true }x"', "${[for x in : x]}",
                                 "${a ? b}", '"bad \\q escape"', "${{a = }}", '"%{ endfor }"', "${٣}", "${1e999999}"])
def test_syntax_errors(raw: str) -> None:
    with pytest.raises(HclSyntaxError) as info:
        parse(raw)
    assert info.value.expression
    assert syntax_errors({"k": [raw]})
    value = evaluate(raw, scope(), line=2)
    assert isinstance(value, Unknown) and "syntax error" in value.expression and value.line == 2


def test_evaluate_expression_and_helper_scopes() -> None:
    assert evaluate_expression("var.n * 2", scope()) == 6
    assert isinstance(evaluate_expression("var.", scope()), Unknown)
    each = Bindings(scope(), {"each": {"key": "k", "value": {"arn": "arn:x"}}})
    assert evaluate("${each.value.arn}", each) == "arn:x"
    assert evaluate("${var.env}", each) == "prod"
    assert evaluate("${a.b}", MapScope({"a": {"b": 1}})) == 1


def test_a_failing_scope_never_escapes() -> None:
    class Broken(Scope):
        def lookup(self, name: str) -> Any:
            raise RuntimeError("boom")
    assert isinstance(evaluate("${var.x}", Broken()), Unknown)


def test_parse_is_cached() -> None:
    text = "${var.n + 40000}"
    parse(text)
    before = parse.cache_info().hits
    for _ in range(3):
        assert evaluate(text, scope()) == 40003
    assert parse.cache_info().hits >= before + 3


def test_what_the_parse_cache_holds_is_plain_text_whoever_asked_first() -> None:
    """A reader's str subclass (the CloudFormation loader's strings carry their line) asked first
    must not be what a later caller gets back: the Terraform root cache cannot hold it."""
    from iamgate.sources.cloudformation.loader import LStr
    from iamgate.sources.terraform.expressions import parse_template
    import dataclasses

    def strings(node: Any) -> list:
        if isinstance(node, str):
            return [node]
        if dataclasses.is_dataclass(node):
            return [s for f in dataclasses.fields(node) for s in strings(getattr(node, f.name))]
        return [s for item in node for s in strings(item)] if isinstance(node, tuple) else []

    text = '{"Version": "2012-10-17", "Statement": []} and a never-seen-before 5e1c'
    for parser in (parse_template, parse):
        first = parser(LStr(text))
        assert parser(text) is first and text in strings(first)
        assert {type(s) for s in strings(first)} == {str}


# ------------------------------------------------------------------------------------------ real modules


class ModuleScope(Scope):
    """A small module reader for tests: variable defaults (plus overrides), lazily evaluated
    locals, resources and data sources as objects whose attributes are unknown."""

    def __init__(self, docs: List[Dict[str, Any]], variables: Mapping[str, Any] = (),
                 locals_: Mapping[str, Any] = (), files: Optional[Mapping[str, str]] = None,
                 module: str = ".") -> None:
        self.vars: Dict[str, Any] = {}
        raw_locals: Dict[str, Any] = {}
        for doc in docs:
            for block in doc.get("variable", []):
                for label, body in block.items():
                    name = label.strip('"')
                    default = body.get("default", None)
                    self.vars[name] = evaluate(default, MapScope({})) if "default" in body \
                        else Unknown(f"var.{name} (no value)")
            for block in doc.get("locals", []):
                raw_locals.update({k: v for k, v in block.items() if not k.startswith("__")})
        self.vars.update(variables)
        self.locals = _LazyLocals(self, raw_locals, dict(locals_))
        self.files = dict(files or {})
        self.module = module

    def lookup(self, name: str) -> Any:
        if name == "var":
            return self.vars
        if name == "local":
            return self.locals
        if name == "path":
            return {"module": self.module, "root": ".", "cwd": "."}
        return OpenObject()

    def read_file(self, path: str) -> Optional[str]:
        return self.files.get(path)


class _LazyLocals(dict):
    def __init__(self, owner: ModuleScope, raw: Dict[str, Any], given: Dict[str, Any]) -> None:
        super().__init__()
        self.owner, self.raw, self.given, self.busy = owner, raw, given, set()

    def __contains__(self, name: object) -> bool:
        return name in self.raw or name in self.given

    def __getitem__(self, name: str) -> Any:
        if name in self.given:
            return self.given[name]
        if name in self.busy:
            return Unknown(f"local.{name} (circular)")
        self.busy.add(name)
        try:
            return evaluate(self.raw[name], self.owner)
        finally:
            self.busy.discard(name)


def _corpus_docs(*relative: str) -> List[Dict[str, Any]]:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    return [hcl2.loads((CORPUS / rel).read_text(encoding="utf-8")) for rel in relative]


def test_lambda_trusted_entities_from_real_module() -> None:
    docs = _corpus_docs("terraform-aws-lambda/iam.tf")
    module = ModuleScope(docs, variables={
        "create_function": True, "create_layer": False, "create_role": True, "lambda_at_edge": False,
        "trusted_entities": ["states.amazonaws.com", {"type": "AWS", "identifiers": ["arn:aws:iam::1:root"]}],
        "role_name": None, "function_name": "fn", "policy_name": None,
    }, locals_={"create": True})
    assert module.locals["trusted_entities_services"] == ["lambda.amazonaws.com", "states.amazonaws.com"]
    assert module.locals["trusted_entities_principals"] == [{"type": "AWS", "identifiers": ["arn:aws:iam::1:root"]}]
    assert module.locals["role_name"] == "fn" and module.locals["policy_name"] == "fn"
    assert isinstance(module.locals["log_group_arn_regional"], Unknown)  # try() over computed attributes


def test_irsa_policy_name_from_real_module() -> None:
    base = "terraform-aws-iam/modules/iam-role-for-service-accounts/"
    docs = _corpus_docs(base + "main.tf", base + "variables.tf")
    plain = ModuleScope(docs, variables={"name": "irsa"})
    assert plain.locals["policy_name"] == "irsa"
    cni = ModuleScope(docs, variables={"attach_vpc_cni_policy": True, "vpc_cni_enable_ipv4": True})
    assert cni.locals["policy_name"] == "VPC_CNI_IPv4"
    providers = {"ex": {"provider_arn": "arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AB",
                        "namespace_service_accounts": ["default:app"]}}
    statement = Bindings(cni, {"statement": {"key": "ex", "value": providers["ex"]}})
    assert evaluate('"${replace(statement.value.provider_arn, "/^(.*provider/)/", "")}:sub"', statement) \
        == "oidc.eks.us-east-1.amazonaws.com/id/AB:sub"
    assert evaluate('${[for sa in statement.value.namespace_service_accounts : "system:serviceaccount:${sa}"]}',
                    statement) == ["system:serviceaccount:default:app"]


def test_real_templatefile_policy_builds() -> None:
    rel = "terraform-provision/terraform/modules/iam_user/ecr_pull_user/"
    docs = _corpus_docs(rel + "user.tf")
    files = {"m/policy.tftpl": (CORPUS / rel / "policy.tftpl").read_text(encoding="utf-8")}
    raw = docs[0]["resource"][2]['"aws_iam_user_policy"']['"iam_policy"']["policy"]
    for arns, resources, unresolved in (
            (["arn:aws:ecr:us-east-1:1:repository/a"], ("arn:aws:ecr:us-east-1:1:repository/a",), frozenset()),
            ([Unknown("aws_ecr_repository.r.arn")], ("*",), frozenset({"Resource"})),
            (Unknown("var.repository_arns (no value)"), ("*",), frozenset({"Resource"}))):
        module = ModuleScope(docs, variables={"repository_arns": arns}, files=files, module="m")
        policy, _ = build_policy(evaluate(raw, module, 13), "p", "identity", Location("user.tf", 13))
        assert policy.statements[0].resources == resources
        assert policy.statements[0].unresolved == unresolved


CORPUS_FILES = [
    "terraform-aws-lambda/iam.tf",
    "terraform-aws-iam/modules/iam-role-for-service-accounts/main.tf",
    "terraform-aws-iam/modules/iam-role-for-service-accounts/policies.tf",
    "terraform-aws-iam/modules/iam-role/main.tf",
    "terraform-provision/terraform/modules/iam_role_policy/s3_broker/policy.tf",
    "terraform-provision/terraform/modules/iam_user/ecr_pull_user/user.tf",
    "terraform-provision/terraform/modules/s3_bucket/kms_encrypted_bucket/kms.tf",
    "terraform-provision/terraform/stacks/tooling/iam.tf",
    "pike/terraform/aws/backup/aws_kms_key.example.tf",
]


def _attribute_values(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("__"):
                continue
            yield value
            yield from _attribute_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _attribute_values(item)


@pytest.mark.parametrize("relative", CORPUS_FILES)
def test_every_attribute_of_real_files_evaluates(relative: str) -> None:
    docs = _corpus_docs(relative)
    permissive = FakeScope({name: OpenObject() for name in ("var", "local", "data", "module", "each", "count")},
                           {})
    count = 0
    for value in _attribute_values(docs[0]):
        assert syntax_errors(value) == []
        result = evaluate(value, permissive, line=1)
        assert not any("not evaluated" in u.expression for u in unknowns_in(result))
        count += 1
    assert count > 0


# ------------------------------------------------------------------------------------------ fuzzing

_PIECES = st.sampled_from([
    "var.", "m", "a", "x", "0", "1", "2.5", '"', "'", "${", "%{", "}", "{", "[", "]", "(", ")", "*", ".", ",",
    ":", "?", "!", "=", "==", "=>", "<", ">", "+", "-", "/", "%", "&&", "||", "~", "\\", "\n", " ", "#",
    "for ", " in ", " if ", "...", "[*]", "true", "null", "<<EOF\n", "\nEOF", "endfor", "endif", "else",
    "jsonencode(", "format(", "try(", "can(", "lookup(", "replace(", "regex(", "range(", "join(", "merge(",
    "templatefile(", "var.services", "var.u", "var.p", "var.m", "local.flag", "aws_s3_bucket.b.arn",
])

_RAW = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
              st.lists(_PIECES, max_size=12).map("".join)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=16).map("".join), st.sampled_from(["{}", "${{{}}}", '"{}"']))
def test_evaluate_never_raises_on_expression_text(text: str, wrapper: str) -> None:
    evaluate(wrapper.format(text), scope(), line=1)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30), st.sampled_from(["{}", "${{{}}}", '"{}"']))
def test_parse_raises_only_syntax_errors_on_any_text(text: str, wrapper: str) -> None:
    try:
        parse(wrapper.format(text))
    except HclSyntaxError:
        pass
    assert isinstance(syntax_errors([wrapper.format(text)]), list)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_RAW)
def test_evaluate_never_raises_on_raw_values(raw: Any) -> None:
    evaluate(raw, scope())
    syntax_errors(raw)


def test_open_objects_are_not_taken_as_fully_known() -> None:
    assert isinstance(ev("jsonencode(aws_s3_bucket.b)"), Unknown)
    assert isinstance(ev("keys(aws_s3_bucket.b)"), Unknown)
    assert isinstance(ev("aws_s3_bucket.b == {bucket = \"orders-bucket\"}"), Unknown)
    assert isinstance(ev("[for k, v in aws_s3_bucket.b : k]"), Unknown)
    assert ev('merge(aws_s3_bucket.b, {x = 1}).bucket') == "orders-bucket"
    assert ev('merge(aws_s3_bucket.b, {x = 1}).arn') == Unknown('merge(aws_s3_bucket.b, {x = 1}).arn')


def test_root_cause_is_named_once_and_scope_text_is_kept() -> None:
    nested = ev('var.u ? (var.create ? "a" : "b") : upper(format("%s", var.u == "x" ? "y" : "z"))')
    assert nested.expression.endswith("(depends on var.u (no value))")
    assert nested.expression.count("depends on") == 1
    chained = ev('[for x in [var.u == 1 ? 1 : 2] : x + 1][0] + (var.u == 1 ? 1 : 2)')
    assert chained.expression.endswith("(depends on var.u (no value))")
    assert ev("local.flag + 1") == Unknown("local.flag + 1 (depends on local.flag (depends on a data source))")
