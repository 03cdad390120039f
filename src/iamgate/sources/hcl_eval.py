"""Terraform expressions, parsed and evaluated offline.

python-hcl2 (8.x) hands every attribute value back as a *raw value*: a Python int, float, bool,
None, list or dict (whose elements are raw values again), or a str holding HCL source text:

* ``'"role-${var.env}"'`` — a quoted template, quotes included, HCL escapes not yet processed;
* ``'${var.create ? 1 : 0}'`` — any other expression, wrapped in ``${…}``;
* ``'"<<EOF\\nbody ${x}\\nEOF"'`` — a heredoc: its source token inside double quotes, marker
  lines included and ``<<-`` indentation not yet removed (the same form appears inside
  expressions, e.g. ``'${jsonencode("<<EOF\\n…\\nEOF")}'``);
* object keys: a bare name ``k``, a quoted ``'"k"'`` or an expression ``'${(var.k)}'``.

``evaluate(raw, scope, line)`` turns such a raw value into plain data (str, int, float, bool,
None, list, dict). What cannot be known offline becomes an ``Unknown`` (a whole value) or a
``Partial`` (a string with unknown pieces), exactly as the CloudFormation resolver does, so that
``documents.build_policy`` treats both the same way. ``evaluate`` never raises: a malformed
expression or an evaluation error becomes an ``Unknown`` that names the expression and the problem.
Inside ``try()`` and ``can()`` errors are errors (``EvalError``), so the fallbacks apply.

The parser is a hand-written recursive descent over the HCL native expression grammar (templates
with interpolations and ``%{for}``/``%{if}`` directives and strip markers, tuples, objects,
traversals, splats, calls with ``...``, operators, conditionals, ``for`` expressions, heredocs).
Parsed trees are cached by source text.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import math
import posixpath
import re
import urllib.parse
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .intrinsics import Partial, Unknown, Value, concat, unknowns_in

# ---------------------------------------------------------------------------------------- errors


class HclSyntaxError(ValueError):
    """A malformed HCL expression or template."""

    def __init__(self, message: str, expression: str) -> None:
        super().__init__(f"{message} in {_show(expression)!r}")
        self.message = message
        self.expression = expression


class EvalError(Exception):
    """An expression that Terraform itself would reject (missing attribute, wrong type, …)."""


class _TooComplex(Exception):
    """The evaluation budget ran out (a runaway expression)."""


# ---------------------------------------------------------------------------------------- scope


class Scope(ABC):
    """What an expression can see: the root names and the files of the scanned tree."""

    @abstractmethod
    def lookup(self, name: str) -> Value:
        """The value of a root name (``var``, ``local``, ``aws_iam_role``, ``each``, …), as nested
        dicts and lists, or an ``Unknown``; the evaluator applies the traversals itself.

        Put an ``Unknown`` (or use ``OpenObject``) where a value exists but is known only after
        apply. Raising ``EvalError`` here, or from the mappings returned, means "Terraform would
        reject this reference": under ``try()``/``can()`` it is an error, elsewhere an Unknown."""

    def read_file(self, path: str) -> Optional[str]:
        """The text of a file for ``file()``/``templatefile()``; None when it may not be read."""
        return None


class MapScope(Scope):
    """A scope backed by plain mappings: root names to values, paths to file texts."""

    def __init__(self, names: Mapping[str, Value], files: Optional[Mapping[str, str]] = None) -> None:
        self.names = names
        self.files = files or {}

    def lookup(self, name: str) -> Value:
        return self.names[name] if name in self.names else Unknown(f"{name} (not defined)")

    def read_file(self, path: str) -> Optional[str]:
        return self.files.get(path)


class Bindings(Scope):
    """A scope that adds names (``each``, ``count``, a dynamic block's iterator) to another."""

    def __init__(self, parent: Scope, names: Mapping[str, Value]) -> None:
        self.parent = parent
        self.names = names

    def lookup(self, name: str) -> Value:
        return self.names[name] if name in self.names else self.parent.lookup(name)

    def read_file(self, path: str) -> Optional[str]:
        return self.parent.read_file(path)


class OpenObject(dict):
    """An object whose attributes not listed are unknown until apply (a resource's computed
    attributes such as ``arn`` or ``id``): a missing key is an ``Unknown``, never an error."""


# ---------------------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Node:
    text: str


@dataclass(frozen=True)
class Lit(Node):
    value: Value


@dataclass(frozen=True)
class Interp:
    expr: Node


@dataclass(frozen=True)
class TIf:
    text: str
    cond: Node
    then: tuple
    otherwise: tuple


@dataclass(frozen=True)
class TFor:
    text: str
    key: Optional[str]
    value: str
    coll: Node
    body: tuple


@dataclass(frozen=True)
class Template(Node):
    parts: tuple  # of str | Interp | TIf | TFor


@dataclass(frozen=True)
class Var(Node):
    name: str


# A traversal step: ("attr", name) | ("index", Node) | ("splat",) full [*] | ("asplat",) legacy .*
Step = Tuple[Any, ...]


@dataclass(frozen=True)
class Traversal(Node):
    base: Node
    steps: Tuple[Step, ...]
    prefixes: Tuple[str, ...]  # source text up to and including each step


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: Tuple[Node, ...]
    expand: bool


@dataclass(frozen=True)
class TupleCons(Node):
    items: Tuple[Node, ...]


