"""JSON parsing that remembers where every value was written.

``load(text)`` returns what ``json.loads(text)`` returns, together with a ``Positions`` map from
the path of each value — a tuple of object keys and array indexes, ``()`` for the document
itself, e.g. ``("Statement", 0)`` — to the 1-based ``(line, column)`` of the value's first
character (the ``{`` of an object, the ``"`` of a string).

The grammar is Python's ``json`` module's (``NaN``/``Infinity`` accepted, the last of duplicate
keys wins, control characters rejected inside strings); strings are decoded by the same C
routine ``json`` uses, so escapes and non-BMP characters come out identical. A leading UTF-8
byte order mark is skipped (columns on line 1 are counted after it). Invalid input raises
``JsonError`` with the line and column of the problem; so does a document nested deeper than
``bounds.MAX_DEPTH`` (what is read after it walks the data recursively).

Speed: recording every value from Python costs ten times ``json.loads`` on a large account
export. So a container that is small and shallow (a statement with its condition: a mapping at
most four levels deep whose lists hold no containers; a list of scalars) is decoded by
``json``'s own C scanner, and only its own position is recorded; the positions inside it are
recorded the first time a query asks for one (``Positions`` re-parses just that container then).
A list of such containers under a key whose previous list was one too (the statements of each
policy of an account export, after the first) is decoded in one call, and where its items begin is
also found on demand: a reader that asks for a statement's position only when it reports on it
(``model.Deferred``) has most of them never recorded.
Anything unusual — invalid text, nesting near ``bounds.MAX_DEPTH``, a duplicate key outside such
a container — is parsed again by the plain recording parser (``_load_eager``), so errors, data
and positions are exactly its.

``LineIndex`` is the line index behind the positions (offset -> line), for any code that needs
one over a text it parses itself (the fix writers' spans).
"""
from __future__ import annotations

import re
from bisect import bisect_right
from json import JSONDecodeError
from json.decoder import JSONDecoder, scanstring
from json.scanner import make_scanner
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from .bounds import MAX_DEPTH, TooDeep, check_depth, nested_too_deeply

__all__ = ["JsonError", "LineIndex", "Path", "Positions", "load"]

PathKey = Union[str, int]
Path = Tuple[PathKey, ...]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?")
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _shallow_container(levels: int) -> "re.Pattern[str]":
    """A mapping ``levels`` deep at most whose lists hold no lists or mappings (a statement with
    its ``Condition``: up to four levels with the condition's list of values), or such a list.

    A list holding containers is never matched: the positions of its items are what callers ask
    for (the statements of a policy, the roles of an export), so they are recorded as read.
    Where it matches, the C scanner decodes the container, and must end where the match ends
    (in valid text it does: both skip strings the same way). That is what bounds the depth of
    what the scanner decoded without a walk over it. Every quantifier is possessive and every
    token is decided by its first character (a string is the only place brackets may hide), so
    a match or a failure costs one pass over the characters it looks at, never backtracking.
    """
    flat = r'[^{}\[\]"]*+(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"[^{}\[\]"]*+)*+'
    flat_list = rf"\[{flat}\]"
    mapping = rf"\{{{flat}(?:{flat_list}{flat})*+\}}"  # 2 levels: its lists are flat
    for _ in range(levels - 2):
        mapping = rf"\{{{flat}(?:(?:{flat_list}|{mapping}){flat})*+\}}"
    return re.compile(rf"{mapping}|{flat_list}")


_SHALLOW_DEPTH = 4  # levels of containers a _SHALLOW match may hold, itself included
_SHALLOW = _shallow_container(_SHALLOW_DEPTH)
_SHALLOW_ITEM = re.compile(rf"({_SHALLOW.pattern})(?:[ \t\n\r]*,[ \t\n\r]*)?")  # and the comma after it


class JsonError(ValueError):
    """Text that is not JSON: ``message`` says why, ``line``/``column`` (1-based) say where."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.line = line
        self.column = column


class LineIndex:
    """Where each line of a text begins: 1-based lines, 0-based character offsets."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset)

    def start(self, line: int) -> int:
        return self.starts[line - 1]


