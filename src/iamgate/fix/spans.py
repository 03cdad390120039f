"""JSON and HCL with character spans: just enough of both to know where each value begins and
ends, so that a writer can extend exactly those characters.

``Text`` is a file's text with line lookups, built on the JSON reader's line index
(``sources.jsonpos.LineIndex``); it turns replacements of character spans into ``Edit``s of the
whole lines they touch. ``Parser`` reads JSON, or HCL's native syntax (``hcl=True``), into
``Node``s — ``object`` (items), ``tuple`` (elements), ``string`` or ``other`` (an expression it does
not look into) — and an HCL body into ``Block``s, each with its offsets; text it cannot follow
raises ``Unparsable``.

The readers record where a value starts, not where it ends, which is why the writers parse again.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..model import Edit
from ..sources.jsonpos import LineIndex

__all__ = ["Block", "Item", "Node", "Parser", "Text", "Unparsable", "walk_blocks"]


# =============================================================================================
# Lines and offsets


class Text(LineIndex):
    """A file's text with line lookups (1-based lines, 0-based offsets), on the line index of the
    JSON reader."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text
        self.count = len(self.starts) - (1 if text.endswith("\n") or not text else 0)

    def end(self, line: int) -> int:
        """Offset after the line's newline."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def line(self, line: int) -> str:
        return self.text[self.start(line):self.end(line)].rstrip("\r\n")

    def ws(self, line: int) -> str:
        s = self.line(line)
        return s[:len(s) - len(s.lstrip(" \t"))]

    def first_on_line(self, offset: int) -> bool:
        return not self.text[self.start(self.line_of(offset)):offset].strip()

    def spans(self, file: str, spans: Sequence[Tuple[int, int, str]]) -> List[Edit]:
        """Replacements of character spans, as edits of the whole lines they touch."""
        out: List[Edit] = []
        group: List[Tuple[int, int, str]] = []
        last_line = 0
        for span in sorted(spans):
            first = self.line_of(span[0])
            if group and first > last_line:
                out.append(self._edit(file, group))
                group = []
            group.append(span)
            last_line = max(last_line, self.line_of(span[1] - 1 if span[1] > span[0] else span[0]))
        if group:
            out.append(self._edit(file, group))
        return out

    def _edit(self, file: str, group: List[Tuple[int, int, str]]) -> Edit:
        l1 = self.line_of(group[0][0])
        l2 = max(self.line_of(e - 1 if e > s else s) for s, e, _ in group)
        pos = self.start(l1)
        parts = []
        for s, e, new in group:
            parts.append(self.text[pos:s])
            parts.append(new)
            pos = e
        parts.append(self.text[pos:self.end(l2)])
        return Edit(file, l1, l2, "".join(parts))


# =============================================================================================
# JSON and HCL with character spans


class Unparsable(ValueError):
    """Text the parser cannot follow: the writer leaves the fix as text."""


@dataclass
class Node:
    """A value and where it was written: ``object`` (items), ``tuple`` (elements), ``string`` or
    ``other`` (an expression iamgate does not look into)."""

    kind: str
    start: int
    end: int
    items: List["Item"] = field(default_factory=list)
    elements: List["Node"] = field(default_factory=list)
    comma_end: Optional[int] = None  # a tuple's trailing comma: the offset after it

    def get(self, key: str) -> Optional["Item"]:
        return next((i for i in self.items if i.key == key), None)


@dataclass
class Item:
    key: str
    start: int
    value: Node
    quoted: bool = False
    sep: str = "="


@dataclass
class Block:
    type: str
    labels: List[str]
    start: int
    open: int
    end: int
    attrs: Dict[str, Node]
    blocks: List["Block"]


_IDENT = re.compile(r"[A-Za-z_][\w-]*")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][\w-]*)[ \t]*\r?\n")


class Parser:
    """Just enough of JSON and of HCL's native syntax to know where each value begins and ends."""

    def __init__(self, text: str, hcl: bool) -> None:
        self.s = text
        self.n = len(text)
        self.hcl = hcl

    def fail(self, pos: int, what: str) -> "Unparsable":
        return Unparsable(f"{what} at offset {pos}")

    def ch(self, pos: int) -> str:
        return self.s[pos] if pos < self.n else ""

    def comment_at(self, pos: int) -> bool:
        return self.hcl and (self.s.startswith("#", pos) or self.s.startswith("//", pos)
                             or self.s.startswith("/*", pos))

    def ws(self, pos: int, newlines: bool = True) -> int:
        s = self.s
        while pos < self.n:
            c = s[pos]
            if c in " \t\r\ufeff" or (newlines and c == "\n"):
                pos += 1
            elif self.hcl and s.startswith("/*", pos):
                end = s.find("*/", pos + 2)
                if end < 0:
                    raise self.fail(pos, "unterminated comment")
                pos = end + 2
            elif self.hcl and (c == "#" or s.startswith("//", pos)):
                end = s.find("\n", pos)
                pos = self.n if end < 0 else end
                if not newlines:
                    return pos
            else:
                break
        return pos

    def string_end(self, pos: int) -> int:
        s = self.s
        i = pos + 1
        while i < self.n:
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == '"':
                return i + 1
            if c == "\n":
                break
            if self.hcl and (s.startswith("$${", i) or s.startswith("%%{", i)):
                i += 3
                continue
            if self.hcl and (s.startswith("${", i) or s.startswith("%{", i)):
                i = self.braced_end(i + 2)
                continue
            i += 1
        raise self.fail(pos, "unterminated string")

    def braced_end(self, pos: int) -> int:
        depth = 1
        i = pos
        while i < self.n:
            c = self.s[i]
            if c == '"':
                i = self.string_end(i)
                continue
            if c in "{[(":
                depth += 1
            elif c in "}])":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise self.fail(pos, "unterminated interpolation")

    def heredoc_end(self, pos: int) -> int:
        m = _HEREDOC.match(self.s, pos)
        if m is None:
            raise self.fail(pos, "bad heredoc")
        end = re.compile(r"^[ \t]*" + re.escape(m.group(2)) + r"[ \t]*$", re.M).search(self.s, m.end())
        if end is None:
            raise self.fail(pos, "unterminated heredoc")
        return end.end()

    def value(self, pos: int) -> Node:
        pos = self.ws(pos)
        c = self.ch(pos)
        if c == "{":
            node = self.object(pos)
        elif c == "[":
            node = self.tuple(pos)
        elif c == '"':
            node = Node("string", pos, self.string_end(pos))
        else:
            return self.other(pos)
        nxt = self.ws(node.end, newlines=False)
        if nxt < self.n and self.s[nxt] not in ",]})\n" and not self.comment_at(nxt):
            return self.other(pos)  # the constructor is part of a larger expression
        return node

    def other(self, pos: int) -> Node:
        s = self.s
        i = end = pos
        depth = 0
        while i < self.n:
            c = s[i]
            if c == '"':
                i = end = self.string_end(i)
                continue
            if self.hcl and c == "<" and _HEREDOC.match(s, i):
                i = end = self.heredoc_end(i)
                continue
            if depth == 0 and (c in ",)]}\n" or self.comment_at(i)):
                break
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            if c not in " \t\r\n":
                end = i + 1
            i += 1
        if end == pos:
            raise self.fail(pos, "expected a value")
        return Node("other", pos, end)

    def key(self, pos: int) -> Tuple[str, int, bool]:
        c = self.ch(pos)
        if c == '"':
            end = self.string_end(pos)
            raw = self.s[pos:end]
            try:
                return json.loads(raw), end, True
            except ValueError:
                return raw[1:-1], end, True
        m = _IDENT.match(self.s, pos)
        if m is None or not self.hcl:
            raise self.fail(pos, "expected a key")
        return m.group(), m.end(), False

    def object(self, pos: int) -> Node:
        node = Node("object", pos, pos)
        i = pos + 1
        while True:
            i = self.ws(i)
            c = self.ch(i)
            if c == "}":
                node.end = i + 1
                return node
            if c == ",":
                i += 1
                continue
            if not c:
                raise self.fail(pos, "unterminated object")
            key, kend, quoted = self.key(i)
            j = self.ws(kend, newlines=False)
            sep = self.ch(j)
            if sep not in ("=", ":") or self.s.startswith("==", j) or (sep == "=" and not self.hcl):
                raise self.fail(j, "expected = or :")
            v = self.value(j + 1)
            node.items.append(Item(key, i, v, quoted, sep))
            i = v.end

    def tuple(self, pos: int) -> Node:
        node = Node("tuple", pos, pos)
        i = pos + 1
        while True:
            i = self.ws(i)
            if self.ch(i) == "]":
                node.end = i + 1
                return node
            v = self.value(i)
            node.elements.append(v)
            node.comma_end = None
            i = self.ws(v.end)
            c = self.ch(i)
            if c == ",":
                i += 1
                node.comma_end = i
            elif c != "]":
                raise self.fail(i, "expected , or ]")

    def body(self, pos: int, closing: bool) -> Tuple[Dict[str, Node], List[Block], int]:
        attrs: Dict[str, Node] = {}
        blocks: List[Block] = []
        i = pos
        while True:
            i = self.ws(i)
            c = self.ch(i)
            if not c:
                if closing:
                    raise self.fail(pos, "unterminated block")
                return attrs, blocks, i
            if c == "}":
                if not closing:
                    raise self.fail(i, "unexpected }")
                return attrs, blocks, i + 1
            m = _IDENT.match(self.s, i)
            if m is None:
                raise self.fail(i, "expected an attribute or a block")
            j = self.ws(m.end(), newlines=False)
            if self.ch(j) == "=" and not self.s.startswith("==", j):
                v = self.value(j + 1)
                attrs[m.group()] = v
                i = v.end
                continue
            labels = []
            while self.ch(j) == '"' or _IDENT.match(self.s, j):
                label, j, _ = self.key(j)
                labels.append(label)
                j = self.ws(j, newlines=False)
            if self.ch(j) != "{":
                raise self.fail(j, "expected {")
            inner_attrs, inner_blocks, end = self.body(j + 1, True)
            blocks.append(Block(m.group(), labels, i, j, end, inner_attrs, inner_blocks))
            i = end

    def document(self) -> Node:
        node = self.value(0)
        if self.ws(node.end) != self.n:
            raise self.fail(node.end, "text after the document")
        return node


def walk_blocks(blocks: Sequence[Block]) -> Iterable[Block]:
    for b in blocks:
        yield b
        yield from walk_blocks(b.blocks)