@dataclass(frozen=True)
class ObjectCons(Node):
    items: Tuple[Tuple[Node, Node], ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Cond(Node):
    cond: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class ForExpr(Node):
    key: Optional[str]
    value: str
    coll: Node
    key_expr: Optional[Node]  # None: a tuple for, otherwise an object for
    value_expr: Node
    group: bool
    cond: Optional[Node]


# ---------------------------------------------------------------------------------------- parser

_WS = re.compile(r"(?:[ \t\r\n]+|#[^\n]*|//[^\n]*|/\*.*?\*/)*", re.S)
_IDENT = re.compile(r"[^\W\d][\w-]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_QUOTED_HEREDOC = re.compile(r'"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n')
_BARE_HEREDOC = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n")
_QUOTED_RUN = re.compile(r'[^"\\$%]+')
_BARE_RUN = re.compile(r"[^$%]+")
_FOR_START = re.compile(r"for\s+[^\W\d]")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_MAX_DEPTH = 48
_BINARY_LEVELS: Tuple[Tuple[str, ...], ...] = (
    ("||",), ("&&",), ("==", "!="), ("<=", ">=", "<", ">"), ("+", "-"), ("*", "/", "%"))


class _Parser:
    """Recursive descent over one source text; the lexing happens on demand at ``pos``."""

    def __init__(self, src: str, depth: int = 0) -> None:
        self.src = src
        self.pos = 0
        self.depth = depth

    # -- lexing helpers

    def error(self, message: str) -> HclSyntaxError:
        return HclSyntaxError(f"{message} at offset {self.pos}", self.src)

    def ws(self) -> None:
        self.pos = _WS.match(self.src, self.pos).end()  # type: ignore[union-attr]

    def at_end(self) -> bool:
        self.ws()
        return self.pos >= len(self.src)

    def peek(self, token: str) -> bool:
        self.ws()
        return self.src.startswith(token, self.pos)

    def accept(self, token: str) -> bool:
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.accept(token):
            raise self.error(f"expected {token!r}")

    def peek_ident(self) -> Optional[str]:
        self.ws()
        m = _IDENT.match(self.src, self.pos)
        return m.group() if m else None

    def ident(self) -> str:
        name = self.peek_ident()
        if name is None:
            raise self.error("expected a name")
        self.pos += len(name)
        return name

    def keyword(self, word: str) -> None:
        if self.ident() != word:
            raise self.error(f"expected {word!r}")

    def accept_op(self, ops: Sequence[str]) -> Optional[str]:
        """Consume one of the operators (longest first in ``ops``), never a prefix of a longer
        token: ``=`` is not ``==``/``=>``, ``<`` is not ``<=``/``<<``."""
        self.ws()
        for op in ops:
            if not self.src.startswith(op, self.pos):
                continue
            nxt = self.src[self.pos + len(op): self.pos + len(op) + 1]
            if (op == "=" and nxt in ("=", ">")) or (op in ("<", ">") and nxt in ("=", "<")):
                continue
            self.pos += len(op)
            return op
        return None

    # -- expressions

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error("expression nested too deeply")
        try:
            return self.conditional()
        finally:
            self.depth -= 1

    def conditional(self) -> Node:
        self.ws()
        start = self.pos
        cond = self.binary(0)
        if not self.accept("?"):
            return cond
        then = self.expression()
        self.expect(":")
        otherwise = self.expression()
        return Cond(self.src[start:self.pos], cond, then, otherwise)

    def binary(self, level: int) -> Node:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        self.ws()
        start = self.pos
        left = self.binary(level + 1)
        while True:
            op = self.accept_op(_BINARY_LEVELS[level])
            if op is None:
                return left
            right = self.binary(level + 1)
            left = Binary(self.src[start:self.pos], op, left, right)

    def unary(self) -> Node:
        self.ws()
        start = self.pos
        if self.src.startswith("!", self.pos) or self.src.startswith("-", self.pos):
            op = self.src[self.pos]
            self.pos += 1
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise self.error("expression nested too deeply")
            operand = self.unary()
            self.depth -= 1
            return Unary(self.src[start:self.pos], op, operand)
        return self.postfix()

    def postfix(self) -> Node:
        self.ws()
        start = self.pos
        base = self.primary()
        steps: List[Step] = []
        prefixes: List[str] = []
        while True:
            save = self.pos
            self.ws()
            if self.src.startswith(".", self.pos) and not self.src.startswith("...", self.pos):
                self.pos += 1
                steps.append(self.dot_step())
            elif self.src.startswith("[", self.pos):
                self.pos += 1
                if self.accept("*"):
                    self.expect("]")
                    steps.append(("splat",))
                else:
                    index = self.expression()
                    self.expect("]")
                    steps.append(("index", index))
            else:
                self.pos = save
                break
            prefixes.append(self.src[start:self.pos])
        if not steps:
            return base
        return Traversal(self.src[start:self.pos], base, tuple(steps), tuple(prefixes))

    def dot_step(self) -> Step:
        self.ws()
        if self.src.startswith("*", self.pos):
            self.pos += 1
            return ("asplat",)
        m = _DIGITS.match(self.src, self.pos)
        if m:
            self.pos = m.end()
            return ("index", Lit(m.group(), int(m.group())))
        return ("attr", self.ident())

    def primary(self) -> Node:
        self.ws()
        if self.pos >= len(self.src):
            raise self.error("unexpected end of expression")
        start = self.pos
        c = self.src[self.pos]
        if c == '"':
            return self.string()
        m = _NUMBER.match(self.src, self.pos)
        if m:
            self.pos = m.end()
            try:
                return Lit(m.group(), _number_literal(m.group()))
            except EvalError as e:
                raise self.error(str(e)) from None
        if c == "(":
            self.pos += 1
            inner = self.expression()
            self.expect(")")
            return inner
        if c == "[":
            return self.tuple_or_for()
        if c == "{":
            return self.object_or_for()
        if self.src.startswith("<<", self.pos):
            return self.bare_heredoc()
        name = self.peek_ident()
        if name is None:
            raise self.error(f"unexpected {c!r}")
        self.pos += len(name)
        while self.src.startswith("::", self.pos):
            self.pos += 2
            m = _IDENT.match(self.src, self.pos)
            if not m:
                raise self.error("expected a function name after '::'")
            name += "::" + m.group()
            self.pos = m.end()
        if self.peek("("):
            return self.call(name, start)
        if "::" in name:
            raise self.error("expected '(' after a namespaced function name")
        if name in ("true", "false", "null"):
            return Lit(name, {"true": True, "false": False, "null": None}[name])
        return Var(name, name)

    def call(self, name: str, start: int) -> Node:
        self.expect("(")
        args: List[Node] = []
        expand = False
        if not self.accept(")"):
            while True:
                args.append(self.expression())
                if self.accept("..."):
                    expand = True
                    self.accept(",")
                    self.expect(")")
                    break
                if self.accept(","):
                    if self.accept(")"):
                        break
                    continue
                self.expect(")")
                break
        return Call(self.src[start:self.pos], name, tuple(args), expand)

    def starts_for(self) -> bool:
        self.ws()
        return bool(_FOR_START.match(self.src, self.pos))

    def tuple_or_for(self) -> Node:
        start = self.pos
        self.pos += 1
        if self.starts_for():
            return self.for_expr(start, "]")
        items: List[Node] = []
        while not self.accept("]"):
            items.append(self.expression())
            if not self.accept(","):
                self.expect("]")
                break
        return TupleCons(self.src[start:self.pos], tuple(items))

    def object_or_for(self) -> Node:
        start = self.pos
        self.pos += 1
        if self.starts_for():
            return self.for_expr(start, "}")
        items: List[Tuple[Node, Node]] = []
        while not self.accept("}"):
            key = self.object_key()
            if not (self.accept_op(("=",)) or self.accept(":")):
                raise self.error("expected '=' or ':' after an object key")
            items.append((key, self.expression()))
            self.accept(",")
        return ObjectCons(self.src[start:self.pos], tuple(items))

    def object_key(self) -> Node:
        name = self.peek_ident()
        if name is not None:
            after = _WS.match(self.src, self.pos + len(name)).end()  # type: ignore[union-attr]
            rest = self.src[after: after + 2]
            if rest[:1] == ":" or (rest[:1] == "=" and rest not in ("==", "=>")):
                self.pos += len(name)
                return Lit(name, name)
        return self.expression()

    def for_expr(self, start: int, closer: str) -> Node:
        self.keyword("for")
        first = self.ident()
        key: Optional[str] = None
        value = first
        if self.accept(","):
            key, value = first, self.ident()
        self.keyword("in")
        coll = self.expression()
        self.expect(":")
        key_expr: Optional[Node] = None
        if closer == "}":
            key_expr = self.expression()
            self.expect("=>")
        value_expr = self.expression()
        group = closer == "}" and self.accept("...")
        cond: Optional[Node] = None
        if self.peek_ident() == "if":
            self.pos += 2
            cond = self.expression()
        self.expect(closer)
        return ForExpr(self.src[start:self.pos], key, value, coll, key_expr, value_expr, group, cond)

    # -- strings and templates

    def string(self) -> Node:
        start = self.pos
        m = _QUOTED_HEREDOC.match(self.src, self.pos)
        if m:
            return self.heredoc(m, start, quoted=True)
        self.pos += 1
        parts = self.template_parts(quoted=True)
        return Template(self.src[start:self.pos], parts)

    def bare_heredoc(self) -> Node:
        start = self.pos
        m = _BARE_HEREDOC.match(self.src, self.pos)
        if not m:
            raise self.error("malformed heredoc")
        return self.heredoc(m, start, quoted=False)

    def heredoc(self, m: "re.Match[str]", start: int, quoted: bool) -> Node:
        flush, marker = m.group(1) == "-", m.group(2)
        closing = re.compile(r"^[ \t]*" + re.escape(marker) + ('"' if quoted else r"[ \t]*\r?$"), re.M)
        end = closing.search(self.src, m.end())
        if not end:
            raise self.error(f"heredoc without its closing marker {marker}")
        body = self.src[m.end():end.start()]
        self.pos = end.end()
        if flush:
            body = _dedent(body)
        sub = _Parser(body, self.depth + 1)
        parts = sub.template_parts(quoted=False)
        return Template(self.src[start:self.pos], parts)

    def template_parts(self, quoted: bool) -> tuple:
        """The parts of a template up to its closing quote (quoted) or the end of the text."""
        items: List[Any] = []
        buf: List[str] = []
        src = self.src
        run = _QUOTED_RUN if quoted else _BARE_RUN
        while True:
            if self.pos >= len(src):
                if quoted:
                    raise self.error("unterminated string")
                break
            c = src[self.pos]
            if quoted and c == '"':
                self.pos += 1
                break
            if src.startswith("$${", self.pos) or src.startswith("%%{", self.pos):
                buf.append(c + "{")
                self.pos += 3
            elif src.startswith("${", self.pos) or src.startswith("%{", self.pos):
                if buf:
                    items.append("".join(buf))
                    buf = []
                items.append(self.template_item(c == "$"))
            elif quoted and c == "\\":
                buf.append(self.escape())
            else:
                m = run.match(src, self.pos)
                text = m.group() if m else c
                buf.append(text)
                self.pos += len(text)
        if buf:
            items.append("".join(buf))
        return _build_template(_strip_markers(items), self)

    def escape(self) -> str:
        src = self.src
        c = src[self.pos + 1: self.pos + 2]
        if c in _ESCAPES:
            self.pos += 2
            return _ESCAPES[c]
        if c in ("u", "U"):
            width = 4 if c == "u" else 8
            digits = src[self.pos + 2: self.pos + 2 + width]
            if len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
                code = int(digits, 16)
                if code <= 0x10FFFF:
                    self.pos += 2 + width
                    return chr(code)
        raise self.error("invalid escape sequence")

    def template_item(self, interpolation: bool) -> Tuple[Any, ...]:
        """One ``${…}`` or ``%{…}``: (kind, payload, strip_left, strip_right, text)."""
        start = self.pos
        self.pos += 2
        strip_left = self.src.startswith("~", self.pos)
        if strip_left:
            self.pos += 1
        if interpolation:
            kind, payload = "interp", self.expression()
        else:
            kind, payload = self.directive()
        strip_right = self.accept("~")
        self.expect("}")
        return (kind, payload, strip_left, strip_right, self.src[start:self.pos])

    def directive(self) -> Tuple[str, Any]:
        word = self.ident()
        if word == "if":
            return "if", self.expression()
        if word in ("else", "endif", "endfor"):
            return word, None
        if word == "for":
            first = self.ident()
            key: Optional[str] = None
            value = first
            if self.accept(","):
                key, value = first, self.ident()
            self.keyword("in")
            return "for", (key, value, self.expression())
        raise self.error(f"unknown template directive {word!r}")


def _dedent(body: str) -> str:
    """A ``<<-`` heredoc body without the indentation its lines share."""
    lines = body.split("\n")
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    n = min(indents, default=0)
    return "\n".join(line[n:] for line in lines)


def _strip_markers(items: List[Any]) -> List[Any]:
    """Apply ``~`` strip markers: whitespace next to a marked item goes."""
    out = list(items)
    for i, item in enumerate(out):
        if isinstance(item, str):
            continue
        if item[2] and i > 0 and isinstance(out[i - 1], str):
            out[i - 1] = out[i - 1].rstrip(" \t\r\n")
        if item[3] and i + 1 < len(out) and isinstance(out[i + 1], str):
            out[i + 1] = out[i + 1].lstrip(" \t\r\n")
    return [item for item in out if item != ""]


def _build_template(items: List[Any], parser: _Parser) -> tuple:
    parts, i, stop = _build_parts(items, 0, parser)
    if stop is not None:
        raise parser.error(f"unexpected %{{{stop}}}")
    return parts


def _build_parts(items: List[Any], i: int, parser: _Parser) -> Tuple[tuple, int, Optional[str]]:
    """Template parts from a flat item list, until an else/endif/endfor (returned as the stop)."""
    parts: List[Any] = []
    while i < len(items):
        item = items[i]
        i += 1
        if isinstance(item, str):
            parts.append(item)
            continue
        kind, payload, text = item[0], item[1], item[4]
        if kind == "interp":
            parts.append(Interp(payload))
        elif kind == "if":
            then, i, stop = _build_parts(items, i, parser)
            otherwise: tuple = ()
            if stop == "else":
                otherwise, i, stop = _build_parts(items, i, parser)
            if stop != "endif":
                raise parser.error("%{if} without %{endif}")
            parts.append(TIf(text, payload, then, otherwise))
        elif kind == "for":
            body, i, stop = _build_parts(items, i, parser)
            if stop != "endfor":
                raise parser.error("%{for} without %{endfor}")
            parts.append(TFor(text, payload[0], payload[1], payload[2], body))
        else:
            return tuple(parts), i, kind
    return tuple(parts), i, None


def _number_literal(text: str) -> Union[int, float]:
    """The number a literal (digits, fraction, exponent; no sign) stands for."""
    try:
        if text.isdigit():
            return _num(int(text))
        return _num(float(Decimal(text)))
    except (ValueError, ArithmeticError):
        raise EvalError("number out of range") from None


@lru_cache(maxsize=8192)
def parse(raw: str) -> Node:
    """The syntax tree of a raw string as python-hcl2 returns it (a quoted template or heredoc,
    a ``${…}``-wrapped expression, or bare template text). Raises HclSyntaxError."""
    try:
        if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
            p = _Parser(raw)
            node = p.string()
            if not p.at_end():
                raise p.error("unexpected text after the string")
            return node
        return parse_template(raw)
    except RecursionError:
        raise HclSyntaxError("expression nested too deeply", raw) from None


@lru_cache(maxsize=1024)
def parse_template(text: str) -> Template:
    """A bare template (a ``templatefile`` file, a manifest string): no quotes, no backslash
    escapes. Raises HclSyntaxError."""
    try:
        p = _Parser(text)
        return Template(text, p.template_parts(quoted=False))
    except RecursionError:
        raise HclSyntaxError("template nested too deeply", text) from None


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Node:
    """The syntax tree of plain expression source (``var.a[0]``, no ``${…}``). Raises HclSyntaxError."""
    try:
        p = _Parser(text)
        node = p.expression()
        if not p.at_end():
            raise p.error("unexpected text after the expression")
        return node
    except RecursionError:
        raise HclSyntaxError("expression nested too deeply", text) from None


def syntax_errors(raw: Any) -> List[HclSyntaxError]:
    """Every syntax error in a raw value and its nested values (keys included)."""
    out: List[HclSyntaxError] = []
    if isinstance(raw, str):
        try:
            parse(raw)
        except HclSyntaxError as e:
            out.append(e)
    elif isinstance(raw, list):
        for item in raw:
            out.extend(syntax_errors(item))
    elif isinstance(raw, dict):
        for k, v in raw.items():
            if k not in _META_KEYS:
                out.extend(syntax_errors(k))
                out.extend(syntax_errors(v))
    return out


# ---------------------------------------------------------------------------------------- evaluation

_META_KEYS = frozenset({"__is_block__", "__comments__", "__inline_comments__"})
_BUDGET = 400_000
_MAX_TEXT = 160


@dataclass(frozen=True)
class _Env:
    scope: Scope
    names: Mapping[str, Value]
    isolated: bool  # inside templatefile(): only `names` are visible
    strict: bool  # inside try()/can(): errors are raised, not turned into Unknowns
    line: Optional[int]
    budget: List[int]

    def bind(self, names: Mapping[str, Value]) -> "_Env":
        return replace(self, names={**self.names, **names})


def evaluate(raw: Any, scope: Scope, line: Optional[int] = None) -> Value:
    """The value of a raw python-hcl2 value; never raises (problems become Unknowns)."""
    env = _Env(scope, {}, False, False, line, [0])
    try:
        value = _eval_raw(raw, env)
    except _TooComplex:
        return Unknown(f"{_show(_raw_text(raw))} (too complex to evaluate)", line)
    except RecursionError:
        return Unknown(f"{_show(_raw_text(raw))} (nested too deeply)", line)
    except EvalError as e:
        return Unknown(f"{_show(_raw_text(raw))} ({e})", line)
    except Exception as e:  # noqa: BLE001 - a scope or a corner case must not crash a scan
        return Unknown(f"{_show(_raw_text(raw))} (not evaluated: {type(e).__name__})", line)
    return _stamp(value, line) if line is not None else value


def evaluate_expression(text: str, scope: Scope, line: Optional[int] = None) -> Value:
    """The value of plain expression source (no ``${…}`` wrapper); never raises."""
    try:
        node = parse_expression(text)
    except HclSyntaxError as e:
        return Unknown(f"{_show(text)} (syntax error: {e.message})", line)
    return evaluate(Template(text, (Interp(node),)), scope, line)  # type: ignore[arg-type]


def _eval_raw(raw: Any, env: _Env) -> Value:
    if isinstance(raw, Node):
        return _eval(raw, env)
    if isinstance(raw, str):
        try:
            node = parse(raw)
        except HclSyntaxError as e:
            return Unknown(f"{_show(raw)} (syntax error: {e.message})", env.line)
        return _eval(node, env)
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, (int, float)):
        return _num(raw)
    if isinstance(raw, list):
        return [_eval_raw(item, env) for item in raw]
    if isinstance(raw, dict):
        return _eval_raw_object(raw, env)
    if isinstance(raw, (Unknown, Partial)):
        return raw
    return Unknown(f"{_show(repr(raw))} (not an HCL value)", env.line)


def _eval_raw_object(raw: Mapping[Any, Any], env: _Env) -> Value:
    out: Dict[str, Value] = {}
    for k, v in raw.items():
        if k in _META_KEYS:
            continue
        key = _eval_raw(k, env) if isinstance(k, str) else k
        key = _object_key(key, str(k), env)
        if isinstance(key, Unknown):
            return key
        out[key] = _eval_raw(v, env)
    return out


def _object_key(key: Value, text: str, env: _Env) -> Union[str, Unknown]:
    if isinstance(key, (Unknown, Partial)):
        return _derive(text, env, key)
    if key is None or isinstance(key, (list, dict)):
        raise EvalError("an object key must be a string")
    return _to_str(key)


def _eval(node: Node, env: _Env) -> Value:
    env.budget[0] += 1
    if env.budget[0] > _BUDGET:
        raise _TooComplex()
    try:
        return _EVALUATORS[type(node)](node, env)
    except EvalError as e:
        if env.strict:
            raise
        return Unknown(f"{_show(node.text)} ({e})", env.line)


def _unknown(node: Node, env: _Env, why: Optional[str] = None) -> Unknown:
    return Unknown(_show(node.text) + (f" ({why})" if why else ""), env.line)


_ROOTS: Dict[str, str] = {}  # expression of an Unknown derived here -> its root cause


def _derive(text: str, env: _Env, cause: Value) -> Unknown:
    """An Unknown for an expression whose value depends on an unknown ``cause``; it names the
    root unknown (a variable without a value, a computed attribute) unless the text already does."""
    shown = _show(text)
    found = unknowns_in(cause)
    if not found:
        return Unknown(shown + (" (an object with attributes known only after apply)"
                                if _has_unknown(cause) else ""), env.line)
    root = _ROOTS.get(found[0].expression, found[0].expression)
    if root in shown:
        return Unknown(shown, env.line)
    expression = f"{shown} (depends on {root})"
    if len(_ROOTS) > 20000:
        _ROOTS.clear()
    _ROOTS[expression] = root
    return Unknown(expression, env.line)


def _ev_lit(node: Lit, env: _Env) -> Value:
    return node.value


def _ev_var(node: Var, env: _Env) -> Value:
    if node.name in env.names:
        return env.names[node.name]
    if env.isolated:
        raise EvalError(f'"{node.name}" is not one of the template variables')
    return env.scope.lookup(node.name)


# -- templates


def _ev_template(node: Template, env: _Env) -> Value:
    parts = node.parts
    if len(parts) == 1 and isinstance(parts[0], Interp):
        return _eval(parts[0].expr, env)
    pieces: List[Union[str, Unknown, Partial]] = []
    _render(parts, env, pieces)
    return _concat(pieces)


def _render(parts: Iterable[Any], env: _Env, out: List[Union[str, Unknown, Partial]]) -> None:
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Interp):
            out.append(_piece(_eval(part.expr, env)))
        elif isinstance(part, TIf):
            value = _eval(part.cond, env)
            cond = _truth(value)
            if cond is None:
                out.append(_derive(part.text, env, value))
            else:
                _render(part.then if cond else part.otherwise, env, out)
        else:
            _render_for(part, env, out)