class Positions(Mapping[Path, Tuple[int, int]]):
    """Path of a value -> ``(line, column)`` of its first character, both 1-based.

    ``lazy`` maps the path of each container whose insides were not recorded yet to its offset;
    a query that reaches inside one records them first (``_reach``). No path written outside
    such a container can also be inside one (``load`` falls back to ``_load_eager`` on a
    duplicate key that could make it so), so a recorded path is already final.
    """

    def __init__(self, text: str, offsets: Dict[Path, int], lazy: Optional[Dict[Path, int]] = None,
                 lazy_lists: Optional[Dict[Path, int]] = None) -> None:
        self._text = text
        self._offsets = offsets
        self._lazy: Dict[Path, int] = lazy or {}
        # lists of shallow containers decoded whole (the statements of a policy): reaching into one
        # records the offset of each item, and each item as a container in ``_lazy``
        self._lazy_lists: Dict[Path, int] = lazy_lists or {}
        self._complete = not self._lazy and not self._lazy_lists  # every position recorded, in document order
        self._lines: Optional[LineIndex] = None

    def _get(self, path: Path) -> Optional[int]:
        offset = self._offsets.get(path)
        while offset is None and (self._lazy or self._lazy_lists) and isinstance(path, tuple) and self._reach(path):
            offset = self._offsets.get(path)
        return offset

    def _reach(self, path: Path) -> bool:
        """Record the insides of the unrecorded container ``path`` is in, the innermost first (a
        list decoded whole: only its items); False if there is none."""
        for end in range(len(path) - 1, -1, -1):
            start = self._lazy.pop(path[:end], None)
            if start is not None:
                _once(_parser(self._text, self._offsets), start, path[:end])
                return True
            start = self._lazy_lists.pop(path[:end], None) if self._lazy_lists else None
            if start is not None:
                _record_items(self._text, start, path[:end], self._offsets, self._lazy)
                return True
        return False

    def _all(self) -> Dict[Path, int]:
        """Every position, in the order the plain parser records them (document order)."""
        if not self._complete:  # insides recorded on demand come after everything else: start over
            offsets: Dict[Path, int] = {}
            _once(_parser(self._text, offsets), _WS.match(self._text, 0).end(), ())
            self._offsets, self._lazy, self._lazy_lists, self._complete = offsets, {}, {}, True
        return self._offsets

    def __getitem__(self, path: Path) -> Tuple[int, int]:
        offset = self._get(path)
        if offset is None:
            raise KeyError(path)
        return self.linecol(offset)

    def __iter__(self) -> Iterator[Path]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __contains__(self, path: object) -> bool:
        return self._get(path) is not None  # type: ignore[arg-type]

    def linecol(self, offset: int) -> Tuple[int, int]:
        """The ``(line, column)`` of a character offset into the parsed text."""
        if self._lines is None:
            self._lines = LineIndex(self._text)
        starts = self._lines.starts  # LineIndex.line_of and .start, without two calls per position
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def offset(self, path: Path) -> int:
        offset = self._get(path)
        if offset is None:
            raise KeyError(path)
        return offset

    def line(self, path: Path) -> Optional[int]:
        """The line of ``path``, or ``None`` when nothing was recorded there."""
        offset = self._get(path)
        return None if offset is None else self.linecol(offset)[0]

    def nearest(self, path: Path) -> Tuple[int, int]:
        """The position of ``path``, or of its closest recorded ancestor (``(1, 1)`` at worst)."""
        offset = self._get(path)  # recorded (final: see the class's docstring), or reached into
        if offset is not None:
            return self.linecol(offset)
        for end in range(len(path) - 1, -1, -1):
            offset = self._offsets.get(path[:end])
            if offset is not None:
                return self.linecol(offset)
        return 1, 1


def _literal(s: str, idx: int, ch: str) -> Optional[Tuple[Any, int]]:
    """``null``, ``true``, ``false``, a number or ``NaN``/``Infinity`` at ``idx`` (``ch`` its first
    character) and where it ends; None when none starts there."""
    if ch == "n" and s.startswith("null", idx):
        return None, idx + 4
    if ch == "t" and s.startswith("true", idx):
        return True, idx + 4
    if ch == "f" and s.startswith("false", idx):
        return False, idx + 5
    m = _NUMBER.match(s, idx)
    if m is not None:
        integer, frac, exp = m.groups()
        if frac or exp:
            return float(integer + (frac or "") + (exp or "")), m.end()
        return int(integer), m.end()
    for word, constant in _CONSTANTS.items():
        if s.startswith(word, idx):
            return constant, idx + len(word)
    return None


