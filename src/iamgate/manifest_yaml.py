"""A fast composer for the YAML manifests are written in, line by line, or ``None``.

PyYAML composes a manifest node by node (a resolver call and a node object per scalar, marks,
events): about 60 µs a requirement even with libyaml, 6 s for a 100,000-requirement manifest.
Manifests, whether written by hand or by a program, use a small part of YAML: block mappings and
sequences (``- key: value`` included), one-line flow sequences and mappings of scalars, plain and
simple quoted scalars, comments. :func:`compose` reads that part a line at a time and gives exactly
what ``manifest._build`` gives for it: the same data (plain scalars resolved by PyYAML's own
resolver and safe constructor, keys as written, dates as written) and the same positions (value
lines, key lines, key order, plain scalars' text, by path).

Anything it is not sure of (anchors, aliases, tags, merge keys, block or multi-line scalars,
escapes, document markers, tabs, duplicate keys, a line it cannot place) makes it answer ``None``
at once, and the caller composes with PyYAML, which gives its result or its error unchanged. It
never raises and never reports an error itself: an unusual manifest is only slower.

Pure: text in, data out.
"""
from __future__ import annotations

import datetime
import gc
import re
from typing import Any, Dict, List, Optional, Tuple, Union

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

__all__ = ["compose", "Composed"]

Path = Tuple[Union[str, int], ...]
# data, then the positions by path: value lines, key lines, key order, plain scalars' text
Composed = Tuple[Any, Dict[Path, int], Dict[Path, int], Dict[Path, int], Dict[Path, str]]

# Deeper than this is declined: PyYAML's path measures nesting (64 levels) and gives its error.
_MAX_NESTING = 48
# A key longer than this is declined (a YAML simple key is limited to 1024 characters).
_MAX_KEY = 512


class _Decline(Exception):
    """Not in the subset (or not sure): PyYAML composes this text."""


# Only printable characters, no tab, no line break but \n (\r\n is turned into \n first), no BOM,
# no non-breaking space: anything else is PyYAML's to read or refuse.
_ODD_CHARACTER = re.compile("[^\n\x20-\x7e\xa1-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")

# A block mapping key (plain, or quoted without escapes but \\ \" \/ \n \t), its colon and the
# spaces after it. A plain key starts with no indicator and holds no '#', no flow indicator, no
# '?', no ': ' and no space before a colon or '#'.
_PLAIN_KEY = r"""[^\s\-?:,\[\]{}#&*!|>'"%@`](?:[^\s:,\[\]{}#?]|:(?=[^\s,\[\]{}])|[ ]+(?=[^\s:#]))*"""
_DOUBLE = r'"([^"\\]*(?:\\[\\"/nt][^"\\]*)*)"'
_SINGLE = r"'([^']*(?:''[^']*)*)'"
_KEY = re.compile(rf"(?:({_PLAIN_KEY})|{_DOUBLE}|{_SINGLE}) *:(?: +|$)")

_QUOTED = re.compile(rf"(?:{_DOUBLE}|{_SINGLE})")
# the commonest values, alone on the rest of their line: a quoted scalar without escapes, a plain
# scalar (checked by _plain), a flow sequence of plain scalars
_SIMPLE_VALUE = re.compile(
    r"""(?:"([^"\\]*)"|([^\s\-?:,\[\]{}#&*!|>'"%@`](?:[^ ]+| +(?=[^ #]))*)"""
    r"""|\[ *([^\s,\[\]{}#&*!|>'"%@`?\-][^,\[\]{}"'#?]*?(?: *, *[^\s,\[\]{}#&*!|>'"%@`?\-][^,\[\]{}"'#?]*?)*) *\])"""
    r"""(?: +#.*)?$""")
