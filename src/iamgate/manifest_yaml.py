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
import re
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, Union

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

__all__ = ["compose", "Composed", "Keep"]

Path = Tuple[Union[str, int], ...]
# data, then the positions by path: value lines, key lines, key order, plain scalars' text
Composed = Tuple[Any, Dict[Path, int], Dict[Path, int], Dict[Path, int], Dict[Path, str]]



class Keep(NamedTuple):
    """The positions to record when not all of them: the value lines of the paths at most
    ``depth`` long, the plain scalars' text of the paths ``raw`` accepts, no key lines and no key
    order. A 100,000-requirement manifest has a million positions, of which loading a valid one
    reads a hundred thousand (issue 15: 140 MB of them, under a limit of 300 for the whole run)."""

    depth: int
    raw: Callable[[Path], bool]


# Deeper than this is declined: PyYAML's path measures nesting (64 levels) and gives its error.
_MAX_NESTING = 48
# A key longer than this is declined (a YAML simple key is limited to 1024 characters).
_MAX_KEY = 512


class _Decline(Exception):
    """Not in the subset (or not sure): PyYAML composes this text."""


# A block mapping key (plain, or quoted without escapes but \\ \" \/ \n \t), its colon and the
# spaces after it. A plain key starts with no indicator and holds no '#', no flow indicator, no
# '?', no ': ' and no space before a colon or '#'.
_PLAIN_KEY = r"""[^\s\-?:,\[\]{}#&*!|>'"%@`](?:[^\s:,\[\]{}#?]|:(?=[^\s,\[\]{}])|[ ]+(?=[^\s:#]))*"""
_DOUBLE = r'"([^"\\]*(?:\\[\\"/nt][^"\\]*)*)"'
_SINGLE = r"'([^']*(?:''[^']*)*)'"

_QUOTED = re.compile(rf"(?:{_DOUBLE}|{_SINGLE})")
# A block mapping entry whose value is one of the commonest, alone on the rest of its line (a comment
# aside): a double-quoted scalar without escapes, a plain scalar (not yet checked for ': ' or a final
# ':'), a flow sequence of plain scalars (the same). Without one, the match ends after the key.
_SIMPLE_ITEM = r"""[^\s\-?:,\[\]{}#&*!|>'"%@`][^,\[\]{}"'#?]*?"""
_ENTRY = re.compile(
    rf"(?:({_PLAIN_KEY})|{_DOUBLE}|{_SINGLE}) *:(?: +|$)"
    r"""(?:(?:"([^"\\]*)"|([^\s\-?:,\[\]{}#&*!|>'"%@`](?:[^ ]+| +(?=[^ #]))*)"""
    rf"""|\[ *({_SIMPLE_ITEM}(?: *, *{_SIMPLE_ITEM})*) *\])(?: +#.*)?$)?""")
# after a value: nothing, or a comment after a space
_END = re.compile(r"(?: +#.*)?$")
# a scalar in a one-line flow collection: quoted, or plain up to a flow indicator, a ': ' or a ' #'
_FLOW_PLAIN = r"[^\s,\[\]{}](?:[^\s,\[\]{}:]|:(?=[^\s,\[\]{}])|[ ]+(?=[^\s,\[\]{}#:]))*"
_FLOW_SCALAR = re.compile(rf"{_DOUBLE}|{_SINGLE}|({_FLOW_PLAIN})")
# a key in a one-line flow mapping, its colon and the spaces after it
_FLOW_KEY = re.compile(rf"(?:{_DOUBLE}|{_SINGLE}|({_FLOW_PLAIN})) *: +")
_SPACES = re.compile(" *")

_MARKER = re.compile(r"^ *(?:---|\.\.\.)", re.M)

_ESCAPES = {"\\": "\\", '"': '"', "/": "/", "n": "\n", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)")
# characters a plain scalar cannot start with (a '-' can, before a non-space)
_INDICATORS = frozenset("?:,[]{}#&*!|>'\"%@` ")


def _key(plain: Optional[str], double: Optional[str], single: Optional[str], taken: Dict[str, Any]) -> str:
    """A mapping's key as written (plain, double- or single-quoted); declined where PyYAML is to
    answer: a merge key, a key the mapping already has (PyYAML's path names the duplicate), one
    longer than ``_MAX_KEY``."""
    if plain is not None:
        if plain == "<<":
            raise _Decline
        key = plain
    elif double is not None:
        key = _double(double)
    else:
        key = _single(single)
    if key in taken or len(key) > _MAX_KEY:
        raise _Decline
    return key


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