def _once(parse: Callable[[int, Path], Tuple[Any, int]], idx: int, path: Path) -> Tuple[Any, int]:
    """``parse(idx, path)``, then the parser's closures unlinked: its functions call each other, a
    cycle that would keep the text and every offset alive until a garbage collection, which a run
    of iamgate does not make (``cli.main`` pauses the collector)."""
    try:
        return parse(idx, path)
    finally:
        for cell in parse.__closure__ or ():
            cell.cell_contents = None


def _error(message: str, text: str, pos: int) -> JSONDecodeError:
    return JSONDecodeError(message, text, pos)


class _Unusual(Exception):
    """Input the fast parse leaves to the plain one (``_load_eager``), whose answer is the reference."""


_DECODE = make_scanner(JSONDecoder())  # json.loads's own C scanner: (value, end) from an offset


def _parser(s: str, offsets: Dict[Path, int]) -> Callable[[int, Path], Tuple[Any, int]]:
    """A recursive-descent parser over ``s`` that records each value's offset in ``offsets``."""
    ws = _WS.match
    scan = scanstring

    def value(idx: int, path: Path) -> Tuple[Any, int]:
        offsets[path] = idx
        try:
            ch = s[idx]
        except IndexError:
            raise _error("Expecting value", s, idx) from None
        if ch == '"':
            return scan(s, idx + 1, True)
        if ch == "{":
            return obj(idx + 1, path)
        if ch == "[":
            return arr(idx + 1, path)
        found = _literal(s, idx, ch)
        if found is None:
            raise _error("Expecting value", s, idx)
        return found

    def obj(idx: int, path: Path) -> Tuple[Dict[str, Any], int]:
        result: Dict[str, Any] = {}
        idx = ws(s, idx).end()
        if s[idx:idx + 1] == "}":
            return result, idx + 1
        while True:
            if s[idx:idx + 1] != '"':
                raise _error("Expecting property name enclosed in double quotes", s, idx)
            key, idx = scan(s, idx + 1, True)
            idx = ws(s, idx).end()
            if s[idx:idx + 1] != ":":
                raise _error("Expecting ':' delimiter", s, idx)
            idx = ws(s, idx + 1).end()
            result[key], idx = value(idx, path + (key,))
            idx = ws(s, idx).end()
            ch = s[idx:idx + 1]
            if ch == "}":
                return result, idx + 1
            if ch != ",":
                raise _error("Expecting ',' delimiter", s, idx)
            idx = ws(s, idx + 1).end()

    def arr(idx: int, path: Path) -> Tuple[List[Any], int]:
        result: List[Any] = []
        idx = ws(s, idx).end()
        if s[idx:idx + 1] == "]":
            return result, idx + 1
        append = result.append
        i = 0
        while True:
            item, idx = value(idx, path + (i,))
            append(item)
            i += 1
            idx = ws(s, idx).end()
            ch = s[idx:idx + 1]
            if ch == "]":
                return result, idx + 1
            if ch != ",":
                raise _error("Expecting ',' delimiter", s, idx)
            idx = ws(s, idx + 1).end()

    return value


_KEY = re.compile(r'"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')  # a key without escapes, and its colon
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")


def _record_items(s: str, idx: int, path: Path, offsets: Dict[Path, int], lazy: Dict[Path, int]) -> None:
    """Record where each item of the list at ``idx`` (decoded whole before: valid text, shallow
    items) begins, and each container item as one whose insides are recorded on demand."""
    ws = _WS.match
    idx = ws(s, idx + 1).end()
    i = 0
    while s[idx] != "]":
        here = path + (i,)
        offsets[here] = idx
        if s[idx] == "{" or s[idx] == "[":
            lazy[here] = idx
        _, idx = _DECODE(s, idx)
        idx = ws(s, idx).end()
        if s[idx] == ",":
            idx = ws(s, idx + 1).end()
        i += 1


