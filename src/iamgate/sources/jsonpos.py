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

``LineIndex`` is the line index behind the positions (offset -> line), for any code that needs
one over a text it parses itself (the fix writers' spans).
"""
from __future__ import annotations

import re
from bisect import bisect_right
from json import JSONDecodeError
from json.decoder import scanstring
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from .bounds import TooDeep, check_depth, nested_too_deeply

__all__ = ["JsonError", "LineIndex", "Path", "Positions", "load"]

PathKey = Union[str, int]
Path = Tuple[PathKey, ...]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?")
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


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
    """Path of a value -> ``(line, column)`` of its first character, both 1-based."""

    def __init__(self, text: str, offsets: Dict[Path, int]) -> None:
        self._text = text
        self._offsets = offsets
        self._lines: Optional[LineIndex] = None

    def __getitem__(self, path: Path) -> Tuple[int, int]:
        return self.linecol(self._offsets[path])

    def __iter__(self) -> Iterator[Path]:
        return iter(self._offsets)

    def __len__(self) -> int:
        return len(self._offsets)

    def __contains__(self, path: object) -> bool:
        return path in self._offsets

    def linecol(self, offset: int) -> Tuple[int, int]:
        """The ``(line, column)`` of a character offset into the parsed text."""
        if self._lines is None:
            self._lines = LineIndex(self._text)
        line = self._lines.line_of(offset)
        return line, offset - self._lines.start(line) + 1

    def offset(self, path: Path) -> int:
        return self._offsets[path]

    def line(self, path: Path) -> Optional[int]:
        """The line of ``path``, or ``None`` when nothing was recorded there."""
        offset = self._offsets.get(path)
        return None if offset is None else self.linecol(offset)[0]

    def nearest(self, path: Path) -> Tuple[int, int]:
        """The position of ``path``, or of its closest recorded ancestor (``(1, 1)`` at worst)."""
        for end in range(len(path), -1, -1):
            offset = self._offsets.get(path[:end])
            if offset is not None:
                return self.linecol(offset)
        return 1, 1


def _error(message: str, text: str, pos: int) -> JSONDecodeError:
    return JSONDecodeError(message, text, pos)


def _parser(s: str, offsets: Dict[Path, int]) -> Callable[[int, Path], Tuple[Any, int]]:
    """A recursive-descent parser over ``s`` that records each value's offset in ``offsets``."""
    ws = _WS.match
    number = _NUMBER.match
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
        if ch == "n" and s.startswith("null", idx):
            return None, idx + 4
        if ch == "t" and s.startswith("true", idx):
            return True, idx + 4
        if ch == "f" and s.startswith("false", idx):
            return False, idx + 5
        m = number(s, idx)
        if m is not None:
            integer, frac, exp = m.groups()
            if frac or exp:
                return float(integer + (frac or "") + (exp or "")), m.end()
            return int(integer), m.end()
        for word, constant in _CONSTANTS.items():
            if s.startswith(word, idx):
                return constant, idx + len(word)
        raise _error("Expecting value", s, idx)

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


def load(text: str) -> Tuple[Any, Positions]:
    """Parse ``text`` as ``json.loads`` would; also return where each value was written."""
    if text.startswith("\ufeff"):
        text = text[1:]
    offsets: Dict[Path, int] = {}
    positions = Positions(text, offsets)
    try:
        data, end = _parser(text, offsets)(_WS.match(text, 0).end(), ())
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
