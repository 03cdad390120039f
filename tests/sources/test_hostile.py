"""Hostile inputs from a pull request: alias bombs, deep nesting, binary files. Each is a clear
parse error naming the file (exit 2), quickly, never a RecursionError or a traceback."""
import json
import os

import pytest

from iamgate.sources.bounds import MAX_DEPTH, TooDeep, check_depth, loads
from ..cli import run

ROLE = """AWSTemplateFormatVersion: '2010-09-09'
{extra}
Resources:
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}]
      Policies:
        - PolicyName: worker
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: {resource}
"""


def bomb_lines(levels: int = 12) -> list:
    names = "abcdefghijklmnop"[:levels]
    lines = [f'{names[0]}: &{names[0]} ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return lines


def nested(n: int, inner: str = '"x"') -> str:
    return "[" * n + inner + "]" * n


# ---------------------------------------------------------------------------------------------
# YAML alias bombs


def test_alias_bomb_in_a_template_is_a_parse_error(tree, capsys):
    extra = "Metadata:\n" + "\n".join("  " + line for line in bomb_lines())
    (tree / "stack.yaml").write_text(ROLE.format(extra=extra, resource="*l"))
    for command in ("check", "inventory"):
        rc, out, err = run(capsys, command)
        assert rc == 2, err
        assert "stack.yaml: not valid YAML: aliases expand to more than 100,000 nodes" in out


def test_alias_bomb_in_the_manifest_is_a_manifest_error(tree, capsys):
    (tree / "iamgate.yaml").write_text("version: 1\nx:\n" + "\n".join("  " + line for line in bomb_lines()) + "\n")
    (tree / "stack.yaml").write_text(ROLE.format(extra="", resource="'*'"))
    rc, out, err = run(capsys, "check")
    assert rc == 2
    assert "iamgate.yaml:8: invalid YAML: aliases expand to more than 100,000 nodes" in err
    assert "Traceback" not in err


def test_alias_bomb_in_yamldecode_is_unresolved_not_expanded(tree, capsys):
    text = "\\n".join(bomb_lines()).replace('"', '\\"')
    (tree / "main.tf").write_text(
        'locals {\n  y = yamldecode("%s")\n}\n'
        'resource "aws_iam_policy" "p" {\n'
        '  policy = jsonencode({Statement = [{Effect = "Allow", Action = "s3:*", Resource = local.y.l}]})\n}\n'
        % text)
    rc, out, _ = run(capsys, "inventory")
    assert rc == 0
    assert "aliases expand to more than 100,000 nodes" in out


def test_small_aliases_still_work(tree, capsys):
    extra = "Metadata:\n  arns: &arns [arn:aws:s3:::a/*, arn:aws:s3:::b/*]"
    (tree / "stack.yaml").write_text(ROLE.format(extra=extra, resource="*arns"))
    rc, out, err = run(capsys, "inventory", "--format", "json")
    assert rc == 0, out + err
    assert json.loads(out)["principals"][0]["id"] == "WorkerRole"


def test_recursive_alias_in_a_template(tree, capsys):
    (tree / "stack.yaml").write_text(ROLE.format(extra="Metadata: &m [*m]", resource="'*'"))
    rc, out, _ = run(capsys, "check")
    assert rc == 2
    assert "stack.yaml: not valid YAML: a recursive alias" in out


# ---------------------------------------------------------------------------------------------
# Deep nesting: 100,000 levels and just over the limit, in every syntax


DEEP = 100_000


@pytest.mark.parametrize("name, text, message", [
    ("policy.json", '{"Version": "2012-10-17", "Statement": %s}' % nested(DEEP), "not valid JSON: JSON nested too deeply"),
    ("policy.json", '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": %s}]}'
     % nested(MAX_DEPTH + 5), "not valid JSON: JSON nested too deeply"),
    ("stack.json", '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": %s}' % nested(300),
     "not valid JSON: JSON nested too deeply"),
    ("stack.yaml", ROLE.format(extra="", resource=nested(DEEP)), "not valid YAML"),
    ("stack.yaml", ROLE.format(extra="", resource=nested(300)), "not valid YAML: nested too deeply"),
    ("plan.json", '{"format_version": "1.2", "terraform_version": "1.5.0", "planned_values": {"root_module": '
     '{"resources": [{"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "name": "p", '
     '"values": {"policy": %s}}]}}}' % nested(DEEP), "not valid JSON: JSON nested too deeply"),
    ("main.tf", 'locals {\n  x = %s\n}\n' % nested(DEEP, "1"), "nested too deeply (more than 128 levels of brackets)"),
    ("main.tf", 'locals {\n  x = %s\n}\n' % ("(" * 300 + "1" + ")" * 300), "nested too deeply"),
    ("main.tf", 'locals {\n  x = %s\n}\n' % nested(200, "1"), "nested too deeply"),
])
def test_deep_nesting_is_a_parse_error(tree, capsys, name, text, message):
    (tree / name).write_text(text)
    for command in ("check", "inventory"):
        rc, out, err = run(capsys, command)
        assert rc == 2, (command, out, err)
        assert f"{name}: {message}" in out, out
        assert "Traceback" not in err and "internal error" not in err


def test_nesting_within_the_limit_is_read(tree, capsys):
    (tree / "policy.json").write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", '
        '"Condition": {"StringEquals": {"aws:x": %s}}}]}' % nested(MAX_DEPTH - 8))
    for command in ("check", "inventory"):
        rc, out, err = run(capsys, command)
        assert rc in (0, 1), (command, out, err)
        assert "internal error" not in err