def _render_for(part: TFor, env: _Env, out: List[Union[str, Unknown, Partial]]) -> None:
    coll = _eval(part.coll, env)
    if isinstance(coll, (Unknown, Partial, OpenObject)):
        out.append(_derive(part.text, env, coll))
        return
    for k, v in _iterate(coll):
        names = {part.value: v} if part.key is None else {part.key: k, part.value: v}
        _render(part.body, env.bind(names), out)


def _piece(value: Value) -> Union[str, Unknown, Partial]:
    """A value as a piece of a string template."""
    if isinstance(value, (str, Unknown, Partial)):
        return value
    if value is None:
        raise EvalError("a null value cannot be used in a string template")
    if isinstance(value, (list, dict)):
        raise EvalError("a list or an object cannot be used in a string template")
    return _to_str(value)


# -- traversals


def _ev_traversal(node: Traversal, env: _Env) -> Value:
    value = _eval(node.base, env)
    return _walk(value, node, 0, len(node.steps), env)


def _walk(value: Value, node: Traversal, i: int, stop: int, env: _Env) -> Value:
    """Apply node.steps[i:stop] to value."""
    while i < stop:
        if isinstance(value, Unknown):
            return _derived(value, node, i, env)
        step = node.steps[i]
        kind = step[0]
        if kind == "attr":
            value = _get_attr(value, step[1], node, i, env)
        elif kind == "index":
            key = _eval(step[1], env)
            if isinstance(key, (Unknown, Partial)):
                return _derive(node.text, env, key)
            value = _get_index(value, key, node, i, env)
        else:
            end = stop if kind == "splat" else _attr_run(node.steps, i + 1, stop)
            value = _splat(value, node, i + 1, end, env)
            i = end
            continue
        i += 1
    return value