def _compose_rows(rows: List[Tuple[int, int, str]], keep: Optional[Keep] = None) -> Composed:
    """The document ``rows`` hold (see :func:`_rows`), or :class:`_Decline`; the positions
    ``keep`` asks for (all without it): what is declined does not depend on them.

    Nested functions over shared locals rather than methods: a manifest of 100,000 requirements
    goes through ``mapping`` 100,000 times, and attribute look-ups were a good part of its time.
    """
    lines: Dict[Path, int] = {}
    key_lines: Dict[Path, int] = {}
    order: Dict[Path, int] = {}
    raw: Dict[Path, str] = {}
    deepest = 1 << 30 if keep is None else keep.depth  # every path, without it
    raw_of = None if keep is None else keep.raw
    keys = keep is None
    scalars = _Scalars()
    memo = scalars.memo
    scalar = scalars.value
    entry = _ENTRY.match
    count = len(rows)
    i = 1  # the next row to read

    def block(content: str, line: int, column: int, path: Path, depth: int) -> Any:
        """The node that starts with ``content`` (at ``column`` of ``line``); rows[i] is the next to read."""
        if _is_entry(content):
            return sequence(content, line, column, path, depth + 1)
        match = entry(content)
        if match is not None:
            return mapping(match, content, line, column, path, depth + 1)
        return inline(content, line, path, depth)

    def opened(path: Path, line: int, depth: int) -> None:
        """A sequence or mapping starts at ``line``: within the nesting bound, its line recorded."""
        if depth > _MAX_NESTING:
            raise _Decline
        if len(path) <= deepest:
            lines[path] = line

    def next_at(column: int) -> Optional[Tuple[int, str]]:
        """(line, content) of the next row when it goes on the node at ``column`` (not taken yet);
        None when the node ends there; a row indented deeper is not something this composer reads."""
        if i == count:
            return None
        line, indent, content = rows[i]
        if indent != column:
            if indent < column:
                return None
            raise _Decline
        return line, content

    def sequence(content: str, line: int, column: int, path: Path, depth: int) -> List[Any]:
        nonlocal i
        opened(path, line, depth)
        result: List[Any] = []
        while True:
            rest = content[1:].lstrip(" ")
            child = path + (len(result),)
            if not rest or rest[0] == "#":
                result.append(below(line, column, child, depth, False))
            else:
                match = entry(rest)
                if match is not None:  # a compact mapping, `- key: value`
                    result.append(mapping(match, rest, line, column + len(content) - len(rest), child, depth + 1))
                else:
                    result.append(block(rest, line, column + len(content) - len(rest), child, depth))
            following = next_at(column)
            if following is None:
                return result
            line, content = following
            if not _is_entry(content):
                return result  # the key after an indentless sequence, or an error PyYAML reports
            i += 1

    def mapping(match: Any, content: str, line: int, column: int, path: Path, depth: int) -> Dict[str, Any]:
        nonlocal i
        opened(path, line, depth)
        result: Dict[str, Any] = {}
        while True:
            plain, double, single, quoted, text, items = match.groups()
            key = _key(plain, double, single, result)
            child = path + (key,)
            if keys:
                key_lines[child] = line
                order[child] = len(result)
            if quoted is not None:
                if len(child) <= deepest:
                    lines[child] = line
                result[key] = quoted
            elif text is not None:
                if ": " in text or text[-1] == ":":
                    raise _Decline
                if len(child) <= deepest:
                    lines[child] = line
                if raw_of is None or raw_of(child):
                    raw[child] = text
                result[key] = memo[text] if text in memo else scalar(text)
            elif items is not None:
                if depth >= _MAX_NESTING:
                    raise _Decline
                if len(child) <= deepest:
                    lines[child] = line
                found: List[Any] = []
                for index, item in enumerate(items.split(",") if "," in items else (items,)):
                    item = item.strip(" ")
                    if ": " in item or item[-1] == ":":
                        raise _Decline
                    place = child + (index,)
                    if len(place) <= deepest:
                        lines[place] = line
                    if raw_of is None or raw_of(place):
                        raw[place] = item
                    found.append(memo[item] if item in memo else scalar(item))
                result[key] = found
            else:  # the general way
                rest = content[match.end():]
                if not rest or rest[0] == "#":
                    result[key] = below(line, column, child, depth, True)
                else:
                    result[key] = inline(rest, line, child, depth)
            following = next_at(column)
            if following is None:
                return result
            line, content = following
            match = entry(content)
            if match is None:
                raise _Decline
            i += 1

    def below(line: int, column: int, path: Path, depth: int, indentless: bool) -> Any:
        """The value of a key or entry with nothing after it on its line: a node on the next lines,
        indented more (or, after a key, a sequence at the key's column), else null."""
        nonlocal i
        if i < count:
            next_line, indent, content = rows[i]
            if indent > column or (indentless and indent == column and _is_entry(content)):
                i += 1
                return block(content, next_line, indent, path, depth)
        if len(path) <= deepest:
            lines[path] = line  # an empty scalar, marked where its key or '-' ends
        if raw_of is None or raw_of(path):
            raw[path] = ""
        return scalar("")

    def inline(text: str, line: int, path: Path, depth: int) -> Any:
        """A scalar or a one-line flow collection, alone on the rest of its line (a comment aside)."""
        first = text[0]
        if first == "[" or first == "{":
            value, end = flow_node(text, 0, line, path, depth + 1)
            if _END.match(text, end) is None:
                raise _Decline
            return value
        if first == '"' or first == "'":
            match = _QUOTED.match(text)
            if match is None or _END.match(text, match.end()) is None:
                raise _Decline
            double, single = match.groups()
            if len(path) <= deepest:
                lines[path] = line
            return _double(double) if double is not None else _single(single)
        cut = text.find(" #")
        plain = _plain(text if cut < 0 else text[:cut].rstrip(" "), False)
        if len(path) <= deepest:
            lines[path] = line
        if raw_of is None or raw_of(path):
            raw[path] = plain
        return scalar(plain)

    def flow_node(text: str, at: int, line: int, path: Path, depth: int) -> Tuple[Any, int]:
        """The flow node at ``text[at]`` (not a space) and where it ends, all on this line."""
        first = text[at:at + 1]
        if first == "[" or first == "{":
            if depth > _MAX_NESTING:
                raise _Decline
            if len(path) <= deepest:
                lines[path] = line
            at = _SPACES.match(text, at + 1).end()
            return (flow_sequence if first == "[" else flow_mapping)(text, at, line, path, depth)
        match = _FLOW_SCALAR.match(text, at)
        if match is None:
            raise _Decline
        double, single, plain = match.groups()
        if len(path) <= deepest:
            lines[path] = line
        if double is not None:
            return _double(double), match.end()
        if single is not None:
            return _single(single), match.end()
        plain = _plain(plain, True)
        if raw_of is None or raw_of(path):
            raw[path] = plain
        return scalar(plain), match.end()

    def flow_sequence(text: str, at: int, line: int, path: Path, depth: int) -> Tuple[List[Any], int]:
        result: List[Any] = []
        if text[at:at + 1] == "]":
            return result, at + 1
        while True:
            value, at = flow_node(text, at, line, path + (len(result),), depth + 1)
            result.append(value)
            at = _SPACES.match(text, at).end()
            stop = text[at:at + 1]
            if stop == "]":
                return result, at + 1
            if stop != ",":  # a ':' (a one-pair mapping), a comment, the end of the line
                raise _Decline
            at = _SPACES.match(text, at + 1).end()  # a ']' next (a trailing comma) is declined

    def flow_mapping(text: str, at: int, line: int, path: Path, depth: int) -> Tuple[Dict[str, Any], int]:
        result: Dict[str, Any] = {}
        if text[at:at + 1] == "}":
            return result, at + 1
        while True:
            match = _FLOW_KEY.match(text, at)
            if match is None:  # no key, or no space after its colon
                raise _Decline
            double, single, plain = match.groups()
            key = _key(_plain(plain, True) if plain is not None else None, double, single, result)
            child = path + (key,)
            if keys:
                key_lines[child] = line
                order[child] = len(result)
            result[key], at = flow_node(text, match.end(), line, child, depth + 1)
            at = _SPACES.match(text, at).end()
            stop = text[at:at + 1]
            if stop == "}":
                return result, at + 1
            if stop != ",":
                raise _Decline
            at = _SPACES.match(text, at + 1).end()

    try:
        line, indent, content = rows[0]
        data = block(content, line, indent, (), 0)
        if i != count:
            raise _Decline  # a row it could not place
        return data, lines, key_lines, order, raw
    finally:  # the nested functions call each other: unlinked, they go now, not at a collection
        for function in (block, sequence, mapping, below, inline, flow_node, flow_sequence, flow_mapping):
            for cell in function.__closure__ or ():
                cell.cell_contents = None


def _rows(text: str) -> List[Tuple[int, int, str]]:
    """(line, indentation, content) of every line that is not blank or a comment."""
    if ("---" in text or "..." in text) and _MARKER.search(text) is not None:
        raise _Decline  # document markers (or a plain scalar PyYAML may read as one)
    lines = text.split("\n")
    # printable (str.isprintable: no tab, no control character, no line break, no BOM, no
    # non-breaking space, nothing unassigned): a subset of what YAML allows, the rest is PyYAML's
    if not all(map(str.isprintable, lines)):
        raise _Decline
    contents = [line.lstrip(" ") for line in lines]
    return [(number, len(line) - len(content), content.rstrip(" "))
            for number, line, content in zip(range(1, len(lines) + 1), lines, contents)
            if content and content[0] != "#"]


def compose(text: str, keep: Optional[Keep] = None) -> Optional[Composed]:
    """``text``'s data and positions (those ``keep`` asks for, else all) when it is a block
    mapping in the subset, else ``None``."""
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    try:
        rows = _rows(text)
        if not rows:
            return None
        composed = _compose_rows(rows, keep)
    except (_Decline, RecursionError):
        return None
    return composed if isinstance(composed[0], dict) else None