def test_deep_json_string_inside_a_template(tree, capsys):
    doc = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": %s}]}' % nested(500)
    (tree / "stack.yaml").write_text(ROLE.format(extra="", resource="'*'").replace(
        "          PolicyDocument:\n", "          PolicyDocument: %s\n          Unused:\n" % json.dumps(doc)))
    rc, out, err = run(capsys, "check")
    assert "internal error" not in err and "Traceback" not in err
    assert rc == 1
    assert "stack.yaml: worker: the policy document is a string that is not JSON (nested too deeply" in out


def test_bounds_are_iterative():
    check_depth(json.loads(nested(MAX_DEPTH - 1)))
    with pytest.raises(TooDeep):
        check_depth(json.loads(nested(MAX_DEPTH + 1)))
    with pytest.raises(ValueError):
        loads(nested(DEEP))


# ---------------------------------------------------------------------------------------------
# Binary files and invalid UTF-8, for every reader


@pytest.mark.parametrize("name", ["policy.json", "stack.yaml", "stack.yml", "stack.template", "main.tf",
                                  "main.tf.json", "plan.json"])
def test_binary_file_is_a_clear_error(tree, capsys, name):
    (tree / name).write_bytes(b'{"a": "\xff\xfe\x00\x01"}\n')
    for command in ("check", "inventory"):
        rc, out, err = run(capsys, command)
        assert rc == 2, (command, out, err)
        assert f"{name}: is not UTF-8 text (byte 7)" in out, out
    assert os.listdir(tree) == [name]


def test_deep_tfvars_are_unresolved_not_a_crash(tree, capsys):
    (tree / "main.tf").write_text('variable "arns" {}\nresource "aws_iam_policy" "p" {\n  name = "p"\n'
                                  '  policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", '
                                  'Action = "s3:GetObject", Resource = var.arns}]})\n}\n')
    (tree / "terraform.tfvars").write_text("arns = %s\n" % nested(DEEP))
    rc, out, err = run(capsys, "inventory")
    assert rc == 0, out + err
    assert "terraform.tfvars" in out and "nested too deeply" in out


# ---------------------------------------------------------------------------------------------
# Nested stacks: a local TemplateURL is read inside the scanned tree only, once per cycle, within a budget


def stack_with(children, role="R"):
    res = "".join(f"  S{i}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n"
                  for i, url in enumerate(children))
    return ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n" + res +
            f"  {role}:\n    Type: AWS::IAM::Role\n    Properties:\n"
            "      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}\n")