def _attr_run(steps: Sequence[Step], i: int, stop: int) -> int:
    while i < stop and steps[i][0] == "attr":
        i += 1
    return i


def _splat(value: Value, node: Traversal, i: int, stop: int, env: _Env) -> Value:
    if isinstance(value, (Unknown, Partial)):
        return _derive(node.text, env, value)
    items = [] if value is None else value if isinstance(value, list) else [value]
    return [_walk(item, node, i, stop, env) for item in items]


def _derived(value: Unknown, node: Traversal, i: int, env: _Env) -> Unknown:
    """An attribute or index of an Unknown: an Unknown naming the longer expression."""
    prefix = _show(node.prefixes[i - 1]) if i > 0 else _show(node.base.text)
    text = _show(node.text)
    if value.expression.startswith(prefix):
        return Unknown(text + value.expression[len(prefix):], value.line or env.line)
    return _derive(node.text, env, value)


def _get_attr(value: Value, name: str, node: Traversal, i: int, env: _Env) -> Value:
    if isinstance(value, dict):
        if name in value:
            return value[name]
        if isinstance(value, OpenObject):
            return Unknown(_show(node.prefixes[i]), env.line)
        raise EvalError(f'no attribute "{name}"')
    if value is None:
        raise EvalError(f'cannot get attribute "{name}" of a null value')
    if isinstance(value, list):
        raise EvalError(f'cannot get attribute "{name}" of a list (use an index or a splat)')
    raise EvalError(f'cannot get attribute "{name}" of a {_type_name(value)}')


def _get_index(value: Value, key: Value, node: Traversal, i: int, env: _Env) -> Value:
    if isinstance(value, list):
        n = _to_int(key)
        if n < 0 or n >= len(value):
            raise EvalError(f"index {n} out of range for a list of {len(value)}")
        return value[n]
    if isinstance(value, dict):
        k = _to_str(key)
        if k in value:
            return value[k]
        if isinstance(value, OpenObject):
            return Unknown(_show(node.prefixes[i]), env.line)
        raise EvalError(f'no element with key "{k}"')
    if value is None:
        raise EvalError("cannot index a null value")
    raise EvalError(f"cannot index a {_type_name(value)}")


# -- constructors, operators, conditionals, for


def _ev_tuple(node: TupleCons, env: _Env) -> Value:
    return [_eval(item, env) for item in node.items]


def _ev_object(node: ObjectCons, env: _Env) -> Value:
    out: Dict[str, Value] = {}
    for key_node, value_node in node.items:
        key = _object_key(_eval(key_node, env), key_node.text, env)
        if isinstance(key, Unknown):
            return _derive(node.text, env, key)
        out[key] = _eval(value_node, env)
    return out


def _ev_unary(node: Unary, env: _Env) -> Value:
    value = _eval(node.operand, env)
    if _has_unknown(value):
        return _derive(node.text, env, value)
    if node.op == "!":
        return not _to_bool(value)
    return _num(-_to_num(value))


def _ev_binary(node: Binary, env: _Env) -> Value:
    op = node.op
    if op in ("&&", "||"):
        return _logical(node, env)
    left, right = _eval(node.left, env), _eval(node.right, env)
    if _has_unknown(left) or _has_unknown(right):
        return _derive(node.text, env, [left, right])
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    a, b = _to_num(left), _to_num(right)
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    if op == ">=":
        return a >= b
    return _arithmetic(op, a, b)


def _arithmetic(op: str, a: Union[int, float], b: Union[int, float]) -> Union[int, float]:
    if op == "+":
        return _num(a + b)
    if op == "-":
        return _num(a - b)
    if op == "*":
        return _num(a * b)
    if b == 0:
        raise EvalError("division by zero")
    if op == "/":
        if isinstance(a, int) and isinstance(b, int) and a % b == 0:
            return a // b
        return _num(a / b)
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return _num(math.fmod(a, b))


def _logical(node: Binary, env: _Env) -> Value:
    left_value, right_value = _eval(node.left, env), _eval(node.right, env)
    left, right = _truth(left_value), _truth(right_value)
    decisive = node.op == "||"  # the value of either side that decides the result alone
    if left is decisive or right is decisive:
        return decisive
    if left is None or right is None:
        return _derive(node.text, env, [left_value, right_value])
    return not decisive


def _ev_cond(node: Cond, env: _Env) -> Value:
    value = _eval(node.cond, env)
    cond = _truth(value)
    if cond is not None:
        return _eval(node.then if cond else node.otherwise, env)
    then, otherwise = _quiet(node.then, env), _quiet(node.otherwise, env)
    if then is not _FAILED and otherwise is not _FAILED and not _has_unknown(then) \
            and not _has_unknown(otherwise) and _equal(then, otherwise):
        return then
    return _derive(node.text, env, value)


_FAILED = object()


def _quiet(node: Node, env: _Env) -> Value:
    try:
        return _eval(node, env)
    except EvalError:
        return _FAILED


def _ev_for(node: ForExpr, env: _Env) -> Value:
    coll = _eval(node.coll, env)
    if isinstance(coll, (Unknown, Partial, OpenObject)):
        return _derive(node.text, env, coll)
    rows: List[Tuple[Value, Value]] = []
    for k, v in _iterate(coll):
        inner = env.bind({node.value: v} if node.key is None else {node.key: k, node.value: v})
        if node.cond is not None:
            cond = _eval(node.cond, inner)
            keep = _truth(cond)
            if keep is None:
                return _derive(node.text, env, cond)
            if not keep:
                continue
        key = _eval(node.key_expr, inner) if node.key_expr is not None else None
        rows.append((key, _eval(node.value_expr, inner)))
    if node.key_expr is None:
        return [v for _, v in rows]
    return _for_object(node, rows, env)


def _for_object(node: ForExpr, rows: List[Tuple[Value, Value]], env: _Env) -> Value:
    out: Dict[str, Value] = {}
    for key, value in rows:
        k = _object_key(key, node.key_expr.text if node.key_expr else "", env)
        if isinstance(k, Unknown):
            return _derive(node.text, env, key)
        if node.group:
            out.setdefault(k, []).append(value)
        elif k in out:
            raise EvalError(f'duplicate key "{k}" (use ... to group)')
        else:
            out[k] = value
    return out


def _iterate(coll: Value) -> List[Tuple[Value, Value]]:
    if isinstance(coll, list):
        return list(enumerate(coll))
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    if coll is None:
        raise EvalError("cannot iterate over a null value")
    raise EvalError(f"cannot iterate over a {_type_name(coll)}")


