"""Terraform files as plain data with lines: python-hcl2 for ``.tf``, JSON for ``.tf.json``.

``parse_text(path, text)`` returns a ``ParsedFile`` whose ``blocks`` are the file's top-level
blocks in order. ``Block.body`` is python-hcl2's representation of the block body — attribute
name -> raw value exactly as python-hcl2 8 serialises it (string literals keep their quotes,
``"\\"prod\\""``; expressions are ``"${...}"``; bare identifiers such as ``tags`` in
``ignore_changes = [tags]`` stay bare; heredocs keep their ``<<EOF`` form; numbers, bools and
``null`` are Python values; objects are dicts with python-hcl2's keys; nested blocks are lists
of dicts under the block type, wrapped in one ``{label: …}`` level per label) — with three
differences: block type and label *keys* are unquoted, ``__is_block__`` markers are dropped,
and comments are not kept. Every dict that is a block body (top-level and nested, including a
``dynamic`` block and its ``content``) has two extra keys:

- ``"__line__"``: the 1-based line of the block's first token (its type name);
- ``"__attr_lines__"``: ``{attribute name: 1-based line of the name}`` for that body's
  attributes (nested blocks carry their own ``__line__``).

Lines come from python-hcl2's own parse: its Lark parser runs with ``propagate_positions`` and
every ``AttributeRule``/``BlockRule`` of the rule tree keeps the Lark ``Meta`` of its first
token, so this module walks that tree itself (serialising each attribute with python-hcl2's
serialiser) instead of calling ``hcl2.loads``; ``SerializationOptions(with_meta=True)`` emits
nothing in python-hcl2 8.

``.tf.json`` files (Terraform's JSON syntax) are normalised to the same shape: a JSON string is
a template and becomes an HCL quoted string (``"abc ${var.x}"`` -> ``"\\"abc ${var.x}\\""``,
with ``\\``, ``"`` and control characters escaped as HCL escapes them); the arguments Terraform
reads as literal strings (``variable`` ``default``/``description``, ``module`` ``source``/
``version``, everything in a ``terraform`` block, …) get ``${``/``%{`` escaped as ``$${``/
``%%{``; the arguments Terraform reads as expressions (``depends_on``, ``provider``,
``providers``, ``ignore_changes``, ``replace_triggered_by``, a variable's ``type``, ``moved``/
``removed``/``import`` addresses) are parsed by python-hcl2 as native expressions; numbers,
bools and ``null`` stay JSON values; a ``"//"`` property of a block body is a comment and
dropped. Which JSON object properties are nested blocks cannot be known without provider
schemas: the Terraform meta-blocks (``lifecycle``, ``provisioner``, ``connection``,
``dynamic``/``content``, ``validation``, ``precondition``, ``backend``, …) and the common AWS
blocks listed in ``JSON_RESOURCE_BLOCKS`` (``statement``, ``principals``, ``condition``,
``inline_policy``, …) are; any other object is an attribute value. Lines of a ``.tf.json``
block are the line of its body's ``{``, of an attribute the line of its value. Known
differences from the native parse of the same configuration: object keys that are identifiers
come out bare (python-hcl2 keeps the quotes of a quoted key), a JSON number is an int or float
(python-hcl2 keeps ``1e3`` as ``"${1e3}"``), and a JSON string is always a template (``"${x}"``
is ``"\\"${x}\\""`` where the native ``a = x`` is ``"${x}"``).

``*.tfvars`` (native) and ``*.tfvars.json`` files are read too: their top-level attributes go to
``ParsedFile.attributes`` (with ``__attr_lines__``); a ``.tfvars.json`` value is literal.

One construct Terraform accepts and python-hcl2 8 refuses is parsed all the same: an object
``for`` expression whose ``=>`` starts a line (``{ for c in x :\n  key\n  => c }``) is joined onto
the key's line before python-hcl2 parses the text again (``join_for_arrows``; only for a file that
failed as written, and with the line count kept, so every line outside the expression is as written).

Errors raise ``HclError(message, line, column)``.

``parse_cached`` keeps parse results in a content-keyed cache (``$IAMGATE_CACHE_DIR``, else
``$XDG_CACHE_HOME/iamgate``, else ``~/.cache/iamgate``; off with ``IAMGATE_NO_CACHE=1`` or when
the directory is not writable). An entry is one JSON header line (format, key, sha256 and size of
the payload) followed by the JSON payload; anything that does not check out — unreadable,
truncated, another key, another format, a wrong checksum, a payload of the wrong shape — is
ignored and replaced, never trusted; nothing is unpickled. Writes are atomic (temporary file and
``os.replace``). A parse error is cached as an error and reproduces the same ``HclError``.

``parse_many`` answers cached files in-process and parses the misses in a process pool when
there is enough work, sequentially otherwise (or when a pool cannot start).

Everything is pure except the cache I/O.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import sys
import threading
from types import SimpleNamespace
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ..bounds import TooDeep, check_hcl_text

if TYPE_CHECKING:  # read where a .tf.json file is parsed: not from the parse cache, not for .tf files
    from ..jsonpos import Positions

__all__ = [
    "ATTR_LINES_KEY",
    "Block",
    "HclError",
    "JSON_RESOURCE_BLOCKS",
    "LINE_KEY",
    "ParsedFile",
    "cache_key",
    "default_cache_dir",
    "file_kind",
    "parse_cached",
    "parse_many",
    "parse_text",
]

LINE_KEY = "__line__"
ATTR_LINES_KEY = "__attr_lines__"
FORMAT_VERSION = "iamgate-hcl/2"  # 2: a split object for is parsed (an error cached by 1 is stale)

# Pool thresholds: a pool is worth starting for two or more files with at least this many lines
# in all (python-hcl2 parses ~8,000 lines a second here; a forked worker starts in milliseconds,
# a spawned one imports iamgate and python-hcl2 first, ~0.3 s).
PARALLEL_MIN_FILES = 2
PARALLEL_MIN_LINES = 2000
PARALLEL_MIN_LINES_SPAWN = 10000

Json = Any


# ---------------------------------------------------------------------------------------------
# Results


class HclError(ValueError):
    """A file that does not parse: ``message`` says why, ``line``/``column`` (1-based) where."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.line = line
        self.column = column

    def __reduce__(self) -> Tuple[Any, Tuple[str, int, int]]:
        return HclError, (self.message, self.line, self.column)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, HclError)
                and (self.message, self.line, self.column) == (other.message, other.line, other.column))

    def __hash__(self) -> int:
        return hash((self.message, self.line, self.column))