def test_nested_stack_fan_out_and_cycles_are_bounded(tree, capsys):
    (tree / "self.yaml").write_text(stack_with(["self.yaml"] * 12))
    names = "abcdef"
    for here, nxt in zip(names, names[1:] + " "):
        (tree / f"{here}.yaml").write_text(stack_with([f"{nxt}.yaml"] * 12 if nxt != " " else [], role=f"R{here}"))
    rc, out, err = run(capsys, "inventory", "--format", "json", "self.yaml")
    assert rc == 0, err
    doc = json.loads(out)
    assert len(doc["principals"]) == 1
    assert len(doc["unresolved"]) == 12
    assert "TemplateURL self.yaml is the template itself or one that encloses it (a cycle); not read" \
        in doc["unresolved"][0]["expression"]
    rc, out, err = run(capsys, "inventory", "--format", "json", "a.yaml")
    assert rc == 0, err
    doc = json.loads(out)
    assert len(doc["principals"]) == 101  # the top-level template and 100 nested ones
    assert [u["expression"] for u in doc["unresolved"]] == [
        "nested stack S5: more than 100 nested stacks under one template; the rest are not read"]


def test_nested_stack_outside_the_tree_is_not_read(tree, capsys):
    (tree / "outside").mkdir()
    (tree / "outside" / "admin.yaml").write_text(stack_with([], role="Admin"))
    (tree / "repo").mkdir()
    os.symlink(tree / "outside" / "admin.yaml", tree / "repo" / "link.yaml")
    (tree / "repo" / "stack.yaml").write_text(stack_with([str(tree / "outside" / "admin.yaml"),
                                                          "../outside/admin.yaml", "link.yaml"]))
    os.chdir(tree / "repo")
    rc, out, err = run(capsys, "inventory", "--format", "json", ".")
    assert rc == 0, err
    doc = json.loads(out)
    assert [p["id"] for p in doc["principals"]] == ["R"]
    said = [u["expression"] for u in doc["unresolved"]]
    assert said == [f"nested stack S0: TemplateURL {tree / 'outside' / 'admin.yaml'} is an absolute path outside "
                    "the scanned tree; not read",
                    "nested stack S1: TemplateURL ../outside/admin.yaml is outside the scanned tree; not read",
                    "nested stack S2: TemplateURL link.yaml is a symbolic link that leads outside the scanned tree; "
                    "not read"]
    assert any("link.yaml: a symbolic link to" in p["message"] for p in doc["problems"])


def test_nested_stack_inside_the_tree_is_read_with_the_size_limit(tree, capsys, monkeypatch):
    (tree / "child.yaml").write_text(stack_with([], role="Child") + "# " + "x" * 3000 + "\n")
    (tree / "parent.yaml").write_text(stack_with(["child.yaml"]))
    rc, out, _ = run(capsys, "inventory", "--format", "json", "parent.yaml")
    assert rc == 0 and sorted(p["id"] for p in json.loads(out)["principals"]) == ["Child", "R"]
    monkeypatch.setenv("IAMGATE_MAX_FILE_SIZE", "2K")
    # one unreadable nested template is a warning, not an input error: the parent is still checked,
    # and the walk does not read the file again on its own (where it would be an input error)
    for target in ("parent.yaml", "."):
        rc, out, _ = run(capsys, "check", target)
        assert rc == 0, out
        assert "! parent.yaml: nested stack S0: child.yaml: larger than 2 KiB; not read" in out
        assert "its IAM is not checked" in out and out.count("larger than 2 KiB") == 1


# ---------------------------------------------------------------------------------------------
# Terraform: instance counts and regular expressions that would not end