def _decoded_shallow(value: Any, levels: int) -> bool:
    """Whether ``value``, decoded from a list or mapping, is one ``_SHALLOW`` matches: a list whose
    items are no containers, or a mapping at most ``levels`` deep (itself included) whose lists are
    such lists. (Under a repeated key the text may have held more than the decoded value shows:
    ``Positions`` re-parses the container's text for its insides, as the plain parser would.)"""
    if type(value) is list:
        for x in value:
            if type(x) is list or type(x) is dict:
                return False
        return True
    for x in value.values():
        t = type(x)
        if t is list:
            if levels < 2:
                return False
            for y in x:
                if type(y) is list or type(y) is dict:
                    return False
        elif t is dict and (levels < 2 or not _decoded_shallow(x, levels - 1)):
            return False
    return True


def _fast_parser(s: str, offsets: Dict[Path, int], lazy: Dict[Path, int],
                 lazy_lists: Dict[Path, int]) -> Callable[[int, Path], Tuple[Any, int]]:
    """``_parser``, but a shallow container (``_SHALLOW``) is decoded by the C scanner instead:
    only its own offset is recorded, in ``offsets`` and in ``lazy``. A list of such containers
    under a key whose last list was one (the statements of each policy of an export) is decoded
    whole, and recorded in ``lazy_lists``: where its items begin is looked for on demand too.

    It raises ``_Unusual`` where ``_parser`` would raise an error and wherever its answer could
    differ from ``_parser``'s: on a duplicate key (a later value of a key could then have been
    recorded before the insides of an earlier one) and on a container ``MAX_DEPTH`` deep (so the
    depth bound needs no second walk over the data; a shallow container is decoded only where
    what it holds stays within the bound). Keys without escapes are read by one regex.
    """
    ws = _WS.match
    scan = scanstring
    shallow = _SHALLOW.match
    shallow_item = _SHALLOW_ITEM.match
    decode = _DECODE
    key_colon = _KEY.match
    colon = _COLON.match
    comma = _COMMA.match
    deepest = MAX_DEPTH - _SHALLOW_DEPTH  # the deepest path a shallow container may be decoded at
    decoded_first: Dict[Optional[str], None] = {}  # the keys whose lists' last item was shallow
    whole: Dict[Optional[str], None] = {}  # the keys whose last list held only shallow containers

    def value(idx: int, path: Path) -> Tuple[Any, int]:
        offsets[path] = idx
        ch = s[idx:idx + 1]
        if ch == '"':
            return scan(s, idx + 1, True)
        if ch == "{" or ch == "[":
            depth = len(path)
            if depth <= deepest:
                m = shallow(s, idx)
                if m is not None:
                    data, end = decode(s, idx)
                    if end != m.end():  # cannot be, for valid text: the hint skips strings as json does
                        raise _Unusual
                    lazy[path] = idx
                    return data, end
            elif depth >= MAX_DEPTH:
                raise _Unusual
            return obj(idx + 1, path) if ch == "{" else arr(idx + 1, path)
        found = _literal(s, idx, ch)
        if found is None:
            raise _Unusual
        return found

    def obj(idx: int, path: Path) -> Tuple[Dict[str, Any], int]:
        result: Dict[str, Any] = {}
        idx = ws(s, idx).end()
        if s[idx:idx + 1] == "}":
            return result, idx + 1
        while True:
            m = key_colon(s, idx)
            if m is not None:
                key = m.group(1)
            elif s[idx:idx + 1] == '"':
                key, idx = scan(s, idx + 1, True)
                m = colon(s, idx)
                if m is None:
                    raise _Unusual
            else:
                raise _Unusual
            if key in result:
                raise _Unusual
            idx = m.end()
            if s[idx:idx + 1] == '"':
                offsets[path + (key,)] = idx
                result[key], idx = scan(s, idx + 1, True)
            else:
                result[key], idx = value(idx, path + (key,))
            m = comma(s, idx)
            if m is not None:
                idx = m.end()
                continue
            idx = ws(s, idx).end()
            if s[idx:idx + 1] == "}":
                return result, idx + 1
            raise _Unusual

    def arr(idx: int, path: Path) -> Tuple[List[Any], int]:
        result: List[Any] = []
        idx = ws(s, idx).end()
        if s[idx:idx + 1] == "]":
            return result, idx + 1
        append = result.append
        i = 0
        items_shallow = len(path) < deepest
        # the lists under one key hold one kind of item (statements, roles): when the last such item
        # was shallow, the next one is decoded first and what came out looked at (quicker than
        # matching its text, but a waste on a role, which is parsed again)
        kind = path[-1] if path and type(path[-1]) is str else None
        if items_shallow and kind in whole:  # decoded whole, if what it holds is shallow enough
            start = offsets[path]
            items, end = decode(s, start)
            # no deeper than the brackets it holds, strings' included: when they are few, no walk
            if s.count("{", start, end) + s.count("[", start, end) <= deepest - len(path):
                lazy_lists[path] = start
                return items, end
            for item in items:
                if (type(item) is not dict and type(item) is not list) or not _decoded_shallow(item, _SHALLOW_DEPTH):
                    del whole[kind]  # parsed again, item by item
                    break
            else:
                lazy_lists[path] = start
                return items, end
        every = items_shallow  # every item so far a shallow container
        while True:
            ch = s[idx:idx + 1]
            m = shallow_item(s, idx) if items_shallow and kind not in decoded_first else None
            if items_shallow and kind in decoded_first and (ch == "{" or ch == "["):
                item, end = decode(s, idx)
                if _decoded_shallow(item, _SHALLOW_DEPTH):
                    here = path + (i,)
                    offsets[here] = lazy[here] = idx
                    idx = end
                else:  # recorded as it is parsed again
                    del decoded_first[kind]
                    every = False
                    item, idx = value(idx, path + (i,))
            elif m is not None:  # value()'s shallow case inline, and the comma after the item
                decoded_first[kind] = None
                item, end = decode(s, idx)
                if end != m.end(1):
                    raise _Unusual
                here = path + (i,)
                offsets[here] = lazy[here] = idx
                idx = m.end()
            else:
                every = False
                item, idx = value(idx, path + (i,))
            append(item)
            i += 1
            if m is not None and idx != end:  # the match read the comma
                continue
            if m is None:
                m = comma(s, idx)
                if m is not None:
                    idx = m.end()
                    continue
            idx = ws(s, idx).end()
            if s[idx:idx + 1] == "]":
                if every:
                    whole[kind] = None
                return result, idx + 1
            raise _Unusual

    return value