@dataclass
class Block:
    """One top-level block: ``resource "aws_iam_role" "task" {…}`` is kind ``resource``,
    labels ``("aws_iam_role", "task")``; ``line`` equals ``body["__line__"]``; ``file`` is the
    path of the ``ParsedFile`` it came from (not compared: equal content, equal blocks)."""

    kind: str
    labels: Tuple[str, ...]
    body: Dict[str, Any]
    line: int
    file: str = field(default="", compare=False)


@dataclass(frozen=True)
class ParsedFile:
    """A parsed file: its top-level blocks in order, and top-level attributes (tfvars)."""

    path: str
    blocks: Tuple[Block, ...]
    attributes: Dict[str, Any] = field(default_factory=dict)


ParseResult = Union[ParsedFile, HclError]


def file_kind(path: str) -> str:
    """``json`` for ``*.tf.json``/``*.json``, ``tfvars-json`` for ``*.tfvars.json``, else ``hcl``."""
    lower = path.lower()
    if lower.endswith(".tfvars.json"):
        return "tfvars-json"
    if lower.endswith(".json"):
        return "json"
    return "hcl"


def parse_text(path: str, text: str) -> ParsedFile:
    """Parse one file's text (the kind follows from ``path``); raise ``HclError`` when invalid."""
    return _from_payload(path, _payload(file_kind(path), text))


# ---------------------------------------------------------------------------------------------
# Native syntax, through python-hcl2's rule tree

_HCL2: Any = None


def _hcl2() -> Any:
    """python-hcl2's pieces, imported on first use (importing lark costs ~70 ms)."""
    global _HCL2
    if _HCL2 is None:
        import hcl2
        from hcl2.rules.base import AttributeRule, BlockRule
        from hcl2.rules.strings import StringRule
        from hcl2.utils import SerializationOptions, process_escape_sequences
        from lark.exceptions import LarkError, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

        _HCL2 = SimpleNamespace(
            module=hcl2, AttributeRule=AttributeRule, BlockRule=BlockRule, StringRule=StringRule,
            options=SerializationOptions(with_comments=False), unescape=process_escape_sequences,
            LarkError=LarkError, UnexpectedInput=UnexpectedInput, VisitError=VisitError,
            UnexpectedToken=UnexpectedToken, UnexpectedEOF=UnexpectedEOF)
    return _HCL2


def _parse_hcl(text: str) -> Tuple[List[Json], Dict[str, Any]]:
    """Blocks (as ``[kind, labels, body, line]``) and top-level attributes of native HCL text."""
    api = _hcl2()
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        check_hcl_text(text)
    except TooDeep as e:
        raise HclError(e.message, 1, 1) from None
    try:
        tree = _parse_tree(api, text)
        start = api.module.transform(tree, discard_comments=True)
    except api.UnexpectedInput as e:
        raise _lark_error(e, text) from None
    except api.VisitError as e:
        meta = getattr(getattr(e, "obj", None), "meta", None)
        raise HclError(_clean(str(e.orig_exc)), _meta_line(meta, 1), getattr(meta, "column", 1)) from None
    except api.LarkError as e:
        raise HclError(_clean(str(e)), 1, 1) from None
    except RecursionError:
        raise HclError("nested too deeply", 1, 1) from None
    try:
        return _walk(start, api)
    except HclError:
        raise
    except (RuntimeError, ValueError) as e:  # python-hcl2's serialiser refusing a value
        raise HclError(_clean(str(e)), 1, 1) from None


def _parse_tree(api: Any, text: str) -> Any:
    """python-hcl2's parse tree of ``text``; when it refuses the text and ``join_for_arrows``
    can rewrite it (an object ``for`` whose ``=>`` starts a line, which Terraform accepts), the
    tree of the rewritten text, whose error, if it has one, is the file's real error (its line is
    the line as written: the rewrite moves no line outside a ``for`` expression)."""
    try:
        return api.module.parses_to_tree(text)
    except api.UnexpectedInput:
        joined = join_for_arrows(text)
        if joined is None:
            raise
    return api.module.parses_to_tree(joined)