def test_huge_count_and_for_each_are_unresolved_not_expanded(tree, capsys):
    (tree / "main.tf").write_text('''
resource "aws_iam_role" "many" {
  count              = 100000000
  name               = "r-${count.index}"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = []})
}
resource "aws_iam_role" "keys" {
  for_each           = merge({for i in range(1000) : "a${i}" => i}, {for i in range(25) : "b${i}" => i})
  name               = "k-${each.key}"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = []})
}
resource "aws_iam_role" "fine" {
  count              = 3
  name               = "f-${count.index}"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = []})
}
''')
    rc, out, err = run(capsys, "inventory", "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    said = sorted(u["expression"] for u in doc["unresolved"])
    assert "count of aws_iam_role.many (100000000: more than 1024 instances are not expanded)" in said
    assert any("for_each of aws_iam_role.keys (1025 keys: more than 1024" in u for u in said), said
    assert sum(p["id"].startswith("aws_iam_role.fine[") for p in doc["principals"]) == 3


def test_catastrophic_regex_is_unresolved_not_run(tree, capsys):
    (tree / "main.tf").write_text(
        'locals { arn = regex("(a+)+$", "%s!") }\n'
        'resource "aws_iam_policy" "p" {\n  name = "p"\n'
        '  policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "s3:*", '
        'Resource = local.arn}]})\n}\n'
        'locals { ok = regex("^arn:aws:iam::(\\\\d+):role/(.+)$", "arn:aws:iam::111122223333:role/x") }\n'
        % ("a" * 60))
    rc, out, err = run(capsys, "inventory")
    assert rc == 0, err
    assert "regular expression '(a+)+$' repeats a repetition" in out


@pytest.mark.parametrize("name", ["policy.json", "stack.yaml", "stack.template", "main.tf", "main.tf.json"])
def test_file_of_nul_bytes_is_binary(tree, capsys, name):
    (tree / name).write_bytes(b"\0" * 300)
    for command in ("check", "inventory"):
        rc, out, err = run(capsys, command, "--fail-on", "never") if command == "check" else run(capsys, command)
        assert rc == 2, (command, out, err)
        assert f"{name}: is binary, not text (a NUL byte at byte 0)" in out, out


# ---------------------------------------------------------------------------------------------
# AccessDenied messages (iamgate explain): long texts without spaces parse in linear time


def test_long_messages_parse_without_backtracking():
    from iamgate.sources.denials import parse_message
    assert parse_message("arn:aws:" * 100_000) is None
    assert getattr(parse_message("not authorized to perform: " * 20_000), "action", None) is None
    parsed = parse_message("x" * 100_000 + " User: arn:aws:iam::111122223333:user/maria is not authorized to "
                           "perform: s3:GetObject on resource: arn:aws:s3:::orders/x")
    assert parsed.action == "s3:GetObject" and parsed.caller_arn == "arn:aws:iam::111122223333:user/maria"


def test_explain_reads_standard_input_within_the_size_limit(tree, capsys, monkeypatch):
    import io
    monkeypatch.setenv("IAMGATE_MAX_FILE_SIZE", "1K")
    monkeypatch.setattr("sys.stdin", io.StringIO("x" * 2000))
    rc, out, err = run(capsys, "explain", "-")
    assert rc == 2 and out == ""
    assert err == "iamgate: standard input: larger than 1 KiB; not read (the limit is set by IAMGATE_MAX_FILE_SIZE)\n"


# ---------------------------------------------------------------------------------------------
# Numbers longer than Python converts (4,300 digits): a parse error, not an internal error


def test_a_number_of_5000_digits(tree, capsys):
    big = "1" * 5000
    (tree / "stack.yaml").write_text(ROLE.format(extra=f"Metadata: {{n: {big}}}", resource="'*'"))
    rc, out, err = run(capsys, "check")
    assert rc == 2 and "stack.yaml: not valid YAML: a number with too many digits" in out, err
    (tree / "stack.yaml").unlink()
    (tree / "iamgate.yaml").write_text(f"version: 1\nx: {big}\n")
    rc, out, err = run(capsys, "check")
    assert rc == 2 and err == "iamgate: iamgate.yaml: invalid YAML: a number with too many digits\n"
    (tree / "iamgate.yaml").unlink()
    (tree / "policy.json").write_text('{"Version": "2012-10-17", "Statement": [], "N": %s}' % big)
    rc, out, err = run(capsys, "check")
    assert rc == 2 and "policy.json" in out and "internal error" not in err
    rc, out, err = run(capsys, "explain", '{"CloudTrailEvent": "{\\"n\\": %s}"}' % big)
    assert "internal error" not in err and rc == 2