# -- function calls


@dataclass(frozen=True)
class _Ctx:
    node: Call
    env: _Env
    args: List[Value]

    def unknown(self, why: Optional[str] = None) -> Unknown:
        """The call's result when it cannot be known (because of its unknown arguments)."""
        if why:
            return _unknown(self.node, self.env, why)
        return _derive(self.node.text, self.env, self.args)


_Fn = Callable[[List[Value], _Ctx], Value]
_FUNCTIONS: Dict[str, Tuple[_Fn, bool]] = {}


def _fn(*names: str, unknowns: bool = False) -> Callable[[_Fn], _Fn]:
    """Register a function; ``unknowns``: it handles Unknown arguments itself (otherwise any
    Unknown in any argument makes the result Unknown)."""
    def register(f: _Fn) -> _Fn:
        for name in names:
            _FUNCTIONS[name] = (f, unknowns)
        return f
    return register


def _ev_call(node: Call, env: _Env) -> Value:
    if node.name in ("try", "can"):
        return _try(node, env) if node.name == "try" else _can(node, env)
    spec = _FUNCTIONS.get(node.name)
    if spec is None:
        return Unknown(f"{node.name}(...)", env.line)
    args = [_eval(a, env) for a in node.args]
    if node.expand:
        last = args.pop() if args else None
        if isinstance(last, (Unknown, Partial)):
            return _derive(node.text, env, last)
        if not isinstance(last, list):
            raise EvalError("only a list can be expanded with ...")
        args.extend(last)
    fn, handles_unknowns = spec
    if not handles_unknowns and any(_has_unknown(a) for a in args):
        return _derive(node.text, env, args)
    return fn(args, _Ctx(node, env, args))


def _try(node: Call, env: _Env) -> Value:
    strict = env if env.strict else replace(env, strict=True)
    for arg in node.args:
        try:
            return _eval(arg, strict)
        except EvalError:
            continue
    raise EvalError("no argument of try() could be evaluated")


def _can(node: Call, env: _Env) -> Value:
    if len(node.args) != 1:
        raise EvalError("can() takes one argument")
    strict = env if env.strict else replace(env, strict=True)
    try:
        value = _eval(node.args[0], strict)
    except EvalError:
        return False
    return value if isinstance(value, Unknown) else True


_EVALUATORS: Dict[type, Callable[[Any, _Env], Value]] = {
    Lit: _ev_lit, Template: _ev_template, Var: _ev_var, Traversal: _ev_traversal, Call: _ev_call,
    TupleCons: _ev_tuple, ObjectCons: _ev_object, Unary: _ev_unary, Binary: _ev_binary,
    Cond: _ev_cond, ForExpr: _ev_for,
}


# ---------------------------------------------------------------------------------------- conversions


def _show(text: str) -> str:
    """Source text for a message: whitespace collapsed, long text shortened."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _raw_text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return json.dumps(raw, default=str)
    except (TypeError, ValueError):
        return repr(raw)


def _type_name(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (str, Partial)):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _a(value: Value) -> str:
    """``null`` or ``a <type>``, for messages."""
    return "null" if value is None else "a " + _type_name(value)


def _is_num(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num(value: Union[int, float]) -> Union[int, float]:
    """A number in canonical form: an int when integral; NaN and infinities are errors."""
    if isinstance(value, int):
        if value.bit_length() > 1100:
            raise EvalError("number out of range")
        return value
    if not math.isfinite(value):
        raise EvalError("number out of range")
    return int(value) if value.is_integer() else value


def _num_str(value: Union[int, float]) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


def _has_unknown(value: Value) -> bool:
    """Whether any part of the value is not known (an OpenObject counts: not all of it is)."""
    if isinstance(value, (Unknown, Partial, OpenObject)):
        return True
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def _has_open(value: Value) -> bool:
    if isinstance(value, OpenObject):
        return True
    if isinstance(value, list):
        return any(_has_open(v) for v in value)
    if isinstance(value, dict):
        return any(_has_open(v) for v in value.values())
    return False


def _concat(pieces: Sequence[Union[str, Unknown, Partial]]) -> Value:
    joined = concat(pieces)
    if isinstance(joined, Partial) and len(joined) == 1:
        return joined[0]
    return joined


def _to_str(value: Value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_num(value):
        return _num_str(value)
    if value is None:
        raise EvalError("a string is required, not null")
    raise EvalError(f"a string is required, not a {_type_name(value)}")


_NUMERIC = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _to_num(value: Value) -> Union[int, float]:
    if _is_num(value):
        return value
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        return _number_literal(value.lstrip("-")) * (-1 if value.startswith("-") else 1)
    if isinstance(value, str):
        raise EvalError(f"a number is required, not {_show(json.dumps(value))}")
    raise EvalError(f"a number is required, not {_a(value)}")


def _to_int(value: Value) -> int:
    n = _to_num(value)
    if not isinstance(n, int):
        raise EvalError(f"a whole number is required, not {_num_str(n)}")
    return n


def _to_bool(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise EvalError(f"a bool is required, not {_a(value)}")


def _truth(value: Value) -> Optional[bool]:
    """A condition's value; None when it is not known."""
    if isinstance(value, (Unknown, Partial)):
        return None
    return _to_bool(value)


def _to_list(value: Value) -> List[Value]:
    if isinstance(value, list):
        return value
    raise EvalError(f"a list is required, not {_a(value)}")


def _to_map(value: Value) -> Dict[str, Value]:
    if isinstance(value, dict):
        return value
    raise EvalError(f"a map is required, not {_a(value)}")