_HEREDOC_START = re.compile(r"<<(-?)([A-Za-z_][\w-]*)[ \t]*\r?\n")
_FOR_AFTER_BRACE = re.compile(r"(?:[ \t\r\n]+|#[^\n]*|//[^\n]*|/\*.*?\*/)*for[ \t\r\n]", re.S)


@dataclass
class _Bracket:
    """An open ``{``, ``[``, ``(`` or ``${``/``%{`` while scanning; ``moved``: new lines taken out
    before an ``=>`` of this object ``for``, put back before its closing ``}``."""

    char: str
    object_for: bool = False
    moved: int = 0


def join_for_arrows(text: str) -> Optional[str]:
    """The text with every object ``for`` expression whose ``=>`` starts a line (after new lines
    or comments) rewritten so that the ``=>`` follows the key on its line, which python-hcl2
    requires and Terraform does not (cloudposse modules write ``{ for c in x :\n  key\n  => c }``).
    The new lines taken out go back just before the expression's closing ``}``, so every line
    outside the expression keeps its number. Strings, heredocs and comments are never changed.
    None when there is nothing to rewrite (or the brackets do not balance)."""
    edits: List[Tuple[int, int, str]] = []  # (start, end, replacement), in order
    stack: List[_Bracket] = []
    last = 0  # the end of the last token that is not white space or a comment
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch == '"':
            i = _skip_string(text, i + 1, stack)
        elif text.startswith("<<", i) and _HEREDOC_START.match(text, i):
            i = _skip_heredoc(text, _HEREDOC_START.match(text, i))  # type: ignore[arg-type]
        elif text.startswith("=>", i) and stack and stack[-1].object_for:
            gap = text[last:i]
            if "\n" in gap:
                edits.append((last, i, " "))
                stack[-1].moved += gap.count("\n")
            i += 2
        elif ch in "{[(":
            stack.append(_Bracket(ch, ch == "{" and bool(_FOR_AFTER_BRACE.match(text, i + 1))))
            i += 1
        elif ch in "}])":
            if not stack:
                return None
            top = stack.pop()
            if top.moved:
                edits.append((i, i, "\n" * top.moved))
            i += 1
            if top.char in ("${", "%{"):
                i = _skip_string(text, i, stack)  # back in the string the interpolation is part of
        else:
            i += 1
        last = i
    if not edits or stack:
        return None
    out: List[str] = []
    pos = 0
    for start, end, replacement in edits:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _skip_string(text: str, i: int, stack: List[_Bracket]) -> int:
    """From inside a quoted string at ``i``: the index after its closing quote, or of the ``{``
    after the ``${``/``%{`` that opens an interpolation (pushed on ``stack``; scanning resumes in
    the string when it closes)."""
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
        elif text.startswith(("$${", "%%{"), i):
            i += 3
        elif text.startswith(("${", "%{"), i):
            stack.append(_Bracket(text[i:i + 2]))
            return i + 2
        elif ch == '"' or ch == "\n":
            return i + 1
        else:
            i += 1
    return n


def _skip_heredoc(text: str, start: Any) -> int:
    """The index after the line that closes the heredoc ``start`` (a match of ``_HEREDOC_START``)."""
    marker = start.group(2)
    pos = start.end()
    for line in re.finditer(r"[^\n]*(?:\n|$)", text[pos:]):
        if line.group(0).strip() == marker:
            return pos + line.end()
        if not line.group(0):
            break
    return len(text)


def _walk(start: Any, api: Any) -> Tuple[List[Json], Dict[str, Any]]:
    """Blocks and attributes of python-hcl2's ``StartRule``."""
    blocks: List[Json] = []
    attributes: Dict[str, Any] = {}
    attr_lines: Dict[str, int] = {}
    for child in start.body.children:
        if isinstance(child, api.BlockRule):
            labels = child.labels
            body = _rule_body(child, api)
            blocks.append([labels[0].serialize(api.options), [_label(x, api) for x in labels[1:]],
                           body, body[LINE_KEY]])
        elif isinstance(child, api.AttributeRule):
            name, value = _attribute(child, api)
            line = _meta_line(child._meta, 1)
            if name in attr_lines:
                raise HclError(f'"{name}" is already defined as an attribute at line {attr_lines[name]}',
                               line, _meta_column(child._meta))
            attributes[name] = value
            attr_lines[name] = line
    if attributes:
        attributes[ATTR_LINES_KEY] = attr_lines
    return blocks, attributes