# after a value: nothing, or a comment after a space
_END = re.compile(r"(?: +#.*)?$")
# a scalar in a one-line flow collection: quoted, or plain up to a flow indicator, a ': ' or a ' #'
_FLOW_PLAIN = r"[^\s,\[\]{}](?:[^\s,\[\]{}:]|:(?=[^\s,\[\]{}])|[ ]+(?=[^\s,\[\]{}#:]))*"
_FLOW_SCALAR = re.compile(rf"{_DOUBLE}|{_SINGLE}|({_FLOW_PLAIN})")
# a key in a one-line flow mapping, its colon and the spaces after it
_FLOW_KEY = re.compile(rf"(?:{_DOUBLE}|{_SINGLE}|({_FLOW_PLAIN})) *: +")
_SPACES = re.compile(" *")

_ESCAPES = {"\\": "\\", '"': '"', "/": "/", "n": "\n", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)")
# characters a plain scalar cannot start with (a '-' can, before a non-space)
_INDICATORS = frozenset("?:,[]{}#&*!|>'\"%@` ")


def _double(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], text) if "\\" in text else text


def _single(text: str) -> str:
    return text.replace("''", "'")


class _Scalars(SafeConstructor, Resolver):
    """PyYAML's own resolver and safe constructor, for one plain scalar at a time."""

    def __init__(self) -> None:
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.memo: Dict[str, Any] = {}

    def value(self, text: str) -> Any:
        """What ``_build`` makes of the plain scalar ``text``: resolved, constructed, a date kept as written."""
        try:
            return self.memo[text]
        except KeyError:
            pass
        node = yaml.ScalarNode(self.resolve(yaml.ScalarNode, text, (True, False)), text)
        try:
            value = self.construct_object(node)
        except Exception:  # an integer of 5,000 digits, '=': PyYAML's error to give
            raise _Decline from None
        finally:
            self.constructed_objects.clear()
            self.recursive_objects.clear()
        if isinstance(value, datetime.date):
            value = text
        elif isinstance(value, (list, dict, set, bytes, bytearray)):  # no implicit tag makes these
            raise _Decline
        self.memo[text] = value
        return value


def _plain(text: str, flow: bool) -> str:
    """``text`` (stripped) if it is a one-line plain scalar both PyYAML and libyaml read as written."""
    if not text or text[0] in _INDICATORS or (text[0] == "-" and (len(text) == 1 or text[1] == " ")):
        raise _Decline
    if ": " in text or text[-1] == ":" or " #" in text or (flow and "?" in text):
        raise _Decline
    if text.startswith(("---", "...")):
        raise _Decline
    return text


def _is_entry(content: str) -> bool:
    """A block sequence entry: ``-`` alone or before a space."""
    return content[0] == "-" and (len(content) == 1 or content[1] == " ")