def load(text: str) -> Tuple[Any, Positions]:
    """Parse ``text`` as ``json.loads`` would; also return where each value was written."""
    body = text[1:] if text.startswith("\ufeff") else text
    offsets: Dict[Path, int] = {}
    lazy: Dict[Path, int] = {}
    lazy_lists: Dict[Path, int] = {}
    try:
        data, end = _once(_fast_parser(body, offsets, lazy, lazy_lists), _WS.match(body, 0).end(), ())
        if _WS.match(body, end).end() != len(body):
            raise _Unusual
    except (ValueError, StopIteration, RecursionError, _Unusual):  # StopIteration: the scanner's "no value here"
        return _load_eager(text)
    return data, Positions(body, offsets, lazy, lazy_lists)


def _load_eager(text: str) -> Tuple[Any, Positions]:
    """``load`` recording every position as it parses: the reference for its data, positions and errors."""
    if text.startswith("\ufeff"):
        text = text[1:]
    offsets: Dict[Path, int] = {}
    positions = Positions(text, offsets)
    try:
        data, end = _once(_parser(text, offsets), _WS.match(text, 0).end(), ())
        end = _WS.match(text, end).end()
        if end != len(text):
            raise _error("Extra data", text, end)
        check_depth(data)
    except JSONDecodeError as e:
        raise JsonError(e.msg, e.lineno, e.colno) from None
    except RecursionError:
        raise JsonError("JSON " + nested_too_deeply(), 1, 1) from None
    except TooDeep as e:
        raise JsonError("JSON " + e.message, 1, 1) from None
    except ValueError as e:  # e.g. an integer longer than Python's digit limit
        line, column = positions.linecol(max(offsets.values(), default=0))
        raise JsonError(str(e), line, column) from None
    return data, positions