def _rule_body(block: Any, api: Any) -> Dict[str, Any]:
    """The body dict of a ``BlockRule``, with ``__line__`` and ``__attr_lines__``."""
    line = _meta_line(block._meta, 1)  # the Lark Meta python-hcl2 keeps for each rule
    result: Dict[str, Any] = {}
    attr_lines: Dict[str, int] = {}
    for child in block.body.children:
        if isinstance(child, api.AttributeRule):
            name, value = _attribute(child, api)
            at = _meta_line(child._meta, line)
            if name in result:
                what = f"an attribute at line {attr_lines[name]}" if name in attr_lines else "a block"
                raise HclError(f'"{name}" is already defined as {what}', at, _meta_column(child._meta))
            result[name] = value
            attr_lines[name] = at
        elif isinstance(child, api.BlockRule):
            labels = child.labels
            kind = labels[0].serialize(api.options)
            if kind in attr_lines:
                raise HclError(f'"{kind}" is already defined as an attribute at line {attr_lines[kind]}',
                               _meta_line(child._meta, line), _meta_column(child._meta))
            entry: Any = _rule_body(child, api)
            for label in reversed(labels[1:]):
                entry = {_label(label, api): entry}
            result.setdefault(kind, []).append(entry)
    result[LINE_KEY] = line
    result[ATTR_LINES_KEY] = attr_lines
    return result


def _attribute(rule: Any, api: Any) -> Tuple[str, Any]:
    """``(name, raw value)`` of an ``AttributeRule``, as python-hcl2's body serialiser gives it."""
    ((name, value),) = rule.serialize(api.options).items()
    return name, value


def _label(rule: Any, api: Any) -> str:
    """A block type or label without its quotes (a quoted label's escapes resolved)."""
    raw = rule.serialize(api.options)
    if isinstance(rule, api.StringRule) and len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return api.unescape(raw[1:-1])
    return str(raw)


def _meta_column(meta: Any) -> int:
    column = getattr(meta, "column", None)
    return column if isinstance(column, int) and column > 0 else 1


def _meta_line(meta: Any, default: int) -> int:
    line = getattr(meta, "line", None)
    return line if isinstance(line, int) and line > 0 else default


# Lark terminal names, as a message should say them
_TERMINALS = {
    "$END": "end of file", "NAME": "a name", "NL_OR_COMMENT": "a new line", "LBRACE": '"{"',
    "RBRACE": '"}"', "LSQB": '"["', "RSQB": '"]"', "LPAR": '"("', "RPAR": '")"', "EQ": '"="',
    "COMMA": '","', "COLON": '":"', "DBLQUOTE": "'\"'", "QMARK": '"?"', "DOT": '"."',
    "FOR_OBJECT_ARROW": '"=>"', "INTERP_START": '"${"', "DIRECTIVE_START": '"%{"',
}
_VALUE_STARTS = {"INT_LITERAL", "FLOAT_LITERAL", "HEREDOC_TEMPLATE", "HEREDOC_TEMPLATE_TRIM",
                 "TEMPLATE_STRING", "TRUE", "FALSE", "NULL", "MINUS", "NOT"}
_KEYWORDS = {"IF", "IN", "FOR", "FOR_EACH", "ELSE", "ENDIF", "ENDFOR", "TRUE", "FALSE", "NULL"}


def _lark_error(error: Any, text: str) -> HclError:
    """A clear ``HclError`` from a Lark ``UnexpectedInput`` (its line and column kept)."""
    api = _hcl2()
    line, column = getattr(error, "line", -1), getattr(error, "column", -1)
    if not isinstance(line, int) or line < 1:
        line = text.count("\n") + 1
        column = len(text) - text.rfind("\n")
    expected = set(getattr(error, "expected", None) or ())
    column = column if isinstance(column, int) and column > 0 else 1
    if isinstance(error, api.UnexpectedToken):
        token = error.token
        found = _describe_token(token.type, str(token))
    elif isinstance(error, api.UnexpectedEOF):
        found = "end of file"
    else:
        char = getattr(error, "char", "")
        found = f"character {char!r}" if char else "input"
    if found == "heredoc":
        marker = re.match(r"\s*<<-?([A-Za-z][\w.-]*)?", str(error.token))
        name = marker.group(1) if marker and marker.group(1) else ""
        return HclError(f"unterminated heredoc: no line closes <<{name}" if name else
                        "invalid heredoc: << must be followed by a marker and a new line", line, column)
    if found == "end of file" and {"DBLQUOTE", "STRING_CHARS"} <= expected:
        source = text.split("\n")[line - 1] if line <= text.count("\n") + 1 else ""
        quote = source.rfind('"', 0, max(column - 1, 0))
        return HclError("unterminated string: a quoted string must end on the line where it starts",
                        line, quote + 1 if quote >= 0 else column)
    message = f"unexpected {found}"
    wanted = _describe_expected(expected)
    if wanted:
        message += f"; expected {wanted}"
    return HclError(message, line, column)


def _describe_token(kind: str, value: str) -> str:
    """How a message names the token Lark stopped at."""
    if kind == "$END":
        return "end of file"
    if kind == "STRING_CHARS" and value.lstrip(" \t").startswith("<<"):
        return "heredoc"
    first = value.lstrip(" \t\r")
    if first.startswith("\n"):
        return "end of line"
    first = first.split("\n", 1)[0].strip()
    if not first:
        return "end of line"
    if len(first) > 30:
        first = first[:27] + "..."
    return f'"{first}"'