class _Composer:
    def __init__(self, rows: List[Tuple[int, int, str]]) -> None:
        self.rows = rows
        self.i = 0
        self.lines: Dict[Path, int] = {}
        self.key_lines: Dict[Path, int] = {}
        self.order: Dict[Path, int] = {}
        self.raw: Dict[Path, str] = {}
        self.scalars = _Scalars()

    # ---- block nodes

    def block(self, content: str, line: int, column: int, path: Path, depth: int) -> Any:
        """The node that starts with ``content`` (at ``column`` of ``line``); rows after it are the
        next ones to read."""
        if _is_entry(content):
            return self.sequence(content, line, column, path, depth + 1)
        match = _KEY.match(content)
        if match is not None:
            return self.mapping(match, content, line, column, path, depth + 1)
        return self.inline(content, line, path, depth)

    def sequence(self, content: str, line: int, column: int, path: Path, depth: int) -> List[Any]:
        if depth > _MAX_NESTING:
            raise _Decline
        self.lines[path] = line
        result: List[Any] = []
        rows = self.rows
        while True:
            rest = content[1:].lstrip(" ")
            child = path + (len(result),)
            if not rest or rest[0] == "#":
                result.append(self.below(line, column, child, depth, False))
            else:
                match = _KEY.match(rest)
                if match is not None:  # a compact mapping, `- key: value`
                    result.append(self.mapping(match, rest, line, column + len(content) - len(rest), child, depth + 1))
                else:
                    result.append(self.block(rest, line, column + len(content) - len(rest), child, depth))
            if self.i == len(rows):
                return result
            line, indent, content = rows[self.i]
            if indent < column:
                return result
            if indent > column:
                raise _Decline
            if not _is_entry(content):
                return result  # the key after an indentless sequence, or an error PyYAML reports
            self.i += 1

    def mapping(self, match: Any, content: str, line: int, column: int, path: Path, depth: int) -> Dict[str, Any]:
        if depth > _MAX_NESTING:
            raise _Decline
        self.lines[path] = line
        result: Dict[str, Any] = {}
        rows = self.rows
        count = len(rows)
        lines, key_lines, order, raw = self.lines, self.key_lines, self.order, self.raw
        memo = self.scalars.memo
        simple = _SIMPLE_VALUE.match
        key_match = _KEY.match
        while True:
            plain, double, single = match.groups()
            if plain is not None:
                key = plain
                if key == "<<":
                    raise _Decline
            elif double is not None:
                key = _double(double)
            else:
                key = _single(single)
            if key in result or len(key) > _MAX_KEY:
                raise _Decline  # PyYAML's path names the duplicate
            child = path + (key,)
            key_lines[child] = line
            order[child] = len(result)
            end = match.end()
            value = simple(content, end) if end < len(content) else None
            if value is None:  # the general way
                rest = content[end:]
                if not rest or rest[0] == "#":
                    result[key] = self.below(line, column, child, depth, True)
                else:
                    result[key] = self.inline(rest, line, child, depth)
            else:
                quoted, text, items = value.groups()
                lines[child] = line
                if quoted is not None:
                    result[key] = quoted
                elif text is not None:
                    if ": " in text or text[-1] == ":":
                        raise _Decline
                    raw[child] = text
                    result[key] = memo[text] if text in memo else self.scalars.value(text)
                else:
                    if depth >= _MAX_NESTING:
                        raise _Decline
                    found: List[Any] = []
                    for index, item in enumerate(items.split(",")):
                        item = item.strip(" ")
                        if ": " in item or item[-1] == ":":
                            raise _Decline
                        place = child + (index,)
                        lines[place] = line
                        raw[place] = item
                        found.append(memo[item] if item in memo else self.scalars.value(item))
                    result[key] = found
            if self.i == count:
                return result
            line, indent, content = rows[self.i]
            if indent < column:
                return result
            if indent > column:
                raise _Decline
            match = key_match(content)
            if match is None:
                raise _Decline
            self.i += 1

    def below(self, line: int, column: int, path: Path, depth: int, indentless: bool) -> Any:
        """The value of a key or entry with nothing after it on its line: a node on the next lines,
        indented more (or, after a key, a sequence at the key's column), else null."""
        if self.i < len(self.rows):
            next_line, indent, content = self.rows[self.i]
            if indent > column or (indentless and indent == column and _is_entry(content)):
                self.i += 1
                return self.block(content, next_line, indent, path, depth)
        self.lines[path] = line  # an empty scalar, marked where its key or '-' ends
        self.raw[path] = ""
        return self.scalars.value("")

    # ---- what fits on one line

    def inline(self, text: str, line: int, path: Path, depth: int) -> Any:
        """A scalar or a one-line flow collection, alone on the rest of its line (a comment aside)."""
        first = text[0]
        if first == "[" or first == "{":
            return self.flow(text, line, path, depth + 1)
        if first == '"' or first == "'":
            match = _QUOTED.match(text)
            if match is None or _END.match(text, match.end()) is None:
                raise _Decline
            double, single = match.groups()
            self.lines[path] = line
            return _double(double) if double is not None else _single(single)
        cut = text.find(" #")
        plain = _plain(text if cut < 0 else text[:cut].rstrip(" "), False)
        self.lines[path] = line
        self.raw[path] = plain
        return self.scalars.value(plain)

    def flow(self, text: str, line: int, path: Path, depth: int) -> Any:
        value, end = self.flow_node(text, 0, line, path, depth)
        if _END.match(text, end) is None:
            raise _Decline
        return value

    def flow_node(self, text: str, at: int, line: int, path: Path, depth: int) -> Tuple[Any, int]:
        """The flow node at ``text[at]`` (not a space) and where it ends, all on this line."""
        first = text[at:at + 1]
        if first == "[" or first == "{":
            if depth > _MAX_NESTING:
                raise _Decline
            self.lines[path] = line
            at = _SPACES.match(text, at + 1).end()
            return (self.flow_sequence if first == "[" else self.flow_mapping)(text, at, line, path, depth)
        match = _FLOW_SCALAR.match(text, at)
        if match is None:
            raise _Decline
        double, single, plain = match.groups()
        self.lines[path] = line
        if double is not None:
            return _double(double), match.end()
        if single is not None:
            return _single(single), match.end()
        self.raw[path] = _plain(plain, True)
        return self.scalars.value(plain), match.end()

    def flow_sequence(self, text: str, at: int, line: int, path: Path, depth: int) -> Tuple[List[Any], int]:
        result: List[Any] = []
        if text[at:at + 1] == "]":
            return result, at + 1
        while True:
            value, at = self.flow_node(text, at, line, path + (len(result),), depth + 1)
            result.append(value)
            at = _SPACES.match(text, at).end()
            stop = text[at:at + 1]
            if stop == "]":
                return result, at + 1
            if stop != ",":  # a ':' (a one-pair mapping), a comment, the end of the line
                raise _Decline
            at = _SPACES.match(text, at + 1).end()  # a ']' next (a trailing comma) is declined

    def flow_mapping(self, text: str, at: int, line: int, path: Path, depth: int) -> Tuple[Dict[str, Any], int]:
        result: Dict[str, Any] = {}
        if text[at:at + 1] == "}":
            return result, at + 1
        while True:
            match = _FLOW_KEY.match(text, at)
            if match is None:  # no key, or no space after its colon
                raise _Decline
            double, single, plain = match.groups()
            if plain is not None:
                key = _plain(plain, True)
                if key == "<<":
                    raise _Decline
            elif double is not None:
                key = _double(double)
            else:
                key = _single(single)
            if key in result or len(key) > _MAX_KEY:
                raise _Decline
            child = path + (key,)
            self.key_lines[child] = line
            self.order[child] = len(result)
            result[key], at = self.flow_node(text, match.end(), line, child, depth + 1)
            at = _SPACES.match(text, at).end()
            stop = text[at:at + 1]
            if stop == "}":
                return result, at + 1
            if stop != ",":
                raise _Decline
            at = _SPACES.match(text, at + 1).end()


def _rows(text: str) -> List[Tuple[int, int, str]]:
    """(line, indentation, content) of every line that is not blank or a comment."""
    rows = []
    for number, line in enumerate(text.split("\n"), 1):
        content = line.lstrip(" ")
        if content and content[0] != "#":
            if content.startswith(("---", "...")):
                raise _Decline  # document markers (or a plain scalar PyYAML may read as one)
            rows.append((number, len(line) - len(content), content.rstrip(" ")))
    return rows


def compose(text: str) -> Optional[Composed]:
    """``text``'s data and positions when it is a block mapping in the subset, else ``None``."""
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    if _ODD_CHARACTER.search(text) is not None:
        return None
    collecting = gc.isenabled()
    gc.disable()  # a large manifest is a million small objects: no collection finds garbage in them
    try:
        rows = _rows(text)
        if not rows:
            return None
        line, indent, content = rows[0]
        composer = _Composer(rows)
        composer.i = 1
        data = composer.block(content, line, indent, (), 0)
        if composer.i != len(rows) or not isinstance(data, dict):
            return None
        return data, composer.lines, composer.key_lines, composer.order, composer.raw
    except (_Decline, RecursionError):
        return None
    finally:
        if collecting:
            gc.enable()
