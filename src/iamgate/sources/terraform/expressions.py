"""Terraform expression syntax: its errors, its syntax tree and its parser (no evaluation here).

python-hcl2 hands attribute values back as raw values whose strings hold HCL source text
(``evaluate.py`` describes the forms); ``parse(raw)`` turns such a string into a syntax tree,
``parse_template``/``parse_expression`` do the same for template text and bare expression text,
and ``syntax_errors`` lists what is malformed in a raw value. They raise ``HclSyntaxError`` and
nothing else. ``EvalError`` (what Terraform itself would reject), ``TooComplex``, ``show`` (source
text for messages) and ``num`` (canonical numbers) serve the parser as well as the evaluator and the
functions, which import them from here.

The parser is a hand-written recursive descent over the HCL native expression grammar (templates
with interpolations and ``%{for}``/``%{if}`` directives and strip markers, tuples, objects,
traversals, splats, calls with ``...``, operators, conditionals, ``for`` expressions, heredocs).
Parsed trees are cached by source text.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from ..values import Value

# ---------------------------------------------------------------------------------------- errors


class HclSyntaxError(ValueError):
    """A malformed HCL expression or template."""

    def __init__(self, message: str, expression: str) -> None:
        super().__init__(f"{message} in {show(expression)!r}")
        self.message = message
        self.expression = expression


class EvalError(Exception):
    """An expression that Terraform itself would reject (missing attribute, wrong type, …)."""


class TooComplex(Exception):
    """The evaluation budget ran out (a runaway expression)."""


_MAX_TEXT = 160


def show(text: str) -> str:
    """Source text for a message: whitespace collapsed, long text shortened."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


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
                return Lit(m.group(), number_literal(m.group()))
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


def num(value: Union[int, float]) -> Union[int, float]:
    """A number in canonical form: an int when integral; NaN and infinities are errors."""
    if isinstance(value, int):
        if value.bit_length() > 1100:
            raise EvalError("number out of range")
        return value
    if not math.isfinite(value):
        raise EvalError("number out of range")
    return int(value) if value.is_integer() else value


def number_literal(text: str) -> Union[int, float]:
    """The number a literal (digits, fraction, exponent; no sign) stands for."""
    try:
        if text.isdigit():
            return num(int(text))
        return num(float(Decimal(text)))
    except (ValueError, ArithmeticError):
        raise EvalError("number out of range") from None


def _text_keyed(maxsize: int) -> Callable[[Callable[[str], Any]], Any]:
    """``lru_cache`` keyed by the text as a plain ``str``: what is cached holds the text it was
    first called with, and a reader's str subclass (the CloudFormation loader's, which carries a
    line) would otherwise be what every later caller gets back (the Terraform root cache's codec
    refuses it, so such a root was evaluated again on every run)."""
    def wrap(fn: Callable[[str], Any]) -> Any:
        cached = lru_cache(maxsize=maxsize)(fn)

        @functools.wraps(fn)
        def call(text: str) -> Any:
            return cached(text if type(text) is str else str(text))
        call.cache_info, call.cache_clear = cached.cache_info, cached.cache_clear  # type: ignore[attr-defined]
        return call
    return wrap


@_text_keyed(maxsize=8192)
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


@_text_keyed(maxsize=1024)
def parse_template(text: str) -> Template:
    """A bare template (a ``templatefile`` file, a manifest string): no quotes, no backslash
    escapes. Raises HclSyntaxError."""
    try:
        p = _Parser(text)
        return Template(text, p.template_parts(quoted=False))
    except RecursionError:
        raise HclSyntaxError("template nested too deeply", text) from None


@_text_keyed(maxsize=4096)
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


META_KEYS = frozenset({"__is_block__", "__comments__", "__inline_comments__"})


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
            if k not in META_KEYS:
                out.extend(syntax_errors(k))
                out.extend(syntax_errors(v))
    return out


__all__ = ["EvalError", "HclSyntaxError", "TooComplex", "Node", "parse", "parse_expression", "parse_template",
           "syntax_errors", "show", "num"]