def _describe_expected(expected: set) -> str:
    names: List[str] = []
    if expected & (_VALUE_STARTS | {"DBLQUOTE", "LSQB", "LPAR"}) and len(expected) > 6:
        names.append("an expression")
        expected = expected - _VALUE_STARTS - {"DBLQUOTE", "LSQB", "LPAR", "NAME", "LBRACE"} - _KEYWORDS
    elif "NAME" in expected:
        expected = expected - _KEYWORDS
    for kind in sorted(expected, key=lambda k: (k not in _TERMINALS, k)):
        name = _TERMINALS.get(kind)
        if name and name not in names:
            names.append(name)
    if not names:
        return ""
    names = names[:5]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _clean(message: str) -> str:
    return " ".join(message.split())[:300]


# ---------------------------------------------------------------------------------------------
# JSON syntax (https://developer.hashicorp.com/terraform/language/syntax/json)

# Labels of each top-level block type (others: none)
_TOP_LABELS = {"resource": 2, "data": 2, "ephemeral": 2, "variable": 1, "output": 1, "module": 1,
               "provider": 1, "check": 1}

# Nested blocks of resources and data sources that matter here (provider schemas are not
# available, so an object value is a nested block only when its name is listed)
JSON_RESOURCE_BLOCKS: Mapping[str, int] = {
    name: 0 for name in (
        # IAM policy documents and roles
        "statement", "principals", "not_principals", "condition", "inline_policy",
        # Lambda
        "environment", "vpc_config", "dead_letter_config", "tracing_config", "ephemeral_storage",
        "image_config", "file_system_config", "logging_config", "snap_start",
        "destination_config", "on_failure", "on_success", "filter_criteria",
        # S3
        "versioning", "versioning_configuration", "server_side_encryption_configuration", "rule",
        "apply_server_side_encryption_by_default", "logging", "website", "cors_rule",
        "lifecycle_rule", "expiration", "transition", "noncurrent_version_expiration", "filter",
        "and", "grant", "grantee", "access_control_policy", "owner", "replication_configuration",
        "destination", "access_control_translation", "encryption_configuration",
        "source_selection_criteria", "sse_kms_encrypted_objects", "object_lock_configuration",
        "default_retention",
        # EC2, ECS, DynamoDB, EventBridge, CodeBuild/CodePipeline, Secrets Manager
        "ingress", "egress", "ebs_block_device", "root_block_device", "metadata_options",
        "volume", "network_configuration", "load_balancer", "attribute", "global_secondary_index",
        "local_secondary_index", "ttl", "point_in_time_recovery", "server_side_encryption",
        "replica", "input_transformer", "retry_policy", "sqs_target", "artifacts", "cache",
        "stage", "action", "artifact_store", "encryption_key", "rotation_rules",
        # any resource
        "timeouts",
    )
}

_RESOURCE_LIKE = frozenset({"resource", "data", "ephemeral"})
_META_BLOCKS: Mapping[str, Mapping[str, int]] = {
    "$resource": {**JSON_RESOURCE_BLOCKS, "lifecycle": 0, "provisioner": 1, "connection": 0,
                  "dynamic": 1},
    "lifecycle": {"precondition": 0, "postcondition": 0},
    "provisioner": {"connection": 0},
    "dynamic": {"content": 0},
    "variable": {"validation": 0},
    "output": {"precondition": 0},
    "check": {"data": 2, "assert": 0},
    "terraform": {"backend": 1, "cloud": 0, "required_providers": 0, "provider_meta": 1},
    "cloud": {"workspaces": 0},
    "provider": {"assume_role": 0, "assume_role_with_web_identity": 0, "default_tags": 0,
                 "ignore_tags": 0, "endpoints": 0},
    "removed": {"lifecycle": 0, "provisioner": 1, "connection": 0},
    "module": {},
}