def _equal(a: Value, b: Value) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_num(a) and _is_num(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _stamp(value: Value, line: int) -> Value:
    """The value with the use-site line on every Unknown that has none."""
    if isinstance(value, Unknown):
        return value if value.line is not None else Unknown(value.expression, line)
    if isinstance(value, Partial):
        return Partial(_stamp(p, line) for p in value)
    if isinstance(value, list):
        items = [_stamp(v, line) for v in value]
        return value if all(x is y for x, y in zip(items, value)) else items
    if isinstance(value, dict):
        stamped = {k: _stamp(v, line) for k, v in value.items()}
        if all(stamped[k] is value[k] for k in value):
            return value
        return type(value)(stamped) if isinstance(value, OpenObject) else stamped
    return value


def _arity(args: List[Value], low: int, high: Optional[int] = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= (high if high >= 0 else len(args)):
        want = f"{low}" if low == high else f"{low} to {high}" if high >= 0 else f"at least {low}"
        raise EvalError(f"expected {want} arguments, got {len(args)}")


# ---------------------------------------------------------------------------------------- JSON, YAML

_HOLE = "\ue020HCL{}\ue021"
_HOLE_RE = re.compile("\ue020HCL([0-9]+)\ue021")


def _json_escape(text: str) -> str:
    """The inside of a JSON string as Terraform writes it (Go's HTML-safe escaping)."""
    inner = json.dumps(text, ensure_ascii=False)[1:-1]
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        inner = inner.replace(ch, esc)
    return inner


def json_pieces(value: Value, out: List[Union[str, Unknown]]) -> None:
    """Terraform's jsonencode as text pieces: every Unknown stands inside JSON string quotes
    (any JSON value may be a string, so a consumer that parses the text keeps each unknown
    piece in its place); object keys sorted."""
    if isinstance(value, Unknown):
        out.extend(['"', value, '"'])
    elif isinstance(value, Partial):
        out.append('"')
        out.extend(_json_escape(p) if isinstance(p, str) else p for p in value)
        out.append('"')
    elif value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif _is_num(value):
        out.append(_num_str(value))
    elif isinstance(value, str):
        out.append('"' + _json_escape(value) + '"')
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            json_pieces(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for i, key in enumerate(sorted(value)):
            if i:
                out.append(",")
            out.append('"' + _json_escape(str(key)) + '":')
            json_pieces(value[key], out)
        out.append("}")
    else:
        raise EvalError(f"cannot encode a {_type_name(value)} as JSON")


def _from_json(data: Any, holes: List[Unknown]) -> Value:
    if isinstance(data, str):
        if "\ue020HCL" not in data:
            return data
        pieces: List[Union[str, Unknown]] = []
        pos = 0
        for m in _HOLE_RE.finditer(data):
            pieces.append(data[pos:m.start()])
            pieces.append(holes[int(m.group(1))])
            pos = m.end()
        pieces.append(data[pos:])
        return _concat(pieces)
    if isinstance(data, float):
        return _num(data)
    if isinstance(data, list):
        return [_from_json(v, holes) for v in data]
    if isinstance(data, dict):
        return {k: _from_json(v, holes) for k, v in data.items()}
    return data


def _json_decode(text: Union[str, Partial]) -> Value:
    holes: List[Unknown] = []
    if isinstance(text, Partial):
        chunks: List[str] = []
        for p in text:
            if isinstance(p, Unknown):
                chunks.append(_HOLE.format(len(holes)))
                holes.append(p)
            else:
                chunks.append(p)
        text = "".join(chunks)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise EvalError(f"invalid JSON: {e}") from None
    return _from_json(data, holes)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _plain(value: Value) -> Any:
    """Plain dicts and lists (no subclasses), for serializers that insist on exact types."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _from_yaml(data: Any) -> Value:
    if isinstance(data, bool) or data is None or isinstance(data, str):
        return data
    if isinstance(data, (int, float)):
        return _num(data)
    if isinstance(data, list):
        return [_from_yaml(v) for v in data]
    if isinstance(data, dict):
        return {_to_str(_from_yaml(k)): _from_yaml(v) for k, v in data.items()}
    return str(data)


# ---------------------------------------------------------------------------------------- functions: strings


def _unknown_piece(name: str, piece: Union[str, Unknown]) -> Union[str, Unknown]:
    return piece if isinstance(piece, str) else Unknown(f"{name}({piece.expression})", piece.line)


def _map_pieces(name: str, value: Value, f: Callable[[str], str], ctx: _Ctx) -> Value:
    if isinstance(value, Unknown):
        return Unknown(f"{name}({value.expression})", value.line or ctx.env.line)
    if isinstance(value, Partial):
        return _concat([f(p) if isinstance(p, str) else _unknown_piece(name, p) for p in value])
    if _has_unknown(value):
        return ctx.unknown()
    return f(_to_str(value))


@_fn("lower", unknowns=True)
def _lower(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return _map_pieces("lower", args[0], str.lower, ctx)


@_fn("upper", unknowns=True)
def _upper(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return _map_pieces("upper", args[0], str.upper, ctx)


def _title_case(text: str) -> str:
    out: List[str] = []
    prev = " "
    for ch in text:
        separator = (not (prev.isalnum() or prev == "_")) if prev.isascii() else prev.isspace()
        out.append(ch.upper() if separator else ch)
        prev = ch
    return "".join(out)


@_fn("title")
def _title(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return _title_case(_to_str(args[0]))


@_fn("trimspace")
def _trimspace(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return _to_str(args[0]).strip()


@_fn("trim")
def _trim(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    return _to_str(args[0]).strip(_to_str(args[1]))


@_fn("trimprefix")
def _trimprefix(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    text, prefix = _to_str(args[0]), _to_str(args[1])
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


@_fn("trimsuffix")
def _trimsuffix(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    text, suffix = _to_str(args[0]), _to_str(args[1])
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


@_fn("chomp")
def _chomp(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return re.sub(r"[\r\n]+\Z", "", _to_str(args[0]))


@_fn("indent")
def _indent(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    return _to_str(args[1]).replace("\n", "\n" + " " * max(0, _to_int(args[0])))


@_fn("strrev")
def _strrev(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return _to_str(args[0])[::-1]


@_fn("startswith")
def _startswith(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    return _to_str(args[0]).startswith(_to_str(args[1]))


@_fn("endswith")
def _endswith(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    return _to_str(args[0]).endswith(_to_str(args[1]))


@_fn("strcontains")
def _strcontains(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    return _to_str(args[1]) in _to_str(args[0])


@_fn("substr")
def _substr(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 3)
    text, offset, length = _to_str(args[0]), _to_int(args[1]), _to_int(args[2])
    if offset < 0:
        offset = max(0, len(text) + offset)
    if offset > len(text):
        raise EvalError("offset out of range")
    return text[offset:] if length < 0 else text[offset: offset + length]


@_fn("split")
def _split(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    sep, text = _to_str(args[0]), _to_str(args[1])
    return list(text) if sep == "" else text.split(sep)


@_fn("join", unknowns=True)
def _join(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2, -1)
    sep = args[0]
    if isinstance(sep, (Unknown, Partial)):
        return ctx.unknown()
    sep = _to_str(sep)
    pieces: List[Union[str, Unknown, Partial]] = []
    for lst in args[1:]:
        if isinstance(lst, (Unknown, Partial)):
            return ctx.unknown()
        for item in _to_list(lst):
            if pieces:
                pieces.append(sep)
            if item is None:
                raise EvalError("cannot join a null element")
            pieces.append(item if isinstance(item, (Unknown, Partial)) else _to_str(item))
    return _concat(pieces)


@lru_cache(maxsize=512)
def _regex(pattern: str) -> "re.Pattern[str]":
    """A Go RE2 pattern compiled by Python's re (the common subset, plus a few translations)."""
    translated = pattern.replace(r"\z", r"\Z")
    translated = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", translated)
    for cls, repl in (("[:alpha:]", "a-zA-Z"), ("[:digit:]", "0-9"), ("[:alnum:]", "a-zA-Z0-9"),
                      ("[:upper:]", "A-Z"), ("[:lower:]", "a-z"), ("[:space:]", r"\s"),
                      ("[:word:]", r"\w"), ("[:xdigit:]", "0-9A-Fa-f"), ("[:punct:]", r"!-/:-@\[-`{-~")):
        translated = translated.replace(cls, repl)
    try:
        return re.compile(translated)
    except (re.error, OverflowError, RecursionError) as e:
        raise EvalError(f"invalid regular expression {pattern!r}: {e}") from None


def _go_expand(m: "re.Match[str]", template: str) -> str:
    def group(ref: "re.Match[str]") -> str:
        if ref.group(0) == "$$":
            return "$"
        name = ref.group(1) or ref.group(2)
        try:
            return m.group(int(name) if name.isdigit() else name) or ""
        except (IndexError, KeyError, ValueError):
            return ""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+)|\$)", group, template)


@_fn("replace")
def _replace(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 3)
    text, search, repl = (_to_str(a) for a in args)
    if len(search) >= 2 and search.startswith("/") and search.endswith("/"):
        return _regex(search[1:-1]).sub(lambda m: _go_expand(m, repl), text)
    return text.replace(search, repl)


def _match_value(m: "re.Match[str]") -> Value:
    if m.re.groupindex:
        return {name: m.group(name) or "" for name in m.re.groupindex}
    if m.re.groups:
        return [g or "" for g in m.groups()]
    return m.group(0)


@_fn("regex")
def _regex_fn(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    m = _regex(_to_str(args[0])).search(_to_str(args[1]))
    if m is None:
        raise EvalError("the pattern did not match")
    return _match_value(m)


@_fn("regexall")
def _regexall(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    return [_match_value(m) for m in _regex(_to_str(args[0])).finditer(_to_str(args[1]))]


_VERB = re.compile(r"%(?:\[([0-9]+)\])?([-+# 0]*)([0-9]+)?(?:\.([0-9]+))?([a-zA-Z%])")


def _format_pieces(fmt: str, args: List[Value], ctx: _Ctx) -> List[Union[str, Unknown, Partial]]:
    out: List[Union[str, Unknown, Partial]] = []
    pos, argi, used = 0, 0, 0
    while True:
        at = fmt.find("%", pos)
        if at < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:at])
        m = _VERB.match(fmt, at)
        if not m:
            raise EvalError(f"invalid format verb at {at + 1}")
        pos = m.end()
        if m.group(5) == "%":
            out.append("%")
            continue
        if m.group(1):
            argi = int(m.group(1)) - 1
        if not 0 <= argi < len(args):
            raise EvalError("not enough arguments for the format string")
        out.append(_format_one(args[argi], m, ctx))
        argi += 1
        used = max(used, argi)
    if used < len(args):
        raise EvalError(f"too many arguments; only {used} used by the format string")
    return out


def _format_one(value: Value, m: "re.Match[str]", ctx: _Ctx) -> Union[str, Unknown, Partial]:
    flags, width, precision, verb = m.group(2), m.group(3) or "", m.group(4), m.group(5)
    if _has_unknown(value):
        if verb in "sv" and isinstance(value, (Unknown, Partial)) and not width:
            return value
        return Unknown(f"{m.group(0)} of {_show(json.dumps(_starred(value)))}", ctx.env.line)
    align = "<" if "-" in flags else ""
    zero = "0" if "0" in flags and not align else ""
    sign = "+" if "+" in flags else " " if " " in flags else ""
    alt = "#" if "#" in flags else ""
    if verb in "sqv":
        text = _format_text(value, verb)
        if precision is not None:
            text = text[: int(precision)]
        return format(text, f"{align or '>'}{width}") if width else text
    if verb == "t":
        return format(_to_str(_to_bool(value)), f"{align or '>'}{width}")
    if verb in "dxXob":
        n = _to_num(value)
        if not isinstance(n, int):
            raise EvalError(f"%{verb} requires a whole number, not {_num_str(n)}")
        return format(n, f"{align}{sign}{alt}{zero}{width}{verb}")
    if verb in "feEgG":
        n = float(_to_num(value))
        if verb in "gG" and precision is None:
            return format(_num_str(_num(n)), f"{align or '>'}{width}")
        prec = precision if precision is not None else "6"
        return format(n, f"{align}{sign}{zero}{width}.{prec}{verb}")
    raise EvalError(f"unsupported format verb %{verb}")


def _format_text(value: Value, verb: str) -> str:
    if verb == "v" and (value is None or isinstance(value, (list, dict))):
        return "null" if value is None else "".join(p for p in _json_text(value) if isinstance(p, str))
    if verb == "q":
        return '"' + json.dumps(_to_str(value), ensure_ascii=False)[1:-1] + '"'
    if value is None:
        raise EvalError("a null value cannot be formatted with %s")
    return _to_str(value)


def _json_text(value: Value) -> List[Union[str, Unknown]]:
    out: List[Union[str, Unknown]] = []
    json_pieces(value, out)
    return out


def _starred(value: Value) -> Value:
    if isinstance(value, Unknown):
        return "*"
    if isinstance(value, Partial):
        return value.text("*")
    if isinstance(value, list):
        return [_starred(v) for v in value]
    if isinstance(value, dict):
        return {k: _starred(v) for k, v in value.items()}
    return value


@_fn("format", unknowns=True)
def _format(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1, -1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    return _concat(_format_pieces(_to_str(args[0]), args[1:], ctx))


@_fn("formatlist", unknowns=True)
def _formatlist(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1, -1)
    if isinstance(args[0], (Unknown, Partial)) or any(isinstance(a, Unknown) for a in args[1:]):
        return ctx.unknown()
    fmt = _to_str(args[0])
    lengths = {len(a) for a in args[1:] if isinstance(a, list)}
    if len(lengths) > 1:
        raise EvalError("all list arguments must have the same length")
    count = lengths.pop() if lengths else 1
    rows = []
    for i in range(count):
        row = [a[i] if isinstance(a, list) else a for a in args[1:]]
        rows.append(_concat(_format_pieces(fmt, row, ctx)))
    return rows


# ---------------------------------------------------------------------------------------- functions: collections


@_fn("length", unknowns=True)
def _length(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    value = args[0]
    if isinstance(value, (Unknown, Partial, OpenObject)):
        return ctx.unknown()
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise EvalError(f"cannot take the length of {_a(value)}")


@_fn("concat", unknowns=True)
def _concat_fn(args: List[Value], ctx: _Ctx) -> Value:
    out: List[Value] = []
    for arg in args:
        if isinstance(arg, (Unknown, Partial)):
            return ctx.unknown()
        out.extend(_to_list(arg))
    return out


@_fn("merge", unknowns=True)
def _merge(args: List[Value], ctx: _Ctx) -> Value:
    out: Dict[str, Value] = {}
    for arg in args:
        if isinstance(arg, (Unknown, Partial)):
            return ctx.unknown()
        if arg is not None:
            out.update(_to_map(arg))
    return OpenObject(out) if any(isinstance(a, OpenObject) for a in args) else out


@_fn("lookup", unknowns=True)
def _lookup(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2, 3)
    table, key = args[0], args[1]
    if isinstance(table, (Unknown, Partial)) or isinstance(key, (Unknown, Partial)):
        return ctx.unknown()
    table, key = _to_map(table), _to_str(key)
    if key in table:
        return table[key]
    if isinstance(table, OpenObject):
        return ctx.unknown()
    if len(args) == 3:
        return args[2]
    raise EvalError(f'no element with key "{key}"')


@_fn("element", unknowns=True)
def _element(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    if isinstance(args[0], (Unknown, Partial)) or _has_unknown(args[1]):
        return ctx.unknown()
    items, index = _to_list(args[0]), _to_int(args[1])
    if not items:
        raise EvalError("cannot use element() with an empty list")
    if index < 0:
        raise EvalError("a negative index")
    return items[index % len(items)]


@_fn("index")
def _index(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    for i, item in enumerate(_to_list(args[0])):
        if _equal(item, args[1]):
            return i
    raise EvalError("the value is not in the list")


@_fn("contains", unknowns=True)
def _contains(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    if isinstance(args[0], (Unknown, Partial)) or _has_unknown(args[1]):
        return ctx.unknown()
    items = _to_list(args[0])
    if any(not _has_unknown(item) and _equal(item, args[1]) for item in items):
        return True
    return ctx.unknown() if any(_has_unknown(item) for item in items) else False


@_fn("coalesce", unknowns=True)
def _coalesce(args: List[Value], ctx: _Ctx) -> Value:
    for arg in args:
        if isinstance(arg, Unknown):
            return ctx.unknown()
        if isinstance(arg, Partial):
            return arg if arg.text("") else ctx.unknown()
        if arg is not None and arg != "":
            return arg
    raise EvalError("no non-null, non-empty argument")


@_fn("coalescelist", unknowns=True)
def _coalescelist(args: List[Value], ctx: _Ctx) -> Value:
    for arg in args:
        if isinstance(arg, (Unknown, Partial)):
            return ctx.unknown()
        if arg is not None and _to_list(arg):
            return arg
    raise EvalError("no non-empty list argument")


@_fn("compact", unknowns=True)
def _compact(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)) or any(isinstance(v, Unknown) for v in _to_list(args[0])):
        return ctx.unknown()
    return [v for v in args[0] if v is not None and v != ""]


def _flatten_into(items: List[Value], out: List[Value]) -> bool:
    for item in items:
        if isinstance(item, Unknown):
            return False
        if isinstance(item, list):
            if not _flatten_into(item, out):
                return False
        else:
            out.append(item)
    return True


@_fn("flatten", unknowns=True)
def _flatten(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    out: List[Value] = []
    return out if _flatten_into(_to_list(args[0]), out) else ctx.unknown()


def _key(value: Value) -> str:
    return json.dumps(value, sort_keys=True)


@_fn("distinct")
def _distinct(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    seen: Dict[str, Value] = {}
    for item in _to_list(args[0]):
        seen.setdefault(_key(item), item)
    return list(seen.values())


@_fn("keys", unknowns=True)
def _keys(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], (Unknown, Partial, OpenObject)):
        return ctx.unknown()
    return sorted(_to_map(args[0]))


@_fn("values", unknowns=True)
def _values(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], (Unknown, Partial, OpenObject)):
        return ctx.unknown()
    table = _to_map(args[0])
    return [table[k] for k in sorted(table)]


@_fn("tolist", unknowns=True)
def _tolist(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    return None if args[0] is None else _to_list(args[0])


def _set_of(items: List[Value]) -> List[Value]:
    """A Terraform set as a list: deduplicated and sorted (strings when the types are mixed)."""
    if all(_is_num(v) for v in items):
        return sorted({_key(v): v for v in items}.values())
    if all(isinstance(v, bool) for v in items):
        return sorted(set(items))
    if all(isinstance(v, (str, bool)) or _is_num(v) for v in items):
        return sorted({_to_str(v) for v in items})
    return [v for _, v in sorted({_key(v): v for v in items}.items())]


@_fn("toset")
def _toset(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return None if args[0] is None else _set_of(_to_list(args[0]))


@_fn("tomap", unknowns=True)
def _tomap(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    if args[0] is None or isinstance(args[0], OpenObject):
        return args[0]
    return dict(_to_map(args[0]))


@_fn("tostring", unknowns=True)
def _tostring(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    value = args[0]
    if value is None or isinstance(value, (Unknown, Partial)):
        return value
    return _to_str(value)


@_fn("tonumber")
def _tonumber(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return None if args[0] is None else _to_num(args[0])


@_fn("tobool")
def _tobool(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return None if args[0] is None else _to_bool(args[0])


@_fn("nonsensitive", "sensitive", unknowns=True)
def _identity(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return args[0]


@_fn("range")
def _range(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1, 3)
    nums = [_to_num(a) for a in args]
    start, limit, step = (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) == 3 else 1)
    if len(nums) < 3 and limit < start:
        step = -1
    if step == 0 or (step > 0 and limit < start) or (step < 0 and limit > start):
        if step == 0:
            raise EvalError("step must not be zero")
        return []
    out: List[Value] = []
    value = start
    while (step > 0 and value < limit) or (step < 0 and value > limit):
        if len(out) >= 1024:
            raise EvalError("more than 1024 values")
        out.append(_num(value))
        value += step
    return out


@_fn("zipmap", unknowns=True)
def _zipmap(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    if _has_unknown(args[0]) or isinstance(args[1], (Unknown, Partial)):
        return ctx.unknown()
    keys, values = _to_list(args[0]), _to_list(args[1])
    if len(keys) != len(values):
        raise EvalError("the lists of keys and values differ in length")
    return {_to_str(k): v for k, v in zip(keys, values)}


def _sets(args: List[Value]) -> List[List[Value]]:
    return [_set_of(_to_list(a)) for a in args]


@_fn("setunion")
def _setunion(args: List[Value], ctx: _Ctx) -> Value:
    return _set_of([v for s in _sets(args) for v in s])


@_fn("setintersection")
def _setintersection(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1, -1)
    sets = _sets(args)
    common = {_key(v) for v in sets[0]}
    for s in sets[1:]:
        common &= {_key(v) for v in s}
    return _set_of([v for v in sets[0] if _key(v) in common])


@_fn("setsubtract")
def _setsubtract(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    a, b = _sets(args)
    drop = {_key(v) for v in b}
    return [v for v in a if _key(v) not in drop]


@_fn("setproduct")
def _setproduct(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1, -1)
    rows: List[List[Value]] = [[]]
    for lst in args:
        rows = [row + [v] for row in rows for v in _to_list(lst)]
        if len(rows) > 10000:
            raise EvalError("the product has too many elements")
    return rows


@_fn("sort")
def _sort(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return sorted(_to_str(v) for v in _to_list(args[0]))


@_fn("reverse", unknowns=True)
def _reverse(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    return list(reversed(_to_list(args[0])))


@_fn("slice", unknowns=True)
def _slice(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 3)
    if isinstance(args[0], (Unknown, Partial)) or _has_unknown(args[1:]):
        return ctx.unknown()
    items, start, end = _to_list(args[0]), _to_int(args[1]), _to_int(args[2])
    if not 0 <= start <= end <= len(items):
        raise EvalError(f"slice [{start}:{end}] out of range for a list of {len(items)}")
    return items[start:end]


@_fn("one", unknowns=True)
def _one(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    if args[0] is None:
        return None
    items = _to_list(args[0])
    if len(items) > 1:
        raise EvalError("one() requires a list of at most one element")
    return items[0] if items else None


@_fn("chunklist")
def _chunklist(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    items, size = _to_list(args[0]), _to_int(args[1])
    if size < 0:
        raise EvalError("the chunk size must not be negative")
    if size == 0:
        return [items]
    return [items[i: i + size] for i in range(0, len(items), size)]


@_fn("matchkeys")
def _matchkeys(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 3)
    values, keys, search = (_to_list(a) for a in args)
    if len(values) != len(keys):
        raise EvalError("the lists of values and keys differ in length")
    wanted = {_key(s) for s in search}
    return [v for v, k in zip(values, keys) if _key(k) in wanted]


@_fn("transpose")
def _transpose(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    out: Dict[str, List[str]] = {}
    for key, items in sorted(_to_map(args[0]).items()):
        for item in _to_list(items):
            out.setdefault(_to_str(item), []).append(key)
    return {k: sorted(v) for k, v in out.items()}


@_fn("alltrue")
def _alltrue(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return all(_to_bool(v) for v in _to_list(args[0]))


@_fn("anytrue")
def _anytrue(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return any(_to_bool(v) for v in _to_list(args[0]))


# ---------------------------------------------------------------------------------------- functions: numbers


@_fn("sum")
def _sum(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    items = [_to_num(v) for v in _to_list(args[0])]
    if not items:
        raise EvalError("cannot sum an empty list")
    return _num(sum(items))


@_fn("min")
def _min(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1, -1)
    return min(_to_num(a) for a in args)


@_fn("max")
def _max(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1, -1)
    return max(_to_num(a) for a in args)


@_fn("abs")
def _abs(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return abs(_to_num(args[0]))


@_fn("ceil")
def _ceil(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return math.ceil(_to_num(args[0]))


@_fn("floor")
def _floor(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return math.floor(_to_num(args[0]))


@_fn("signum")
def _signum(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    n = _to_num(args[0])
    return (n > 0) - (n < 0)


@_fn("pow")
def _pow(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    base, exp = _to_num(args[0]), _to_num(args[1])
    try:
        result = float(base) ** exp
    except (OverflowError, ZeroDivisionError):
        raise EvalError("pow() out of range") from None
    if isinstance(result, complex) or not math.isfinite(result):
        raise EvalError("pow() out of range")
    if isinstance(base, int) and isinstance(exp, int) and exp >= 0:
        return _num(base ** exp)
    return _num(result)


@_fn("log")
def _log(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    x, base = _to_num(args[0]), _to_num(args[1])
    if x <= 0 or base <= 0 or base == 1:
        raise EvalError("log() out of range")
    return _num(math.log(x, base))


@_fn("parseint")
def _parseint(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    base = _to_int(args[1])
    if not 2 <= base <= 62:
        raise EvalError("the base must be between 2 and 62")
    try:
        return int(_to_str(args[0]), base) if base <= 36 else _parse_base62(_to_str(args[0]), base)
    except ValueError:
        raise EvalError(f"cannot parse {_show(_to_str(args[0]))!r} as a base {base} integer") from None


def _parse_base62(text: str, base: int) -> int:
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    sign, text = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    if not text:
        raise ValueError(text)
    n = 0
    for ch in text:
        d = digits.find(ch)
        if d < 0 or d >= base:
            raise ValueError(text)
        n = n * base + d
    return sign * n


# ---------------------------------------------------------------------------------------- functions: encoding


@_fn("jsonencode", unknowns=True)
def _jsonencode(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if _has_open(args[0]):
        return ctx.unknown()
    return _concat(_json_text(args[0]))


@_fn("jsondecode", unknowns=True)
def _jsondecode(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    if isinstance(args[0], Unknown):
        return ctx.unknown()
    if isinstance(args[0], Partial):
        try:
            return _json_decode(args[0])
        except EvalError:
            return ctx.unknown("the JSON text has unknown parts outside its strings")
    return _json_decode(_to_str(args[0]))


@_fn("yamlencode")
def _yamlencode(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    import yaml
    try:
        return yaml.safe_dump(_plain(args[0]), sort_keys=True, default_flow_style=False, allow_unicode=True)
    except yaml.YAMLError as e:
        raise EvalError(f"cannot encode as YAML: {e}") from None


@_fn("yamldecode")
def _yamldecode(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    import yaml
    try:
        return _from_yaml(yaml.safe_load(_to_str(args[0])))
    except yaml.YAMLError as e:
        raise EvalError(f"invalid YAML: {str(e).splitlines()[0]}") from None


@_fn("csvdecode")
def _csvdecode(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    rows = list(csv.reader(io.StringIO(_to_str(args[0]))))
    if not rows:
        raise EvalError("missing header line")
    header, out = rows[0], []
    for row in rows[1:]:
        if len(row) != len(header):
            raise EvalError("a row has the wrong number of fields")
        out.append(dict(zip(header, row)))
    return out


@_fn("base64encode")
def _base64encode(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return base64.b64encode(_to_str(args[0]).encode("utf-8", "surrogatepass")).decode("ascii")


@_fn("base64decode")
def _base64decode(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    try:
        return base64.b64decode(_to_str(args[0]), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise EvalError("invalid base64 or not UTF-8 text") from None


@_fn("urlencode")
def _urlencode(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return urllib.parse.quote_plus(_to_str(args[0]), safe="")


# ---------------------------------------------------------------------------------------- functions: files


def _path_arg(value: Value) -> Optional[str]:
    """A path argument; None when it is not known."""
    if isinstance(value, (Unknown, Partial)) or _has_unknown(value):
        return None
    return _to_str(value)


@_fn("file", unknowns=True)
def _file(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    path = _path_arg(args[0])
    text = ctx.env.scope.read_file(path) if path is not None else None
    if text is None:
        return Unknown(f"file({path if path is not None else _show(ctx.node.args[0].text)})", ctx.env.line)
    return text


@_fn("fileexists", unknowns=True)
def _fileexists(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    path = _path_arg(args[0])
    if path is None or ctx.env.scope.read_file(path) is None:
        return ctx.unknown()
    return True


@_fn("templatefile", unknowns=True)
def _templatefile(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    if ctx.env.isolated:
        raise EvalError("templatefile() cannot be called from a template")
    path = _path_arg(args[0])
    text = ctx.env.scope.read_file(path) if path is not None else None
    if text is None:
        shown = path if path is not None else _show(ctx.node.args[0].text)
        return Unknown(f"templatefile({shown}, ...)", ctx.env.line)
    return _render_template(text, args[1], ctx, f"template {path}")


@_fn("templatestring", unknowns=True)
def _templatestring(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 2)
    if isinstance(args[0], (Unknown, Partial)):
        return ctx.unknown()
    return _render_template(_to_str(args[0]), args[1], ctx, "template")


def _render_template(text: str, variables: Value, ctx: _Ctx, what: str) -> Value:
    if isinstance(variables, (Unknown, Partial)):
        return ctx.unknown()
    variables = _to_map(variables)
    try:
        template = parse_template(text)
    except HclSyntaxError as e:
        raise EvalError(f"{what}: {e.message}") from None
    env = replace(ctx.env, names=dict(variables), isolated=True)
    return _eval(template, env)


@_fn("abspath")
def _abspath(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    return posixpath.normpath(_to_str(args[0]))


@_fn("dirname")
def _dirname(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    path = _to_str(args[0])
    parent = posixpath.dirname(path.rstrip("/") if path.strip("/") else path)
    return posixpath.normpath(parent) if parent else "."


@_fn("basename")
def _basename(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    path = _to_str(args[0])
    if path == "":
        return "."
    if path.strip("/") == "":
        return "/"
    return posixpath.basename(path.rstrip("/"))


@_fn("pathexpand")
def _pathexpand(args: List[Value], ctx: _Ctx) -> Value:
    _arity(args, 1)
    path = _to_str(args[0])
    return ctx.unknown("the home directory is not known") if path.startswith("~") else path


__all__ = [
    "Bindings", "EvalError", "HclSyntaxError", "MapScope", "OpenObject", "Scope", "evaluate",
    "evaluate_expression", "json_pieces", "parse", "parse_expression", "parse_template", "syntax_errors",
]
