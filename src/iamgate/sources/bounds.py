"""Bounds on what an input may make iamgate build: nesting depth and YAML alias expansion.

Inputs come from pull requests, so a file may be hostile. Two shapes would otherwise cost
unbounded time or crash with a ``RecursionError`` deep inside a reader:

- nesting: ``[[[[…]]]]`` 100,000 deep in JSON, YAML or HCL. Every parser here either fails on it
  or returns data that the recursive code after it cannot walk. ``MAX_DEPTH`` levels of lists
  and mappings are more than any real template, policy or plan holds (IAM allows far fewer);
  deeper data is refused where it is parsed, as a parse error naming the file.
- YAML aliases ("billion laughs"): ``&a [x, x]``, ``&b [*a, *a]`` … composes to a small graph
  whose expansion is exponential. ``check_yaml_node`` measures the expanded size of the composed
  node graph (each node once, memoised, without recursion) before anything is constructed, and
  refuses a document whose aliases expand it to more than ``MAX_ALIAS_EXPANSION`` nodes and more
  than ``ALIAS_RATIO`` times its written size (a document without aliases never trips it: the size
  limit on files bounds it). A recursive alias (a node that contains itself) is refused too.

Native HCL is measured before python-hcl2 parses it (``check_hcl_text``): its parser is slow
and recursive on deep nesting.

Everything here is iterative: it must not itself be the recursion it guards against.
"""
from __future__ import annotations

import re
from itertools import accumulate
from typing import Any, Dict, List, Tuple

MAX_DEPTH = 64
MAX_ALIAS_EXPANSION = 100_000
ALIAS_RATIO = 10


class TooDeep(ValueError):
    """Data nested deeper than ``MAX_DEPTH`` or aliases that expand too far; the message says which."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def nested_too_deeply(limit: int = MAX_DEPTH) -> str:
    return f"nested too deeply (more than {limit} levels of lists and mappings)"


def check_depth(data: Any, limit: int = MAX_DEPTH) -> None:
    """Raise ``TooDeep`` when lists, tuples and mappings in ``data`` nest deeper than ``limit``."""
    stack: List[Tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        if depth >= limit:
            raise TooDeep(nested_too_deeply(limit))
        stack.extend((c, depth + 1) for c in children)


def _children(node: Any) -> List[Any]:
    value = getattr(node, "value", None)
    if not isinstance(value, list):  # a scalar node
        return []
    out: List[Any] = []
    for item in value:
        if isinstance(item, tuple):  # a mapping's (key, value) pair
            out.extend(item)
        else:
            out.append(item)
    return out


def check_yaml_node(node: Any, limit: int = MAX_DEPTH, expansion: int = MAX_ALIAS_EXPANSION,
                    ratio: int = ALIAS_RATIO) -> None:
    """Raise ``TooDeep`` for a composed YAML node graph that nests deeper than ``limit``, contains
    itself through an alias, or expands (aliases followed) to more than ``expansion`` nodes and
    ``ratio`` times the nodes written."""
    if node is None:
        return
    size: Dict[int, int] = {}
    depth: Dict[int, int] = {}
    on_path: Dict[int, bool] = {}
    written = 0
    stack: List[Tuple[Any, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            kids = _children(current)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0) if kids else 0
            on_path[key] = False
            if depth[key] > limit:
                mark = current.start_mark
                raise TooDeep(nested_too_deeply(limit), mark.line + 1, mark.column + 1)
            if size[key] > expansion and size[key] > ratio * max(written, 1):
                mark = current.start_mark
                raise TooDeep(f"aliases expand to more than {expansion:,} nodes (a YAML alias bomb?)",
                              mark.line + 1, mark.column + 1)
            continue
        if key in size:
            continue
        if on_path.get(key):
            mark = current.start_mark
            raise TooDeep("a recursive alias (a node that contains itself)", mark.line + 1, mark.column + 1)
        on_path[key] = True
        written += 1
        stack.append((current, True))
        stack.extend((k, False) for k in _children(current) if id(k) not in size)


def loads(text: str, **kwargs: Any) -> Any:
    """``json.loads`` for text from an input (a policy as a string, an embedded event): data
    nested deeper than ``MAX_DEPTH`` raises ``TooDeep`` (a ``ValueError``, as a syntax error does)."""
    import json
    try:
        data = json.loads(text, **kwargs)
    except RecursionError:
        raise TooDeep(nested_too_deeply()) from None
    check_depth(data)
    return data


# HCL: python-hcl2's parse of deep nesting is recursive and slow (500,000 brackets: 30 s and
# 600 MiB before its RecursionError), so native HCL is measured before it is parsed. The count is
# approximate — simple string literals and comments are left out, brackets inside heredocs and
# interpolations are counted — hence the generous bound: real configurations stay below 20.
MAX_HCL_BRACKETS = 2 * MAX_DEPTH
_HCL_SKIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|//[^\n]*|/\*.*?\*/', re.S)
_NOT_BRACKETS = re.compile(r"[^\[\](){}]+")
_STEP = {"[": 1, "(": 1, "{": 1, "]": -1, ")": -1, "}": -1}


def bracket_depth(text: str) -> int:
    """The deepest nesting of brackets in HCL text (approximately: see ``MAX_HCL_BRACKETS``), in
    linear time without recursion."""
    only = _NOT_BRACKETS.sub("", _HCL_SKIP.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, only)), default=0)


def check_hcl_text(text: str, limit: int = MAX_HCL_BRACKETS) -> None:
    """Raise ``TooDeep`` for HCL text whose brackets nest deeper than ``limit``."""
    if bracket_depth(text) > limit:
        raise TooDeep(f"nested too deeply (more than {limit} levels of brackets)")


def value_problem(e: ValueError) -> str:
    """Words for a ValueError a YAML or JSON constructor raised (an integer longer than Python
    converts: ``sys.get_int_max_str_digits()``, 4,300 digits by default)."""
    text = str(e)
    if "Exceeds the limit" in text:
        return "a number with too many digits"
    return text.split("\n")[0]