# Arguments whose JSON strings are expressions, and arguments that are literal (not templates)
_EXPRESSION_ARGS: Mapping[str, frozenset] = {
    "$resource": frozenset({"depends_on", "provider"}),
    "module": frozenset({"depends_on", "providers"}),
    "output": frozenset({"depends_on"}),
    "variable": frozenset({"type"}),
    "lifecycle": frozenset({"ignore_changes", "replace_triggered_by"}),
    "moved": frozenset({"from", "to"}),
    "removed": frozenset({"from"}),
    "import": frozenset({"to", "provider"}),
}
_LITERAL_ARGS: Mapping[str, frozenset] = {
    "variable": frozenset({"default", "description", "sensitive", "nullable", "ephemeral"}),
    "output": frozenset({"description", "sensitive", "ephemeral"}),
    "module": frozenset({"source", "version"}),
    "provider": frozenset({"alias", "version"}),
}
_LITERAL_CONTEXTS = frozenset({"terraform", "backend", "cloud", "workspaces", "required_providers",
                               "provider_meta", "$tfvars"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def _parse_json(text: str, tfvars: bool) -> Tuple[List[Json], Dict[str, Any]]:
    """Blocks (as ``[kind, labels, body, line]``) and attributes of a Terraform JSON file."""
    from ..jsonpos import JsonError, load as load_json
    try:
        data, positions = load_json(text)
    except JsonError as e:
        raise HclError(e.message, e.line, e.column) from None
    if not isinstance(data, dict):
        raise HclError("a Terraform JSON file must hold a JSON object", *positions[()])
    if tfvars:
        body = _json_body(data, (), "$tfvars", positions)
        del body[LINE_KEY]
        return [], (body if len(body) > 1 else {})
    blocks: List[Json] = []
    for kind, value in data.items():
        if kind == "//":
            continue
        context = "$resource" if kind in _RESOURCE_LIKE else kind
        for labels, body_value, path in _expand(value, (kind,), _TOP_LABELS.get(kind, 0), (), positions):
            body = _json_body(body_value, path, context, positions)
            blocks.append([kind, list(labels), body, body[LINE_KEY]])
    return blocks, {}


def _expand(value: Any, path: Tuple, levels: int, labels: Tuple[str, ...],
            positions: Positions) -> Iterator[Tuple[Tuple[str, ...], Dict[str, Any], Tuple]]:
    """Each block under a block-type property: ``(labels, body object, JSON path of the body)``.

    An array may stand for an object at any level (several blocks with the same labels)."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _expand(item, path + (i,), levels, labels, positions)
        return
    if not isinstance(value, dict):
        what = "a block body" if levels == 0 else "an object of block labels"
        raise HclError(f'"{path[0]}" needs {what} here, not {_json_type(value)}',
                       *positions.nearest(path))
    if levels == 0:
        yield labels, value, path
        return
    for key, item in value.items():
        if key != "//":
            yield from _expand(item, path + (key,), levels - 1, labels + (key,), positions)


def _json_body(obj: Dict[str, Any], path: Tuple, context: str, positions: Positions) -> Dict[str, Any]:
    """A JSON block body in python-hcl2's shape, with ``__line__`` and ``__attr_lines__``."""
    nested = _META_BLOCKS.get(context, {})
    expressions = _EXPRESSION_ARGS.get(context, frozenset())
    literals = _LITERAL_ARGS.get(context, frozenset())
    literal_context = context in _LITERAL_CONTEXTS
    result: Dict[str, Any] = {}
    attr_lines: Dict[str, int] = {}
    for key, value in obj.items():
        if key == "//" and context != "$tfvars":
            continue
        key_path = path + (key,)
        if key in nested and _is_block_value(value):
            child = _child_context(context, key)
            entries: List[Any] = []
            for labels, body_value, body_path in _expand(value, key_path, nested[key], (), positions):
                entry: Any = _json_body(body_value, body_path, child, positions)
                for label in reversed(labels):
                    entry = {label: entry}
                entries.append(entry)
            result[key] = entries
            continue
        if key in expressions:
            result[key] = _json_expression(value)
        else:
            result[key] = _json_value(value, literal_context or key in literals)
        attr_lines[key] = positions.line(key_path) or positions.nearest(key_path)[0]
    result[LINE_KEY] = positions.nearest(path)[0]
    result[ATTR_LINES_KEY] = attr_lines
    return result


def _child_context(context: str, key: str) -> str:
    if context == "dynamic" and key == "content":
        return "$resource"
    if context == "$resource" and key in JSON_RESOURCE_BLOCKS:
        return "$resource"
    if context == "check" and key == "data":
        return "$resource"
    return key


def _is_block_value(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and all(isinstance(x, dict) for x in value))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "null" if value is None else "an object"


def _json_value(value: Any, literal: bool) -> Any:
    """A JSON value as python-hcl2 represents the same value written natively."""
    if isinstance(value, str):
        return _quote(value, literal)
    if isinstance(value, list):
        return [_json_value(x, literal) for x in value]
    if isinstance(value, dict):
        return {_object_key(k): _json_value(v, literal) for k, v in value.items()}
    return value  # int, float, bool, None


def _quote(value: str, literal: bool = False) -> str:
    """``abc`` -> ``"abc"``, escaped as an HCL quoted template (literal: ``${`` -> ``$${``)."""
    if _NEEDS_ESCAPE.search(value):
        value = _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), value)
    if literal and ("${" in value or "%{" in value):
        value = value.replace("${", "$${").replace("%{", "%%{")
    return f'"{value}"'


def _object_key(key: str) -> str:
    return key if _IDENTIFIER.match(key) else _quote(key, literal=True)


def _json_expression(value: Any) -> Any:
    """An argument Terraform reads as an expression: each string parsed as native syntax."""
    if isinstance(value, str):
        return _native_expression(value)
    if isinstance(value, list):
        return [_json_expression(x) for x in value]
    if isinstance(value, dict):
        return {_object_key(k): _json_expression(v) for k, v in value.items()}
    return value


def _native_expression(source: str) -> Any:
    """python-hcl2's value for ``x = <source>``; ``"${source}"`` when that is not an expression."""
    api = _hcl2()
    if "\n" not in source:
        try:
            tree = api.module.transform(api.module.parses_to_tree(f"x = {source}\n"), discard_comments=True)
            children = [c for c in tree.body.children if isinstance(c, api.AttributeRule)]
            if len(children) == 1:
                return _attribute(children[0], api)[1]
        except (api.LarkError, RecursionError, RuntimeError, ValueError):
            pass
    return "${" + source + "}"


# ---------------------------------------------------------------------------------------------
# Payloads: what a parse produces, as plain JSON-able data (also the cache's content)


def _payload(kind: str, text: str) -> Dict[str, Any]:
    """``{"blocks": […], "attributes": {…}}``, or ``{"error": [message, line, column]}``."""
    try:
        if kind == "hcl":
            blocks, attributes = _parse_hcl(text)
        else:
            blocks, attributes = _parse_json(text, tfvars=kind == "tfvars-json")
    except HclError as e:
        return {"error": [e.message, e.line, e.column]}
    return {"blocks": blocks, "attributes": attributes}


def _from_payload(path: str, payload: Mapping[str, Any]) -> ParsedFile:
    """The ``ParsedFile`` a payload describes; raises its ``HclError`` when it is one."""
    error = payload.get("error")
    if error is not None:
        message, line, column = error
        raise HclError(message, line, column)
    blocks = tuple(Block(kind, tuple(labels), body, line, path) for kind, labels, body, line in payload["blocks"])
    return ParsedFile(path, blocks, payload.get("attributes") or {})


def _result(path: str, payload: Mapping[str, Any]) -> ParseResult:
    try:
        return _from_payload(path, payload)
    except HclError as e:
        return e


def _valid_payload(payload: Any) -> bool:
    """Does a payload read back from a cache entry have the shape ``_payload`` gives?"""
    if not isinstance(payload, dict):
        return False
    if "error" in payload:
        error = payload["error"]
        return (isinstance(error, list) and len(error) == 3 and isinstance(error[0], str)
                and all(isinstance(x, int) and not isinstance(x, bool) for x in error[1:]))
    blocks, attributes = payload.get("blocks"), payload.get("attributes")
    if not isinstance(blocks, list) or not isinstance(attributes, dict):
        return False
    for block in blocks:
        if not (isinstance(block, list) and len(block) == 4):
            return False
        kind, labels, body, line = block
        if not (isinstance(kind, str) and isinstance(labels, list) and all(isinstance(x, str) for x in labels)
                and isinstance(body, dict) and isinstance(line, int) and not isinstance(line, bool)
                and body.get(LINE_KEY) == line and isinstance(body.get(ATTR_LINES_KEY), dict)):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Cache

_HCL2_VERSION: Optional[str] = None


def _hcl2_version() -> str:
    """python-hcl2's version, read without importing it (the import costs more than a warm run)."""
    global _HCL2_VERSION
    if _HCL2_VERSION is None:
        version = None
        module = sys.modules.get("hcl2")
        if module is not None:
            version = getattr(module, "__version__", None)
        if not version or version == "unknown":
            version = _hcl2_version_from_files()
        _HCL2_VERSION = version or "unknown"
    return _HCL2_VERSION


def _hcl2_version_from_files() -> Optional[str]:
    import importlib.util
    try:
        spec = importlib.util.find_spec("hcl2")
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            with open(os.path.join(location, "version.py"), encoding="utf-8") as fh:
                match = re.search(r"""^__version__\s*=\s*version\s*=\s*['"]([^'"]+)['"]""", fh.read(), re.M)
            if match:
                return match.group(1)
    except (OSError, ImportError, ValueError):
        pass
    try:
        from importlib.metadata import version
        return version("python-hcl2")
    except Exception:  # noqa: BLE001 - any failure only makes the key more conservative
        return None


def cache_key(kind: str, text: str) -> str:
    """sha256 of this module's format and code, python-hcl2's version, the file kind and the text.

    The module's own source is part of the key, so that a change to how files are parsed (a new
    pre-pass, a fix) never replays what an older parser cached, even if FORMAT_VERSION was not bumped."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}\0{code_digest(__file__)}\0{_hcl2_version()}\0{kind}\0".encode())
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


from ...cache import code_digest, default_cache_dir, disabled as _disabled, store  # noqa: E402 - shared with every cache


def _cache_root(cache_dir: Optional[str]) -> Optional[str]:
    """The usable entry directory under ``cache_dir`` (or the default), created; else ``None``."""
    if _disabled():
        return None
    base = cache_dir if cache_dir is not None else default_cache_dir()
    if not base:
        return None
    root = os.path.join(base, "hcl")
    try:
        os.makedirs(root, exist_ok=True)
    except OSError:
        return None
    return root if os.access(root, os.W_OK | os.X_OK) else None


def _entry_path(root: str, key: str) -> str:
    return os.path.join(root, key[:2], key + ".json")


def _read_entry(root: str, key: str) -> Optional[Dict[str, Any]]:
    """The payload stored under ``key``, or ``None`` when absent or not to be trusted."""
    try:
        with open(_entry_path(root, key), "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    newline = data.find(b"\n")
    if newline < 0:
        return None
    body = data[newline + 1:]
    try:
        header = json.loads(data[:newline])
        if not (isinstance(header, dict) and header.get("format") == FORMAT_VERSION
                and header.get("key") == key and header.get("size") == len(body)
                and header.get("sha256") == hashlib.sha256(body).hexdigest()):
            return None
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return payload if _valid_payload(payload) else None


def _write_entry(root: str, key: str, payload: Mapping[str, Any]) -> None:
    """Store a payload atomically; a failure only means no cache entry."""
    try:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return
    header = json.dumps({"format": FORMAT_VERSION, "key": key, "size": len(body),
                         "sha256": hashlib.sha256(body).hexdigest()}).encode()
    store(_entry_path(root, key), header + b"\n" + body)


def parse_cached(path: str, text: str, cache_dir: Optional[str] = None) -> ParsedFile:
    """``parse_text`` through the content-keyed cache (see the module docstring)."""
    root = _cache_root(cache_dir)
    kind = file_kind(path)
    if root is None:
        return _from_payload(path, _payload(kind, text))
    key = cache_key(kind, text)
    payload = _read_entry(root, key)
    if payload is None:
        payload = _payload(kind, text)
        _write_entry(root, key, payload)
    return _from_payload(path, payload)


# ---------------------------------------------------------------------------------------------
# Many files


def _work(job: Tuple[str, str, Optional[str], Optional[str]]) -> Dict[str, Any]:
    """Pool worker (top level, so that "spawn" can import it): parse one text, store it."""
    kind, text, root, key = job
    payload = _payload(kind, text)
    if root is not None and key is not None:
        _write_entry(root, key, payload)
    return payload


def _internal_error(error: BaseException) -> Dict[str, Any]:
    return {"error": [f"internal error while parsing: {type(error).__name__}: {_clean(str(error))}", 1, 1]}


def _safe_work(job: Tuple[str, str, Optional[str], Optional[str]]) -> Dict[str, Any]:
    try:
        return _work(job)
    except Exception as e:  # noqa: BLE001 - one bad file never stops the others
        return _internal_error(e)


def _mp_context() -> Any:
    """``fork`` where it is safe and cheap (Linux, no other threads), else ``spawn``."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _run_pool(jobs: List[Tuple[str, str, Optional[str], Optional[str]]], workers: int, context: Any
              ) -> List[Optional[Dict[str, Any]]]:
    """Payloads of ``jobs`` from a process pool; ``None`` where the pool could not deliver."""
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    results: List[Optional[Dict[str, Any]]] = [None] * len(jobs)
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][1]))  # largest first
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures: List[Tuple[int, Future]] = [(i, pool.submit(_safe_work, jobs[i])) for i in order]
            for i, future in futures:
                try:
                    results[i] = future.result()
                except BrokenProcessPool:
                    pass  # left None: parsed in this process
                except Exception as e:  # noqa: BLE001 - e.g. a result that does not pickle
                    results[i] = _internal_error(e)
    except Exception:  # noqa: BLE001 - no pool (no /dev/shm, daemonic process, …): go sequential
        pass
    return results


def parse_many(items: Sequence[Tuple[str, str]], cache_dir: Optional[str] = None,
               workers: Optional[int] = None) -> List[ParseResult]:
    """Parse ``(path, text)`` pairs: a ``ParsedFile`` or the ``HclError`` for each, in order.

    Cache hits are answered in-process; the misses (each distinct content once) are parsed in a
    process pool of ``workers`` (default ``os.cpu_count()``) processes when there are at least
    ``PARALLEL_MIN_FILES`` of them with ``PARALLEL_MIN_LINES`` lines in all, else sequentially.
    Never raises for one bad file."""
    root = _cache_root(cache_dir)
    payloads: List[Optional[Dict[str, Any]]] = [None] * len(items)
    pending: Dict[Tuple[str, str], List[int]] = {}
    keys: Dict[Tuple[str, str], Optional[str]] = {}
    for i, (path, text) in enumerate(items):
        kind = file_kind(path)
        ident = (kind, text)
        if ident in pending:
            pending[ident].append(i)
            continue
        key = cache_key(kind, text) if root is not None else None
        hit = _read_entry(root, key) if root is not None and key is not None else None
        if hit is not None:
            payloads[i] = hit
            continue
        pending[ident] = [i]
        keys[ident] = key
    jobs = [(kind, text, root, keys[(kind, text)]) for kind, text in pending]
    for indexes, payload in zip(pending.values(), _parse_jobs(jobs, workers)):
        payloads[indexes[0]] = payload
        for i in indexes[1:]:  # the same content in several files: each gets its own copy
            payloads[i] = copy.deepcopy(payload)
    return [_result(path, payload or _internal_error(RuntimeError("no result")))
            for (path, _), payload in zip(items, payloads)]


def _parse_jobs(jobs: List[Tuple[str, str, Optional[str], Optional[str]]], workers: Optional[int]
                ) -> List[Dict[str, Any]]:
    """Payloads of ``jobs``, in order: from a pool when it pays off, else in this process."""
    from ... import parallel  # check --jobs N, else the CPUs this process may run on
    count = min(workers if workers is not None else parallel.workers(), len(jobs))
    results: List[Optional[Dict[str, Any]]] = [None] * len(jobs)
    if count >= 2 and len(jobs) >= PARALLEL_MIN_FILES:
        lines = sum(text.count("\n") + 1 for _, text, _, _ in jobs)
        context = _mp_context()
        spawn = context.get_start_method() != "fork"
        if lines >= (PARALLEL_MIN_LINES_SPAWN if spawn else PARALLEL_MIN_LINES):
            results = _run_pool(jobs, count, context)
    return [result if result is not None else _safe_work(job) for job, result in zip(jobs, results)]
